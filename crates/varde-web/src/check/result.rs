//! The public result look-up: the person types the code from their card. No login. Rate-limited per address, and an
//! unknown code, a malformed one and a known one take the same time and an unknown or malformed one the same answer,
//! so codes cannot be found by trying.

use crate::AppState;
use crate::check::public::{Lookup, lookup};
use crate::http::error::ApiError;
use crate::http::i18n::t;
use crate::http::lang::negotiate;
use crate::http::limits::ClientAddress;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::html;
use std::time::Instant;

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new().route("/result", get(page))
}

#[derive(serde::Deserialize)]
pub struct ResultQuery {
    lang: Option<String>,
    code: Option<String>,
    /// Set after the person told what happened: the page thanks them.
    told: Option<String>,
}

async fn page(
    State(state): State<AppState>,
    Query(q): Query<ResultQuery>,
    headers: HeaderMap,
    address: ClientAddress,
) -> Result<Response, ApiError> {
    let started = Instant::now();
    let lang = negotiate(q.lang.as_deref(), &headers);
    let form = html! {
        form.concern method="get" action="/result" {
            input type="hidden" name="lang" value=(lang.code());
            label for="code" { (t(lang, "code")) }
            input id="code" name="code" autocomplete="off" spellcheck="false" value=(q.code.clone().unwrap_or_default());
            button type="submit" { (t(lang, "look_up")) }
        }
    };
    let Some(code) = q.code.as_deref().filter(|c| !c.trim().is_empty()) else {
        let body = html! { h1 { (t(lang, "result_lookup")) } p { (t(lang, "result_intro")) } (form) };
        return Ok(crate::http::pages::page(crate::http::pages::layout(
            lang,
            t(lang, "result_lookup"),
            "/result",
            body,
        )));
    };
    let stored = match lookup(&state, &address, code, started).await? {
        Lookup::Limited => {
            let body =
                html! { h1 { (t(lang, "result_lookup")) } p.error role="alert" { (t(lang, "too_many_lookups")) } };
            return Ok((
                StatusCode::TOO_MANY_REQUESTS,
                crate::http::pages::page(crate::http::pages::layout(lang, t(lang, "result_lookup"), "/result", body)),
            )
                .into_response());
        }
        Lookup::NotFound => None,
        Lookup::Found(s) => Some(s),
    };
    let (status, body) = match &stored {
        None => (
            StatusCode::NOT_FOUND,
            html! { h1 { (t(lang, "result_lookup")) } p.error role="alert" { (t(lang, "result_not_found")) } (form) },
        ),
        Some(s) => {
            let r = crate::check::public::public_result(&state, s, lang);
            (
                StatusCode::OK,
                html! {
                    h1 { (t(lang, "result_lookup")) } p.code { (r.code) }
                    @if r.amended { p.notice role="status" { (t(lang, "result_amended")) } }
                    h2 { (t(lang, "findings")) }
                    @if r.findings.is_empty() { p { (t(lang, "no_findings")) } }
                    @for f in &r.findings {
                    div class={ "finding finding-" (f.tier.as_str()) } { strong { (state.assessor.templates.tier_word(f.tier).get(lang)) } ": " (f.explanation) }
                }
                    h2 { (t(lang, "what_was_found")) }
                    ul { @for a in &r.analyses {
                        li { (state.assessor.methods.name(a.method).get(lang)) ": "
                            @if let Some(res) = a.result { (t(lang, res.as_str())) }
                            (a.components.iter().map(|c| c.name.clone()).collect::<Vec<_>>().join(", ")) }
                    } }
                    @for a in &r.advice { p { strong { (a.name) } ": " (a.advice) } }
                    h2 { (t(lang, "limits")) }
                    @for a in &r.analyses { p { (a.limits) } }
                    (crate::check::feedback::outcome_form_markup(lang, &r.code, q.told.is_some()))
                },
            )
        }
    };
    let mut res =
        (status, crate::http::pages::page(crate::http::pages::layout(lang, t(lang, "result_lookup"), "/result", body)))
            .into_response();
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}
