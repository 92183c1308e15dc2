//! The public concern-report form (bekymringsmelding): anonymous, no login, no JavaScript, rate-limited per address,
//! with a honeypot for robots and the same refusal of personal data as everywhere else.

use crate::AppState;
use crate::config::sessions::CONCERN_CSRF_COOKIE as CSRF_COOKIE;
use crate::http::error::ApiError;
use crate::http::i18n::t;
use crate::http::lang::LangQuery;
use crate::http::lang::negotiate;
use crate::http::limits::ClientAddress;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::{Markup, html};
use varde_domain::ErrorCode;
use varde_domain::Lang;
use varde_domain::indicator::ConcernInput;

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new().route("/concern", get(form).post(submit))
}

fn page(state: &AppState, lang: Lang, input: &ConcernInput, error: Option<&str>, csrf: &str) -> Markup {
    let body = html! {
        h1 { (t(lang, "concern_title")) }
        p { (t(lang, "concern_intro")) }
        @if let Some(e) = error { p.error role="alert" { (e) } }
        form.concern method="post" action={ "/concern?lang=" (lang.code()) } {
            input type="hidden" name="csrf" value=(csrf);
            label for="happened" { (t(lang, "concern_happened")) }
            textarea id="happened" name="happened" rows="5" maxlength="2000" required { (input.happened) }
            label for="kommune" { (t(lang, "concern_kommune")) }
            // By name, grouped by fylke, in alphabetical order: typing the first letters finds a kommune.
            select id="kommune" name="kommune" required {
                option value="" { (t(lang, "concern_choose")) }
                @for (fylke, kommuner) in kommuner_by_fylke(state) {
                    optgroup label=(fylke) {
                        @for k in kommuner {
                            @if k.number == input.kommune { option value=(k.number) selected { (k.name) } }
                            @else { option value=(k.number) { (k.name) } }
                        }
                    }
                }
            }
            label for="believed" { (t(lang, "concern_believed")) }
            input id="believed" name="believed" maxlength="80" value=(input.believed.clone().unwrap_or_default());
            label for="looked_like" { (t(lang, "concern_looked_like")) }
            input id="looked_like" name="looked_like" maxlength="80" value=(input.looked_like.clone().unwrap_or_default());
            div.hp aria-hidden="true" {
                label for="website" { (t(lang, "concern_leave_empty")) }
                input id="website" name="website" tabindex="-1" autocomplete="off";
            }
            button type="submit" { (t(lang, "concern_send")) }
        }
    };
    crate::http::pages::layout(lang, t(lang, "concern_title"), "/concern", body)
}

/// Norwegian alphabetical order: æ, ø and å after z, in that order (Unicode puts å first).
fn norwegian_order(name: &str) -> Vec<u32> {
    name.to_lowercase()
        .chars()
        .map(|c| match c {
            'æ' => u32::from('z') + 1,
            'ø' => u32::from('z') + 2,
            'å' => u32::from('z') + 3,
            c => u32::from(c),
        })
        .collect()
}

/// The kommuner by fylke, both by name as people look for them.
fn kommuner_by_fylke(state: &AppState) -> Vec<(&str, Vec<&varde_domain::geo::Kommune>)> {
    let geo = &state.assessor.geography;
    let mut fylker: Vec<(&str, Vec<&varde_domain::geo::Kommune>)> = geo
        .fylker()
        .iter()
        .map(|f| {
            let mut kommuner: Vec<_> = geo.kommuner().iter().filter(|k| k.fylke == f.number).collect();
            kommuner.sort_by_key(|k| norwegian_order(&k.name));
            (f.public_name(), kommuner)
        })
        .filter(|(_, k)| !k.is_empty())
        .collect();
    fylker.sort_by_key(|(name, _)| norwegian_order(name));
    fylker
}

/// The page with a fresh anti-forgery token in the form and in its cookie.
fn with_token(state: &AppState, status: StatusCode, render: impl FnOnce(&str) -> Markup) -> Response {
    let token = crate::http::session::random_token();
    let mut res = (status, crate::http::pages::page(render(&token))).into_response();
    res.headers_mut()
        .append(axum::http::header::SET_COOKIE, crate::http::session::set_cookie(state, CSRF_COOKIE, &token, 3600));
    res.headers_mut().insert(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-store"));
    res
}

async fn form(State(state): State<AppState>, Query(q): Query<LangQuery>, headers: HeaderMap) -> Response {
    let lang = negotiate(q.lang.as_deref(), &headers);
    with_token(&state, StatusCode::OK, |token| page(&state, lang, &ConcernInput::default(), None, token))
}

async fn submit(
    State(state): State<AppState>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
    address: ClientAddress,
    Form(input): Form<ConcernInput>,
) -> Result<Response, ApiError> {
    let lang = negotiate(q.lang.as_deref(), &headers);
    let forged = !crate::http::session::cookie(&state, &headers, CSRF_COOKIE)
        .is_some_and(|c| crate::http::session::same(&c, input.csrf.as_deref().unwrap_or("")));
    if forged {
        return Ok(with_token(&state, StatusCode::FORBIDDEN, |token| {
            page(&state, lang, &input, Some(t(lang, "form_expired")), token)
        }));
    }
    if !state.limits.allow(&*state.app, crate::config::limits::CONCERNS_PER_ADDRESS, &address.who()).await? {
        let body = html! { h1 { (t(lang, "concern_title")) } p.error role="alert" { (t(lang, "concern_too_many")) } };
        return Ok((
            StatusCode::TOO_MANY_REQUESTS,
            crate::http::pages::page(crate::http::pages::layout(lang, t(lang, "concern_title"), "/concern", body)),
        )
            .into_response());
    }
    let thanks = || {
        // Where to go next: the warnings in force, and help now.
        let body = html! {
            h1 { (t(lang, "concern_title")) }
            p role="status" { (t(lang, "concern_thanks")) }
            p { a href={ "/alerts?lang=" (lang.code()) } { (t(lang, "concern_see_warnings")) } }
            h2 { (t(lang, "help_lines")) }
            ul {
                li { (t(lang, "help_113")) }
                li { (t(lang, "help_poison")) }
                li { (t(lang, "help_rusinfo")) }
            }
        };
        crate::http::pages::page(crate::http::pages::layout(lang, t(lang, "concern_title"), "/concern", body))
    };
    // A robot gets the same thanks as a person, so it learns nothing; its report is not kept.
    if input.is_robot() {
        return Ok(thanks());
    }
    match input.validate(&state.assessor.geography) {
        Ok(report) => {
            state.app.add_concern(report, jiff::Timestamp::now()).await?;
            Ok(thanks())
        }
        Err(e) => {
            let key = match (e.code, e.field.as_str()) {
                (ErrorCode::PersonalDataRefused, _) => "concern_err_personal",
                (_, "happened") => "concern_err_happened",
                (_, "kommune") => "concern_err_kommune",
                _ => "concern_err_other",
            };
            Ok(with_token(&state, StatusCode::UNPROCESSABLE_ENTITY, |token| {
                page(&state, lang, &input, Some(t(lang, key)), token)
            }))
        }
    }
}
