//! The result look-up a person makes with their code, without logging in. It shows what they may see: what was
//! found, how certain it is, and advice; never the technician's notes or anything about other samples.

use crate::AppState;
use crate::check::public::{Lookup, PublicResult, lookup, public_result};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiPath, ApiQuery};
use crate::http::lang::negotiate;
use crate::http::limits::ClientAddress;
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use serde::Deserialize;
use utoipa::IntoParams;
use varde_domain::ErrorCode;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LangQuery {
    /// nb, nn or en; otherwise from Accept-Language, else nb.
    lang: Option<String>,
}

/// Look up a result by its code. An unknown code and a malformed one get the same answer.
#[utoipa::path(
    get, path = "/api/v1/results/{code}", security(()), tag = "public",
    params(("code" = String, Path, description = "The code on the result card"), LangQuery),
    responses((status = 200, body = PublicResult), (status = 404, body = ErrorBody),
        (status = 429, description = "more than 5 look-ups from this address in 10 minutes (page and API together)", body = ErrorBody)),
)]
pub async fn get(
    State(state): State<AppState>,
    address: ClientAddress,
    // A code that is not even UTF-8 is looked up as what it is, an unknown code: same limit, time and answer.
    code: Result<ApiPath<String>, ApiError>,
    ApiQuery(q): ApiQuery<LangQuery>,
    headers: HeaderMap,
) -> Result<Json<PublicResult>, ApiError> {
    let started = std::time::Instant::now();
    let lang = negotiate(q.lang.as_deref(), &headers);
    let code = code.map(|c| c.0).unwrap_or_default();
    match lookup(&state, &address, &code, started).await? {
        Lookup::Found(stored) => Ok(Json(public_result(&state, &stored, lang))),
        Lookup::NotFound => {
            Err(ApiError::new(ErrorCode::ResultNotFound, "no result has that code; check it and try again"))
        }
        Lookup::Limited => Err(ApiError::new(
            ErrorCode::TooManyRequests,
            "too many look-ups from this address; wait ten minutes and try again",
        )),
    }
}
