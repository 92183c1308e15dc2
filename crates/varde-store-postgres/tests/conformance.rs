//! The store's contract (`varde-store-conformance`) held against PostgreSQL: each check in a fresh schema of the
//! database `VARDE_TEST_POSTGRES` names (`.ci/run` sets it; without it these tests pass without running, so
//! `scripts/test` works on a machine without PostgreSQL).

use std::sync::Arc;
use varde_core::Core;
use varde_store_conformance as check;
use varde_store_postgres::PostgresStore;

async fn fresh(name: &str) -> Option<(check::Backend, ())> {
    let url = std::env::var("VARDE_TEST_POSTGRES").ok()?;
    // PostgreSQL cuts names at 63 bytes: the random part goes first.
    let schema = format!("varde_test_{:08x}_{}", rand::random::<u32>(), &name[..name.len().min(30)]);
    let url = varde_store_postgres::create_schema(&url, &schema).await.expect("PostgreSQL at VARDE_TEST_POSTGRES");
    let assessor = Arc::new(varde_domain::assess::Assessor::new(varde_domain::Catalogue::builtin().unwrap()).unwrap());
    let store: check::Backend =
        Arc::new(Core::new(PostgresStore::open(&url, assessor.clone()).await.unwrap(), assessor));
    check::prepare(&store).await;
    Some((store, ()))
}

check::checks!(fresh);
