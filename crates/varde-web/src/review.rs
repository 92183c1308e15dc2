//! Reviewers' pages: the queue of drafts, each draft with its texts in three languages to edit, and publishing.

use crate::AppState;
use crate::error::ApiError;
use crate::i18n::t;
use crate::lang::negotiate;
use crate::session::SessionUser;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::html;
use std::collections::HashMap;
use varde_domain::ErrorCode;
use varde_domain::alert::{AlertAction, AlertEdit, AlertStatus};
use varde_domain::auth::Role;
use varde_domain::{Lang, Localized};
use varde_store::AlertFilter;

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/review", get(queue))
        .route("/review/{id}", get(draft))
        .route("/review/{id}/{action}", post(action))
}

#[derive(serde::Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

fn reviewers_only(lang: Lang, user: &SessionUser) -> Option<Response> {
    (user.0.role != Role::Reviewer).then(|| {
        let body = html! { h1 { (t(lang, "review")) } p.error role="alert" { (t(lang, "reviewers_only")) } };
        (StatusCode::FORBIDDEN, crate::pages::page(crate::pages::layout(lang, t(lang, "review"), "/review", body)))
            .into_response()
    })
}

async fn queue(
    State(state): State<AppState>,
    user: SessionUser,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let lang = negotiate(q.lang.as_deref(), &headers);
    if let Some(refused) = reviewers_only(lang, &user) {
        return Ok(refused);
    }
    let drafts =
        state.store.alerts(AlertFilter { statuses: vec![AlertStatus::Draft], ..AlertFilter::default() }).await?;
    let body = html! {
        h1 { (t(lang, "review")) }
        h2 { (t(lang, "drafts")) }
        @if drafts.is_empty() { p { (t(lang, "no_data")) } }
        ul.alerts {
            @for a in &drafts {
                li {
                    span class={ "tier tier-" (a.tier.as_str()) } { (state.assessor.templates.tier_word(a.tier).get(lang)) } " "
                    a href={ "/review/" (a.id) "?lang=" (lang.code()) } { (a.content.title.get(lang)) }
                    p.meta { (t(lang, "samples")) ": " (a.evidence_count) }
                }
            }
        }
    };
    Ok(crate::pages::page(crate::pages::layout(lang, t(lang, "review"), "/review", body)))
}

async fn draft(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let lang = negotiate(q.lang.as_deref(), &headers);
    if let Some(refused) = reviewers_only(lang, &user) {
        return Ok(refused);
    }
    let alert =
        state.store.alert(id).await?.ok_or_else(|| ApiError::new(ErrorCode::AlertNotFound, "no alert has that id"))?;
    let c = &alert.content;
    let field = |name: &str, label: &str, text: &Localized, rows: u8| {
        html! {
            fieldset {
                legend { (label) }
                @for l in Lang::ALL {
                    label for={ (name) "_" (l.code()) } { (l.code()) }
                    textarea id={ (name) "_" (l.code()) } name={ (name) "_" (l.code()) } rows=(rows) lang=(l.code()) { (text.get(l)) }
                }
            }
        }
    };
    let evidence = state.store.alert_evidence(id, &user.0.principal(), jiff::Timestamp::now()).await?;
    let texts = html! {
        (field("title", t(lang, "title"), &c.title, 2))
        (field("body", t(lang, "body"), &c.body, 4))
        (field("advice", t(lang, "advice_label"), &c.advice, 3))
    };
    let body = html! {
        h1 { (c.title.get(lang)) }
        p { span class={ "tier tier-" (alert.tier.as_str()) } { (state.assessor.templates.tier_word(alert.tier).get(lang)) } " · " (alert.status.as_str()) " · " (t(lang, "samples")) ": " (alert.evidence_count) }
        @match alert.status {
            AlertStatus::Draft => {
                form.concern method="post" action={ "/review/" (id) "/edit?lang=" (lang.code()) } {
                    input type="hidden" name="csrf" value=(user.0.csrf);
                    (texts)
                    button type="submit" { (t(lang, "save")) }
                }
                form.concern method="post" action={ "/review/" (id) "/publish?lang=" (lang.code()) } {
                    input type="hidden" name="csrf" value=(user.0.csrf);
                    button type="submit" { (t(lang, "publish")) }
                }
                // Setting a draft aside never makes it public (it is discarded, not withdrawn).
                form.concern method="post" action={ "/review/" (id) "/discard?lang=" (lang.code()) } {
                    input type="hidden" name="csrf" value=(user.0.csrf);
                    label for="discard-note" { (t(lang, "discard_reason")) }
                    input id="discard-note" name="note";
                    button type="submit" { (t(lang, "discard")) }
                }
            }
            AlertStatus::Published => {
                form.concern method="post" action={ "/review/" (id) "/update?lang=" (lang.code()) } {
                    input type="hidden" name="csrf" value=(user.0.csrf);
                    (texts)
                    button type="submit" { (t(lang, "update")) }
                }
                form.concern method="post" action={ "/review/" (id) "/withdraw?lang=" (lang.code()) } {
                    input type="hidden" name="csrf" value=(user.0.csrf);
                    label for="note" { (t(lang, "withdraw_reason")) }
                    input id="note" name="note" required;
                    button type="submit" { (t(lang, "withdraw")) }
                }
            }
            _ => { p { a href={ "/alerts/" (id) "?lang=" (lang.code()) } { (alert.status.as_str()) } } }
        }
        h2 { (t(lang, "evidence")) }
        table {
            thead { tr { th scope="col" { (t(lang, "code")) } th scope="col" { (t(lang, "form")) } th scope="col" { (t(lang, "findings")) } } }
            tbody {
                @for s in &evidence {
                    tr {
                        td { (s.sample.code) }
                        td { (varde_domain::alert::form_word(s.sample.form, lang)) }
                        td { (s.findings.iter().map(|f| f.rule.clone()).collect::<Vec<_>>().join(", ")) }
                    }
                }
            }
        }
        h2 { (t(lang, "preview")) }
        section.preview { (crate::pages::alert_body(&state, &alert, lang)) }
    };
    Ok(crate::pages::page(crate::pages::layout(lang, c.title.get(lang), &format!("/review/{id}"), body)))
}

fn localized(f: &HashMap<String, String>, name: &str) -> Option<Localized> {
    let get = |l: &str| f.get(&format!("{name}_{l}")).cloned();
    Some(Localized { nb: get("nb")?, nn: get("nn")?, en: get("en")? })
}

/// Every reviewer action goes the same way: reviewers only, the form's CSRF token, then the store's transition.
/// An edit returns to the review page; the others show the alert as the public now sees it.
async fn act(
    state: &AppState,
    user: &SessionUser,
    id: i64,
    lang: Lang,
    f: &HashMap<String, String>,
    action: AlertAction,
) -> Result<Response, ApiError> {
    if let Some(refused) = reviewers_only(lang, user) {
        return Ok(refused);
    }
    user.check_csrf(f.get("csrf").map_or("", String::as_str))?;
    let change = match action {
        AlertAction::Edit | AlertAction::Update => AlertEdit {
            title: localized(f, "title"),
            body: localized(f, "body"),
            advice: localized(f, "advice"),
            ..AlertEdit::default()
        },
        AlertAction::Withdraw | AlertAction::Discard => {
            AlertEdit { note: f.get("note").cloned().filter(|n| !n.trim().is_empty()), ..AlertEdit::default() }
        }
        AlertAction::Publish => AlertEdit::default(),
    };
    state.store.change_alert(id, action, change, &user.0.principal(), jiff::Timestamp::now()).await?;
    // An edit returns to the draft, a discarded draft to the queue (it has no public page), the rest to the alert as
    // the public now sees it.
    let to = match action {
        AlertAction::Edit => format!("/review/{id}"),
        AlertAction::Discard => "/review".to_owned(),
        _ => format!("/alerts/{id}"),
    };
    Ok(Redirect::to(&format!("{to}?lang={}", lang.code())).into_response())
}

/// `/review/{id}/edit|publish|update|withdraw|discard`: the page forms' one way to a reviewer action.
async fn action(
    State(state): State<AppState>,
    user: SessionUser,
    Path((id, action)): Path<(i64, String)>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let action = match action.as_str() {
        "edit" => AlertAction::Edit,
        "publish" => AlertAction::Publish,
        "update" => AlertAction::Update,
        "withdraw" => AlertAction::Withdraw,
        "discard" => AlertAction::Discard,
        _ => return Err(ApiError::new(ErrorCode::NotFound, "no such reviewer action")),
    };
    act(&state, &user, id, negotiate(q.lang.as_deref(), &headers), &f, action).await
}
