//! Running signal detection over the stored samples: the server does it every hour, `varde signals run` on demand.

use crate::AppState;
use crate::opendata::{class_name, found_classes, iso_week};
use jiff::Timestamp;
use varde_monitor::{Observation, detect};
use varde_store::{NewSignal, StoreError};

/// Evaluates the newest complete ISO week of every stream and records new signals. Returns (new signals, alarms).
pub async fn run(state: &AppState, now: Timestamp) -> Result<(usize, usize), StoreError> {
    let summaries = state.store.sample_summaries().await?;
    let observations: Vec<Observation> = summaries
        .iter()
        .map(|s| {
            let (iso_year, iso_week) = iso_week(s);
            Observation {
                sample_id: s.id,
                iso_year,
                iso_week,
                fylke: s.fylke.clone(),
                substances: s.found.iter().filter(|r| r.known).map(|r| r.substance.clone()).collect(),
                classes: found_classes(state, s).into_iter().map(class_name).collect(),
            }
        })
        .collect();
    let oslo = jiff::tz::TimeZone::get("Europe/Oslo").unwrap_or(jiff::tz::TimeZone::UTC);
    let last_week = (now - jiff::SignedDuration::from_hours(24 * 7)).to_zoned(oslo).date().iso_week_date();
    let alarms = detect(&observations, last_week.year(), last_week.week());
    let count = alarms.len();
    let signals = alarms
        .into_iter()
        .map(|a| NewSignal {
            stream: a.stream,
            area: a.area,
            week: a.week,
            method: a.method.to_owned(),
            observed: a.observed,
            expected: a.expected,
            upperbound: a.upperbound,
            evidence: a.evidence,
        })
        .collect();
    let new = state.store.record_signals(signals, now).await?;
    Ok((new, count))
}

/// Runs detection now and then every hour, for as long as the server runs.
pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match run(&state, Timestamp::now()).await {
                Ok((new, alarms)) => tracing::info!(new, alarms, "signal detection ran"),
                Err(e) => tracing::warn!(error = %e, "signal detection failed"),
            }
            tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
        }
    })
}
