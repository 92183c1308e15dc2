//! Running signal detection over the stored samples: the server does it every hour, `varde signals run` on demand.

use crate::AppState;
use crate::opendata::{class_name, found_classes, iso_week};
use jiff::Timestamp;
use varde_monitor::{Count, Observation, detect};
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
    let week_of = |t: Timestamp| t.to_zoned(oslo.clone()).date().iso_week_date();
    // Concern reports and user-room overdoses, by fylke and nationally.
    let mut counts = Vec::new();
    let mut count = |stream: &str, area: &str, w: jiff::civil::ISOWeekDate, n: f64| {
        counts.push(Count {
            stream: stream.into(),
            area: area.into(),
            iso_year: w.year(),
            iso_week: w.week(),
            count: n,
        });
    };
    // Positivity streams: the samples sold as X that contain Y, e.g. positivity:nitazene (in samples sold as opioids).
    for s in &summaries {
        for (key, sold, found) in crate::positivity::STREAMS {
            if crate::positivity::sold_as(state, s, sold) && crate::positivity::contains(state, s, found) {
                let w = week_of(s.received);
                for area in [s.fylke.as_str(), "national"] {
                    count(&format!("positivity:{key}"), area, w, 1.0);
                }
            }
        }
    }
    for (at, fylke) in state.store.concern_times().await? {
        for area in [fylke.as_str(), "national"] {
            count("concern_reports", area, week_of(at), 1.0);
        }
    }
    for (day, fylke) in state.store.user_room_days(None).await? {
        for area in [fylke.as_str(), "national"] {
            count("user_room_overdoses", area, day.day.iso_week_date(), f64::from(day.overdoses));
        }
    }
    let last_week = week_of(now - jiff::SignedDuration::from_hours(24 * 7));
    let alarms = detect(&observations, &counts, last_week.year(), last_week.week());
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
