//! The second step of a staff login: a one-time code from an authenticator app (TOTP), or one of the recovery codes
//! given at enrolment. A role that needs a second factor (`--second-factor-for`, reviewers and admins by default)
//! and has none enrols at its first login: the page shows the secret as a QR code and as text, the person confirms
//! with a code, and is shown ten recovery codes once.
//!
//! Until the second factor is passed the session opens no page but this one (see [`crate::http::session::SessionUser`]).
//! Wrong codes count against the same per-account and per-address limits as wrong passwords, and are audited
//! (`login.second_factor_failed`); passing is audited as `login.second_factor`, enrolling as `second_factor.enrol`.

use crate::AppState;
use crate::config::limits::{LOGIN_FAILURES_PER_ACCOUNT, LOGIN_FAILURES_PER_ADDRESS};
use crate::config::sessions::COOKIE;
use crate::http::error::ApiError;
use crate::http::i18n::t;
use crate::http::lang::negotiate;
use crate::http::limits::ClientAddress;
use crate::http::session::{cookie, safe_next, same, second_factor_page as page_for, start_page};
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use maud::{Markup, PreEscaped, html};
use sha2::{Digest, Sha256};
use varde_domain::Lang;
use varde_http::second_factor::{OneTimeCodes, new_recovery_codes, new_secret, recovery_hash};
use varde_store::SessionRecord;

/// The name authenticator apps show beside the account.
const ISSUER: &str = "Varde";

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new().route("/login/second-factor", get(form).post(submit))
}

#[derive(serde::Deserialize)]
pub struct SecondFactorQuery {
    lang: Option<String>,
    next: Option<String>,
}

/// A code, from the app or a recovery code; at enrolment also the secret the page proposed.
#[derive(serde::Deserialize)]
pub struct CodeForm {
    csrf: String,
    code: String,
    #[serde(default)]
    secret: Option<String>,
}

/// The session waiting for its second factor (a verified one may come here too and is sent on).
async fn pending(state: &AppState, headers: &HeaderMap) -> Result<Option<([u8; 32], SessionRecord)>, ApiError> {
    let Some(token) = cookie(state, headers, COOKIE) else { return Ok(None) };
    let hash: [u8; 32] = Sha256::digest(token.as_bytes()).into();
    Ok(state.app.queries().session(hash, jiff::Timestamp::now()).await?.map(|s| (hash, s)))
}

fn where_next(q: &SecondFactorQuery, session: &SessionRecord) -> String {
    safe_next(q.next.as_deref()).unwrap_or_else(|| start_page(session.role).to_owned())
}

async fn form(
    State(state): State<AppState>,
    Query(q): Query<SecondFactorQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let lang = negotiate(q.lang.as_deref(), &headers);
    let Some((_, session)) = pending(&state, &headers).await? else {
        return Ok(Redirect::to(&format!("/login?lang={}", lang.code())).into_response());
    };
    if session.verified {
        return Ok(Redirect::to(&where_next(&q, &session)).into_response());
    }
    let user = state.app.queries().user(&session.username).await?;
    let enrolled = user.is_some_and(|u| u.totp_secret.is_some());
    let has_passkeys = !state.app.passkeys(session.user_id).await?.is_empty();
    let form = if enrolled {
        code_form(&q, &session, lang, None)
    } else {
        enrol_form(&q, &session, lang, None, &new_secret())
    };
    let next = where_next(&q, &session);
    let body = html! {
        (form)
        (crate::http::passkey_markup::login_button(&state, &session, has_passkeys, &next, lang))
    };
    Ok(page(lang, body, StatusCode::OK))
}

async fn submit(
    State(state): State<AppState>,
    Query(q): Query<SecondFactorQuery>,
    headers: HeaderMap,
    address: ClientAddress,
    Form(f): Form<CodeForm>,
) -> Result<Response, ApiError> {
    let lang = negotiate(q.lang.as_deref(), &headers);
    let Some((hash, session)) = pending(&state, &headers).await? else {
        return Ok(Redirect::to(&format!("/login?lang={}", lang.code())).into_response());
    };
    if !same(&f.csrf, &session.csrf) {
        return Err(ApiError::new(
            varde_domain::ErrorCode::CsrfFailed,
            "the form's token does not match the session; reload the page",
        ));
    }
    if session.verified {
        return Ok(Redirect::to(&where_next(&q, &session)).into_response());
    }
    let store = &*state.app;
    let (who, account) = (address.who(), session.username.clone());
    let locked = state.limits.exhausted(store, LOGIN_FAILURES_PER_ADDRESS, &who).await?
        || state.limits.exhausted(store, LOGIN_FAILURES_PER_ACCOUNT, &account).await?;
    let now = jiff::Timestamp::now();
    let user = state.app.queries().user(&session.username).await?.ok_or_else(ApiError::internal)?;
    let unix = now.as_second().max(0) as u64;
    let passed = if locked {
        state.app.second_factor_refused(user.id, now).await?;
        false
    } else if let Some(secret) = &user.totp_secret {
        // The app's code (each time step once) or a recovery code (each once); the core decides and audits.
        let step = OneTimeCodes::new(secret, ISSUER, &user.username).and_then(|c| c.check(&f.code, unix));
        state.app.pass_second_factor(hash, user.id, step.map(|s| s as i64), recovery_hash(&f.code), now).await?
    } else {
        // Enrolment: the code must come from the secret this page proposed, which is then the person's.
        let secret = f.secret.clone().unwrap_or_default();
        let step = OneTimeCodes::new(&secret, ISSUER, &user.username).and_then(|c| c.check(&f.code, unix));
        if let Some(step) = step {
            let codes = new_recovery_codes();
            let hashes: Vec<[u8; 32]> = codes.iter().map(|c| recovery_hash(c)).collect();
            state.app.enrol_totp(hash, user.id, &secret, &hashes, step as i64, now).await?;
            return Ok(page(lang, recovery_codes_page(&q, &session, lang, &codes), StatusCode::OK));
        }
        state.app.second_factor_refused(user.id, now).await?;
        false
    };
    match passed {
        true => Ok(Redirect::to(&where_next(&q, &session)).into_response()),
        false => {
            state.limits.record(store, LOGIN_FAILURES_PER_ADDRESS, &who).await?;
            state.limits.record(store, LOGIN_FAILURES_PER_ACCOUNT, &account).await?;
            let (message, status) = if locked {
                (t(lang, "login_locked"), StatusCode::TOO_MANY_REQUESTS)
            } else {
                (t(lang, "second_factor_wrong"), StatusCode::UNAUTHORIZED)
            };
            let body = match (&user.totp_secret, &f.secret) {
                (None, Some(secret)) => enrol_form(&q, &session, lang, Some(message), secret),
                _ => code_form(&q, &session, lang, Some(message)),
            };
            Ok(page(lang, body, status))
        }
    }
}

fn page(lang: Lang, body: Markup, status: StatusCode) -> Response {
    let mut res = (
        status,
        crate::http::pages::page(crate::http::pages::layout(
            lang,
            t(lang, "second_factor"),
            "/login/second-factor",
            body,
        )),
    )
        .into_response();
    res.headers_mut().insert(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-store"));
    res
}

fn action(q: &SecondFactorQuery, session: &SessionRecord, lang: Lang) -> String {
    page_for(&where_next(q, session), Some(lang))
}

fn code_form(q: &SecondFactorQuery, session: &SessionRecord, lang: Lang, error: Option<&str>) -> Markup {
    html! {
        h1 { (t(lang, "second_factor")) }
        @if let Some(e) = error { p.error role="alert" { (e) } }
        form.concern method="post" action=(action(q, session, lang)) {
            input type="hidden" name="csrf" value=(session.csrf);
            label for="code" { (t(lang, "second_factor_code")) }
            small id="code-hint" { (t(lang, "second_factor_code_hint")) }
            input id="code" name="code" autocomplete="one-time-code" required autofocus aria-describedby="code-hint";
            button type="submit" { (t(lang, "second_factor_confirm")) }
        }
    }
}

fn enrol_form(q: &SecondFactorQuery, session: &SessionRecord, lang: Lang, error: Option<&str>, secret: &str) -> Markup {
    let url = OneTimeCodes::new(secret, ISSUER, &session.username).map(|c| c.url()).unwrap_or_default();
    html! {
        h1 { (t(lang, "second_factor_enrol")) }
        p { (t(lang, "second_factor_enrol_intro")) }
        @if let Some(e) = error { p.error role="alert" { (e) } }
        div role="img" aria-label=(t(lang, "second_factor_qr")) { (PreEscaped(crate::http::pages::qr_svg(&url, 200))) }
        p { (t(lang, "second_factor_secret")) " " code.secret data-secret=(secret) { (secret) } }
        form.concern method="post" action=(action(q, session, lang)) {
            input type="hidden" name="csrf" value=(session.csrf);
            input type="hidden" name="secret" value=(secret);
            label for="code" { (t(lang, "second_factor_first_code")) }
            input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" required autofocus;
            button type="submit" { (t(lang, "second_factor_confirm")) }
        }
    }
}

fn recovery_codes_page(q: &SecondFactorQuery, session: &SessionRecord, lang: Lang, codes: &[String]) -> Markup {
    html! {
        h1 { (t(lang, "recovery_codes")) }
        p { (t(lang, "recovery_codes_intro")) }
        ol.recovery-codes { @for c in codes { li { code { (c) } } } }
        p { a.button href=(where_next(q, session)) autofocus { (t(lang, "recovery_codes_kept")) } }
    }
}
