//! Varde's storage port: what a backend implements (the write transactions of [`port`], which the application core
//! writes through, and the reads of [`Queries`]) and the types they speak in. It knows no backend (the embedded
//! default is `varde-store-sqlite`) and no use case (those are `varde-core`'s).
//!
//! Every write is one transaction: either all of a request is stored or none of it. Every write, and every
//! sample-level read by a national role, appends to the hash-chained audit log in the same transaction.

pub mod audit;
mod error;
pub mod port;

pub use error::StoreError;

use async_trait::async_trait;
use jiff::Timestamp;
use varde_domain::alert::{Alert, AlertStatus, AlertVersion};
use varde_domain::auth::{Principal, Role};
use varde_domain::finding::Finding;
use varde_domain::sample::Sample;
use varde_domain::service::{Service, ServiceSlug};
use varde_domain::subscription::{Channel, Preferences};
use varde_domain::{SampleCode, Tier};

/// What a bearer token grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenGrant {
    pub id: i64,
    pub role: Role,
    pub service: Option<ServiceSlug>,
    /// Reads only: anything but GET and HEAD is refused.
    pub read_only: bool,
    /// When it stops working, if ever.
    pub expires: Option<Timestamp>,
}

impl TokenGrant {
    pub fn principal(&self) -> Principal {
        Principal { actor: format!("token:{}", self.id), role: self.role, service: self.service.clone() }
    }
}

#[derive(Debug, Clone)]
pub struct NewToken {
    /// SHA-256 of the secret; the secret itself is never stored.
    pub hash: [u8; 32],
    pub role: Role,
    pub service: Option<ServiceSlug>,
    pub label: Option<String>,
    /// Reads only (a dashboard, a partner that mirrors warnings); otherwise reads and writes.
    pub read_only: bool,
    /// When it stops working; None only when an operator chose a token that never expires.
    pub expires: Option<Timestamp>,
}

/// The result of checking the audit chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditReport {
    pub entries: u64,
    /// The first entry whose hash, link or sequence does not hold, with the reason.
    pub first_broken: Option<(i64, String)>,
}

/// A sample with its current findings and the alerts it is evidence for.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSample {
    pub sample: Sample,
    /// The fylke of the service that registered it.
    pub fylke: String,
    pub findings: Vec<Finding>,
    pub alerts: Vec<AlertRef>,
}

/// An alert a sample is evidence for.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AlertRef {
    pub id: i64,
    pub status: AlertStatus,
    pub tier: Tier,
}

/// An entry of the durable event log.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Event {
    pub seq: i64,
    pub at: Timestamp,
    /// `sample.finding`, `alert.drafted`, `alert.published`, `alert.updated`, `alert.withdrawn`.
    pub kind: String,
    /// False for sample-level and draft events, which only staff receive.
    pub public: bool,
    pub tier: Option<Tier>,
    pub fylker: Vec<String>,
    pub alert_id: Option<i64>,
    pub payload: serde_json::Value,
}

#[derive(Debug, Clone, Default)]
pub struct AlertFilter {
    /// Stored statuses (draft, published, withdrawn); empty: all.
    pub statuses: Vec<AlertStatus>,
    pub min_tier: Option<Tier>,
    /// Alerts for this fylke, and national ones.
    pub fylke: Option<String>,
    pub limit: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Webhook {
    pub id: i64,
    pub url: String,
    #[serde(skip)]
    pub secret: String,
    pub min_tier: Tier,
    /// Empty: every fylke.
    pub fylker: Vec<String>,
    /// The last event handled (delivered, or skipped by the filter).
    pub cursor: i64,
    pub active: bool,
}

#[derive(Debug, Clone)]
pub struct Delivery {
    pub webhook_id: i64,
    pub event_seq: i64,
    pub attempt: u32,
    pub at: Timestamp,
    pub ok: bool,
    pub status: Option<u16>,
    pub error: Option<String>,
}

/// Which kind of instrument a spectrum comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Technique {
    /// FTIR (and other infrared): wavenumber against absorbance or transmittance.
    Infrared,
    /// Electron-ionisation mass spectra (GC-MS): m/z against intensity.
    Mass,
}

impl Technique {
    pub fn as_str(self) -> &'static str {
        match self {
            Technique::Infrared => "infrared",
            Technique::Mass => "mass",
        }
    }
    pub fn parse(text: &str) -> Option<Technique> {
        match text {
            "infrared" => Some(Technique::Infrared),
            "mass" => Some(Technique::Mass),
            _ => None,
        }
    }
}

/// How every backend keeps a spectrum's points: little-endian f64, exact, compact and readable by any language (so
/// a copy between backends moves the bytes as they are).
pub mod points {
    use super::StoreError;

    pub fn to_bytes(values: &[f64]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Vec<f64>, StoreError> {
        if !bytes.len().is_multiple_of(8) {
            return Err(StoreError::Corrupt("spectrum points are not whole f64 values".into()));
        }
        Ok(bytes.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes"))).collect())
    }
}

/// What a sample's result changed, as every backend keeps it: the intention's code, whether the product was used,
/// the effect's code and the unexpected effects as a JSON array of codes; read back into the domain's types.
pub fn feedback_from_stored(
    (intention, used, effect, unexpected): (Option<String>, Option<bool>, Option<String>, Option<String>),
) -> Result<(Option<varde_domain::feedback::Intention>, Option<varde_domain::feedback::Outcome>), StoreError> {
    use varde_domain::feedback::{Effect, Intention, Outcome, UnexpectedEffect};
    let unknown = |what: &str, value: &str| StoreError::Corrupt(format!("unknown {what} '{value}'"));
    let intention = intention.map(|i| Intention::parse(&i).ok_or_else(|| unknown("intention", &i))).transpose()?;
    let Some(used) = used else { return Ok((intention, None)) };
    let effect = effect.map(|e| Effect::parse(&e).ok_or_else(|| unknown("effect", &e))).transpose()?;
    let codes: Vec<String> = match unexpected {
        Some(json) => serde_json::from_str(&json).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        None => Vec::new(),
    };
    let unexpected = codes
        .iter()
        .map(|c| UnexpectedEffect::parse(c).ok_or_else(|| unknown("unexpected effect", c)))
        .collect::<Result<_, _>>()?;
    Ok((intention, Some(Outcome { used, effect, unexpected })))
}

/// A subscription request as every backend stores it: the push keys (p256dh, auth), the fylker as a JSON array, and
/// the codes of the lowest tier and the language.
pub fn request_columns(new: &NewSubscriber) -> (Option<String>, Option<String>, String, &'static str, &'static str) {
    let (p256dh, auth) = new.push_keys.clone().unzip();
    let prefs = &new.preferences;
    let fylker = serde_json::to_string(&prefs.fylker).expect("strings serialise");
    (p256dh, auth, fylker, prefs.min_tier.as_str(), prefs.lang.code())
}

/// A reference spectrum of a catalogue substance, for the library.
#[derive(Debug, Clone, PartialEq)]
pub struct NewReferenceSpectrum {
    pub substance: String,
    pub technique: Technique,
    pub name: String,
    pub source: String,
    /// Infrared: wavenumber (cm⁻¹) and absorbance. Mass: m/z and intensity.
    pub x: Vec<f64>,
    pub y: Vec<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReferenceSpectrum {
    pub id: i64,
    pub spectrum: NewReferenceSpectrum,
    pub added_by: String,
    pub added_at: Timestamp,
}

/// A spectrum attached to an analysis, with what the engine proposed from it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAnalysisSpectrum {
    pub analysis_id: i64,
    pub technique: Technique,
    pub filename: String,
    pub format: String,
    pub original: Vec<u8>,
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    /// JSON, as the API returned it.
    pub proposals: String,
}

/// An attached spectrum as listed (without the file and points).
#[derive(Debug, Clone, PartialEq)]
pub struct AnalysisSpectrum {
    pub id: i64,
    pub analysis_id: i64,
    pub technique: Technique,
    pub filename: String,
    pub format: String,
    pub points: usize,
    pub proposals: String,
    pub uploaded_by: String,
    pub uploaded_at: Timestamp,
}

/// What a retention purge removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    pub photos: u64,
    pub sample_notes: u64,
    pub concern_texts: u64,
}

/// What aggregate statistics and open data need of one sample (current analyses and findings only).
#[derive(Debug, Clone, PartialEq)]
pub struct SampleSummary {
    /// The store's internal id (used as signal evidence; never published).
    pub id: i64,
    pub received: Timestamp,
    pub fylke: String,
    pub form: varde_domain::sample::Form,
    pub sold_as: Vec<varde_domain::SubstanceRef>,
    /// Substances found by current analyses, each once.
    pub found: Vec<varde_domain::SubstanceRef>,
    pub highest_tier: Option<Tier>,
    /// Rules of the current findings.
    pub rules: Vec<String>,
    /// Amounts per unit (mg) of main components, by catalogue id.
    pub mg_per_unit: Vec<(String, f64)>,
    /// What the person said they would do when the result was handed back.
    pub intention: Option<varde_domain::feedback::Intention>,
    /// What the person later said happened.
    pub outcome: Option<varde_domain::feedback::Outcome>,
}

/// A partition of the samples by time of receipt, and the version of its data.
///
/// Figures are counted per figure week and kept; a week's version changes, in the same transaction, with anything
/// the figures read about its samples (the samples, what they were sold as, analyses, findings, result feedback).
/// A renewal therefore reads only the weeks whose version changed, never the whole history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FigureWeek {
    /// Whole weeks since the Unix epoch (UTC, Thursday to Thursday): `received_ms / FigureWeek::MS`.
    pub week: i64,
    pub version: i64,
}

impl FigureWeek {
    /// The length of a figure week in milliseconds.
    pub const MS: i64 = 7 * 24 * 3_600_000;

    /// The figure week a sample received at `at` falls in.
    pub fn of(at: Timestamp) -> i64 {
        at.as_millisecond().div_euclid(Self::MS)
    }

    /// The first instant of `week` and the first after it.
    pub fn bounds(week: i64) -> (Timestamp, Timestamp) {
        let at = |ms: i64| Timestamp::from_millisecond(ms).unwrap_or(Timestamp::MAX);
        (at(week * Self::MS), at((week + 1) * Self::MS))
    }
}

/// A signal to record: a stream that rose above its bound in a week, with the samples behind it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSignal {
    pub stream: String,
    pub area: String,
    pub week: String,
    pub method: String,
    pub observed: f64,
    pub expected: Option<f64>,
    pub upperbound: f64,
    pub evidence: Vec<i64>,
}

/// A recorded signal, for analysts.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Signal {
    pub id: i64,
    pub computed_at: Timestamp,
    pub stream: String,
    pub area: String,
    pub week: String,
    pub method: String,
    pub observed: f64,
    pub expected: Option<f64>,
    pub upperbound: f64,
    /// Codes of the samples behind the signal.
    pub evidence: Vec<String>,
    /// open, drafted or dismissed.
    pub status: String,
    pub alert_id: Option<i64>,
}

/// One line of a service's sample list.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleLine {
    pub code: SampleCode,
    pub received: Timestamp,
    pub form: varde_domain::sample::Form,
    pub sold_as: Vec<varde_domain::SubstanceRef>,
    pub status: varde_domain::sample::Status,
    pub highest_tier: Option<Tier>,
}

/// An API token as admins see it (never the secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenLine {
    pub id: i64,
    pub role: Role,
    pub service: Option<ServiceSlug>,
    pub label: Option<String>,
    pub created: Timestamp,
    pub revoked: Option<Timestamp>,
    pub read_only: bool,
    pub expires: Option<Timestamp>,
    /// When it was last used (to within a minute or so: uses are recorded when the cache of grants is renewed).
    pub last_used: Option<Timestamp>,
}

/// A passkey as stored: the name its owner gave it, the credential as webauthn-rs keeps it (JSON), and its uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPasskey {
    pub id: i64,
    pub name: String,
    pub credential: String,
    pub created: Timestamp,
    pub last_used: Option<Timestamp>,
}

/// The user a provider's subject signed in as before: what a sign-in rule may have to change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedUser {
    pub id: i64,
    pub role: Role,
    pub service: Option<ServiceSlug>,
    /// An admin disabled them: no sign-in, whatever the provider says.
    pub disabled: bool,
}

/// A user as the login sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    pub role: Role,
    pub service: Option<ServiceSlug>,
    /// The TOTP secret (base32) once the person has enrolled a second factor.
    pub totp_secret: Option<String>,
}

/// A live session: who, and the token its forms must carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub user_id: i64,
    pub username: String,
    pub role: Role,
    pub service: Option<ServiceSlug>,
    pub csrf: String,
    /// Whether the session has passed everything the login asks for; false while it waits for the second factor
    /// (or its enrolment), when it opens no page but that one.
    pub verified: bool,
    /// When it was last used (its start, before any use), for the idle timeout.
    pub last_seen: Timestamp,
}

/// A live session as its user sees it in the list of their sessions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionLine {
    /// Names the session without giving it away: the first 8 bytes of the hash of its secret, in hex (the secret
    /// cannot be had back from them, nor the session taken over).
    pub key: String,
    pub started: Timestamp,
    pub expires: Timestamp,
}

impl SessionLine {
    /// The key of the session whose hash is `hash`.
    pub fn key_of(hash: &[u8; 32]) -> String {
        hex::encode(&hash[..8])
    }
}

impl SessionRecord {
    pub fn principal(&self) -> Principal {
        Principal { actor: format!("user:{}", self.user_id), role: self.role, service: self.service.clone() }
    }
}

/// Someone who asked for warnings (personal data: see `varde_domain::subscription`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscriber {
    pub id: i64,
    pub channel: Channel,
    /// The e-mail address or the push endpoint.
    pub address: String,
    /// Web push: the browser's public key and authentication secret, base64url.
    pub push_keys: Option<(String, String)>,
    pub preferences: Preferences,
    /// Random; links to the subscriber are keyed hashes of it and its id.
    pub nonce: String,
    pub created_at: Timestamp,
    pub confirmed_at: Option<Timestamp>,
}

/// A request to subscribe.
#[derive(Debug, Clone)]
pub struct NewSubscriber {
    pub channel: Channel,
    pub address: String,
    pub push_keys: Option<(String, String)>,
    pub preferences: Preferences,
    pub nonce: String,
}

/// What a subscription request found, and so what was queued: a confirmation for a new or still unconfirmed
/// e-mail address, a notice ("you already receive warnings; manage them here") for a confirmed one. A push
/// subscription is confirmed at once (the browser asked its user) and queues nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requested {
    New,
    StillPending,
    AlreadyConfirmed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    Confirm,
    Notice,
    Alert,
}

impl MessageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Confirm => "confirm",
            MessageKind::Notice => "notice",
            MessageKind::Alert => "alert",
        }
    }
}

/// A message waiting in the subscribers' outbox.
#[derive(Debug, Clone)]
pub struct OutboxMessage {
    pub id: i64,
    pub kind: MessageKind,
    pub subscriber: Subscriber,
    /// The alert event, for alert messages.
    pub event: Option<Event>,
    pub attempts: u32,
}

/// How handing over one outbox message went.
#[derive(Debug, Clone)]
pub enum Handover {
    /// Taken by the SMTP server or push service: the message leaves the outbox.
    Sent,
    /// Try again at `due` (the message is dropped after `varde_domain::subscription::GIVE_UP_AFTER` attempts).
    Retry { error: String, due: Timestamp },
    /// The receiver refused for good (SMTP 5xx): the message is dropped, the subscriber kept.
    Refused { error: String },
    /// The push service says the subscription is gone (404/410): the subscriber is deleted.
    Gone,
}

/// A service's address for escalations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceContact {
    pub service: ServiceSlug,
    pub email: String,
}

/// When each step towards a warning happened, for one alert (measured from its first sample).
#[derive(Debug, Clone, PartialEq)]
pub struct WarningTimes {
    pub received: Timestamp,
    pub assessed: Timestamp,
    pub drafted: Timestamp,
    pub published: Option<Timestamp>,
    pub first_delivered: Option<Timestamp>,
    /// When each service the alert reached acknowledged it.
    pub acknowledged: Vec<Timestamp>,
}

/// One try at something limited — a result look-up, a concern report, a failed login, a subscription request —
/// counted in the database, so that every instance sharing it counts together. Who tried is a keyed hash (see
/// [`LimitSalts`]); the address or account itself is never stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// Which limit ("lookup", "concern", "login", …).
    pub limit: &'static str,
    /// Who, hashed with today's salt.
    pub key: [u8; 32],
    /// Who, hashed with yesterday's: tries made before midnight still count after it.
    pub earlier_key: [u8; 32],
    pub allowance: u32,
    /// How long a try counts; less than a day, as salts last two.
    pub window: jiff::SignedDuration,
}

/// What [`Queries::attempt`] does with a try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counting {
    /// Counts it if the allowance is not used up (a look-up that then goes ahead).
    Allow,
    /// Counts it whatever the count (a failed login is counted, not allowed).
    Record,
    /// Counts nothing: only asks whether the allowance is used up.
    Ask,
}

/// The secrets the limits hash who tried with: one per day, made when first asked for and deleted the day after,
/// with the tries hashed under it — so a stored try cannot be tied to an address by trying every address once the
/// day is over, and even within it only with the database's own salt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitSalts {
    /// Days since 1970-01-01 (UTC).
    pub day: i64,
    pub today: [u8; 32],
    pub yesterday: [u8; 32],
}

/// Tries older than this are deleted when a day's salt is made (longer than any limit's window).
pub const ATTEMPTS_KEPT: jiff::SignedDuration = jiff::SignedDuration::from_hours(48);

/// The UTC day `at` falls on, as days since 1970-01-01.
pub fn day_of(at: Timestamp) -> i64 {
    at.as_second().div_euclid(86_400)
}

/// This instance's turn to run the background jobs (webhook delivery, the subscribers' outbox, signals,
/// retention). Where several instances share one database, one holds it at a time; it is lost when that instance's
/// hold on the database ends (the process dies, its connection is cut), and another instance takes it.
pub struct Leadership {
    lost: tokio::sync::watch::Receiver<bool>,
    _hold: Box<dyn std::any::Any + Send + Sync>,
}

impl Leadership {
    /// Held while `hold` lives; `lost` turns true when the hold ends by itself.
    pub fn new(lost: tokio::sync::watch::Receiver<bool>, hold: impl std::any::Any + Send + Sync) -> Leadership {
        Leadership { lost, _hold: Box::new(hold) }
    }

    /// Held for the store's life: one process has the database to itself (the embedded store).
    pub fn permanent() -> Leadership {
        let (keep, lost) = tokio::sync::watch::channel(false);
        Leadership::new(lost, keep)
    }

    /// Resolves when the leadership is lost.
    pub async fn lost(&mut self) {
        let _ = self.lost.wait_for(|lost| *lost).await;
    }
}

#[async_trait]
pub trait Queries: Send + Sync + 'static {
    async fn services(&self) -> Result<Vec<Service>, StoreError>;
    async fn service(&self, slug: &ServiceSlug) -> Result<Option<Service>, StoreError>;
    /// The grant of a token that exists and is not revoked (expired ones too: the caller says so).
    async fn token(&self, hash: [u8; 32]) -> Result<Option<TokenGrant>, StoreError>;
    /// Records that token `id` was used at `at`.
    async fn token_used(&self, id: i64, at: Timestamp) -> Result<(), StoreError>;
    /// Reads a sample without auditing: for its own service's technician and the public result look-up.
    async fn sample(&self, code: SampleCode) -> Result<Option<StoredSample>, StoreError>;
    async fn sample_count(&self) -> Result<u64, StoreError>;
    /// A service's samples, newest first, optionally with one status only; at most `limit`.
    async fn samples_of(
        &self,
        service: &ServiceSlug,
        status: Option<varde_domain::sample::Status>,
        limit: usize,
    ) -> Result<Vec<SampleLine>, StoreError>;

    async fn alerts(&self, filter: AlertFilter) -> Result<Vec<Alert>, StoreError>;
    async fn alert(&self, id: i64) -> Result<Option<Alert>, StoreError>;
    async fn alert_versions(&self, id: i64) -> Result<Vec<AlertVersion>, StoreError>;

    /// Events after `seq`, oldest first.
    async fn events_after(&self, seq: i64, limit: usize) -> Result<Vec<Event>, StoreError>;
    /// The newest event's seq, updated after every commit and before the write that added the events returns: whoever
    /// heard back from a write finds the watch past its events (caches keyed by it rely on that).
    fn event_watch(&self) -> tokio::sync::watch::Receiver<i64>;
    /// Why writes are failing, if the last write failed for the storage's sake (disk full, database unavailable);
    /// `None` once a write succeeds again.
    fn write_failure(&self) -> Option<String>;
    async fn webhooks(&self) -> Result<Vec<Webhook>, StoreError>;
    /// Moves a subscriber's cursor past events its filter skips.
    async fn skip_to(&self, webhook_id: i64, seq: i64) -> Result<(), StoreError>;
    /// Failed attempts so far and the last error, for admins.
    async fn delivery_status(&self, webhook_id: i64) -> Result<(u64, Option<String>), StoreError>;

    /// For each alert: its first sample's received time and when it was assessed, drafted, published and first
    /// delivered to a subscriber.
    async fn warning_times(&self) -> Result<Vec<WarningTimes>, StoreError>;
    /// When and in which fylke each concern report came in (no text), for counts and signals.
    async fn concern_times(&self) -> Result<Vec<(Timestamp, String)>, StoreError>;
    /// User-room days with each service's fylke, oldest first; one service's or all.
    async fn user_room_days(
        &self,
        service: Option<ServiceSlug>,
    ) -> Result<Vec<(varde_domain::indicator::UserRoomDay, String)>, StoreError>;
    /// Drug-induced deaths per year, oldest first.
    async fn deaths(&self) -> Result<Vec<(i32, u32)>, StoreError>;

    /// The samples received in `[from, to)`, summarised for statistics and open data (no codes, no free text).
    async fn sample_summaries(&self, from: Timestamp, to: Timestamp) -> Result<Vec<SampleSummary>, StoreError>;
    /// Every figure week that has held a sample, with its data version (see [`FigureWeek`]).
    async fn figure_weeks(&self) -> Result<Vec<FigureWeek>, StoreError>;
    /// The stated intention and the outcome recorded for a sample.
    async fn feedback(
        &self,
        code: SampleCode,
    ) -> Result<(Option<varde_domain::feedback::Intention>, Option<varde_domain::feedback::Outcome>), StoreError>;
    async fn user(&self, username: &str) -> Result<Option<UserRecord>, StoreError>;
    /// Starts a session, audited as `session.start`; `verified` false when it must pass the second factor first.
    async fn create_session(
        &self,
        hash: [u8; 32],
        user_id: i64,
        csrf: &str,
        at: Timestamp,
        expires: Timestamp,
        verified: bool,
    ) -> Result<(), StoreError>;
    /// The session with this hash, if it exists, has not expired at `now`, and its user is enabled.
    async fn session(&self, hash: [u8; 32], now: Timestamp) -> Result<Option<SessionRecord>, StoreError>;
    /// Ends the session with this hash, audited as its user's `session.end` with `why` (nothing when there is none).
    async fn end_session(&self, hash: [u8; 32], why: &str, at: Timestamp) -> Result<(), StoreError>;
    /// Records that the session with this hash was used at `at`.
    async fn session_seen(&self, hash: [u8; 32], at: Timestamp) -> Result<(), StoreError>;
    /// Keeps (or, with None, forgets) the state of the session's passkey ceremony under way.
    async fn set_ceremony(&self, hash: [u8; 32], state: Option<String>) -> Result<(), StoreError>;
    /// The state of the session's passkey ceremony, forgotten as it is read: a challenge is answered once.
    async fn take_ceremony(&self, hash: [u8; 32]) -> Result<Option<String>, StoreError>;
    /// User `user_id`'s live sessions at `now`, newest first.
    async fn sessions_of(&self, user_id: i64, now: Timestamp) -> Result<Vec<SessionLine>, StoreError>;
    /// Ends user `user_id`'s session named `key` (see [`SessionLine::key`]), audited; false when there is none.
    async fn end_session_of(&self, user_id: i64, key: &str, at: Timestamp) -> Result<bool, StoreError>;

    /// Every user (name, role, service, disabled), for admins.
    async fn users(&self) -> Result<Vec<(String, Role, Option<ServiceSlug>, bool)>, StoreError>;
    async fn tokens(&self) -> Result<Vec<TokenLine>, StoreError>;
    /// The services that acknowledged an alert, with when, first first.
    async fn acknowledgements(&self, alert: i64) -> Result<Vec<(ServiceSlug, Timestamp)>, StoreError>;
    /// The alerts a service has acknowledged (one query for a technician's start page, not one per alert).
    async fn acknowledged_by(&self, service: &ServiceSlug) -> Result<Vec<i64>, StoreError>;
    /// The alert's evidence samples that have a photo (codes only: no image is read).
    async fn evidence_with_photos(&self, alert: i64) -> Result<Vec<SampleCode>, StoreError>;
    /// The JPEG chosen for an alert, if any.
    async fn alert_photo(&self, alert: i64) -> Result<Option<Vec<u8>>, StoreError>;
    async fn photo(&self, code: SampleCode) -> Result<Option<Vec<u8>>, StoreError>;
    /// The whole reference library, oldest first.
    async fn reference_spectra(&self) -> Result<Vec<ReferenceSpectrum>, StoreError>;
    /// The library's version: the newest spectrum's id (0 when empty). Spectra are only added, so an instance that
    /// built its search engine at this version knows, with one cheap read, whether another instance added one.
    async fn reference_library_version(&self) -> Result<i64, StoreError>;
    /// The spectra attached to a sample's analyses, oldest first.
    async fn spectra_of(&self, code: SampleCode) -> Result<Vec<AnalysisSpectrum>, StoreError>;
    async fn subscriber(&self, id: i64) -> Result<Option<Subscriber>, StoreError>;
    /// Messages still waiting for one subscriber (shown on their page).
    async fn pending_messages(&self, id: i64) -> Result<u64, StoreError>;
    /// Messages of `channel` due at `now`, oldest first.
    async fn due_messages(
        &self,
        channel: Channel,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<OutboxMessage>, StoreError>;
    async fn service_contacts(&self) -> Result<Vec<ServiceContact>, StoreError>;
    /// The services an alert was escalated to.
    async fn escalations(&self, alert: i64) -> Result<Vec<ServiceSlug>, StoreError>;

    /// Counts a try at a limit as `counting` says; true if the allowance was not used up before it. Exact when
    /// instances count at once.
    async fn attempt(&self, attempt: Attempt, counting: Counting, at: Timestamp) -> Result<bool, StoreError>;
    /// The salts for `at`'s day and the day before, made if missing; older salts, and tries older than
    /// [`ATTEMPTS_KEPT`], are deleted.
    async fn limit_salts(&self, at: Timestamp) -> Result<LimitSalts, StoreError>;

    async fn meta(&self, key: &str) -> Result<Option<String>, StoreError>;
    async fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError>;

    async fn verify_audit(&self) -> Result<AuditReport, StoreError>;

    /// The schema version the database has (after the migrations applied at open).
    async fn schema_version(&self) -> Result<i64, StoreError>;

    /// Brings the query planner's statistics up to date after a bulk load (a copy, a restore, a demo dataset).
    /// On PostgreSQL autovacuum does it in time, but until then plans are made for the empty tables the load started
    /// from, and a plan a connection has cached (scanning a table that was small) stays. A backend that plans without
    /// statistics has nothing to do.
    async fn refresh_statistics(&self) -> Result<(), StoreError>;

    /// Takes the leadership for background jobs if no other instance holds it (see [`Leadership`]). The default is
    /// for a store one process has to itself.
    async fn try_lead(&self) -> Result<Option<Leadership>, StoreError> {
        Ok(Some(Leadership::permanent()))
    }

    /// Finishes the writes under way and stops taking new ones (the embedded store's writer thread); a backend
    /// whose connections end with it has nothing to do.
    fn close(&self) {}
}
