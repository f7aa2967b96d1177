//! Gateway settings, filled by the binary from its configuration.

use std::sync::Arc;
use std::time::Duration;

use chargegrid_core::NodeId;
use chargegrid_ocpp::schema::Schemas;

/// The gateway's tunables: what an operator sets (`[ocpp]` in the configuration file), with
/// the defaults chargegrid ships. Declared once: the binary's configuration holds this struct.
#[derive(Debug, Clone, PartialEq)]
pub struct GatewaySettings {
    /// Accept chargers that are not in the network (development).
    pub allow_unknown_chargers: bool,
    /// Heartbeat interval given to chargers.
    pub heartbeat_interval: Duration,
    /// How long a CALL to a charger waits for its answer.
    pub call_timeout: Duration,
    /// Largest text frame handled; a larger one (up to 4× this) gets a CALLERROR, anything
    /// beyond closes the connection.
    pub max_frame_bytes: usize,
    /// Interval of WebSocket pings; a socket that answers none for two intervals is dead.
    pub ping_interval: Duration,
    /// Authorise id tags the network does not know (development and demos).
    pub accept_unknown_id_tags: bool,
    /// Sustained frames per second one charger may send; faster ones are slowed down (their
    /// socket is not read until the budget refills), never refused. Bursts of ten times this
    /// pass (a charger replaying its offline queue).
    pub max_messages_per_second: u32,
    /// Open charger connections allowed from one IP address (chargers behind one carrier NAT
    /// share addresses, so the default is generous).
    pub max_connections_per_ip: usize,
    /// How long a WebSocket handshake (TLS, then the HTTP upgrade request) may take before the
    /// socket is dropped: the slowloris guard.
    pub handshake_timeout: Duration,
    /// Commands that may wait for one charger behind its one outstanding CALL; more get a quick
    /// `Timeout` (counted) so one slow charger cannot hold a sender up.
    pub max_queued_commands: usize,
    /// Wrong passwords from one address within a minute after which that address waits
    /// [`auth_backoff`](Self::auth_backoff) before any more of its attempts are checked (0:
    /// never).
    pub auth_failures_before_backoff: u32,
    /// How long an address that kept failing waits (answered 429 with `Retry-After`).
    pub auth_backoff: Duration,
    /// Password checks (Argon2) running at once; more wait, up to the handshake timeout.
    pub max_concurrent_password_checks: usize,
    /// After each accepted boot, read the charger's settings (1.6 GetConfiguration of every
    /// key, 2.0.1 GetBaseReport ConfigurationInventory) and keep them for operators.
    pub read_settings_at_boot: bool,
    /// Load balancers in front of the OCPP listener: their connections start with a PROXY
    /// protocol header (version 1 or 2) naming the charger's address.
    pub trusted_proxies: chargegrid_core::proxies::TrustedProxies,
}

impl Default for GatewaySettings {
    fn default() -> Self {
        Self {
            allow_unknown_chargers: false,
            heartbeat_interval: Duration::from_secs(300),
            call_timeout: Duration::from_secs(30),
            max_frame_bytes: 64 * 1024,
            ping_interval: Duration::from_secs(25),
            accept_unknown_id_tags: false,
            max_messages_per_second: 50,
            max_connections_per_ip: 5_000,
            handshake_timeout: Duration::from_secs(10),
            max_queued_commands: 64,
            auth_failures_before_backoff: 10,
            auth_backoff: Duration::from_secs(60),
            max_concurrent_password_checks: 4,
            read_settings_at_boot: true,
            trusted_proxies: chargegrid_core::proxies::TrustedProxies::default(),
        }
    }
}

/// What the gateway needs to know: its node, its settings, and what the binary loaded for it.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// This node's id (recorded as the owner of its chargers' sockets).
    pub node: NodeId,
    /// Official OCA schemas to validate every payload against; without them payloads are
    /// only checked by their typed decoding.
    pub schemas: Option<Arc<Schemas>>,
    /// The CA that signs chargers' certificate requests (`SignCertificate`); without it they
    /// are answered `Rejected`.
    pub charger_ca: Option<Arc<crate::certificates::ChargerCa>>,
    /// The tunables.
    pub settings: GatewaySettings,
}

impl GatewayConfig {
    /// Defaults for a node.
    pub fn new(node: NodeId) -> Self {
        Self {
            node,
            schemas: None,
            charger_ca: None,
            settings: GatewaySettings::default(),
        }
    }

    /// How long the connection registry entry lives without a refresh.
    pub fn registry_ttl(&self) -> Duration {
        self.settings.ping_interval * 3
    }
}
