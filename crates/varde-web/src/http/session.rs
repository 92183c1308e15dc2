//! Logging in to the pages: argon2id password hashes, server-side sessions in a secure cookie, a CSRF token for every
//! form, failed-login throttling per address, and security headers on every response.

use crate::AppState;
use crate::config::limits::{LOGIN_FAILURES_PER_ACCOUNT, LOGIN_FAILURES_PER_ADDRESS};
use crate::config::sessions::{COOKIE, LOGIN_CSRF_COOKIE, SESSION_HOURS};
use crate::http::error::ApiError;
use crate::http::i18n::t;
use crate::http::lang::LangQuery;
use crate::http::lang::negotiate;
use crate::http::limits::ClientAddress;
use axum::Form;
use axum::extract::{FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::html;
use sha2::{Digest, Sha256};
use varde_domain::ErrorCode;
use varde_domain::Lang;
use varde_store::SessionRecord;

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .route("/sessions", get(sessions))
        .route("/sessions/{key}/end", post(end_session))
}

/// Where a person sees their own sessions (when each started, when it expires, which is this browser) and ends any
/// of them: a tablet left logged in elsewhere, a phone lost.
async fn sessions(
    State(state): State<AppState>,
    user: SessionUser,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let lang = negotiate(q.lang.as_deref(), &headers);
    let now = jiff::Timestamp::now();
    let list = state.app.queries().sessions_of(user.0.user_id, now).await?;
    let passkeys = state.app.passkeys(user.0.user_id).await?;
    let this = this_session(&state, &headers);
    let moment = |t| crate::http::pages::moment(t, lang);
    let body = html! {
        h1 { (t(lang, "sessions")) }
        p { (t(lang, "sessions_intro")) }
        table {
            thead { tr { th scope="col" { (t(lang, "session_started")) } th scope="col" { (t(lang, "session_expires")) } th scope="col" { "" } } }
            tbody {
                @for s in &list {
                    tr {
                        td { (moment(s.started)) @if this.as_deref() == Some(s.key.as_str()) { " " strong { "(" (t(lang, "this_browser")) ")" } } }
                        td { (moment(s.expires)) }
                        td {
                            form method="post" action={ "/sessions/" (s.key) "/end?lang=" (lang.code()) } {
                                input type="hidden" name="csrf" value=(user.0.csrf);
                                button type="submit" { (t(lang, "end_session")) }
                            }
                        }
                    }
                }
            }
        }
        (crate::http::passkey_markup::section(&state, &user.0, &passkeys, lang))
    };
    Ok(crate::http::pages::page(crate::http::pages::staff_layout(
        &user.0,
        lang,
        t(lang, "sessions"),
        "/sessions",
        body,
    )))
}

/// The key of this browser's session, if it sends one.
fn this_session(state: &AppState, headers: &HeaderMap) -> Option<String> {
    cookie(state, headers, COOKIE).map(|t| varde_store::SessionLine::key_of(&Sha256::digest(t.as_bytes()).into()))
}

/// Ends one of the person's own sessions (audited); ending this browser's own is logging out.
async fn end_session(
    State(state): State<AppState>,
    user: SessionUser,
    Path(key): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Result<Response, ApiError> {
    user.check_csrf(&form.csrf)?;
    let lang = negotiate(q.lang.as_deref(), &headers);
    if !state.app.queries().end_session_of(user.0.user_id, &key, jiff::Timestamp::now()).await? {
        return Err(ApiError::new(ErrorCode::NotFound, "you have no session with that key"));
    }
    let this = this_session(&state, &headers);
    if this.as_deref() == Some(key.to_ascii_lowercase().as_str()) {
        let mut res = Redirect::to(&format!("/login?lang={}", lang.code())).into_response();
        res.headers_mut().append(header::SET_COOKIE, set_cookie(&state, COOKIE, "", 0));
        res.headers_mut().insert("clear-site-data", HeaderValue::from_static("\"cache\", \"cookies\""));
        return Ok(res);
    }
    Ok(Redirect::to(&format!("/sessions?lang={}", lang.code())).into_response())
}

pub use varde_http::secrets::{hash_password, verify_password};
pub(crate) use varde_http::secrets::{random_token, same};

/// [`hash_password`] on a blocking thread: argon2 takes tens of milliseconds of CPU, which would stall every other
/// request on the async runtime's worker.
pub async fn hash_password_off_runtime(password: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || hash_password(&password)).await.map_err(|_| ApiError::internal())
}

/// [`verify_password`] on a blocking thread (see [`hash_password_off_runtime`]).
pub async fn verify_password_off_runtime(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || verify_password(&password, &hash)).await.unwrap_or(false)
}

/// A cookie's name as sent: behind https with the `__Host-` prefix, which a browser accepts only from this host, with
/// `Secure` and `Path=/`, so that no subdomain and no plain-http page can set or shadow the session.
pub(crate) fn cookie_name(state: &AppState, name: &str) -> String {
    if state.public_url.starts_with("https://") { format!("__Host-{name}") } else { name.to_owned() }
}

/// The value of the cookie `name` (under its prefix behind https).
pub(crate) fn cookie(state: &AppState, headers: &HeaderMap, name: &str) -> Option<String> {
    varde_http::cookies::read(headers, &cookie_name(state, name))
}

pub(crate) fn set_cookie(state: &AppState, name: &str, value: &str, max_age: i64) -> HeaderValue {
    // Secure whenever the public address is https; on plain http (development, tests) browsers would drop it.
    let secure = state.public_url.starts_with("https://");
    varde_http::cookies::set(&cookie_name(state, name), value, "/", max_age, secure)
}

/// The logged-in user of a page request. Pages that need one redirect to the login instead of failing.
pub struct SessionUser(pub SessionRecord);

impl FromRequestParts<AppState> for SessionUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let to_login = || Redirect::to(&format!("/login?next={}", parts.uri.path())).into_response();
        let Some(token) = cookie(state, &parts.headers, COOKIE) else { return Err(to_login()) };
        let hash: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let now = jiff::Timestamp::now();
        match state.app.queries().session(hash, now).await {
            // Idle too long (a tablet left logged in at the counter): the session ends, audited, and the person logs
            // in again.
            Ok(Some(s)) if now.duration_since(s.last_seen) > state.session_idle => {
                state
                    .app
                    .queries()
                    .end_session(hash, "idle", now)
                    .await
                    .map_err(|e| ApiError::from(e).into_response())?;
                Err(to_login())
            }
            Ok(Some(s)) if s.verified => {
                // Its last use, recorded at most once a minute (not a write per page).
                if now.duration_since(s.last_seen) > jiff::SignedDuration::from_secs(60) {
                    state.app.queries().session_seen(hash, now).await.map_err(|e| ApiError::from(e).into_response())?;
                }
                Ok(SessionUser(s))
            }
            // Password given, second factor not yet: that page first.
            Ok(Some(_)) => Err(Redirect::to(&second_factor_page(parts.uri.path(), None)).into_response()),
            Ok(None) => Err(to_login()),
            Err(e) => Err(ApiError::from(e).into_response()),
        }
    }
}

impl SessionUser {
    /// Checks a form's CSRF token against the session's.
    pub fn check_csrf(&self, token: &str) -> Result<(), ApiError> {
        if same(token, &self.0.csrf) {
            Ok(())
        } else {
            Err(ApiError::new(ErrorCode::CsrfFailed, "the form's token does not match the session; reload the page"))
        }
    }
}

#[derive(serde::Deserialize)]
pub struct LoginQuery {
    lang: Option<String>,
    next: Option<String>,
}

#[derive(serde::Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    csrf: String,
}

/// Where to go after logging in: only a path on this site; none when the login was not sent from a page.
pub(crate) fn safe_next(next: Option<&str>) -> Option<String> {
    next.filter(|n| n.starts_with('/') && !n.starts_with("//") && !n.contains('\\')).map(str::to_owned)
}

/// The address of the second factor's page, to go on to `next` afterwards.
pub(crate) fn second_factor_page(next: &str, lang: Option<Lang>) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    q.append_pair("next", next);
    if let Some(lang) = lang {
        q.append_pair("lang", lang.code());
    }
    format!("/login/second-factor?{}", q.finish())
}

/// Each role's own start page, for a login that was not sent from a page.
pub(crate) fn start_page(role: varde_domain::auth::Role) -> &'static str {
    match role {
        varde_domain::auth::Role::Technician => "/staff",
        varde_domain::auth::Role::Reviewer => "/review",
        varde_domain::auth::Role::Admin => "/admin",
    }
}

fn login_page(state: &AppState, lang: Lang, next: Option<&str>, error: Option<&str>, status: StatusCode) -> Response {
    // Double-submit: the form carries the same random token as a cookie set with it, which another site cannot read.
    let csrf = random_token();
    let body = html! {
        h1 { (t(lang, "login")) }
        @if let Some(e) = error { p.error role="alert" { (e) } }
        form.concern method="post" action={ "/login?lang=" (lang.code()) @if let Some(next) = next { "&next=" (next) } } {
            input type="hidden" name="csrf" value=(csrf);
            label for="username" { (t(lang, "username")) }
            input id="username" name="username" autocomplete="username" required autofocus;
            label for="password" { (t(lang, "password")) }
            input id="password" name="password" type="password" autocomplete="current-password" required;
            button type="submit" { (t(lang, "login")) }
        }
        // Staff whose organisation signs them in (`--oidc`): one button per identity provider, a plain link.
        @if !state.issuers.is_empty() {
            ul.sign-in {
                @for (name, label) in state.issuers.buttons() {
                    li { a.button href={ "/login/oidc/" (name) "?lang=" (lang.code()) @if let Some(next) = next { "&next=" (form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()) } } { (varde_http::oidc::text(lang.code(), "with")) " " (label) } }
                }
            }
        }
    };
    let mut res =
        (status, crate::http::pages::page(crate::http::pages::layout(lang, t(lang, "login"), "/login", body)))
            .into_response();
    res.headers_mut().append(header::SET_COOKIE, set_cookie(state, LOGIN_CSRF_COOKIE, &csrf, 3600));
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

async fn login_form(State(state): State<AppState>, Query(q): Query<LoginQuery>, headers: HeaderMap) -> Response {
    let lang = negotiate(q.lang.as_deref(), &headers);
    login_page(&state, lang, safe_next(q.next.as_deref()).as_deref(), None, StatusCode::OK)
}

async fn login(
    State(state): State<AppState>,
    Query(q): Query<LoginQuery>,
    headers: HeaderMap,
    address: ClientAddress,
    Form(form): Form<LoginForm>,
) -> Result<Response, ApiError> {
    let lang = negotiate(q.lang.as_deref(), &headers);
    let next = safe_next(q.next.as_deref());
    let next = next.as_deref();
    if !cookie(&state, &headers, LOGIN_CSRF_COOKIE).is_some_and(|c| same(&c, &form.csrf)) {
        return Ok(login_page(&state, lang, next, Some(t(lang, "form_expired")), StatusCode::FORBIDDEN));
    }
    let (who, account) = (address.who(), form.username.trim().to_lowercase());
    let store = &*state.app;
    if state.limits.exhausted(store, LOGIN_FAILURES_PER_ADDRESS, &who).await?
        || state.limits.exhausted(store, LOGIN_FAILURES_PER_ACCOUNT, &account).await?
    {
        return Ok(login_page(&state, lang, next, Some(t(lang, "login_locked")), StatusCode::TOO_MANY_REQUESTS));
    }
    let user = state.app.queries().user(form.username.trim()).await?;
    // Hash even for an unknown name, so the answer takes the same time either way.
    let ok = match &user {
        Some(u) => verify_password_off_runtime(form.password.clone(), u.password_hash.clone()).await,
        None => {
            verify_password_off_runtime(form.password.clone(), state.dummy_hash.clone()).await;
            false
        }
    };
    let now = jiff::Timestamp::now();
    let user = match user {
        Some(user) if ok => user,
        known => {
            // Five failures from one address lock the address out, ten for one account (from anywhere) the account.
            state.limits.record(store, LOGIN_FAILURES_PER_ADDRESS, &who).await?;
            state.limits.record(store, LOGIN_FAILURES_PER_ACCOUNT, &account).await?;
            // A known account's failure is audited (never the password, nor a name nobody has: that may be a
            // password typed in the wrong field).
            if let Some(user) = known {
                state.app.login_failed(user.id, now).await?;
            }
            return Ok(login_page(&state, lang, next, Some(t(lang, "login_failed")), StatusCode::UNAUTHORIZED));
        }
    };
    let token = random_token();
    let hash: [u8; 32] = Sha256::digest(token.as_bytes()).into();
    // A person who has enrolled a second factor is always asked for it; a role that needs one and has none enrols
    // now. Until then the session opens no page but the second factor's.
    let has_passkeys = !state.app.passkeys(user.id).await?.is_empty();
    let second = user.totp_secret.is_some() || has_passkeys || state.second_factor_for.contains(&user.role);
    let expires = now + jiff::SignedDuration::from_hours(SESSION_HOURS);
    state.app.queries().create_session(hash, user.id, &random_token(), now, expires, !second).await?;
    // The language chosen before logging in stays chosen after.
    let to = next.unwrap_or(start_page(user.role));
    let to = match &q.lang {
        Some(_) if !to.contains("lang=") => {
            format!("{to}{}lang={}", if to.contains('?') { '&' } else { '?' }, lang.code())
        }
        _ => to.to_owned(),
    };
    let to = if second { second_factor_page(&to, Some(lang)) } else { to };
    let mut res = Redirect::to(&to).into_response();
    res.headers_mut().append(header::SET_COOKIE, set_cookie(&state, COOKIE, &token, SESSION_HOURS * 3600));
    res.headers_mut().append(header::SET_COOKIE, set_cookie(&state, LOGIN_CSRF_COOKIE, "", 0));
    Ok(res)
}

#[derive(serde::Deserialize)]
pub struct CsrfForm {
    pub(crate) csrf: String,
}

async fn logout(
    State(state): State<AppState>,
    user: SessionUser,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Result<Response, ApiError> {
    user.check_csrf(&form.csrf)?;
    if let Some(token) = cookie(&state, &headers, COOKIE) {
        state
            .app
            .queries()
            .end_session(Sha256::digest(token.as_bytes()).into(), "logout", jiff::Timestamp::now())
            .await?;
    }
    let mut res = Redirect::to("/login").into_response();
    res.headers_mut().append(header::SET_COOKIE, set_cookie(&state, COOKIE, "", 0));
    // A shared tablet in a user room: the browser forgets this origin's cookies and cached staff pages too.
    res.headers_mut().insert("clear-site-data", HeaderValue::from_static("\"cache\", \"cookies\""));
    Ok(res)
}

/// The security headers that depend on the request or the site, beside the baseline every Varde page sends
/// (`varde_http::headers`, with [`CONTENT_SECURITY_POLICY`]): HSTS behind https, who may embed a resource, and
/// caching.
///
/// A response to a request that carries a credential (a bearer token or the staff session cookie) is stored by no
/// cache, whatever the handler said: a page rendered for one reviewer must never be served to another person by a
/// shared cache, and an API answer for a token is that token holder's alone.
pub async fn security_headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let credentialed = req.headers().contains_key(header::AUTHORIZATION)
        || cookie(&state, req.headers(), COOKIE).is_some_and(|c| !c.is_empty());
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    if credentialed {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if state.public_url.starts_with("https://") {
        h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=63072000"));
    }
    // Public warnings, feeds, photos and open data are there to be taken by other sites; staff answers are not.
    let resources = if credentialed { "same-origin" } else { "cross-origin" };
    h.insert("cross-origin-resource-policy", HeaderValue::from_static(resources));
    // Pages and feeds are written in the language Accept-Language asks for when the address names none: a cache
    // must keep one copy per language.
    let negotiated = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/html") || ct.starts_with("application/atom+xml"));
    if negotiated {
        h.append(header::VARY, HeaderValue::from_static("accept-language"));
    }
    res
}

/// The pages load their own scripts and style sheets and nothing inline; images may be data: URLs (QR codes).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_login() {
        assert_eq!(safe_next(Some("/analyst")).as_deref(), Some("/analyst"));
        assert_eq!(safe_next(Some("https://evil.example/")), None);
        assert_eq!(safe_next(Some("//evil.example")), None);
        assert_eq!(safe_next(None), None);
    }
}
