//! User rooms' daily counts, entered by their staff.

use crate::AppState;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::ApiQuery;
use crate::http::extract::{ApiJson, Auth};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;
use varde_domain::ErrorCode;
use varde_domain::indicator::UserRoomDay;
use varde_domain::service::ServiceSlug;

/// Record or correct a day's counts (visits, overdoses, naloxone given, referrals) for a service.
#[utoipa::path(post, path = "/api/v1/user-room-days", tag = "indicators", request_body = UserRoomDay, security(("bearer" = [])),
    responses((status = 201, description = "recorded"), (status = 200, description = "corrected"), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn record(
    State(state): State<AppState>,
    Auth(who): Auth,
    ApiJson(day): ApiJson<UserRoomDay>,
) -> Result<(StatusCode, Json<UserRoomDay>), ApiError> {
    let new = record_day(&state, &who, &day).await?;
    Ok((if new { StatusCode::CREATED } else { StatusCode::OK }, Json(day)))
}

/// Today in Norway.
pub fn today() -> jiff::civil::Date {
    jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::get("Europe/Oslo").unwrap_or(jiff::tz::TimeZone::UTC)).date()
}

/// The use case the API and the staff page share: a technician records or corrects a day of their own service.
/// True when the day was new.
pub async fn record_day(
    state: &AppState,
    who: &varde_domain::auth::Principal,
    day: &UserRoomDay,
) -> Result<bool, ApiError> {
    let slug = ServiceSlug::parse(&day.service)
        .map_err(|e| ApiError::new(ErrorCode::InvalidValue, e.to_string()).with_field("service"))?;
    crate::check::samples::check_service(who, &slug)?;
    day.check(today())?;
    Ok(state.app.upsert_user_room_day(day.clone(), who, jiff::Timestamp::now()).await?)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DaysQuery {
    /// One service's days (technicians see only their own).
    #[param(pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", min_length = 2, max_length = 48)]
    service: Option<String>,
}

/// Recorded days, oldest first.
#[utoipa::path(get, path = "/api/v1/user-room-days", tag = "indicators", params(DaysQuery), security(("bearer" = [])),
    responses((status = 200, body = [UserRoomDay]), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Auth(who): Auth,
    ApiQuery(q): ApiQuery<DaysQuery>,
) -> Result<Json<Vec<UserRoomDay>>, ApiError> {
    let service = match (&q.service, &who.service, who.is_national()) {
        (Some(s), _, true) => Some(
            ServiceSlug::parse(s)
                .map_err(|e| ApiError::new(ErrorCode::InvalidField, e.to_string()).with_field("service"))?,
        ),
        (None, _, true) => None,
        (Some(s), Some(own), false) if s == own.as_str() => Some(own.clone()),
        (None, Some(own), false) => Some(own.clone()),
        _ => return Err(ApiError::new(ErrorCode::WrongService, "technicians see their own service's days")),
    };
    Ok(Json(state.app.queries().user_room_days(service).await?.into_iter().map(|(d, _)| d).collect()))
}
