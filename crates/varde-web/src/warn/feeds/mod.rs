//! Machine-readable channels built from domain data: Atom (RFC 4287) and CAP 1.2. Handlers only fetch and serve.

pub mod atom;
pub mod cap;

use crate::AppState;
use axum::routing::get;

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new().route("/alerts.atom", get(atom::handler))
}

/// Escapes text for XML element content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 cannot carry at all.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

/// RFC 3339 with a numeric offset in Norwegian time, e.g. 2026-11-20T14:05:00+01:00 (CAP forbids "Z").
pub fn datetime(t: jiff::Timestamp) -> String {
    let oslo = jiff::tz::TimeZone::get("Europe/Oslo").unwrap_or(jiff::tz::TimeZone::UTC);
    t.to_zoned(oslo).strftime("%Y-%m-%dT%H:%M:%S%:z").to_string()
}
