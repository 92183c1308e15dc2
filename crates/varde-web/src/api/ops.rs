//! Health and metrics for whoever runs Varde.

use crate::AppState;
use crate::http::error::{ApiError, ErrorBody};
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok`, or `degraded` while writes fail for the storage's sake (reads may still work).
    pub status: &'static str,
    /// Why it is degraded (e.g. "commit failed: database or disk is full").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub catalogue_version: String,
}

/// Liveness and readiness: 200 `ok` when the database answers and takes writes; 503 `degraded`, with the reason,
/// from a write that failed for the storage's sake until a write succeeds again, so a load balancer can route
/// around this instance.
#[utoipa::path(get, path = "/healthz", security(()), tag = "public",
    responses((status = 200, body = Health), (status = 503, description = "degraded: writes fail", body = Health), (status = 500, body = ErrorBody)))]
pub async fn healthz(State(state): State<AppState>) -> Result<Response, ApiError> {
    let catalogue_version = state.assessor.catalogue.version.clone();
    let reason = match state.app.queries().meta("schema").await {
        Ok(_) => state.app.queries().write_failure(),
        Err(e) if e.is_unavailable() => Some(e.to_string()),
        Err(e) => return Err(e.into()),
    };
    Ok(match reason {
        None => Json(Health { status: "ok", reason: None, catalogue_version }).into_response(),
        Some(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(Health { status: "degraded", reason: Some(reason), catalogue_version }),
        )
            .into_response(),
    })
}

/// Prometheus metrics in the text exposition format.
#[utoipa::path(get, path = "/metrics", security(()), tag = "public", responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
pub async fn metrics(State(state): State<AppState>, headers: axum::http::HeaderMap) -> impl IntoResponse {
    // OpenMetrics only for a scraper that asks for it; the classic text format otherwise.
    let openmetrics = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("application/openmetrics-text"));
    if openmetrics {
        (
            [(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")],
            state.metrics.render_openmetrics(),
        )
    } else {
        ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], state.metrics.render())
    }
}
