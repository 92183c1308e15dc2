//! Webhook subscribers, managed by admins.

use crate::AppState;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiJson, Auth};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use varde_domain::ErrorCode;
use varde_domain::Tier;
use varde_domain::auth::Principal;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    /// Where events are POSTed (http or https).
    pub url: String,
    /// The lowest tier delivered (default warning).
    #[serde(default)]
    pub min_tier: Option<Tier>,
    /// Two-digit fylkesnummer to deliver for; empty or left out: all (national alerts always go).
    #[serde(default)]
    pub fylker: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedWebhook {
    pub id: i64,
    pub url: String,
    /// The signing secret (`whsec_` and a base64 key), shown only now. Each delivery carries the Standard Webhooks
    /// headers `webhook-id`, `webhook-timestamp` and `webhook-signature: v1,<base64 HMAC-SHA256 of
    /// "<id>.<timestamp>.<body>">`, verifiable with any Standard Webhooks library; and, for existing subscribers
    /// through release 0.2, `Varde-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.
    pub secret: String,
}

#[derive(Serialize, ToSchema)]
pub struct WebhookStatus {
    pub id: i64,
    pub url: String,
    pub min_tier: Tier,
    pub fylker: Vec<String>,
    /// The last event delivered or skipped.
    pub cursor: i64,
    pub failed_attempts: u64,
    pub last_error: Option<String>,
}

fn require_admin(who: &Principal) -> Result<(), ApiError> {
    crate::http::extract::require_admin(who, "only admins manage webhook subscribers")
}

/// Register a subscriber (admins). Its deliveries start with the next event.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "alerts", request_body = NewWebhook, security(("bearer" = [])),
    responses((status = 201, body = CreatedWebhook), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Auth(who): Auth,
    ApiJson(new): ApiJson<NewWebhook>,
) -> Result<(StatusCode, Json<CreatedWebhook>), ApiError> {
    require_admin(&who)?;
    let url = reqwest::Url::parse(&new.url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
        .ok_or_else(|| {
            ApiError::new(ErrorCode::InvalidValue, "url must be an http or https address").with_field("url")
        })?;
    // Loopback, private and link-local receivers only where the operator allowed their range (--outbound-allow).
    state.reach.outbound.check(&url, varde_reach::outbound::Purpose::Webhook).await.map_err(|refused| {
        ApiError::new(ErrorCode::InvalidValue, format!("url must reach a public address: {refused}")).with_field("url")
    })?;
    if let Some(bad) = new.fylker.iter().find(|f| state.assessor.geography.fylke(f).is_none()) {
        return Err(
            ApiError::new(ErrorCode::InvalidValue, format!("'{bad}' is not a fylkesnummer")).with_field("fylker")
        );
    }
    // Standard Webhooks' form: `whsec_` and a base64 key (24 random bytes).
    let secret = {
        use base64::Engine;
        use rand::RngCore;
        let mut key = [0u8; 24];
        rand::rng().fill_bytes(&mut key);
        format!("whsec_{}", base64::engine::general_purpose::STANDARD.encode(key))
    };
    let hook = state
        .app
        .add_webhook(url.as_str(), &secret, new.min_tier.unwrap_or(Tier::Warning), &new.fylker, &who, Timestamp::now())
        .await?;
    Ok((StatusCode::CREATED, Json(CreatedWebhook { id: hook.id, url: hook.url, secret })))
}

/// Subscribers with their delivery state (admins).
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "alerts", security(("bearer" = [])),
    responses((status = 200, body = [WebhookStatus]), (status = 403, body = ErrorBody)))]
pub async fn list(State(state): State<AppState>, Auth(who): Auth) -> Result<Json<Vec<WebhookStatus>>, ApiError> {
    require_admin(&who)?;
    let mut out = Vec::new();
    for h in state.app.queries().webhooks().await? {
        let (failed_attempts, last_error) = state.app.queries().delivery_status(h.id).await?;
        out.push(WebhookStatus {
            id: h.id,
            url: h.url,
            min_tier: h.min_tier,
            fylker: h.fylker,
            cursor: h.cursor,
            failed_attempts,
            last_error,
        });
    }
    Ok(Json(out))
}
