//! Moving up and backing up across backends: `varde copy` from the embedded SQLite file into PostgreSQL and back,
//! `varde backup` and `varde restore` of a PostgreSQL database, round trips compared table by table through the
//! store. Needs the PostgreSQL that `VARDE_TEST_POSTGRES` names (`.ci/run` sets it); without it these tests pass
//! without running.

use crate::durability::{fails, run_ok, varde};
use jiff::Timestamp;
use std::sync::Arc;
use varde::{demo, load_reference, open_store};
use varde_core::Application;
use varde_domain::alert::AlertAction;
use varde_domain::auth::{Principal, Role};

async fn fresh_schema() -> Option<String> {
    let url = std::env::var("VARDE_TEST_POSTGRES").ok()?;
    let schema = format!("varde_test_copy_{:016x}", rand::random::<u64>());
    Some(varde_store_postgres::create_schema(&url, &schema).await.expect("a fresh schema"))
}

fn technician() -> Principal {
    let service = varde_domain::service::ServiceSlug::parse("oslo-brukerrom").unwrap();
    Principal { actor: "test".into(), role: Role::Technician, service: Some(service) }
}

fn heroin(analyses: Vec<varde_domain::sample::NewAnalysis>) -> varde_domain::sample::NewSample {
    varde_domain::sample::NewSample {
        service: technician().service.unwrap(),
        received_at: Timestamp::now(),
        sold_as: vec![varde_domain::SubstanceRef::known("heroin")],
        form: varde_domain::sample::Form::Powder,
        colour: None,
        texture: None,
        notes: None,
        tablet: None,
        use_context: None,
        analyses,
    }
}

/// Everything a reader of the store sees, in a form two stores can be compared by.
async fn picture(store: &Arc<dyn Application>) -> Vec<String> {
    let reviewer = Principal { actor: "test".into(), role: Role::Reviewer, service: None };
    let mut out = vec![
        format!("samples {}", store.queries().sample_count().await.unwrap()),
        format!("audit {:?}", store.queries().verify_audit().await.unwrap()),
        format!("services {:?}", store.queries().services().await.unwrap()),
        format!("users {:?}", store.queries().users().await.unwrap()),
        format!("tokens {:?}", store.queries().tokens().await.unwrap()),
        format!("weeks {}", store.queries().figure_weeks().await.unwrap().len()),
        format!("deaths {:?}", store.queries().deaths().await.unwrap()),
        format!("warning times {:?}", store.queries().warning_times().await.unwrap()),
    ];
    let summaries = store.queries().sample_summaries(Timestamp::MIN, Timestamp::MAX).await.unwrap();
    out.push(format!("summaries {summaries:?}"));
    for alert in store.queries().alerts(varde_store::AlertFilter::default()).await.unwrap() {
        let evidence = store.alert_evidence(alert.id, &reviewer, Timestamp::now()).await.unwrap();
        out.push(format!("alert {alert:?} versions {:?}", store.queries().alert_versions(alert.id).await.unwrap()));
        out.push(format!("evidence {evidence:?}"));
    }
    out.push(format!("events {:?}", store.queries().events_after(0, usize::MAX).await.unwrap()));
    out
}

/// The reads in `picture` are audited on each store alike; compare what was there before them.
async fn compare(a: &Arc<dyn Application>, b: &Arc<dyn Application>) {
    let (x, y) = (picture(a).await, picture(b).await);
    assert_eq!(x.len(), y.len());
    for (x, y) in x.iter().zip(&y) {
        if x != y {
            // The first difference, with some context: the pictures are long.
            let at = x.chars().zip(y.chars()).take_while(|(a, b)| a == b).count();
            let around = |s: &str| s.chars().skip(at.saturating_sub(300)).take(600).collect::<String>();
            panic!("the stores differ:\n{}\n---\n{}", around(x), around(y));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_embedded_installation_moves_into_postgres_and_back_with_its_audit_chain() {
    let Some(postgres) = fresh_schema().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let sqlite = format!("sqlite://{}", dir.path().join("v.db").display());
    let reference = load_reference(None).unwrap();
    let original = open_store(&sqlite, &reference).await.unwrap();
    demo::load(original.clone(), &reference, 3, 600, jiff::Timestamp::now()).await.unwrap();
    // A severe sample today: its draft is published and then withdrawn, so versions, transitions and public events
    // are copied too.
    let severe = varde_domain::sample::AnalysisInput {
        method: varde_domain::Method::StripNitazene,
        result: Some(varde_domain::sample::AnalysisResult::Positive),
        components: None,
        performed_at: None,
        amends: None,
    }
    .validate("a", varde_domain::sample::Form::Powder, &varde_domain::Catalogue::builtin().unwrap(), Timestamp::now())
    .unwrap();
    let code = varde_domain::SampleCode::parse("ZZZZ-ZZZZ-ZZZ3").unwrap();
    let stored = original.create_sample(code, heroin(vec![severe]), &technician(), Timestamp::now()).await.unwrap();
    let reviewer = Principal { actor: "test".into(), role: Role::Reviewer, service: None };
    for action in [AlertAction::Publish, AlertAction::Withdraw] {
        let edit = varde_domain::alert::AlertEdit::default();
        original.change_alert(stored.alerts[0].id, action, edit, &reviewer, Timestamp::now()).await.unwrap();
    }
    original.queries().close();
    drop(original);

    let out = run_ok(varde(&sqlite).args(["copy", "--from", &sqlite, "--to", &postgres]));
    assert!(out.contains("chain intact"), "{out}");
    let (original, moved) =
        (open_store(&sqlite, &reference).await.unwrap(), open_store(&postgres, &reference).await.unwrap());
    compare(&original, &moved).await;
    run_ok(varde(&postgres).args(["audit", "verify"]));

    // The moved installation takes new samples: its sequences continue after the copied ids.
    let before = moved.queries().verify_audit().await.unwrap().entries;
    let code = varde_domain::SampleCode::parse("ZZZZ-ZZZZ-ZZZ2").unwrap();
    moved.create_sample(code, heroin(Vec::new()), &technician(), Timestamp::now()).await.unwrap();
    let after = moved.queries().verify_audit().await.unwrap();
    assert_eq!((after.entries, after.first_broken), (before + 1, None));

    // Back into a new SQLite file: the same as the PostgreSQL database it came from.
    let back = format!("sqlite://{}", dir.path().join("back.db").display());
    run_ok(varde(&back).args(["copy", "--from", &postgres, "--to", &back]));
    let back = open_store(&back, &reference).await.unwrap();
    compare(&moved, &back).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_database_is_backed_up_to_a_file_and_restored_into_an_empty_one() {
    let (Some(first), Some(second)) = (fresh_schema().await, fresh_schema().await) else { return };
    let dir = tempfile::tempdir().unwrap();
    let reference = load_reference(None).unwrap();
    let store = open_store(&first, &reference).await.unwrap();
    demo::load(store.clone(), &reference, 5, 300, jiff::Timestamp::now()).await.unwrap();
    let file = dir.path().join("backup.db");
    let out = run_ok(varde(&first).args(["backup", "--out", file.to_str().unwrap()]));
    assert!(out.contains("chain intact"), "{out}");
    // A backup never overwrites a file.
    let err = fails(varde(&first).args(["backup", "--out", file.to_str().unwrap()]));
    assert!(err.contains("exists"), "{err}");

    run_ok(varde(&second).args(["restore", file.to_str().unwrap()]));
    let restored = open_store(&second, &reference).await.unwrap();
    compare(&store, &restored).await;

    // Into a database that holds data, nothing is restored and nothing there changes.
    let count = restored.queries().sample_count().await.unwrap();
    let entries = restored.queries().verify_audit().await.unwrap().entries;
    let err = fails(varde(&second).args(["restore", file.to_str().unwrap()]));
    assert!(err.contains("not empty"), "{err}");
    assert_eq!(restored.queries().sample_count().await.unwrap(), count);
    assert_eq!(restored.queries().verify_audit().await.unwrap().entries, entries);
    let err = fails(varde(&second).args(["restore", "--replace", file.to_str().unwrap()]));
    assert!(err.contains("--replace is for SQLite"), "{err}");
}
