//! What can go wrong with the records store.

/// A records-store failure.
#[derive(Debug, thiserror::Error)]
pub enum RecordsError {
    /// The URL names no backend.
    #[error("records store URL: {0}")]
    Url(String),
    /// The database failed or could not be reached.
    #[error("records database: {0}")]
    Database(#[from] sqlx::Error),
    /// The schema could not be brought up to date.
    #[error("records schema migration: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// Samples could not be compressed.
    #[error("compressing samples: {0}")]
    Compression(std::io::Error),
    /// A stored document does not decode.
    #[error("a stored record does not decode: {0}")]
    Corrupt(#[from] serde_json::Error),
}

/// A records-store result.
pub type RecordsResult<T> = Result<T, RecordsError>;
