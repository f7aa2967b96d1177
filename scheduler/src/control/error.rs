//! Why a scheduling pass or the service could not do its work.

use chargegrid_store::StoreError;
use thiserror::Error;

use crate::alloc::AllocError;

/// A failed pass or start.
#[derive(Debug, Error)]
pub enum ServiceError {
    /// The store failed; the pass is retried at the next trigger.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// The site's data made a malformed allocation problem (a configuration error).
    #[error("allocation problem: {0}")]
    Alloc(#[from] AllocError),
    /// Metrics could not be registered (a programming error, or two services on one registry).
    #[error("metrics: {0}")]
    Metrics(#[from] prometheus::Error),
    /// The site is no longer in the network.
    #[error("site {0} is not in the network")]
    UnknownSite(String),
}
