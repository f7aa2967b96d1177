//! Errors of the health crate: only malformed inputs are errors; poor data is a quality flag.

use thiserror::Error;

/// Why a health computation refused its input.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum HealthError {
    /// The session has no meter samples at all.
    #[error("session {0} has no meter samples")]
    NoSamples(String),
    /// The session ends before it starts.
    #[error("session {0} ends before it starts")]
    EndsBeforeStart(String),
    /// Session features were offered to the state of another vehicle.
    #[error("session {session} belongs to vehicle {found}, not {expected}")]
    WrongVehicle {
        /// The session.
        session: String,
        /// The vehicle whose state was updated.
        expected: String,
        /// The vehicle named in the features.
        found: String,
    },
    /// Validation inputs do not line up (a vehicle without truth, or duplicated).
    #[error("validation input mismatch: {0}")]
    ValidationMismatch(String),
}
