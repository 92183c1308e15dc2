//! Choosing the reader's language: `?lang=` first, then `Accept-Language`, then bokmål.

use axum::http::HeaderMap;
use varde_domain::Lang;

pub fn negotiate(query: Option<&str>, headers: &HeaderMap) -> Lang {
    if let Some(lang) = query.and_then(Lang::parse) {
        return lang;
    }
    let Some(accept) = headers.get(axum::http::header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()) else {
        return Lang::Nb;
    };
    let mut best: Option<(f32, Lang)> = None;
    for part in accept.split(',') {
        let mut pieces = part.trim().split(';');
        let tag = pieces.next().unwrap_or("").trim();
        let q = pieces.find_map(|p| p.trim().strip_prefix("q=")).and_then(|q| q.parse::<f32>().ok()).unwrap_or(1.0);
        // Match the primary subtag too: "en-GB" is English, "nb-NO" bokmål, "no" bokmål.
        let lang = Lang::parse(tag).or_else(|| Lang::parse(tag.split('-').next().unwrap_or("")));
        if let Some(lang) = lang
            && best.is_none_or(|(bq, _)| q > bq)
        {
            best = Some((q, lang));
        }
    }
    best.map_or(Lang::Nb, |(_, l)| l)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn h(v: &str) -> HeaderMap {
        let mut m = HeaderMap::new();
        m.insert("accept-language", HeaderValue::from_str(v).unwrap());
        m
    }

    #[test]
    fn query_then_header_then_bokmal() {
        assert_eq!(negotiate(Some("nn"), &h("en")), Lang::Nn);
        assert_eq!(negotiate(None, &h("en-GB,en;q=0.9")), Lang::En);
        assert_eq!(negotiate(None, &h("de, nn;q=0.8, en;q=0.5")), Lang::Nn);
        assert_eq!(negotiate(None, &h("no")), Lang::Nb);
        assert_eq!(negotiate(None, &h("fr")), Lang::Nb);
        assert_eq!(negotiate(None, &HeaderMap::new()), Lang::Nb);
    }
}

/// A page's query when all it takes is the language (`?lang=nb|nn|en`).
#[derive(serde::Deserialize, Default)]
pub struct LangQuery {
    pub lang: Option<String>,
}
