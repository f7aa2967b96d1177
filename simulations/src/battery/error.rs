//! Errors of the battery model: requests it cannot simulate.

use thiserror::Error;

/// Why a simulation request was refused.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum BatteryError {
    /// A request field is out of range.
    #[error("invalid session request: {0}")]
    InvalidRequest(String),
}
