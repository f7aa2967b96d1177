//! The API's Prometheus metrics: requests by route template and status, latency, accounts,
//! reservations, recommendations, rate-limit refusals. Labels are bounded (route templates,
//! not URLs).

use prometheus::{HistogramOpts, HistogramVec, IntCounter, IntCounterVec, Opts, Registry};

/// API metrics.
#[derive(Debug, Clone)]
pub struct ApiMetrics {
    /// Requests by method, route template and status.
    pub requests: IntCounterVec,
    /// Latency by route template.
    pub latency: HistogramVec,
    /// Account events (signup, login, login_failed).
    pub accounts: IntCounterVec,
    /// Reservations created and cancelled.
    pub reservations: IntCounterVec,
    /// Recommendations answered.
    pub recommendations: IntCounter,
    /// Requests refused by the rate limiter.
    pub rate_limited: IntCounter,
    /// Connections closed because their request headers did not arrive in time.
    pub header_timeouts: IntCounter,
    /// Requests answered 503 because body and handler took longer than `request_timeout`.
    pub request_timeouts: IntCounter,
    /// Connections closed at once because `max_connections` were open.
    pub connections_refused: IntCounter,
    /// Audit entries that could not be written.
    pub audit_failures: IntCounter,
}

impl ApiMetrics {
    /// Creates and registers the metrics.
    pub fn new(registry: &Registry) -> prometheus::Result<Self> {
        let m = Self {
            requests: IntCounterVec::new(
                Opts::new("chargegrid_api_requests_total", "API requests"),
                &["method", "route", "status"],
            )?,
            latency: HistogramVec::new(
                HistogramOpts::new(
                    "chargegrid_api_request_duration_seconds",
                    "API request latency",
                )
                .buckets(vec![
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                ]),
                &["route"],
            )?,
            accounts: IntCounterVec::new(
                Opts::new(
                    "chargegrid_api_account_events_total",
                    "Sign-ups, logins and API keys created and revoked",
                ),
                &["event"],
            )?,
            reservations: IntCounterVec::new(
                Opts::new(
                    "chargegrid_api_reservations_total",
                    "Reservations created and cancelled",
                ),
                &["event"],
            )?,
            recommendations: IntCounter::new(
                "chargegrid_api_recommendations_total",
                "Dispatch recommendations answered",
            )?,
            rate_limited: IntCounter::new(
                "chargegrid_api_rate_limited_total",
                "Requests refused by the rate limiter",
            )?,
            header_timeouts: IntCounter::new(
                "chargegrid_api_header_timeouts_total",
                "Connections closed because request headers did not arrive in time",
            )?,
            request_timeouts: IntCounter::new(
                "chargegrid_api_request_timeouts_total",
                "Requests answered 503 because they took longer than the request timeout",
            )?,
            connections_refused: IntCounter::new(
                "chargegrid_api_connections_refused_total",
                "Connections closed at once because the connection cap was reached",
            )?,
            audit_failures: IntCounter::new(
                "chargegrid_api_audit_failures_total",
                "Operator or fleet-manager actions whose audit entry could not be written",
            )?,
        };
        registry.register(Box::new(m.requests.clone()))?;
        registry.register(Box::new(m.audit_failures.clone()))?;
        registry.register(Box::new(m.request_timeouts.clone()))?;
        registry.register(Box::new(m.connections_refused.clone()))?;
        registry.register(Box::new(m.latency.clone()))?;
        registry.register(Box::new(m.accounts.clone()))?;
        registry.register(Box::new(m.reservations.clone()))?;
        registry.register(Box::new(m.recommendations.clone()))?;
        registry.register(Box::new(m.rate_limited.clone()))?;
        registry.register(Box::new(m.header_timeouts.clone()))?;
        // The families exist from the start (a request series per route appears with its first
        // request; this one makes the family visible to rates and alerts at once).
        m.requests
            .with_label_values(&["GET", "/api/v1/health", "200"]);
        for event in [
            "signup",
            "login",
            "login_failed",
            "login_throttled",
            "api_key_created",
            "api_key_revoked",
        ] {
            m.accounts.with_label_values(&[event]);
        }
        Ok(m)
    }
}
