//! What a result changes: the technician records what the person says they will do when the result is handed back
//! (staff sample page, `PUT /api/v1/samples/{code}/intention`); the person tells later what happened, with their
//! code (result page, `POST /api/v1/results/{code}/outcome`). Fixed lists, optional, anonymous, tied to the sample.

use crate::AppState;
use crate::check::public::Lookup;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiJson, ApiPath, Auth};
use crate::http::i18n::t;
use crate::http::lang::LangQuery;
use crate::http::lang::negotiate;
use crate::http::limits::ClientAddress;
use axum::Json;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use jiff::Timestamp;
use maud::{Markup, html};
use serde::{Deserialize, Serialize};
use std::time::Instant;
use utoipa::ToSchema;
use varde_domain::auth::Principal;
use varde_domain::feedback::{Effect, Intention, Outcome, UnexpectedEffect};
use varde_domain::{ErrorCode, InvalidInput, Lang, SampleCode};

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/staff/samples/{code}/intention", post(intention_form))
        .route("/result/outcome", post(outcome_form))
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatedIntention {
    pub intention: Intention,
}

/// The use case the API and the staff page share: a technician of the sample's service records the intention.
async fn record_intention(state: &AppState, who: &Principal, code: &str, intention: Intention) -> Result<(), ApiError> {
    if who.role != varde_domain::auth::Role::Technician {
        return Err(ApiError::new(ErrorCode::TechnicianOnly, "the service that handed back the result records this"));
    }
    let sample = crate::api::samples::workable_sample(state, who, code).await?;
    state.app.set_intention(sample.sample.code, intention, who, Timestamp::now()).await?;
    Ok(())
}

/// Record what the person said they will do with the sample when the result was handed back (technician of the
/// sample's service). A fixed list; a second call replaces the first.
#[utoipa::path(put, path = "/api/v1/samples/{code}/intention", tag = "samples", request_body = StatedIntention,
    security(("bearer" = [])), params(("code" = String, Path, description = "The sample code")),
    responses((status = 200, body = StatedIntention), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn intention_api(
    State(state): State<AppState>,
    Auth(who): Auth,
    ApiPath(code): ApiPath<String>,
    ApiJson(body): ApiJson<StatedIntention>,
) -> Result<Json<StatedIntention>, ApiError> {
    record_intention(&state, &who, &code, body.intention).await?;
    Ok(Json(body))
}

/// The use case the API and the result page share: the look-up guard (limit and padding), the checks, the record.
async fn record_outcome(
    state: &AppState,
    address: &ClientAddress,
    code: &str,
    outcome: Outcome,
) -> Result<(), ApiError> {
    outcome.check()?;
    match crate::check::public::lookup(state, address, code, Instant::now()).await? {
        Lookup::Found(s) => Ok(state.app.record_outcome(s.sample.code, outcome, Timestamp::now()).await?),
        Lookup::NotFound => Err(ApiError::new(ErrorCode::ResultNotFound, "no result has that code")),
        Lookup::Limited => Err(ApiError::new(ErrorCode::TooManyRequests, "too many look-ups; try again later")),
    }
}

/// Tell what happened after the result (no login: the code is the key). Optional and anonymous; a fixed list; a
/// second telling replaces the first. Shares the result look-up's limit of tries per address.
#[utoipa::path(post, path = "/api/v1/results/{code}/outcome", security(()), tag = "public", request_body = Outcome,
    params(("code" = String, Path, description = "The code on the result card")),
    responses((status = 201, body = Outcome), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub async fn outcome_api(
    State(state): State<AppState>,
    address: ClientAddress,
    ApiPath(code): ApiPath<String>,
    ApiJson(outcome): ApiJson<Outcome>,
) -> Result<(StatusCode, Json<Outcome>), ApiError> {
    record_outcome(&state, &address, &code, outcome.clone()).await?;
    Ok((StatusCode::CREATED, Json(outcome)))
}

// ---- Pages ----

/// The staff sample page's form: what will the person do?
pub fn intention_form_markup(lang: Lang, code: SampleCode, csrf: &str, current: Option<Intention>) -> Markup {
    html! {
        section.feedback {
            h2 { (t(lang, "intention_heading")) }
            p { (t(lang, "intention_intro")) }
            form method="post" action={ "/staff/samples/" (code) "/intention?lang=" (lang.code()) } {
                input type="hidden" name="csrf" value=(csrf);
                @for i in Intention::ALL {
                    label.check {
                        @if current == Some(*i) { input type="radio" name="intention" value=(i.as_str()) checked required; }
                        @else { input type="radio" name="intention" value=(i.as_str()) required; }
                        " " (t(lang, &format!("intention_{}", i.as_str())))
                    }
                }
                button type="submit" { (t(lang, "intention_save")) }
            }
        }
    }
}

/// The technician's form: what the person said they will do.
#[derive(serde::Deserialize)]
pub struct IntentionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    intention: String,
}

async fn intention_form(
    State(state): State<AppState>,
    user: crate::http::session::SessionUser,
    Path(code): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
    Form(form): Form<IntentionForm>,
) -> Result<Response, ApiError> {
    let lang = negotiate(q.lang.as_deref(), &headers);
    if let Some(refused) = crate::check::technician::technician_post(lang, &user, &form.csrf)? {
        return Ok(refused);
    }
    let chosen = form.intention.as_str();
    let intention = Intention::parse(chosen)
        .ok_or_else(|| InvalidInput::invalid("intention", format!("'{chosen}' is not on the list")))?;
    record_intention(&state, &user.0.principal(), &code, intention).await?;
    Ok(Redirect::to(&format!("/staff/samples/{code}?lang={}", lang.code())).into_response())
}

/// The result page's form: what happened? (Optional; after the card.)
pub fn outcome_form_markup(lang: Lang, code: &str, told: bool) -> Markup {
    html! {
        section.feedback {
            h2 { (t(lang, "outcome_heading")) }
            @if told { p.notice role="status" { (t(lang, "outcome_thanks")) } }
            p { (t(lang, "outcome_intro")) }
            form method="post" action={ "/result/outcome?lang=" (lang.code()) } {
                input type="hidden" name="code" value=(code);
                fieldset {
                    legend { (t(lang, "outcome_what")) }
                    label.check { input type="radio" name="kind" value="did_not_use" required; " " (t(lang, "outcome_did_not_use")) }
                    @for e in Effect::ALL {
                        label.check { input type="radio" name="kind" value=(e.as_str()) required; " " (t(lang, &format!("outcome_{}", e.as_str()))) }
                    }
                }
                fieldset {
                    legend { (t(lang, "outcome_unexpected")) }
                    @for u in UnexpectedEffect::ALL {
                        label.check { input type="checkbox" name="unexpected" value=(u.as_str()); " " (t(lang, &format!("unexpected_{}", u.as_str()))) }
                    }
                }
                button type="submit" { (t(lang, "outcome_send")) }
            }
        }
    }
}

async fn outcome_form(
    State(state): State<AppState>,
    address: ClientAddress,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let lang = negotiate(q.lang.as_deref(), &headers);
    let (mut code, mut kind, mut unexpected) = (String::new(), String::new(), Vec::new());
    let mut unknown = None;
    for (name, value) in form_urlencoded::parse(&body) {
        match name.as_ref() {
            "code" => code = value.into_owned(),
            "kind" => kind = value.into_owned(),
            "unexpected" => match UnexpectedEffect::parse(&value) {
                Some(u) => unexpected.push(u),
                None => unknown = Some(value.into_owned()),
            },
            _ => {}
        }
    }
    let outcome = match (kind.as_str(), Effect::parse(&kind), unknown) {
        (_, _, Some(bad)) => Err(InvalidInput::invalid("unexpected", format!("'{bad}' is not on the list"))),
        ("did_not_use", _, None) => Ok(Outcome { used: false, effect: None, unexpected }),
        (_, Some(effect), None) => Ok(Outcome { used: true, effect: Some(effect), unexpected }),
        (other, None, None) => Err(InvalidInput::invalid("kind", format!("'{other}' is not on the list"))),
    };
    let result = match outcome {
        Ok(outcome) => record_outcome(&state, &address, &code, outcome).await,
        Err(e) => Err(e.into()),
    };
    match result {
        // Back to the card, which thanks them; the code stays out of the address bar's history as much as the
        // look-up form already allows.
        Ok(()) => {
            Redirect::to(&format!("/result?lang={}&code={}&told=1", lang.code(), urlencode(&code))).into_response()
        }
        Err(e) => {
            let status = e.status;
            let ErrorBody { error, message, .. } = e.body;
            let body = html! {
                h1 { (t(lang, "outcome_heading")) }
                p.error role="alert" { (crate::http::error::text(error, lang)) ": " (message) }
                p { a href={ "/result?lang=" (lang.code()) "&code=" (urlencode(&code)) } { (t(lang, "result_lookup")) } }
            };
            let mut page =
                crate::http::pages::page(crate::http::pages::layout(lang, t(lang, "outcome_heading"), "/result", body));
            *page.status_mut() = status;
            page
        }
    }
}

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
