//! Varde's HTTP edge: the JSON API, its OpenAPI document, health and metrics. Handlers translate between HTTP and
//! the domain; the rules themselves live in `varde-domain` and the data in `varde-store`.

pub mod admin;
pub mod api;
pub mod check;
pub mod config;
pub mod detect;
pub mod http;
pub mod know;
pub mod openapi;
pub mod warn;

use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use axum::{Json, Router};
use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use varde_core::Application;
use varde_domain::ErrorCode;
use varde_domain::assess::Assessor;

use crate::http::error::ApiError;
use crate::http::metrics::Metrics;
use crate::http::tokens::TokenCache;

/// Everything a handler needs. Cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub app: Arc<dyn Application>,
    /// Catalogue, method limits, risk policy, geography and alert templates.
    pub assessor: Arc<Assessor>,
    /// Where the public reaches this server, for links in feeds and CAP messages (no trailing slash).
    pub public_url: String,
    pub metrics: Metrics,
    pub tokens: TokenCache,
    pub feed_cache: warn::feeds::atom::FeedCache,
    pub cap_cache: warn::feeds::cap::MessageCache,
    /// Rate limits (look-ups, concern reports, failed logins, subscription requests), counted in the store.
    pub limits: http::limits::Limits,
    /// Peers whose forwarded headers name the client (`--trusted-proxy`).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// A hash of nothing, checked against when a login names an unknown user, so both take the same time.
    pub dummy_hash: String,
    /// The spectral libraries, built from the stored reference spectra when first needed.
    pub spectra: check::spectra::EngineCell,
    /// How warnings reach people and services: e-mail, web push, escalations.
    pub reach: warn::subscriptions::Reach,
    /// The public dashboard and open-data files, renewed in the background.
    pub figures: know::figures::FigureCache,
    /// The counted samples every figure reads, renewed week by week as the data changes.
    pub tallies: know::tally::Tallies,
    /// The release's open-data count tables, made once per release.
    pub count_tables: know::opendata::CountTablesCache,
    /// The roles whose logins need a second factor (`--second-factor-for`); none unless the binary says so.
    pub second_factor_for: Vec<varde_domain::auth::Role>,
    /// A staff session not used for this long ends (`--session-idle-minutes`).
    pub session_idle: jiff::SignedDuration,
    /// The organisations' identity providers staff may sign in through (`--oidc`); none by default.
    pub issuers: Arc<varde_http::oidc::Issuers>,
    /// Passkeys for the site at the public address (unavailable at an IP address).
    pub passkeys: varde_http::passkeys::Passkeys,
}

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn new(app: Arc<dyn Application>, assessor: Arc<Assessor>, public_url: &str) -> AppState {
        let metrics = Metrics::new();
        metrics.catalogue_substances.set(assessor.catalogue.substances().len() as i64);
        let public_url = public_url.trim_end_matches('/').to_owned();
        let passkeys = varde_http::passkeys::Passkeys::new(&public_url);
        AppState(Arc::new(Inner {
            app,
            assessor,
            public_url,
            metrics,
            tokens: TokenCache::new(Duration::from_secs(30)),
            feed_cache: Default::default(),
            cap_cache: Default::default(),
            limits: Default::default(),
            trusted_proxies: Vec::new(),
            dummy_hash: http::session::hash_password("no such user"),
            spectra: Default::default(),
            reach: warn::subscriptions::Reach::default(),
            figures: Default::default(),
            tallies: Default::default(),
            count_tables: Default::default(),
            second_factor_for: Vec::new(),
            session_idle: config::sessions::IDLE_DEFAULT,
            issuers: Arc::new(varde_http::oidc::Issuers::none()),
            passkeys,
        }))
    }
}

impl AppState {
    /// Trusts these proxies' forwarded headers (see [`http::limits::ClientAddress`]). Called once, before the state is shared.
    pub fn trusting_proxies(mut self, proxies: Vec<ipnet::IpNet>) -> AppState {
        Arc::get_mut(&mut self.0).expect("called before the state is shared").trusted_proxies = proxies;
        self
    }

    /// Asks these roles for a second factor at every login (see [`http::second_factor`]). Called once, before the
    /// state is shared.
    pub fn asking_second_factor_of(mut self, roles: Vec<varde_domain::auth::Role>) -> AppState {
        Arc::get_mut(&mut self.0).expect("called before the state is shared").second_factor_for = roles;
        self
    }

    /// Ends staff sessions not used for `idle`. Called once, before the state is shared.
    pub fn ending_sessions_idle_for(mut self, idle: jiff::SignedDuration) -> AppState {
        Arc::get_mut(&mut self.0).expect("called before the state is shared").session_idle = idle;
        self
    }

    /// Lets staff sign in through these identity providers (see [`http::sign_in`]). Called once, before the state
    /// is shared.
    pub fn signing_in_through(mut self, issuers: varde_http::oidc::Issuers) -> AppState {
        Arc::get_mut(&mut self.0).expect("called before the state is shared").issuers = Arc::new(issuers);
        self
    }

    /// Sets how warnings reach people (see [`warn::subscriptions::Reach`]). Called once, before the state is shared.
    pub fn reaching(mut self, reach: warn::subscriptions::Reach) -> AppState {
        Arc::get_mut(&mut self.0).expect("called before the state is shared").reach = reach;
        self
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Varde", description = "National drug-checking, monitoring and early-warning system."),
    modifiers(&BearerAuth),
    servers((url = "/", description = "This Varde: the document is served by the instance it describes")),
    tags(
        (name = "samples", description = "Register samples and analyses (a service's technicians)"),
        (name = "alerts", description = "Warnings: drafts, review, publication, acknowledgements; published ones are public"),
        (name = "signals", description = "What is rising: signals and drafts made from them (reviewers)"),
        (name = "indicators", description = "User rooms' daily counts and other indicators besides samples"),
        (name = "public", description = "No login: results, subscriptions, the catalogue, figures"),
        (name = "admin", description = "Who may do what: the sign-in rules for staff from identity providers (admins)"),
    ),
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The routes and the OpenAPI document, declared together so the document cannot drift from the code.
pub fn router(state: AppState) -> Router {
    let (router, mut openapi) = api::routes(OpenApiRouter::with_openapi(ApiDoc::openapi())).split_for_parts();
    openapi::unique_operation_ids(&mut openapi);
    openapi::document_edge_responses(&mut openapi);
    let openapi = Arc::new(openapi);
    let routes = router
        .merge(http::pages::routes())
        .merge(warn::feeds::routes())
        .merge(know::opendata::routes())
        .merge(detect::concern::routes())
        .merge(know::dashboard::routes())
        .merge(http::session::routes())
        .merge(http::second_factor::routes())
        .merge(http::sign_in::routes())
        .merge(http::passkeys::routes())
        .merge(know::analyst::routes())
        .merge(admin::routes())
        .merge(check::staff::routes())
        .merge(warn::review::routes())
        .merge(check::result::routes())
        .merge(check::substances::routes())
        .merge(warn::subscriptions::routes())
        .merge(know::user_room::routes())
        .merge(check::feedback::routes())
        .route("/openapi.json", get(move || async move { Json(openapi.as_ref().clone()) }))
        .fallback(|| async { ApiError::new(ErrorCode::NotFound, "no such page or endpoint") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(ErrorCode::MethodNotAllowed, "this endpoint does not take that method")
        })
        .layer(axum::middleware::from_fn_with_state(state.clone(), http::metrics::track))
        .layer(axum::middleware::from_fn_with_state(state.clone(), http::session::security_headers));
    varde_http::headers::secured(routes, http::session::CONTENT_SECURITY_POLICY)
        .layer(DefaultBodyLimit::max(config::limits::MAX_BODY))
        .with_state(state)
}
