//! The JSON API, grouped by domain.

mod catalogue;
mod ops;
mod results;
mod samples;

use crate::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes(router: OpenApiRouter<AppState>) -> OpenApiRouter<AppState> {
    router
        .routes(routes!(samples::create))
        .routes(routes!(samples::get))
        .routes(routes!(samples::add_analysis))
        .routes(routes!(results::get))
        .routes(routes!(catalogue::substances))
        .routes(routes!(catalogue::services))
        .routes(routes!(ops::healthz))
        .routes(routes!(ops::metrics))
}
