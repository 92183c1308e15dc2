//! The SQLite store against a real database file: what is particular to it (group commit, migrations, the audit
//! table altered underneath). What every backend must do is in `conformance.rs`.

use jiff::Timestamp;
use rand::SeedableRng;
use std::sync::Arc;
use varde_core::Application;
use varde_core::Core;
use varde_domain::ErrorCode;
use varde_domain::auth::{Principal, Role};
use varde_domain::sample::{AnalysisInput, AnalysisResult, Form, NewSample};
use varde_domain::service::{Service, ServiceKind, ServiceSlug};
use varde_domain::{Catalogue, Method, SampleCode, SubstanceRef};
use varde_store::{Queries, StoreError};
use varde_store_sqlite::SqliteStore;

fn assessor() -> Arc<varde_domain::assess::Assessor> {
    Arc::new(varde_domain::assess::Assessor::new(Catalogue::builtin().unwrap()).unwrap())
}

fn now() -> Timestamp {
    "2026-11-20T12:00:00Z".parse().unwrap()
}

fn admin() -> Principal {
    Principal { actor: "test".into(), role: Role::Admin, service: None }
}

fn slug(s: &str) -> ServiceSlug {
    ServiceSlug::parse(s).unwrap()
}

async fn store_with_service(dir: &tempfile::TempDir) -> Arc<Core<SqliteStore>> {
    let store = Arc::new(Core::new(SqliteStore::open(dir.path().join("v.db")).unwrap(), assessor()));
    let service = Service {
        slug: slug("oslo-brukerrom"),
        name: "Oslo brukerrom".into(),
        kind: ServiceKind::UserRoom,
        kommune: "0301".into(),
        fylke: "03".into(),
    };
    store.add_service(service, "test", now()).await.unwrap();
    store
}

fn new_sample(service: &str) -> NewSample {
    NewSample {
        service: slug(service),
        received_at: now(),
        sold_as: vec![SubstanceRef::known("heroin")],
        form: Form::Powder,
        colour: Some("brown".into()),
        texture: None,
        notes: None,
        tablet: None,
        use_context: None,
        analyses: vec![],
    }
}

#[tokio::test]
async fn a_failing_request_in_a_group_commit_leaves_the_others_whole() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_service(&dir).await;
    let mut rng = seeded_rng();
    let mut tasks = Vec::new();
    for i in 0..200 {
        let store = store.clone();
        let code = SampleCode::generate(&mut rng);
        // Every third request names a service that does not exist and must fail alone.
        let service = if i % 3 == 0 { "nowhere" } else { "oslo-brukerrom" };
        tasks.push(tokio::spawn(async move {
            (code, store.create_sample(code, new_sample(service), &admin(), now()).await)
        }));
    }
    let mut stored = 0;
    for t in tasks {
        let (code, result) = t.await.unwrap();
        match result {
            Ok(s) => {
                stored += 1;
                assert_eq!(s.sample.code, code);
                assert_eq!(
                    store.queries().sample(code).await.unwrap().unwrap().sample.sold_as,
                    vec![SubstanceRef::known("heroin")]
                );
            }
            Err(StoreError::UnknownService(s)) => {
                assert_eq!(s, "nowhere");
                assert!(
                    store.queries().sample(code).await.unwrap().is_none(),
                    "nothing of a refused request is stored"
                );
            }
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(stored, 133);
    assert_eq!(store.queries().sample_count().await.unwrap(), 133);
    let report = store.queries().verify_audit().await.unwrap();
    assert_eq!(report.first_broken, None);
    assert_eq!(report.entries, 1 + 133, "one entry for the service and one per stored sample");
}

fn seeded_rng() -> rand::rngs::StdRng {
    rand::rngs::StdRng::seed_from_u64(1)
}

#[tokio::test]
async fn altering_an_audit_entry_is_detected_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.db");
    {
        let store = store_with_service(&dir).await;
        for i in 0..5 {
            let code = SampleCode::parse(&format!("AAAA-BBBB-CCC{i}")).unwrap();
            store.create_sample(code, new_sample("oslo-brukerrom"), &admin(), now()).await.unwrap();
        }
        store.sample_audited(SampleCode::parse("AAAA-BBBB-CCC1").unwrap(), &admin(), now()).await.unwrap();
        assert_eq!(store.queries().verify_audit().await.unwrap().first_broken, None);
        store.queries().close();
    }
    // Ordinary SQL cannot change history...
    let conn = rusqlite::Connection::open(&path).unwrap();
    let refused = conn.execute("UPDATE audit_log SET actor = 'someone-else' WHERE seq = 4", []);
    assert!(refused.unwrap_err().to_string().contains("append-only"));
    // ...and someone who goes around the guard is caught by the chain.
    conn.execute_batch("DROP TRIGGER audit_log_no_update; UPDATE audit_log SET actor = 'someone-else' WHERE seq = 4;")
        .unwrap();
    drop(conn);
    let store = Core::new(SqliteStore::open(&path).unwrap(), assessor());
    let report = store.queries().verify_audit().await.unwrap();
    let (seq, reason) = report.first_broken.expect("the change is found");
    assert_eq!(seq, 4);
    assert!(reason.contains("altered"), "{reason}");
}

#[tokio::test]
async fn deleting_an_audit_entry_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.db");
    {
        let store = store_with_service(&dir).await;
        for i in 0..3 {
            let code = SampleCode::parse(&format!("AAAA-BBBB-CCC{i}")).unwrap();
            store.create_sample(code, new_sample("oslo-brukerrom"), &admin(), now()).await.unwrap();
        }
        store.queries().close();
    }
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE seq = 2;").unwrap();
    drop(conn);
    let report = SqliteStore::open(&path).unwrap().verify_audit().await.unwrap();
    assert_eq!(report.first_broken.map(|b| b.0), Some(3));
}

#[tokio::test]
async fn reopening_applies_no_migration_twice_and_keeps_data() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = store_with_service(&dir).await;
        assert_eq!(store.queries().schema_version().await.unwrap(), varde_store_sqlite::SCHEMA_VERSION);
        store.queries().close();
    }
    let store = Core::new(SqliteStore::open(dir.path().join("v.db")).unwrap(), assessor());
    assert_eq!(store.queries().schema_version().await.unwrap(), varde_store_sqlite::SCHEMA_VERSION);
    assert_eq!(store.queries().services().await.unwrap().len(), 1);
    let dup = Service {
        slug: slug("oslo-brukerrom"),
        name: "x".into(),
        kind: ServiceKind::Lab,
        kommune: "0301".into(),
        fylke: "03".into(),
    };
    assert!(matches!(store.add_service(dup, "t", now()).await, Err(StoreError::Conflict(_))));
    assert_eq!(store.queries().service(&slug("oslo-brukerrom")).await.unwrap().unwrap().name, "Oslo brukerrom");
}

/// Retention blanks a concern report's free text in the file itself (the rest of retention is a conformance check).
#[tokio::test]
async fn retention_blanks_old_concern_texts_in_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_service(&dir).await;
    let year_ago: Timestamp = "2025-10-01T12:00:00Z".parse().unwrap();
    for received in [year_ago, now()] {
        store.add_concern(varde_store_conformance::concern_report(), received).await.unwrap();
    }
    let cutoff: Timestamp = "2025-11-20T12:00:00Z".parse().unwrap();
    assert_eq!(store.purge_before(cutoff, now()).await.unwrap().concern_texts, 1);
    let texts: Vec<(String, Option<String>, Option<String>)> = {
        let conn = rusqlite::Connection::open(dir.path().join("v.db")).unwrap();
        let mut stmt =
            conn.prepare("SELECT happened, believed, looked_like FROM concern_reports ORDER BY received_ms").unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap().collect::<Result<_, _>>().unwrap()
    };
    assert_eq!(texts[0], (String::new(), None, None));
    assert_eq!(texts[1].0, "passed out after half a pill");
}

fn subscriber(
    channel: varde_domain::subscription::Channel,
    address: &str,
    fylker: &[&str],
) -> varde_store::NewSubscriber {
    varde_store::NewSubscriber {
        channel,
        address: address.into(),
        push_keys: (channel == varde_domain::subscription::Channel::Push).then(|| ("k".into(), "a".into())),
        preferences: varde_domain::subscription::Preferences {
            fylker: fylker.iter().map(|f| f.to_string()).collect(),
            min_tier: varde_domain::Tier::Warning,
            lang: varde_domain::Lang::Nn,
        },
        nonce: "n".into(),
    }
}

/// The subscribers' outbox: an alert version is queued once per matching confirmed subscriber, survives a restart,
/// comes back when a retry falls due, leaves when sent; a push service's "gone" deletes the subscriber.
#[tokio::test]
async fn the_outbox_queues_each_version_once_survives_a_restart_and_retries() {
    use varde_domain::alert::{AlertAction, AlertEdit};
    use varde_domain::subscription::Channel;
    use varde_store::{Handover, MessageKind, Requested};
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_service(&dir).await;
    let at = now();
    let (kari, found) =
        store.request_subscription(subscriber(Channel::Email, "kari@example.no", &["03"]), at).await.unwrap();
    assert_eq!(found, Requested::New);
    let (bergen, _) =
        store.request_subscription(subscriber(Channel::Email, "ola@example.no", &["46"]), at).await.unwrap();
    let (phone, _) =
        store.request_subscription(subscriber(Channel::Push, "https://push.example/1", &[]), at).await.unwrap();
    assert!(phone.confirmed_at.is_some(), "push is confirmed at once");
    store.confirm_subscription(kari.id, at).await.unwrap();
    store.confirm_subscription(bergen.id, at).await.unwrap();
    let e = store.confirm_subscription(kari.id, at).await.unwrap_err();
    assert!(matches!(e, StoreError::Invalid { code: ErrorCode::LinkUsed, .. }), "{e}");
    // The confirmations wait in the outbox; hand them over.
    let confirms = store.queries().due_messages(Channel::Email, at, 10).await.unwrap();
    assert_eq!(confirms.iter().map(|m| m.kind).collect::<Vec<_>>(), [MessageKind::Confirm, MessageKind::Confirm]);
    store.settle_messages(confirms.iter().map(|m| (m.id, Handover::Sent)).collect(), at).await.unwrap();
    store.fan_out(at).await.unwrap(); // the first fan-out starts at the newest event

    // A nitazene-positive sample in Oslo drafts an alert; publishing it is a public event.
    let catalogue = Catalogue::builtin().unwrap();
    let mut sample = new_sample("oslo-brukerrom");
    sample.analyses = vec![
        AnalysisInput {
            method: Method::StripNitazene,
            result: Some(AnalysisResult::Positive),
            components: None,
            performed_at: None,
            amends: None,
        }
        .validate("a", Form::Powder, &catalogue, at)
        .unwrap(),
    ];
    let stored = store.create_sample(SampleCode::parse("AAAA-BBBB-CCCE").unwrap(), sample, &admin(), at).await.unwrap();
    let alert = stored.alerts[0].id;
    let reviewer = Principal { actor: "r".into(), role: Role::Reviewer, service: None };
    let later = at + jiff::SignedDuration::from_secs(60);
    store.change_alert(alert, AlertAction::Publish, AlertEdit::default(), &reviewer, later).await.unwrap();
    let (queued, more) = store.fan_out(later).await.unwrap();
    assert_eq!((queued, more), (2, false), "Kari (Oslo) and the phone (everywhere); not Ola (Bergen)");
    assert_eq!(store.fan_out(later).await.unwrap().0, 0, "a version is queued once");

    // A restart keeps the outbox.
    store.queries().close();
    drop(store);
    let store = Arc::new(Core::new(SqliteStore::open(dir.path().join("v.db")).unwrap(), assessor()));
    assert_eq!(store.fan_out(later).await.unwrap().0, 0);
    let mail = store.queries().due_messages(Channel::Email, later, 10).await.unwrap();
    assert_eq!(mail.len(), 1);
    assert_eq!((mail[0].kind, mail[0].subscriber.id), (MessageKind::Alert, kari.id));
    assert_eq!(mail[0].event.as_ref().unwrap().kind, "alert.published");
    // A temporary failure: not due again until its time.
    let retry_at = later + jiff::SignedDuration::from_secs(30);
    store
        .settle_messages(vec![(mail[0].id, Handover::Retry { error: "421".into(), due: retry_at })], later)
        .await
        .unwrap();
    assert!(store.queries().due_messages(Channel::Email, later, 10).await.unwrap().is_empty());
    let again = store.queries().due_messages(Channel::Email, retry_at, 10).await.unwrap();
    assert_eq!((again.len(), again[0].attempts), (1, 1));
    store.settle_messages(vec![(again[0].id, Handover::Sent)], retry_at).await.unwrap();
    assert_eq!(store.queries().pending_messages(kari.id).await.unwrap(), 0);
    // The push service says the phone's subscription is gone: the subscriber goes with its messages.
    let push = store.queries().due_messages(Channel::Push, later, 10).await.unwrap();
    assert_eq!(push.len(), 1);
    store.settle_messages(vec![(push[0].id, Handover::Gone)], later).await.unwrap();
    assert!(store.queries().subscriber(phone.id).await.unwrap().is_none());
    assert!(store.queries().verify_audit().await.unwrap().entries > 0);
}
