//! Subscriptions without an account: warnings by e-mail (double opt-in) or web push, asked for on the public alerts
//! page or through the API, seen and deleted from the link in every message.
//!
//! A subscriber's address is personal data. It lives in tables of its own, never in the audit log (which names the
//! subscriber's number only), never in exports or open data; unconfirmed requests go after 48 hours; one click in
//! any e-mail deletes it. Links carry a keyed hash of the subscriber's number and a random nonce, so no link is
//! stored and none can be guessed.

use crate::AppState;
use crate::config::limits::{
    SUBSCRIPTION_REQUESTS_PER_ADDRESS as REQUESTS_PER_ADDRESS, SUBSCRIPTION_REQUESTS_PER_CLIENT as REQUESTS_PER_CLIENT,
};
use crate::config::reach::MAX_PUSH_ENDPOINT as MAX_ENDPOINT;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::http::i18n::t;
use crate::http::lang::LangQuery;
use crate::http::lang::negotiate;
use crate::http::limits::ClientAddress;
use crate::http::pages::{layout, page};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use hmac::{Hmac, Mac};
use jiff::{SignedDuration, Timestamp};
use maud::{Markup, html};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::sync::Arc;
use std::time::Duration;
use utoipa::ToSchema;
use varde_core::Application;
use varde_domain::alert::AlertStatus;
use varde_domain::subscription::{Channel, Preferences};
use varde_domain::{ErrorCode, InvalidInput, Lang, Tier};
use varde_reach::mail::{Mailer, normalise_address};
use varde_reach::outbound::Purpose;
use varde_reach::webpush::{Subscription as PushTarget, VapidKey};
use varde_store::{NewSubscriber, Requested, StoreError, Subscriber};

/// How warnings reach people and services.
pub struct Reach {
    /// None: the server sends no e-mail (no `--smtp-url`); e-mail subscriptions are refused.
    pub mailer: Option<Mailer>,
    /// The application server's key for web push (made at first start and kept).
    pub vapid: VapidKey,
    /// Who the push services may contact about this server (the VAPID `sub` claim).
    pub vapid_subject: String,
    link_key: [u8; 32],
    /// A severe alert still not acknowledged by a service this long after publication is escalated.
    pub escalate_after: SignedDuration,
    /// Whether severe alerts ask every service in the country to acknowledge them, not only those in their area.
    pub severe_everywhere: bool,
    /// How often pending severe alerts are checked for escalation.
    pub escalation_check: Duration,
    /// Where pushes and webhooks may connect (public addresses only, unless the operator allowed a range).
    pub outbound: varde_reach::outbound::OutboundPolicy,
    /// Wakes the e-mail and push senders when messages were queued.
    pub wake_email: Arc<tokio::sync::Notify>,
    pub wake_push: Arc<tokio::sync::Notify>,
    /// VAPID headers by push service origin with their expiry: one signature serves every message to a service
    /// for hours, instead of one per message.
    vapid_headers: std::sync::Mutex<std::collections::HashMap<String, (String, i64)>>,
}

impl Default for Reach {
    /// No e-mail, fresh (unkept) keys, escalation after four hours, severe alerts reach every service.
    fn default() -> Reach {
        Reach::new(rand::random(), VapidKey::generate(), None, "mailto:varde@localhost".into())
    }
}

impl Reach {
    pub fn new(link_key: [u8; 32], vapid: VapidKey, mailer: Option<Mailer>, vapid_subject: String) -> Reach {
        Reach {
            mailer,
            vapid,
            vapid_subject,
            link_key,
            escalate_after: SignedDuration::from_hours(varde_domain::alert::ESCALATE_AFTER_HOURS),
            severe_everywhere: true,
            escalation_check: Duration::from_secs(60),
            outbound: Default::default(),
            wake_email: Default::default(),
            wake_push: Default::default(),
            vapid_headers: Default::default(),
        }
    }

    /// The `Authorization` header for a push to `endpoint`: valid 12 hours, renewed when less than one is left.
    pub fn vapid_authorization(&self, endpoint: &str, now: Timestamp) -> Option<String> {
        let origin = varde_reach::webpush::origin(endpoint)?;
        let now = now.as_second();
        let mut cache = self.vapid_headers.lock().expect("not poisoned");
        if let Some((header, expires)) = cache.get(&origin)
            && *expires > now + 3600
        {
            return Some(header.clone());
        }
        let expires = now + 12 * 3600;
        let header = self.vapid.authorization(endpoint, &self.vapid_subject, expires)?;
        // Push services are few (a handful of browser vendors); the map stays small.
        cache.insert(origin, (header.clone(), expires));
        Some(header)
    }

    /// The secret part of a link for `purpose` (`confirm`, `manage`) to `subscriber`.
    pub fn token(&self, purpose: &str, subscriber: &Subscriber) -> String {
        use base64::Engine;
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.link_key).expect("HMAC takes any key length");
        mac.update(format!("{purpose}:{}:{}", subscriber.id, subscriber.nonce).as_bytes());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    fn valid(&self, purpose: &str, subscriber: &Subscriber, token: &str) -> bool {
        use base64::Engine;
        let Ok(given) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token) else { return false };
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.link_key).expect("HMAC takes any key length");
        mac.update(format!("{purpose}:{}:{}", subscriber.id, subscriber.nonce).as_bytes());
        mac.verify_slice(&given).is_ok()
    }

    /// The page where a subscriber sees and deletes what is stored (absolute, for messages).
    pub fn manage_url(&self, public_url: &str, s: &Subscriber) -> String {
        format!("{public_url}/subscriptions/{}/{}", s.id, self.token("manage", s))
    }

    /// The one-click unsubscription address (RFC 8058).
    pub fn unsubscribe_url(&self, public_url: &str, s: &Subscriber) -> String {
        format!("{}/unsubscribe", self.manage_url(public_url, s))
    }

    pub fn confirm_url(&self, public_url: &str, s: &Subscriber) -> String {
        format!("{public_url}/subscriptions/{}/confirm/{}", s.id, self.token("confirm", s))
    }

    pub fn wake(&self, channel: Channel) -> &tokio::sync::Notify {
        match channel {
            Channel::Email => &self.wake_email,
            Channel::Push => &self.wake_push,
        }
    }
}

/// The keys a server keeps across restarts: the link key and the VAPID key (made at first start).
pub async fn kept_keys(store: &dyn Application) -> Result<([u8; 32], VapidKey), StoreError> {
    let link_key = match store.queries().meta("subscriber_link_key").await?.and_then(|h| hex::decode(h).ok()) {
        Some(k) if k.len() == 32 => k.try_into().expect("32 bytes"),
        _ => {
            let k: [u8; 32] = rand::random();
            store.queries().set_meta("subscriber_link_key", &hex::encode(k)).await?;
            k
        }
    };
    let vapid =
        match store.queries().meta("vapid_private_key").await?.and_then(|k| VapidKey::from_private_base64(&k).ok()) {
            Some(k) => k,
            None => {
                let k = VapidKey::generate();
                store.queries().set_meta("vapid_private_key", &k.private_base64()).await?;
                k
            }
        };
    Ok((link_key, vapid))
}

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/subscriptions", axum::routing::post(subscribe_form))
        .route("/subscriptions/{id}/confirm/{token}", get(confirm_page).post(confirm_form))
        .route("/subscriptions/{id}/{token}", get(manage_page))
        .route("/subscriptions/{id}/{token}/unsubscribe", get(unsubscribe_page).post(unsubscribe_form))
        .route("/sw.js", get(service_worker))
        .route("/static/notify.js", get(notify_script))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PushKeys {
    /// The browser's P-256 public key, base64url.
    pub p256dh: String,
    /// The 16-byte authentication secret, base64url.
    pub auth: String,
}

/// A request for warnings. E-mail needs `address` and is confirmed from a link sent to it; push needs `endpoint`
/// and `keys` as the browser's `PushSubscription.toJSON()` gives them.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSubscription {
    pub channel: Channel,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub endpoint: Option<String>,
    #[serde(default)]
    pub keys: Option<PushKeys>,
    /// Two-digit fylkesnummer; empty or left out: the whole country. National alerts always go.
    #[serde(default)]
    pub fylker: Vec<String>,
    /// The lowest tier sent (default warning).
    #[serde(default)]
    pub min_tier: Option<Tier>,
    /// The language of the messages (default nb).
    #[serde(default)]
    pub lang: Option<Lang>,
}

#[derive(Serialize, ToSchema)]
pub struct SubscriptionAccepted {
    /// `check_your_email` (e-mail: the same answer whether the address was new, waiting or subscribed already) or
    /// `subscribed` (push).
    pub status: &'static str,
    /// Push: the subscriber's page (see and delete), and the address that deletes on POST.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manage_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unsubscribe_url: Option<String>,
}

/// What the request asks for, checked; the address is normalised.
async fn checked(state: &AppState, new: NewSubscription) -> Result<NewSubscriber, ApiError> {
    let mut fylker = Vec::new();
    for f in new.fylker {
        if state.assessor.geography.fylke(&f).is_none() {
            return Err(InvalidInput::invalid("fylker", format!("'{f}' is not a fylkesnummer (01-56)")).into());
        }
        if !fylker.contains(&f) {
            fylker.push(f);
        }
    }
    let preferences =
        Preferences { fylker, min_tier: new.min_tier.unwrap_or(Tier::Warning), lang: new.lang.unwrap_or(Lang::Nb) };
    let nonce = hex::encode(rand::random::<[u8; 16]>());
    match new.channel {
        Channel::Email => {
            if state.reach.mailer.is_none() {
                return Err(ApiError::new(ErrorCode::ChannelUnavailable, "this server does not send e-mail")
                    .with_field("channel"));
            }
            if new.endpoint.is_some() || new.keys.is_some() {
                return Err(InvalidInput::invalid("endpoint", "endpoint and keys are for push subscriptions").into());
            }
            let address = new
                .address
                .as_deref()
                .and_then(normalise_address)
                .ok_or_else(|| InvalidInput::invalid("address", "address must be an e-mail address"))?;
            Ok(NewSubscriber { channel: Channel::Email, address, push_keys: None, preferences, nonce })
        }
        Channel::Push => {
            if new.address.is_some() {
                return Err(InvalidInput::invalid("address", "address is for e-mail subscriptions").into());
            }
            let endpoint = new.endpoint.unwrap_or_default();
            let url =
                reqwest::Url::parse(&endpoint).ok().filter(|u| u.host().is_some() && endpoint.len() <= MAX_ENDPOINT);
            let Some(url) = url else {
                return Err(
                    InvalidInput::invalid("endpoint", "endpoint must be the push service's https address").into()
                );
            };
            // Anyone may subscribe: the endpoint must not make the server connect inward. What needs no network
            // first; the resolved addresses after the keys (and again at each connection, by the sender's client).
            let inward = |refused: varde_reach::outbound::Refusal| -> ApiError {
                InvalidInput::invalid(
                    "endpoint",
                    format!("endpoint must be a push service's public https address: {refused}"),
                )
                .into()
            };
            state.reach.outbound.check_url(&url, Purpose::Push).map_err(inward)?;
            let keys = new.keys.ok_or_else(|| InvalidInput::invalid("keys", "keys (p256dh and auth) are required"))?;
            PushTarget::from_base64(&endpoint, &keys.p256dh, &keys.auth).map_err(|e| {
                let field = if matches!(e, varde_reach::webpush::PushError::BadAuthSecret) {
                    "keys.auth"
                } else {
                    "keys.p256dh"
                };
                InvalidInput::invalid(field, e.to_string())
            })?;
            state.reach.outbound.check(&url, Purpose::Push).await.map_err(inward)?;
            Ok(NewSubscriber {
                channel: Channel::Push,
                address: endpoint,
                push_keys: Some((keys.p256dh, keys.auth)),
                preferences,
                nonce,
            })
        }
    }
}

/// The inbox an address delivers to, for the per-address limit: `kari+anything@example.no` reaches `kari@`'s inbox
/// (sub-addressing, RFC 5233, which the big mail services honour), so it counts as `kari@` — or thirty "different"
/// addresses would put thirty confirmation mails in one inbox. The address itself is kept as written.
fn mailbox(channel: Channel, address: &str) -> String {
    match (channel, address.split_once('@')) {
        (Channel::Email, Some((local, domain))) => {
            let local = local.split_once('+').map_or(local, |(base, _)| base);
            format!("{local}@{domain}")
        }
        _ => address.to_owned(),
    }
}

/// The use case both the page and the API serve: check, limit, store, wake the sender.
async fn request(
    state: &AppState,
    client: &ClientAddress,
    new: NewSubscription,
) -> Result<(Subscriber, Requested), ApiError> {
    let new = checked(state, new).await?;
    let (store, who) = (&*state.app, client.who());
    let limited = || ApiError::new(ErrorCode::TooManyRequests, "too many subscription requests; try again in an hour");
    let mailbox = mailbox(new.channel, &new.address);
    if state.limits.exhausted(store, REQUESTS_PER_CLIENT, &who).await?
        || state.limits.exhausted(store, REQUESTS_PER_ADDRESS, &mailbox).await?
    {
        return Err(limited());
    }
    state.limits.record(store, REQUESTS_PER_CLIENT, &who).await?;
    state.limits.record(store, REQUESTS_PER_ADDRESS, &mailbox).await?;
    let channel = new.channel;
    let stored = state.app.request_subscription(new, Timestamp::now()).await?;
    state.reach.wake(channel).notify_one();
    Ok(stored)
}

/// Ask for warnings by e-mail or web push (no account). E-mail: 202 and a confirmation message (nothing is sent
/// before the link in it is followed; an unconfirmed request is deleted after 48 hours). Push: 201, active at once.
#[utoipa::path(post, path = "/api/v1/subscriptions", security(()), tag = "public", request_body = NewSubscription,
    responses((status = 202, body = SubscriptionAccepted), (status = 201, body = SubscriptionAccepted),
        (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    client: ClientAddress,
    ApiJson(new): ApiJson<NewSubscription>,
) -> Result<(StatusCode, Json<SubscriptionAccepted>), ApiError> {
    let (subscriber, _) = request(&state, &client, new).await?;
    Ok(match subscriber.channel {
        Channel::Email => (
            StatusCode::ACCEPTED,
            Json(SubscriptionAccepted { status: "check_your_email", manage_url: None, unsubscribe_url: None }),
        ),
        Channel::Push => (
            StatusCode::CREATED,
            Json(SubscriptionAccepted {
                status: "subscribed",
                manage_url: Some(state.reach.manage_url(&state.public_url, &subscriber)),
                unsubscribe_url: Some(state.reach.unsubscribe_url(&state.public_url, &subscriber)),
            }),
        ),
    })
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Confirmation {
    /// The token from the confirmation link (`/subscriptions/{id}/confirm/{token}`).
    pub token: String,
}

/// What is stored about a subscriber: all of it.
#[derive(Serialize, ToSchema)]
pub struct StoredSubscription {
    pub id: i64,
    pub channel: Channel,
    /// The e-mail address or push endpoint.
    pub address: String,
    pub fylker: Vec<String>,
    pub min_tier: Tier,
    pub lang: Lang,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub confirmed_at: Option<Timestamp>,
    /// Messages not yet handed to the mail server or push service.
    pub pending_messages: u64,
}

fn link_not_found() -> ApiError {
    ApiError::new(ErrorCode::NotFound, "no subscription has that link; it may have been deleted")
}

/// The subscriber a link names, if the link is right.
async fn by_link(state: &AppState, id: i64, purpose: &str, token: &str) -> Result<Subscriber, ApiError> {
    match state.app.queries().subscriber(id).await? {
        Some(s) if state.reach.valid(purpose, &s, token) => Ok(s),
        _ => Err(link_not_found()),
    }
}

async fn confirm(state: &AppState, id: i64, token: &str) -> Result<Subscriber, ApiError> {
    let subscriber = by_link(state, id, "confirm", token).await?;
    Ok(state.app.confirm_subscription(subscriber.id, Timestamp::now()).await?)
}

/// Confirm an e-mail subscription with the token from the confirmation link. A link works once.
#[utoipa::path(post, path = "/api/v1/subscriptions/{id}/confirm", security(()), tag = "public", request_body = Confirmation,
    params(("id" = i64, Path, description = "The subscription's number")),
    responses((status = 200, body = StoredSubscription), (status = 404, body = ErrorBody), (status = 410, body = ErrorBody)))]
pub async fn confirm_api(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(c): ApiJson<Confirmation>,
) -> Result<Json<StoredSubscription>, ApiError> {
    let s = confirm(&state, id, &c.token).await?;
    Ok(Json(stored(&state, s).await?))
}

async fn stored(state: &AppState, s: Subscriber) -> Result<StoredSubscription, ApiError> {
    let pending_messages = state.app.queries().pending_messages(s.id).await?;
    Ok(StoredSubscription {
        id: s.id,
        channel: s.channel,
        address: s.address,
        fylker: s.preferences.fylker,
        min_tier: s.preferences.min_tier,
        lang: s.preferences.lang,
        created_at: s.created_at,
        confirmed_at: s.confirmed_at,
        pending_messages,
    })
}

#[derive(Deserialize, ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ManageToken {
    /// The token from the subscriber's page link (`/subscriptions/{id}/{token}`).
    pub token: String,
}

/// Everything stored about a subscriber, with the token from any message's link.
#[utoipa::path(get, path = "/api/v1/subscriptions/{id}", security(()), tag = "public",
    params(("id" = i64, Path, description = "The subscription's number"), ManageToken),
    responses((status = 200, body = StoredSubscription), (status = 404, body = ErrorBody)))]
pub async fn get_api(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<ManageToken>,
) -> Result<Json<StoredSubscription>, ApiError> {
    let s = by_link(&state, id, "manage", &q.token).await?;
    Ok(Json(stored(&state, s).await?))
}

/// Delete a subscription and everything stored about it.
#[utoipa::path(delete, path = "/api/v1/subscriptions/{id}", security(()), tag = "public",
    params(("id" = i64, Path, description = "The subscription's number"), ManageToken),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_api(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<ManageToken>,
) -> Result<StatusCode, ApiError> {
    let s = by_link(&state, id, "manage", &q.token).await?;
    state.app.delete_subscriber(s.id, "unsubscribe", Timestamp::now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- Pages (no JavaScript needed) ----

fn message_page(lang: Lang, status: StatusCode, heading: &str, text: &str, extra: Markup) -> Response {
    let body = html! { h1 { (heading) } p { (text) } (extra) };
    let mut response = page(layout(lang, heading, "/alerts", body));
    *response.status_mut() = status;
    // Pages about one subscriber are theirs alone.
    response.headers_mut().insert(header::CACHE_CONTROL, "no-store".parse().expect("a valid header"));
    response
}

fn error_page(lang: Lang, e: ApiError) -> Response {
    let ErrorBody { error, message, field } = e.body;
    message_page(
        lang,
        e.status,
        t(lang, "subscribe_error"),
        crate::http::error::text(error, lang),
        html! {
            @if let Some(field) = &field { p.meta { (field) ": " (message) } }
            p { a href={ "/alerts?lang=" (lang.code()) } { (t(lang, "alerts")) } }
        },
    )
}

async fn subscribe_form(State(state): State<AppState>, client: ClientAddress, body: axum::body::Bytes) -> Response {
    // Repeated `fylke` fields: read pair by pair (serde's form decoding takes one value per name).
    let mut new = NewSubscription {
        channel: Channel::Email,
        address: None,
        endpoint: None,
        keys: None,
        fylker: Vec::new(),
        min_tier: None,
        lang: None,
    };
    let mut bad_tier = None;
    for (name, value) in form_urlencoded::parse(&body) {
        match name.as_ref() {
            "address" => new.address = Some(value.into_owned()),
            "fylke" => new.fylker.push(value.into_owned()),
            "min_tier" => match Tier::parse(&value) {
                Some(tier) => new.min_tier = Some(tier),
                None => bad_tier = Some(value.into_owned()),
            },
            "lang" => new.lang = Lang::parse(&value),
            _ => {}
        }
    }
    let lang = new.lang.unwrap_or(Lang::Nb);
    if let Some(tier) = bad_tier {
        return error_page(lang, InvalidInput::invalid("min_tier", format!("'{tier}' is not a tier")).into());
    }
    match request(&state, &client, new).await {
        Ok(_) => message_page(
            lang,
            StatusCode::ACCEPTED,
            t(lang, "subscribe_check_heading"),
            t(lang, "subscribe_check_text"),
            html! {},
        ),
        Err(e) => error_page(lang, e),
    }
}

/// What every subscriber page is asked with: the link's number and token, and the language asked for.
struct LinkPage {
    id: String,
    token: String,
    lang: Option<String>,
    fallback: Lang,
}

impl axum::extract::FromRequestParts<AppState> for LinkPage {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let (id, token) =
            Path::<(String, String)>::from_request_parts(parts, state).await.map(|p| p.0).unwrap_or_default();
        let lang = Query::<LangQuery>::from_request_parts(parts, state).await.ok().and_then(|q| q.0.lang);
        let fallback = negotiate(lang.as_deref(), &parts.headers);
        Ok(LinkPage { id, token, lang, fallback })
    }
}

/// The subscriber a page link names, and the language to answer in (theirs unless the link asks for another); or
/// the error page to answer with.
async fn linked(state: &AppState, page: &LinkPage, purpose: &str) -> Result<(Subscriber, Lang), Response> {
    let not_found = |e| error_page(page.fallback, e);
    let id = page.id.parse().map_err(|_| not_found(link_not_found()))?;
    let s = by_link(state, id, purpose, &page.token).await.map_err(not_found)?;
    let lang = page.lang.as_deref().and_then(Lang::parse).unwrap_or(s.preferences.lang);
    Ok((s, lang))
}

/// A page that asks before it acts: links are followed by mail scanners, so nothing happens on GET.
fn button_page(lang: Lang, heading: &str, text: &str, button: &str) -> Response {
    message_page(
        lang,
        StatusCode::OK,
        t(lang, heading),
        t(lang, text),
        html! {
            form method="post" { button type="submit" { (t(lang, button)) } }
        },
    )
}

async fn confirm_page(State(state): State<AppState>, page: LinkPage) -> Response {
    match linked(&state, &page, "confirm").await {
        Ok((s, lang)) if s.confirmed_at.is_some() => {
            error_page(lang, ApiError::new(ErrorCode::LinkUsed, "the link was used"))
        }
        Ok((_, lang)) => button_page(lang, "confirm_heading", "confirm_text", "confirm_button"),
        Err(page) => page,
    }
}

async fn confirm_form(State(state): State<AppState>, page: LinkPage) -> Response {
    let (s, lang) = match linked(&state, &page, "confirm").await {
        Ok(found) => found,
        Err(page) => return page,
    };
    match state.app.confirm_subscription(s.id, Timestamp::now()).await {
        Ok(s) => {
            let manage = state.reach.manage_url("", &s);
            // A new subscriber hears of the next warning; what is live now they learn here, for their area and tier.
            let live = match live_for(&state, &s.preferences).await {
                Ok(live) => live,
                Err(e) => return error_page(lang, e),
            };
            message_page(
                lang,
                StatusCode::OK,
                t(lang, "confirmed_heading"),
                t(lang, "confirmed_text"),
                html! {
                    h2 { (t(lang, "live_now")) }
                    @if live.is_empty() { p { (t(lang, "no_live_warnings")) } }
                    @else {
                        ul.alerts {
                            @for a in &live {
                                li { a href={ "/alerts/" (a.id) "?lang=" (lang.code()) } { (a.content.title.get(lang)) } }
                            }
                        }
                    }
                    p { a href=(manage) { (t(lang, "manage_link")) } }
                },
            )
        }
        Err(e) => error_page(lang, e.into()),
    }
}

/// The published warnings now in force that a subscriber with these preferences would have been sent.
async fn live_for(state: &AppState, preferences: &Preferences) -> Result<Vec<varde_domain::alert::Alert>, ApiError> {
    let now = Timestamp::now();
    let filter = varde_store::AlertFilter { statuses: vec![AlertStatus::Published], ..Default::default() };
    Ok(state
        .app
        .queries()
        .alerts(filter)
        .await?
        .into_iter()
        .filter(|a| a.status_at(now) == AlertStatus::Published)
        .filter(|a| {
            varde_domain::subscription::wanted(
                preferences.min_tier,
                &preferences.fylker,
                Some(a.tier),
                &a.content.fylker,
            )
        })
        .collect())
}

async fn manage_page(State(state): State<AppState>, page: LinkPage) -> Response {
    let (s, lang) = match linked(&state, &page, "manage").await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let pending = match state.app.queries().pending_messages(s.id).await {
        Ok(n) => n,
        Err(e) => return error_page(lang, e.into()),
    };
    let area = if s.preferences.fylker.is_empty() {
        t(lang, "national").to_owned()
    } else {
        s.preferences
            .fylker
            .iter()
            .map(|f| state.assessor.geography.fylke(f).map_or(f.as_str(), |x| x.public_name()).to_owned())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let unsubscribe = format!("/subscriptions/{}/{}/unsubscribe", s.id, page.token);
    let channel = t(lang, if s.channel == Channel::Email { "channel_email" } else { "channel_push" });
    let confirmed = s.confirmed_at.map_or_else(|| "–".into(), |c| crate::http::pages::moment(c, lang));
    message_page(
        lang,
        StatusCode::OK,
        t(lang, "manage_heading"),
        t(lang, "manage_text"),
        html! {
            dl {
                dt { (t(lang, "manage_channel")) } dd { (channel) }
                dt { (t(lang, "manage_address")) } dd { (s.address) }
                dt { (t(lang, "subscribe_area")) } dd { (area) }
                dt { (t(lang, "subscribe_tier")) } dd { (state.assessor.templates.tier_word(s.preferences.min_tier).get(lang)) }
                dt { (t(lang, "manage_created")) } dd { (crate::http::pages::moment(s.created_at, lang)) }
                dt { (t(lang, "manage_confirmed")) } dd { (confirmed) }
                dt { (t(lang, "manage_pending")) } dd { (pending) }
            }
            form method="post" action=(unsubscribe) { button type="submit" { (t(lang, "unsubscribe_button")) } }
        },
    )
}

async fn unsubscribe_page(State(state): State<AppState>, page: LinkPage) -> Response {
    match linked(&state, &page, "manage").await {
        Ok((_, lang)) => button_page(lang, "unsubscribe_heading", "unsubscribe_text", "unsubscribe_button"),
        Err(page) => page,
    }
}

/// One click (RFC 8058: the mail client POSTs `List-Unsubscribe=One-Click`), or the button on the page: deleted.
async fn unsubscribe_form(State(state): State<AppState>, page: LinkPage) -> Response {
    let (s, lang) = match linked(&state, &page, "manage").await {
        Ok(found) => found,
        Err(page) => return page,
    };
    match state.app.delete_subscriber(s.id, "unsubscribe", Timestamp::now()).await {
        Ok(_) => {
            message_page(lang, StatusCode::OK, t(lang, "unsubscribed_heading"), t(lang, "unsubscribed_text"), html! {})
        }
        Err(e) => error_page(lang, e.into()),
    }
}

async fn service_worker() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")],
        include_str!("../../static/sw.js"),
    )
}

async fn notify_script(headers: axum::http::HeaderMap) -> Response {
    static SCRIPT: std::sync::LazyLock<crate::know::figures::Rendering> = std::sync::LazyLock::new(|| {
        crate::know::figures::Rendering::of_static(include_bytes!("../../static/notify.js"))
    });
    SCRIPT.clone().respond(&headers, "text/javascript; charset=utf-8", "public, max-age=3600")
}
