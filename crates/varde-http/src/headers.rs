//! The security headers every Varde page sends, through tower-http: no sniffing, no referrer (codes travel in
//! addresses), no framing, a window of its own, no powerful browser features. Each web crate adds its own
//! Content-Security-Policy (what its pages load) and what depends on the request.

use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use tower::ServiceBuilder;
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
///
/// The six headers are one layer: axum wraps every route once per `Router::layer`, and a request pays for each
/// wrapping (a feed served from cache at 30,000-40,000 requests a second measured slower with six of them; see
/// docs/benchmarks.md).
pub fn secured<S: Clone + Send + Sync + 'static>(
    router: Router<S>,
    content_security_policy: &'static str,
) -> Router<S> {
    let set = |name: HeaderName, value: &'static str| {
        SetResponseHeaderLayer::overriding(name, HeaderValue::from_static(value))
    };
    let [a, b, c, d, e] = BASELINE.map(|(name, value)| set(name, value));
    router.layer(
        ServiceBuilder::new()
            .layer(set(header::CONTENT_SECURITY_POLICY, content_security_policy))
            .layer(a)
            .layer(b)
            .layer(c)
            .layer(d)
            .layer(e),
    )
}
