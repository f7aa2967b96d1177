//! Configuration: defaults, then a TOML file, then `CHARGEGRID_*` environment variables, then
//! command-line flags (flag > env > file > default). Every key is listed once in [`keys`], so
//! the three sources accept exactly the same settings and an unknown one is an error that
//! names where it came from.

mod error;
mod keys;
mod load;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use chargegrid_core::NodeId;

pub use error::ConfigError;
pub use load::{Overrides, load};

/// The whole configuration, with safe defaults for everything.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// This process's id in the cluster (default: `node-` and a random suffix).
    pub node_id: NodeId,
    /// OCPP gateway settings.
    pub ocpp: OcppConfig,
    /// Driver API settings.
    pub api: ApiConfig,
    /// Metrics endpoint settings.
    pub metrics: MetricsConfig,
    /// Store settings.
    pub store: StoreConfig,
    /// Network (sites and chargers) settings.
    pub network: NetworkConfig,
    /// Logging settings.
    pub log: LogConfig,
}

/// OCPP gateway settings.
#[derive(Debug, Clone, PartialEq)]
pub struct OcppConfig {
    /// Where chargers connect (`/ocpp/{charger_id}`).
    pub listen: SocketAddr,
    /// Accept chargers that are not in the network (development only).
    pub allow_unknown_chargers: bool,
    /// Heartbeat interval given to chargers in BootNotification.
    pub heartbeat_interval: Duration,
    /// How long a CSMS → charger CALL may wait for its answer.
    pub call_timeout: Duration,
    /// Largest WebSocket frame accepted from a charger.
    pub max_frame_bytes: usize,
    /// Interval of WebSocket pings to chargers; two unanswered intervals close the socket.
    pub ping_interval: Duration,
    /// Authorise id tags the network does not know (development and demos).
    pub accept_unknown_id_tags: bool,
    /// Directory with the official OCA JSON schemas (`v16/`, `v201/`, as in the Python `ocpp`
    /// package); every payload is validated against them when set.
    pub schemas_dir: Option<PathBuf>,
}

/// Driver API settings.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiConfig {
    /// Where the API listens (`/api/v1`).
    pub listen: SocketAddr,
    /// Origins allowed by CORS (empty: none).
    pub cors_origins: Vec<String>,
    /// Largest request body.
    pub max_body_bytes: usize,
    /// Requests per minute per token (or IP).
    pub rate_limit_per_minute: u32,
    /// How often live session streams check for news.
    pub stream_interval: Duration,
}

/// Metrics endpoint settings.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricsConfig {
    /// Where `/metrics` is served.
    pub listen: SocketAddr,
}

/// Store settings.
#[derive(Debug, Clone, PartialEq)]
pub struct StoreConfig {
    /// `memory://` or `redis://host:port/db`.
    pub url: String,
    /// How long to wait for the store at start-up.
    pub connect_timeout: Duration,
}

/// Network settings.
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkConfig {
    /// A network TOML file; when absent the built-in sample network is used if the store has
    /// no sites yet.
    pub file: Option<PathBuf>,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Logging settings.
#[derive(Debug, Clone, PartialEq)]
pub struct LogConfig {
    /// A `tracing` filter (`info`, `chargegrid=debug,warn`, ...).
    pub level: String,
    /// Output format.
    pub format: LogFormat,
}

impl Default for Config {
    fn default() -> Self {
        let suffix = uuid::Uuid::new_v4().simple().to_string();
        Self {
            node_id: NodeId::new(format!("node-{}", &suffix[..8]))
                .unwrap_or_else(|_| unreachable!("hex suffix is a valid id")),
            ocpp: OcppConfig {
                listen: SocketAddr::from(([0, 0, 0, 0], 9000)),
                allow_unknown_chargers: false,
                heartbeat_interval: Duration::from_secs(300),
                call_timeout: Duration::from_secs(30),
                max_frame_bytes: 64 * 1024,
                ping_interval: Duration::from_secs(25),
                accept_unknown_id_tags: false,
                schemas_dir: None,
            },
            api: ApiConfig {
                listen: SocketAddr::from(([0, 0, 0, 0], 8080)),
                cors_origins: Vec::new(),
                max_body_bytes: 64 * 1024,
                rate_limit_per_minute: 600,
                stream_interval: Duration::from_secs(2),
            },
            metrics: MetricsConfig {
                listen: SocketAddr::from(([0, 0, 0, 0], 9100)),
            },
            store: StoreConfig {
                url: "memory://".to_string(),
                connect_timeout: Duration::from_secs(3),
            },
            network: NetworkConfig { file: None },
            log: LogConfig {
                level: "info".to_string(),
                format: LogFormat::Text,
            },
        }
    }
}
