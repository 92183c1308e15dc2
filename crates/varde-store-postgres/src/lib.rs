//! Varde's store on PostgreSQL, for national deployments: several Varde instances behind a load balancer on one
//! database (with the replication and failover PostgreSQL already has).
//!
//! The properties the SQLite store has from its single writer hold here across instances because every write
//! transaction first takes one transaction-level advisory lock (per schema): audit entries chain without forking,
//! one product in one area never gets two open drafts, and event sequence numbers are drawn in commit order, so an
//! event reader that has seen seq n never later finds a smaller one. Reads take no lock and run in parallel, each
//! in one repeatable-read snapshot. New events are announced with `NOTIFY`, which every instance's listener turns
//! into its event watch, so server-sent events reach clients of every instance.
//!
//! Queries are written at run time (no database is needed to build Varde) and prepared once per connection.

// Rows are read into tuples that mirror their SELECT column by column, as in the SQLite backend.
#![allow(clippy::type_complexity)]

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use futures_util::future::BoxFuture;
use jiff::Timestamp;
use std::sync::{Arc, Mutex};
use tokio_postgres::types::ToSql;
use tokio_postgres::{NoTls, Row};
use varde_domain::Tier;
use varde_domain::alert::{Alert, AlertVersion};
use varde_domain::assess::Assessor;
use varde_domain::auth::{Principal, Role};
use varde_domain::finding::Finding;
use varde_domain::joining::Joiner;
use varde_domain::method::Method;
use varde_domain::sample::{NewAnalysis, NewSample, Status};
use varde_domain::service::{Service, ServiceKind, ServiceSlug};
use varde_domain::{SampleCode, SubstanceRef};
use varde_store::audit::{self, Entry};
use varde_store::port::{Backend, GroupedRegistration, Turn};
use varde_store::{
    AlertFilter, AuditReport, Event, NewToken, Queries, StoreError, StoredSample, TokenGrant, WarningTimes, Webhook,
};

mod admin;
mod alerts;
mod error;
mod events;
mod limits;
mod registrations;
mod samples;
mod spectra;
mod subscribers;
mod transaction;

pub use error::Error;
use error::Result;
use samples::{insert_analysis, sample_id_of, update_status};

pub(crate) type Tx<'a> = deadpool_postgres::Transaction<'a>;
type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

/// An open write transaction as the application core writes through it: the port of `varde_store::port`,
/// implemented in `transaction.rs` and next to the rows of each concern.
pub struct Port<'a>(&'a Tx<'a>);

const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_init.sql"),
    include_str!("../migrations/0002_limits.sql"),
    include_str!("../migrations/0003_figure_weeks_at_commit.sql"),
    include_str!("../migrations/0004_audit_append.sql"),
    include_str!("../migrations/0005_audit_append_all.sql"),
    include_str!("../migrations/0006_evidence_count_per_statement.sql"),
    include_str!("../migrations/0007_figure_weeks_bumped_by_registrations.sql"),
    include_str!("../migrations/0008_audit_field_inlined.sql"),
    include_str!("../migrations/0009_second_factor.sql"),
    include_str!("../migrations/0010_token_scope_expiry_idle.sql"),
    include_str!("../migrations/0011_sign_in.sql"),
    include_str!("../migrations/0012_passkeys.sql"),
];
/// The schema version a fully migrated database has.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;
// Varde's advisory locks: the first key is "VARD" (0x56415244) and the next number, the second the schema's hash, so
// that schemas in one database (one per test, or per installation) do not block each other.
/// The writers' lock: every write transaction takes it (a registration after writing its own new rows, see
/// `PostgresStore::write_late`), and so does anything else that writes Varde's tables (`varde copy`).
pub const WRITER_LOCK: &str = "SELECT pg_advisory_xact_lock(1447121476, hashtext(current_schema()))";
/// The subscribers' fan-out moves its cursor under a lock of its own (see `subscribers::fan_out`).
const FAN_OUT_LOCK: &str = "SELECT pg_advisory_xact_lock(1447121480, hashtext(current_schema()))";
/// Rate limits count under a lock of their own: exact across instances without waiting for the writers.
const LIMITS_LOCK: &str = "SELECT pg_advisory_xact_lock(1447121479, hashtext(current_schema()))";
const JOBS_LOCK: &str = "SELECT pg_try_advisory_lock(1447121478, hashtext(current_schema()))";
const MIGRATION_LOCK: &str = "SELECT pg_advisory_lock(1447121477, hashtext(current_schema()))";
const MIGRATION_UNLOCK: &str = "SELECT pg_advisory_unlock(1447121477, hashtext(current_schema()))";
/// The channel new events are announced on; the payload is `schema seq`.
const EVENTS_CHANNEL: &str = "varde_events";
const POOL_SIZE: usize = 16;

pub struct PostgresStore {
    pool: Pool,
    config: tokio_postgres::Config,
    schema: String,
    events: tokio::sync::watch::Sender<i64>,
    listener: Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// This instance's writers queue here before they take a connection: they would only wait for the writers' lock
    /// while holding one, and leave none for readers.
    writers: tokio::sync::Mutex<()>,
    /// Registrations waiting for their group commit (see `registrations`).
    groups: registrations::Groups,
    committer: registrations::Committer,
    /// The connection this instance last asked for the jobs' lock on, when it did not get it.
    jobs_candidate: tokio::sync::Mutex<Option<(tokio_postgres::Client, tokio::sync::watch::Receiver<bool>)>>,
    /// The same for the subscribers' fan-out.
    fan_out_turn: tokio::sync::Mutex<()>,
    /// The same for the rate limits' counters.
    limits: tokio::sync::Mutex<()>,
    /// Why the last write failed for the storage's sake; cleared by the next commit that succeeds.
    health: Arc<Mutex<Option<String>>>,
}

/// Whether `url` names a PostgreSQL database.
pub fn is_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user@host:port/db`; `?options=-c search_path=SCHEMA` picks
    /// a schema) and applies any pending migrations, holding a lock so that instances starting together migrate
    /// once.
    pub async fn open(url: &str, assessor: Arc<Assessor>) -> Result<PostgresStore, StoreError> {
        let config: tokio_postgres::Config =
            url.parse().map_err(|e| StoreError::Unavailable(format!("not a PostgreSQL URL: {e}")))?;
        let manager =
            Manager::from_config(config.clone(), NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .wait_timeout(Some(std::time::Duration::from_secs(10)))
            .create_timeout(Some(std::time::Duration::from_secs(10)))
            .build()
            .map_err(|e| StoreError::Internal(format!("cannot make the connection pool: {e}")))?;
        let (schema, newest) = {
            let mut client = pool.get().await.map_err(Error::from)?;
            migrate(&mut client).await?;
            let schema: String = client.query_one("SELECT current_schema()", &[]).await.map_err(Error::from)?.get(0);
            let newest = events::newest(&client.transaction().await.map_err(Error::from)?).await?;
            (schema, newest)
        };
        let (events, _) = tokio::sync::watch::channel(newest);
        let health = Arc::new(Mutex::new(None));
        let committer =
            registrations::Committer { pool: pool.clone(), assessor, events: events.clone(), health: health.clone() };
        let store = PostgresStore {
            pool,
            config,
            schema,
            events,
            listener: Mutex::new(None),
            writers: tokio::sync::Mutex::new(()),
            groups: Default::default(),
            committer,
            limits: tokio::sync::Mutex::new(()),
            fan_out_turn: tokio::sync::Mutex::new(()),
            jobs_candidate: tokio::sync::Mutex::new(None),
            health,
        };
        store.listen();
        Ok(store)
    }

    /// Follows `NOTIFY` on the events channel on a connection of its own, reconnecting when it is lost (and then
    /// reading the newest seq, so nothing announced meanwhile is missed).
    fn listen(&self) {
        let (config, schema, events) = (self.config.clone(), self.schema.clone(), self.events.clone());
        let task = tokio::spawn(async move {
            loop {
                if let Err(e) = follow(&config, &schema, &events).await {
                    tracing::warn!(error = %e, "the event listener lost its connection; reconnecting");
                }
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            }
        });
        *self.listener.lock().expect("not poisoned") = Some(task);
    }

    fn set_health(&self, failure: Option<String>) {
        set_health(&self.health, failure);
    }

    /// Runs `f` in a transaction of its own that holds the writers' lock, and commits it. The lock is taken before
    /// anything is read, so what `f` reads is everything committed before it, and no other writer commits between
    /// its reads and its writes.
    async fn write<R: Send>(
        &self,
        f: impl for<'a> FnOnce(&'a Tx<'a>) -> BoxFuture<'a, Result<R>> + Send,
    ) -> Result<R, StoreError> {
        self.locked(&self.writers, WRITER_LOCK, f).await
    }

    /// Runs `f` in a transaction that first takes the advisory lock `lock` (after queueing in-process on `turn`).
    async fn locked<R: Send>(
        &self,
        turn: &tokio::sync::Mutex<()>,
        lock: &'static str,
        f: impl for<'a> FnOnce(&'a Tx<'a>) -> BoxFuture<'a, Result<R>> + Send,
    ) -> Result<R, StoreError> {
        let _turn = turn.lock().await;
        self.transaction(Some(lock), f).await
    }

    async fn transaction<R: Send>(
        &self,
        lock: Option<&'static str>,
        f: impl for<'a> FnOnce(&'a Tx<'a>) -> BoxFuture<'a, Result<R>> + Send,
    ) -> Result<R, StoreError> {
        let result = async {
            let mut client = self.pool.get().await?;
            let tx = client.transaction().await?;
            if let Some(lock) = lock {
                execute(&tx, lock, &[]).await?;
            }
            let value = f(&tx).await?;
            tx.commit().await?;
            Ok(value)
        }
        .await;
        match &result {
            Ok(_) => self.set_health(None),
            Err(Error::Store(StoreError::Unavailable(reason))) => self.set_health(Some(reason.clone())),
            Err(_) => {}
        }
        result.map_err(StoreError::from)
    }

    /// Runs a write that may add events, then moves the watch to the newest it added.
    async fn announcing<R: Send>(
        &self,
        write: impl std::future::Future<Output = Result<R, StoreError>>,
    ) -> Result<R, StoreError> {
        let (value, newest) = events::APPENDED
            .scope(std::cell::Cell::new(0), async { (write.await, events::APPENDED.with(|n| n.get())) })
            .await;
        let value = value?;
        self.events.send_if_modified(|seq| raise(seq, newest));
        Ok(value)
    }

    /// Runs `f` in one read-only, repeatable-read transaction: several queries see one snapshot.
    async fn read<R: Send>(
        &self,
        f: impl for<'a> FnOnce(&'a Tx<'a>) -> BoxFuture<'a, Result<R>> + Send,
    ) -> Result<R, StoreError> {
        async {
            let mut client = self.pool.get().await?;
            let tx = client
                .build_transaction()
                .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .await?;
            let value = f(&tx).await?;
            tx.commit().await?;
            Ok::<_, Error>(value)
        }
        .await
        .map_err(StoreError::from)
    }
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        if let Some(task) = self.listener.lock().expect("not poisoned").take() {
            task.abort();
        }
    }
}

/// Records why the last write failed for the storage's sake (`None`: the last one succeeded), logging the change.
fn set_health(health: &Mutex<Option<String>>, failure: Option<String>) {
    let mut h = health.lock().expect("not poisoned");
    if let (Some(reason), None) = (&failure, &*h) {
        tracing::error!(reason, "database unavailable: writes fail until the cause is removed");
    }
    if failure.is_none() && h.is_some() {
        tracing::info!("database available again: a write succeeded");
    }
    *h = failure;
}

fn raise(seq: &mut i64, newest: i64) -> bool {
    if newest > *seq {
        *seq = newest;
        true
    } else {
        false
    }
}

async fn follow(
    config: &tokio_postgres::Config,
    schema: &str,
    events: &tokio::sync::watch::Sender<i64>,
) -> Result<(), tokio_postgres::Error> {
    use futures_util::StreamExt;
    let (client, mut connection) = config.connect(NoTls).await?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let driver = tokio::spawn(async move {
        let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(message) = messages.next().await {
            match message {
                Ok(tokio_postgres::AsyncMessage::Notification(n)) => {
                    let _ = tx.send(n.payload().to_owned());
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "event listener connection failed");
                    break;
                }
            }
        }
    });
    client.batch_execute(&format!("LISTEN {EVENTS_CHANNEL}")).await?;
    let newest: i64 = client.query_one("SELECT coalesce(max(seq), 0) FROM events", &[]).await?.get(0);
    events.send_if_modified(|seq| raise(seq, newest));
    while let Some(payload) = rx.recv().await {
        let Some((from, seq)) = payload.split_once(' ') else { continue };
        if from == schema
            && let Ok(seq) = seq.parse::<i64>()
        {
            events.send_if_modified(|current| raise(current, seq));
        }
    }
    driver.abort();
    Ok(())
}

async fn migrate(client: &mut deadpool_postgres::Object) -> Result<()> {
    // A session lock, held across the migrations' own transactions: the second of two instances starting together
    // waits, then finds nothing left to do.
    client.execute(MIGRATION_LOCK, &[]).await?;
    let result = async {
        client
            .batch_execute(
                "CREATE TABLE IF NOT EXISTS varde_schema (version BIGINT PRIMARY KEY, applied_ms BIGINT NOT NULL)",
            )
            .await?;
        let current: i64 =
            client.query_one("SELECT coalesce(max(version), 0) FROM varde_schema", &[]).await?.get(0);
        if current > SCHEMA_VERSION {
            return Err(StoreError::Internal(format!(
                "the database has schema version {current}, newer than this Varde knows ({SCHEMA_VERSION}); upgrade Varde"
            ))
            .into());
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
            let version = i as i64 + 1;
            let tx = client.transaction().await?;
            tx.batch_execute(sql).await?;
            tx.execute(
                "INSERT INTO varde_schema (version, applied_ms) VALUES ($1, $2)",
                &[&version, &ms(Timestamp::now())],
            )
            .await?;
            tx.commit().await?;
            tracing::info!(version, "applied migration");
        }
        Ok(())
    }
    .await;
    client.execute(MIGRATION_UNLOCK, &[]).await?;
    result
}

// Statements are prepared once per connection (the pool keeps a cache per connection).

async fn query(tx: &Tx<'_>, sql: &str, params: Params<'_>) -> Result<Vec<Row>> {
    let statement = tx.prepare_cached(sql).await?;
    Ok(tx.query(&statement, params).await?)
}

async fn query_one(tx: &Tx<'_>, sql: &str, params: Params<'_>) -> Result<Row> {
    let statement = tx.prepare_cached(sql).await?;
    Ok(tx.query_one(&statement, params).await?)
}

async fn query_opt(tx: &Tx<'_>, sql: &str, params: Params<'_>) -> Result<Option<Row>> {
    let statement = tx.prepare_cached(sql).await?;
    Ok(tx.query_opt(&statement, params).await?)
}

async fn execute(tx: &Tx<'_>, sql: &str, params: Params<'_>) -> Result<u64> {
    let statement = tx.prepare_cached(sql).await?;
    Ok(tx.execute(&statement, params).await?)
}

fn ms(t: Timestamp) -> i64 {
    t.as_millisecond()
}

fn ts(ms: i64) -> Result<Timestamp> {
    Timestamp::from_millisecond(ms).map_err(|e| Error::corrupt(e.to_string()))
}

/// A count or size read back into the narrower type the domain uses.
fn narrow<T: TryFrom<i64>>(value: i64, what: &str) -> Result<T> {
    T::try_from(value).map_err(|_| Error::corrupt(format!("{what} {value} is out of range")))
}

/// A limit as PostgreSQL takes it (`usize::MAX`: no limit).
fn limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
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

fn slug_of(s: &str) -> Result<ServiceSlug> {
    ServiceSlug::parse(s).map_err(|_| corrupt("service slug", s))
}

fn role_of(s: &str) -> Result<Role> {
    Role::parse(s).ok_or_else(|| corrupt("role", s))
}

fn tier_of(s: &str) -> Result<Tier> {
    Tier::parse(s).ok_or_else(|| corrupt("tier", s))
}

fn code_of(s: &str) -> Result<SampleCode> {
    SampleCode::parse(s).map_err(|_| corrupt("sample code", s))
}

async fn service_id(tx: &Tx<'_>, slug: &str) -> Result<i64> {
    query_opt(tx, "SELECT id FROM services WHERE slug = $1", &[&slug])
        .await?
        .map(|r| r.try_get(0))
        .transpose()?
        .ok_or_else(|| Error::Store(StoreError::UnknownService(slug.to_owned())))
}

/// Appends an entry to the audit chain, inside the caller's transaction (which holds the writers' lock, so the
/// tail read here is still the tail when the entry commits).
async fn append_audit(tx: &Tx<'_>, at: Timestamp, actor: &str, action: &str, subject: &str) -> Result<()> {
    append_audit_all(tx, &[(at, actor, action, subject)]).await
}

/// Appends entries in order, in one statement: the hashes are made in SQL (`audit_append`, migrations 4 and 5) as
/// `audit::Entry::hash` makes them.
async fn append_audit_all(tx: &Tx<'_>, entries: &[(Timestamp, &str, &str, &str)]) -> Result<()> {
    let ats: Vec<i64> = entries.iter().map(|e| ms(e.0)).collect();
    let actors: Vec<&str> = entries.iter().map(|e| e.1).collect();
    let actions: Vec<&str> = entries.iter().map(|e| e.2).collect();
    let subjects: Vec<&str> = entries.iter().map(|e| e.3).collect();
    execute(tx, "SELECT audit_append($1, $2, $3, $4, $5)", &[&ats, &actors, &actions, &subjects, &audit::GENESIS])
        .await?;
    Ok(())
}

/// The `sample.finding` event of a sample with findings (see `varde_domain::recording::assessed`).
fn finding_event(fylke: &str, event: Option<(Tier, serde_json::Value)>, at: Timestamp) -> Option<events::NewEvent> {
    let (top, payload) = event?;
    Some(events::NewEvent {
        at,
        kind: "sample.finding",
        public: false,
        tier: Some(top),
        fylker: vec![fylke.to_owned()],
        alert_id: None,
        payload,
    })
}

fn to_service(r: &Row) -> Result<Service> {
    let (slug, name, kind, kommune, fylke): (String, String, String, String, String) =
        (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?, r.try_get(4)?);
    Ok(Service {
        slug: slug_of(&slug)?,
        name,
        kind: ServiceKind::parse(&kind).ok_or_else(|| corrupt("service kind", &kind))?,
        kommune,
        fylke,
    })
}

impl Backend for PostgresStore {
    type Error = Error;
    type Tx<'t> = Port<'t>;

    /// A write takes the writers' lock first ([`PostgresStore::write`]); the fan-out takes a lock of its own.
    fn write<R, W>(&self, turn: Turn, work: W) -> impl Future<Output = Result<R, StoreError>> + Send
    where
        R: Send + 'static,
        W: for<'t> FnOnce(&'t Port<'t>) -> BoxFuture<'t, Result<R>> + Send + 'static,
    {
        let run = through_port(work);
        async move {
            match turn {
                Turn::Writers => self.announcing(PostgresStore::write(self, run)).await,
                Turn::FanOut => self.announcing(self.locked(&self.fan_out_turn, FAN_OUT_LOCK, run)).await,
            }
        }
    }

    fn grouped_registration(&self) -> Option<&dyn GroupedRegistration> {
        Some(self)
    }
}

/// The core's `work` as a unit of work on an open transaction.
fn through_port<R, W>(work: W) -> impl for<'a> FnOnce(&'a Tx<'a>) -> BoxFuture<'a, Result<R>> + Send
where
    R: Send + 'static,
    W: for<'t> FnOnce(&'t Port<'t>) -> BoxFuture<'t, Result<R>> + Send + 'static,
{
    move |tx| {
        Box::pin(async move {
            let port = Port(tx);
            work(&port).await
        })
    }
}

#[async_trait]
impl GroupedRegistration for PostgresStore {
    async fn register(
        &self,
        code: SampleCode,
        sample: NewSample,
        actor: &Principal,
        at: Timestamp,
    ) -> Result<StoredSample, StoreError> {
        let registration = registrations::Registration { code, sample, actor: actor.clone(), at };
        registrations::register(&self.groups, &self.committer, registration).await
    }
}

#[async_trait]
impl Queries for PostgresStore {
    async fn services(&self) -> Result<Vec<Service>, StoreError> {
        self.read(|tx| {
            Box::pin(async move {
                let rows =
                    query(tx, "SELECT slug, name, kind, kommune, fylke FROM services ORDER BY slug", &[]).await?;
                rows.iter().map(to_service).collect()
            })
        })
        .await
    }

    async fn service(&self, slug: &ServiceSlug) -> Result<Option<Service>, StoreError> {
        let slug = slug.clone();
        self.read(move |tx| {
            Box::pin(async move {
                query_opt(
                    tx,
                    "SELECT slug, name, kind, kommune, fylke FROM services WHERE slug = $1",
                    &[&slug.as_str()],
                )
                .await?
                .as_ref()
                .map(to_service)
                .transpose()
            })
        })
        .await
    }

    async fn token(&self, hash: [u8; 32]) -> Result<Option<TokenGrant>, StoreError> {
        self.read(move |tx| {
            Box::pin(async move {
                let row = query_opt(
                    tx,
                    "SELECT t.id, t.role, s.slug, t.read_only, t.expires_ms FROM tokens t
                     LEFT JOIN services s ON s.id = t.service_id WHERE t.hash = $1 AND t.revoked_ms IS NULL",
                    &[&&hash[..]],
                )
                .await?;
                row.map(|r| {
                    let (id, role, slug): (i64, String, Option<String>) = (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
                    Ok(TokenGrant {
                        id,
                        role: role_of(&role)?,
                        service: slug.as_deref().map(slug_of).transpose()?,
                        read_only: r.try_get(3)?,
                        expires: r.try_get::<_, Option<i64>>(4)?.map(ts).transpose()?,
                    })
                })
                .transpose()
            })
        })
        .await
    }

    async fn token_used(&self, id: i64, at: Timestamp) -> Result<(), StoreError> {
        self.write(move |tx| {
            Box::pin(async move {
                execute(tx, "UPDATE tokens SET last_used_ms = $2 WHERE id = $1", &[&id, &ms(at)]).await?;
                Ok(())
            })
        })
        .await
    }

    async fn sample(&self, code: SampleCode) -> Result<Option<StoredSample>, StoreError> {
        self.read(move |tx| Box::pin(samples::load_stored(tx, code))).await
    }

    async fn samples_of(
        &self,
        service: &ServiceSlug,
        status: Option<Status>,
        limit: usize,
    ) -> Result<Vec<varde_store::SampleLine>, StoreError> {
        let service = service.clone();
        self.read(move |tx| Box::pin(async move { samples::samples_of(tx, service.as_str(), status, limit).await }))
            .await
    }

    async fn sample_count(&self) -> Result<u64, StoreError> {
        self.read(|tx| {
            Box::pin(async move {
                let n: i64 = query_one(tx, "SELECT count(*) FROM samples", &[]).await?.try_get(0)?;
                narrow(n, "sample count")
            })
        })
        .await
    }

    async fn alerts(&self, filter: AlertFilter) -> Result<Vec<Alert>, StoreError> {
        self.read(move |tx| Box::pin(async move { alerts::list(tx, &filter).await })).await
    }

    async fn alert(&self, id: i64) -> Result<Option<Alert>, StoreError> {
        self.read(move |tx| Box::pin(alerts::load_alert(tx, id))).await
    }

    async fn alert_versions(&self, id: i64) -> Result<Vec<AlertVersion>, StoreError> {
        self.read(move |tx| Box::pin(alerts::versions(tx, id))).await
    }

    async fn events_after(&self, seq: i64, limit: usize) -> Result<Vec<Event>, StoreError> {
        self.read(move |tx| Box::pin(events::after(tx, seq, limit))).await
    }

    fn event_watch(&self) -> tokio::sync::watch::Receiver<i64> {
        self.events.subscribe()
    }

    fn write_failure(&self) -> Option<String> {
        self.health.lock().expect("not poisoned").clone()
    }

    async fn webhooks(&self) -> Result<Vec<Webhook>, StoreError> {
        self.read(|tx| Box::pin(events::webhooks(tx))).await
    }

    async fn skip_to(&self, webhook_id: i64, seq: i64) -> Result<(), StoreError> {
        self.write(move |tx| Box::pin(events::skip_to(tx, webhook_id, seq))).await
    }

    async fn delivery_status(&self, webhook_id: i64) -> Result<(u64, Option<String>), StoreError> {
        self.read(move |tx| Box::pin(events::delivery_status(tx, webhook_id))).await
    }

    async fn warning_times(&self) -> Result<Vec<WarningTimes>, StoreError> {
        self.read(|tx| Box::pin(events::warning_times(tx))).await
    }

    async fn concern_times(&self) -> Result<Vec<(Timestamp, String)>, StoreError> {
        self.read(|tx| Box::pin(events::concern_times(tx))).await
    }

    async fn user_room_days(
        &self,
        service: Option<ServiceSlug>,
    ) -> Result<Vec<(varde_domain::indicator::UserRoomDay, String)>, StoreError> {
        self.read(move |tx| {
            Box::pin(async move { events::user_room_days(tx, service.as_ref().map(ServiceSlug::as_str)).await })
        })
        .await
    }

    async fn deaths(&self) -> Result<Vec<(i32, u32)>, StoreError> {
        self.read(|tx| Box::pin(events::deaths(tx))).await
    }

    async fn sample_summaries(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<varde_store::SampleSummary>, StoreError> {
        self.read(move |tx| Box::pin(samples::summaries(tx, ms(from), ms(to)))).await
    }

    async fn figure_weeks(&self) -> Result<Vec<varde_store::FigureWeek>, StoreError> {
        self.read(|tx| {
            Box::pin(async move {
                query(tx, "SELECT week, version FROM figure_weeks ORDER BY week", &[])
                    .await?
                    .iter()
                    .map(|r| Ok(varde_store::FigureWeek { week: r.try_get(0)?, version: r.try_get(1)? }))
                    .collect()
            })
        })
        .await
    }

    async fn feedback(
        &self,
        code: SampleCode,
    ) -> Result<(Option<varde_domain::feedback::Intention>, Option<varde_domain::feedback::Outcome>), StoreError> {
        self.read(move |tx| {
            Box::pin(async move {
                let id = match sample_id_of(tx, code).await {
                    Ok(id) => id,
                    Err(Error::Store(StoreError::UnknownSample)) => return Ok((None, None)),
                    Err(e) => return Err(e),
                };
                let row = query_opt(
                    tx,
                    "SELECT intention, used, effect, unexpected FROM result_feedback WHERE sample_id = $1",
                    &[&id],
                )
                .await?;
                match row {
                    Some(r) => samples::feedback_of((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?)),
                    None => Ok((None, None)),
                }
            })
        })
        .await
    }

    async fn user(&self, username: &str) -> Result<Option<varde_store::UserRecord>, StoreError> {
        let username = username.to_owned();
        self.read(move |tx| Box::pin(async move { events::user(tx, &username).await })).await
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
        self.write(move |tx| {
            Box::pin(async move { events::create_session(tx, &hash, user_id, &csrf, at, expires, verified).await })
        })
        .await
    }

    async fn session(&self, hash: [u8; 32], now: Timestamp) -> Result<Option<varde_store::SessionRecord>, StoreError> {
        self.read(move |tx| Box::pin(async move { events::session(tx, &hash, now).await })).await
    }

    async fn end_session(&self, hash: [u8; 32], why: &str, at: Timestamp) -> Result<(), StoreError> {
        let why = why.to_owned();
        self.write(move |tx| {
            Box::pin(async move {
                let rows = query(tx, "DELETE FROM sessions WHERE hash = $1 RETURNING user_id", &[&&hash[..]]).await?;
                events::audit_session_ends(tx, &rows, at, &why).await
            })
        })
        .await
    }

    async fn session_seen(&self, hash: [u8; 32], at: Timestamp) -> Result<(), StoreError> {
        self.write(move |tx| {
            Box::pin(async move {
                execute(tx, "UPDATE sessions SET last_seen_ms = $2 WHERE hash = $1", &[&&hash[..], &ms(at)]).await?;
                Ok(())
            })
        })
        .await
    }

    async fn set_ceremony(&self, hash: [u8; 32], state: Option<String>) -> Result<(), StoreError> {
        self.write(move |tx| {
            Box::pin(async move {
                execute(tx, "UPDATE sessions SET ceremony = $2 WHERE hash = $1", &[&&hash[..], &state]).await?;
                Ok(())
            })
        })
        .await
    }

    async fn take_ceremony(&self, hash: [u8; 32]) -> Result<Option<String>, StoreError> {
        self.write(move |tx| {
            Box::pin(async move {
                // The row is locked by the update; the old value is read in the same statement.
                let row = query_opt(
                    tx,
                    "UPDATE sessions s SET ceremony = NULL FROM (SELECT hash, ceremony FROM sessions WHERE hash = $1 FOR UPDATE) old
                     WHERE s.hash = old.hash RETURNING old.ceremony",
                    &[&&hash[..]],
                )
                .await?;
                Ok(match row {
                    Some(r) => r.try_get(0)?,
                    None => None,
                })
            })
        })
        .await
    }

    async fn sessions_of(&self, user_id: i64, now: Timestamp) -> Result<Vec<varde_store::SessionLine>, StoreError> {
        self.read(move |tx| Box::pin(async move { events::sessions_of(tx, user_id, now).await })).await
    }

    async fn end_session_of(&self, user_id: i64, key: &str, at: Timestamp) -> Result<bool, StoreError> {
        let key = key.to_ascii_lowercase();
        self.write(move |tx| {
            Box::pin(async move {
                let rows = query(
                    tx,
                    "DELETE FROM sessions WHERE user_id = $1 AND encode(substring(hash from 1 for 8), 'hex') = $2
                     RETURNING user_id",
                    &[&user_id, &key],
                )
                .await?;
                events::audit_session_ends(tx, &rows, at, "ended by the user").await?;
                Ok(!rows.is_empty())
            })
        })
        .await
    }

    async fn users(&self) -> Result<Vec<(String, Role, Option<ServiceSlug>, bool)>, StoreError> {
        self.read(|tx| Box::pin(events::users(tx))).await
    }

    async fn tokens(&self) -> Result<Vec<varde_store::TokenLine>, StoreError> {
        self.read(|tx| Box::pin(events::tokens(tx))).await
    }

    async fn acknowledgements(&self, alert: i64) -> Result<Vec<(ServiceSlug, Timestamp)>, StoreError> {
        self.read(move |tx| {
            Box::pin(async move {
                query(
                    tx,
                    "SELECT s.slug, k.acknowledged_ms FROM alert_acknowledgements k JOIN services s ON s.id = k.service_id
                     WHERE k.alert_id = $1 ORDER BY k.acknowledged_ms",
                    &[&alert],
                )
                .await?
                .iter()
                .map(|r| Ok((slug_of(r.try_get(0)?)?, ts(r.try_get(1)?)?)))
                .collect()
            })
        })
        .await
    }

    async fn acknowledged_by(&self, service: &ServiceSlug) -> Result<Vec<i64>, StoreError> {
        let service = service.clone();
        self.read(move |tx| {
            Box::pin(async move {
                query(
                    tx,
                    "SELECT k.alert_id FROM alert_acknowledgements k JOIN services s ON s.id = k.service_id WHERE s.slug = $1",
                    &[&service.as_str()],
                )
                .await?
                .iter()
                .map(|r| Ok(r.try_get(0)?))
                .collect()
            })
        })
        .await
    }

    async fn evidence_with_photos(&self, alert: i64) -> Result<Vec<SampleCode>, StoreError> {
        self.read(move |tx| {
            Box::pin(async move {
                query(
                    tx,
                    "SELECT s.code FROM alert_evidence e JOIN samples s ON s.id = e.sample_id
                     JOIN photos p ON p.sample_id = e.sample_id WHERE e.alert_id = $1",
                    &[&alert],
                )
                .await?
                .iter()
                .map(|r| code_of(r.try_get(0)?))
                .collect()
            })
        })
        .await
    }

    async fn alert_photo(&self, alert: i64) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(move |tx| {
            Box::pin(async move {
                query_opt(tx, "SELECT jpeg FROM alert_photos WHERE alert_id = $1", &[&alert])
                    .await?
                    .map(|r| Ok(r.try_get(0)?))
                    .transpose()
            })
        })
        .await
    }

    async fn photo(&self, code: SampleCode) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(move |tx| {
            Box::pin(async move {
                query_opt(
                    tx,
                    "SELECT p.jpeg FROM photos p JOIN samples s ON s.id = p.sample_id WHERE s.code = $1",
                    &[&code.compact()],
                )
                .await?
                .map(|r| Ok(r.try_get(0)?))
                .transpose()
            })
        })
        .await
    }

    async fn reference_spectra(&self) -> Result<Vec<varde_store::ReferenceSpectrum>, StoreError> {
        self.read(|tx| Box::pin(spectra::references(tx))).await
    }

    async fn reference_library_version(&self) -> Result<i64, StoreError> {
        self.read(|tx| {
            Box::pin(async move {
                Ok(query_one(tx, "SELECT coalesce(max(id), 0) FROM reference_spectra", &[]).await?.try_get(0)?)
            })
        })
        .await
    }

    async fn spectra_of(&self, code: SampleCode) -> Result<Vec<varde_store::AnalysisSpectrum>, StoreError> {
        self.read(move |tx| Box::pin(spectra::of_sample(tx, code))).await
    }

    async fn subscriber(&self, id: i64) -> Result<Option<varde_store::Subscriber>, StoreError> {
        self.read(move |tx| Box::pin(subscribers::load(tx, id))).await
    }

    async fn pending_messages(&self, id: i64) -> Result<u64, StoreError> {
        self.read(move |tx| Box::pin(subscribers::pending(tx, id))).await
    }

    async fn due_messages(
        &self,
        channel: varde_domain::subscription::Channel,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<varde_store::OutboxMessage>, StoreError> {
        // A write: the messages are leased to this caller (see `subscribers::due`).
        self.write(move |tx| Box::pin(subscribers::due(tx, channel, now, limit))).await
    }

    async fn service_contacts(&self) -> Result<Vec<varde_store::ServiceContact>, StoreError> {
        self.read(|tx| Box::pin(subscribers::contacts(tx))).await
    }

    async fn escalations(&self, alert: i64) -> Result<Vec<ServiceSlug>, StoreError> {
        self.read(move |tx| Box::pin(subscribers::escalations(tx, alert))).await
    }

    async fn attempt(
        &self,
        attempt: varde_store::Attempt,
        counting: varde_store::Counting,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        self.locked(&self.limits, LIMITS_LOCK, move |tx| {
            Box::pin(async move { limits::attempt(tx, &attempt, counting, at).await })
        })
        .await
    }

    async fn limit_salts(&self, at: Timestamp) -> Result<varde_store::LimitSalts, StoreError> {
        self.locked(&self.limits, LIMITS_LOCK, move |tx| Box::pin(limits::salts(tx, at))).await
    }

    async fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        let key = key.to_owned();
        self.read(move |tx| {
            Box::pin(async move {
                query_opt(tx, "SELECT value FROM meta WHERE key = $1", &[&key])
                    .await?
                    .map(|r| Ok(r.try_get(0)?))
                    .transpose()
            })
        })
        .await
    }

    async fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        let (key, value) = (key.to_owned(), value.to_owned());
        self.write(move |tx| {
            Box::pin(async move {
                execute(
                    tx,
                    "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    &[&key, &value],
                )
                .await?;
                Ok(())
            })
        })
        .await
    }

    async fn verify_audit(&self) -> Result<AuditReport, StoreError> {
        self.read(|tx| {
            Box::pin(async move {
                use futures_util::TryStreamExt;
                let statement = tx
                    .prepare("SELECT seq, at_ms, actor, action, subject, prev_hash, hash FROM audit_log ORDER BY seq")
                    .await?;
                // Streamed: the chain of a long-running installation does not fit in memory at once.
                let rows = tx.query_raw(&statement, std::iter::empty::<i64>()).await?;
                futures_util::pin_mut!(rows);
                let mut expected_prev = audit::GENESIS.to_owned();
                let mut expected_seq = 1i64;
                let mut entries = 0u64;
                while let Some(r) = rows.try_next().await? {
                    let (seq, at_ms, actor, action, subject, prev_hash, hash): (
                        i64,
                        i64,
                        String,
                        String,
                        String,
                        String,
                        String,
                    ) = (
                        r.try_get(0)?,
                        r.try_get(1)?,
                        r.try_get(2)?,
                        r.try_get(3)?,
                        r.try_get(4)?,
                        r.try_get(5)?,
                        r.try_get(6)?,
                    );
                    entries += 1;
                    let entry =
                        Entry { seq, at_ms, actor: &actor, action: &action, subject: &subject, prev_hash: &prev_hash };
                    let broken = if seq != expected_seq {
                        Some(format!("expected entry {expected_seq} here: entries are missing"))
                    } else if prev_hash != expected_prev {
                        Some("does not link to the entry before it".to_owned())
                    } else if entry.hash() != hash {
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
        })
        .await
    }

    /// A session-level advisory lock on a connection of its own: held while the connection lives, released by the
    /// server when it ends however the instance dies.
    async fn try_lead(&self) -> Result<Option<varde_store::Leadership>, StoreError> {
        // An instance that does not lead asks again on the connection it asked on last time (the caller asks every
        // second), rather than opening one each time.
        let kept = self.jobs_candidate.lock().await.take().filter(|(client, _)| !client.is_closed());
        let (client, watch) = match kept {
            Some(candidate) => candidate,
            None => {
                let (client, connection) = self.config.connect(NoTls).await.map_err(Error::from)?;
                let (lost, watch) = tokio::sync::watch::channel(false);
                tokio::spawn(async move {
                    if let Err(e) = connection.await {
                        tracing::warn!(error = %e, "the jobs lock's connection failed");
                    }
                    let _ = lost.send(true);
                });
                (client, watch)
            }
        };
        let held: bool = client.query_one(JOBS_LOCK, &[]).await.map_err(Error::from)?.get(0);
        if held {
            return Ok(Some(varde_store::Leadership::new(watch, client)));
        }
        *self.jobs_candidate.lock().await = Some((client, watch));
        Ok(None)
    }

    async fn schema_version(&self) -> Result<i64, StoreError> {
        self.read(|tx| {
            Box::pin(async move {
                Ok(query_one(tx, "SELECT coalesce(max(version), 0) FROM varde_schema", &[]).await?.try_get(0)?)
            })
        })
        .await
    }

    async fn refresh_statistics(&self) -> Result<(), StoreError> {
        // Outside the writers' lock: ANALYZE does not block writes, and writes need not wait for it. Only this
        // installation's tables: a bare ANALYZE would take every schema in the database, other installations'
        // (and other tests') included, holding a lock on each until commit.
        self.transaction(None, |tx| {
            Box::pin(async move {
                let tables = tx
                    .query(
                        "SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = current_schema() \
                         ORDER BY tablename",
                        &[],
                    )
                    .await?;
                let names: Vec<String> = tables.iter().map(|r| r.try_get(0)).collect::<Result<_, _>>()?;
                if !names.is_empty() {
                    execute(tx, &format!("ANALYZE {}", names.join(", ")), &[]).await?;
                }
                Ok(())
            })
        })
        .await
    }
}

/// Makes a new, empty schema in the database at `url` and returns a URL whose connections use it: one database can
/// hold several Varde installations (and every test its own), each migrated and locked on its own.
pub async fn create_schema(url: &str, schema: &str) -> Result<String, StoreError> {
    if schema.is_empty() || !schema.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
        return Err(StoreError::Conflict(format!("'{schema}' is not a schema name of a-z, 0-9 and _")));
    }
    let config: tokio_postgres::Config =
        url.parse().map_err(|e| StoreError::Unavailable(format!("not a PostgreSQL URL: {e}")))?;
    let (client, connection) = config.connect(NoTls).await.map_err(Error::from)?;
    let driver = tokio::spawn(connection);
    client.batch_execute(&format!("CREATE SCHEMA {schema}")).await.map_err(Error::from)?;
    drop(client);
    let _ = driver.await;
    let separator = if url.contains('?') { '&' } else { '?' };
    Ok(format!("{url}{separator}options=-c%20search_path%3D{schema}"))
}
