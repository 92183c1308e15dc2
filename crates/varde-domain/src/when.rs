//! Reading times people send: RFC 3339 date-times (`2026-11-20T14:05:00+01:00`). A value that does not parse, or lies
//! outside what a timestamp can hold (year 9999 at a negative offset), is refused with one message that says what
//! is expected, instead of the parser's internal wording.

use jiff::Timestamp;
use serde::{Deserialize, Deserializer};

const EXPECTED: &str = "a date and time in RFC 3339 form, such as 2026-11-20T14:05:00+01:00";

/// For `#[serde(default, deserialize_with = "crate::when::optional")]` on an `Option<Timestamp>`.
pub fn optional<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
    match Option::<String>::deserialize(d)? {
        None => Ok(None),
        Some(s) => s.trim().parse::<Timestamp>().map(Some).map_err(|_| serde::de::Error::custom(EXPECTED)),
    }
}

#[cfg(test)]
mod tests {
    #[derive(serde::Deserialize)]
    struct T {
        #[serde(default, deserialize_with = "super::optional")]
        at: Option<jiff::Timestamp>,
    }

    #[test]
    fn times_parse_or_say_what_is_expected() {
        let ok: T = serde_json::from_str(r#"{"at": "2026-11-20T14:05:00+01:00"}"#).unwrap();
        assert_eq!(ok.at.unwrap().to_string(), "2026-11-20T13:05:00Z");
        assert!(serde_json::from_str::<T>(r#"{}"#).unwrap().at.is_none());
        assert!(serde_json::from_str::<T>(r#"{"at": null}"#).unwrap().at.is_none());
        for bad in [r#""9999-12-31T23:59:59-23:00""#, r#""tomorrow""#] {
            let e = serde_json::from_str::<T>(&format!(r#"{{"at": {bad}}}"#)).err().unwrap().to_string();
            assert!(e.contains("RFC 3339") && !e.contains("overflow"), "{bad}: {e}");
        }
    }
}
