//! Signals for analysts: what is rising, with the samples behind it, and one action to draft an alert from it.

use crate::AppState;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiPath, ApiQuery};
use crate::http::extract::{Auth, require_national, require_reviewer};
use axum::Json;
use axum::extract::State;
use jiff::Timestamp;
use serde::Deserialize;
use utoipa::IntoParams;
use varde_domain::alert::Alert;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SignalQuery {
    /// Also drafted and dismissed signals (default: open only).
    all: Option<bool>,
}

/// Signals, newest week first, each with the codes of its samples (reviewers and admins; audited).
#[utoipa::path(get, path = "/api/v1/signals", tag = "signals", params(SignalQuery), security(("bearer" = [])),
    responses((status = 200, description = "Signals with their evidence"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Auth(who): Auth,
    ApiQuery(q): ApiQuery<SignalQuery>,
) -> Result<Json<Vec<varde_store::Signal>>, ApiError> {
    require_national(&who)?;
    Ok(Json(state.app.signals(q.all.unwrap_or(false), &who, Timestamp::now()).await?))
}

/// Make an alert draft from a signal's samples (reviewers).
#[utoipa::path(post, path = "/api/v1/signals/{id}/draft", tag = "signals", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = Alert), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn draft(
    State(state): State<AppState>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Alert>, ApiError> {
    require_reviewer(&who)?;
    Ok(Json(state.app.draft_from_signal(id, &who, Timestamp::now()).await?))
}
