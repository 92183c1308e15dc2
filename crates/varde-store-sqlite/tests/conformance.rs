//! The store's contract (`varde-store-conformance`) held against SQLite: each check on a fresh database file. A
//! PostgreSQL backend runs the same checks.

use std::sync::Arc;
use varde_core::Core;
use varde_store_conformance as check;
use varde_store_sqlite::SqliteStore;

async fn fresh(_check: &str) -> Option<(check::Backend, tempfile::TempDir)> {
    let dir = tempfile::tempdir().unwrap();
    let assessor = Arc::new(varde_domain::assess::Assessor::new(varde_domain::Catalogue::builtin().unwrap()).unwrap());
    let store: check::Backend = Arc::new(Core::new(SqliteStore::open(dir.path().join("v.db")).unwrap(), assessor));
    check::prepare(&store).await;
    Some((store, dir))
}

check::checks!(fresh);
