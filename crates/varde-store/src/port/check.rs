//! The rows checking writes: a sample registered one at a time, what the person said, files attached.

use super::Transaction;
use crate::{NewAnalysisSpectrum, NewReferenceSpectrum};
use jiff::Timestamp;
use varde_domain::SampleCode;
use varde_domain::feedback::{Intention, Outcome};
use varde_domain::sample::{NewSample, Status};

/// What registering one sample at a time writes besides [`Transaction`]'s rows. A backend that registers in groups
/// ([`Backend::grouped_registration`](super::Backend::grouped_registration), PostgreSQL's) is never asked.
pub trait Registration: Transaction {
    /// Stores a new sample under `code` in `status`, with what it was sold as (not its analyses); its id.
    /// [`StoreError::CodeTaken`](varde_store::StoreError::CodeTaken) when the code exists (the caller draws another),
    /// [`StoreError::UnknownService`](varde_store::StoreError::UnknownService) when its service does not.
    fn insert_sample(
        &self,
        code: SampleCode,
        sample: &NewSample,
        status: Status,
        at: Timestamp,
    ) -> impl Future<Output = Result<i64, Self::Error>> + Send;
}

/// What recording the person's answers writes besides [`Transaction`]'s rows.
pub trait Feedback: Transaction {
    /// Stores what the person said they will do with sample `sample`, replacing an earlier answer.
    fn store_intention(
        &self,
        sample: i64,
        intention: Intention,
        at: Timestamp,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;
    /// Stores what the person said happened, replacing an earlier answer.
    fn store_outcome(
        &self,
        sample: i64,
        outcome: &Outcome,
        at: Timestamp,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;
}

/// What attaching files to samples and the reference library writes besides [`Transaction`]'s rows.
pub trait Attachments: Transaction {
    /// Stores (or replaces) sample `sample`'s photo, already re-encoded without metadata.
    fn put_photo(
        &self,
        sample: i64,
        jpeg: &[u8],
        size: (u32, u32),
        at: Timestamp,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;
    /// Stores a spectrum attached to an analysis; its id.
    fn insert_analysis_spectrum(
        &self,
        spectrum: &NewAnalysisSpectrum,
        actor: &str,
        at: Timestamp,
    ) -> impl Future<Output = Result<i64, Self::Error>> + Send;
    /// Adds a spectrum to the reference library; its id.
    fn insert_reference_spectrum(
        &self,
        spectrum: &NewReferenceSpectrum,
        actor: &str,
        at: Timestamp,
    ) -> impl Future<Output = Result<i64, Self::Error>> + Send;
}
