//! Store errors, shared by every implementation so callers can react the same way to each.

use thiserror::Error;

/// What can go wrong when reading or writing state.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The backend cannot be reached or refused the operation; retrying later may work.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// Something with the same unique key already exists.
    #[error("{0} already exists")]
    Conflict(String),
    /// A write carried a fencing token older than one already seen for the same resource: the
    /// writer lost its lease to a newer holder and must stop.
    #[error("fenced: {0}")]
    Fenced(String),
    /// The thing to update does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// A stored value could not be decoded (written by an incompatible version?).
    #[error("corrupt value at {key}: {reason}")]
    Corrupt {
        /// Where.
        key: String,
        /// Why it could not be read.
        reason: String,
    },
    /// The store URL is not one we understand.
    #[error("invalid store url {url:?}: {reason}")]
    InvalidUrl {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
}

impl From<redis::RedisError> for StoreError {
    fn from(e: redis::RedisError) -> Self {
        StoreError::Unavailable(e.to_string())
    }
}

/// Shorthand for store results.
pub type StoreResult<T> = Result<T, StoreError>;
