//! Merging two drafts, decided once for every storage backend: a reviewer sees that two drafts are about one danger
//! and folds one into the other. Given both drafts and the evidence they hold together, [`plan`] says what each is
//! afterwards; the backend reads, calls it and writes the [`Merge`] (the evidence rows themselves it copies in SQL).

use crate::alert::{self, Alert, AlertContent, AlertStatus, EvidenceSpan};
use crate::assess::Assessor;
use crate::finding::Finding;
use crate::sample::Sample;
use crate::tier::Tier;
use jiff::Timestamp;

/// The evidence the two drafts hold together, as the backend read it: every sample counted once.
#[derive(Debug, Clone)]
pub struct Together {
    /// The newest samples (by received time, then sample id, newest first; at most [`alert::DRAFT_FROM_NEWEST`]).
    pub newest: Vec<(Sample, Vec<Finding>)>,
    pub total: usize,
}

/// What merging writes.
#[derive(Debug, Clone, PartialEq)]
pub struct Merge {
    /// The draft merged into: a draft again (an archived one is revived), its tier never below either's, its text
    /// redrafted from the evidence together, its span covering both.
    pub into: Merged,
    /// The draft merged from is discarded at `at`.
    pub from_status: AlertStatus,
    /// Transitions to record: (alert, reason, from, to).
    pub transitions: [(i64, &'static str, AlertStatus, AlertStatus); 2],
    /// The audit entry's action and subject.
    pub audit: (&'static str, String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Merged {
    pub id: i64,
    pub status: AlertStatus,
    pub tier: Tier,
    pub content: AlertContent,
    pub first_evidence: Timestamp,
    pub last_evidence: Timestamp,
}

/// Merges draft `from` into draft `into` (about `fylke`, the area both drafts are about), or says why not
/// (see [`alert::may_merge`]).
pub fn plan(assessor: &Assessor, from: &Alert, into: &Alert, fylke: &str, together: Together) -> Result<Merge, String> {
    alert::may_merge(from, into)?;
    let first_evidence = from.first_evidence_at.min(into.first_evidence_at);
    let last_evidence = from.last_evidence_at.max(into.last_evidence_at);
    let span = EvidenceSpan { total: together.total, first: first_evidence, last: last_evidence };
    let (drafted, content) = assessor.draft(&together.newest, Some(span), fylke);
    Ok(Merge {
        into: Merged {
            id: into.id,
            status: AlertStatus::Draft,
            tier: drafted.max(from.tier).max(into.tier),
            content,
            first_evidence,
            last_evidence,
        },
        from_status: AlertStatus::Discarded,
        transitions: [
            (from.id, "merged", from.status, AlertStatus::Discarded),
            (into.id, "evidence", into.status, AlertStatus::Draft),
        ],
        audit: ("alert.merge", format!("alert:{} into alert:{}", from.id, into.id)),
    })
}

#[cfg(test)]
mod tests;
