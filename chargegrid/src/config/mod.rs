//! Configuration: defaults, then a TOML file, then `CHARGEGRID_*` environment variables, then
//! command-line flags (flag > env > file > default). Every key is listed once in [`keys`], so
//! the three sources accept exactly the same settings and an unknown one is an error that
//! names where it came from.

mod error;
mod keys;
mod load;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use chargegrid_core::{Amperes, NodeId, Volts, WattHours};
use chargegrid_ocpp_gateway::GatewaySettings;
use chargegrid_scheduler::alloc::{DrawRule, Policy};
use chargegrid_scheduler::control::{ControlConfig, ModelKnobs};

pub use error::ConfigError;
pub use load::{Origin, Overrides, load, load_with_origins};

/// Every setting's dotted key and its environment variable, in the documented order.
pub fn settings() -> Vec<(&'static str, String)> {
    keys::KEYS
        .iter()
        .map(|(k, _)| (*k, keys::env_name(k)))
        .collect()
}

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
    /// Records that outlive the live store.
    pub records: RecordsConfig,
    /// Network (sites and chargers) settings.
    pub network: NetworkConfig,
    /// Logging settings.
    pub log: LogConfig,
    /// Smart-charging control loop settings.
    pub scheduler: SchedulerConfig,
    /// Vehicle health worker settings.
    pub health: HealthSettings,
    /// The first operator account.
    pub admin: AdminSettings,
}

/// The first operator: created at start while the store holds no operator (never overwritten
/// once one exists), so a fresh installation can be administered through the API at all.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AdminSettings {
    /// Its e-mail (`CHARGEGRID_ADMIN_EMAIL`).
    pub email: Option<String>,
    /// Its password (`CHARGEGRID_ADMIN_PASSWORD`; at least 10 characters, as for sign-up).
    pub password: Option<String>,
}

/// Vehicle health worker settings.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HealthSettings {
    /// Run the worker (with the scheduler role). On by default.
    pub disabled: bool,
    /// Rated pack voltage per vehicle model name: a fallback for vehicles whose registry
    /// battery gives no `nominal_voltage_v` (the registry is the place for it; a vehicle with
    /// neither a rated Ah nor a rated voltage gets no SoH figure, nothing is inferred).
    pub model_voltages: std::collections::BTreeMap<String, f64>,
    /// The estimators' thresholds and allowances (defaults documented in `HealthConfig`;
    /// set in code, e.g. by the validation tests, not from the configuration file).
    pub estimator: chargegrid_health::HealthConfig,
}

/// OCPP gateway settings.
#[derive(Debug, Clone, PartialEq)]
pub struct OcppConfig {
    /// Where chargers connect (`/ocpp/{charger_id}`).
    pub listen: SocketAddr,
    /// The gateway's tunables (`ocpp.heartbeat_interval_s`, `ocpp.call_timeout_s`, ...), declared
    /// once in the gateway crate with their defaults.
    pub gateway: GatewaySettings,
    /// Validate every payload, both directions, against the official OCA JSON schemas (on by
    /// default, with the copies built into the binary). Turning it off is an operator's
    /// explicit relaxation: payloads are then checked by their typed decoding only.
    pub schema_validation: bool,
    /// Another copy of the schemas to validate against (`v16/`, `v201/`, as in the Python
    /// `ocpp` package) instead of the built-in ones.
    pub schemas_dir: Option<PathBuf>,
    /// TLS (`wss://`, security profiles 2 and 3), when configured.
    pub tls: Option<TlsConfig>,
    /// The CA that signs chargers' certificate requests.
    pub charger_ca: ChargerCaConfig,
}

/// The CA that signs chargers' certificate signing requests (`SignCertificate`); both files or
/// neither.
#[derive(Debug, Clone, PartialEq)]
pub struct ChargerCaConfig {
    /// CA certificate, PEM (usually the same CA as `ocpp.tls_client_ca_file`).
    pub cert_file: Option<PathBuf>,
    /// CA private key, PEM.
    pub key_file: Option<PathBuf>,
    /// Lifetime of the certificates it issues.
    pub validity_days: u32,
}

/// The OCPP TLS listener (security profiles 2 and 3).
#[derive(Debug, Clone, PartialEq)]
pub struct TlsConfig {
    /// Where chargers connect with `wss://` (the plain listener keeps running).
    pub listen: SocketAddr,
    /// Server certificate chain, PEM.
    pub cert_file: PathBuf,
    /// Server private key, PEM.
    pub key_file: PathBuf,
    /// CA that signs chargers' client certificates (profile 3), PEM.
    pub client_ca_file: Option<PathBuf>,
    /// Refuse TLS clients without a client certificate.
    pub require_client_cert: bool,
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
    /// Requests per minute per account (five times this per client address before
    /// authentication).
    pub rate_limit_per_minute: u32,
    /// How long a client may take to send a request's headers (slowloris guard).
    pub header_timeout: Duration,
    /// How long a request (body and handler; live streams excepted) may take.
    pub request_timeout: Duration,
    /// Open client connections at most; more are closed at once.
    pub max_connections: usize,
    /// How often live session streams check for news.
    pub stream_interval: Duration,
    /// Requests per minute per API key.
    pub api_key_rate_limit_per_minute: u32,
    /// How long audit entries are kept.
    pub audit_retention: Duration,
    /// Reverse proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: chargegrid_core::proxies::TrustedProxies,
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
    /// `memory://`, `redis://host:port/db` or `redis-cluster://host:port,host:port,…`.
    pub url: String,
    /// How long to wait for the store at start-up.
    pub connect_timeout: Duration,
    /// How long an ended session's raw meter samples are kept (Redis).
    pub sample_retention: Duration,
}

/// Records settings.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordsConfig {
    /// `sqlite://path/to/file.db` (the default, a file beside the working directory) or
    /// `postgres://user@host:port/db`.
    pub url: String,
}

/// Where the embedded records database is kept unless `records.url` says otherwise.
pub const DEFAULT_RECORDS_URL: &str = "sqlite://chargegrid-data/records.db";

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

/// Smart-charging control loop settings (`[scheduler]`).
#[derive(Debug, Clone, PartialEq)]
pub struct SchedulerConfig {
    /// Run the control loop in `run` and `scheduler` (off: allocations are not computed and no
    /// charging profile is sent).
    pub enabled: bool,
    /// Allocation policy.
    pub policy: Policy,
    /// Periodic pass, whatever happens.
    pub period: Duration,
    /// Wait after a change notice before re-planning (bursts become one pass).
    pub debounce: Duration,
    /// Lease time to live per site; a standby takes over within it.
    pub lease_ttl: Duration,
    /// How long an offline charger's limits stay reserved.
    pub offline_hold: Duration,
    /// How long to wait for a charger's answer to a profile.
    pub command_timeout: Duration,
    /// Phase-to-neutral voltage.
    pub voltage_v: f64,
    /// Energy assumed for sessions with no stated needs, kWh.
    pub default_energy_kwh: f64,
    /// Stay assumed for sessions with no stated departure.
    pub default_dwell: Duration,
    /// Failed profile sends in a row before a charger is excluded.
    pub max_failures: u32,
    /// How long an excluded charger stays excluded.
    pub exclusion: Duration,
    /// Delay before metered draw is compared with a new limit.
    pub verify_grace: Duration,
    /// Smallest raise worth a command, amperes.
    pub min_raise_a: f64,
    /// A vehicle drawing this much (A) or `draw_share` of its limit less than the limit is
    /// taking all it can (what it takes is then learned).
    pub draw_tolerance_a: f64,
    /// What a vehicle is believed to take sits this much (A) or twice `draw_share` of its
    /// limit above what it drew; must be above `draw_tolerance_a`.
    pub draw_margin_a: f64,
    /// The share of a limit the tolerance and (twice) the margin are at least: the meter's or
    /// the supply voltage's relative error.
    pub draw_share: f64,
    /// Per charger model knobs (`[scheduler.models."MODEL"]`).
    pub models: HashMap<String, ModelKnobs>,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        let d = ControlConfig::new("");
        Self {
            enabled: true,
            policy: d.policy,
            period: d.period,
            debounce: d.debounce,
            lease_ttl: d.lease_ttl,
            offline_hold: d.offline_hold.to_std().unwrap_or_default(),
            command_timeout: d.command_timeout,
            voltage_v: d.voltage.0,
            default_energy_kwh: d.default_energy.kwh(),
            default_dwell: d.default_dwell.to_std().unwrap_or_default(),
            max_failures: d.max_failures,
            exclusion: d.exclusion.to_std().unwrap_or_default(),
            verify_grace: d.verify_grace.to_std().unwrap_or_default(),
            min_raise_a: d.min_raise.0,
            draw_tolerance_a: d.draw_rule.tolerance.0,
            draw_margin_a: d.draw_rule.margin.0,
            draw_share: d.draw_rule.share,
            models: HashMap::new(),
        }
    }
}

impl SchedulerConfig {
    /// How vehicles' draws are judged.
    pub fn draw_rule(&self) -> DrawRule {
        DrawRule {
            tolerance: Amperes(self.draw_tolerance_a),
            margin: Amperes(self.draw_margin_a),
            share: self.draw_share,
        }
    }

    /// The service's settings for the instance `holder`.
    pub fn control_config(&self, holder: &str) -> ControlConfig {
        let chrono = |d: Duration| chrono::TimeDelta::from_std(d).unwrap_or(chrono::TimeDelta::MAX);
        ControlConfig {
            policy: self.policy,
            period: self.period,
            debounce: self.debounce,
            lease_ttl: self.lease_ttl,
            offline_hold: chrono(self.offline_hold),
            command_timeout: self.command_timeout,
            voltage: Volts(self.voltage_v),
            default_energy: WattHours::from_kwh(self.default_energy_kwh),
            default_dwell: chrono(self.default_dwell),
            max_failures: self.max_failures,
            exclusion: chrono(self.exclusion),
            verify_grace: chrono(self.verify_grace),
            min_raise: Amperes(self.min_raise_a),
            draw_rule: self.draw_rule(),
            models: self.models.clone(),
            ..ControlConfig::new(holder)
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        let suffix = uuid::Uuid::new_v4().simple().to_string();
        Self {
            node_id: NodeId::new(format!("node-{}", &suffix[..8]))
                .unwrap_or_else(|_| unreachable!("hex suffix is a valid id")),
            ocpp: OcppConfig {
                listen: SocketAddr::from(([0, 0, 0, 0], 9000)),
                gateway: GatewaySettings::default(),
                schema_validation: true,
                schemas_dir: None,
                tls: None,
                charger_ca: ChargerCaConfig {
                    cert_file: None,
                    key_file: None,
                    validity_days: 365,
                },
            },
            api: ApiConfig {
                listen: SocketAddr::from(([0, 0, 0, 0], 8080)),
                cors_origins: Vec::new(),
                max_body_bytes: 64 * 1024,
                rate_limit_per_minute: 600,
                header_timeout: Duration::from_secs(10),
                request_timeout: Duration::from_secs(30),
                max_connections: 10_000,
                stream_interval: Duration::from_secs(2),
                api_key_rate_limit_per_minute: 600,
                audit_retention: Duration::from_secs(365 * 86_400),
                trusted_proxies: chargegrid_core::proxies::TrustedProxies::default(),
            },
            metrics: MetricsConfig {
                listen: SocketAddr::from(([0, 0, 0, 0], 9100)),
            },
            store: StoreConfig {
                url: "memory://".to_string(),
                connect_timeout: Duration::from_secs(3),
                sample_retention: chargegrid_store::redis::DEFAULT_SAMPLE_RETENTION,
            },
            records: RecordsConfig {
                url: DEFAULT_RECORDS_URL.to_string(),
            },
            network: NetworkConfig { file: None },
            log: LogConfig {
                level: "info".to_string(),
                format: LogFormat::Text,
            },
            scheduler: SchedulerConfig::default(),
            health: HealthSettings::default(),
            admin: AdminSettings::default(),
        }
    }
}
