//! Errors inside the SQLite backend: the store's own, or SQLite's. Only [`StoreError`] reaches the application: the
//! core sees this type only as the port's `Backend::Error`, and it becomes a [`StoreError`] when a write ends.

use varde_store::StoreError;

#[derive(Debug)]
pub enum Error {
    Store(StoreError),
    Sql(rusqlite::Error),
}

pub(crate) type Result<T, E = Error> = std::result::Result<T, E>;

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Error {
        Error::Store(e)
    }
}

impl From<rusqlite::Error> for Error {
    /// Failures of the storage itself (full disk, I/O, locks, a file that cannot be opened) are told apart from
    /// errors in what was asked, so the edge answers 503 and health turns degraded instead of blaming the request.
    fn from(e: rusqlite::Error) -> Error {
        use rusqlite::ErrorCode::*;
        match e.sqlite_error_code() {
            Some(
                DiskFull
                | SystemIoFailure
                | CannotOpen
                | ReadOnly
                | DatabaseBusy
                | DatabaseLocked
                | FileLockingProtocolFailed
                | OutOfMemory,
            ) => Error::Store(StoreError::Unavailable(e.to_string())),
            _ => Error::Sql(e),
        }
    }
}

impl From<Error> for StoreError {
    fn from(e: Error) -> StoreError {
        match e {
            Error::Store(e) => e,
            Error::Sql(e) => StoreError::Database(e.to_string()),
        }
    }
}

impl Error {
    /// Stored data that cannot be read back.
    pub(crate) fn corrupt(message: String) -> Error {
        Error::Store(StoreError::Corrupt(message))
    }
}
