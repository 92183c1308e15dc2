//! The store's contract (`varde-store-conformance`) held against PostgreSQL: each check in a fresh schema of the
//! database `VARDE_TEST_POSTGRES` names (`.ci/run` sets it; without it these tests pass without running, so
//! `scripts/test` works on a machine without PostgreSQL).

use std::sync::Arc;
use varde_store_conformance as check;
use varde_store_postgres::PostgresStore;

async fn fresh(name: &str) -> Option<check::Backend> {
    let url = std::env::var("VARDE_TEST_POSTGRES").ok()?;
    // PostgreSQL cuts names at 63 bytes: the random part goes first.
    let schema = format!("varde_test_{:08x}_{}", rand::random::<u32>(), &name[..name.len().min(30)]);
    let url = varde_store_postgres::create_schema(&url, &schema).await.expect("PostgreSQL at VARDE_TEST_POSTGRES");
    let assessor = Arc::new(varde_domain::assess::Assessor::new(varde_domain::Catalogue::builtin().unwrap()).unwrap());
    let store: check::Backend = Arc::new(PostgresStore::open(&url, assessor).await.unwrap());
    check::prepare(&store).await;
    Some(store)
}

macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() {
                if let Some(store) = fresh(stringify!($name)).await {
                    check::$name(store).await;
                }
            }
        )*
    };
}

conformance!(
    a_taken_code_is_refused_and_the_first_sample_kept,
    amending_an_analysis_keeps_the_old_one,
    concurrent_severe_samples_of_one_product_make_one_draft,
    an_event_reader_misses_nothing_under_concurrent_writers,
    a_limit_counts_its_allowance_per_key,
    concurrent_tries_use_the_allowance_exactly,
    limit_salts_last_two_days,
    a_registered_sample_reads_back_as_it_was_answered,
    registrations_and_analyses_at_once_all_succeed,
    the_audit_chain_verifies_with_any_text,
    registrations_arriving_together_are_answered_each_on_its_own,
);
