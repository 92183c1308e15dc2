//! The advisory unit's pages, under `/advisory`. Mounted only when the module is configured; its own users,
//! sessions (a cookie scoped to `/advisory`) and database. A request carrying drug-checking credentials (a bearer
//! token or the drug-checking session cookie) is answered 404 here, whatever it asks for: the two never meet.
//!
//! Every page works without JavaScript. Nothing here is a health record: meetings are recorded from a fixed list,
//! and a drug test has no field for a result.

pub mod i18n;
mod pages;
mod passkeys;
mod second_factor;
mod sign_in;

use axum::Router;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use varde_advisory_store::{AdvisoryStore, User};

/// The second step of the login (see `second_factor`).
const SECOND_FACTOR_PAGE: &str = "/advisory/login/second-factor";

/// The session cookie: only ever sent to `/advisory`.
pub const COOKIE: &str = "varde_advisory_session";
const LOGIN_COOKIE: &str = "varde_advisory_login";
const SESSION_HOURS: i64 = 8;
/// The drug-checking session cookie, refused here.
const DRUG_CHECKING_COOKIE: &str = "varde_session";

/// How the module runs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Cookies marked Secure (the public address is https).
    pub secure_cookies: bool,
    /// Days after the condition period and the final notice before a case is deleted.
    pub grace_days: i64,
    /// The data are the synthetic demo's (said on every page).
    pub demo: bool,
    /// Kommune names by number, for letters and notices.
    pub kommuner: std::collections::HashMap<String, String>,
    /// How the person reaches the unit (a telephone number, an address), printed on every letter.
    pub contact: String,
    /// The kommune's identity providers members may sign in through (`--advisory-oidc`); none by default.
    pub issuers: Arc<varde_http::oidc::Issuers>,
    /// Where the public reaches this server (no trailing slash), for the providers' redirect address.
    pub public_url: String,
}

#[derive(Clone)]
pub(crate) struct Unit {
    pub store: Arc<AdvisoryStore>,
    pub settings: Arc<Settings>,
    /// Passkeys for the site at the public address (unavailable at an IP address).
    pub passkeys: Arc<varde_http::passkeys::Passkeys>,
}

/// Failed logins: after [`FAILURES_PER_ACCOUNT`] for one account, or [`FAILURES_PER_ADDRESS`] from one client
/// address (an IPv6 client by its /64), within [`FAILURE_WINDOW`], further logins are refused for the rest of the
/// window, so that neither a password nor the list of names can be guessed. Counted in the module's database, so a
/// restart does not lift a lock.
pub(crate) const FAILURES_PER_ACCOUNT: usize = 10;
pub(crate) const FAILURES_PER_ADDRESS: usize = 30;
pub(crate) const FAILURE_WINDOW: std::time::Duration = std::time::Duration::from_secs(600);

/// One login try, as the failure limits count it: the account and the client's address, now and the window back.
/// The password step and the second factor's step count together.
pub(crate) struct Try {
    account: String,
    address: String,
    now: jiff::Timestamp,
    since: jiff::Timestamp,
}

impl Try {
    pub(crate) fn new(account: &str, peer: Option<std::net::IpAddr>) -> Try {
        let now = jiff::Timestamp::now();
        Try {
            account: account.to_owned(),
            address: peer.map_or_else(|| "unknown".to_owned(), varde_domain::client::key),
            now,
            since: now - jiff::SignedDuration::try_from(FAILURE_WINDOW).expect("ten minutes"),
        }
    }

    /// Whether the account or the address has used up its failures in the window.
    pub(crate) async fn locked(&self, unit: &Unit) -> Result<bool, varde_advisory_store::Error> {
        let (store, account, address, since) =
            (unit.store.clone(), self.account.clone(), self.address.clone(), self.since);
        tokio::task::spawn_blocking(move || {
            Ok(store.login_failures("account", &account, since)? >= FAILURES_PER_ACCOUNT
                || store.login_failures("address", &address, since)? >= FAILURES_PER_ADDRESS)
        })
        .await
        .expect("a store call does not panic")
    }

    /// Counts this try as failed, for the account and the address.
    pub(crate) async fn failed(&self, unit: &Unit) -> Result<(), varde_advisory_store::Error> {
        let (store, account, address, now, since) =
            (unit.store.clone(), self.account.clone(), self.address.clone(), self.now, self.since);
        tokio::task::spawn_blocking(move || {
            store.record_login_failure(&[("account", &account), ("address", &address)], now, since)
        })
        .await
        .expect("a store call does not panic")
    }
}

/// The client's address as the listener saw it (none in a setting without one, such as a unit test's router).
pub(crate) struct Peer(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        let peer = parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>();
        Ok(Peer(peer.map(|c| c.0.ip())))
    }
}

/// The module's routes, all under `/advisory`.
pub fn router(store: Arc<AdvisoryStore>, settings: Settings) -> Router {
    let passkeys = Arc::new(varde_http::passkeys::Passkeys::new(&settings.public_url));
    let unit = Unit { store, settings: Arc::new(settings), passkeys };
    let routes = pages::routes().merge(second_factor::routes()).merge(sign_in::routes()).merge(passkeys::routes());
    varde_http::headers::secured(routes, CONTENT_SECURITY_POLICY)
        .layer(axum::middleware::from_fn(refuse_drug_checking_credentials))
        .with_state(unit)
}

/// The module's pages load nothing but their own style sheet and, where a member uses passkeys, the passkeys' script
/// (WebAuthn has no other way in a browser): no inline script or style, no framing.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// Runs the retention purge now and then every hour (audited in the module's own log).
pub fn spawn_retention(store: Arc<AdvisoryStore>, grace_days: i64) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let s = store.clone();
            match tokio::task::spawn_blocking(move || s.purge(today(), grace_days, "retention")).await {
                Ok(Ok(n)) => tracing::info!(deleted = n, "advisory retention ran"),
                Ok(Err(e)) => tracing::warn!(error = %e, "advisory retention failed"),
                Err(e) => tracing::warn!(error = %e, "advisory retention failed"),
            }
            tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
        }
    })
}

/// Whether a request carries an advisory session cookie (the drug-checking side answers those 404).
pub fn has_advisory_session(headers: &HeaderMap) -> bool {
    cookie(headers, COOKIE).is_some()
}

async fn refuse_drug_checking_credentials(request: Request, next: Next) -> Response {
    let headers = request.headers();
    if headers.contains_key(header::AUTHORIZATION) || cookie(headers, DRUG_CHECKING_COOKIE).is_some() {
        return StatusCode::NOT_FOUND.into_response();
    }
    next.run(request).await
}

/// Today in Norway.
pub fn today() -> jiff::civil::Date {
    let oslo = jiff::tz::TimeZone::get("Europe/Oslo").unwrap_or(jiff::tz::TimeZone::UTC);
    jiff::Timestamp::now().to_zoned(oslo).date()
}

pub use varde_http::secrets::hash_password;
use varde_http::secrets::{random_token, same, verify_password};

fn digest(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    hex::encode(h.finalize())
}

use varde_http::cookies::read as cookie;

/// Where the login page is.
const LOGIN_PAGE: &str = "/advisory/login";

fn set_cookie(unit: &Unit, name: &str, value: &str, max_age: i64) -> HeaderValue {
    varde_http::cookies::set(name, value, "/advisory", max_age, unit.settings.secure_cookies)
}

/// The logged-in member of the unit; pages redirect to the login without one.
pub(crate) struct Member {
    pub user: User,
    /// The session's CSRF token (derived from the session token, so it needs no storage).
    pub csrf: String,
}

impl FromRequestParts<Unit> for Member {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, unit: &Unit) -> Result<Self, Self::Rejection> {
        let to_login = || Redirect::to("/advisory/login").into_response();
        let Some(token) = cookie(&parts.headers, COOKIE) else { return Err(to_login()) };
        let hash = digest(&["session", &token]);
        let store = unit.store.clone();
        let found = tokio::task::spawn_blocking(move || store.session_user(&hash, jiff::Timestamp::now())).await;
        match found {
            Ok(Ok(Some((user, true)))) => Ok(Member { user, csrf: digest(&["csrf", &token]) }),
            // The password was right; the second factor is still to give.
            Ok(Ok(Some((_, false)))) => Err(Redirect::to(SECOND_FACTOR_PAGE).into_response()),
            Ok(Ok(None)) => Err(to_login()),
            _ => Err(StatusCode::SERVICE_UNAVAILABLE.into_response()),
        }
    }
}

/// A form whose CSRF token is not the session's: 403, nothing done.
pub(crate) struct CsrfFailed;

impl IntoResponse for CsrfFailed {
    fn into_response(self) -> Response {
        (StatusCode::FORBIDDEN, "csrf_failed: reload the page and send the form again").into_response()
    }
}

impl Member {
    pub fn check_csrf(&self, token: &str) -> Result<(), CsrfFailed> {
        if same(token, &self.csrf) { Ok(()) } else { Err(CsrfFailed) }
    }
}

/// Logs in: a new session and its cookie.
/// Starts a session for a member whose password was right; `verified` false when the second factor is still to
/// give.
async fn start_session(unit: &Unit, user: &User, verified: bool) -> Result<HeaderValue, Response> {
    let token = random_token();
    let (store, hash, id) = (unit.store.clone(), digest(&["session", &token]), user.id);
    let expires = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(SESSION_HOURS);
    tokio::task::spawn_blocking(move || store.create_session(&hash, id, expires, verified))
        .await
        .ok()
        .and_then(Result::ok)
        .ok_or_else(|| StatusCode::SERVICE_UNAVAILABLE.into_response())?;
    Ok(set_cookie(unit, COOKIE, &token, SESSION_HOURS * 3600))
}

async fn end_session(unit: &Unit, headers: &HeaderMap) {
    if let Some(token) = cookie(headers, COOKIE) {
        let (store, hash) = (unit.store.clone(), digest(&["session", &token]));
        let _ = tokio::task::spawn_blocking(move || store.end_session(&hash)).await;
    }
}

async fn check_login(unit: &Unit, username: String, password: String) -> Option<User> {
    let store = unit.store.clone();
    tokio::task::spawn_blocking(move || {
        let user = store.user(&username).ok().flatten();
        // Verify against a hash even for an unknown name, so timing does not tell which names exist: one made once,
        // so an unknown name costs one verification as a known one does (hashing anew each time cost twice as much,
        // 86 ms against 44 ms, and told the names apart).
        static UNKNOWN_USER: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| hash_password("not a password"));
        let hash = user.as_ref().map_or_else(|| UNKNOWN_USER.clone(), |u| u.password_hash.clone());
        let ok = verify_password(&password, &hash);
        user.filter(|_| ok)
    })
    .await
    .ok()
    .flatten()
}
