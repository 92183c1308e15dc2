use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("the sample code is already taken")]
    CodeTaken,
    #[error("no service with slug '{0}'")]
    UnknownService(String),
    #[error("no sample with that code")]
    UnknownSample,
    #[error("no alert with that id")]
    UnknownAlert,
    /// Input that fails the domain's validation, checked inside the transaction (e.g. a reviewer's edit).
    #[error("{0}")]
    Input(varde_domain::sample::InvalidInput),
    /// A name that is taken (a username, a service slug).
    #[error("{0}")]
    Conflict(String),
    /// A request that contradicts what is stored, with a stable code (e.g. an amendment of an analysis that is
    /// not this sample's).
    #[error("{message}")]
    Invalid { code: varde_domain::ErrorCode, message: String },
    #[error("stored data is not readable: {0}")]
    Corrupt(String),
    /// A failure of the database that is neither the request's nor the storage's availability (a backend's own
    /// error, as its message: the trait knows no backend's types).
    #[error("database: {0}")]
    Database(String),
    /// The database cannot take writes now: the disk is full, a file cannot be written or opened, the database is
    /// locked for too long. Nothing was stored; the same request may succeed later.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// A failure inside Varde (a worker thread that could not start or died).
    #[error("internal: {0}")]
    Internal(String),
    #[error("the store is shut down")]
    Closed,
}

impl StoreError {
    /// Whether the failure is the storage's (see [`StoreError::Unavailable`]), not the request's.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Unavailable(_) | StoreError::Closed)
    }
}
