//! The embedded SQLite store.
//!
//! SQLite allows one writer at a time, so all writes go to one writer thread that commits in groups: whatever
//! requests are waiting when a transaction starts share it, and each runs in its own savepoint so that one
//! request's failure never touches another's. Every acknowledged write has been fsynced (WAL, synchronous=FULL)
//! before its caller hears back. Reads use a small pool of separate connections, which WAL lets run alongside.

// Rows are read into tuples that mirror their SELECT column by column; naming each tuple type would only move the
// column list away from the query it belongs to.
#![allow(clippy::type_complexity)]

use async_trait::async_trait;
use futures_util::future::BoxFuture;
use jiff::Timestamp;
use rusqlite::{Connection, ErrorCode, OptionalExtension, params};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};
use varde_domain::Tier;
use varde_domain::alert::{Alert, AlertVersion};
use varde_domain::auth::Role;
use varde_domain::joining::Joiner;
use varde_domain::method::Method;
use varde_domain::sample::{
    Amount, AmountUnit, Analysis, AnalysisResult, Component, ComponentRole, Confidence, Form, NewAnalysis, NewSample,
    Outcome, Sample, Status,
};
use varde_domain::service::{Service, ServiceKind, ServiceSlug};
use varde_domain::{SampleCode, SubstanceRef};
use varde_store::audit::{self, Entry};
use varde_store::port::{Backend, Turn};
use varde_store::{
    AlertFilter, AuditReport, Event, NewToken, Queries, StoreError, StoredSample, TokenGrant, WarningTimes, Webhook,
};

mod admin;
mod alerts;
mod error;
mod events;
mod limits;
mod samples;
mod spectra;
mod subscribers;
mod transaction;

pub use error::Error;
use error::Result;
use samples::{insert_analysis, sample_id_of, update_status};

/// The writer's connection inside a transaction, as the application core writes through it (the port of
/// `varde_store::port`, implemented in `transaction.rs` and next to the rows of each concern).
///
/// The port asks for a transaction that can be shared between threads, as PostgreSQL's is; SQLite's connection
/// cannot, so each read or write locks it. The lock is never contended: only the writer thread ever takes it.
pub struct Tx<'c>(&'c Mutex<Connection>);

impl Tx<'_> {
    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.0.lock().expect("not poisoned")
    }
}

/// Runs a unit of work of the core on the writer thread. Every read and write of [`Tx`] is done before its future
/// is first polled, so the work finishes in one poll; nothing here ever waits.
fn now<R>(work: impl std::future::Future<Output = R>) -> R {
    use std::task::{Context, Poll, Waker};
    let mut work = std::pin::pin!(work);
    match work.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(done) => done,
        Poll::Pending => unreachable!("SQLite's reads and writes return at once"),
    }
}

const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/sqlite/0001_init.sql"),
    include_str!("../migrations/sqlite/0002_findings_alerts_events.sql"),
    include_str!("../migrations/sqlite/0003_signals_indicators.sql"),
    include_str!("../migrations/sqlite/0004_users_sessions.sql"),
    include_str!("../migrations/sqlite/0005_photos.sql"),
    include_str!("../migrations/sqlite/0006_evidence_index.sql"),
    include_str!("../migrations/sqlite/0007_spectra.sql"),
    include_str!("../migrations/sqlite/0008_discarded_drafts.sql"),
    include_str!("../migrations/sqlite/0009_alert_photos.sql"),
    include_str!("../migrations/sqlite/0010_acknowledgements.sql"),
    include_str!("../migrations/sqlite/0011_subscribers.sql"),
    include_str!("../migrations/sqlite/0012_result_feedback.sql"),
    include_str!("../migrations/sqlite/0013_figure_weeks.sql"),
    include_str!("../migrations/sqlite/0014_evidence_by_sample.sql"),
    include_str!("../migrations/sqlite/0015_limits.sql"),
    include_str!("../migrations/sqlite/0016_second_factor.sql"),
    include_str!("../migrations/sqlite/0017_token_scope_expiry_idle.sql"),
    include_str!("../migrations/sqlite/0018_sign_in.sql"),
    include_str!("../migrations/sqlite/0019_passkeys.sql"),
];
/// The schema version a fully migrated database has.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;
/// The most requests one transaction carries; bounds the latency a request can add to its neighbours.
const MAX_BATCH: usize = 256;
/// Reader connections kept open for the next read. Reads never wait for one (a long read must not hold up short
/// ones); past this many at once a new connection is opened and then closed, which costs a connection's setup per
/// read: with only eight kept, a hundred feed clients at once made CAP four to ten times slower.
const MAX_IDLE_READERS: usize = 64;

type Deliver = Box<dyn FnOnce(Result<(), StoreError>) + Send>;
/// A request's work in the writer's transaction: its answer once the commit is known, and how it went
/// (`Ok(())`, or the reason the storage failed it, or `Err(None)` when it failed for its own sake).
type Job = Box<dyn FnOnce(&Mutex<Connection>) -> (Deliver, Result<(), Option<String>>) + Send>;

pub struct SqliteStore {
    path: PathBuf,
    events: tokio::sync::watch::Sender<i64>,
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
    readers: Arc<Mutex<Vec<Connection>>>,
    /// Why the last write failed for the storage's sake; cleared by the next commit that succeeds.
    health: Health,
}

/// Shared between the store and its writer thread.
type Health = Arc<Mutex<Option<String>>>;

fn set_health(health: &Health, failure: Option<String>) {
    let mut h = health.lock().expect("not poisoned");
    if let (Some(reason), None) = (&failure, &*h) {
        tracing::error!(reason, "storage unavailable: writes fail until the cause is removed");
    }
    if failure.is_none() && h.is_some() {
        tracing::info!("storage available again: a write succeeded");
    }
    *h = failure;
}

/// Parses `sqlite://PATH`, `sqlite:PATH` or a plain path.
pub fn path_from_url(url: &str) -> PathBuf {
    let p = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
    PathBuf::from(p)
}

/// Writes a consistent copy of the database at `database` to `out` while it is in use (`VACUUM INTO`: one read
/// transaction, so the copy is the database as of one instant; writers go on meanwhile, as WAL allows). `out` must
/// not exist. The copy is compact and needs no WAL file.
pub fn backup(database: &Path, out: &Path) -> Result<(), StoreError> {
    if out.exists() {
        return Err(StoreError::Conflict(format!("{} exists; a backup never overwrites a file", out.display())));
    }
    let conn = open_connection(database)?;
    let target = out.to_str().ok_or_else(|| StoreError::Conflict("the backup path is not valid UTF-8".into()))?;
    conn.execute("VACUUM INTO ?1", [target]).map_err(Error::from)?;
    Ok(())
}

/// Checks a backup file before it is restored: SQLite's integrity check, and that its schema is one this version
/// can migrate. Returns its schema version.
pub fn check_backup(file: &Path) -> Result<i64, StoreError> {
    let conn = Connection::open_with_flags(file, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(Error::from)?;
    let ok: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).map_err(Error::from)?;
    if ok != "ok" {
        return Err(StoreError::Conflict(format!("the backup fails SQLite's integrity check: {ok}")));
    }
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(Error::from)?;
    if version == 0 || version > SCHEMA_VERSION {
        return Err(StoreError::Conflict(format!(
            "the backup's schema version {version} is not one this Varde knows (1 to {SCHEMA_VERSION})"
        )));
    }
    Ok(version)
}

fn open_connection(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    // synchronous=FULL: a commit is on disk (WAL fsynced) before it is acknowledged.
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA temp_store = MEMORY;
         PRAGMA cache_size = -16000;",
    )?;
    // The write path alone uses some thirty statements; rusqlite's default cache of 16 would re-prepare them
    // on every request.
    conn.set_prepared_statement_cache_capacity(128);
    Ok(conn)
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and applies any pending migrations.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore, StoreError> {
        let path = path.as_ref().to_path_buf();
        let mut conn = open_connection(&path)?;
        migrate(&mut conn)?;
        let newest = events::newest(&conn)?;
        let (events, _) = tokio::sync::watch::channel(newest);
        let notify = events.clone();
        let health: Health = Arc::default();
        let writer_health = health.clone();
        let (tx, rx) = mpsc::channel::<Job>();
        let writer = std::thread::Builder::new()
            .name("varde-sqlite-writer".into())
            .spawn(move || writer_loop(conn, rx, notify, writer_health))
            .map_err(|e| StoreError::Internal(format!("cannot start the writer thread: {e}")))?;
        Ok(SqliteStore {
            path,
            events,
            jobs: Mutex::new(Some(tx)),
            writer: Mutex::new(Some(writer)),
            readers: Arc::new(Mutex::new(Vec::new())),
            health,
        })
    }

    /// Stops the writer after the jobs already sent; later writes fail with [`StoreError::Closed`].
    pub fn close(&self) {
        self.jobs.lock().expect("not poisoned").take();
        if let Some(w) = self.writer.lock().expect("not poisoned").take() {
            let _ = w.join();
        }
    }

    /// Runs `f` in the writer's current transaction, inside its own savepoint. Resolves once the transaction
    /// holding it is durably committed (or with the error that rolled back `f` or the transaction).
    async fn write<R: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<R> + Send + 'static,
    ) -> Result<R, StoreError> {
        self.in_writer(move |conn| f(&conn.lock().expect("not poisoned"))).await
    }

    /// Runs `f` on the writer thread in its current transaction, inside its own savepoint (see [`SqliteStore::write`]).
    async fn in_writer<R: Send + 'static>(
        &self,
        f: impl FnOnce(&Mutex<Connection>) -> Result<R> + Send + 'static,
    ) -> Result<R, StoreError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |conn: &Mutex<Connection>| {
            let result = in_savepoint(conn, f).map_err(StoreError::from);
            let outcome = match &result {
                Ok(_) => Ok(()),
                Err(StoreError::Unavailable(reason)) => Err(Some(reason.clone())),
                Err(_) => Err(None),
            };
            let deliver: Deliver = Box::new(move |commit: Result<(), StoreError>| {
                let _ = tx.send(commit.and(result));
            });
            (deliver, outcome)
        });
        let sender = self.jobs.lock().expect("not poisoned").clone().ok_or(Error::Store(StoreError::Closed))?;
        sender.send(job).map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    async fn read<R: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<R> + Send + 'static,
    ) -> Result<R, StoreError> {
        let readers = self.readers.clone();
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || -> Result<R, StoreError> {
            let conn = match readers.lock().expect("not poisoned").pop() {
                Some(c) => c,
                None => open_connection(&path)?,
            };
            let result = f(&conn);
            let mut idle = readers.lock().expect("not poisoned");
            if idle.len() < MAX_IDLE_READERS {
                idle.push(conn);
            }
            Ok(result?)
        })
        .await
        .map_err(|e| StoreError::Internal(format!("reader task failed: {e}")))?
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        self.close();
    }
}

fn in_savepoint<R>(shared: &Mutex<Connection>, f: impl FnOnce(&Mutex<Connection>) -> Result<R>) -> Result<R> {
    shared.lock().expect("not poisoned").prepare_cached("SAVEPOINT job")?.execute([])?;
    let result = f(shared);
    let conn = shared.lock().expect("not poisoned");
    let end = || -> rusqlite::Result<()> {
        if result.is_err() {
            conn.prepare_cached("ROLLBACK TO job")?.execute([])?;
        }
        conn.prepare_cached("RELEASE job")?.execute([])?;
        Ok(())
    };
    match end() {
        Ok(()) => result,
        Err(e) => Err(e.into()),
    }
}

fn writer_loop(conn: Connection, jobs: mpsc::Receiver<Job>, events: tokio::sync::watch::Sender<i64>, health: Health) {
    let shared = Mutex::new(conn);
    let lock = || shared.lock().expect("not poisoned");
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        if let Err(e) = lock().execute_batch("BEGIN IMMEDIATE") {
            // Run nothing: each caller hears the store is unavailable (its job is dropped unrun).
            set_health(&health, Some(format!("cannot begin a transaction: {e}")));
            drop(batch);
            continue;
        }
        let (deliveries, outcomes): (Vec<Deliver>, Vec<Result<(), Option<String>>>) =
            batch.into_iter().map(|job| job(&shared)).unzip();
        let conn = lock();
        let commit = conn.execute_batch("COMMIT");
        if commit.is_err() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        // A commit fails for the storage's sake (a full disk, an I/O error): nothing of the batch was stored.
        let failure = commit.as_ref().err().map(|e| format!("commit failed: {e}"));
        let storage_failure = failure.clone().or_else(|| outcomes.iter().find_map(|o| o.clone().err().flatten()));
        if storage_failure.is_some() {
            set_health(&health, storage_failure);
        } else if outcomes.iter().any(Result::is_ok) {
            // Healthy again only once something was stored; a batch of refused requests proves nothing.
            set_health(&health, None);
        }
        // Wake event listeners (server-sent events, webhook workers) when the commit added events — before the
        // writers hear back, so that whoever a write answered finds the watch past its events (the feeds' and CAP
        // messages' caches are keyed by it: a read right after a publication must not get the copy from before).
        if let Ok(newest) = events::newest(&conn) {
            events.send_if_modified(|seq| std::mem::replace(seq, newest) != newest);
        }
        drop(conn);
        for deliver in deliveries {
            deliver(match &failure {
                None => Ok(()),
                Some(m) => Err(StoreError::Unavailable(m.clone())),
            });
        }
    }
}

fn migrate(conn: &mut Connection) -> Result<()> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current > MIGRATIONS.len() as i64 {
        return Err(StoreError::Internal(format!(
            "the database has schema version {current}, newer than this Varde knows ({}); upgrade Varde",
            MIGRATIONS.len()
        ))
        .into());
    }
    // Foreign keys are off while migrations run, so a migration can rebuild a referenced table (SQLite's procedure
    // for schema changes ALTER TABLE cannot make); the check after each migration proves nothing dangles.
    conn.execute_batch("PRAGMA foreign_keys = OFF")?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        let dangling: Option<String> = tx.query_row("PRAGMA foreign_key_check", [], |r| r.get(0)).optional()?;
        if let Some(table) = dangling {
            return Err(
                StoreError::Corrupt(format!("migration {} leaves a dangling reference in {table}", i + 1)).into()
            );
        }
        tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1))?;
        tx.commit()?;
        tracing::info!(version = i + 1, "applied migration");
    }
    conn.execute_batch("PRAGMA foreign_keys = ON")?;
    Ok(())
}

fn ms(t: Timestamp) -> i64 {
    t.as_millisecond()
}

fn ts(ms: i64) -> Result<Timestamp> {
    Timestamp::from_millisecond(ms).map_err(|e| Error::corrupt(e.to_string()))
}

fn to_json<T: serde::Serialize>(v: &Option<T>) -> Option<String> {
    v.as_ref().map(|x| serde_json::to_string(x).expect("plain data serialises"))
}

fn from_json<T: serde::de::DeserializeOwned>(s: Option<String>) -> Result<Option<T>> {
    s.map(|s| serde_json::from_str(&s).map_err(|e| Error::corrupt(e.to_string()))).transpose()
}

fn corrupt(what: &str, value: &str) -> Error {
    Error::Store(StoreError::Corrupt(format!("unknown {what} '{value}'")))
}

/// Appends an entry to the audit chain, inside the caller's transaction.
fn append_audit(conn: &Connection, at: Timestamp, actor: &str, action: &str, subject: &str) -> Result<()> {
    let last: Option<(i64, String)> = conn
        .prepare_cached("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (seq, prev_hash) = match last {
        Some((seq, hash)) => (seq + 1, hash),
        None => (1, audit::GENESIS.to_owned()),
    };
    let entry = Entry { seq, at_ms: ms(at), actor, action, subject, prev_hash: &prev_hash };
    conn.prepare_cached(
        "INSERT INTO audit_log (seq, at_ms, actor, action, subject, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![seq, entry.at_ms, actor, action, subject, prev_hash, entry.hash()])?;
    Ok(())
}

fn service_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(String, String, String, String, String)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

fn to_service((slug, name, kind, kommune, fylke): (String, String, String, String, String)) -> Result<Service> {
    Ok(Service {
        slug: ServiceSlug::parse(&slug).map_err(|_| corrupt("service slug", &slug))?,
        name,
        kind: ServiceKind::parse(&kind).ok_or_else(|| corrupt("service kind", &kind))?,
        kommune,
        fylke,
    })
}

impl Backend for SqliteStore {
    type Error = Error;
    type Tx<'t> = Tx<'t>;

    /// Every write is the writer thread's, whatever its turn: the core's work runs there like any other, in one poll.
    fn write<R, W>(&self, _turn: Turn, work: W) -> impl Future<Output = Result<R, StoreError>> + Send
    where
        R: Send + 'static,
        W: for<'t> FnOnce(&'t Tx<'t>) -> BoxFuture<'t, Result<R, Error>> + Send + 'static,
    {
        self.in_writer(move |conn| now(work(&Tx(conn))))
    }
}

#[async_trait]
impl Queries for SqliteStore {
    async fn services(&self) -> Result<Vec<Service>, StoreError> {
        self.read(|conn| {
            let mut stmt =
                conn.prepare_cached("SELECT slug, name, kind, kommune, fylke FROM services ORDER BY slug")?;
            let rows = stmt.query_map([], service_row)?.collect::<Result<Vec<_>, _>>()?;
            rows.into_iter().map(to_service).collect()
        })
        .await
    }

    async fn service(&self, slug: &ServiceSlug) -> Result<Option<Service>, StoreError> {
        let slug = slug.as_str().to_owned();
        self.read(move |conn| {
            let row = conn
                .query_row("SELECT slug, name, kind, kommune, fylke FROM services WHERE slug = ?1", [slug], service_row)
                .optional()?;
            row.map(to_service).transpose()
        })
        .await
    }

    async fn token(&self, hash: [u8; 32]) -> Result<Option<TokenGrant>, StoreError> {
        self.read(move |conn| {
            let row: Option<(i64, String, Option<String>, bool, Option<i64>)> = conn
                .prepare_cached(
                    "SELECT t.id, t.role, s.slug, t.read_only, t.expires_ms FROM tokens t
                     LEFT JOIN services s ON s.id = t.service_id WHERE t.hash = ?1 AND t.revoked_ms IS NULL",
                )?
                .query_row([&hash[..]], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
                .optional()?;
            row.map(|(id, role, slug, read_only, expires)| {
                Ok(TokenGrant {
                    id,
                    role: Role::parse(&role).ok_or_else(|| corrupt("role", &role))?,
                    service: slug
                        .map(|s| ServiceSlug::parse(&s).map_err(|_| corrupt("service slug", &s)))
                        .transpose()?,
                    read_only,
                    expires: expires.map(ts).transpose()?,
                })
            })
            .transpose()
        })
        .await
    }

    async fn token_used(&self, id: i64, at: Timestamp) -> Result<(), StoreError> {
        self.write(move |conn| {
            conn.prepare_cached("UPDATE tokens SET last_used_ms = ?2 WHERE id = ?1")?.execute(params![id, ms(at)])?;
            Ok(())
        })
        .await
    }

    async fn sample(&self, code: SampleCode) -> Result<Option<StoredSample>, StoreError> {
        self.read(move |conn| samples::load_stored(conn, code)).await
    }

    async fn samples_of(
        &self,
        service: &ServiceSlug,
        status: Option<Status>,
        limit: usize,
    ) -> Result<Vec<varde_store::SampleLine>, StoreError> {
        let service = service.as_str().to_owned();
        self.read(move |conn| samples::samples_of(conn, &service, status, limit)).await
    }

    async fn sample_count(&self) -> Result<u64, StoreError> {
        self.read(|conn| Ok(conn.query_row("SELECT count(*) FROM samples", [], |r| r.get::<_, i64>(0))? as u64)).await
    }

    async fn alerts(&self, filter: AlertFilter) -> Result<Vec<Alert>, StoreError> {
        self.read(move |conn| alerts::list(conn, &filter)).await
    }

    async fn alert(&self, id: i64) -> Result<Option<Alert>, StoreError> {
        self.read(move |conn| alerts::load_alert(conn, id)).await
    }

    async fn alert_versions(&self, id: i64) -> Result<Vec<AlertVersion>, StoreError> {
        self.read(move |conn| alerts::versions(conn, id)).await
    }

    async fn events_after(&self, seq: i64, limit: usize) -> Result<Vec<Event>, StoreError> {
        self.read(move |conn| events::after(conn, seq, limit)).await
    }

    fn event_watch(&self) -> tokio::sync::watch::Receiver<i64> {
        self.events.subscribe()
    }

    fn write_failure(&self) -> Option<String> {
        self.health.lock().expect("not poisoned").clone()
    }

    async fn webhooks(&self) -> Result<Vec<Webhook>, StoreError> {
        self.read(events::webhooks).await
    }

    async fn skip_to(&self, webhook_id: i64, seq: i64) -> Result<(), StoreError> {
        self.write(move |conn| events::skip_to(conn, webhook_id, seq)).await
    }

    async fn delivery_status(&self, webhook_id: i64) -> Result<(u64, Option<String>), StoreError> {
        self.read(move |conn| events::delivery_status(conn, webhook_id)).await
    }

    async fn warning_times(&self) -> Result<Vec<WarningTimes>, StoreError> {
        self.read(events::warning_times).await
    }

    async fn concern_times(&self) -> Result<Vec<(Timestamp, String)>, StoreError> {
        self.read(events::concern_times).await
    }

    async fn user_room_days(
        &self,
        service: Option<ServiceSlug>,
    ) -> Result<Vec<(varde_domain::indicator::UserRoomDay, String)>, StoreError> {
        self.read(move |conn| events::user_room_days(conn, service.as_ref().map(ServiceSlug::as_str))).await
    }

    async fn deaths(&self) -> Result<Vec<(i32, u32)>, StoreError> {
        self.read(events::deaths).await
    }

    async fn sample_summaries(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<varde_store::SampleSummary>, StoreError> {
        self.read(move |conn| samples::summaries(conn, ms(from), ms(to))).await
    }

    async fn figure_weeks(&self) -> Result<Vec<varde_store::FigureWeek>, StoreError> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached("SELECT week, version FROM figure_weeks ORDER BY week")?;
            let rows = stmt.query_map([], |r| Ok(varde_store::FigureWeek { week: r.get(0)?, version: r.get(1)? }))?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    async fn feedback(
        &self,
        code: SampleCode,
    ) -> Result<(Option<varde_domain::feedback::Intention>, Option<varde_domain::feedback::Outcome>), StoreError> {
        self.read(move |conn| {
            let id = match sample_id_of(conn, code) {
                Ok(id) => id,
                Err(Error::Store(StoreError::UnknownSample)) => return Ok((None, None)),
                Err(e) => return Err(e),
            };
            let row = conn
                .query_row(
                    "SELECT intention, used, effect, unexpected FROM result_feedback WHERE sample_id = ?1",
                    [id],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )
                .optional()?;
            Ok(row.map(samples::feedback_of).transpose()?.unwrap_or((None, None)))
        })
        .await
    }

    async fn user(&self, username: &str) -> Result<Option<varde_store::UserRecord>, StoreError> {
        let u = username.to_owned();
        self.read(move |conn| events::user(conn, &u)).await
    }

    async fn create_session(
        &self,
        hash: [u8; 32],
        user_id: i64,
        csrf: &str,
        at: Timestamp,
        expires: Timestamp,
        verified: bool,
    ) -> Result<(), StoreError> {
        let csrf = csrf.to_owned();
        self.write(move |conn| events::create_session(conn, &hash, user_id, &csrf, at, expires, verified)).await
    }

    async fn session(&self, hash: [u8; 32], now: Timestamp) -> Result<Option<varde_store::SessionRecord>, StoreError> {
        self.read(move |conn| events::session(conn, &hash, now)).await
    }

    async fn end_session(&self, hash: [u8; 32], why: &str, at: Timestamp) -> Result<(), StoreError> {
        let why = why.to_owned();
        self.write(move |conn| events::end_sessions(conn, "hash = ?1", params![&hash[..]], at, &why).map(|_| ())).await
    }

    async fn session_seen(&self, hash: [u8; 32], at: Timestamp) -> Result<(), StoreError> {
        self.write(move |conn| {
            conn.prepare_cached("UPDATE sessions SET last_seen_ms = ?2 WHERE hash = ?1")?
                .execute(params![&hash[..], ms(at)])?;
            Ok(())
        })
        .await
    }

    async fn set_ceremony(&self, hash: [u8; 32], state: Option<String>) -> Result<(), StoreError> {
        self.write(move |conn| {
            conn.prepare_cached("UPDATE sessions SET ceremony = ?2 WHERE hash = ?1")?
                .execute(params![&hash[..], state])?;
            Ok(())
        })
        .await
    }

    async fn take_ceremony(&self, hash: [u8; 32]) -> Result<Option<String>, StoreError> {
        self.write(move |conn| {
            let state: Option<String> = conn
                .prepare_cached("SELECT ceremony FROM sessions WHERE hash = ?1")?
                .query_row([&hash[..]], |r| r.get(0))
                .optional()?
                .flatten();
            conn.prepare_cached("UPDATE sessions SET ceremony = NULL WHERE hash = ?1")?.execute([&hash[..]])?;
            Ok(state)
        })
        .await
    }

    async fn sessions_of(&self, user_id: i64, now: Timestamp) -> Result<Vec<varde_store::SessionLine>, StoreError> {
        self.read(move |conn| events::sessions_of(conn, user_id, now)).await
    }

    async fn end_session_of(&self, user_id: i64, key: &str, at: Timestamp) -> Result<bool, StoreError> {
        let key = key.to_ascii_lowercase();
        self.write(move |conn| {
            let ended = events::end_sessions(
                conn,
                "user_id = ?1 AND lower(hex(substr(hash, 1, 8))) = ?2",
                params![user_id, key],
                at,
                "ended by the user",
            )?;
            Ok(ended > 0)
        })
        .await
    }

    async fn users(&self) -> Result<Vec<(String, Role, Option<ServiceSlug>, bool)>, StoreError> {
        self.read(events::users).await
    }

    async fn tokens(&self) -> Result<Vec<varde_store::TokenLine>, StoreError> {
        self.read(events::tokens).await
    }

    async fn acknowledgements(&self, alert: i64) -> Result<Vec<(ServiceSlug, Timestamp)>, StoreError> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT s.slug, k.acknowledged_ms FROM alert_acknowledgements k JOIN services s ON s.id = k.service_id
                 WHERE k.alert_id = ?1 ORDER BY k.acknowledged_ms",
            )?;
            let rows: Vec<(String, i64)> =
                stmt.query_map([alert], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
            rows.into_iter()
                .map(|(slug, at)| Ok((ServiceSlug::parse(&slug).map_err(|_| corrupt("service", &slug))?, ts(at)?)))
                .collect()
        })
        .await
    }

    async fn acknowledged_by(&self, service: &ServiceSlug) -> Result<Vec<i64>, StoreError> {
        let slug = service.as_str().to_owned();
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT k.alert_id FROM alert_acknowledgements k JOIN services s ON s.id = k.service_id WHERE s.slug = ?1",
            )?;
            Ok(stmt.query_map([slug], |r| r.get(0))?.collect::<Result<_, _>>()?)
        })
        .await
    }

    async fn evidence_with_photos(&self, alert: i64) -> Result<Vec<SampleCode>, StoreError> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT s.code FROM alert_evidence e JOIN samples s ON s.id = e.sample_id
                 JOIN photos p ON p.sample_id = e.sample_id WHERE e.alert_id = ?1",
            )?;
            let codes: Vec<String> = stmt.query_map([alert], |r| r.get(0))?.collect::<Result<_, _>>()?;
            codes.iter().map(|c| SampleCode::parse(c).map_err(|_| corrupt("sample code", c))).collect()
        })
        .await
    }

    async fn alert_photo(&self, alert: i64) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(move |conn| {
            Ok(conn.query_row("SELECT jpeg FROM alert_photos WHERE alert_id = ?1", [alert], |r| r.get(0)).optional()?)
        })
        .await
    }

    async fn photo(&self, code: SampleCode) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(move |conn| {
            Ok(conn
                .query_row(
                    "SELECT p.jpeg FROM photos p JOIN samples s ON s.id = p.sample_id WHERE s.code = ?1",
                    [code.compact()],
                    |r| r.get(0),
                )
                .optional()?)
        })
        .await
    }

    async fn reference_spectra(&self) -> Result<Vec<varde_store::ReferenceSpectrum>, StoreError> {
        self.read(spectra::references).await
    }

    async fn reference_library_version(&self) -> Result<i64, StoreError> {
        self.read(|conn| Ok(conn.query_row("SELECT coalesce(max(id), 0) FROM reference_spectra", [], |r| r.get(0))?))
            .await
    }

    async fn spectra_of(&self, code: SampleCode) -> Result<Vec<varde_store::AnalysisSpectrum>, StoreError> {
        self.read(move |conn| spectra::of_sample(conn, code)).await
    }

    async fn subscriber(&self, id: i64) -> Result<Option<varde_store::Subscriber>, StoreError> {
        self.read(move |conn| subscribers::load(conn, id)).await
    }

    async fn pending_messages(&self, id: i64) -> Result<u64, StoreError> {
        self.read(move |conn| subscribers::pending(conn, id)).await
    }

    async fn due_messages(
        &self,
        channel: varde_domain::subscription::Channel,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<varde_store::OutboxMessage>, StoreError> {
        self.read(move |conn| subscribers::due(conn, channel, now, limit)).await
    }

    async fn service_contacts(&self) -> Result<Vec<varde_store::ServiceContact>, StoreError> {
        self.read(subscribers::contacts).await
    }

    async fn escalations(&self, alert: i64) -> Result<Vec<ServiceSlug>, StoreError> {
        self.read(move |conn| subscribers::escalations(conn, alert)).await
    }

    async fn attempt(
        &self,
        attempt: varde_store::Attempt,
        counting: varde_store::Counting,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        self.write(move |conn| limits::attempt(conn, &attempt, counting, at)).await
    }

    async fn limit_salts(&self, at: Timestamp) -> Result<varde_store::LimitSalts, StoreError> {
        self.write(move |conn| limits::salts(conn, at)).await
    }

    async fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        let key = key.to_owned();
        self.read(move |conn| {
            Ok(conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional()?)
        })
        .await
    }

    async fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        let (key, value) = (key.to_owned(), value.to_owned());
        self.write(move |conn| {
            conn.execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![key, value],
            )?;
            Ok(())
        })
        .await
    }

    async fn verify_audit(&self) -> Result<AuditReport, StoreError> {
        self.read(|conn| {
            let mut stmt =
                conn.prepare("SELECT seq, at_ms, actor, action, subject, prev_hash, hash FROM audit_log ORDER BY seq")?;
            let mut rows = stmt.query([])?;
            let mut expected_prev = audit::GENESIS.to_owned();
            let mut expected_seq = 1i64;
            let mut entries = 0u64;
            while let Some(r) = rows.next()? {
                let (seq, at_ms, actor, action, subject, prev_hash, hash): (
                    i64,
                    i64,
                    String,
                    String,
                    String,
                    String,
                    String,
                ) = (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?);
                entries += 1;
                let broken = if seq != expected_seq {
                    Some(format!("expected entry {expected_seq} here: entries are missing"))
                } else if prev_hash != expected_prev {
                    Some("does not link to the entry before it".to_owned())
                } else if (Entry {
                    seq,
                    at_ms,
                    actor: &actor,
                    action: &action,
                    subject: &subject,
                    prev_hash: &prev_hash,
                })
                .hash()
                    != hash
                {
                    Some("its content does not match its hash: it was altered".to_owned())
                } else {
                    None
                };
                if let Some(reason) = broken {
                    return Ok(AuditReport { entries, first_broken: Some((seq, reason)) });
                }
                expected_prev = hash;
                expected_seq += 1;
            }
            Ok(AuditReport { entries, first_broken: None })
        })
        .await
    }

    async fn schema_version(&self) -> Result<i64, StoreError> {
        self.read(|conn| Ok(conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)).await
    }

    async fn refresh_statistics(&self) -> Result<(), StoreError> {
        // Without statistics SQLite plans by the indexes' shape, which the queries here are written (and measured)
        // for, and a table's growth never leaves a cached plan scanning it; statistics would change plans unmeasured.
        Ok(())
    }

    fn close(&self) {
        SqliteStore::close(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What every sample written or read asks, "which alerts is it evidence for?", is answered through an index, not
    /// by scanning every alert (which grew to a second per sample with a year of a busy service).
    #[test]
    fn the_alerts_of_a_sample_are_found_by_index() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        let plan: Vec<String> = conn
            .prepare(
                "EXPLAIN QUERY PLAN SELECT a.id, a.status, a.tier FROM alert_evidence e JOIN alerts a ON a.id = e.alert_id
                 WHERE e.sample_id = ?1 ORDER BY a.id",
            )
            .unwrap()
            .query_map([1], |r| r.get::<_, String>(3))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert!(plan.iter().any(|step| step.contains("alert_evidence_sample")), "{plan:?}");
        assert!(!plan.iter().any(|step| step.starts_with("SCAN a")), "{plan:?}");
    }

    /// The public alert list asks for published and withdrawn alerts through the status index, not by reading every
    /// alert (with 25 years of drafts, a scan took 1.4 s per view of /alerts).
    #[test]
    fn listing_alerts_by_status_uses_the_status_index() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        let plan: Vec<String> = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {}", alerts::list_sql(2)))
            .unwrap()
            .query_map(["published", "withdrawn"], |r| r.get::<_, String>(3))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert!(plan.iter().any(|step| step.contains("alerts_status")), "{plan:?}");
        assert!(!plan.iter().any(|step| step == "SCAN a"), "{plan:?}");
    }

    /// A database from before migration 8 in which a draft was "withdrawn" (and so public): after migrating it is
    /// discarded, its event is staff-only, and the evidence counter still counts.
    #[test]
    fn withdrawn_drafts_become_discarded_and_published_withdrawals_stay() {
        let mut conn = Connection::open_in_memory().unwrap();
        for (i, sql) in MIGRATIONS[..7].iter().enumerate() {
            conn.execute_batch(sql).unwrap();
            conn.execute_batch(&format!("PRAGMA user_version = {}", i + 1)).unwrap();
        }
        conn.execute_batch(
            "INSERT INTO alerts (id, status, tier, product_key, fylke, content, version, created_ms, updated_ms,
                                 first_evidence_ms, last_evidence_ms)
             VALUES (1, 'withdrawn', 'severe', 'k1', '03', '{}', 0, 1, 2, 1, 1),
                    (2, 'withdrawn', 'severe', 'k2', '03', '{}', 2, 1, 2, 1, 1),
                    (3, 'draft', 'warning', 'k3', '03', '{}', 0, 1, 2, 1, 1);
             INSERT INTO events (at_ms, kind, public, fylker, alert_id, payload)
             VALUES (2, 'alert.withdrawn', 1, '[]', 1, '{}'), (2, 'alert.withdrawn', 1, '[]', 2, '{}');
             INSERT INTO alert_transitions (alert_id, at_ms, actor, action, from_status, to_status)
             VALUES (1, 2, 'r', 'withdrawn', 'draft', 'withdrawn');",
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        let status = |id: i64| -> String {
            conn.query_row("SELECT status FROM alerts WHERE id = ?1", [id], |r| r.get(0)).unwrap()
        };
        assert_eq!((status(1).as_str(), status(2).as_str(), status(3).as_str()), ("discarded", "withdrawn", "draft"));
        let public: Vec<(String, bool)> = conn
            .prepare("SELECT kind, public FROM events ORDER BY alert_id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(public, [("alert.discarded".to_owned(), false), ("alert.withdrawn".to_owned(), true)]);
        // The counter's trigger came back with the rebuilt table; foreign keys are on again.
        let fk: i64 = conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0)).unwrap();
        assert_eq!(fk, 1);
        let triggers: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_schema WHERE type = 'trigger' AND name = 'alert_evidence_count'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(triggers, 1);
        let err = conn.execute("UPDATE alerts SET status = 'bogus' WHERE id = 3", []);
        assert!(err.is_err(), "the CHECK constraint holds on the rebuilt table");
    }
}
