//! The module's texts in bokmål, nynorsk and English (`i18n.toml`), and the reader's language.

use axum::http::{HeaderMap, header};
use std::collections::HashMap;
use std::sync::OnceLock;

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

type Texts = HashMap<String, HashMap<String, String>>;

fn texts() -> &'static Texts {
    static TEXTS: OnceLock<Texts> = OnceLock::new();
    TEXTS.get_or_init(|| toml::from_str(include_str!("../i18n.toml")).expect("i18n.toml is valid (tested)"))
}

/// The text for `key` in `lang`; the key itself when missing (a test checks none is).
pub fn t(lang: Lang, key: &str) -> String {
    texts().get(key).and_then(|m| m.get(lang.code())).cloned().unwrap_or_else(|| key.to_owned())
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
        for (key, by_lang) in texts() {
            for lang in Lang::ALL {
                assert!(by_lang.get(lang.code()).is_some_and(|s| !s.is_empty()), "{key} lacks {}", lang.code());
            }
        }
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
            assert!(texts().contains_key(&format!("err_{}", e.code())), "{}", e.code());
        }
    }
}
