//! Retention (privacy rule 5, docs/privacy.md): what identifies a sample or a report beyond its counts is removed once it
//! is old enough; counts, findings and alerts stay.

use crate::decisions;
use jiff::Timestamp;
use varde_store::Purged;
use varde_store::port::Retention;

/// Purges what was received before `before`, audited as Varde when anything was removed.
pub async fn purge_before<T: Retention>(tx: &T, before: Timestamp, at: Timestamp) -> Result<Purged, T::Error> {
    let purged = tx.purge(before).await?;
    if let Some((action, subject)) = decisions::purged_entry(&purged, before) {
        tx.audit(at, "varde", action, &subject).await?;
    }
    Ok(purged)
}
