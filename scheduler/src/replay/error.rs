//! Why a replay could not run.

use thiserror::Error;

/// A replay failure: unusable options or sessions. (Unreadable session files are
/// [`chargegrid_acn::AcnError`]s.)
#[derive(Debug, Error)]
pub enum ReplayError {
    /// An option is out of range.
    #[error("bad replay option: {0}")]
    BadOption(String),
    /// The tariff names a time zone chrono-tz does not know.
    #[error("unknown time zone {0:?}")]
    UnknownTimeZone(String),
    /// No session falls inside the chosen window.
    #[error("no session arrives between {from} and {to}")]
    EmptyWindow {
        /// Window start (UTC).
        from: String,
        /// Window end (UTC).
        to: String,
    },
    /// The marginal emissions data is unreadable or does not cover the window.
    #[error("marginal emissions: {0}")]
    Emissions(String),
    /// The allocator refused a problem (a bug in the replay's site model).
    #[error("allocation failed: {0}")]
    Alloc(#[from] crate::alloc::AllocError),
}
