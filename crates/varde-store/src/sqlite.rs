//! The embedded SQLite store.
//!
//! SQLite allows one writer at a time, so all writes go to one writer thread that commits in groups: whatever
//! requests are waiting when a transaction starts share it, and each runs in its own savepoint so that one
//! request's failure never touches another's. Every acknowledged write has been fsynced (WAL, synchronous=FULL)
//! before its caller hears back. Reads use a small pool of separate connections, which WAL lets run alongside.

use crate::audit::{self, Entry};
use crate::{AuditReport, NewToken, Store, StoreError, TokenGrant};
use async_trait::async_trait;
use jiff::Timestamp;
use rusqlite::{Connection, ErrorCode, OptionalExtension, params};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};
use varde_domain::auth::{Principal, Role};
use varde_domain::method::Method;
use varde_domain::sample::{
    Amount, AmountUnit, Analysis, AnalysisResult, Component, ComponentRole, Confidence, Form,
    NewAnalysis, NewSample, Outcome, Sample, Status,
};
use varde_domain::service::{Service, ServiceKind, ServiceSlug};
use varde_domain::{SampleCode, SubstanceRef};

const MIGRATIONS: &[&str] = &[include_str!("../migrations/sqlite/0001_init.sql")];
/// The most requests one transaction carries; bounds the latency a request can add to its neighbours.
const MAX_BATCH: usize = 256;
const MAX_IDLE_READERS: usize = 8;

type Deliver = Box<dyn FnOnce(Result<(), StoreError>) + Send>;
type Job = Box<dyn FnOnce(&Connection) -> Deliver + Send>;

pub struct SqliteStore {
    path: PathBuf,
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
    readers: Arc<Mutex<Vec<Connection>>>,
}

/// Parses `sqlite://PATH`, `sqlite:PATH` or a plain path.
pub fn path_from_url(url: &str) -> PathBuf {
    let p = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    PathBuf::from(p)
}

fn open_connection(path: &Path) -> Result<Connection, StoreError> {
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
    Ok(conn)
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and applies any pending migrations.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore, StoreError> {
        let path = path.as_ref().to_path_buf();
        let mut conn = open_connection(&path)?;
        migrate(&mut conn)?;
        let (tx, rx) = mpsc::channel::<Job>();
        let writer = std::thread::Builder::new()
            .name("varde-sqlite-writer".into())
            .spawn(move || writer_loop(conn, rx))
            .map_err(|e| StoreError::Conflict(format!("cannot start the writer thread: {e}")))?;
        Ok(SqliteStore {
            path,
            jobs: Mutex::new(Some(tx)),
            writer: Mutex::new(Some(writer)),
            readers: Arc::new(Mutex::new(Vec::new())),
        })
    }

    /// The schema version after migrations.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        let conn = open_connection(&self.path)?;
        Ok(conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
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
        f: impl FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |conn: &Connection| {
            let result = in_savepoint(conn, f);
            Box::new(move |commit: Result<(), StoreError>| {
                let _ = tx.send(commit.and(result));
            })
        });
        let sender = self
            .jobs
            .lock()
            .expect("not poisoned")
            .clone()
            .ok_or(StoreError::Closed)?;
        sender.send(job).map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    async fn read<R: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        let readers = self.readers.clone();
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || {
            let conn = match readers.lock().expect("not poisoned").pop() {
                Some(c) => c,
                None => open_connection(&path)?,
            };
            let result = f(&conn);
            let mut idle = readers.lock().expect("not poisoned");
            if idle.len() < MAX_IDLE_READERS {
                idle.push(conn);
            }
            result
        })
        .await
        .map_err(|e| StoreError::Conflict(format!("reader task failed: {e}")))?
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        self.close();
    }
}

fn in_savepoint<R>(
    conn: &Connection,
    f: impl FnOnce(&Connection) -> Result<R, StoreError>,
) -> Result<R, StoreError> {
    conn.execute_batch("SAVEPOINT job")?;
    let result = f(conn);
    let end = if result.is_ok() {
        "RELEASE job"
    } else {
        "ROLLBACK TO job; RELEASE job"
    };
    match conn.execute_batch(end) {
        Ok(()) => result,
        Err(e) => Err(e.into()),
    }
}

fn writer_loop(conn: Connection, jobs: mpsc::Receiver<Job>) {
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
            let msg = e.to_string();
            for job in batch {
                // Run nothing; tell each caller why.
                drop(job);
                tracing::error!("cannot begin a transaction: {msg}");
            }
            continue;
        }
        let deliveries: Vec<Deliver> = batch.into_iter().map(|job| job(&conn)).collect();
        let commit = conn.execute_batch("COMMIT");
        if commit.is_err() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        let msg = commit.as_ref().err().map(ToString::to_string);
        for deliver in deliveries {
            deliver(match &msg {
                None => Ok(()),
                Some(m) => Err(StoreError::Conflict(format!("commit failed: {m}"))),
            });
        }
    }
}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current > MIGRATIONS.len() as i64 {
        return Err(StoreError::Conflict(format!(
            "the database has schema version {current}, newer than this Varde knows ({}); upgrade Varde",
            MIGRATIONS.len()
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1))?;
        tx.commit()?;
        tracing::info!(version = i + 1, "applied migration");
    }
    Ok(())
}

fn ms(t: Timestamp) -> i64 {
    t.as_millisecond()
}

fn ts(ms: i64) -> Result<Timestamp, StoreError> {
    Timestamp::from_millisecond(ms).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn to_json<T: serde::Serialize>(v: &Option<T>) -> Option<String> {
    v.as_ref()
        .map(|x| serde_json::to_string(x).expect("plain data serialises"))
}

fn from_json<T: serde::de::DeserializeOwned>(s: Option<String>) -> Result<Option<T>, StoreError> {
    s.map(|s| serde_json::from_str(&s).map_err(|e| StoreError::Corrupt(e.to_string())))
        .transpose()
}

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("unknown {what} '{value}'"))
}

/// Appends an entry to the audit chain, inside the caller's transaction.
fn append_audit(
    conn: &Connection,
    at: Timestamp,
    actor: &str,
    action: &str,
    subject: &str,
) -> Result<(), StoreError> {
    let last: Option<(i64, String)> = conn
        .query_row(
            "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let (seq, prev_hash) = match last {
        Some((seq, hash)) => (seq + 1, hash),
        None => (1, audit::GENESIS.to_owned()),
    };
    let entry = Entry {
        seq,
        at_ms: ms(at),
        actor,
        action,
        subject,
        prev_hash: &prev_hash,
    };
    conn.execute(
        "INSERT INTO audit_log (seq, at_ms, actor, action, subject, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![seq, entry.at_ms, actor, action, subject, prev_hash, entry.hash()],
    )?;
    Ok(())
}

fn service_row(
    r: &rusqlite::Row<'_>,
) -> rusqlite::Result<(String, String, String, String, String)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

fn to_service(
    (slug, name, kind, kommune, fylke): (String, String, String, String, String),
) -> Result<Service, StoreError> {
    Ok(Service {
        slug: ServiceSlug::parse(&slug).map_err(|_| corrupt("service slug", &slug))?,
        name,
        kind: ServiceKind::parse(&kind).ok_or_else(|| corrupt("service kind", &kind))?,
        kommune,
        fylke,
    })
}

fn load_sample(conn: &Connection, code: SampleCode) -> Result<Option<Sample>, StoreError> {
    let row = conn
        .query_row(
            "SELECT s.id, v.slug, s.received_ms, s.registered_ms, s.form, s.colour, s.texture, s.notes, s.tablet, s.use_context, s.status
             FROM samples s JOIN services v ON v.id = s.service_id WHERE s.code = ?1",
            [code.compact()],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, Option<String>>(5)?,
                    r.get::<_, Option<String>>(6)?,
                    r.get::<_, Option<String>>(7)?,
                    r.get::<_, Option<String>>(8)?,
                    r.get::<_, Option<String>>(9)?,
                    r.get::<_, String>(10)?,
                ))
            },
        )
        .optional()?;
    let Some((
        id,
        slug,
        received,
        registered,
        form,
        colour,
        texture,
        notes,
        tablet,
        use_context,
        _status,
    )) = row
    else {
        return Ok(None);
    };
    let mut stmt = conn.prepare_cached(
        "SELECT substance, known FROM sample_sold_as WHERE sample_id = ?1 ORDER BY position",
    )?;
    let sold_as = stmt
        .query_map([id], |r| {
            Ok(SubstanceRef {
                substance: r.get(0)?,
                known: r.get(1)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let analyses = load_analyses(conn, id)?;
    Ok(Some(Sample {
        code,
        service: ServiceSlug::parse(&slug).map_err(|_| corrupt("service slug", &slug))?,
        received_at: ts(received)?,
        registered_at: ts(registered)?,
        status: Status::of(&analyses),
        sold_as,
        form: Form::parse(&form).ok_or_else(|| corrupt("form", &form))?,
        colour,
        texture,
        notes,
        tablet: from_json(tablet)?,
        use_context: from_json(use_context)?,
        analyses,
    }))
}

fn load_analyses(conn: &Connection, sample_id: i64) -> Result<Vec<Analysis>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, method, result, inconclusive, performed_ms, recorded_ms, amends, superseded_by
         FROM analyses WHERE sample_id = ?1 ORDER BY id",
    )?;
    type Row = (
        i64,
        String,
        Option<String>,
        bool,
        i64,
        i64,
        Option<i64>,
        Option<i64>,
    );
    let rows: Vec<Row> = stmt
        .query_map([sample_id], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
            ))
        })?
        .collect::<Result<_, _>>()?;
    let mut comp = conn.prepare_cached(
        "SELECT substance, known, role, amount_value, amount_unit, confidence FROM components WHERE analysis_id = ?1 ORDER BY position",
    )?;
    let mut out = Vec::with_capacity(rows.len());
    for (id, method, result, inconclusive, performed, recorded, amends, superseded_by) in rows {
        let method = Method::parse(&method).ok_or_else(|| corrupt("method", &method))?;
        let outcome = if method.is_strip() {
            let r = result.unwrap_or_default();
            Outcome::Strip {
                result: AnalysisResult::parse(&r).ok_or_else(|| corrupt("strip result", &r))?,
            }
        } else {
            type CRow = (
                String,
                bool,
                String,
                Option<f64>,
                Option<String>,
                Option<String>,
            );
            let rows: Vec<CRow> = comp
                .query_map([id], |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                    ))
                })?
                .collect::<Result<_, _>>()?;
            let components = rows
                .into_iter()
                .map(|(substance, known, role, value, unit, confidence)| {
                    Ok(Component {
                        substance: SubstanceRef { substance, known },
                        role: parse_role(&role)?,
                        amount: match (value, unit) {
                            (Some(value), Some(unit)) => Some(Amount {
                                value,
                                unit: parse_unit(&unit)?,
                            }),
                            _ => None,
                        },
                        confidence: confidence.as_deref().map(parse_confidence).transpose()?,
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            Outcome::Components {
                components,
                inconclusive,
            }
        };
        out.push(Analysis {
            id,
            method,
            performed_at: ts(performed)?,
            recorded_at: ts(recorded)?,
            outcome,
            amends,
            superseded_by,
        });
    }
    Ok(out)
}

fn role_str(r: ComponentRole) -> &'static str {
    match r {
        ComponentRole::Main => "main",
        ComponentRole::Adulterant => "adulterant",
        ComponentRole::Trace => "trace",
    }
}

fn parse_role(s: &str) -> Result<ComponentRole, StoreError> {
    [
        ComponentRole::Main,
        ComponentRole::Adulterant,
        ComponentRole::Trace,
    ]
    .into_iter()
    .find(|r| role_str(*r) == s)
    .ok_or_else(|| corrupt("role", s))
}

fn unit_str(u: AmountUnit) -> &'static str {
    match u {
        AmountUnit::Percent => "percent",
        AmountUnit::Mg => "mg",
        AmountUnit::Ug => "ug",
    }
}

fn parse_unit(s: &str) -> Result<AmountUnit, StoreError> {
    [AmountUnit::Percent, AmountUnit::Mg, AmountUnit::Ug]
        .into_iter()
        .find(|u| unit_str(*u) == s)
        .ok_or_else(|| corrupt("unit", s))
}

fn confidence_str(c: Confidence) -> &'static str {
    match c {
        Confidence::Low => "low",
        Confidence::Medium => "medium",
        Confidence::High => "high",
    }
}

fn parse_confidence(s: &str) -> Result<Confidence, StoreError> {
    [Confidence::Low, Confidence::Medium, Confidence::High]
        .into_iter()
        .find(|c| confidence_str(*c) == s)
        .ok_or_else(|| corrupt("confidence", s))
}

fn insert_analysis(
    conn: &Connection,
    sample_id: i64,
    a: &NewAnalysis,
    at: Timestamp,
) -> Result<i64, StoreError> {
    let (result, inconclusive) = match &a.outcome {
        Outcome::Strip { result } => (Some(result.as_str()), false),
        Outcome::Components { inconclusive, .. } => (None, *inconclusive),
    };
    conn.prepare_cached(
        "INSERT INTO analyses (sample_id, method, result, inconclusive, performed_ms, recorded_ms, amends) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![sample_id, a.method.as_str(), result, inconclusive, ms(a.performed_at), ms(at), a.amends])?;
    let id = conn.last_insert_rowid();
    if let Outcome::Components { components, .. } = &a.outcome {
        let mut stmt = conn.prepare_cached(
            "INSERT INTO components (analysis_id, position, substance, known, role, amount_value, amount_unit, confidence)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        for (i, c) in components.iter().enumerate() {
            stmt.execute(params![
                id,
                i as i64,
                c.substance.substance,
                c.substance.known,
                role_str(c.role),
                c.amount.map(|a| a.value),
                c.amount.map(|a| unit_str(a.unit)),
                c.confidence.map(confidence_str),
            ])?;
        }
    }
    Ok(id)
}

fn sample_id_of(conn: &Connection, code: SampleCode) -> Result<i64, StoreError> {
    conn.query_row(
        "SELECT id FROM samples WHERE code = ?1",
        [code.compact()],
        |r| r.get(0),
    )
    .optional()?
    .ok_or(StoreError::UnknownSample)
}

fn update_status(
    conn: &Connection,
    sample_id: i64,
    code: SampleCode,
) -> Result<Sample, StoreError> {
    let sample = load_sample(conn, code)?.ok_or(StoreError::UnknownSample)?;
    conn.execute(
        "UPDATE samples SET status = ?1 WHERE id = ?2",
        params![sample.status.as_str(), sample_id],
    )?;
    Ok(sample)
}

#[async_trait]
impl Store for SqliteStore {
    async fn add_service(
        &self,
        service: Service,
        actor: &str,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let actor = actor.to_owned();
        self.write(move |conn| {
            let inserted = conn.execute(
                "INSERT INTO services (slug, name, kind, kommune, fylke, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (slug) DO NOTHING",
                params![service.slug.as_str(), service.name, service.kind.as_str(), service.kommune, service.fylke, ms(at)],
            )?;
            if inserted == 0 {
                return Err(StoreError::Conflict(format!("a service with slug '{}' exists", service.slug)));
            }
            append_audit(conn, at, &actor, "service.add", service.slug.as_str())
        })
        .await
    }

    async fn services(&self) -> Result<Vec<Service>, StoreError> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT slug, name, kind, kommune, fylke FROM services ORDER BY slug",
            )?;
            let rows = stmt
                .query_map([], service_row)?
                .collect::<Result<Vec<_>, _>>()?;
            rows.into_iter().map(to_service).collect()
        })
        .await
    }

    async fn service(&self, slug: &ServiceSlug) -> Result<Option<Service>, StoreError> {
        let slug = slug.as_str().to_owned();
        self.read(move |conn| {
            let row = conn
                .query_row(
                    "SELECT slug, name, kind, kommune, fylke FROM services WHERE slug = ?1",
                    [slug],
                    service_row,
                )
                .optional()?;
            row.map(to_service).transpose()
        })
        .await
    }

    async fn add_token(
        &self,
        token: NewToken,
        actor: &str,
        at: Timestamp,
    ) -> Result<i64, StoreError> {
        let actor = actor.to_owned();
        self.write(move |conn| {
            let service_id: Option<i64> = match &token.service {
                Some(slug) => Some(
                    conn.query_row("SELECT id FROM services WHERE slug = ?1", [slug.as_str()], |r| r.get(0))
                        .optional()?
                        .ok_or_else(|| StoreError::UnknownService(slug.to_string()))?,
                ),
                None => None,
            };
            conn.execute(
                "INSERT INTO tokens (hash, role, service_id, label, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![&token.hash[..], token.role.as_str(), service_id, token.label, ms(at)],
            )?;
            let id = conn.last_insert_rowid();
            append_audit(conn, at, &actor, "token.issue", &format!("token:{id} role:{}", token.role.as_str()))?;
            Ok(id)
        })
        .await
    }

    async fn token(&self, hash: [u8; 32]) -> Result<Option<TokenGrant>, StoreError> {
        self.read(move |conn| {
            let row: Option<(i64, String, Option<String>)> = conn
                .prepare_cached(
                    "SELECT t.id, t.role, s.slug FROM tokens t LEFT JOIN services s ON s.id = t.service_id
                     WHERE t.hash = ?1 AND t.revoked_ms IS NULL",
                )?
                .query_row([&hash[..]], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .optional()?;
            row.map(|(id, role, slug)| {
                Ok(TokenGrant {
                    id,
                    role: Role::parse(&role).ok_or_else(|| corrupt("role", &role))?,
                    service: slug.map(|s| ServiceSlug::parse(&s).map_err(|_| corrupt("service slug", &s))).transpose()?,
                })
            })
            .transpose()
        })
        .await
    }

    async fn create_sample(
        &self,
        code: SampleCode,
        sample: NewSample,
        actor: &Principal,
        at: Timestamp,
    ) -> Result<Sample, StoreError> {
        let actor = actor.actor.clone();
        self.write(move |conn| {
            let service_id: i64 = conn
                .prepare_cached("SELECT id FROM services WHERE slug = ?1")?
                .query_row([sample.service.as_str()], |r| r.get(0))
                .optional()?
                .ok_or_else(|| StoreError::UnknownService(sample.service.to_string()))?;
            let status = if sample.analyses.is_empty() {
                Status::Received
            } else if sample.analyses.iter().any(|a| a.method.is_lab()) {
                Status::Confirmed
            } else {
                Status::Screened
            };
            let inserted = conn
                .prepare_cached(
                    "INSERT INTO samples (code, service_id, received_ms, registered_ms, form, colour, texture, notes, tablet, use_context, status)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                )?
                .execute(params![
                    code.compact(),
                    service_id,
                    ms(sample.received_at),
                    ms(at),
                    sample.form.as_str(),
                    sample.colour,
                    sample.texture,
                    sample.notes,
                    to_json(&sample.tablet),
                    to_json(&sample.use_context),
                    status.as_str(),
                ]);
            match inserted {
                Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == ErrorCode::ConstraintViolation => return Err(StoreError::CodeTaken),
                other => other?,
            };
            let id = conn.last_insert_rowid();
            let mut stmt = conn.prepare_cached("INSERT INTO sample_sold_as (sample_id, position, substance, known) VALUES (?1, ?2, ?3, ?4)")?;
            for (i, s) in sample.sold_as.iter().enumerate() {
                stmt.execute(params![id, i as i64, s.substance, s.known])?;
            }
            for a in &sample.analyses {
                insert_analysis(conn, id, a, at)?;
            }
            append_audit(conn, at, &actor, "sample.create", code.compact())?;
            load_sample(conn, code)?.ok_or(StoreError::UnknownSample)
        })
        .await
    }

    async fn add_analysis(
        &self,
        code: SampleCode,
        analysis: NewAnalysis,
        actor: &Principal,
        at: Timestamp,
    ) -> Result<Sample, StoreError> {
        let actor = actor.actor.clone();
        self.write(move |conn| {
            let sample_id = sample_id_of(conn, code)?;
            if let Some(old) = analysis.amends {
                let target: Option<(i64, Option<i64>)> = conn
                    .query_row("SELECT sample_id, superseded_by FROM analyses WHERE id = ?1", [old], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()?;
                match target {
                    Some((sid, None)) if sid == sample_id => {}
                    Some((sid, Some(newer))) if sid == sample_id => {
                        return Err(StoreError::Invalid {
                            code: "analysis_already_amended",
                            message: format!("analysis {old} was already amended by analysis {newer}; amend that one instead"),
                        });
                    }
                    _ => {
                        return Err(StoreError::Invalid {
                            code: "unknown_analysis",
                            message: format!("this sample has no analysis {old} to amend"),
                        });
                    }
                }
            }
            let id = insert_analysis(conn, sample_id, &analysis, at)?;
            if let Some(old) = analysis.amends {
                conn.execute("UPDATE analyses SET superseded_by = ?1 WHERE id = ?2", params![id, old])?;
            }
            append_audit(conn, at, &actor, if analysis.amends.is_some() { "analysis.amend" } else { "analysis.add" }, code.compact())?;
            update_status(conn, sample_id, code)
        })
        .await
    }

    async fn sample(&self, code: SampleCode) -> Result<Option<Sample>, StoreError> {
        self.read(move |conn| load_sample(conn, code)).await
    }

    async fn sample_audited(
        &self,
        code: SampleCode,
        actor: &Principal,
        at: Timestamp,
    ) -> Result<Option<Sample>, StoreError> {
        let actor = actor.actor.clone();
        self.write(move |conn| {
            let sample = load_sample(conn, code)?;
            if sample.is_some() {
                append_audit(conn, at, &actor, "sample.read", code.compact())?;
            }
            Ok(sample)
        })
        .await
    }

    async fn sample_count(&self) -> Result<u64, StoreError> {
        self.read(|conn| {
            Ok(conn.query_row("SELECT count(*) FROM samples", [], |r| r.get::<_, i64>(0))? as u64)
        })
        .await
    }

    async fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        let key = key.to_owned();
        self.read(move |conn| {
            Ok(conn
                .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
                .optional()?)
        })
        .await
    }

    async fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        let (key, value) = (key.to_owned(), value.to_owned());
        self.write(move |conn| {
            conn.execute("INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value", params![key, value])?;
            Ok(())
        })
        .await
    }

    async fn verify_audit(&self) -> Result<AuditReport, StoreError> {
        self.read(|conn| {
            let mut stmt = conn.prepare("SELECT seq, at_ms, actor, action, subject, prev_hash, hash FROM audit_log ORDER BY seq")?;
            let mut rows = stmt.query([])?;
            let mut expected_prev = audit::GENESIS.to_owned();
            let mut expected_seq = 1i64;
            let mut entries = 0u64;
            while let Some(r) = rows.next()? {
                let (seq, at_ms, actor, action, subject, prev_hash, hash): (i64, i64, String, String, String, String, String) =
                    (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?);
                entries += 1;
                let broken = if seq != expected_seq {
                    Some(format!("expected entry {expected_seq} here: entries are missing"))
                } else if prev_hash != expected_prev {
                    Some("does not link to the entry before it".to_owned())
                } else if (Entry { seq, at_ms, actor: &actor, action: &action, subject: &subject, prev_hash: &prev_hash }).hash() != hash {
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
}
