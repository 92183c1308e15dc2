//! Moves a Varde installation between databases, table by table: from the embedded SQLite file into PostgreSQL
//! (moving up), from PostgreSQL into a SQLite file (a backup that any machine can open), and back (a restore).
//!
//! Both backends hold the same tables with the same columns and the same values (times as milliseconds, JSON as
//! text), so a copy moves rows as they are: ids, event sequence numbers and the audit chain stay what they were, and
//! `varde audit verify` passes on the copy. The source is read in one snapshot (SQLite: one read transaction;
//! PostgreSQL: one repeatable-read transaction), so a copy taken while Varde serves is the database as of one instant.
//! The target is written in one transaction: a copy that fails leaves the target as it was. The target must be empty
//! (freshly migrated).

use futures_util::{StreamExt, TryStreamExt};
use rusqlite::types::Value as SqlValue;
use std::path::PathBuf;
use tokio_postgres::types::{ToSql, Type};

/// The tables of a Varde database, each after the tables it refers to.
pub const TABLES: &[&str] = &[
    "services",
    "tokens",
    "users",
    "sessions",
    "recovery_codes",
    "passkeys",
    "sign_in_rules",
    "user_identities",
    "samples",
    "sample_sold_as",
    "analyses",
    "components",
    "findings",
    "photos",
    "result_feedback",
    "alerts",
    "alert_evidence",
    "alert_versions",
    "alert_transitions",
    "alert_photos",
    "alert_acknowledgements",
    "alert_escalations",
    "events",
    "webhooks",
    "deliveries",
    "signals",
    "concern_reports",
    "user_room_days",
    "deaths",
    "reference_spectra",
    "analysis_spectra",
    "subscribers",
    "subscriber_outbox",
    "audit_log",
    "meta",
    "figure_weeks",
];

/// Rows moved per batch: bounds the memory a copy of a large table takes.
const BATCH: usize = 2_000;

/// A database by its URL: `postgres://…`, or anything else for a SQLite file (`sqlite://PATH`, `sqlite:PATH`, PATH).
#[derive(Debug, Clone)]
pub enum Database {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Database {
    pub fn parse(url: &str) -> Database {
        if varde_store_postgres::is_url(url) {
            Database::Postgres(url.to_owned())
        } else {
            Database::Sqlite(varde_store_sqlite::path_from_url(url))
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error("the target already holds data ({0} is not empty); a copy goes into an empty, newly made database")]
    TargetNotEmpty(String),
    #[error("the two databases' {table} tables differ ({detail}); open both with this Varde first to migrate them")]
    Schema { table: String, detail: String },
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("PostgreSQL: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    #[error("{0}")]
    Other(String),
}

/// What was copied: rows per table, in [`TABLES`] order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Copied {
    pub rows: Vec<(&'static str, u64)>,
}

impl Copied {
    pub fn total(&self) -> u64 {
        self.rows.iter().map(|(_, n)| n).sum()
    }
}

/// A value as both backends hold it. PostgreSQL's booleans are SQLite's 0 and 1.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

/// Copies every table of `from` into `to`. Both must have this version's schema (open each with the store first).
pub async fn copy(from: &Database, to: &Database) -> Result<Copied, CopyError> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Message>(4);
    let source = {
        let from = from.clone();
        tokio::spawn(async move {
            let result = match &from {
                Database::Sqlite(path) => read_sqlite(path.clone(), tx.clone()).await,
                Database::Postgres(url) => read_postgres(url, tx.clone()).await,
            };
            if let Err(e) = result {
                let _ = tx.send(Message::Failed(e.to_string())).await;
            }
        })
    };
    let written = match to {
        Database::Sqlite(path) => write_sqlite(path.clone(), &mut rx).await,
        Database::Postgres(url) => write_postgres(url, &mut rx).await,
    };
    // When the target stops early, the source sees its channel closed and stops too.
    drop(rx);
    let _ = source.await;
    written
}

/// What the reader sends the writer, table after table.
enum Message {
    Table { name: &'static str, columns: Vec<String> },
    Rows(Vec<Vec<Value>>),
    Failed(String),
}

fn closed() -> CopyError {
    CopyError::Other("the target stopped taking rows".into())
}

async fn read_sqlite(path: PathBuf, tx: tokio::sync::mpsc::Sender<Message>) -> Result<(), CopyError> {
    tokio::task::spawn_blocking(move || -> Result<(), CopyError> {
        let mut conn = rusqlite::Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        // One read transaction: every table as of one instant, while writers go on (WAL).
        let snapshot = conn.transaction()?;
        for &name in TABLES {
            let columns = sqlite_columns(&snapshot, name)?;
            tx.blocking_send(Message::Table { name, columns: columns.clone() }).map_err(|_| closed())?;
            let sql = format!("SELECT {} FROM {name}", columns.join(", "));
            let mut stmt = snapshot.prepare(&sql)?;
            let mut rows = stmt.query([])?;
            let mut batch = Vec::with_capacity(BATCH);
            while let Some(row) = rows.next()? {
                let values = (0..columns.len())
                    .map(|i| {
                        Ok(match row.get::<_, SqlValue>(i)? {
                            SqlValue::Null => Value::Null,
                            SqlValue::Integer(n) => Value::Integer(n),
                            SqlValue::Real(x) => Value::Real(x),
                            SqlValue::Text(t) => Value::Text(t),
                            SqlValue::Blob(b) => Value::Blob(b),
                        })
                    })
                    .collect::<Result<Vec<_>, rusqlite::Error>>()?;
                batch.push(values);
                if batch.len() == BATCH {
                    tx.blocking_send(Message::Rows(std::mem::take(&mut batch))).map_err(|_| closed())?;
                }
            }
            if !batch.is_empty() {
                tx.blocking_send(Message::Rows(batch)).map_err(|_| closed())?;
            }
        }
        Ok(())
    })
    .await
    .map_err(|e| CopyError::Other(format!("the SQLite reader failed: {e}")))?
}

fn sqlite_columns(conn: &rusqlite::Connection, table: &str) -> Result<Vec<String>, CopyError> {
    let mut stmt = conn.prepare(&format!("PRAGMA table_info({table})"))?;
    let columns: Vec<String> = stmt.query_map([], |r| r.get(1))?.collect::<Result<_, _>>()?;
    if columns.is_empty() {
        return Err(CopyError::Schema { table: table.into(), detail: "missing in the SQLite database".into() });
    }
    Ok(columns)
}

async fn connect(url: &str) -> Result<tokio_postgres::Client, CopyError> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::warn!(error = %e, "copy: the PostgreSQL connection ended");
        }
    });
    Ok(client)
}

/// Each column's name and type, in table order.
async fn postgres_columns(
    client: &impl tokio_postgres::GenericClient,
    table: &str,
) -> Result<Vec<(String, Type)>, CopyError> {
    // The types as the server reports them for a query of the table (no rows read).
    let statement = client.prepare(&format!("SELECT * FROM {table} LIMIT 0")).await?;
    let columns: Vec<(String, Type)> =
        statement.columns().iter().map(|c| (c.name().to_owned(), c.type_().clone())).collect();
    Ok(columns)
}

async fn read_postgres(url: &str, tx: tokio::sync::mpsc::Sender<Message>) -> Result<(), CopyError> {
    let mut client = connect(url).await?;
    // One repeatable-read, read-only transaction: every table as of one instant, while Varde goes on serving.
    let snapshot = client
        .build_transaction()
        .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await?;
    for &name in TABLES {
        let columns = postgres_columns(&snapshot, name).await?;
        let names: Vec<String> = columns.iter().map(|(n, _)| n.clone()).collect();
        tx.send(Message::Table { name, columns: names.clone() }).await.map_err(|_| closed())?;
        let statement = snapshot.prepare(&format!("SELECT {} FROM {name}", names.join(", "))).await?;
        let rows = snapshot.query_raw(&statement, std::iter::empty::<i64>()).await?;
        futures_util::pin_mut!(rows);
        let mut chunks = rows.chunks(BATCH);
        while let Some(chunk) = chunks.next().await {
            let batch = chunk
                .into_iter()
                .map(|row| {
                    let row = row?;
                    columns.iter().enumerate().map(|(i, (_, ty))| from_postgres(&row, i, ty)).collect()
                })
                .collect::<Result<Vec<Vec<Value>>, CopyError>>()?;
            tx.send(Message::Rows(batch)).await.map_err(|_| closed())?;
        }
    }
    snapshot.commit().await?;
    Ok(())
}

fn from_postgres(row: &tokio_postgres::Row, i: usize, ty: &Type) -> Result<Value, CopyError> {
    let value = match *ty {
        Type::INT8 => row.try_get::<_, Option<i64>>(i)?.map(Value::Integer),
        Type::INT4 => row.try_get::<_, Option<i32>>(i)?.map(|n| Value::Integer(n.into())),
        Type::BOOL => row.try_get::<_, Option<bool>>(i)?.map(|b| Value::Integer(b.into())),
        Type::FLOAT8 => row.try_get::<_, Option<f64>>(i)?.map(Value::Real),
        Type::TEXT | Type::VARCHAR => row.try_get::<_, Option<String>>(i)?.map(Value::Text),
        Type::BYTEA => row.try_get::<_, Option<Vec<u8>>>(i)?.map(Value::Blob),
        ref other => return Err(CopyError::Other(format!("column {i} has type {other}, which Varde does not use"))),
    };
    Ok(value.unwrap_or(Value::Null))
}

/// A value as the PostgreSQL column of type `ty` takes it.
fn to_postgres(value: &Value, ty: &Type) -> Result<Box<dyn ToSql + Sync + Send>, CopyError> {
    let mismatch = || CopyError::Other(format!("a value {value:?} does not fit a {ty} column"));
    Ok(match (ty.name(), value) {
        ("int8", Value::Null) => Box::new(None::<i64>),
        ("int8", Value::Integer(n)) => Box::new(*n),
        ("bool", Value::Null) => Box::new(None::<bool>),
        ("bool", Value::Integer(n)) => Box::new(*n != 0),
        ("float8", Value::Null) => Box::new(None::<f64>),
        ("float8", Value::Real(x)) => Box::new(*x),
        // SQLite may hand back a whole number stored in a REAL column as an integer.
        ("float8", Value::Integer(n)) => Box::new(*n as f64),
        ("text", Value::Null) => Box::new(None::<String>),
        ("text", Value::Text(t)) => Box::new(t.clone()),
        ("bytea", Value::Null) => Box::new(None::<Vec<u8>>),
        ("bytea", Value::Blob(b)) => Box::new(b.clone()),
        _ => return Err(mismatch()),
    })
}

/// The columns of `analyses` that refer to other analyses: written after every analysis is in (a later analysis
/// amends an earlier one, which names it in turn, and PostgreSQL checks references at once).
const LATER: &[&str] = &["amends", "superseded_by"];

/// The statements a copy runs on the target after the rows, in both dialects: counters that triggers added to as
/// rows arrived are set from the rows themselves.
const AFTERWARDS: &[&str] =
    &["UPDATE alerts SET evidence_count = (SELECT count(*) FROM alert_evidence e WHERE e.alert_id = alerts.id)"];

fn insert_sql(table: &str, columns: &[String], placeholder: impl Fn(usize) -> String) -> String {
    let list: Vec<&str> = columns.iter().map(String::as_str).collect();
    let values: Vec<String> = (1..=columns.len()).map(placeholder).collect();
    // Triggers have already made figure weeks for the copied samples: the copy's versions replace theirs.
    let upsert =
        if table == "figure_weeks" { " ON CONFLICT (week) DO UPDATE SET version = excluded.version" } else { "" };
    format!("INSERT INTO {table} ({}) VALUES ({}){upsert}", list.join(", "), values.join(", "))
}

/// Which of the source's columns go into the first pass (all but [`LATER`] for analyses).
fn first_pass(table: &str, columns: &[String]) -> Vec<usize> {
    (0..columns.len()).filter(|&i| table != "analyses" || !LATER.contains(&columns[i].as_str())).collect()
}

async fn write_postgres(url: &str, rx: &mut tokio::sync::mpsc::Receiver<Message>) -> Result<Copied, CopyError> {
    let mut client = connect(url).await?;
    let tx = client.transaction().await?;
    // No Varde instance writes while the copy does (the writers' lock of varde-store-postgres), and the figure weeks'
    // triggers bump as rows arrive, so the copied versions written last are the ones kept.
    tx.execute(varde_store_postgres::WRITER_LOCK, &[]).await?;
    tx.batch_execute("SET CONSTRAINTS ALL IMMEDIATE").await?;
    let mut copied = Copied::default();
    // The table being written: its name, the source's columns, those of the first pass, the insert and its types.
    struct Current {
        name: &'static str,
        columns: Vec<String>,
        keep: Vec<usize>,
        statement: tokio_postgres::Statement,
        types: Vec<Type>,
    }
    let mut current: Option<Current> = None;
    let mut later: Vec<(i64, Value, Value)> = Vec::new();
    while let Some(message) = rx.recv().await {
        match message {
            Message::Failed(e) => return Err(CopyError::Other(format!("reading the source failed: {e}"))),
            Message::Table { name, columns } => {
                let target = postgres_columns(&tx, name).await?;
                check_same(name, &columns, target.iter().map(|(n, _)| n.as_str()))?;
                let empty: bool = tx.query_one(&format!("SELECT NOT EXISTS (SELECT 1 FROM {name})"), &[]).await?.get(0);
                if !empty && name != "figure_weeks" {
                    return Err(CopyError::TargetNotEmpty(name.into()));
                }
                let keep = first_pass(name, &columns);
                let names: Vec<String> = keep.iter().map(|&i| columns[i].clone()).collect();
                let types: Vec<Type> = keep
                    .iter()
                    .map(|&i| target.iter().find(|(n, _)| *n == columns[i]).map(|(_, t)| t.clone()).expect("checked"))
                    .collect();
                let statement = tx.prepare(&insert_sql(name, &names, |i| format!("${i}"))).await?;
                copied.rows.push((name, 0));
                current = Some(Current { name, columns, keep, statement, types });
            }
            Message::Rows(rows) => {
                let Some(Current { name, columns, keep, statement, types }) = &current else {
                    return Err(CopyError::Other("rows came before their table".into()));
                };
                let mut params = Vec::with_capacity(rows.len());
                for row in &rows {
                    let values: Vec<Box<dyn ToSql + Sync + Send>> =
                        keep.iter().zip(types).map(|(&i, ty)| to_postgres(&row[i], ty)).collect::<Result<_, _>>()?;
                    params.push(values);
                    if *name == "analyses" {
                        later.push(references(columns, row));
                    }
                }
                // Pipelined: the batch's inserts go out together instead of one round trip each.
                let inserts = params.iter().map(|values| {
                    let refs: Vec<&(dyn ToSql + Sync)> = values.iter().map(|v| &**v as &(dyn ToSql + Sync)).collect();
                    let tx = &tx;
                    async move { tx.execute(statement, &refs).await }
                });
                futures_util::stream::iter(inserts).buffered(64).try_collect::<Vec<u64>>().await?;
                if let Some(last) = copied.rows.last_mut() {
                    last.1 += rows.len() as u64;
                }
            }
        }
    }
    check_complete(&copied)?;
    for (id, amends, superseded_by) in later {
        let (amends, superseded_by) = (to_postgres(&amends, &Type::INT8)?, to_postgres(&superseded_by, &Type::INT8)?);
        tx.execute(
            "UPDATE analyses SET amends = $2, superseded_by = $3 WHERE id = $1",
            &[&id, &*amends, &*superseded_by],
        )
        .await?;
    }
    for sql in AFTERWARDS {
        tx.execute(*sql, &[]).await?;
    }
    // The sequences continue after the copied ids, so new rows never collide with them.
    let serials = tx
        .query(
            "SELECT table_name::text, column_name::text FROM information_schema.columns
             WHERE table_schema = current_schema() AND column_default LIKE 'nextval(%'",
            &[],
        )
        .await?;
    for row in serials {
        let (table, column): (String, String) = (row.get(0), row.get(1));
        tx.execute(
            &format!(
                "SELECT setval(pg_get_serial_sequence('{table}', '{column}'), coalesce((SELECT max({column}) FROM {table}), 0) + 1, false)"
            ),
            &[],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(copied)
}

/// An analysis's id and the two references written in the second pass.
fn references(columns: &[String], row: &[Value]) -> (i64, Value, Value) {
    let at = |name: &str| columns.iter().position(|c| c == name).map(|i| row[i].clone()).unwrap_or(Value::Null);
    let id = match at("id") {
        Value::Integer(n) => n,
        _ => 0,
    };
    (id, at("amends"), at("superseded_by"))
}

fn check_same<'a>(table: &str, source: &[String], target: impl Iterator<Item = &'a str>) -> Result<(), CopyError> {
    let mut a: Vec<&str> = source.iter().map(String::as_str).collect();
    let mut b: Vec<&str> = target.collect();
    a.sort_unstable();
    b.sort_unstable();
    if a != b {
        return Err(CopyError::Schema { table: table.into(), detail: format!("columns {a:?} and {b:?}") });
    }
    Ok(())
}

fn check_complete(copied: &Copied) -> Result<(), CopyError> {
    if copied.rows.len() != TABLES.len() {
        return Err(CopyError::Other(format!(
            "the source ended after {} of {} tables",
            copied.rows.len(),
            TABLES.len()
        )));
    }
    Ok(())
}

async fn write_sqlite(path: PathBuf, rx: &mut tokio::sync::mpsc::Receiver<Message>) -> Result<Copied, CopyError> {
    // The writer runs on a blocking thread; messages cross over one by one.
    let (tx, blocking_rx) = std::sync::mpsc::sync_channel::<Message>(4);
    let writer = tokio::task::spawn_blocking(move || write_sqlite_blocking(&path, blocking_rx));
    while let Some(message) = rx.recv().await {
        if tx.send(message).is_err() {
            break;
        }
    }
    drop(tx);
    writer.await.map_err(|e| CopyError::Other(format!("the SQLite writer failed: {e}")))?
}

fn write_sqlite_blocking(path: &std::path::Path, rx: std::sync::mpsc::Receiver<Message>) -> Result<Copied, CopyError> {
    let mut conn = rusqlite::Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.execute_batch("PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;")?;
    let tx = conn.transaction()?;
    let mut copied = Copied::default();
    let mut current: Option<(&'static str, Vec<String>, Vec<usize>)> = None;
    let mut later: Vec<(i64, Value, Value)> = Vec::new();
    for message in rx {
        match message {
            Message::Failed(e) => return Err(CopyError::Other(format!("reading the source failed: {e}"))),
            Message::Table { name, columns } => {
                let target = sqlite_columns(&tx, name)?;
                check_same(name, &columns, target.iter().map(String::as_str))?;
                let empty: bool =
                    tx.query_row(&format!("SELECT NOT EXISTS (SELECT 1 FROM {name})"), [], |r| r.get(0))?;
                if !empty && name != "figure_weeks" {
                    return Err(CopyError::TargetNotEmpty(name.into()));
                }
                copied.rows.push((name, 0));
                let keep = first_pass(name, &columns);
                current = Some((name, columns, keep));
            }
            Message::Rows(rows) => {
                let Some((name, columns, keep)) = &current else {
                    return Err(CopyError::Other("rows came before their table".into()));
                };
                let names: Vec<String> = keep.iter().map(|&i| columns[i].clone()).collect();
                let mut stmt = tx.prepare_cached(&insert_sql(name, &names, |i| format!("?{i}")))?;
                for row in &rows {
                    let values = keep.iter().map(|&i| to_sqlite(&row[i]));
                    stmt.execute(rusqlite::params_from_iter(values))?;
                    if *name == "analyses" {
                        later.push(references(columns, row));
                    }
                }
                if let Some(last) = copied.rows.last_mut() {
                    last.1 += rows.len() as u64;
                }
            }
        }
    }
    check_complete(&copied)?;
    for (id, amends, superseded_by) in later {
        tx.execute(
            "UPDATE analyses SET amends = ?2, superseded_by = ?3 WHERE id = ?1",
            rusqlite::params![id, to_sqlite(&amends), to_sqlite(&superseded_by)],
        )?;
    }
    for sql in AFTERWARDS {
        tx.execute(sql, [])?;
    }
    tx.commit()?;
    Ok(copied)
}

fn to_sqlite(value: &Value) -> SqlValue {
    match value {
        Value::Null => SqlValue::Null,
        Value::Integer(n) => SqlValue::Integer(*n),
        Value::Real(x) => SqlValue::Real(*x),
        Value::Text(t) => SqlValue::Text(t.clone()),
        Value::Blob(b) => SqlValue::Blob(b.clone()),
    }
}
