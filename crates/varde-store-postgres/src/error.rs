//! Errors inside the PostgreSQL backend: the store's own, or PostgreSQL's. Only [`StoreError`] reaches the
//! application: the core sees this type only as the port's `Backend::Error`, and it becomes a [`StoreError`] when a
//! write ends.

use tokio_postgres::error::SqlState;
use varde_store::StoreError;

#[derive(Debug)]
pub enum Error {
    Store(StoreError),
    Sql(tokio_postgres::Error),
}

pub(crate) type Result<T, E = Error> = std::result::Result<T, E>;

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Error {
        Error::Store(e)
    }
}

impl From<tokio_postgres::Error> for Error {
    /// Failures of the database itself (the connection lost, the server shutting down, out of disk, too many
    /// connections) are told apart from errors in what was asked, so the edge answers 503 and health turns degraded
    /// instead of blaming the request.
    fn from(e: tokio_postgres::Error) -> Error {
        let io = std::error::Error::source(&e).is_some_and(|s| s.is::<std::io::Error>());
        let unavailable = e.is_closed()
            || io
            || e.code().is_some_and(|c| {
                let class = &c.code()[..2];
                // 08: connection exception, 53: insufficient resources, 57: operator intervention (shutdown),
                // 58: system error (I/O).
                matches!(class, "08" | "53" | "57" | "58") || *c == SqlState::READ_ONLY_SQL_TRANSACTION
            });
        if unavailable { Error::Store(StoreError::Unavailable(describe(&e))) } else { Error::Sql(e) }
    }
}

/// The database's own words: the driver's `Display` says only "db error" when the server refused.
fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {}", db.code().code(), db.message()),
        None => e.to_string(),
    }
}

impl From<deadpool_postgres::PoolError> for Error {
    fn from(e: deadpool_postgres::PoolError) -> Error {
        match e {
            deadpool_postgres::PoolError::Backend(e) => Error::from(e),
            other => Error::Store(StoreError::Unavailable(format!("no database connection: {other}"))),
        }
    }
}

impl From<Error> for StoreError {
    fn from(e: Error) -> StoreError {
        match e {
            Error::Store(e) => e,
            Error::Sql(e) => StoreError::Database(describe(&e)),
        }
    }
}

impl Error {
    /// Stored data that cannot be read back.
    pub(crate) fn corrupt(message: String) -> Error {
        Error::Store(StoreError::Corrupt(message))
    }
}
