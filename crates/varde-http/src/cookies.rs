//! Cookies, read and written with the `cookie` crate: a session cookie is `HttpOnly` and `SameSite=Strict`, and
//! `Secure` whenever the site is served over https.

use axum::http::{HeaderMap, HeaderValue, header};
use cookie::{Cookie, SameSite};

/// The value of the cookie `name` in a request's `Cookie` headers, if any.
pub fn read(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

/// A `Set-Cookie` value for a cookie only the server reads: `HttpOnly`, `SameSite=Strict`, for `path`, kept
/// `max_age` seconds (0 removes it), and `Secure` when `secure`.
pub fn set(name: &str, value: &str, path: &str, max_age: i64, secure: bool) -> HeaderValue {
    build(name, value, path, max_age, secure, SameSite::Strict)
}

/// [`set`] with `SameSite=Lax`: for the one cookie that must come back on a top-level navigation from another site —
/// a sign-in's flow, sent when the identity provider redirects back. It holds no session.
pub fn set_lax(name: &str, value: &str, path: &str, max_age: i64, secure: bool) -> HeaderValue {
    build(name, value, path, max_age, secure, SameSite::Lax)
}

fn build(name: &str, value: &str, path: &str, max_age: i64, secure: bool, same_site: SameSite) -> HeaderValue {
    let cookie = Cookie::build((name, value))
        .path(path)
        .http_only(true)
        .same_site(same_site)
        .max_age(cookie::time::Duration::seconds(max_age))
        .secure(secure)
        .build();
    HeaderValue::from_str(&cookie.to_string()).expect("cookie names and values are visible ASCII")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cookie_is_found_among_others_and_in_any_cookie_header() {
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, HeaderValue::from_static("a=1; varde_session=abc"));
        h.append(header::COOKIE, HeaderValue::from_static("b=2"));
        assert_eq!(read(&h, "varde_session").as_deref(), Some("abc"));
        assert_eq!(read(&h, "b").as_deref(), Some("2"));
        assert_eq!(read(&h, "varde"), None, "a prefix of a name is not the name");
    }

    #[test]
    fn a_session_cookie_is_http_only_strict_and_secure_behind_https() {
        let set = set("s", "t0k", "/advisory", 3600, true);
        let set = set.to_str().unwrap();
        for part in ["s=t0k", "HttpOnly", "SameSite=Strict", "Path=/advisory", "Max-Age=3600", "Secure"] {
            assert!(set.contains(part), "{set} lacks {part}");
        }
        let plain = super::set("s", "", "/", 0, false);
        assert!(!plain.to_str().unwrap().contains("Secure"), "no Secure on plain http: browsers would drop it");
        assert!(plain.to_str().unwrap().contains("Max-Age=0"));
    }
}
