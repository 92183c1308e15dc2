//! Signing staff in through their organisation's identity provider (`--oidc FILE`: HelseID, ID-porten, Entra ID):
//! the login page offers a button per provider; `/login/oidc/{issuer}` sends the browser there with a flow cookie;
//! `/login/oidc/{issuer}/callback` checks the answer (`varde_http::oidc`), and the sign-in rules an admin keeps say
//! whether and as what the person may work here (`varde_core::identity::sign_in`).
//!
//! A refusal — an answer that is not this browser's sign-in, a code the provider will not exchange, an ID token that
//! does not verify, a person no rule names — is audited (`login.refused` with its reason), shown with the stable code
//! `sign_in_refused` and the reason in the reader's language, and leaves nothing behind: no user, no session.
//!
//! The provider's authentication stands for the second factor: HelseID and ID-porten sign people in at level high
//! (BankID, Buypass) and an organisation's Entra ID with its own multi-factor policy, which is that organisation's to
//! set. A session from a provider is therefore verified at once.

use crate::AppState;
use crate::config::sessions::{COOKIE, SESSION_HOURS};
use crate::http::error::ApiError;
use crate::http::lang::negotiate;
use crate::http::pages::{layout_going_on, page};
use crate::http::session::{cookie, cookie_name, random_token, safe_next, set_cookie, start_page};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use maud::html;
use sha2::{Digest, Sha256};
use varde_domain::{ErrorCode, Lang};
use varde_http::oidc::{Callback, FLOW_SECONDS, Flow, Refusal, text};

/// The cookie that carries a sign-in's flow from leaving for the provider to coming back.
const FLOW_COOKIE: &str = "varde_sign_in";

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new().route("/login/oidc/{issuer}", get(begin)).route("/login/oidc/{issuer}/callback", get(finish))
}

#[derive(serde::Deserialize)]
pub struct BeginQuery {
    lang: Option<String>,
    next: Option<String>,
}

/// Where the provider sends the browser back to, as registered with it.
fn redirect_uri(state: &AppState, issuer: &str) -> String {
    format!("{}/login/oidc/{issuer}/callback", state.public_url)
}

fn flow_cookie(state: &AppState, value: &str, max_age: i64) -> HeaderValue {
    let secure = state.public_url.starts_with("https://");
    varde_http::cookies::set_lax(&cookie_name(state, FLOW_COOKIE), value, "/", max_age, secure)
}

async fn begin(
    State(state): State<AppState>,
    Path(issuer): Path<String>,
    Query(q): Query<BeginQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let lang = negotiate(q.lang.as_deref(), &headers);
    let next = safe_next(q.next.as_deref());
    match state.issuers.begin(&issuer, &redirect_uri(&state, &issuer), next, lang.code()).await {
        Ok((to, flow)) => {
            let mut res = Redirect::to(&to).into_response();
            res.headers_mut().append(header::SET_COOKIE, flow_cookie(&state, &flow.encode(), FLOW_SECONDS));
            res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            Ok(res)
        }
        Err(refusal) => Ok(refused(&state, lang, &issuer, &refusal)),
    }
}

async fn finish(
    State(state): State<AppState>,
    Path(issuer): Path<String>,
    Query(answer): Query<Callback>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let flow = cookie(&state, &headers, FLOW_COOKIE).and_then(|c| Flow::decode(&c)).filter(|f| f.issuer == issuer);
    let lang = negotiate(flow.as_ref().map(|f| f.lang.as_str()), &headers);
    let now = jiff::Timestamp::now();
    let Some(flow) = flow else {
        let refusal = Refusal { reason: "state", detail: "no sign-in was started in this browser".into() };
        if state.issuers.buttons().any(|(name, _)| name == issuer) {
            state.app.sign_in_refused(&issuer, refusal.reason, now).await?;
        }
        return Ok(refused(&state, lang, &issuer, &refusal));
    };
    let vouched = match state.issuers.finish(&flow, &answer, &redirect_uri(&state, &issuer)).await {
        Ok(v) => v,
        Err(refusal) => {
            state.app.sign_in_refused(&issuer, refusal.reason, now).await?;
            return Ok(refused(&state, lang, &issuer, &refusal));
        }
    };
    // The operator's log names the subject of a person no rule names, for an admin who is asked to let them in by
    // their `sub` (ID-porten's is pseudonymous per client; nothing else of the token is logged).
    let subject = vouched.subject.clone();
    let person = varde_core::identity::Vouched {
        username: vouched.username(),
        issuer: vouched.issuer,
        subject: vouched.subject,
        claims: vouched.claims,
    };
    let Some((user, role)) = state.app.sign_in(person, now).await? else {
        let refusal = Refusal { reason: "no_rule", detail: format!("no sign-in rule names subject '{subject}'") };
        return Ok(refused(&state, lang, &issuer, &refusal));
    };
    let token = random_token();
    let hash: [u8; 32] = Sha256::digest(token.as_bytes()).into();
    let expires = now + jiff::SignedDuration::from_hours(SESSION_HOURS);
    state.app.queries().create_session(hash, user, &random_token(), now, expires, true).await?;
    let to = flow.next.clone().unwrap_or_else(|| start_page(role).to_owned());
    let to = if to.contains("lang=") {
        to
    } else {
        format!("{to}{}lang={}", if to.contains('?') { '&' } else { '?' }, lang.code())
    };
    let body = html! {
        h1 { (text(lang.code(), "signed_in")) }
        p { a href=(to) { (text(lang.code(), "continue")) } }
    };
    let markup = layout_going_on(lang, text(lang.code(), "signed_in"), "/login", Some(&to), body);
    let mut res = page(markup);
    let h = res.headers_mut();
    h.append(header::SET_COOKIE, set_cookie(&state, COOKIE, &token, SESSION_HOURS * 3600));
    h.append(header::SET_COOKIE, flow_cookie(&state, "", 0));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

/// The page of a refused sign-in: the stable code and the reason in the reader's language, and the way back to the
/// login. Refusals of the person (no rule names them) are 403; of the answer or the provider, 401; a provider that
/// does not answer, 503; an issuer nobody configured, 404.
fn refused(state: &AppState, lang: Lang, issuer: &str, refusal: &Refusal) -> Response {
    tracing::warn!(issuer, reason = refusal.reason, detail = %refusal.detail, "sign-in refused");
    let status = match refusal.reason {
        "no_rule" => StatusCode::FORBIDDEN,
        "unavailable" => StatusCode::SERVICE_UNAVAILABLE,
        "unknown_issuer" => StatusCode::NOT_FOUND,
        _ => StatusCode::UNAUTHORIZED,
    };
    let body = html! {
        h1 { (text(lang.code(), "refused")) }
        p.error role="alert" data-error=(ErrorCode::SignInRefused.as_str()) data-reason=(refusal.reason) {
            (text(lang.code(), &format!("refused_{}", refusal.reason)))
        }
        p { a href={ "/login?lang=" (lang.code()) } { (text(lang.code(), "again")) } }
    };
    let mut res =
        (status, page(layout_going_on(lang, text(lang.code(), "refused"), "/login", None, body))).into_response();
    res.headers_mut().append(header::SET_COOKIE, flow_cookie(state, "", 0));
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}
