//! The analysts' page: unsuppressed figures and the open signals with their samples, for national roles only.

use crate::AppState;
use crate::http::error::ApiError;
use crate::http::i18n::t;
use crate::http::lang::negotiate;
use crate::http::session::SessionUser;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::html;

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new().route("/analyst", get(page))
}

#[derive(serde::Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

async fn page(
    State(state): State<AppState>,
    SessionUser(user): SessionUser,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let lang = negotiate(q.lang.as_deref(), &headers);
    let who = user.principal();
    if !who.is_national() {
        let body = html! { h1 { (t(lang, "analyst")) } p.error role="alert" { (t(lang, "national_only")) } };
        return Ok((
            StatusCode::FORBIDDEN,
            crate::http::pages::page(crate::http::pages::staff_layout(
                &user,
                lang,
                t(lang, "analyst"),
                "/analyst",
                body,
            )),
        )
            .into_response());
    }
    let signals = state.app.signals(false, &who, jiff::Timestamp::now()).await?;
    let sections = crate::know::dashboard::sections(&state, lang, false).await?;
    let body = html! {
        h1 { (t(lang, "analyst")) }
        p { (t(lang, "analyst_intro")) }
        h2 { (t(lang, "open_signals")) }
        @if signals.is_empty() { p { (t(lang, "no_data")) } }
        @else {
            table {
                thead { tr { th scope="col" { (t(lang, "col_week")) } th scope="col" { (t(lang, "signal_stream")) } th scope="col" { (t(lang, "area")) } th scope="col" { (t(lang, "signal_observed")) } th scope="col" { (t(lang, "samples")) } } }
                tbody {
                    @for s in &signals {
                        tr {
                            td { (s.week) } td { (s.stream) } td { (s.area) }
                            td { (s.observed) " (" (format!("{:.1}", s.upperbound)) ")" }
                            td { (s.evidence.join(" ")) }
                        }
                    }
                }
            }
        }
        @for s in &sections { (s) }
    };
    let mut res =
        crate::http::pages::page(crate::http::pages::staff_layout(&user, lang, t(lang, "analyst"), "/analyst", body));
    res.headers_mut().insert(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-store"));
    Ok(res)
}
