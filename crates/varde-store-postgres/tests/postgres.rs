//! What only the PostgreSQL backend has to show: instances that start together migrate once, and the jobs'
//! leadership is held by one store at a time and passes on when its holder goes. Runs against the database
//! `VARDE_TEST_POSTGRES` names (`.ci/run` sets it); without it these tests pass without running.

use std::sync::Arc;
use varde_core::Core;
use varde_store::Queries;
use varde_store_postgres::PostgresStore;

async fn fresh_schema(name: &str) -> Option<String> {
    let url = std::env::var("VARDE_TEST_POSTGRES").ok()?;
    let schema = format!("varde_test_{:08x}_{name}", rand::random::<u32>());
    Some(varde_store_postgres::create_schema(&url, &schema).await.expect("PostgreSQL at VARDE_TEST_POSTGRES"))
}

/// A connection of the test's own, beside the stores'.
async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    client
}

fn assessor() -> Arc<varde_domain::assess::Assessor> {
    Arc::new(varde_domain::assess::Assessor::new(varde_domain::Catalogue::builtin().unwrap()).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn instances_starting_together_migrate_once() {
    let Some(url) = fresh_schema("migrate").await else { return };
    let opens: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move { PostgresStore::open(&url, assessor()).await })
        })
        .collect();
    let mut stores = Vec::new();
    for open in opens {
        stores.push(open.await.unwrap().expect("every instance opens"));
    }
    for store in &stores {
        assert_eq!(store.schema_version().await.unwrap(), varde_store_postgres::SCHEMA_VERSION);
    }
    let client = connect(&url).await;
    let applied: i64 = client.query_one("SELECT count(*) FROM varde_schema", &[]).await.unwrap().get(0);
    assert_eq!(applied, varde_store_postgres::SCHEMA_VERSION, "each migration applied once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_store_leads_the_jobs_and_another_takes_over_when_it_goes() {
    let Some(url) = fresh_schema("lead").await else { return };
    let a = PostgresStore::open(&url, assessor()).await.unwrap();
    let b = PostgresStore::open(&url, assessor()).await.unwrap();
    let lead = a.try_lead().await.unwrap().expect("the first to ask leads");
    assert!(b.try_lead().await.unwrap().is_none(), "one leader at a time");
    drop(lead);
    // The server releases the lock when the leader's connection closes.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        if b.try_lead().await.unwrap().is_some() {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the other store takes over");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Four instances take tries at one limit at once: together they allow exactly its allowance (the limits' lock;
/// each instance alone would queue its own tries in-process and hide a missing one).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn instances_counting_one_limit_at_once_allow_exactly_its_allowance() {
    let Some(url) = fresh_schema("limits").await else { return };
    let mut stores = Vec::new();
    for _ in 0..4 {
        stores.push(Arc::new(PostgresStore::open(&url, assessor()).await.unwrap()));
    }
    let attempt = varde_store::Attempt {
        limit: "login",
        key: [7; 32],
        earlier_key: [8; 32],
        allowance: 5,
        window: jiff::SignedDuration::from_mins(10),
    };
    let tries: Vec<_> = (0..32)
        .map(|i| {
            let (store, attempt) = (stores[i % 4].clone(), attempt.clone());
            tokio::spawn(async move {
                store.attempt(attempt, varde_store::Counting::Allow, jiff::Timestamp::now()).await.unwrap()
            })
        })
        .collect();
    let mut allowed = 0;
    for t in tries {
        allowed += usize::from(t.await.unwrap());
    }
    assert_eq!(allowed, 5);
}

/// Severe samples of one product registered through four instances at once make one draft: each instance's group
/// reads the joinable drafts only once it holds the writers' lock (the read is sent in the same round trip as the
/// lock, after it), so no two instances can each find none and start one.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn severe_samples_through_four_instances_make_one_draft() {
    let Some(url) = fresh_schema("one_draft").await else { return };
    let mut stores: Vec<varde_store_conformance::Backend> = Vec::new();
    for _ in 0..4 {
        stores.push(Arc::new(Core::new(PostgresStore::open(&url, assessor()).await.unwrap(), assessor())));
    }
    varde_store_conformance::prepare(&stores[0]).await;
    varde_store_conformance::severe_samples_through_several_instances_make_one_draft(&stores).await;
}

/// After a bulk load the planner's statistics are brought up to date: without them a connection that cached its plan
/// while a table was small keeps scanning the whole table (which halved the registration rate in the benches).
#[tokio::test]
async fn refreshing_statistics_analyses_every_table() {
    let Some(url) = fresh_schema("analyse").await else { return };
    let store = PostgresStore::open(&url, assessor()).await.unwrap();
    let client = connect(&url).await;
    // Another installation in the same database: its tables are not this one's to lock or analyse.
    let neighbour = fresh_schema("analyse_neighbour").await.unwrap();
    let other = connect(&neighbour).await;
    other.batch_execute("CREATE TABLE neighbour (x integer); INSERT INTO neighbour VALUES (1)").await.unwrap();
    let unanalysed = "SELECT count(*) FROM pg_stat_user_tables
                      WHERE schemaname = current_schema() AND last_analyze IS NULL AND last_autoanalyze IS NULL";
    let before: i64 = client.query_one(unanalysed, &[]).await.unwrap().get(0);
    assert!(before > 0, "a new schema's tables have no statistics yet");
    store.refresh_statistics().await.unwrap();
    // The server publishes a backend's statistics within a second of its transaction.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let after: i64 = client.query_one(unanalysed, &[]).await.unwrap().get(0);
        if after == 0 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{after} tables still without statistics");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let neighbours: i64 = other.query_one(unanalysed, &[]).await.unwrap().get(0);
    assert_eq!(neighbours, 1, "the neighbouring installation's table was analysed too");
}

/// The audit chain's hash is made in SQL under the writers' lock (`audit_append`); its field encoding must be inlined
/// into the hashing expression, not run as a SQL function (planned anew on every call) six times per entry. The plan
/// shows the function's body where it was inlined and the function's name where it was not.
#[tokio::test]
async fn the_audit_field_encoding_is_inlined_where_entries_are_hashed() {
    let Some(url) = fresh_schema("audit_inline").await else { return };
    let _store = PostgresStore::open(&url, assessor()).await.unwrap();
    let client = connect(&url).await;
    let plan: String = client
        .query("EXPLAIN VERBOSE SELECT audit_field(actor) || audit_field(seq::text) FROM audit_log", &[])
        .await
        .unwrap()
        .iter()
        .map(|row| row.get::<_, String>(0))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(plan.contains("convert_to"), "the body is inlined: {plan}");
    assert!(!plan.contains("audit_field"), "no call of the function is left: {plan}");
    // Inlined, it makes the same chain: the conformance suite appends entries and `verify_audit` checks them.
}
