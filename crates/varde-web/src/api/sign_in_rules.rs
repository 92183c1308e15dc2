//! The sign-in rules, kept by admins: which claim of which identity provider's ID token gives which role (see
//! `varde_domain::sign_in` and `http::sign_in`).

use crate::AppState;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiJson, ApiPath, Auth};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use jiff::Timestamp;
use serde::Serialize;
use utoipa::ToSchema;
use varde_domain::auth::Principal;
use varde_domain::sign_in::{NewSignInRule, SignInRule};

#[derive(Serialize, ToSchema)]
pub struct CreatedRule {
    pub id: i64,
}

/// A stored rule.
#[derive(Serialize, ToSchema)]
pub struct Rule {
    pub id: i64,
    pub issuer: String,
    pub claim: String,
    pub value: String,
    pub role: varde_domain::auth::Role,
    /// A technician's service; none for the national roles.
    #[schema(value_type = Option<String>)]
    pub service: Option<varde_domain::service::ServiceSlug>,
}

impl From<SignInRule> for Rule {
    fn from(r: SignInRule) -> Rule {
        let NewSignInRule { issuer, claim, value, role, service } = r.rule;
        Rule { id: r.id, issuer, claim, value, role, service }
    }
}

fn require_admin(who: &Principal) -> Result<(), ApiError> {
    crate::http::extract::require_admin(who, "only admins keep the sign-in rules")
}

/// Add a sign-in rule (admins): a person whose ID token from `issuer` carries `claim` with `value` (or holds it, for
/// a list such as `groups`) signs in with `role` (and a technician at `service`). Audited.
#[utoipa::path(post, path = "/api/v1/sign-in-rules", tag = "admin", request_body = NewSignInRule,
    security(("bearer" = [])),
    responses((status = 201, body = CreatedRule), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Auth(who): Auth,
    ApiJson(rule): ApiJson<NewSignInRule>,
) -> Result<(StatusCode, Json<CreatedRule>), ApiError> {
    require_admin(&who)?;
    let id = state.app.add_sign_in_rule(rule, &who.actor, Timestamp::now()).await?;
    Ok((StatusCode::CREATED, Json(CreatedRule { id })))
}

/// The sign-in rules, oldest first (admins).
#[utoipa::path(get, path = "/api/v1/sign-in-rules", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = [Rule]), (status = 403, body = ErrorBody)))]
pub async fn list(State(state): State<AppState>, Auth(who): Auth) -> Result<Json<Vec<Rule>>, ApiError> {
    require_admin(&who)?;
    Ok(Json(state.app.sign_in_rules().await?.into_iter().map(Rule::from).collect()))
}

/// Remove a sign-in rule (admins). Who signed in under it keeps their sessions until they end; their next sign-in
/// needs another rule. Audited.
#[utoipa::path(delete, path = "/api/v1/sign-in-rules/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path, description = "The rule's id")),
    responses((status = 204), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    require_admin(&who)?;
    state.app.remove_sign_in_rule(id, &who.actor, Timestamp::now()).await?;
    Ok(StatusCode::NO_CONTENT)
}
