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
    #[error("{0}")]
    Conflict(String),
    /// A request that contradicts what is stored, with a stable code (e.g. an amendment of an analysis that is
    /// not this sample's).
    #[error("{message}")]
    Invalid { code: &'static str, message: String },
    #[error("stored data is not readable: {0}")]
    Corrupt(String),
    #[error("database: {0}")]
    Database(#[from] rusqlite::Error),
    #[error("the store is shut down")]
    Closed,
}
