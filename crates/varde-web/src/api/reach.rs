//! Whether warnings reached the services that can act on them: technicians acknowledge a published warning for
//! their service ("seen and passed on"), and reviewers see which services in its area have and which are pending,
//! with severe alerts still pending after four hours marked as escalated.

use crate::AppState;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiPath, Auth, require_national};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use jiff::Timestamp;
use serde::Serialize;
use utoipa::ToSchema;
use varde_domain::ErrorCode;
use varde_domain::alert::{Alert, AlertStatus, overdue, reaches};
use varde_domain::auth::{Principal, Role};

#[derive(Serialize, ToSchema)]
pub struct Acknowledgement {
    pub alert_id: i64,
    pub service: String,
    #[schema(value_type = String, format = DateTime)]
    pub acknowledged_at: Timestamp,
}

/// One service an alert reaches.
#[derive(Serialize, ToSchema)]
pub struct ServiceCoverage {
    pub service: String,
    pub name: String,
    pub fylke: String,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub acknowledged_at: Option<Timestamp>,
    /// A severe alert this service has not acknowledged four hours after publication.
    pub escalated: bool,
}

#[derive(Serialize, ToSchema)]
pub struct Coverage {
    pub alert_id: i64,
    pub reached: usize,
    pub acknowledged: usize,
    pub pending: usize,
    pub services: Vec<ServiceCoverage>,
}

/// The services `alert` reaches, acknowledged first, then pending (escalated first).
pub async fn coverage(state: &AppState, alert: &Alert, now: Timestamp) -> Result<Coverage, ApiError> {
    let services = state.app.queries().services().await?;
    coverage_among(state, alert, &services, now).await
}

/// [`coverage`] among `services` already read (a page with many alerts reads them once).
pub async fn coverage_among(
    state: &AppState,
    alert: &Alert,
    services: &[varde_domain::service::Service],
    now: Timestamp,
) -> Result<Coverage, ApiError> {
    let acks = state.app.queries().acknowledgements(alert.id).await?;
    let mut services: Vec<ServiceCoverage> = services
        .iter()
        .filter(|s| reaches(alert, &s.fylke, state.reach.severe_everywhere))
        .cloned()
        .map(|s| {
            let acknowledged_at = acks.iter().find(|(slug, _)| *slug == s.slug).map(|(_, at)| *at);
            ServiceCoverage {
                escalated: acknowledged_at.is_none()
                    && alert.status == AlertStatus::Published
                    && overdue(alert, now, state.reach.escalate_after),
                service: s.slug.to_string(),
                name: s.name,
                fylke: s.fylke,
                acknowledged_at,
            }
        })
        .collect();
    services.sort_by_key(|s| (s.acknowledged_at.is_none(), !s.escalated, s.service.clone()));
    let acknowledged = services.iter().filter(|s| s.acknowledged_at.is_some()).count();
    Ok(Coverage {
        alert_id: alert.id,
        reached: services.len(),
        acknowledged,
        pending: services.len() - acknowledged,
        services,
    })
}

/// The published alerts a technician's service has yet to acknowledge, most severe first.
pub async fn pending_for(state: &AppState, who: &Principal) -> Result<Vec<Alert>, ApiError> {
    let Some(slug) = &who.service else { return Ok(Vec::new()) };
    let Some(service) = state.app.queries().service(slug).await? else { return Ok(Vec::new()) };
    let filter = varde_store::AlertFilter { statuses: vec![AlertStatus::Published], ..Default::default() };
    let now = Timestamp::now();
    let acknowledged = state.app.queries().acknowledged_by(slug).await?;
    let mut pending = Vec::new();
    for a in state.app.queries().alerts(filter).await? {
        let a = crate::api::alerts::as_of(a, now);
        if a.status == AlertStatus::Published
            && reaches(&a, &service.fylke, state.reach.severe_everywhere)
            && !acknowledged.contains(&a.id)
        {
            pending.push(a);
        }
    }
    pending.sort_by_key(|a| std::cmp::Reverse(a.tier));
    Ok(pending)
}

/// The technician's service acknowledges an alert, checked as the API and the staff page both do.
pub async fn acknowledge(state: &AppState, who: &Principal, id: i64) -> Result<(bool, Acknowledgement), ApiError> {
    let slug = acknowledging_service(who)?;
    let alert = crate::api::alerts::existing(state, id).await?;
    let now = Timestamp::now();
    let alert = crate::api::alerts::as_of(alert, now);
    if !alert.status.is_public() {
        return Err(ApiError::new(ErrorCode::AlertNotFound, "no alert has that id"));
    }
    let service = state
        .app
        .queries()
        .service(&slug)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::UnknownService, "unknown service"))?;
    if alert.status != AlertStatus::Published || !reaches(&alert, &service.fylke, state.reach.severe_everywhere) {
        return Err(ApiError::new(
            ErrorCode::InvalidValue,
            "this alert does not ask your service to acknowledge it (not a current warning for your area)",
        ));
    }
    let new = state.app.acknowledge(id, &slug, who, now).await?;
    let at =
        state.app.queries().acknowledgements(id).await?.into_iter().find(|(s, _)| *s == slug).map_or(now, |(_, at)| at);
    Ok((new, Acknowledgement { alert_id: id, service: slug.to_string(), acknowledged_at: at }))
}

/// The service a technician acknowledges warnings for (national roles acknowledge for none).
fn acknowledging_service(who: &Principal) -> Result<varde_domain::service::ServiceSlug, ApiError> {
    if who.role != Role::Technician {
        return Err(ApiError::new(ErrorCode::TechnicianOnly, "a service's technicians acknowledge warnings for it"));
    }
    who.service.clone().ok_or_else(|| ApiError::new(ErrorCode::TechnicianOnly, "this token has no service"))
}

/// The technician's service takes back its acknowledgement of an alert, within a minute of giving it (a tap on the
/// wrong warning); `AlertNotFound` when the service has none to take back.
pub async fn undo_acknowledgement(state: &AppState, who: &Principal, id: i64) -> Result<(), ApiError> {
    let slug = acknowledging_service(who)?;
    if state.app.undo_acknowledgement(id, &slug, who, Timestamp::now()).await? {
        Ok(())
    } else {
        Err(ApiError::new(ErrorCode::AlertNotFound, "your service has not acknowledged an alert with that id"))
    }
}

/// Take back the technician's service's acknowledgement of a warning, within a minute of giving it. After that it
/// stands (409 `undo_window_passed`).
#[utoipa::path(delete, path = "/api/v1/alerts/{id}/acknowledgements", tag = "alerts", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn undo_acknowledgement_api(
    State(state): State<AppState>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    undo_acknowledgement(&state, &who, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Acknowledge a published warning for the technician's service: seen and passed on. The first acknowledgement
/// counts; repeating it answers 200 with the first time.
#[utoipa::path(post, path = "/api/v1/alerts/{id}/acknowledgements", tag = "alerts", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 201, body = Acknowledgement), (status = 200, body = Acknowledgement), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn acknowledge_api(
    State(state): State<AppState>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<(StatusCode, Json<Acknowledgement>), ApiError> {
    let (new, ack) = acknowledge(&state, &who, id).await?;
    Ok((if new { StatusCode::CREATED } else { StatusCode::OK }, Json(ack)))
}

/// Which services an alert reaches, which acknowledged it (and when) and which are pending (reviewers and admins).
#[utoipa::path(get, path = "/api/v1/alerts/{id}/coverage", tag = "alerts", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = Coverage), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn coverage_api(
    State(state): State<AppState>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Coverage>, ApiError> {
    require_national(&who)?;
    let alert = crate::api::alerts::existing(&state, id).await?;
    let now = Timestamp::now();
    Ok(Json(coverage(&state, &crate::api::alerts::as_of(alert, now), now).await?))
}
