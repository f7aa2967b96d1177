//! Why a replay could not run.

use thiserror::Error;

/// A replay failure: unreadable input or unusable options.
#[derive(Debug, Error)]
pub enum ReplayError {
    /// The session file could not be opened or read.
    #[error("reading {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A CSV row could not be parsed.
    #[error("{path} line {line}: {reason}")]
    BadRow {
        /// The file.
        path: String,
        /// 1-based line number (the header is line 1).
        line: u64,
        /// What is wrong.
        reason: String,
    },
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
    /// The allocator refused a problem (a bug in the replay's site model).
    #[error("allocation failed: {0}")]
    Alloc(#[from] crate::alloc::AllocError),
}
