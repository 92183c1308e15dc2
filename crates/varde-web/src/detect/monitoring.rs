//! Running signal detection over the stored samples: the server does it every hour, `varde signals run` on demand.
//!
//! The weeks before the evaluated one come from the counted samples ([`crate::know::tally`]), which are kept and renewed
//! week by week; only the evaluated week's samples are read one by one, because an alarm names them as evidence.
//! Only the weeks a method can look at are taken ([`varde_monitor::HISTORY_WEEKS`], five years and three weeks), so
//! the run's cost is that of one week's samples and five years of counts, whatever the length of history.

use crate::AppState;
use crate::know::tally::{self, Interner};
use jiff::Timestamp;
use std::collections::HashMap;
use varde_monitor::{Alarm, Count, HISTORY_WEEKS, Observation, detect};
use varde_store::{FigureWeek, NewSignal, StoreError};

/// Evaluates the newest complete ISO week of every stream and records new signals. Returns (new signals, alarms).
pub async fn run(state: &AppState, now: Timestamp) -> Result<(usize, usize), StoreError> {
    let alarms = alarms(state, now).await?;
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
    let new = state.app.record_signals(signals, now).await?;
    Ok((new, count))
}

/// The streams whose newest complete ISO week (before `now`) rose above its bound.
pub async fn alarms(state: &AppState, now: Timestamp) -> Result<Vec<Alarm>, StoreError> {
    let oslo = jiff::tz::TimeZone::get("Europe/Oslo").unwrap_or(jiff::tz::TimeZone::UTC);
    let week_of = |t: Timestamp| t.to_zoned(oslo.clone()).date().iso_week_date();
    let last_week = week_of(now - jiff::SignedDuration::from_hours(24 * 7));
    let target = tally::week_no(last_week.date());
    // The evaluated week's samples, each an observation (its id is evidence), from Monday to Monday in Norway.
    // The ISO week date of a week ago has a week ago's weekday: its week begins on that week's Monday.
    let monday = last_week.first_of_week().map_or(last_week.date(), |w| w.date());
    let start = |d: jiff::civil::Date| d.to_zoned(oslo.clone()).map(|z| z.timestamp());
    let (from, to) = match (start(monday), monday.checked_add(jiff::Span::new().days(7)).map(start)) {
        (Ok(from), Ok(Ok(to))) => (from, to),
        _ => return Ok(Vec::new()),
    };
    let tallies = state.tallies.current(state).await?;
    // No method looks further back than HISTORY_WEEKS before the evaluated week (see varde_monitor::HISTORY_WEEKS):
    // earlier weeks are not read, so the run costs the same after five years of history as after twenty-five.
    let earliest = target - HISTORY_WEEKS;
    let window_start = monday.checked_sub(jiff::Span::new().days(7 * HISTORY_WEEKS)).ok().and_then(|d| start(d).ok());
    let observations: Vec<Observation> = {
        let summaries = state.app.queries().sample_summaries(from, to).await?;
        let mut interner = Interner::default();
        let tz = oslo.clone();
        summaries
            .iter()
            .map(|s| {
                let p = tally::profile(&state.assessor.catalogue, s, &tz, &mut interner);
                Observation {
                    sample_id: s.id,
                    iso_year: last_week.year(),
                    iso_week: last_week.week(),
                    fylke: s.fylke.clone(),
                    substances: p.substances().map(str::to_owned).collect(),
                    classes: p.classes.iter().map(|k| k.as_str().to_owned()).collect(),
                }
            })
            .collect()
    };
    // Every earlier week's samples in the window as counts per stream, area and week (summed first: one count per
    // key).
    let mut summed: HashMap<(String, String, i16, i8), f64> = HashMap::new();
    let mut add = |stream: String, area: &str, year: i16, week: i8, n: f64| {
        for area in [area, "national"] {
            *summed.entry((stream.clone(), area.to_owned(), year, week)).or_insert(0.0) += n;
        }
    };
    let profiles = match window_start {
        Some(at) => tallies.profiles_from(FigureWeek::of(at)),
        None => tallies.profiles_from(i64::MIN),
    };
    for (p, n) in profiles.filter(|(p, _)| p.week_no >= earliest) {
        let n = n as f64;
        if p.week_no < target {
            for id in p.substances() {
                add(format!("substance:{id}"), &p.fylke, p.iso_year, p.iso_week, n);
            }
            for k in p.classes.iter() {
                add(format!("class:{}", k.as_str()), &p.fylke, p.iso_year, p.iso_week, n);
            }
        }
        // Positivity streams: the samples sold as X that contain Y, e.g. positivity:nitazene (in samples sold as
        // opioids); counts only, in every week.
        for (i, (key, _, _)) in crate::detect::positivity::STREAMS.iter().enumerate() {
            if p.positive_streams & (1 << i) != 0 {
                add(format!("positivity:{key}"), &p.fylke, p.iso_year, p.iso_week, n);
            }
        }
    }
    // Concern reports and user-room overdoses, by fylke and nationally.
    for (at, fylke) in state.app.queries().concern_times().await? {
        if tally::week_no_at(at) < earliest {
            continue;
        }
        let w = week_of(at);
        add("concern_reports".into(), &fylke, w.year(), w.week(), 1.0);
    }
    for (day, fylke) in state.app.queries().user_room_days(None).await? {
        if tally::week_no(day.day) < earliest {
            continue;
        }
        let w = day.day.iso_week_date();
        add("user_room_overdoses".into(), &fylke, w.year(), w.week(), f64::from(day.overdoses));
    }
    let counts: Vec<Count> = summed
        .into_iter()
        .map(|((stream, area, iso_year, iso_week), count)| Count { stream, area, iso_year, iso_week, count })
        .collect();
    Ok(detect(&observations, &counts, last_week.year(), last_week.week()))
}

/// Runs detection now and then every hour, for as long as the server runs. The first run also counts the samples
/// ([`crate::know::tally`]), so the first visitor of the dashboard finds them counted.
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
