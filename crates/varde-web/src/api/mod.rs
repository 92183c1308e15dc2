//! The JSON API, grouped by domain.

pub mod alerts;
mod catalogue;
mod events;
pub mod indicators;
mod ops;
pub mod reach;
pub mod results;
pub mod samples;
mod sign_in_rules;
mod signals;
pub mod stats;
mod webhooks;

use crate::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes(router: OpenApiRouter<AppState>) -> OpenApiRouter<AppState> {
    router
        .routes(routes!(samples::create))
        .routes(routes!(samples::get))
        .routes(routes!(samples::add_analysis))
        .routes(routes!(crate::check::spectra::attach))
        .routes(routes!(crate::check::spectra::list))
        .routes(routes!(crate::check::spectra::add_reference, crate::check::spectra::references))
        .routes(routes!(results::get))
        .routes(routes!(crate::check::feedback::outcome_api))
        .routes(routes!(crate::check::feedback::intention_api))
        .routes(routes!(catalogue::substances))
        .routes(routes!(catalogue::services))
        .routes(routes!(ops::healthz))
        .routes(routes!(ops::metrics))
        .routes(routes!(alerts::list))
        .routes(routes!(alerts::get, alerts::edit))
        .routes(routes!(alerts::versions))
        .routes(routes!(alerts::evidence))
        .routes(routes!(alerts::publish))
        .routes(routes!(alerts::update))
        .routes(routes!(alerts::withdraw))
        .routes(routes!(alerts::discard))
        .routes(routes!(alerts::merge))
        .routes(routes!(alerts::reconfirm))
        .routes(routes!(alerts::choose_photo))
        .routes(routes!(reach::acknowledge_api, reach::undo_acknowledgement_api))
        .routes(routes!(reach::coverage_api))
        .routes(routes!(alerts::edas))
        .routes(routes!(events::stream))
        .routes(routes!(webhooks::create, webhooks::list))
        .routes(routes!(sign_in_rules::create, sign_in_rules::list))
        .routes(routes!(sign_in_rules::delete))
        .routes(routes!(crate::warn::subscriptions::create))
        .routes(routes!(crate::warn::subscriptions::confirm_api))
        .routes(routes!(crate::warn::subscriptions::get_api, crate::warn::subscriptions::delete_api))
        .routes(routes!(stats::time_to_warning))
        .routes(routes!(stats::deaths))
        .routes(routes!(signals::list))
        .routes(routes!(signals::draft))
        .routes(routes!(indicators::record, indicators::list))
}
