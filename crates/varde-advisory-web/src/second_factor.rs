//! The second step of a member's login: a one-time code from an authenticator app (TOTP, `varde_http::second_factor`)
//! or one of the recovery codes given at enrolment. Every member enrols at the first login (the module holds
//! fødselsnumre), except in the synthetic demo. Until then the session opens no page but this one. Wrong codes count
//! against the login's limits per account and per address, kept in the module's database; passing, failing and
//! enrolling are in the module's audit log.

use crate::i18n::{Lang, t};
use crate::pages::{LangQuery, blocking, lang, layout};
use crate::{COOKIE, Unit, cookie, digest, same};
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, PreEscaped, html};
use varde_advisory_store::User;
use varde_http::second_factor::{OneTimeCodes, new_recovery_codes, new_secret, recovery_hash};

use crate::SECOND_FACTOR_PAGE as PAGE;

/// The page, to merge into the module's routes.
pub(crate) fn routes() -> axum::Router<Unit> {
    axum::Router::new().route(PAGE, axum::routing::get(form).post(submit))
}

const ISSUER: &str = "Varde rådgivende enhet";

#[derive(serde::Deserialize)]
pub(crate) struct CodeForm {
    csrf: String,
    code: String,
    #[serde(default)]
    secret: Option<String>,
}

/// The session waiting for its second factor: its hash, its member, whether it already passed, its CSRF token.
pub(crate) struct Pending {
    pub(crate) hash: String,
    pub(crate) user: User,
    verified: bool,
    pub(crate) csrf: String,
}

pub(crate) async fn pending(unit: &Unit, headers: &HeaderMap) -> Result<Option<Pending>, Response> {
    let Some(token) = cookie(headers, COOKIE) else { return Ok(None) };
    let (store, hash) = (unit.store.clone(), digest(&["session", &token]));
    let found = blocking(move || store.session_user(&hash, jiff::Timestamp::now())).await;
    match found {
        Ok(found) => Ok(found.map(|(user, verified)| Pending {
            hash: digest(&["session", &token]),
            user,
            verified,
            csrf: digest(&["csrf", &token]),
        })),
        Err(_) => Err(StatusCode::SERVICE_UNAVAILABLE.into_response()),
    }
}

async fn form(State(unit): State<Unit>, Query(q): Query<LangQuery>, headers: HeaderMap) -> Response {
    let lang = lang(&q, &headers);
    let p = match pending(&unit, &headers).await {
        Ok(Some(p)) => p,
        Ok(None) => return Redirect::to("/advisory/login").into_response(),
        Err(res) => return res,
    };
    if p.verified {
        return Redirect::to("/advisory").into_response();
    }
    let (store, id) = (unit.store.clone(), p.user.id);
    let enrolled = match blocking(move || store.totp_secret(id)).await {
        Ok(s) => s.is_some(),
        Err(_) => return StatusCode::SERVICE_UNAVAILABLE.into_response(),
    };
    let form = if enrolled { code_form(&p, lang, false) } else { enrol_form(&p, lang, false, &new_secret()) };
    let passkey = passkey_button(&unit, &p, lang).await;
    page(&unit, lang, html! { (form) (passkey) }, StatusCode::OK)
}

async fn submit(
    State(unit): State<Unit>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
    crate::Peer(peer): crate::Peer,
    Form(f): Form<CodeForm>,
) -> Response {
    let lang = lang(&q, &headers);
    let p = match pending(&unit, &headers).await {
        Ok(Some(p)) => p,
        Ok(None) => return Redirect::to("/advisory/login").into_response(),
        Err(res) => return res,
    };
    if !same(&f.csrf, &p.csrf) {
        return (StatusCode::FORBIDDEN, "csrf_failed: reload the page and send the form again").into_response();
    }
    if p.verified {
        return Redirect::to("/advisory").into_response();
    }
    let attempt = crate::Try::new(&p.user.username, peer);
    let Ok(locked) = attempt.locked(&unit).await else { return StatusCode::SERVICE_UNAVAILABLE.into_response() };
    let unix = jiff::Timestamp::now().as_second().max(0) as u64;
    let (store, id) = (unit.store.clone(), p.user.id);
    let Ok(enrolled) = blocking(move || store.totp_secret(id)).await else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    let passed = if locked {
        false
    } else if let Some(secret) = enrolled.as_deref() {
        let step = OneTimeCodes::new(secret, ISSUER, &p.user.username).and_then(|c| c.check(&f.code, unix));
        let (store, hash, user, recovery) =
            (unit.store.clone(), p.hash.clone(), p.user.clone(), hex::encode(recovery_hash(&f.code)));
        match blocking(move || store.pass_second_factor(&hash, &user, step.map(|s| s as i64), &recovery)).await {
            Ok(passed) => passed,
            Err(_) => return StatusCode::SERVICE_UNAVAILABLE.into_response(),
        }
    } else {
        // Enrolment: the code must come from the key this page proposed, which is then the member's.
        let secret = f.secret.clone().unwrap_or_default();
        let step = OneTimeCodes::new(&secret, ISSUER, &p.user.username).and_then(|c| c.check(&f.code, unix));
        if let Some(step) = step {
            let codes = new_recovery_codes();
            let hashes: Vec<String> = codes.iter().map(|c| hex::encode(recovery_hash(c))).collect();
            let (store, hash, user) = (unit.store.clone(), p.hash.clone(), p.user.clone());
            if blocking(move || store.enrol_totp(&hash, &user, &secret, &hashes, step as i64)).await.is_err() {
                return StatusCode::SERVICE_UNAVAILABLE.into_response();
            }
            return page(&unit, lang, recovery_codes_page(lang, &codes), StatusCode::OK);
        }
        false
    };
    if passed {
        return Redirect::to(&format!("/advisory?lang={}", lang.code())).into_response();
    }
    if attempt.failed(&unit).await.is_err() {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let status = if locked { StatusCode::TOO_MANY_REQUESTS } else { StatusCode::UNAUTHORIZED };
    let body = match (enrolled, &f.secret) {
        (None, Some(secret)) => enrol_form(&p, lang, true, secret),
        _ => code_form(&p, lang, true),
    };
    page(&unit, lang, body, status)
}

fn page(unit: &Unit, lang: Lang, body: Markup, status: StatusCode) -> Response {
    let mut res = layout(lang, &t(lang, "second_factor"), None, unit, body);
    *res.status_mut() = status;
    res
}

fn code_form(p: &Pending, lang: Lang, failed: bool) -> Markup {
    html! {
        h1 { (t(lang, "second_factor")) }
        @if failed { p.error role="alert" { (t(lang, "second_factor_wrong")) } }
        form method="post" action={ (PAGE) "?lang=" (lang.code()) } {
            input type="hidden" name="csrf" value=(p.csrf);
            label { (t(lang, "second_factor_code")) " "
                input name="code" autocomplete="one-time-code" required autofocus; }
            button type="submit" { (t(lang, "second_factor_confirm")) }
        }
    }
}

fn enrol_form(p: &Pending, lang: Lang, failed: bool, secret: &str) -> Markup {
    let url = OneTimeCodes::new(secret, ISSUER, &p.user.username).map(|c| c.url()).unwrap_or_default();
    let qr = qrcode::QrCode::new(url.as_bytes())
        .map(|q| q.render::<qrcode::render::svg::Color>().min_dimensions(200, 200).build())
        .unwrap_or_default();
    html! {
        h1 { (t(lang, "second_factor_enrol")) }
        p { (t(lang, "second_factor_enrol_intro")) }
        @if failed { p.error role="alert" { (t(lang, "second_factor_wrong")) } }
        div role="img" aria-label=(t(lang, "second_factor_qr")) { (PreEscaped(qr)) }
        p { (t(lang, "second_factor_secret")) " " code data-secret=(secret) { (secret) } }
        form method="post" action={ (PAGE) "?lang=" (lang.code()) } {
            input type="hidden" name="csrf" value=(p.csrf);
            input type="hidden" name="secret" value=(secret);
            label { (t(lang, "second_factor_first_code")) " "
                input name="code" inputmode="numeric" autocomplete="one-time-code" required autofocus; }
            button type="submit" { (t(lang, "second_factor_confirm")) }
        }
    }
}

fn recovery_codes_page(lang: Lang, codes: &[String]) -> Markup {
    html! {
        h1 { (t(lang, "recovery_codes")) }
        p { (t(lang, "recovery_codes_intro")) }
        ol.recovery-codes { @for c in codes { li { code { (c) } } } }
        p { a href={ "/advisory?lang=" (lang.code()) } { (t(lang, "recovery_codes_kept")) } }
    }
}

/// The second factor's page's passkey button, for a member who has passkeys (hidden until the script shows it).
async fn passkey_button(unit: &Unit, p: &Pending, lang: Lang) -> Markup {
    let (store, id) = (unit.store.clone(), p.user.id);
    let has = blocking(move || store.passkeys(id)).await.is_ok_and(|list| !list.is_empty());
    let l = lang.code();
    html! {
        @if has && unit.passkeys.available() {
            div #passkey-login hidden data-csrf=(p.csrf) data-next={ "/advisory?lang=" (l) } data-start="/advisory/login/passkey/start" data-finish="/advisory/login/passkey" data-failed=(varde_http::passkeys::text(l, "failed")) {
                button type="button" { (varde_http::passkeys::text(l, "use")) }
                p role="status" {}
            }
            script src="/advisory/passkeys.js" defer {}
        }
    }
}
