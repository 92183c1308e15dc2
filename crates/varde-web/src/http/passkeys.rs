//! Passkeys as a second factor for local accounts (`varde_http::passkeys`, webauthn-rs): a logged-in person adds
//! one on their sessions page, and at the next login the second factor's page offers it beside the app's code. The
//! ceremony's state is kept with the session in the database (any instance may finish it; a challenge is answered
//! once). A passkey that does not verify counts as a wrong code against the login limits and is audited as
//! `login.second_factor_failed`; adding, using and removing are audited.
//!
//! Script is needed for WebAuthn (`static/passkeys.js`); without it these parts stay hidden and the app's code works.

use crate::AppState;
use crate::config::limits::{LOGIN_FAILURES_PER_ACCOUNT, LOGIN_FAILURES_PER_ADDRESS};
use crate::config::sessions::COOKIE;
use crate::http::error::ApiError;
use crate::http::extract::ApiJson;
use crate::http::limits::ClientAddress;
use crate::http::session::{CsrfForm, SessionUser, cookie, same};
use axum::Form;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use varde_domain::ErrorCode;
use varde_store::SessionRecord;

/// The ceremonies' kinds, kept with their state so that one cannot be finished as the other.
const ADDING: &str = "add:";
const LOGGING_IN: &str = "login:";

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/passkeys/start", post(start_adding))
        .route("/passkeys", post(finish_adding))
        .route("/passkeys/{id}/remove", post(remove))
        .route("/login/passkey/start", post(start_login))
        .route("/login/passkey", post(finish_login))
        .route("/static/passkeys.js", axum::routing::get(script))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Csrf {
    csrf: String,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Adding {
    csrf: String,
    #[serde(default)]
    name: String,
    credential: Value,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    csrf: String,
    credential: Value,
}

fn refused(message: &str) -> ApiError {
    ApiError::new(ErrorCode::PasskeyRefused, message)
}

/// This browser's session: its hash and record (verified or not).
async fn session(state: &AppState, headers: &HeaderMap) -> Result<([u8; 32], SessionRecord), ApiError> {
    let token = cookie(state, headers, COOKIE).ok_or_else(|| refused("log in first"))?;
    let hash: [u8; 32] = Sha256::digest(token.as_bytes()).into();
    let record = state.app.queries().session(hash, jiff::Timestamp::now()).await?;
    Ok((hash, record.ok_or_else(|| refused("log in first"))?))
}

fn check_csrf(session: &SessionRecord, csrf: &str) -> Result<(), ApiError> {
    if same(csrf, &session.csrf) {
        Ok(())
    } else {
        Err(ApiError::new(ErrorCode::CsrfFailed, "the form's token does not match the session; reload the page"))
    }
}

/// The options for `navigator.credentials.create`, for a logged-in person adding a passkey.
async fn start_adding(
    State(state): State<AppState>,
    user: SessionUser,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Csrf>,
) -> Result<Json<Value>, ApiError> {
    user.check_csrf(&body.csrf)?;
    let (hash, _) = session(&state, &headers).await?;
    let existing: Vec<String> = state.app.passkeys(user.0.user_id).await?.into_iter().map(|p| p.credential).collect();
    let (options, ceremony) =
        state.passkeys.start_registration(user.0.user_id, &user.0.username, &existing).map_err(|e| refused(&e.0))?;
    state.app.queries().set_ceremony(hash, Some(format!("{ADDING}{ceremony}"))).await?;
    Ok(Json(options))
}

/// Keeps the passkey the browser made, when its answer verifies against the ceremony this session started.
async fn finish_adding(
    State(state): State<AppState>,
    user: SessionUser,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Adding>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    user.check_csrf(&body.csrf)?;
    let (hash, _) = session(&state, &headers).await?;
    let ceremony = state.app.queries().take_ceremony(hash).await?;
    let ceremony = ceremony.as_deref().and_then(|c| c.strip_prefix(ADDING)).ok_or_else(|| refused("start again"))?;
    let credential = state.passkeys.finish_registration(&body.credential, ceremony).map_err(|e| {
        tracing::info!(error = %e.0, "a passkey was not added");
        refused("the passkey's answer did not verify")
    })?;
    let id = state.app.add_passkey(user.0.user_id, &body.name, &credential, jiff::Timestamp::now()).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))))
}

async fn remove(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, ApiError> {
    user.check_csrf(&form.csrf)?;
    state.app.remove_passkey(user.0.user_id, id, jiff::Timestamp::now()).await?;
    Ok(Redirect::to("/sessions").into_response())
}

/// The options for `navigator.credentials.get`, for a session waiting for its second factor.
async fn start_login(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Csrf>,
) -> Result<Json<Value>, ApiError> {
    let (hash, session) = session(&state, &headers).await?;
    check_csrf(&session, &body.csrf)?;
    let credentials: Vec<String> =
        state.app.passkeys(session.user_id).await?.into_iter().map(|p| p.credential).collect();
    let (options, ceremony) = state.passkeys.start_authentication(&credentials).map_err(|e| refused(&e.0))?;
    state.app.queries().set_ceremony(hash, Some(format!("{LOGGING_IN}{ceremony}"))).await?;
    Ok(Json(options))
}

/// Passes the session's second factor when the passkey's answer verifies; otherwise counts as a wrong code.
async fn finish_login(
    State(state): State<AppState>,
    headers: HeaderMap,
    address: ClientAddress,
    ApiJson(body): ApiJson<Answer>,
) -> Result<Json<Value>, ApiError> {
    let (hash, session) = session(&state, &headers).await?;
    check_csrf(&session, &body.csrf)?;
    let (store, who, account) = (&*state.app, address.who(), session.username.to_lowercase());
    if state.limits.exhausted(store, LOGIN_FAILURES_PER_ADDRESS, &who).await?
        || state.limits.exhausted(store, LOGIN_FAILURES_PER_ACCOUNT, &account).await?
    {
        return Err(ApiError::new(ErrorCode::TooManyRequests, "too many failed attempts; wait a while"));
    }
    let ceremony = state.app.queries().take_ceremony(hash).await?;
    let ceremony = ceremony.as_deref().and_then(|c| c.strip_prefix(LOGGING_IN));
    let credentials: Vec<(i64, String)> =
        state.app.passkeys(session.user_id).await?.into_iter().map(|p| (p.id, p.credential)).collect();
    let now = jiff::Timestamp::now();
    let verified = ceremony
        .ok_or_else(|| varde_http::passkeys::Failed("no ceremony was started".into()))
        .and_then(|c| state.passkeys.finish_authentication(&body.credential, c, &credentials));
    match verified {
        Ok((id, updated)) => {
            state.app.pass_with_passkey(hash, session.user_id, id, updated, now).await?;
            Ok(Json(json!({ "passed": true })))
        }
        Err(e) => {
            tracing::info!(error = %e.0, "a passkey was not accepted at login");
            state.limits.record(store, LOGIN_FAILURES_PER_ADDRESS, &who).await?;
            state.limits.record(store, LOGIN_FAILURES_PER_ACCOUNT, &account).await?;
            state.app.second_factor_refused(session.user_id, now).await?;
            Err(refused("the passkey's answer did not verify"))
        }
    }
}

/// The script, compressed when the browser takes it.
async fn script(headers: HeaderMap) -> Response {
    static SCRIPT: std::sync::LazyLock<crate::know::figures::Rendering> =
        std::sync::LazyLock::new(|| crate::know::figures::Rendering::of_static(varde_http::passkeys::SCRIPT));
    SCRIPT.clone().respond(&headers, "text/javascript; charset=utf-8", "public, max-age=3600")
}
