//! The store's contract (`varde-store-conformance`) held against SQLite: each check on a fresh database file. A
//! PostgreSQL backend runs the same checks.

use std::sync::Arc;
use varde_store_conformance as check;
use varde_store_sqlite::SqliteStore;

async fn fresh(dir: &tempfile::TempDir) -> check::Backend {
    let assessor = Arc::new(varde_domain::assess::Assessor::new(varde_domain::Catalogue::builtin().unwrap()).unwrap());
    let store: check::Backend = Arc::new(SqliteStore::open(dir.path().join("v.db"), assessor).unwrap());
    check::prepare(&store).await;
    store
}

macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() {
                let dir = tempfile::tempdir().unwrap();
                check::$name(fresh(&dir).await).await;
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
