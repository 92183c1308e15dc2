//! The rows detection writes: signals and the drafts made from them, and the indicators besides samples.

use super::Transaction;
use crate::{NewSignal, Signal};
use jiff::Timestamp;
use varde_domain::finding::Finding;
use varde_domain::indicator::{NewConcern, UserRoomDay};
use varde_domain::recording::SignalDraft;
use varde_domain::sample::Sample;

/// A recorded signal as drafting reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSignal {
    /// A fylke, or "national".
    pub area: String,
    pub stream: String,
    /// open, drafted or dismissed.
    pub status: String,
    /// The samples behind it (store ids).
    pub evidence: Vec<i64>,
}

/// What drafting from a signal reads and writes besides [`Transaction`]'s rows.
pub trait Signals: Transaction {
    /// Records a signal unless one for its stream, area and week is recorded; true when it was new.
    fn insert_signal(
        &self,
        signal: &NewSignal,
        at: Timestamp,
    ) -> impl Future<Output = Result<bool, Self::Error>> + Send;
    /// Recorded signals, newest first; only open ones unless `all`.
    fn signal_list(&self, all: bool) -> impl Future<Output = Result<Vec<Signal>, Self::Error>> + Send;
    fn signal(&self, id: i64) -> impl Future<Output = Result<Option<StoredSignal>, Self::Error>> + Send;
    /// The samples with these ids and their current findings, in that order; [`StoreError::UnknownSample`] when
    /// one is missing.
    fn evidence(
        &self,
        samples: &[i64],
    ) -> impl Future<Output = Result<Vec<(Sample, Vec<Finding>)>, Self::Error>> + Send;
    /// Stores a new draft under `key` about `area`; returns its id.
    fn insert_draft(
        &self,
        key: &str,
        area: &str,
        draft: &SignalDraft,
        at: Timestamp,
    ) -> impl Future<Output = Result<i64, Self::Error>> + Send;
    /// Makes these samples evidence for alert `alert`.
    fn add_evidence(
        &self,
        alert: i64,
        samples: &[i64],
        at: Timestamp,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;
    /// Marks signal `id` as drafted into alert `alert`.
    fn mark_drafted(&self, id: i64, alert: i64) -> impl Future<Output = Result<(), Self::Error>> + Send;
}

/// What recording indicators writes besides [`Transaction`]'s rows.
pub trait Indicators: Transaction {
    /// Stores an anonymous concern report received at `at`; its id.
    fn insert_concern(
        &self,
        report: &NewConcern,
        at: Timestamp,
    ) -> impl Future<Output = Result<i64, Self::Error>> + Send;
    /// Whether service `service` has counts for `day` already.
    fn has_user_room_day(&self, service: i64, day: &str) -> impl Future<Output = Result<bool, Self::Error>> + Send;
    /// Stores a user room's counts for a day, replacing earlier ones.
    fn put_user_room_day(
        &self,
        service: i64,
        day: &UserRoomDay,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;
    /// Stores the drug-induced deaths of a year, replacing earlier figures for it.
    fn put_deaths(
        &self,
        year: i32,
        deaths: u32,
        note: Option<&str>,
        source: &str,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;
}
