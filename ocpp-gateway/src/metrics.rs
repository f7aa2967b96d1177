//! The gateway's Prometheus metrics, registered in a registry passed in (so test servers in
//! one process do not share counters). Labels are bounded: version, action, outcome, code,
//! reason — never a charger id.

use prometheus::{
    HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
};

/// Gateway metrics.
#[derive(Debug, Clone)]
pub struct GatewayMetrics {
    /// Open charger connections by OCPP version.
    pub connected: IntGaugeVec,
    /// Connections opened, by version.
    pub opened: IntCounterVec,
    /// Connections closed, by reason.
    pub closed: IntCounterVec,
    /// CALLs received from chargers, by version, action and outcome.
    pub calls_received: IntCounterVec,
    /// CALLERRORs sent, by version and code.
    pub call_errors: IntCounterVec,
    /// Frames rejected before reaching a handler, by reason.
    pub frames_rejected: IntCounterVec,
    /// Handling latency by action.
    pub handle_seconds: HistogramVec,
    /// Handshakes refused, by reason.
    pub handshakes_refused: IntCounterVec,
    /// Meter-data messages by how they found their session (exact, reconciled, orphan).
    pub meter_values: IntCounterVec,
    /// Meter readings ignored, by kind (backwards register, unreadable value).
    pub register_anomalies: IntCounterVec,
    /// CALLs sent to chargers, by version, action and outcome (accepted, rejected, call_error,
    /// timeout, invalid).
    pub calls_sent: IntCounterVec,
    /// CALLs sent and not yet answered.
    pub outstanding: IntGauge,
    /// Connectors of chargers connected to this node, by last reported status.
    pub connectors: IntGaugeVec,
    /// Sessions started minus ended on this node, by site (sum over nodes = active sessions).
    pub active_sessions: IntGaugeVec,
    /// Energy of ended sessions, by site, in joules (Prometheus base unit; 1 kWh = 3.6 MJ).
    pub energy_delivered: prometheus::CounterVec,
    /// Charger certificate requests and installs by outcome (signed, refused_subject,
    /// refused_unreadable, no_ca, installed, install_refused, install_failed).
    pub certificates: IntCounterVec,
    /// Security events reported by chargers, by type (the types of the 1.6 security extension
    /// and 2.0.1; anything else is "other").
    pub security_events: IntCounterVec,
    /// Commands from the bus not sent to a charger, by reason (queue_full: more than
    /// `max_queued_commands` waiting behind its outstanding CALL; offline: no socket here).
    pub commands_refused: IntCounterVec,
}

impl GatewayMetrics {
    /// Creates and registers the metrics.
    pub fn new(registry: &Registry) -> prometheus::Result<Self> {
        let m = Self {
            connected: IntGaugeVec::new(
                Opts::new(
                    "chargegrid_ocpp_connected_chargers",
                    "Open charger connections",
                ),
                &["ocpp_version"],
            )?,
            opened: IntCounterVec::new(
                Opts::new(
                    "chargegrid_ocpp_connections_opened_total",
                    "Charger connections opened",
                ),
                &["ocpp_version"],
            )?,
            closed: IntCounterVec::new(
                Opts::new(
                    "chargegrid_ocpp_connections_closed_total",
                    "Charger connections closed",
                ),
                &["reason"],
            )?,
            calls_received: IntCounterVec::new(
                Opts::new(
                    "chargegrid_ocpp_calls_received_total",
                    "CALLs received from chargers",
                ),
                &["ocpp_version", "action", "outcome"],
            )?,
            call_errors: IntCounterVec::new(
                Opts::new(
                    "chargegrid_ocpp_call_errors_sent_total",
                    "CALLERRORs sent to chargers",
                ),
                &["ocpp_version", "code"],
            )?,
            frames_rejected: IntCounterVec::new(
                Opts::new(
                    "chargegrid_ocpp_frames_rejected_total",
                    "Frames rejected before handling",
                ),
                &["reason"],
            )?,
            handle_seconds: HistogramVec::new(
                HistogramOpts::new(
                    "chargegrid_ocpp_call_handling_seconds",
                    "Time to answer a charger's CALL",
                )
                .buckets(vec![
                    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
                ]),
                &["action"],
            )?,
            handshakes_refused: IntCounterVec::new(
                Opts::new(
                    "chargegrid_ocpp_handshakes_refused_total",
                    "WebSocket handshakes refused",
                ),
                &["reason"],
            )?,
            meter_values: IntCounterVec::new(
                Opts::new(
                    "chargegrid_ocpp_meter_messages_total",
                    "Meter values and stops by how their session was found",
                ),
                &["match"],
            )?,
            register_anomalies: IntCounterVec::new(
                Opts::new(
                    "chargegrid_ocpp_meter_readings_ignored_total",
                    "Meter readings ignored",
                ),
                &["kind"],
            )?,
            calls_sent: IntCounterVec::new(
                Opts::new("chargegrid_ocpp_calls_sent_total", "CALLs sent to chargers"),
                &["ocpp_version", "action", "outcome"],
            )?,
            outstanding: IntGauge::new(
                "chargegrid_ocpp_outstanding_calls",
                "CALLs sent to chargers and not yet answered",
            )?,
            connectors: IntGaugeVec::new(
                Opts::new(
                    "chargegrid_connectors",
                    "Connectors of connected chargers by status",
                ),
                &["status"],
            )?,
            active_sessions: IntGaugeVec::new(
                Opts::new(
                    "chargegrid_sessions_active",
                    "Charging sessions in progress",
                ),
                &["site"],
            )?,
            energy_delivered: prometheus::CounterVec::new(
                Opts::new(
                    "chargegrid_energy_delivered_joules_total",
                    "Energy of ended sessions",
                ),
                &["site"],
            )?,
            certificates: IntCounterVec::new(
                Opts::new(
                    "chargegrid_ocpp_certificates_total",
                    "Charger certificate signing requests and installs",
                ),
                &["outcome"],
            )?,
            security_events: IntCounterVec::new(
                Opts::new(
                    "chargegrid_ocpp_security_events_total",
                    "Security events reported by chargers",
                ),
                &["type"],
            )?,
            commands_refused: IntCounterVec::new(
                Opts::new(
                    "chargegrid_ocpp_commands_refused_total",
                    "Commands not sent to a charger",
                ),
                &["reason"],
            )?,
        };
        registry.register(Box::new(m.commands_refused.clone()))?;
        registry.register(Box::new(m.certificates.clone()))?;
        registry.register(Box::new(m.security_events.clone()))?;
        registry.register(Box::new(m.meter_values.clone()))?;
        registry.register(Box::new(m.calls_sent.clone()))?;
        registry.register(Box::new(m.outstanding.clone()))?;
        registry.register(Box::new(m.connectors.clone()))?;
        registry.register(Box::new(m.active_sessions.clone()))?;
        registry.register(Box::new(m.energy_delivered.clone()))?;
        registry.register(Box::new(m.register_anomalies.clone()))?;
        registry.register(Box::new(m.connected.clone()))?;
        registry.register(Box::new(m.opened.clone()))?;
        registry.register(Box::new(m.closed.clone()))?;
        registry.register(Box::new(m.calls_received.clone()))?;
        registry.register(Box::new(m.call_errors.clone()))?;
        registry.register(Box::new(m.frames_rejected.clone()))?;
        registry.register(Box::new(m.handle_seconds.clone()))?;
        registry.register(Box::new(m.handshakes_refused.clone()))?;
        m.touch_known();
        Ok(m)
    }

    /// Creates every series whose labels are known in advance, at 0, so rates and alerts work
    /// before the first event (a family that is absent until its first event looks like no
    /// data to Prometheus).
    fn touch_known(&self) {
        use chargegrid_core::network::OcppVersion;
        let versions = [OcppVersion::V16, OcppVersion::V201];
        for v in versions {
            self.connected.with_label_values(&[v.label()]);
            self.opened.with_label_values(&[v.label()]);
            self.calls_received
                .with_label_values(&[v.label(), "Heartbeat", "ok"]);
            self.calls_sent
                .with_label_values(&[v.label(), "SetChargingProfile", "accepted"]);
            for code in chargegrid_ocpp::ErrorCode::ALL {
                self.call_errors
                    .with_label_values(&[v.label(), code.as_str(v)]);
            }
        }
        for reason in [
            "charger_closed",
            "socket_error",
            "ping_timeout",
            "replaced",
            "shutdown",
            "taken_over",
            "removed",
        ] {
            self.closed.with_label_values(&[reason]);
        }
        for reason in [
            "bad_charger_id",
            "no_subprotocol",
            "too_many_connections",
            "auth_backoff",
            "store_unavailable",
            "unknown_charger",
            "certificate_mismatch",
            "security_profile",
            "no_credentials_configured",
            "auth",
            "auth_busy",
            "timeout",
            "tls",
            "proxy_header",
        ] {
            self.handshakes_refused.with_label_values(&[reason]);
        }
        for reason in [
            "binary",
            "rate_limited",
            "invalid_answer",
            "malformed",
            "own_answer_invalid",
            "schema",
            "tolerated",
            "too_large",
            "unknown_connector",
        ] {
            self.frames_rejected.with_label_values(&[reason]);
        }
        for matched in ["exact", "reconciled", "orphan"] {
            self.meter_values.with_label_values(&[matched]);
        }
        self.handle_seconds.with_label_values(&["Heartbeat"]);
        for status in [
            "Available",
            "Preparing",
            "Charging",
            "SuspendedEV",
            "SuspendedEVSE",
            "Finishing",
            "Reserved",
            "Unavailable",
            "Faulted",
            "Occupied",
            "other",
        ] {
            self.connectors.with_label_values(&[status]);
        }
    }

    /// Creates a site's series at 0 (the binary calls it for every site of the network).
    pub fn touch_site(&self, site: &str) {
        self.active_sessions.with_label_values(&[site]);
        self.energy_delivered.with_label_values(&[site]);
    }
}
