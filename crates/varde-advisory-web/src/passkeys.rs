//! Passkeys as a member's second factor (`varde_http::passkeys`, the same ceremonies and script as the staff
//! pages'): a member adds one on `/advisory/passkeys`, and the second factor's page offers it beside the app's code.
//! A passkey that does not verify counts against the login's limits like a wrong code and is audited; adding, using
//! and removing are audited in the module's log. WebAuthn needs script: the module's only script is this one, and
//! without it the app's code works as before.

use crate::pages::{LangQuery, blocking, lang, layout};
use crate::second_factor::{Pending, pending};
use crate::{COOKIE, Member, Unit, cookie, digest, same};
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Json, routing};
use maud::html;
use serde_json::{Value, json};
use varde_http::passkeys::text;

const ADDING: &str = "add:";
const LOGGING_IN: &str = "login:";
const PAGE: &str = "/advisory/passkeys";

pub(crate) fn routes() -> axum::Router<Unit> {
    axum::Router::new()
        .route(PAGE, routing::get(list).post(finish_adding))
        .route("/advisory/passkeys/start", routing::post(start_adding))
        .route("/advisory/passkeys/{id}/remove", routing::post(remove))
        .route("/advisory/login/passkey/start", routing::post(start_login))
        .route("/advisory/login/passkey", routing::post(finish_login))
        .route("/advisory/passkeys.js", routing::get(script))
}

#[derive(serde::Deserialize)]
pub(crate) struct Csrf {
    csrf: String,
}

#[derive(serde::Deserialize)]
pub(crate) struct Answer {
    csrf: String,
    #[serde(default)]
    name: String,
    credential: Value,
}

fn refused(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({"error": "passkey_refused", "message": message}))).into_response()
}

fn unavailable() -> Response {
    StatusCode::SERVICE_UNAVAILABLE.into_response()
}

/// The session's hash, for the member's own session.
fn session_hash(headers: &HeaderMap) -> Option<String> {
    cookie(headers, COOKIE).map(|t| digest(&["session", &t]))
}

async fn script() -> Response {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], varde_http::passkeys::SCRIPT).into_response()
}

/// A moment as the clocks in Norway showed it.
fn in_norway(t: jiff::Timestamp) -> String {
    let oslo = jiff::tz::TimeZone::get("Europe/Oslo").unwrap_or(jiff::tz::TimeZone::UTC);
    t.to_zoned(oslo).strftime("%Y-%m-%d %H:%M").to_string()
}

/// The member's passkeys, adding and removing them.
async fn list(State(unit): State<Unit>, member: Member, Query(q): Query<LangQuery>, headers: HeaderMap) -> Response {
    let lang = lang(&q, &headers);
    let (store, id) = (unit.store.clone(), member.user.id);
    let Ok(passkeys) = blocking(move || store.passkeys(id)).await else { return unavailable() };
    let l = lang.code();
    let body = html! {
        h1 { (text(l, "title")) }
        p { (text(l, "intro")) }
        @if passkeys.is_empty() { p { (text(l, "none")) } } @else {
            table {
                thead { tr { th scope="col" { (text(l, "column")) } th scope="col" { (text(l, "added")) } th scope="col" { (text(l, "last_used")) } th scope="col" { "" } } }
                tbody {
                    @for p in &passkeys {
                        tr {
                            td { (p.name) }
                            td { (in_norway(p.created)) }
                            td { @if let Some(u) = p.last_used { (in_norway(u)) } @else { "–" } }
                            td {
                                form method="post" action={ "/advisory/passkeys/" (p.id) "/remove?lang=" (l) } {
                                    input type="hidden" name="csrf" value=(member.csrf);
                                    button type="submit" { (text(l, "remove")) }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if unit.passkeys.available() {
            div #passkey-add hidden data-failed=(text(l, "failed")) data-start="/advisory/passkeys/start" data-finish=(PAGE) {
                form data-csrf=(member.csrf) {
                    label { (text(l, "name")) " " input name="name" maxlength="60" autocomplete="off"; }
                    button type="submit" { (text(l, "add")) }
                }
                p role="status" {}
            }
            script src="/advisory/passkeys.js" defer {}
        } @else {
            p { (text(l, "unavailable")) }
        }
    };
    layout(lang, text(l, "title"), Some(&member), &unit, body)
}

async fn start_adding(
    State(unit): State<Unit>,
    member: Member,
    headers: HeaderMap,
    Json(body): Json<Csrf>,
) -> Response {
    if !same(&body.csrf, &member.csrf) {
        return (StatusCode::FORBIDDEN, "csrf_failed").into_response();
    }
    let Some(hash) = session_hash(&headers) else { return refused(StatusCode::UNAUTHORIZED, "log in first") };
    let (store, id) = (unit.store.clone(), member.user.id);
    let Ok(existing) = blocking(move || store.passkeys(id)).await else { return unavailable() };
    let existing: Vec<String> = existing.into_iter().map(|p| p.credential).collect();
    let started = unit.passkeys.start_registration(member.user.id, &member.user.username, &existing);
    let Ok((options, ceremony)) = started else { return refused(StatusCode::UNAUTHORIZED, "passkeys are unavailable") };
    let store = unit.store.clone();
    let kept = format!("{ADDING}{ceremony}");
    if blocking(move || store.set_ceremony(&hash, Some(&kept))).await.is_err() {
        return unavailable();
    }
    Json(options).into_response()
}

async fn finish_adding(
    State(unit): State<Unit>,
    member: Member,
    headers: HeaderMap,
    Json(body): Json<Answer>,
) -> Response {
    if !same(&body.csrf, &member.csrf) {
        return (StatusCode::FORBIDDEN, "csrf_failed").into_response();
    }
    let Some(hash) = session_hash(&headers) else { return refused(StatusCode::UNAUTHORIZED, "log in first") };
    let store = unit.store.clone();
    let Ok(ceremony) = blocking(move || store.take_ceremony(&hash)).await else { return unavailable() };
    let Some(ceremony) = ceremony.as_deref().and_then(|c| c.strip_prefix(ADDING)) else {
        return refused(StatusCode::UNAUTHORIZED, "start again");
    };
    let Ok(credential) = unit.passkeys.finish_registration(&body.credential, ceremony) else {
        return refused(StatusCode::UNAUTHORIZED, "the passkey's answer did not verify");
    };
    // A name is free text: no personal data, as everywhere.
    let name = match varde_domain::sample::check_text("name", Some(&body.name), 60) {
        Ok(name) => name.unwrap_or_else(|| "passkey".to_owned()),
        Err(e) => {
            return (StatusCode::UNPROCESSABLE_ENTITY, Json(json!({"error": e.code, "message": e.message})))
                .into_response();
        }
    };
    let (store, user) = (unit.store.clone(), member.user.clone());
    match blocking(move || store.add_passkey(&user, &name, &credential)).await {
        Ok(id) => (StatusCode::CREATED, Json(json!({"id": id}))).into_response(),
        Err(_) => unavailable(),
    }
}

async fn remove(
    State(unit): State<Unit>,
    member: Member,
    Path(id): Path<i64>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
    Form(form): Form<Csrf>,
) -> Response {
    if !same(&form.csrf, &member.csrf) {
        return (StatusCode::FORBIDDEN, "csrf_failed").into_response();
    }
    let (store, user) = (unit.store.clone(), member.user.clone());
    match blocking(move || store.remove_passkey(&user, id)).await {
        Ok(true) => Redirect::to(&format!("{PAGE}?lang={}", lang(&q, &headers).code())).into_response(),
        Ok(false) => StatusCode::NOT_FOUND.into_response(),
        Err(_) => unavailable(),
    }
}

async fn waiting(unit: &Unit, headers: &HeaderMap, csrf: &str) -> Result<Pending, Response> {
    let p = pending(unit, headers).await?.ok_or_else(|| refused(StatusCode::UNAUTHORIZED, "log in first"))?;
    if !same(csrf, &p.csrf) {
        return Err((StatusCode::FORBIDDEN, "csrf_failed").into_response());
    }
    Ok(p)
}

async fn start_login(State(unit): State<Unit>, headers: HeaderMap, Json(body): Json<Csrf>) -> Response {
    let p = match waiting(&unit, &headers, &body.csrf).await {
        Ok(p) => p,
        Err(res) => return res,
    };
    let (store, id) = (unit.store.clone(), p.user.id);
    let Ok(passkeys) = blocking(move || store.passkeys(id)).await else { return unavailable() };
    let credentials: Vec<String> = passkeys.into_iter().map(|p| p.credential).collect();
    let Ok((options, ceremony)) = unit.passkeys.start_authentication(&credentials) else {
        return refused(StatusCode::UNAUTHORIZED, "no passkey to ask for");
    };
    let (store, kept) = (unit.store.clone(), format!("{LOGGING_IN}{ceremony}"));
    if blocking(move || store.set_ceremony(&p.hash, Some(&kept))).await.is_err() {
        return unavailable();
    }
    Json(options).into_response()
}

async fn finish_login(
    State(unit): State<Unit>,
    headers: HeaderMap,
    crate::Peer(peer): crate::Peer,
    Json(body): Json<Answer>,
) -> Response {
    let p = match waiting(&unit, &headers, &body.csrf).await {
        Ok(p) => p,
        Err(res) => return res,
    };
    let attempt = crate::Try::new(&p.user.username, peer);
    match attempt.locked(&unit).await {
        Ok(false) => {}
        Ok(true) => return refused(StatusCode::TOO_MANY_REQUESTS, "too many failed attempts; wait a while"),
        Err(_) => return unavailable(),
    }
    let (store, hash, id) = (unit.store.clone(), p.hash.clone(), p.user.id);
    let Ok((ceremony, passkeys)) =
        blocking(move || Ok::<_, varde_advisory_store::Error>((store.take_ceremony(&hash)?, store.passkeys(id)?)))
            .await
    else {
        return unavailable();
    };
    let credentials: Vec<(i64, String)> = passkeys.into_iter().map(|p| (p.id, p.credential)).collect();
    let verified = ceremony
        .as_deref()
        .and_then(|c| c.strip_prefix(LOGGING_IN))
        .and_then(|c| unit.passkeys.finish_authentication(&body.credential, c, &credentials).ok());
    let (store, user) = (unit.store.clone(), p.user.clone());
    match verified {
        Some((id, updated)) => {
            let hash = p.hash.clone();
            match blocking(move || store.pass_with_passkey(&hash, &user, id, updated.as_deref())).await {
                Ok(()) => Json(json!({"passed": true})).into_response(),
                Err(_) => unavailable(),
            }
        }
        None => {
            if attempt.failed(&unit).await.is_err()
                || blocking(move || store.second_factor_failed(&user)).await.is_err()
            {
                return unavailable();
            }
            refused(StatusCode::UNAUTHORIZED, "the passkey's answer did not verify")
        }
    }
}
