//! Varde's application core: each use case written once, as what it reads, what the pure domain decides from that,
//! and what it writes — all inside one transaction of whichever backend serves it.
//!
//! A backend serves the core by implementing [`Transaction`] for its open transaction: row-level reads and writes
//! with no decision in them (which SQL, which rows). The core says in what order they happen and what they carry;
//! the domain (`varde_domain::{assess, joining, merging, alert}`) and `varde_store::decisions` decide. So a third
//! backend writes rows, not use cases, and the two that exist cannot drift apart in what a use case does.
//!
//! The use cases, by the chain they serve: [`check`] (a sample registered, an analysis added or amended, a sample
//! assessed and joined to its product's draft, photos and spectra attached, what the person said about the result),
//! [`detect`] (signals recorded and read, an alert drafted from a signal, indicators recorded), [`warn`] (a
//! reviewer's action on an alert, merging two drafts, archiving stale drafts, an alert's evidence read and its photo
//! chosen, services acknowledging alerts and escalations to them), [`reach`] (subscriptions, the fan-out of alert
//! events to subscribers, settling their outbox, webhooks and their deliveries), [`retention`], and [`admin`]
//! (services, tokens, users). Each concern beyond the common rows of [`Transaction`] has a port of its own
//! (`Registration`, `Attachments`, `Feedback`, `Signals`, `Indicators`, `Acknowledgements`, `AlertPhotos`, `Reach`,
//! `Webhooks`, `Retention`, `Administration`), so a use case asks only for what it reads and writes.
//!
//! SQLite serves registration one sample at a time ([`check::register`]). PostgreSQL commits registrations in
//! groups, with the same decisions (`decisions::registered`, `decisions::assessed`) applied to the whole group in a
//! few statements, and the core's [`check::join`] for join-or-draft.

pub mod admin;
pub mod check;
pub mod detect;
pub mod reach;
pub mod retention;
pub mod warn;

#[cfg(test)]
mod tests;

use jiff::Timestamp;
use varde_domain::SampleCode;
use varde_domain::Tier;
use varde_domain::alert::{Alert, AlertStatus, Change};
use varde_domain::finding::Finding;
use varde_domain::joining::{Joinable, Joiner, Plan};
use varde_domain::merging::{Merge, Together};
use varde_domain::sample::{NewAnalysis, Sample};
use varde_store::{AlertRef, StoreError, StoredSample};

/// An event to append to the durable event log (its sequence number is the log's to give).
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub at: Timestamp,
    pub kind: &'static str,
    /// False for sample-level and draft events, which only staff receive.
    pub public: bool,
    pub tier: Option<Tier>,
    pub fylker: Vec<String>,
    pub alert_id: Option<i64>,
    pub payload: serde_json::Value,
}

/// What a use case reads and writes inside one open transaction of a backend, row by row.
///
/// Every method is one small read or write with no decision in it; the use cases in this crate call them in order.
/// Nothing is committed until the backend commits the whole transaction, so a use case that fails half-way leaves
/// nothing behind.
// The methods are `async fn`: PostgreSQL's are round trips, SQLite's return at once (its writer thread finishes a
// use case in one poll). The lint warns that a caller generic over the trait cannot require the futures to be `Send`;
// no caller needs that — each backend calls the core with its own concrete transaction, whose futures are `Send`
// exactly when the backend's are (PostgreSQL's, which tokio moves between threads) and need not be otherwise
// (SQLite's, which never leave the writer thread).
#[allow(async_fn_in_trait)]
pub trait Transaction {
    /// The backend's own error; any [`StoreError`] a use case refuses with becomes one.
    type Error: From<StoreError>;

    /// The id of the service with `slug`; [`StoreError::UnknownService`] when there is none.
    async fn service_id(&self, slug: &str) -> Result<i64, Self::Error>;

    // Samples and analyses.

    /// The id of the sample with `code`; [`StoreError::UnknownSample`] when there is none.
    async fn sample_id(&self, code: SampleCode) -> Result<i64, Self::Error>;
    /// What is stored of analysis `id`: the sample it belongs to and the analysis that superseded it, if any.
    async fn analysis_link(&self, id: i64) -> Result<Option<(i64, Option<i64>)>, Self::Error>;
    /// Stores an analysis of sample `sample`, recorded at `at`; returns its id.
    async fn insert_analysis(&self, sample: i64, analysis: &NewAnalysis, at: Timestamp) -> Result<i64, Self::Error>;
    /// Marks analysis `old` superseded by analysis `by` (it is kept).
    async fn supersede(&self, old: i64, by: i64) -> Result<(), Self::Error>;
    /// Reads the sample with its analyses and stores the status they give it (status is derived, never set).
    async fn renew_status(&self, sample: i64, code: SampleCode) -> Result<Sample, Self::Error>;
    /// The fylke of the service that registered sample `sample`.
    async fn fylke_of(&self, sample: i64) -> Result<String, Self::Error>;
    /// Makes `findings` the sample's current findings, assessed at `at`; earlier ones are kept as history.
    async fn replace_findings(&self, sample: i64, findings: &[Finding], at: Timestamp) -> Result<(), Self::Error>;
    /// The sample with `code`, with its current findings and the alerts it is evidence for.
    async fn stored_sample(&self, code: SampleCode) -> Result<Option<StoredSample>, Self::Error>;
    /// The alerts sample `sample` is evidence for, by id.
    async fn alert_refs(&self, sample: i64) -> Result<Vec<AlertRef>, Self::Error>;
    /// The alerts the joiners may join (a superset: `joining::plan` picks), each draft with its newest evidence; read
    /// under the backend's guarantee that no other write joins or drafts until this transaction ends, so that two
    /// samples of one product cannot both find no draft and make two.
    async fn joinable(&self, joiners: &[Joiner<'_>]) -> Result<Vec<Joinable>, Self::Error>;
    /// Writes what `joining::plan` decided for the joiners (new drafts first, as the rest refers to them): the alerts'
    /// rows, the new evidence, the transitions and the `alert.drafted` events; what each joiner joined.
    async fn write_joins(&self, plan: &Plan, joiners: &[Joiner<'_>]) -> Result<Vec<AlertRef>, Self::Error>;

    // What every write leaves behind.

    /// Appends an entry to the audit chain.
    async fn audit(&self, at: Timestamp, actor: &str, action: &str, subject: &str) -> Result<(), Self::Error>;
    /// The newest event's sequence number (0 when there is none).
    async fn newest_event(&self) -> Result<i64, Self::Error>;
    /// Appends an event to the event log (announced to readers once the transaction commits).
    async fn event(&self, event: NewEvent) -> Result<(), Self::Error>;
    /// Records an alert's change of status, with who and why.
    async fn transition(
        &self,
        alert: i64,
        at: Timestamp,
        actor: &str,
        reason: &str,
        from: Option<AlertStatus>,
        to: AlertStatus,
    ) -> Result<(), Self::Error>;

    // Alerts.

    /// The alert with `id` as stored.
    async fn alert(&self, id: i64) -> Result<Option<Alert>, Self::Error>;
    /// The samples behind alert `id`, newest first.
    async fn alert_evidence(&self, id: i64) -> Result<Vec<StoredSample>, Self::Error>;
    /// The area (fylke, or "national") an alert is about, as its product key grouped it.
    async fn alert_area(&self, id: i64) -> Result<String, Self::Error>;
    /// Writes a reviewer's change to alert `id` as [`Change::row`] says, and the public version it makes, if any
    /// (with the reviewer's `note`).
    async fn write_change(
        &self,
        id: i64,
        change: &Change,
        note: Option<&str>,
        actor: &str,
        at: Timestamp,
    ) -> Result<(), Self::Error>;
    /// The two drafts' evidence together, for merging (each sample once).
    async fn together(&self, from: i64, into: i64) -> Result<Together, Self::Error>;
    /// Writes a merge of draft `from` into `merge.into`: `from`'s samples join it, its row takes the merged status,
    /// tier, text and span, and `from` takes `merge.from_status`.
    async fn write_merge(&self, from: i64, merge: &Merge, at: Timestamp) -> Result<(), Self::Error>;
    /// Moves the alerts in status `from` whose newest evidence is older than `before` to status `to`; returns
    /// their ids.
    async fn move_stale(
        &self,
        from: AlertStatus,
        to: AlertStatus,
        before: Timestamp,
        at: Timestamp,
    ) -> Result<Vec<i64>, Self::Error>;
}
