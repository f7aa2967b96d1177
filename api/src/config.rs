//! API settings, filled by the binary from its configuration.

use std::time::Duration;

/// What the API needs to know.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Lifetime of access tokens.
    pub access_ttl: Duration,
    /// Lifetime of refresh tokens.
    pub refresh_ttl: Duration,
    /// Origins allowed by CORS (empty: no CORS headers).
    pub cors_origins: Vec<String>,
    /// Largest request body.
    pub max_body_bytes: usize,
    /// Requests per minute allowed per account; before authentication, five times this per
    /// client address.
    pub rate_limit_per_minute: u32,
    /// How long a client may take to send a request's headers before its socket is closed.
    pub header_timeout: Duration,
    /// How long a request (reading its body and running its handler) may take; live session
    /// streams are exempt (they end with the session or the login).
    pub request_timeout: Duration,
    /// Open client connections at most; more are closed at once.
    pub max_connections: usize,
    /// How often a live session stream checks for news.
    pub stream_interval: Duration,
    /// How long a command to a charger may take before the API gives up.
    pub command_timeout: Duration,
    /// Average driving speed used to estimate travel time to a station, km/h.
    pub travel_speed_kmh: f64,
    /// Requests per minute allowed per API key (each key has its own bucket).
    pub api_key_rate_limit_per_minute: u32,
    /// How long audit entries are kept.
    pub audit_retention: Duration,
    /// Reverse proxies in front of the API: behind them the client's address (for the
    /// per-address rate limit) is taken from `X-Forwarded-For`.
    pub trusted_proxies: chargegrid_core::proxies::TrustedProxies,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            access_ttl: Duration::from_secs(15 * 60),
            refresh_ttl: Duration::from_secs(30 * 24 * 3600),
            cors_origins: Vec::new(),
            max_body_bytes: 64 * 1024,
            rate_limit_per_minute: 600,
            header_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_connections: 10_000,
            stream_interval: Duration::from_secs(2),
            command_timeout: Duration::from_secs(30),
            travel_speed_kmh: 30.0,
            api_key_rate_limit_per_minute: 600,
            audit_retention: Duration::from_secs(365 * 24 * 3600),
            trusted_proxies: chargegrid_core::proxies::TrustedProxies::default(),
        }
    }
}
