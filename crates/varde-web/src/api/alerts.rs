//! Alerts: the public list and detail, the reviewer's lifecycle, versions, evidence and the EDAS notification.

use crate::AppState;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiJson, Auth, MaybeAuth, OptionalJson, require_national, require_reviewer};
use crate::http::extract::{ApiPath, ApiQuery};
use axum::Json;
use axum::extract::State;
use jiff::Timestamp;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use varde_domain::ErrorCode;
use varde_domain::Tier;
use varde_domain::alert::{Alert, AlertAction, AlertEdit, AlertStatus, AlertVersion, QueueFilter, review_queue};
use varde_domain::edas::{self, EdasNotification, Names};
use varde_store::AlertFilter;

/// Which alerts a list holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum StatusFilter {
    Published,
    Expired,
    Withdrawn,
    /// Reviewers and admins only.
    Draft,
    /// Reviewers and admins only.
    Discarded,
    /// Drafts without new evidence for three weeks. Reviewers and admins only.
    Archived,
    /// Every status the caller may see.
    All,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AlertQuery {
    /// published (default), expired, withdrawn, draft or discarded (these two for reviewers and admins), or all.
    #[param(inline)]
    status: Option<StatusFilter>,
    /// The lowest tier to include.
    #[param(inline)]
    tier: Option<Tier>,
    /// Two-digit fylkesnummer: alerts for that fylke and national ones.
    #[param(pattern = "^[0-9]{2}$")]
    fylke: Option<String>,
    /// Drafts only: those about a substance of this class (e.g. `nitazene`, `entactogen`).
    #[param(inline)]
    class: Option<varde_domain::SubstanceClass>,
    /// At most this many, newest first (drafts: most urgent first), default 100, at most 1000.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<usize>,
}

/// The alert as anyone sees it now: a published alert past its validity shows as expired.
pub fn as_of(mut alert: Alert, now: Timestamp) -> Alert {
    alert.status = alert.status_at(now);
    alert
}

/// Alerts, newest first. Drafts only with a reviewer's or admin's token.
#[utoipa::path(get, path = "/api/v1/alerts", security((), ("bearer" = [])), tag = "alerts", params(AlertQuery),
    responses((status = 200, body = [Alert]), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    MaybeAuth(who): MaybeAuth,
    ApiQuery(q): ApiQuery<AlertQuery>,
) -> Result<Json<Vec<Alert>>, ApiError> {
    let now = Timestamp::now();
    let wanted: Vec<AlertStatus> = match q.status.unwrap_or(StatusFilter::Published) {
        StatusFilter::All if who.as_ref().is_some_and(|w| w.is_national()) => AlertStatus::ALL.to_vec(),
        StatusFilter::All => AlertStatus::ALL.into_iter().filter(|s| s.is_public()).collect(),
        StatusFilter::Published => vec![AlertStatus::Published],
        StatusFilter::Expired => vec![AlertStatus::Expired],
        StatusFilter::Withdrawn => vec![AlertStatus::Withdrawn],
        StatusFilter::Draft => vec![AlertStatus::Draft],
        StatusFilter::Discarded => vec![AlertStatus::Discarded],
        StatusFilter::Archived => vec![AlertStatus::Archived],
    };
    if wanted.iter().any(|s| !s.is_public()) {
        let who = who.as_ref().ok_or_else(|| {
            ApiError::new(ErrorCode::MissingToken, "drafts and discarded drafts need a reviewer's or an admin's token")
        })?;
        require_national(who)?;
    }
    let min_tier = q.tier;
    // Two digits, or it cannot be a fylkesnummer; a well-formed number that names no fylke simply has no alerts.
    if let Some(f) = &q.fylke
        && !(f.len() == 2 && f.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(ApiError::new(ErrorCode::InvalidField, format!("fylke: '{f}' is not a two-digit fylkesnummer"))
            .with_field("fylke"));
    }
    // Expired is published-and-past-validity: ask the store for published ones and sort them out here.
    let stored: Vec<AlertStatus> =
        wanted.iter().map(|s| if *s == AlertStatus::Expired { AlertStatus::Published } else { *s }).collect();
    let limit = match q.limit {
        None => 100,
        Some(n @ 1..=1000) => n,
        Some(n) => {
            return Err(ApiError::new(ErrorCode::InvalidField, format!("limit: {n} is not between 1 and 1000"))
                .with_field("limit"));
        }
    };
    let filter = AlertFilter { statuses: stored, min_tier, fylke: q.fylke.clone(), limit: 0 };
    let alerts = state.app.queries().alerts(filter).await?;
    if wanted == [AlertStatus::Draft] {
        // The review queue: most urgent first, each draft with its place (the same order as the /review page).
        let queue = QueueFilter { min_tier, fylke: q.fylke.clone(), class: q.class };
        let drafts = review_queue(alerts, &queue, &state.assessor.catalogue);
        return Ok(Json(drafts.into_iter().take(limit).collect()));
    }
    let staff = who.as_ref().is_some_and(|w| w.is_national());
    Ok(Json(
        alerts
            .into_iter()
            .map(|a| if staff { as_of(a, now) } else { as_of(a, now).public_view() })
            .filter(|a| wanted.contains(&a.status))
            .take(limit)
            .collect(),
    ))
}

/// The alert with `id` as stored, whatever its status; `AlertNotFound` when there is none.
pub(crate) async fn existing(state: &AppState, id: i64) -> Result<Alert, ApiError> {
    state.app.queries().alert(id).await?.ok_or_else(|| ApiError::new(ErrorCode::AlertNotFound, "no alert has that id"))
}

async fn visible(state: &AppState, who: &Option<varde_domain::auth::Principal>, id: i64) -> Result<Alert, ApiError> {
    let alert = existing(state, id).await?;
    if !alert.status.is_public() && !who.as_ref().is_some_and(|w| w.is_national()) {
        // A draft or a discarded draft is not public: to anyone else it does not exist.
        return Err(ApiError::new(ErrorCode::AlertNotFound, "no alert has that id"));
    }
    let alert = as_of(alert, Timestamp::now());
    Ok(if who.as_ref().is_some_and(|w| w.is_national()) { alert } else { alert.public_view() })
}

/// One alert.
#[utoipa::path(get, path = "/api/v1/alerts/{id}", security((), ("bearer" = [])), tag = "alerts", params(("id" = i64, Path)),
    responses((status = 200, body = Alert), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    MaybeAuth(who): MaybeAuth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Alert>, ApiError> {
    Ok(Json(visible(&state, &who, id).await?))
}

/// Every publication, update and withdrawal of an alert, oldest first.
#[utoipa::path(get, path = "/api/v1/alerts/{id}/versions", security((), ("bearer" = [])), tag = "alerts", params(("id" = i64, Path)),
    responses((status = 200, body = [AlertVersion]), (status = 404, body = ErrorBody)))]
pub async fn versions(
    State(state): State<AppState>,
    MaybeAuth(who): MaybeAuth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<AlertVersion>>, ApiError> {
    visible(&state, &who, id).await?;
    Ok(Json(state.app.queries().alert_versions(id).await?))
}

/// The samples behind an alert (reviewers and admins; audited).
#[utoipa::path(get, path = "/api/v1/alerts/{id}/evidence", tag = "alerts", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = [crate::api::samples::SampleView]), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn evidence(
    State(state): State<AppState>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<crate::api::samples::SampleView>>, ApiError> {
    require_national(&who)?;
    let samples = state.app.alert_evidence(id, &who, Timestamp::now()).await?;
    Ok(Json(samples.into_iter().map(crate::api::samples::view).collect()))
}

async fn act(
    state: &AppState,
    who: &varde_domain::auth::Principal,
    id: i64,
    action: AlertAction,
    edit: AlertEdit,
) -> Result<Json<Alert>, ApiError> {
    require_reviewer(who)?;
    let alert = state.app.change_alert(id, action, edit, who, Timestamp::now()).await?;
    Ok(Json(as_of(alert, Timestamp::now())))
}

/// Edit a draft: texts in all three languages, tier, area, validity.
#[utoipa::path(patch, path = "/api/v1/alerts/{id}", tag = "alerts", params(("id" = i64, Path)), request_body = AlertEdit, security(("bearer" = [])),
    responses((status = 200, body = Alert), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn edit(
    State(state): State<AppState>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(edit): ApiJson<AlertEdit>,
) -> Result<Json<Alert>, ApiError> {
    act(&state, &who, id, AlertAction::Edit, edit).await
}

/// Publish a draft (optionally with last edits and `valid_until`; by default valid for 30 days).
#[utoipa::path(post, path = "/api/v1/alerts/{id}/publish", tag = "alerts", params(("id" = i64, Path)), request_body(content = AlertEdit, description = "optional"), security(("bearer" = [])),
    responses((status = 200, body = Alert), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn publish(
    State(state): State<AppState>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<i64>,
    OptionalJson(edit): OptionalJson<AlertEdit>,
) -> Result<Json<Alert>, ApiError> {
    act(&state, &who, id, AlertAction::Publish, edit.unwrap_or_default()).await
}

/// Update a published alert: a new version; the earlier ones are kept.
#[utoipa::path(post, path = "/api/v1/alerts/{id}/update", tag = "alerts", params(("id" = i64, Path)), request_body = AlertEdit, security(("bearer" = [])),
    responses((status = 200, body = Alert), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(edit): ApiJson<AlertEdit>,
) -> Result<Json<Alert>, ApiError> {
    act(&state, &who, id, AlertAction::Update, edit).await
}

/// Withdraw a published alert: it stays visible as withdrawn (a CAP Cancel), `note` says why. A draft cannot be
/// withdrawn (it was never public): discard it.
#[utoipa::path(post, path = "/api/v1/alerts/{id}/withdraw", tag = "alerts", params(("id" = i64, Path)), request_body(content = AlertEdit, description = "optional: note"), security(("bearer" = [])),
    responses((status = 200, body = Alert), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn withdraw(
    State(state): State<AppState>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<i64>,
    OptionalJson(edit): OptionalJson<AlertEdit>,
) -> Result<Json<Alert>, ApiError> {
    act(&state, &who, id, AlertAction::Withdraw, edit.unwrap_or_default()).await
}

/// Discard a draft: set aside without ever being public, visible to reviewers and admins only (`note` says why).
#[utoipa::path(post, path = "/api/v1/alerts/{id}/discard", tag = "alerts", params(("id" = i64, Path)), request_body(content = AlertEdit, description = "optional: note"), security(("bearer" = [])),
    responses((status = 200, body = Alert), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn discard(
    State(state): State<AppState>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<i64>,
    OptionalJson(edit): OptionalJson<AlertEdit>,
) -> Result<Json<Alert>, ApiError> {
    act(&state, &who, id, AlertAction::Discard, edit.unwrap_or_default()).await
}

/// Re-confirm a published alert: it still holds (with new evidence, or none against it). A new version, valid for
/// the default period from now; the public sees the date it was last confirmed.
#[utoipa::path(post, path = "/api/v1/alerts/{id}/reconfirm", tag = "alerts", params(("id" = i64, Path)), request_body(content = AlertEdit, description = "optional: note, valid_until"), security(("bearer" = [])),
    responses((status = 200, body = Alert), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn reconfirm(
    State(state): State<AppState>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<i64>,
    OptionalJson(edit): OptionalJson<AlertEdit>,
) -> Result<Json<Alert>, ApiError> {
    act(&state, &who, id, AlertAction::Reconfirm, edit.unwrap_or_default()).await
}

/// Which sample's photo to publish with an alert.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChoosePhoto {
    /// The code of one of the alert's evidence samples that has a photo.
    pub sample: String,
}

/// Choose the pill photo to publish with an alert: one of its evidence samples' photos (already without metadata).
/// It shows on the public page, in Atom (an enclosure) and CAP (a resource with size and SHA-1 digest) once the
/// alert is public; a photo is only ever published when a reviewer chooses it.
#[utoipa::path(post, path = "/api/v1/alerts/{id}/photo", tag = "alerts", params(("id" = i64, Path)), request_body = ChoosePhoto, security(("bearer" = [])),
    responses((status = 200, body = Alert), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn choose_photo(
    State(state): State<AppState>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(choice): ApiJson<ChoosePhoto>,
) -> Result<Json<Alert>, ApiError> {
    require_reviewer(&who)?;
    let code = varde_domain::SampleCode::parse(&choice.sample)
        .map_err(|_| ApiError::new(ErrorCode::SampleNotFound, "no sample has that code").with_field("sample"))?;
    state.app.choose_alert_photo(id, code, &who, Timestamp::now()).await?;
    let alert = existing(&state, id).await?;
    Ok(Json(as_of(alert, Timestamp::now())))
}

/// What a draft is merged into.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeInto {
    /// The draft that keeps going; this one's samples join it and this one is discarded.
    #[serde(deserialize_with = "varde_domain::wire::id")]
    pub into: i64,
}

/// Merge a draft into another draft about the same product and area: its samples join the other, whose text is
/// rewritten from them all, and it is discarded (never public).
#[utoipa::path(post, path = "/api/v1/alerts/{id}/merge", tag = "alerts", params(("id" = i64, Path)), request_body = MergeInto, security(("bearer" = [])),
    responses((status = 200, body = Alert), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn merge(
    State(state): State<AppState>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(m): ApiJson<MergeInto>,
) -> Result<Json<Alert>, ApiError> {
    require_reviewer(&who)?;
    Ok(Json(state.app.merge_alerts(id, m.into, &who, Timestamp::now()).await?))
}

/// The EDAS notification draft for an alert (reviewers and admins), in English.
#[utoipa::path(get, path = "/api/v1/alerts/{id}/edas", tag = "alerts", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = EdasNotification), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn edas(
    State(state): State<AppState>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<EdasNotification>, ApiError> {
    require_national(&who)?;
    Ok(Json(edas_notification(&state, &who, id).await?))
}

/// The EDAS notification for alert `id`, read as `who` (its evidence read is audited); the API and the reviewer's
/// page both give it.
pub async fn edas_notification(
    state: &AppState,
    who: &varde_domain::auth::Principal,
    id: i64,
) -> Result<EdasNotification, ApiError> {
    let alert = existing(state, id).await?;
    let evidence: Vec<_> =
        state.app.alert_evidence(id, who, Timestamp::now()).await?.into_iter().map(|s| s.sample).collect();
    let a = &state.assessor;
    let names =
        Names { catalogue: &a.catalogue, methods: &a.methods, geography: &a.geography, templates: &a.templates };
    Ok(edas::notification(&alert, &evidence, &names, Timestamp::now()))
}
