//! Turns checked samples into weekly streams (per substance and per class found, by fylke and nationally) and runs
//! each stream's newest complete week through signal detection. Pure: observations in, alarms out.
//!
//! Method per stream, by how much history it has: Farrington flexible with Noufaily et al.'s settings when there is
//! at least a year of weeks before the evaluated one (b = whole years available, at most 5); EARS C2 when there are
//! at least 10 weeks; otherwise none. Like Farrington's rule of at least 5 cases in 4 weeks, EARS alarms here need
//! at least 3 cases in the week, so a single sample after weeks of zeros is not a signal.

use jiff::civil::{Date, ISOWeekDate, Weekday};
use std::collections::BTreeMap;
use varde_signals::{EarsParams, FlexibleParams, Method, Variant, evaluate};

/// One sample, as monitoring sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observation {
    pub sample_id: i64,
    pub iso_year: i16,
    pub iso_week: i8,
    pub fylke: String,
    /// Catalogue ids found.
    pub substances: Vec<String>,
    /// Classes found.
    pub classes: Vec<String>,
}

/// A stream whose newest complete week rose above its bound.
#[derive(Debug, Clone, PartialEq)]
pub struct Alarm {
    /// `substance:<id>` or `class:<class>`.
    pub stream: String,
    /// Two-digit fylkesnummer or `national`.
    pub area: String,
    /// ISO week, e.g. 2026-W47.
    pub week: String,
    pub method: &'static str,
    pub observed: f64,
    pub expected: Option<f64>,
    pub upperbound: f64,
    /// The samples counted in that week.
    pub evidence: Vec<i64>,
}

pub const EARS_MIN_CASES: f64 = 3.0;

/// Weeks before the evaluated one that any method looks at: Farrington flexible with b = 5 years of 52 weeks and
/// windows of w = 3 weeks reaches back 5·52 + 3 weeks, and no further. Weeks before that change no result, so a
/// stream is cut there and a run's cost stops growing once five years of history have passed.
pub const HISTORY_WEEKS: i64 = 5 * 52 + 3;

fn monday(year: i16, week: i8) -> Option<Date> {
    ISOWeekDate::new(year, week, Weekday::Monday).ok().map(|d| d.date())
}

/// Weeks since an arbitrary Monday, so consecutive ISO weeks are consecutive numbers across year ends.
fn week_number(year: i16, week: i8) -> Option<i64> {
    let epoch = Date::constant(2000, 1, 3); // a Monday
    monday(year, week).map(|d| (d - epoch).get_days() as i64 / 7)
}

fn week_label(n: i64) -> String {
    let d = Date::constant(2000, 1, 3) + jiff::Span::new().days(n * 7);
    let w = d.iso_week_date();
    format!("{}-W{:02}", w.year(), w.week())
}

/// A count that is not a sample, e.g. concern reports or user-room overdoses in a week.
#[derive(Debug, Clone, PartialEq)]
pub struct Count {
    pub stream: String,
    pub area: String,
    pub iso_year: i16,
    pub iso_week: i8,
    pub count: f64,
}

type Streams = BTreeMap<(String, String), BTreeMap<i64, (f64, Vec<i64>)>>;

/// Evaluates every stream's week `(year, week)` (the newest complete one): the samples' streams, and the further
/// counts given (each counted in its own area; add a `national` count for the nation).
pub fn detect(observations: &[Observation], counts: &[Count], year: i16, week: i8) -> Vec<Alarm> {
    let Some(target) = week_number(year, week) else { return Vec::new() };
    let mut streams: Streams = BTreeMap::new();
    for o in observations {
        let Some(n) = week_number(o.iso_year, o.iso_week) else { continue };
        if n > target {
            continue;
        }
        let names =
            o.substances.iter().map(|s| format!("substance:{s}")).chain(o.classes.iter().map(|c| format!("class:{c}")));
        for name in names {
            for area in [o.fylke.as_str(), "national"] {
                let slot = streams.entry((name.clone(), area.to_owned())).or_default().entry(n).or_default();
                slot.0 += 1.0;
                slot.1.push(o.sample_id);
            }
        }
    }
    for c in counts {
        let Some(n) = week_number(c.iso_year, c.iso_week) else { continue };
        if n <= target {
            streams.entry((c.stream.clone(), c.area.clone())).or_default().entry(n).or_default().0 += c.count;
        }
    }
    let mut alarms = Vec::new();
    for ((stream, area), weeks) in streams {
        // Only streams with something in the evaluated week can alarm.
        let Some((_, evidence)) = weeks.get(&target) else { continue };
        // A stream that began before the window counts as beginning at its start: b is 5 either way.
        let first = (*weeks.keys().next().expect("non-empty")).max(target - HISTORY_WEEKS);
        let y: Vec<f64> = (first..=target).map(|n| weeks.get(&n).map_or(0.0, |v| v.0)).collect();
        let k = y.len() - 1;
        let w = 3;
        let b = (k.saturating_sub(w) / 52).min(5);
        let (method, name) = if b >= 1 {
            (Method::Flexible(FlexibleParams::noufaily(b, w, 0.05)), "farrington_flexible")
        } else if y.len() >= 10 {
            (Method::Ears(EarsParams::new(Variant::C2)), "ears_c2")
        } else {
            continue;
        };
        let Ok(result) = evaluate(&y, k..=k, &method) else { continue };
        let e = &result[0];
        let enough = name != "ears_c2" || e.observed >= EARS_MIN_CASES;
        if e.alarm && enough {
            alarms.push(Alarm {
                stream,
                area,
                week: week_label(target),
                method: name,
                observed: e.observed,
                expected: e.expected.filter(|x| x.is_finite()),
                upperbound: e.upperbound,
                evidence: evidence.clone(),
            });
        }
    }
    alarms
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(id: i64, year: i16, week: i8, fylke: &str, substance: &str) -> Observation {
        Observation {
            sample_id: id,
            iso_year: year,
            iso_week: week,
            fylke: fylke.into(),
            substances: vec![substance.into()],
            classes: vec!["nitazene".into()],
        }
    }

    #[test]
    fn a_sudden_rise_after_quiet_weeks_alarms_with_its_samples_as_evidence() {
        let mut o = Vec::new();
        let mut id = 0;
        // Twenty weeks with one sample every other week, then six in one week in Oslo.
        for week in 20..40 {
            if week % 2 == 0 {
                id += 1;
                o.push(obs(id, 2026, week, "03", "protonitazene"));
            }
        }
        for _ in 0..6 {
            id += 1;
            o.push(obs(id, 2026, 40, "03", "protonitazene"));
        }
        let alarms = detect(&o, &[], 2026, 40);
        let oslo =
            alarms.iter().find(|a| a.stream == "substance:protonitazene" && a.area == "03").expect("an alarm in Oslo");
        assert_eq!((oslo.week.as_str(), oslo.method, oslo.observed), ("2026-W40", "ears_c2", 6.0));
        assert_eq!(oslo.evidence.len(), 6);
        assert!(alarms.iter().any(|a| a.area == "national" && a.stream == "class:nitazene"));
        // The week before had nothing unusual.
        assert!(detect(&o, &[], 2026, 39).is_empty());
    }

    #[test]
    fn concern_reports_are_a_stream_of_their_own() {
        let mut counts: Vec<Count> = (30..40)
            .map(|w| Count {
                stream: "concern_reports".into(),
                area: "50".into(),
                iso_year: 2026,
                iso_week: w,
                count: 1.0,
            })
            .collect();
        counts.push(Count {
            stream: "concern_reports".into(),
            area: "50".into(),
            iso_year: 2026,
            iso_week: 40,
            count: 9.0,
        });
        let alarms = detect(&[], &counts, 2026, 40);
        assert_eq!(alarms.len(), 1);
        assert_eq!(
            (alarms[0].stream.as_str(), alarms[0].area.as_str(), alarms[0].observed),
            ("concern_reports", "50", 9.0)
        );
        assert!(alarms[0].evidence.is_empty());
    }

    #[test]
    fn weeks_count_across_the_turn_of_the_year() {
        assert_eq!(week_number(2027, 1).unwrap() - week_number(2026, 53).unwrap(), 1);
        assert_eq!(week_label(week_number(2026, 47).unwrap()), "2026-W47");
    }

    #[test]
    fn one_sample_after_zeros_is_not_a_signal() {
        // One sample in week 1, ten quiet weeks, one in week 12: the baseline is all zeros, so EARS's bound is 0 and
        // a single sample would exceed it; the three-case rule keeps that from being a signal.
        let o = vec![obs(1, 2026, 1, "46", "isotonitazene"), obs(2, 2026, 12, "46", "isotonitazene")];
        assert!(detect(&o, &[], 2026, 12).is_empty());
        let mut three = o.clone();
        three.extend([obs(3, 2026, 12, "46", "isotonitazene"), obs(4, 2026, 12, "46", "isotonitazene")]);
        assert!(detect(&three, &[], 2026, 12).iter().any(|a| a.area == "46"), "three in a week after quiet weeks is");
    }

    #[test]
    fn weeks_before_the_window_change_no_result() {
        // Ten years of a seasonal stream with noise (a fixed pseudo-random sequence) and a trend: evaluating the
        // newest weeks on the whole history and on only the last HISTORY_WEEKS + 1 weeks gives the same bounds.
        let mut state = 12345u64;
        let mut noise = || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 33) as f64 / (1u64 << 31) as f64
        };
        let y: Vec<f64> = (0..520)
            .map(|i| {
                let season = 1.0 + 0.5 * (i as f64 * std::f64::consts::TAU / 52.0).sin();
                (4.0 * season + i as f64 / 100.0 + 3.0 * noise()).floor()
            })
            .collect();
        let method = Method::Flexible(FlexibleParams::noufaily(5, 3, 0.05));
        let cut = y.len() - 1 - HISTORY_WEEKS as usize;
        for back in [0usize, 1, 7, 30] {
            let k = y.len() - 1 - back;
            let whole = &evaluate(&y[..=k], k..=k, &method).unwrap()[0];
            let window = &y[k - HISTORY_WEEKS as usize..=k];
            let short = &evaluate(window, window.len() - 1..=window.len() - 1, &method).unwrap()[0];
            let close = |a: f64, b: f64| (a - b).abs() <= 1e-7 * a.abs().max(1.0);
            assert!(
                close(whole.upperbound, short.upperbound),
                "week {k}: {} vs {}",
                whole.upperbound,
                short.upperbound
            );
            assert!(close(whole.expected.unwrap(), short.expected.unwrap()));
            assert_eq!(whole.alarm, short.alarm);
        }
        // A window one week shorter is too short for b = 5: the window is no larger than it must be.
        let short = &y[cut + 1..];
        assert!(evaluate(short, short.len() - 1..=short.len() - 1, &method).is_err());
    }
}
