//! The port the application core writes through, and that each backend serves: its open write transaction, row by
//! row, with no decision in it ([`Transaction`] and one trait per concern beyond the common rows), and the way it runs
//! a unit of work in one ([`Backend::write`]). The use cases themselves are the core's (`varde-core`): they say in what
//! order the rows are read and written and what they carry, and the pure domain decides. So a third backend writes
//! rows, not use cases, and the two that exist cannot drift apart in what a use case does.
//!
//! Reads that are one query, and the few row-level writes no use case orders (a rate limit's count, a session, a
//! webhook's cursor), are [`Queries`](crate::Queries).

mod admin;
mod check;
mod detect;
mod reach;
mod retention;
mod warn;

pub use admin::Administration;
pub use check::{Attachments, Feedback, Registration};
pub use detect::{Indicators, Signals, StoredSignal};
pub use reach::{Reach, Webhooks};
pub use retention::Retention;
pub use warn::{Acknowledgements, AlertPhotos, ChosenPhoto};

use crate::{AlertRef, Queries, StoreError, StoredSample};
use futures_util::future::BoxFuture;
use jiff::Timestamp;
use varde_domain::SampleCode;
use varde_domain::Tier;
use varde_domain::alert::{Alert, AlertStatus, Change};
use varde_domain::assess::Assessor;
use varde_domain::auth::Principal;
use varde_domain::finding::Finding;
use varde_domain::joining::{self, Joinable, Joiner, Plan};
use varde_domain::merging::{Merge, Together};
use varde_domain::sample::{NewAnalysis, NewSample, Sample};

/// A backend: the reads and row-level writes of [`Queries`], and write transactions the core's use cases run in.
pub trait Backend: Queries {
    /// The backend's own error inside a transaction; a use case's refusal ([`StoreError`]) becomes one and it becomes
    /// a [`StoreError`] again for the caller.
    type Error: From<StoreError> + Into<StoreError> + Send + 'static;
    /// The backend's open write transaction: every port a use case writes through.
    type Tx<'t>: Ports<Error = Self::Error>;

    /// Runs `work` in a write transaction of its own, after the writes before it in `turn`, and commits it when
    /// `work` succeeds (nothing of it is stored when it fails). Resolves once the commit is durable; the events it
    /// appended are announced to readers before it resolves.
    fn write<R, W>(&self, turn: Turn, work: W) -> impl Future<Output = Result<R, StoreError>> + Send
    where
        R: Send + 'static,
        W: for<'t> FnOnce(&'t Self::Tx<'t>) -> BoxFuture<'t, Result<R, Self::Error>> + Send + 'static;

    /// A backend that commits registrations in groups serves them itself (PostgreSQL: one transaction and one
    /// `fsync` for many); the others register one sample at a time through the core's use case.
    fn grouped_registration(&self) -> Option<&dyn GroupedRegistration> {
        None
    }
}

/// Which writes a unit of work waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Turn {
    /// After every write before it, with nothing committed between its reads and its writes.
    Writers,
    /// The fan-out of events to subscribers, in a turn of its own: most events are for nobody, and moving its cursor
    /// past them need not wait for the writers ([`Reach::confirmed_subscribers`] waits for them when it must).
    FanOut,
}

/// Every port the use cases write through, served by one open transaction.
pub trait Ports:
    Transaction
    + Registration
    + Feedback
    + Attachments
    + Signals
    + Indicators
    + Acknowledgements
    + AlertPhotos
    + Reach
    + Webhooks
    + Retention
    + Administration
{
}

impl<T> Ports for T where
    T: Transaction
        + Registration
        + Feedback
        + Attachments
        + Signals
        + Indicators
        + Acknowledgements
        + AlertPhotos
        + Reach
        + Webhooks
        + Retention
        + Administration
{
}

/// Registration committed in groups: the sample stored, assessed and joined to its product's draft as the core's
/// `check::register` does one at a time, with the same decisions (`recording::registered`, `recording::assessed`,
/// `joining::plan`) applied to a whole group in a few statements.
#[async_trait::async_trait]
pub trait GroupedRegistration: Send + Sync {
    async fn register(
        &self,
        code: SampleCode,
        sample: NewSample,
        actor: &Principal,
        at: Timestamp,
    ) -> Result<StoredSample, StoreError>;
}

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
/// Every method is one small read or write with no decision in it; the core's use cases call them in order.
/// Nothing is committed until the backend commits the whole transaction, so a use case that fails half-way leaves
/// nothing behind.
// Every future is `Send`, so a use case generic over the port is `Send` too: PostgreSQL's round trips move between
// tokio's threads. (SQLite's return at once, on its writer thread.)
pub trait Transaction: Sync {
    /// The backend's own error; any [`StoreError`] a use case refuses with becomes one.
    type Error: From<StoreError>;

    /// The id of the service with `slug`; [`StoreError::UnknownService`] when there is none.
    fn service_id(&self, slug: &str) -> impl Future<Output = Result<i64, Self::Error>> + Send;

    // Samples and analyses.

    /// The id of the sample with `code`; [`StoreError::UnknownSample`] when there is none.
    fn sample_id(&self, code: SampleCode) -> impl Future<Output = Result<i64, Self::Error>> + Send;
    /// What is stored of analysis `id`: the sample it belongs to and the analysis that superseded it, if any.
    fn analysis_link(&self, id: i64) -> impl Future<Output = Result<Option<(i64, Option<i64>)>, Self::Error>> + Send;
    /// Stores an analysis of sample `sample`, recorded at `at`; returns its id.
    fn insert_analysis(
        &self,
        sample: i64,
        analysis: &NewAnalysis,
        at: Timestamp,
    ) -> impl Future<Output = Result<i64, Self::Error>> + Send;
    /// Marks analysis `old` superseded by analysis `by` (it is kept).
    fn supersede(&self, old: i64, by: i64) -> impl Future<Output = Result<(), Self::Error>> + Send;
    /// Reads the sample with its analyses and stores the status they give it (status is derived, never set).
    fn renew_status(&self, sample: i64, code: SampleCode) -> impl Future<Output = Result<Sample, Self::Error>> + Send;
    /// The fylke of the service that registered sample `sample`.
    fn fylke_of(&self, sample: i64) -> impl Future<Output = Result<String, Self::Error>> + Send;
    /// Makes `findings` the sample's current findings, assessed at `at`; earlier ones are kept as history.
    fn replace_findings(
        &self,
        sample: i64,
        findings: &[Finding],
        at: Timestamp,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;
    /// The sample with `code`, with its current findings and the alerts it is evidence for.
    fn stored_sample(&self, code: SampleCode)
    -> impl Future<Output = Result<Option<StoredSample>, Self::Error>> + Send;
    /// The alerts sample `sample` is evidence for, by id.
    fn alert_refs(&self, sample: i64) -> impl Future<Output = Result<Vec<AlertRef>, Self::Error>> + Send;
    /// The alerts the joiners may join (a superset: `joining::plan` picks), each draft with its newest evidence; read
    /// under the backend's guarantee that no other write joins or drafts until this transaction ends, so that two
    /// samples of one product cannot both find no draft and make two.
    fn joinable(&self, joiners: &[Joiner<'_>]) -> impl Future<Output = Result<Vec<Joinable>, Self::Error>> + Send;
    /// Writes what `joining::plan` decided for the joiners (new drafts first, as the rest refers to them): the alerts'
    /// rows, the new evidence, the transitions and the `alert.drafted` events; what each joiner joined.
    fn write_joins(
        &self,
        plan: &Plan,
        joiners: &[Joiner<'_>],
    ) -> impl Future<Output = Result<Vec<AlertRef>, Self::Error>> + Send;

    // What every write leaves behind.

    /// Appends an entry to the audit chain.
    fn audit(
        &self,
        at: Timestamp,
        actor: &str,
        action: &str,
        subject: &str,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;
    /// The newest event's sequence number (0 when there is none).
    fn newest_event(&self) -> impl Future<Output = Result<i64, Self::Error>> + Send;
    /// Appends an event to the event log (announced to readers once the transaction commits).
    fn event(&self, event: NewEvent) -> impl Future<Output = Result<(), Self::Error>> + Send;
    /// Records an alert's change of status, with who and why.
    fn transition(
        &self,
        alert: i64,
        at: Timestamp,
        actor: &str,
        reason: &str,
        from: Option<AlertStatus>,
        to: AlertStatus,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;

    // Alerts.

    /// The alert with `id` as stored.
    fn alert(&self, id: i64) -> impl Future<Output = Result<Option<Alert>, Self::Error>> + Send;
    /// The samples behind alert `id`, newest first.
    fn alert_evidence(&self, id: i64) -> impl Future<Output = Result<Vec<StoredSample>, Self::Error>> + Send;
    /// The area (fylke, or "national") an alert is about, as its product key grouped it.
    fn alert_area(&self, id: i64) -> impl Future<Output = Result<String, Self::Error>> + Send;
    /// Writes a reviewer's change to alert `id` as [`Change::row`] says, and the public version it makes, if any
    /// (with the reviewer's `note`).
    fn write_change(
        &self,
        id: i64,
        change: &Change,
        note: Option<&str>,
        actor: &str,
        at: Timestamp,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;
    /// The two drafts' evidence together, for merging (each sample once).
    fn together(&self, from: i64, into: i64) -> impl Future<Output = Result<Together, Self::Error>> + Send;
    /// Writes a merge of draft `from` into `merge.into`: `from`'s samples join it, its row takes the merged status,
    /// tier, text and span, and `from` takes `merge.from_status`.
    fn write_merge(
        &self,
        from: i64,
        merge: &Merge,
        at: Timestamp,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;
    /// Moves the alerts in status `from` whose newest evidence is older than `before` to status `to`; returns
    /// their ids.
    fn move_stale(
        &self,
        from: AlertStatus,
        to: AlertStatus,
        before: Timestamp,
        at: Timestamp,
    ) -> impl Future<Output = Result<Vec<i64>, Self::Error>> + Send;
}

/// Join-or-draft, shared by registration one at a time (the core's `check`) and in groups (PostgreSQL's): joins each sample (in order) to the open alert about its product in its area, or starts a draft, as
/// `joining::plan` decides from the joinable alerts (a draft's text and tier follow its evidence; a published alert
/// keeps its reviewed text and is marked as having new evidence); what each joined.
pub async fn join<T: Transaction>(
    tx: &T,
    assessor: &Assessor,
    joiners: &[Joiner<'_>],
) -> Result<Vec<AlertRef>, T::Error> {
    if joiners.is_empty() {
        return Ok(Vec::new());
    }
    let plan = joining::plan(assessor, tx.joinable(joiners).await?, joiners);
    tx.write_joins(&plan, joiners).await
}
