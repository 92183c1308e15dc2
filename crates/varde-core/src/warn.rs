//! The use cases of warning that every backend runs the same way: a reviewer's action on an alert, merging two
//! drafts of one product, archiving drafts no new evidence has joined, and the services' side: acknowledging an
//! alert, and an alert escalated to a service that has not; the samples behind an alert read, and the photo published
//! with it chosen.

use crate::decisions;
use jiff::Timestamp;
use varde_domain::ErrorCode;
use varde_domain::SampleCode;
use varde_domain::alert::{self, Alert, AlertAction, AlertEdit, Change};
use varde_domain::assess::Assessor;
use varde_domain::merging;
use varde_domain::payloads;
use varde_domain::service::ServiceSlug;
use varde_store::port::{Acknowledgements, AlertPhotos, ChosenPhoto, NewEvent, Transaction};
use varde_store::{StoreError, StoredSample};

/// The actor background jobs write as.
const VARDE: &str = "varde";

/// Edits, publishes, updates, re-confirms, discards or withdraws alert `id`, as [`Change::of`] decides: the row and
/// any public version written, the transition and the audit entry recorded, and the event that reports it appended
/// (public when the alert now is). Returns the alert as changed.
pub async fn change_alert<T: Transaction>(
    tx: &T,
    assessor: &Assessor,
    id: i64,
    action: AlertAction,
    edit: &AlertEdit,
    actor: &str,
    at: Timestamp,
) -> Result<Alert, T::Error> {
    let alert = tx.alert(id).await?.ok_or(StoreError::UnknownAlert)?;
    let change = Change::of(&alert, action, edit, &assessor.geography, at).map_err(|refused| match refused {
        alert::Refused::Transition(message) => StoreError::Invalid { code: ErrorCode::InvalidTransition, message },
        alert::Refused::Input(e) => StoreError::Input(e),
    })?;
    tx.write_change(id, &change, edit.note.as_deref(), actor, at).await?;
    tx.transition(id, at, actor, change.kind, Some(change.from), change.to).await?;
    tx.audit(at, actor, &format!("alert.{}", change.kind), &format!("alert:{id}")).await?;
    let changed = tx.alert(id).await?.ok_or(StoreError::UnknownAlert)?;
    if let Some(kind) = change.event {
        // A discarded draft was never public; only staff hear of it.
        tx.event(NewEvent {
            at,
            kind,
            public: change.to.is_public(),
            tier: Some(changed.tier),
            fylker: changed.content.fylker.clone(),
            alert_id: Some(id),
            payload: serde_json::to_value(&changed).expect("plain data serialises"),
        })
        .await?;
    }
    Ok(changed)
}

/// A reviewer reads the samples behind alert `id`, newest first; audited, as a sample-level read.
pub async fn read_evidence<T: Transaction>(
    tx: &T,
    id: i64,
    actor: &str,
    at: Timestamp,
) -> Result<Vec<StoredSample>, T::Error> {
    tx.alert(id).await?.ok_or(StoreError::UnknownAlert)?;
    let evidence = tx.alert_evidence(id).await?;
    tx.audit(at, actor, "alert.evidence.read", &format!("alert:{id}")).await?;
    Ok(evidence)
}

/// Merges draft `from` into draft `into` (both drafts or archived, about the same area), as `merging::plan`
/// decides: every sample of `from` becomes evidence of `into`, whose text is redrafted from them all, and `from` is
/// discarded. Returns the merged draft.
pub async fn merge_alerts<T: Transaction>(
    tx: &T,
    assessor: &Assessor,
    from: i64,
    into: i64,
    actor: &str,
    at: Timestamp,
) -> Result<Alert, T::Error> {
    let a = tx.alert(from).await?.ok_or(StoreError::UnknownAlert)?;
    let b = tx.alert(into).await?.ok_or(StoreError::UnknownAlert)?;
    let area = tx.alert_area(into).await?;
    let merge = merging::plan(assessor, &a, &b, &area, tx.together(from, into).await?)
        .map_err(|message| StoreError::Invalid { code: ErrorCode::InvalidTransition, message })?;
    tx.write_merge(from, &merge, at).await?;
    for (id, reason, before, after) in merge.transitions {
        tx.transition(id, at, actor, reason, Some(before), after).await?;
    }
    tx.audit(at, actor, merge.audit.0, &merge.audit.1).await?;
    let merged = tx.alert(into).await?.ok_or(StoreError::UnknownAlert)?;
    tx.event(NewEvent {
        at,
        kind: "alert.merged",
        public: false,
        tier: Some(merged.tier),
        fylker: merged.content.fylker.clone(),
        alert_id: Some(into),
        payload: payloads::alert_merged(into, from, merged.tier, &merged.content.title),
    })
    .await?;
    Ok(merged)
}

/// Archives the drafts whose newest evidence is older than `before` (out of the review queue until new evidence
/// joins), each transition recorded and the run audited when it archived any; returns how many.
pub async fn archive_stale_drafts<T: Transaction>(tx: &T, before: Timestamp, at: Timestamp) -> Result<usize, T::Error> {
    let (reason, from, to) = alert::ARCHIVING;
    let ids = tx.move_stale(from, to, before, at).await?;
    for id in &ids {
        tx.transition(*id, at, VARDE, reason, Some(from), to).await?;
    }
    if let Some((action, subject)) = decisions::archived_entry(ids.len(), before) {
        tx.audit(at, VARDE, action, &subject).await?;
    }
    Ok(ids.len())
}

/// A technician of `service` says the alert was seen and passed on (audited the first time); false when that service
/// already had.
pub async fn acknowledge<T: Acknowledgements>(
    tx: &T,
    alert: i64,
    service: &ServiceSlug,
    actor: &str,
    at: Timestamp,
) -> Result<bool, T::Error> {
    let id = tx.service_id(service.as_str()).await?;
    let added = tx.insert_acknowledgement(alert, id, actor, at).await?;
    if added {
        tx.audit(at, actor, "alert.acknowledge", &format!("alert:{alert} service:{service}")).await?;
    }
    Ok(added)
}

/// How long after acknowledging a warning a service can take it back (a tap on the wrong warning, on a shared
/// tablet): long enough to see the mistake, short enough that escalation and the coverage figures can trust an
/// acknowledgement soon after it is given.
pub const UNDO_ACKNOWLEDGEMENT: jiff::SignedDuration = jiff::SignedDuration::from_secs(60);

/// A technician of `service` takes back the service's acknowledgement of an alert within [`UNDO_ACKNOWLEDGEMENT`]
/// of giving it (audited); false when there was none to take back. Later it stands: refused with
/// [`ErrorCode::UndoWindowPassed`], nothing written.
pub async fn undo_acknowledgement<T: Acknowledgements>(
    tx: &T,
    alert: i64,
    service: &ServiceSlug,
    actor: &str,
    at: Timestamp,
) -> Result<bool, T::Error> {
    let id = tx.service_id(service.as_str()).await?;
    let Some(given) = tx.acknowledged_at(alert, id).await? else { return Ok(false) };
    if at.duration_since(given) > UNDO_ACKNOWLEDGEMENT {
        return Err(StoreError::Invalid {
            code: ErrorCode::UndoWindowPassed,
            message: format!("the acknowledgement was given at {given}; it can be undone within a minute only"),
        }
        .into());
    }
    tx.remove_acknowledgement(alert, id).await?;
    tx.audit(at, actor, "alert.acknowledge.undo", &format!("alert:{alert} service:{service}")).await?;
    Ok(true)
}

/// Records that an alert was escalated to a service by e-mail (audited as Varde); false if it already was.
pub async fn record_escalation<T: Acknowledgements>(
    tx: &T,
    alert: i64,
    service: &ServiceSlug,
    at: Timestamp,
) -> Result<bool, T::Error> {
    let added = tx.insert_escalation(alert, service.as_str(), at).await?;
    if added {
        tx.audit(at, VARDE, "alert.escalate", &format!("alert:{alert} service:{service}")).await?;
    }
    Ok(added)
}

/// A reviewer chooses the photo of one of an alert's evidence samples to publish with it (replacing any chosen
/// before). The photo is copied, so it stays with the alert when retention removes the sample's.
pub async fn choose_alert_photo<T: AlertPhotos>(
    tx: &T,
    alert: i64,
    code: SampleCode,
    actor: &str,
    at: Timestamp,
) -> Result<(), T::Error> {
    use sha1::Digest;
    let invalid = |message: String| StoreError::Invalid { code: ErrorCode::InvalidValue, message };
    tx.alert(alert).await?.ok_or(StoreError::UnknownAlert)?;
    let sample = tx.sample_id(code).await?;
    if !tx.is_evidence(alert, sample).await? {
        return Err(invalid(format!("sample {code} is not evidence for alert {alert}")).into());
    }
    let (jpeg, width, height) =
        tx.sample_photo(sample).await?.ok_or_else(|| invalid(format!("sample {code} has no photo")))?;
    let sha1 = hex::encode(sha1::Sha1::digest(&jpeg));
    tx.put_alert_photo(alert, sample, &ChosenPhoto { jpeg, width, height, sha1 }, at).await?;
    tx.audit(at, actor, "alert.photo", &format!("alert:{alert} sample:{}", code.compact())).await
}
