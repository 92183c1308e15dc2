//! Retention (privacy rule 5, docs/privacy.md): what identifies a sample or a report beyond its counts is removed once it
//! is old enough; counts, findings and alerts stay.

use crate::Transaction;
use jiff::Timestamp;
use varde_store::{Purged, decisions};

/// What retention removes besides [`Transaction`]'s rows.
// `async fn` for the reasons given on `Transaction`.
#[allow(async_fn_in_trait)]
pub trait Retention: Transaction {
    /// Removes the photos and free-text notes of samples received before `before`, and the texts of concern reports
    /// received before it; what it removed.
    async fn purge(&self, before: Timestamp) -> Result<Purged, Self::Error>;
}

/// Purges what was received before `before`, audited as Varde when anything was removed.
pub async fn purge_before<T: Retention>(tx: &T, before: Timestamp, at: Timestamp) -> Result<Purged, T::Error> {
    let purged = tx.purge(before).await?;
    if let Some((action, subject)) = decisions::purged_entry(&purged, before) {
        tx.audit(at, "varde", action, &subject).await?;
    }
    Ok(purged)
}
