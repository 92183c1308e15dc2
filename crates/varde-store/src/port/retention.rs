//! The rows retention removes.

use super::Transaction;
use crate::Purged;
use jiff::Timestamp;

/// What retention removes besides [`Transaction`]'s rows.
pub trait Retention: Transaction {
    /// Removes the photos and free-text notes of samples received before `before`, and the texts of concern reports
    /// received before it; what it removed.
    fn purge(&self, before: Timestamp) -> impl Future<Output = Result<Purged, Self::Error>> + Send;
}
