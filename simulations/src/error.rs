//! The errors of simulation runs.

use thiserror::Error;

/// Why a scenario or load run could not be done.
#[derive(Debug, Error)]
pub enum SimError {
    /// A scenario or network file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A session file (ACN-Data) could not be read.
    #[error(transparent)]
    Sessions(#[from] chargegrid_acn::AcnError),
    /// A scenario, network or session file is malformed or inconsistent.
    #[error("invalid {what}: {message}")]
    Invalid {
        /// Which file or part.
        what: String,
        /// What is wrong.
        message: String,
    },
    /// The target server could not be reached at all.
    #[error("cannot reach the server at {url}: {message}")]
    Unreachable {
        /// The URL tried.
        url: String,
        /// Why.
        message: String,
    },
    /// Results could not be written.
    #[error("cannot write {path}: {message}")]
    Write {
        /// The file.
        path: String,
        /// Why.
        message: String,
    },
    /// The EV model refused a request.
    #[error(transparent)]
    Battery(#[from] crate::battery::BatteryError),
}

impl SimError {
    /// An [`SimError::Invalid`] for `what`.
    pub fn invalid(what: impl Into<String>, message: impl Into<String>) -> Self {
        SimError::Invalid {
            what: what.into(),
            message: message.into(),
        }
    }
}
