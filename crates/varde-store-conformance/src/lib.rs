//! The store's contract as checks. A backend's test file runs each against a fresh, empty store of its own
//! (`varde-store-sqlite/tests/conformance.rs`), so every backend is held to the same behaviour, including the
//! properties that must hold without a single writer: concurrent writers never fork the audit chain, never make two
//! open drafts for one product, and never make an event reader skip an event that commits late.

use jiff::Timestamp;
use rand::SeedableRng;
use std::collections::BTreeSet;
use std::sync::Arc;
use varde_core::Application;
use varde_domain::alert::AlertStatus;
use varde_domain::auth::{Principal, Role};
use varde_domain::sample::{AnalysisInput, AnalysisResult, Form, NewSample, Status};
use varde_domain::service::{Service, ServiceKind, ServiceSlug};
use varde_domain::{Catalogue, ErrorCode, Method, SampleCode, SubstanceRef};
use varde_store::{AlertFilter, StoreError};

pub type Backend = Arc<dyn Application>;

/// Every check as a test of its own, against the stores `$fresh` makes: an async function taking the check's name
/// and returning `Some((store, guard))` (the guard, such as a temporary folder, is kept until the check ends) or
/// `None` to pass without running (no database to run on). A backend's test file holds one line,
/// `varde_store_conformance::checks!(fresh);`, so no backend can leave a check out.
#[macro_export]
macro_rules! checks {
    ($fresh:ident) => {
        $crate::checks!(@each $fresh, a_taken_code_is_refused_and_the_first_sample_kept, amending_an_analysis_keeps_the_old_one, concurrent_severe_samples_of_one_product_make_one_draft, an_event_reader_misses_nothing_under_concurrent_writers, a_limit_counts_its_allowance_per_key, concurrent_tries_use_the_allowance_exactly, limit_salts_last_two_days, a_registered_sample_reads_back_as_it_was_answered, registrations_and_analyses_at_once_all_succeed, registrations_renew_their_weeks_figures, retention_removes_old_photos_and_free_text_and_keeps_the_counts, the_audit_chain_verifies_with_any_text, registrations_arriving_together_are_answered_each_on_its_own);
    };
    (@each $fresh:ident, $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() {
                if let Some((store, _guard)) = $fresh(stringify!($name)).await {
                    $crate::$name(store).await;
                }
            }
        )*
    };
}

fn now() -> Timestamp {
    Timestamp::now()
}

fn technician() -> Principal {
    Principal { actor: "conformance".into(), role: Role::Technician, service: Some(slug()) }
}

fn slug() -> ServiceSlug {
    ServiceSlug::parse("oslo-brukerrom").expect("a valid slug")
}

/// Adds the service every check registers samples at. Call once on a fresh store.
pub async fn prepare(store: &Backend) {
    let service = Service {
        slug: slug(),
        name: "Oslo brukerrom".into(),
        kind: ServiceKind::UserRoom,
        kommune: "0301".into(),
        fylke: "03".into(),
    };
    store.add_service(service, "conformance", now()).await.expect("the service is added");
}

fn sample(sold_as: &str) -> NewSample {
    NewSample {
        service: slug(),
        received_at: now(),
        sold_as: vec![SubstanceRef::known(sold_as)],
        form: Form::Powder,
        colour: Some("brown".into()),
        texture: None,
        notes: None,
        tablet: None,
        use_context: None,
        analyses: vec![],
    }
}

fn strip(method: Method, result: AnalysisResult, amends: Option<i64>) -> varde_domain::sample::NewAnalysis {
    let catalogue = Catalogue::builtin().expect("the shipped catalogue");
    AnalysisInput { method, result: Some(result), components: None, performed_at: None, amends }
        .validate("a", Form::Powder, &catalogue, now())
        .expect("a valid strip result")
}

/// Heroin with a positive nitazene strip: a severe finding, and evidence for the heroin draft.
fn severe() -> NewSample {
    let mut s = sample("heroin");
    s.analyses = vec![strip(Method::StripNitazene, AnalysisResult::Positive, None)];
    s
}

/// A severe sample received `n % 4 * 3` days ago: concurrent writers spread over nine days, so over more than one
/// week and within one draft's join window. (Rows a backend keeps per week, such as the figure weeks, would
/// otherwise serialise the writers by themselves and hide a missing lock.)
fn severe_days_ago(n: usize) -> NewSample {
    let mut s = severe();
    s.received_at = now() - jiff::SignedDuration::from_hours(n as i64 % 4 * 72);
    s
}

/// A taken code is refused and the first sample kept whole.
pub async fn a_taken_code_is_refused_and_the_first_sample_kept(store: Backend) {
    let code = SampleCode::parse("AAAA-BBBB-CCCC").unwrap();
    store.create_sample(code, sample("heroin"), &technician(), now()).await.unwrap();
    let mut other = sample("heroin");
    other.colour = Some("white".into());
    assert!(matches!(store.create_sample(code, other, &technician(), now()).await, Err(StoreError::CodeTaken)));
    assert_eq!(store.queries().sample(code).await.unwrap().unwrap().sample.colour.as_deref(), Some("brown"));
    assert_eq!(store.queries().sample_count().await.unwrap(), 1);
}

/// An amendment keeps the analysis it replaces; a superseded or unknown analysis cannot be amended.
pub async fn amending_an_analysis_keeps_the_old_one(store: Backend) {
    let code = SampleCode::parse("AAAA-BBBB-CCCD").unwrap();
    store.create_sample(code, sample("heroin"), &technician(), now()).await.unwrap();
    let s = store
        .add_analysis(code, strip(Method::StripFentanyl, AnalysisResult::Negative, None), &technician(), now())
        .await
        .unwrap();
    assert_eq!(s.sample.status, Status::Screened);
    let first = s.sample.analyses[0].id;
    let amended = strip(Method::StripFentanyl, AnalysisResult::Positive, Some(first));
    let s = store.add_analysis(code, amended, &technician(), now()).await.unwrap();
    assert_eq!(s.sample.status, Status::Amended);
    assert_eq!(s.sample.analyses[0].superseded_by, Some(s.sample.analyses[1].id));
    assert_eq!(s.sample.current_analyses().count(), 1);
    let again = strip(Method::StripFentanyl, AnalysisResult::Negative, Some(first));
    let e = store.add_analysis(code, again, &technician(), now()).await.unwrap_err();
    assert!(matches!(e, StoreError::Invalid { code: ErrorCode::AnalysisAlreadyAmended, .. }), "{e}");
    let unknown = strip(Method::StripFentanyl, AnalysisResult::Negative, Some(999_999));
    let e = store.add_analysis(code, unknown, &technician(), now()).await.unwrap_err();
    assert!(matches!(e, StoreError::Invalid { code: ErrorCode::UnknownAnalysis, .. }), "{e}");
    assert_eq!(store.queries().sample(code).await.unwrap().unwrap().sample.analyses.len(), 2);
}

/// 32 severe samples of one product at once make one draft with all 32 as evidence, and the audit chain holds.
pub async fn concurrent_severe_samples_of_one_product_make_one_draft(store: Backend) {
    one_draft_from_concurrent_severe_samples(&[store]).await;
}

/// The same through several stores on one database, as several instances would write (a backend that has them
/// calls this from its own tests): join-or-draft must read the drafts only once no other instance can add one.
pub async fn severe_samples_through_several_instances_make_one_draft(stores: &[Backend]) {
    // First a sample through each, long before (a draft of its own): the instances' connections have then prepared
    // their statements, so a group sends its statements at once, as in steady use, not one prepare at a time.
    for (i, store) in stores.iter().enumerate() {
        let mut old = severe();
        old.received_at = now() - jiff::SignedDuration::from_hours(24 * 200);
        let code = SampleCode::generate(&mut rand::rngs::StdRng::seed_from_u64(1000 + i as u64));
        store.create_sample(code, old, &technician(), now()).await.expect("stored");
    }
    one_draft_from_concurrent_severe_samples(stores).await;
}

async fn one_draft_from_concurrent_severe_samples(stores: &[Backend]) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(32);
    let codes: Vec<SampleCode> = (0..32).map(|_| SampleCode::generate(&mut rng)).collect();
    let tasks: Vec<_> = codes
        .iter()
        .enumerate()
        .map(|(i, code)| {
            let (store, code) = (stores[i % stores.len()].clone(), *code);
            tokio::spawn(async move { store.create_sample(code, severe_days_ago(i), &technician(), now()).await })
        })
        .collect();
    for t in tasks {
        let stored = t.await.expect("no panic").expect("stored");
        assert_eq!(stored.alerts.len(), 1, "each sample is evidence for one draft");
    }
    let store = &stores[0];
    let filter = AlertFilter { statuses: vec![AlertStatus::Draft], limit: 100, ..AlertFilter::default() };
    // The drafts these samples made (not one from long before).
    let recent = now() - jiff::SignedDuration::from_hours(24 * 30);
    let drafts: Vec<_> =
        store.queries().alerts(filter).await.unwrap().into_iter().filter(|d| d.last_evidence_at > recent).collect();
    assert_eq!(drafts.len(), 1, "one open draft for the product, not {}", drafts.len());
    let reviewer = Principal { actor: "conformance".into(), role: Role::Reviewer, service: None };
    let evidence = store.alert_evidence(drafts[0].id, &reviewer, now()).await.unwrap();
    let found: BTreeSet<SampleCode> = evidence.iter().map(|s| s.sample.code).collect();
    assert_eq!(found, codes.iter().copied().collect(), "every sample is the draft's evidence");
    let report = store.queries().verify_audit().await.unwrap();
    assert_eq!(report.first_broken, None);
}

/// Eight writers register samples while a reader follows the event log from the start: the reader sees every
/// sample's event exactly once, in increasing sequence, including events whose transactions commit late.
pub async fn an_event_reader_misses_nothing_under_concurrent_writers(store: Backend) {
    const WRITERS: usize = 8;
    const EACH: usize = 25;
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut rng = rand::rngs::StdRng::seed_from_u64(w as u64 + 100);
                let mut codes = Vec::new();
                for _ in 0..EACH {
                    let code = SampleCode::generate(&mut rng);
                    store.create_sample(code, severe_days_ago(w), &technician(), now()).await.expect("stored");
                    codes.push(code.to_string());
                }
                codes
            })
        })
        .collect();
    let reader = {
        let store = store.clone();
        tokio::spawn(async move {
            let (mut cursor, mut seen) = (0i64, Vec::new());
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
            while seen.len() < WRITERS * EACH {
                assert!(std::time::Instant::now() < deadline, "the reader saw {} of {}", seen.len(), WRITERS * EACH);
                let events = store.queries().events_after(cursor, 37).await.expect("events");
                for e in &events {
                    assert!(e.seq > cursor, "sequence numbers increase: {} after {cursor}", e.seq);
                    cursor = e.seq;
                    if e.kind == "sample.finding" {
                        seen.push(e.payload["code"].as_str().expect("the sample's code").to_owned());
                    }
                }
                if events.is_empty() {
                    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
                }
            }
            seen
        })
    };
    let mut written: Vec<String> = Vec::new();
    for w in writers {
        written.extend(w.await.expect("no panic"));
    }
    let mut seen = reader.await.expect("no panic");
    assert_eq!(seen.len(), WRITERS * EACH, "each event once");
    seen.sort();
    written.sort();
    assert_eq!(seen, written, "every sample's event, none twice");
    let report = store.queries().verify_audit().await.unwrap();
    assert_eq!(report.first_broken, None, "the audit chain did not fork");
}

fn attempt(key: u8, allowance: u32) -> varde_store::Attempt {
    varde_store::Attempt {
        limit: "lookup",
        key: [key; 32],
        earlier_key: [key ^ 0xff; 32],
        allowance,
        window: jiff::SignedDuration::from_mins(10),
    }
}

/// A limit counts its allowance per key and limit, forgets tries older than its window, counts tries made under
/// yesterday's salt, and asking or recording changes what it should.
pub async fn a_limit_counts_its_allowance_per_key(store: Backend) {
    use varde_store::Counting::{Allow, Ask, Record};
    let t0 = now();
    for i in 0..3 {
        assert!(store.queries().attempt(attempt(1, 3), Allow, t0).await.unwrap(), "try {i} is within the allowance");
    }
    assert!(!store.queries().attempt(attempt(1, 3), Allow, t0).await.unwrap(), "the fourth is not");
    assert!(!store.queries().attempt(attempt(1, 3), Ask, t0).await.unwrap(), "and asking says so");
    assert!(store.queries().attempt(attempt(2, 3), Ask, t0).await.unwrap(), "another key has its own allowance");
    let other_limit = varde_store::Attempt { limit: "concern", ..attempt(1, 3) };
    assert!(store.queries().attempt(other_limit, Allow, t0).await.unwrap(), "and so has another limit");
    // Asking counts nothing.
    for _ in 0..5 {
        assert!(store.queries().attempt(attempt(2, 3), Ask, t0).await.unwrap());
    }
    // Tries made under yesterday's salt count.
    let yesterday = varde_store::Attempt { key: [2 ^ 0xff; 32], earlier_key: [9; 32], ..attempt(2, 3) };
    for _ in 0..3 {
        store.queries().attempt(yesterday.clone(), Record, t0).await.unwrap();
    }
    assert!(!store.queries().attempt(attempt(2, 3), Ask, t0).await.unwrap(), "tries under the earlier key count");
    // Recorded tries count whatever the count; once the window has passed none of them counts.
    for _ in 0..10 {
        store.queries().attempt(attempt(3, 2), Record, t0).await.unwrap();
    }
    let just_before = t0 + jiff::SignedDuration::from_mins(10) - jiff::SignedDuration::from_secs(1);
    assert!(!store.queries().attempt(attempt(3, 2), Ask, just_before).await.unwrap(), "still within the window");
    let after = t0 + jiff::SignedDuration::from_mins(10);
    assert!(store.queries().attempt(attempt(3, 2), Allow, after).await.unwrap(), "older tries no longer count");
    assert!(store.queries().attempt(attempt(1, 3), Allow, after).await.unwrap());
}

/// Sixteen tries at once against an allowance of five: exactly five are allowed.
pub async fn concurrent_tries_use_the_allowance_exactly(store: Backend) {
    let tries: Vec<_> = (0..16)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                store.queries().attempt(attempt(7, 5), varde_store::Counting::Allow, now()).await.expect("counted")
            })
        })
        .collect();
    let mut allowed = 0;
    for t in tries {
        allowed += usize::from(t.await.expect("no panic"));
    }
    assert_eq!(allowed, 5);
}

/// A day's salt is made once and kept through the next day, then deleted with the tries older than two days.
pub async fn limit_salts_last_two_days(store: Backend) {
    let day = jiff::SignedDuration::from_hours(24);
    let t0 = now();
    let first = store.queries().limit_salts(t0).await.unwrap();
    assert_eq!(first, store.queries().limit_salts(t0).await.unwrap(), "made once");
    assert_ne!(first.today, first.yesterday);
    let next = store.queries().limit_salts(t0 + day).await.unwrap();
    assert_eq!((next.day, next.yesterday), (first.day + 1, first.today), "today's salt is tomorrow's earlier one");
    assert_ne!(next.today, first.today);
    let later = store.queries().limit_salts(t0 + day * 3).await.unwrap();
    assert!(![first.today, first.yesterday, next.today].contains(&later.today));
    assert!(![first.today, next.today].contains(&later.yesterday), "older salts are gone");
    // Tries older than two days are deleted with the salts; a newer one still counts.
    store.queries().attempt(attempt(4, 1), varde_store::Counting::Record, t0).await.unwrap();
    store.queries().attempt(attempt(5, 1), varde_store::Counting::Record, t0 + day * 3).await.unwrap();
    let window = jiff::SignedDuration::from_hours(24 * 5);
    let long = |key| varde_store::Attempt { window, ..attempt(key, 1) };
    store.queries().limit_salts(t0 + day * 3).await.unwrap();
    assert!(store.queries().attempt(long(4), varde_store::Counting::Ask, t0 + day * 3).await.unwrap(), "deleted");
    assert!(!store.queries().attempt(long(5), varde_store::Counting::Ask, t0 + day * 3).await.unwrap(), "kept");
}

/// What registering a sample answers is what reading it back gives: the analyses with their components, amounts
/// and confidences in order, the times as kept, the findings, and the alert it joined or started.
pub async fn a_registered_sample_reads_back_as_it_was_answered(store: Backend) {
    use varde_domain::sample::{Amount, AmountUnit, ComponentInput, ComponentRole, Confidence};
    let catalogue = Catalogue::builtin().expect("the shipped catalogue");
    let component = |substance: &str, role, amount, confidence| ComponentInput {
        substance: substance.into(),
        role,
        amount,
        confidence,
    };
    let gc_ms = AnalysisInput {
        method: Method::GcMs,
        result: None,
        components: Some(vec![
            component("heroin", ComponentRole::Main, Some(Amount { value: 12.5, unit: AmountUnit::Percent }), None),
            component("protonitazene", ComponentRole::Adulterant, None, Some(Confidence::Medium)),
            component(
                "caffeine",
                ComponentRole::Adulterant,
                Some(Amount { value: 40.0, unit: AmountUnit::Percent }),
                None,
            ),
            component("noe rart", ComponentRole::Trace, None, Some(Confidence::Low)),
        ]),
        performed_at: Some(now() - jiff::SignedDuration::from_mins(5)),
        amends: None,
    }
    .validate("a", Form::Powder, &catalogue, now())
    .expect("a valid GC-MS result");
    for (i, code) in ["AAAA-BBBB-CCCD", "AAAA-BBBB-CCCE"].into_iter().enumerate() {
        let code = SampleCode::parse(code).unwrap();
        let mut new = severe();
        new.sold_as.push(SubstanceRef::known("fentanyl"));
        new.analyses.push(gc_ms.clone());
        let answered = store.create_sample(code, new, &technician(), now()).await.unwrap();
        let read = store.queries().sample(code).await.unwrap().expect("stored");
        assert_eq!(answered, read, "sample {i}");
        assert_eq!(read.sample.analyses.len(), 2);
        assert!(!read.findings.is_empty(), "severe findings");
        assert_eq!(read.alerts.len(), 1, "the draft it {}", if i == 0 { "started" } else { "joined" });
    }
}

/// New samples and new analyses of earlier samples, all in one week, written at once by many writers: every write
/// succeeds (a backend whose writers wait for each other in two orders would deadlock and fail some).
pub async fn registrations_and_analyses_at_once_all_succeed(store: Backend) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(64);
    let mut earlier = Vec::new();
    for _ in 0..8 {
        let code = SampleCode::generate(&mut rng);
        store.create_sample(code, sample("heroin"), &technician(), now()).await.expect("stored");
        earlier.push(code);
    }
    let writers: Vec<_> = (0..16)
        .map(|w| {
            let (store, earlier) = (store.clone(), earlier.clone());
            tokio::spawn(async move {
                let mut rng = rand::rngs::StdRng::seed_from_u64(w as u64 + 1000);
                for i in 0..12 {
                    if w % 2 == 0 {
                        let code = SampleCode::generate(&mut rng);
                        store.create_sample(code, severe(), &technician(), now()).await.expect("registered");
                    } else {
                        let code = earlier[(w + i) % earlier.len()];
                        let strip = strip(Method::StripFentanyl, AnalysisResult::Negative, None);
                        store.add_analysis(code, strip, &technician(), now()).await.expect("analysis added");
                    }
                }
            })
        })
        .collect();
    for w in writers {
        w.await.expect("no writer failed");
    }
    assert_eq!(store.queries().verify_audit().await.unwrap().first_broken, None);
}

/// A registration renews the figures of its sample's week, and only that week, whether it commits alone or in a
/// group with others (the figure caches follow the weeks' versions).
pub async fn registrations_renew_their_weeks_figures(store: Backend) {
    let version =
        |weeks: &[varde_store::FigureWeek], week: i64| weeks.iter().find(|w| w.week == week).map_or(0, |w| w.version);
    let week_of = |t: Timestamp| varde_store::FigureWeek::of(t);
    let (this, earlier, untouched) =
        (now(), now() - jiff::SignedDuration::from_hours(24 * 14), now() - jiff::SignedDuration::from_hours(24 * 70));
    // A sample in a week no registration here touches: its version must stay.
    let mut old = sample("heroin");
    old.received_at = untouched;
    store.create_sample(SampleCode::parse("AAAA-BBBB-CCCF").unwrap(), old, &technician(), now()).await.unwrap();
    let before = store.queries().figure_weeks().await.unwrap();
    assert!(version(&before, week_of(untouched)) > 0, "a registration alone bumps its week");
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let registrations: Vec<_> = (0..24)
        .map(|i| {
            let store = store.clone();
            let code = SampleCode::generate(&mut rng);
            let mut new = if i % 3 == 0 { severe() } else { sample("mdma") };
            new.received_at = if i % 2 == 0 { this } else { earlier };
            tokio::spawn(async move { store.create_sample(code, new, &technician(), now()).await })
        })
        .collect();
    for r in registrations {
        r.await.unwrap().expect("registered");
    }
    let after = store.queries().figure_weeks().await.unwrap();
    for week in [week_of(this), week_of(earlier)] {
        assert!(version(&after, week) > version(&before, week), "week {week} was not renewed: {after:?}");
    }
    assert_eq!(version(&after, week_of(untouched)), version(&before, week_of(untouched)), "an untouched week kept");
}

/// A concern report from Oslo with free text in every field.
pub fn concern_report() -> varde_domain::indicator::NewConcern {
    varde_domain::indicator::NewConcern {
        kommune: "0301".into(),
        fylke: "03".into(),
        happened: "passed out after half a pill".into(),
        believed: Some("MDMA".into()),
        looked_like: Some("pink tablet".into()),
    }
}

/// Retention (privacy rule): what was received before the cut-off loses its photo and free text, once, while the
/// sample, what it was sold as and the counts stay; newer ones keep theirs; the purge is audited in the chain.
pub async fn retention_removes_old_photos_and_free_text_and_keeps_the_counts(store: Backend) {
    let (old_time, cutoff) =
        (now() - jiff::SignedDuration::from_hours(24 * 400), now() - jiff::SignedDuration::from_hours(24 * 365));
    let (old, recent) = (SampleCode::parse("AAAA-BBBB-CCCF").unwrap(), SampleCode::parse("CCCC-DDDD-EEEF").unwrap());
    for (code, received) in [(old, old_time), (recent, now())] {
        let mut new = sample("heroin");
        new.received_at = received;
        new.notes = Some("bought near the station".into());
        store.create_sample(code, new, &technician(), received).await.unwrap();
        store.set_photo(code, vec![0xFF, 0xD8, 0xFF, 0xD9], (1, 1), &technician(), received).await.unwrap();
    }
    for received in [old_time, now()] {
        store.add_concern(concern_report(), received).await.unwrap();
    }
    let purged = store.purge_before(cutoff, now()).await.unwrap();
    assert_eq!(purged, varde_store::Purged { photos: 1, sample_notes: 1, concern_texts: 1 });
    assert_eq!(store.purge_before(cutoff, now()).await.unwrap(), varde_store::Purged::default(), "nothing twice");
    let kept = store.queries().sample(old).await.unwrap().expect("the sample itself stays");
    assert_eq!(kept.sample.notes, None);
    assert_eq!(kept.sample.sold_as, vec![SubstanceRef::known("heroin")], "what it was stays");
    assert!(store.queries().photo(old).await.unwrap().is_none());
    let newer = store.queries().sample(recent).await.unwrap().unwrap();
    assert_eq!(newer.sample.notes.as_deref(), Some("bought near the station"));
    assert!(store.queries().photo(recent).await.unwrap().is_some());
    assert_eq!(store.queries().sample_count().await.unwrap(), 2);
    assert_eq!(store.queries().concern_times().await.unwrap().len(), 2, "concern reports still count");
    assert_eq!(store.queries().verify_audit().await.unwrap().first_broken, None, "the purge is audited, in the chain");
}

/// The audit chain verifies whatever the text of its entries (lengths are in bytes: "ø" is two), from the first
/// entry on.
pub async fn the_audit_chain_verifies_with_any_text(store: Backend) {
    let service = Service {
        slug: ServiceSlug::parse("tromso-brukerrom").unwrap(),
        name: "Tromsø brukerrom".into(),
        kind: ServiceKind::UserRoom,
        kommune: "5501".into(),
        fylke: "55".into(),
    };
    store.add_service(service, "admin:bjørn-åse ☃", now()).await.unwrap();
    let code = SampleCode::parse("AAAA-BBBB-CCCF").unwrap();
    let tech = Principal { actor: "token:æøå".into(), ..technician() };
    store.create_sample(code, severe(), &tech, now()).await.unwrap();
    let report = store.queries().verify_audit().await.unwrap();
    assert!(report.entries >= 3, "{report:?}");
    assert_eq!(report.first_broken, None, "{report:?}");
}

/// Registrations arriving together are answered each on its own: a taken code or an unknown service fails only
/// that registration, and one the database itself refuses (here a NUL character, which PostgreSQL cannot store in
/// text) fails only itself and leaves nothing behind, while the others are stored (a backend that commits
/// registrations in groups must retry the rest without it).
pub async fn registrations_arriving_together_are_answered_each_on_its_own(store: Backend) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(77);
    let taken = SampleCode::generate(&mut rng);
    store.create_sample(taken, severe(), &technician(), now()).await.expect("stored");
    let nowhere = || {
        let mut s = severe();
        s.service = ServiceSlug::parse("ingen-tjeneste").unwrap();
        s
    };
    let poisoned = || {
        let mut s = severe();
        s.colour = Some("brun\0grå".into());
        s
    };
    // (code, sample, what it should get: Some(expected error code name) or None for stored)
    let mut tries: Vec<(SampleCode, NewSample, Option<&'static str>)> = Vec::new();
    for i in 0..24 {
        match i % 8 {
            1 => tries.push((taken, severe(), Some("taken"))),
            3 => tries.push((SampleCode::generate(&mut rng), nowhere(), Some("unknown service"))),
            5 if i < 8 => tries.push((SampleCode::generate(&mut rng), poisoned(), Some("either"))),
            _ => tries.push((SampleCode::generate(&mut rng), severe_days_ago(i), None)),
        }
    }
    let handles: Vec<_> = tries
        .into_iter()
        .map(|(code, sample, expected)| {
            let store = store.clone();
            tokio::spawn(async move { (code, expected, store.create_sample(code, sample, &technician(), now()).await) })
        })
        .collect();
    for h in handles {
        let (code, expected, got) = h.await.expect("no panic");
        match (expected, got) {
            (None, Ok(s)) => assert_eq!(s.sample.code, code),
            (Some("taken"), Err(StoreError::CodeTaken)) => {}
            (Some("unknown service"), Err(StoreError::UnknownService(_))) => {}
            (Some("either"), Ok(_)) => {}
            (Some("either"), Err(_)) => {
                assert!(store.queries().sample(code).await.unwrap().is_none(), "a refused registration leaves nothing")
            }
            (expected, got) => panic!("{code}: expected {expected:?}, got {got:?}"),
        }
    }
    assert_eq!(store.queries().verify_audit().await.unwrap().first_broken, None);
}

#[cfg(test)]
mod tests {
    /// A check written here but left out of `checks!` would run against no backend.
    #[test]
    fn every_check_is_in_the_macro() {
        let source = include_str!("lib.rs");
        let listed = source.split("$crate::checks!(@each $fresh,").nth(1).expect("the list").split(')').next().unwrap();
        let listed: Vec<&str> = listed.split(',').map(str::trim).filter(|n| !n.is_empty()).collect();
        let written: Vec<&str> = source
            .lines()
            .filter_map(|l| l.strip_prefix("pub async fn "))
            .filter(|l| l.contains("(store: Backend)"))
            .map(|l| l.split('(').next().unwrap())
            .collect();
        assert!(written.len() >= 11, "{written:?}");
        assert_eq!(listed, written);
    }
}
