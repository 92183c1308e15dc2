//! The substance catalogue and the list of services: public reference data.

use crate::AppState;
use crate::http::error::ApiError;
use crate::http::extract::ApiQuery;
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use varde_domain::catalogue::Substance;
use varde_domain::service::Service;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SubstanceQuery {
    /// Any part of a name, synonym or street name; case, accents and punctuation are ignored.
    q: Option<String>,
    /// At most this many (default 20, at most 200).
    limit: Option<usize>,
}

#[derive(Serialize, ToSchema)]
pub struct SubstanceList {
    pub catalogue_version: String,
    pub substances: Vec<Substance>,
}

/// Search the substance catalogue, best match first (for autocomplete).
#[utoipa::path(get, path = "/api/v1/substances", security(()), tag = "public", params(SubstanceQuery), responses((status = 200, body = SubstanceList)))]
pub async fn substances(State(state): State<AppState>, ApiQuery(q): ApiQuery<SubstanceQuery>) -> Json<SubstanceList> {
    let limit = q.limit.unwrap_or(20).clamp(1, 200);
    let substances =
        state.assessor.catalogue.search(q.q.as_deref().unwrap_or(""), limit).into_iter().cloned().collect();
    Json(SubstanceList { catalogue_version: state.assessor.catalogue.version.clone(), substances })
}

/// The registered services.
#[utoipa::path(get, path = "/api/v1/services", security(()), tag = "public", responses((status = 200, body = [Service])))]
pub async fn services(State(state): State<AppState>) -> Result<Json<Vec<Service>>, ApiError> {
    Ok(Json(state.app.queries().services().await?))
}
