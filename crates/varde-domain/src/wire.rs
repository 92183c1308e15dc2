//! Reading values from JSON bodies as the JSON Schema in the API document describes them.
//!
//! Times are RFC 3339 date-times (`2026-11-20T14:05:00+01:00`); one that does not parse, or lies outside what a
//! timestamp can hold (year 9999 at a negative offset), is refused with one message saying what is expected instead
//! of the parser's wording. Counts and ids are JSON Schema integers, which include `3.0` (a number with no
//! fractional part), as some clients write them; `3.5` and negative counts are refused.

use jiff::Timestamp;
use serde::{Deserialize, Deserializer};

const EXPECTED: &str = "a date and time in RFC 3339 form, such as 2026-11-20T14:05:00+01:00";

/// For `#[serde(default, deserialize_with = "crate::wire::optional_time")]` on an `Option<Timestamp>`.
pub fn optional_time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
    match Option::<String>::deserialize(d)? {
        None => Ok(None),
        Some(s) => s.trim().parse::<Timestamp>().map(Some).map_err(|_| serde::de::Error::custom(EXPECTED)),
    }
}

/// A JSON integer, or a number with no fractional part, within `min..=max`: exact for integers, for floats as far
/// as f64 holds them.
struct Whole {
    min: i64,
    max: i64,
}

impl serde::de::Visitor<'_> for Whole {
    type Value = i64;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "a whole number from {} to {}", self.min, self.max)
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<i64, E> {
        if (self.min..=self.max).contains(&v) {
            Ok(v)
        } else {
            Err(E::invalid_value(serde::de::Unexpected::Signed(v), &self))
        }
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<i64, E> {
        match i64::try_from(v) {
            Ok(v) => self.visit_i64(v),
            Err(_) => Err(E::invalid_value(serde::de::Unexpected::Unsigned(v), &self)),
        }
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<i64, E> {
        // i64::MAX as f64 rounds up to 2^63, which is out of range: compare below it.
        if v.fract() == 0.0 && v >= self.min as f64 && v < self.max as f64 + 1.0 && v.abs() < 9.223_372_036_854_775e18 {
            Ok(v as i64)
        } else {
            Err(E::invalid_value(serde::de::Unexpected::Float(v), &self))
        }
    }
}

/// For counts: `#[serde(deserialize_with = "crate::wire::count")]` on a `u32`.
pub fn count<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    d.deserialize_any(Whole { min: 0, max: i64::from(u32::MAX) }).map(|n| n as u32)
}

/// For ids: `#[serde(deserialize_with = "varde_domain::wire::id")]` on an `i64`.
pub fn id<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    d.deserialize_any(Whole { min: i64::MIN, max: i64::MAX })
}

/// For ids: `#[serde(default, deserialize_with = "crate::wire::optional_id")]` on an `Option<i64>`.
pub fn optional_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    struct MaybeId;
    impl<'de> serde::de::Visitor<'de> for MaybeId {
        type Value = Option<i64>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a whole number or null")
        }
        fn visit_none<E>(self) -> Result<Option<i64>, E> {
            Ok(None)
        }
        fn visit_unit<E>(self) -> Result<Option<i64>, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Option<i64>, D::Error> {
            d.deserialize_any(Whole { min: i64::MIN, max: i64::MAX }).map(Some)
        }
    }
    d.deserialize_option(MaybeId)
}

#[cfg(test)]
mod tests {
    #[derive(serde::Deserialize)]
    struct T {
        #[serde(default, deserialize_with = "super::optional_time")]
        at: Option<jiff::Timestamp>,
    }

    #[derive(serde::Deserialize)]
    struct N {
        #[serde(deserialize_with = "super::count")]
        n: u32,
        #[serde(default, deserialize_with = "super::optional_id")]
        id: Option<i64>,
    }

    #[test]
    fn whole_numbers_may_be_written_as_floats_but_fractions_and_negatives_are_refused() {
        let ok: N = serde_json::from_str(r#"{"n": 3.0, "id": 12}"#).unwrap();
        assert_eq!((ok.n, ok.id), (3, Some(12)));
        let ok: N = serde_json::from_str(r#"{"n": 0, "id": null}"#).unwrap();
        assert_eq!((ok.n, ok.id), (0, None));
        assert_eq!(serde_json::from_str::<N>(r#"{"n": 1}"#).unwrap().id, None);
        let big: N = serde_json::from_str(r#"{"n": 4294967295, "id": -9223372036854775808}"#).unwrap();
        assert_eq!((big.n, big.id), (u32::MAX, Some(i64::MIN)));
        for bad in [
            r#"{"n": 3.5}"#,
            r#"{"n": -1}"#,
            r#"{"n": 5e10}"#,
            r#"{"n": "3"}"#,
            r#"{"n": 1, "id": 0.5}"#,
            r#"{"n": 1, "id": 1e19}"#,
        ] {
            assert!(serde_json::from_str::<N>(bad).is_err(), "{bad}");
        }
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
