//! Registering samples and analyses.

use crate::AppState;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::ApiPath;
use crate::http::extract::{ApiJson, Auth};
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde::Serialize;
use utoipa::ToSchema;
use varde_domain::ErrorCode;
use varde_domain::SampleCode;
use varde_domain::auth::Principal;
use varde_domain::finding::Finding;
use varde_domain::sample::{AnalysisInput, Sample, SampleInput};
use varde_store::{StoreError, StoredSample};

/// A sample as staff see it, with its current findings (most severe first) and the alerts it is evidence for.
#[derive(Serialize, ToSchema)]
pub struct SampleView {
    #[serde(flatten)]
    pub sample: Sample,
    pub fylke: String,
    pub findings: Vec<Finding>,
    /// Alert drafts (and published alerts) this sample started or joined.
    pub alert_drafts: Vec<AlertRefView>,
}

#[derive(Serialize, ToSchema)]
pub struct AlertRefView {
    pub id: i64,
    pub status: varde_domain::alert::AlertStatus,
    pub tier: varde_domain::Tier,
}

pub(crate) fn view(stored: StoredSample) -> SampleView {
    SampleView {
        sample: stored.sample,
        fylke: stored.fylke,
        findings: stored.findings,
        alert_drafts: stored
            .alerts
            .into_iter()
            .map(|a| AlertRefView { id: a.id, status: a.status, tier: a.tier })
            .collect(),
    }
}

/// A sample code from the path. A malformed code cannot name a sample, so it is "not found".
pub(crate) fn code_from_path(code: &str) -> Result<SampleCode, ApiError> {
    SampleCode::parse(code).map_err(|_| ApiError::new(ErrorCode::SampleNotFound, "no sample has that code"))
}

/// Whether `who` may read a sample of `service` (403 `wrong_service` for another service's technician).
pub(crate) fn check_read(who: &Principal, service: &varde_domain::service::ServiceSlug) -> Result<(), ApiError> {
    if who.may_read_sample_of(service) {
        Ok(())
    } else {
        Err(ApiError::new(ErrorCode::WrongService, format!("this token belongs to another service than '{service}'")))
    }
}

/// The sample a path names, for a technician of its service (not found, or 403 otherwise).
pub(crate) async fn workable_sample(state: &AppState, who: &Principal, code: &str) -> Result<StoredSample, ApiError> {
    let code = code_from_path(code)?;
    let stored = state.app.queries().sample(code).await?.ok_or(StoreError::UnknownSample)?;
    crate::check::samples::check_service(who, &stored.sample.service)?;
    Ok(stored)
}

/// The sample a path names, for a caller who may read it (not found, or 403 otherwise).
pub(crate) async fn readable_sample(state: &AppState, who: &Principal, code: &str) -> Result<StoredSample, ApiError> {
    let code = code_from_path(code)?;
    let stored = state.app.queries().sample(code).await?.ok_or(StoreError::UnknownSample)?;
    check_read(who, &stored.sample.service)?;
    Ok(stored)
}

/// Register a sample, with any analyses already made.
#[utoipa::path(
    post, path = "/api/v1/samples", tag = "samples",
    request_body = SampleInput,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Registered; `code` is what the person gets", body = SampleView),
        (status = 400, description = "Malformed JSON or a field of the wrong type", body = ErrorBody),
        (status = 401, description = "Missing or unknown token", body = ErrorBody),
        (status = 403, description = "The token belongs to another service", body = ErrorBody),
        (status = 413, description = "Body over 1 MiB", body = ErrorBody),
        (status = 422, description = "Unknown service, personal data in free text, or a value that makes no sense", body = ErrorBody),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    Auth(who): Auth,
    ApiJson(input): ApiJson<SampleInput>,
) -> Result<Response, ApiError> {
    let stored = crate::check::samples::register(&state, &who, input).await?;
    let location = format!("/api/v1/samples/{}", stored.sample.code);
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], Json(view(stored))).into_response())
}

/// A sample's full record. Technicians see their own service's samples; reviewers and admins any, and each such read
/// is written to the audit log.
#[utoipa::path(
    get, path = "/api/v1/samples/{code}", tag = "samples",
    params(("code" = String, Path, description = "The sample code, e.g. 7KQ2-MX9P-4RTB")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = SampleView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    Auth(who): Auth,
    ApiPath(code): ApiPath<String>,
) -> Result<Json<SampleView>, ApiError> {
    let code = code_from_path(&code)?;
    let sample = if who.is_national() {
        state.app.sample_audited(code, &who, Timestamp::now()).await?
    } else {
        state.app.queries().sample(code).await?
    };
    let sample = sample.ok_or(StoreError::UnknownSample)?;
    check_read(&who, &sample.sample.service)?;
    Ok(Json(view(sample)))
}

/// Add an analysis to a sample, or amend one (`amends`: the id of the analysis it replaces). Findings are
/// recomputed.
#[utoipa::path(
    post, path = "/api/v1/samples/{code}/analyses", tag = "samples",
    params(("code" = String, Path, description = "The sample code")),
    request_body = AnalysisInput,
    security(("bearer" = [])),
    responses(
        (status = 201, body = SampleView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
    )
)]
pub async fn add_analysis(
    State(state): State<AppState>,
    Auth(who): Auth,
    ApiPath(code): ApiPath<String>,
    ApiJson(input): ApiJson<AnalysisInput>,
) -> Result<(StatusCode, Json<SampleView>), ApiError> {
    let current = workable_sample(&state, &who, &code).await?;
    let sample = crate::check::samples::record_analysis(&state, &who, &current, input).await?;
    Ok((StatusCode::CREATED, Json(view(sample))))
}
