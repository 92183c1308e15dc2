//! The rows the services' side of a warning writes: acknowledgements, escalations, the photo published with an alert.

use super::Transaction;
use jiff::Timestamp;

/// What the services' side of an alert writes besides [`Transaction`]'s rows.
pub trait Acknowledgements: Transaction {
    /// Records that service `service` acknowledged alert `alert`; false when it already had.
    fn insert_acknowledgement(
        &self,
        alert: i64,
        service: i64,
        actor: &str,
        at: Timestamp,
    ) -> impl Future<Output = Result<bool, Self::Error>> + Send;
    /// When service `service` acknowledged alert `alert`, if it has.
    fn acknowledged_at(
        &self,
        alert: i64,
        service: i64,
    ) -> impl Future<Output = Result<Option<Timestamp>, Self::Error>> + Send;
    /// Removes service `service`'s acknowledgement of alert `alert`.
    fn remove_acknowledgement(&self, alert: i64, service: i64) -> impl Future<Output = Result<(), Self::Error>> + Send;
    /// Records that alert `alert` was escalated to the service with `slug`; false when it already was (or there is
    /// no such service).
    fn insert_escalation(
        &self,
        alert: i64,
        slug: &str,
        at: Timestamp,
    ) -> impl Future<Output = Result<bool, Self::Error>> + Send;
}

/// A sample's photo as stored: the JPEG, its width and height.
pub type SamplePhoto = (Vec<u8>, u32, u32);

/// What choosing an alert's photo reads and writes besides [`Transaction`]'s rows.
pub trait AlertPhotos: Transaction {
    /// Whether sample `sample` is evidence for alert `alert`.
    fn is_evidence(&self, alert: i64, sample: i64) -> impl Future<Output = Result<bool, Self::Error>> + Send;
    /// Sample `sample`'s photo (already without metadata): the JPEG, its width and height.
    fn sample_photo(&self, sample: i64) -> impl Future<Output = Result<Option<SamplePhoto>, Self::Error>> + Send;
    /// Makes `photo` the one published with alert `alert`, replacing any chosen before.
    fn put_alert_photo(
        &self,
        alert: i64,
        sample: i64,
        photo: &ChosenPhoto,
        at: Timestamp,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;
}

/// A photo chosen for an alert, as published: the JPEG, its size and its SHA-1 digest (CAP's `digest`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChosenPhoto {
    pub jpeg: Vec<u8>,
    pub width: u32,
    pub height: u32,
    /// Hex.
    pub sha1: String,
}
