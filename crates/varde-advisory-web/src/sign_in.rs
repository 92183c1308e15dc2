//! Members sign in through the kommune's identity provider (`--advisory-oidc FILE`, e.g. the kommune's Entra ID),
//! as staff do on the drug-checking side (`varde_http::oidc`), under this module's own rule: only a member an admin
//! linked to an identity (`varde advisory link NAME --issuer … --claim oid --value …`) gets in. A sign-in makes no
//! member. The provider's authentication (the kommune's multi-factor policy) stands for the second factor.
//!
//! Refusals are shown with their reason in the reader's language and audited in the module's own log
//! (`login.refused REASON`), and leave no session; success is audited as `login.oidc ISSUER`.

use crate::i18n::{Lang, negotiate};
use crate::pages::{blocking, layout_going_on};
use crate::{LOGIN_PAGE, Unit, start_session};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use maud::html;
use varde_advisory_store::User;
use varde_http::oidc::{Callback, FLOW_SECONDS, Flow, Refusal, text};

/// The cookie that carries a sign-in's flow, only ever sent to `/advisory`.
const FLOW_COOKIE: &str = "varde_advisory_sign_in";

pub fn routes() -> axum::Router<Unit> {
    axum::Router::new()
        .route("/advisory/login/oidc/{issuer}", get(begin))
        .route("/advisory/login/oidc/{issuer}/callback", get(finish))
}

#[derive(serde::Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

fn redirect_uri(unit: &Unit, issuer: &str) -> String {
    format!("{}/advisory/login/oidc/{issuer}/callback", unit.settings.public_url)
}

fn flow_cookie(unit: &Unit, value: &str, max_age: i64) -> HeaderValue {
    varde_http::cookies::set_lax(FLOW_COOKIE, value, "/advisory", max_age, unit.settings.secure_cookies)
}

async fn begin(
    State(unit): State<Unit>,
    Path(issuer): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = negotiate(q.lang.as_deref(), &headers);
    match unit.settings.issuers.begin(&issuer, &redirect_uri(&unit, &issuer), None, lang.code()).await {
        Ok((to, flow)) => {
            let mut res = Redirect::to(&to).into_response();
            res.headers_mut().append(header::SET_COOKIE, flow_cookie(&unit, &flow.encode(), FLOW_SECONDS));
            res
        }
        Err(refusal) => refused(&unit, lang, &issuer, &refusal).await,
    }
}

async fn finish(
    State(unit): State<Unit>,
    Path(issuer): Path<String>,
    Query(answer): Query<Callback>,
    headers: HeaderMap,
) -> Response {
    let flow =
        varde_http::cookies::read(&headers, FLOW_COOKIE).and_then(|c| Flow::decode(&c)).filter(|f| f.issuer == issuer);
    let lang = negotiate(flow.as_ref().map(|f| f.lang.as_str()), &headers);
    let Some(flow) = flow else {
        let refusal = Refusal { reason: "state", detail: "no sign-in was started in this browser".into() };
        return refused(&unit, lang, &issuer, &refusal).await;
    };
    let vouched = match unit.settings.issuers.finish(&flow, &answer, &redirect_uri(&unit, &issuer)).await {
        Ok(v) => v,
        Err(refusal) => return refused(&unit, lang, &issuer, &refusal).await,
    };
    let (store, name) = (unit.store.clone(), issuer.clone());
    let links = match blocking(move || store.identities(&name)).await {
        Ok(links) => links,
        Err(_) => return StatusCode::SERVICE_UNAVAILABLE.into_response(),
    };
    let member: Option<User> = links
        .into_iter()
        .find(|(claim, value, _)| varde_domain::sign_in::carries(&vouched.claims, claim, value))
        .map(|(_, _, user)| user);
    let Some(member) = member else {
        let detail = format!("no member is linked to subject '{}'", vouched.subject);
        return refused(&unit, lang, &issuer, &Refusal { reason: "no_member", detail }).await;
    };
    let (store, who, name) = (unit.store.clone(), member.clone(), issuer.clone());
    if blocking(move || store.signed_in(&who, &name)).await.is_err() {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let cookie = match start_session(&unit, &member, true).await {
        Ok(cookie) => cookie,
        Err(res) => return res,
    };
    let to = format!("/advisory?lang={}", lang.code());
    let body = html! {
        h1 { (text(lang.code(), "signed_in")) }
        p { a href=(to) { (text(lang.code(), "continue")) } }
    };
    let mut res = layout_going_on(lang, text(lang.code(), "signed_in"), None, &unit, Some(&to), body);
    res.headers_mut().append(header::SET_COOKIE, cookie);
    res.headers_mut().append(header::SET_COOKIE, flow_cookie(&unit, "", 0));
    res
}

/// A refused sign-in: audited in the module's log (for an issuer that is configured), shown with its reason.
async fn refused(unit: &Unit, lang: Lang, issuer: &str, refusal: &Refusal) -> Response {
    tracing::warn!(issuer, reason = refusal.reason, detail = %refusal.detail, "advisory sign-in refused");
    if unit.settings.issuers.buttons().any(|(name, _)| name == issuer) {
        let (store, issuer, reason) = (unit.store.clone(), issuer.to_owned(), refusal.reason);
        if blocking(move || store.sign_in_refused(&issuer, reason)).await.is_err() {
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    }
    let status = match refusal.reason {
        "no_member" => StatusCode::FORBIDDEN,
        "unavailable" => StatusCode::SERVICE_UNAVAILABLE,
        "unknown_issuer" => StatusCode::NOT_FOUND,
        _ => StatusCode::UNAUTHORIZED,
    };
    let body = html! {
        h1 { (text(lang.code(), "refused")) }
        p.error role="alert" data-code="sign_in_refused" data-reason=(refusal.reason) {
            (text(lang.code(), &format!("refused_{}", refusal.reason)))
        }
        p { a href={ (LOGIN_PAGE) "?lang=" (lang.code()) } { (text(lang.code(), "again")) } }
    };
    let mut res = layout_going_on(lang, text(lang.code(), "refused"), None, unit, None, body);
    *res.status_mut() = status;
    res.headers_mut().append(header::SET_COOKIE, flow_cookie(unit, "", 0));
    res
}
