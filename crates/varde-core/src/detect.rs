//! The use cases of detection that write: a reviewer drafting an alert from a signal, and the indicators signals
//! read besides samples (concern reports, user rooms' daily counts).

use crate::decisions;
use jiff::Timestamp;
use varde_domain::alert::{Alert, AlertStatus};
use varde_domain::assess::Assessor;
use varde_domain::indicator::{NewConcern, UserRoomDay};
use varde_domain::payloads;
use varde_domain::recording;
use varde_store::port::{Indicators, NewEvent, Signals, StoredSignal};
use varde_store::{NewSignal, Signal, StoreError};

/// Records the signals of an hourly run: each stream, area and week once, however often it is seen; how many were new.
pub async fn record_signals<T: Signals>(tx: &T, signals: &[NewSignal], at: Timestamp) -> Result<usize, T::Error> {
    let mut new = 0;
    for signal in signals {
        new += usize::from(tx.insert_signal(signal, at).await?);
    }
    Ok(new)
}

/// Lists signals for an analyst; audited, as they name the samples behind them.
pub async fn read_signals<T: Signals>(tx: &T, all: bool, actor: &str, at: Timestamp) -> Result<Vec<Signal>, T::Error> {
    let list = tx.signal_list(all).await?;
    tx.audit(at, actor, "signals.read", if all { "all" } else { "open" }).await?;
    Ok(list)
}

/// Drafts an alert from an open signal's evidence (`decisions::signal_draft`: national signals make national
/// drafts, at least at caution), under a product key of its own so that samples join it only through review.
pub async fn draft_from_signal<T: Signals>(
    tx: &T,
    assessor: &Assessor,
    id: i64,
    actor: &str,
    at: Timestamp,
) -> Result<Alert, T::Error> {
    let signal = tx.signal(id).await?;
    decisions::signal_to_draft(id, signal.as_ref().map(|s| s.status.as_str()))?;
    let StoredSignal { area, stream, evidence, .. } = signal.expect("checked above");
    let draft = recording::signal_draft(assessor, tx.evidence(&evidence).await?, &area, at);
    let alert = tx.insert_draft(&format!("signal:{id}:{stream}"), &area, &draft, at).await?;
    tx.add_evidence(alert, &evidence, at).await?;
    tx.transition(alert, at, actor, "drafted", None, AlertStatus::Draft).await?;
    tx.mark_drafted(id, alert).await?;
    tx.event(NewEvent {
        at,
        kind: "alert.drafted",
        public: false,
        tier: Some(draft.tier),
        fylker: draft.content.fylker.clone(),
        alert_id: Some(alert),
        payload: payloads::alert_drafted(alert, draft.tier, &draft.content, Some(id)),
    })
    .await?;
    tx.audit(at, actor, "signal.draft", &format!("signal:{id} alert:{alert}")).await?;
    Ok(tx.alert(alert).await?.ok_or(StoreError::UnknownAlert)?)
}

/// Stores an anonymous concern report (audited as the public, with the report's id only).
pub async fn add_concern<T: Indicators>(tx: &T, report: &NewConcern, at: Timestamp) -> Result<(), T::Error> {
    let id = tx.insert_concern(report, at).await?;
    tx.audit(at, "public", "concern.add", &format!("concern:{id}")).await
}

/// Records (or corrects) a user room's counts for a day, audited as an addition or a correction; true when new.
pub async fn record_user_room_day<T: Indicators>(
    tx: &T,
    day: &UserRoomDay,
    actor: &str,
    at: Timestamp,
) -> Result<bool, T::Error> {
    let service = tx.service_id(&day.service).await?;
    let date = day.day.to_string();
    let existed = tx.has_user_room_day(service, &date).await?;
    tx.put_user_room_day(service, day).await?;
    let action = if existed { "user_room_day.correct" } else { "user_room_day.add" };
    tx.audit(at, actor, action, &format!("{}:{date}", day.service)).await?;
    Ok(!existed)
}

/// Adds or replaces drug-induced deaths for years (year, deaths, note, source), audited as one import from the
/// command line; how many years.
pub async fn import_deaths<T: Indicators>(
    tx: &T,
    rows: &[(i32, u32, Option<String>, String)],
    at: Timestamp,
) -> Result<usize, T::Error> {
    for (year, deaths, note, source) in rows {
        tx.put_deaths(*year, *deaths, note.as_deref(), source).await?;
    }
    tx.audit(at, "cli", "deaths.import", &format!("{} years", rows.len())).await?;
    Ok(rows.len())
}
