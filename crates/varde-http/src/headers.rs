//! The security headers every Varde page sends, through tower-http: no sniffing, no referrer (codes travel in
//! addresses), no framing, a window of its own, no powerful browser features. Each web crate adds its own
//! Content-Security-Policy (what its pages load) and what depends on the request.

use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use tower_http::set_header::SetResponseHeaderLayer;

/// The headers, as sent.
pub const BASELINE: [(HeaderName, &str); 5] = [
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::REFERRER_POLICY, "no-referrer"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (HeaderName::from_static("cross-origin-opener-policy"), "same-origin"),
    (
        HeaderName::from_static("permissions-policy"),
        "camera=(), microphone=(), geolocation=(), payment=(), usb=(), browsing-topics=()",
    ),
];

/// `router` with [`BASELINE`] and `content_security_policy` on every response (replacing any a handler set).
pub fn secured<S: Clone + Send + Sync + 'static>(
    router: Router<S>,
    content_security_policy: &'static str,
) -> Router<S> {
    let router = router.layer(SetResponseHeaderLayer::overriding(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(content_security_policy),
    ));
    BASELINE.into_iter().fold(router, |router, (name, value)| {
        router.layer(SetResponseHeaderLayer::overriding(name, HeaderValue::from_static(value)))
    })
}
