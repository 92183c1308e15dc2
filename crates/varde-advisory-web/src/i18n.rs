//! The module's texts in bokmål, nynorsk and English (`i18n.toml`), and the reader's language.

use axum::http::{HeaderMap, header};
use std::sync::LazyLock;
use varde_http::i18n::Texts;

pub use varde_domain::lang::Lang;

/// `?lang=` first, then the browser's `Accept-Language`, then bokmål.
pub fn negotiate(query: Option<&str>, headers: &HeaderMap) -> Lang {
    let pick = |s: &str| Lang::parse(s.split(';').next().unwrap_or(""));
    query
        .and_then(pick)
        .or_else(|| {
            headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').find_map(|l| pick(l).or_else(|| pick(l.split('-').next().unwrap_or("")))))
        })
        .unwrap_or(Lang::Nb)
}

static TEXTS: LazyLock<Texts> = LazyLock::new(|| Texts::parse("i18n.toml", include_str!("../i18n.toml")));

/// The text for `key` in `lang`; the key itself when missing (a test checks none is).
pub fn t(lang: Lang, key: &str) -> String {
    TEXTS.find(lang.code(), key).map_or_else(|| key.to_owned(), str::to_owned)
}

/// The text with `{name}` placeholders filled.
pub fn fill(lang: Lang, key: &str, values: &[(&str, &str)]) -> String {
    values.iter().fold(t(lang, key), |text, (k, v)| text.replace(&format!("{{{k}}}"), v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_text_is_in_three_languages() {
        // Parsing checks every key has all three (varde_http::i18n::Texts::parse).
        assert!(TEXTS.keys().count() > 50);
    }

    #[test]
    fn every_error_code_has_its_text() {
        use varde_advisory::case::CaseError;
        use varde_advisory::fnr::FnrError;
        let errors = [
            CaseError::NoReference,
            CaseError::ReferenceTooLong,
            CaseError::NoConditions,
            CaseError::NoMeetings,
            CaseError::NoTests,
            CaseError::PeriodBackwards,
            CaseError::DecisionInFuture,
            CaseError::PeriodBeforeDecision,
            CaseError::Fnr(FnrError::Length),
            CaseError::Fnr(FnrError::Checksum),
            CaseError::Fnr(FnrError::Date),
            CaseError::BornInFuture,
            CaseError::BirthMismatch,
            CaseError::GuardianRequired,
            CaseError::NoName,
            CaseError::MeetingBeforeReferral,
            CaseError::ConsentRequired,
            CaseError::ConsentBeforeOffer,
            CaseError::NoSampleId,
            CaseError::NotACondition,
            CaseError::NoPlace,
        ];
        for e in errors {
            assert!(TEXTS.find("nn", &format!("err_{}", e.code())).is_some(), "{}", e.code());
        }
    }
}
