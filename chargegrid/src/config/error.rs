//! Configuration errors: each names the setting and where it came from.

use std::path::PathBuf;

use thiserror::Error;

/// A configuration problem; the program stops with exit code 2 and this message.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The config file could not be read.
    #[error("cannot read config file {path}: {source}")]
    ReadFile {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The config file is not valid TOML.
    #[error("config file {path} is not valid TOML: {message}")]
    ParseFile {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// A setting we do not know.
    #[error("unknown setting {key:?} in {origin}{hint}")]
    UnknownKey {
        /// The key as written.
        key: String,
        /// File, environment variable or flag.
        origin: String,
        /// A suggestion, if a known key is close.
        hint: String,
    },
    /// A setting with a value of the wrong kind or out of range.
    #[error("invalid value for {key} from {origin}: {reason}")]
    InvalidValue {
        /// The dotted key.
        key: String,
        /// File, environment variable or flag.
        origin: String,
        /// What is wrong.
        reason: String,
    },
    /// The first operator (`admin.email`, `admin.password`) cannot be created.
    #[error("admin: {0}")]
    Admin(String),
    /// The TLS certificate, key or CA is unusable.
    #[error("ocpp TLS: {0}")]
    Tls(String),
    /// The charger CA (`ocpp.charger_ca_*`) is unusable.
    #[error("ocpp.charger_ca: {0}")]
    ChargerCa(String),
    /// The OCPP schema directory is unusable.
    #[error("ocpp.schemas_dir: {0}")]
    Schemas(String),
    /// The network file is unreadable or inconsistent.
    #[error("network file {path}: {message}")]
    Network {
        /// The file (or "built-in sample").
        path: String,
        /// What is wrong.
        message: String,
    },
}
