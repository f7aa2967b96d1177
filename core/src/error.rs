//! Domain errors: a value that breaks a rule of the model, reported with what was wrong.

use thiserror::Error;

/// A value that breaks a rule of the domain model.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum DomainError {
    /// An identifier is empty, too long or contains characters we do not accept.
    #[error("invalid {kind} id {value:?}: {reason}")]
    InvalidId {
        /// Which kind of id (charger, site, ...).
        kind: &'static str,
        /// The rejected text (truncated to 64 characters).
        value: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// A physical quantity is outside what is possible (negative power limit, NaN, ...).
    #[error("invalid {quantity}: {reason}")]
    InvalidQuantity {
        /// Which quantity.
        quantity: &'static str,
        /// Why it was rejected.
        reason: String,
    },
    /// The network model is inconsistent (unknown parent group, duplicate id, ...).
    #[error("invalid network: {0}")]
    InvalidNetwork(String),
    /// An IP address or network that does not parse.
    #[error("invalid address: {0}")]
    InvalidAddress(String),
    /// A coordinate is outside the valid latitude/longitude range.
    #[error("invalid location: {0}")]
    InvalidLocation(String),
    /// A time zone name is not in the IANA database.
    #[error("unknown time zone {0:?}")]
    UnknownTimeZone(String),
}
