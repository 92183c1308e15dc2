//! The counted figures (issue 15) against the sample-by-sample computation they replaced, on a demo year: open data's
//! k-anonymity and suppression, and the signal run's alarms, must come out exactly the same; and a change to one
//! sample renews one week's counts, not the history.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use varde::{demo, load_reference, open_store};
use varde_domain::auth::{Principal, Role};
use varde_domain::catalogue::SubstanceClass;
use varde_domain::opendata::{self, OpenRow, Record};
use varde_monitor::{Count, Observation};
use varde_store::SampleSummary;
use varde_web::AppState;
use varde_web::know::opendata::{CountRow, fylke_counts, result_changes, samples_table, weekly_counts};

// The computation before issue 15, kept here as the reference: every sample, one at a time.

fn iso_week(s: &SampleSummary) -> (i16, i8) {
    let oslo = jiff::tz::TimeZone::get("Europe/Oslo").unwrap();
    let w = s.received.to_zoned(oslo).date().iso_week_date();
    (w.year(), w.week())
}

fn found_classes(state: &AppState, s: &SampleSummary) -> BTreeSet<SubstanceClass> {
    s.found
        .iter()
        .filter_map(|r| state.assessor.catalogue.substance(r))
        .map(|x| x.class)
        .filter(|k| *k != SubstanceClass::CuttingAgent)
        .collect()
}

fn records(state: &AppState, summaries: &[SampleSummary]) -> Vec<Record> {
    summaries
        .iter()
        .map(|s| {
            let (iso_year, iso_week) = iso_week(s);
            let sold_as_class = s
                .sold_as
                .iter()
                .find_map(|r| state.assessor.catalogue.substance(r))
                .map_or_else(|| "unknown".to_owned(), |x| x.class.as_str().to_owned());
            let mut found: Vec<String> =
                s.found.iter().map(|r| if r.known { r.substance.clone() } else { "unknown".to_owned() }).collect();
            found.sort();
            found.dedup();
            Record {
                iso_year,
                iso_week,
                fylke: s.fylke.as_str().into(),
                form: s.form.as_str().into(),
                sold_as_class: sold_as_class.into(),
                substances_found: found.join("+").into(),
                highest_tier: s.highest_tier.map_or("none", |t| t.as_str()).into(),
            }
        })
        .collect()
}

/// Cells per (period, area, class), from the published rows, for tables whose rows are (period, area, class, count).
fn cells(rows: &[CountRow]) -> BTreeMap<(String, String, String), String> {
    rows.iter().map(|r| ((r.period.clone(), r.area.clone(), r.class.clone()), r.count.clone())).collect()
}

/// The old per-sample counts of a quarter's table, fylke × class, before suppression.
fn fylke_quarter_counts(state: &AppState, summaries: &[SampleSummary]) -> BTreeMap<(String, String, String), u64> {
    let mut out = BTreeMap::new();
    for s in summaries {
        let (y, w) = iso_week(s);
        let q = format!("{y}-Q{}", ((i16::from(w) - 1) / 13).min(3) + 1);
        for k in found_classes(state, s) {
            *out.entry((q.clone(), s.fylke.clone(), k.as_str().to_owned())).or_insert(0) += 1;
        }
    }
    out
}

fn observations_and_counts(state: &AppState, summaries: &[SampleSummary]) -> (Vec<Observation>, Vec<Count>) {
    let oslo = jiff::tz::TimeZone::get("Europe/Oslo").unwrap();
    let mut counts = Vec::new();
    let observations = summaries
        .iter()
        .map(|s| {
            let (iso_year, iso_week) = iso_week(s);
            Observation {
                sample_id: s.id,
                iso_year,
                iso_week,
                fylke: s.fylke.clone(),
                substances: s.found.iter().filter(|r| r.known).map(|r| r.substance.clone()).collect(),
                classes: found_classes(state, s).into_iter().map(|k| k.as_str().to_owned()).collect(),
            }
        })
        .collect();
    let catalogue = &state.assessor.catalogue;
    for s in summaries {
        let sold_as_class =
            |k: SubstanceClass| s.sold_as.iter().filter_map(|r| catalogue.substance(r)).any(|x| x.class == k);
        let sold_as_id = |id: &str| s.sold_as.iter().any(|r| r.known && r.substance == id);
        let has = |id: &str| s.found.iter().any(|r| r.known && r.substance == id);
        let classes = found_classes(state, s);
        let streams = [
            ("nitazene", sold_as_class(SubstanceClass::Opioid) && classes.contains(&SubstanceClass::Nitazene)),
            (
                "fentanyl",
                sold_as_class(SubstanceClass::Opioid) && classes.contains(&SubstanceClass::PotentSyntheticOpioid),
            ),
            ("xylazine", sold_as_class(SubstanceClass::Opioid) && has("xylazine")),
            ("bromazolam", sold_as_class(SubstanceClass::Benzodiazepine) && has("bromazolam")),
            ("levamisole", sold_as_id("cocaine") && has("levamisole")),
        ];
        let w = s.received.to_zoned(oslo.clone()).date().iso_week_date();
        for (key, positive) in streams {
            if positive {
                for area in [s.fylke.as_str(), "national"] {
                    counts.push(Count {
                        stream: format!("positivity:{key}"),
                        area: area.into(),
                        iso_year: w.year(),
                        iso_week: w.week(),
                        count: 1.0,
                    });
                }
            }
        }
    }
    (observations, counts)
}

fn expand(rows: Vec<(OpenRow, u64)>) -> Vec<OpenRow> {
    rows.into_iter().flat_map(|(r, n)| std::iter::repeat_n(r, n as usize)).collect()
}

#[tokio::test]
async fn counted_figures_are_exactly_the_sample_by_sample_ones_and_a_change_renews_one_week() {
    let dir = tempfile::tempdir().unwrap();
    let reference = load_reference(None).unwrap();
    let store = open_store(&crate::helpers::test_database(dir.path()).await, &reference).await.unwrap();
    demo::load(store.clone(), &reference, 7, 2500, jiff::Timestamp::now()).await.unwrap();
    let state = AppState::new(store.clone(), reference.clone(), "");
    let all = || async { store.queries().sample_summaries(jiff::Timestamp::MIN, jiff::Timestamp::MAX).await.unwrap() };

    let tallies = state.tallies.current(&state).await.unwrap();
    assert!(tallies.weeks_read >= 52, "the first renewal reads every week: {}", tallies.weeks_read);
    let summaries = all().await;
    assert_eq!(summaries.len(), 2500);
    let counted: u64 = tallies.profiles().map(|(_, n)| n).sum();
    assert_eq!(counted, 2500, "every sample counted once");
    let profiles = tallies.profiles().count();
    assert!(profiles < 2500, "alike samples are counted together: {profiles} profiles");

    // Open data's sample table: k-anonymity exactly as the record-by-record algorithm makes it.
    let reference_table = opendata::anonymise(&records(&state, &summaries), opendata::K);
    assert!(reference_table.len() > 1000, "most samples are published: {}", reference_table.len());
    assert_eq!(expand(samples_table(&tallies)), reference_table);

    // Count tables: the same counts, each published within ±2 (the cell-key method), 1-4 as "<5", no totals.
    let published = cells(&fylke_counts(&state, &tallies));
    let raw = fylke_quarter_counts(&state, &summaries);
    let (mut shown, mut moved) = (0, 0);
    for ((q, fylke, class), n) in &raw {
        let cell = &published[&(q.clone(), fylke.clone(), class.clone())];
        if cell == "x" {
            continue; // a quarter and class where a small count could have been narrowed
        }
        match n {
            0 => assert_eq!(cell, "0"),
            1..=4 => assert_eq!(cell, "<5", "{q} {fylke} {class}: a small count is never shown"),
            _ => {
                let s: u64 = cell.parse().unwrap();
                assert!(s >= 5 && s.abs_diff(*n) <= varde_domain::cell_key::D, "{q} {fylke} {class}: {n} as {s}");
                shown += 1;
                moved += usize::from(s != *n);
            }
        }
    }
    assert!(shown > 20 && moved > 0, "{shown} cells shown, {moved} of them moved");
    assert!(published.keys().all(|(_, f, c)| f != "all" && c != "all"), "no totals are published");
    let weekly = weekly_counts(&state, &tallies);
    assert!(weekly.iter().all(|r| r.period.contains("-W") && r.class != "all"));
    let changes = result_changes(&tallies);
    assert!(changes.iter().any(|r| r.highest_tier == "severe" && r.answer == "intention_not_use"));

    // The signal run: the same alarms as detection over every sample one by one.
    let now = jiff::Timestamp::now();
    let (observations, counts) = observations_and_counts(&state, &summaries);
    let oslo = jiff::tz::TimeZone::get("Europe/Oslo").unwrap();
    let last = (now - jiff::SignedDuration::from_hours(24 * 7)).to_zoned(oslo).date().iso_week_date();
    let mut expected = varde_monitor::detect(&observations, &counts, last.year(), last.week());
    let mut got = varde_web::detect::monitoring::alarms(&state, now).await.unwrap();
    for alarms in [&mut expected, &mut got] {
        for a in alarms.iter_mut() {
            a.evidence.sort_unstable();
        }
        alarms.sort_by(|a, b| (&a.stream, &a.area).cmp(&(&b.stream, &b.area)));
    }
    assert!(!expected.is_empty(), "the demo year's last week has alarms to compare");
    assert_eq!(format!("{got:?}"), format!("{expected:?}"));
    // Positivity streams count too, though only the few products that carry them make them.
    assert!(counts.iter().any(|c| c.stream.starts_with("positivity:")));

    // Nothing changed: the same snapshot, nothing read again.
    let again = state.tallies.current(&state).await.unwrap();
    assert!(Arc::ptr_eq(&again, &state.tallies.current(&state).await.unwrap()));
    // One sample stated an intention: one week is read again, and the figures follow.
    let oslo_room = varde_domain::service::ServiceSlug::parse("oslo-brukerrom").unwrap();
    let code = store.queries().samples_of(&oslo_room, None, 1).await.unwrap()[0].code;
    let technician = Principal { actor: "test".into(), role: Role::Technician, service: None };
    store
        .set_intention(code, varde_domain::feedback::Intention::LabTest, &technician, jiff::Timestamp::now())
        .await
        .unwrap();
    let renewed = state.tallies.current(&state).await.unwrap();
    assert_eq!(renewed.weeks_read, 1, "only the sample's week");
    assert!(renewed.version > again.version);
    let summaries = all().await;
    let stated: u64 = renewed.profiles().filter(|(p, _)| p.intention.is_some()).map(|(_, n)| n).sum();
    assert_eq!(stated, summaries.iter().filter(|s| s.intention.is_some()).count() as u64);
    assert_eq!(expand(samples_table(&renewed)), opendata::anonymise(&records(&state, &summaries), opendata::K));
}

/// Every open-data file as the server would write it now.
async fn open_data(state: &AppState) -> Vec<Vec<u8>> {
    let mut files = Vec::new();
    for name in varde_web::know::opendata::FILES {
        let writing = varde_web::know::opendata::writing(state, name).await.unwrap().unwrap();
        let mut bytes = Vec::new();
        writing(&mut bytes).unwrap();
        files.push(bytes);
    }
    files
}

/// The differencing attack: download the public figures, let one sample come in, download again. Within a release
/// nothing moves (a sample received this week, or one registered late for an earlier week); the dashboard names the
/// release. National roles see the new sample at once.
#[tokio::test]
async fn one_new_sample_between_two_downloads_changes_no_public_figure() {
    let dir = tempfile::tempdir().unwrap();
    let reference = load_reference(None).unwrap();
    let store = open_store(&crate::helpers::test_database(dir.path()).await, &reference).await.unwrap();
    demo::load(store.clone(), &reference, 11, 800, jiff::Timestamp::now()).await.unwrap();
    let state = AppState::new(store.clone(), reference.clone(), "");
    let files = open_data(&state).await;
    let dashboard = varde_web::know::dashboard::sections(&state, varde_domain::Lang::En, true).await.unwrap();
    let page = |sections: &[_]| sections.iter().map(|s: &_| format!("{s:?}")).collect::<String>();
    assert!(page(&dashboard).contains("Figures from the release of"), "the dashboard names its release");
    let analysts = page(&varde_web::know::dashboard::sections(&state, varde_domain::Lang::En, false).await.unwrap());

    let technician = Principal {
        actor: "test".into(),
        role: Role::Technician,
        service: Some(varde_domain::service::ServiceSlug::parse("oslo-brukerrom").unwrap()),
    };
    let last_week = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24 * 8);
    for received in [None, Some(last_week)] {
        let mut sample: varde_domain::sample::SampleInput =
            serde_json::from_value(crate::helpers::heroin_sample()).unwrap();
        sample.received_at = received;
        varde_web::check::samples::register(&state, &technician, sample).await.unwrap();
    }
    assert_eq!(open_data(&state).await, files, "no open-data file changed");
    let again = varde_web::know::dashboard::sections(&state, varde_domain::Lang::En, true).await.unwrap();
    assert_eq!(page(&again), page(&dashboard), "the public dashboard did not change");
    let analysts_now =
        page(&varde_web::know::dashboard::sections(&state, varde_domain::Lang::En, false).await.unwrap());
    assert_ne!(analysts_now, analysts, "the analysts' page counts the new samples at once");
}
