//! What a handler may use and change while answering a CALL: the gateway, the charger, its
//! version and configuration, and the per-connection state the handlers keep (sequence numbers,
//! connector statuses, needs waiting for their transaction, CALLs to send after the answer).

use chargegrid_core::ChargerId;
use chargegrid_core::network::OcppVersion;

use crate::Gateway;

/// What a handler may use and change while answering a CALL.
pub(crate) struct ConnectionContext {
    pub gateway: Gateway,
    pub charger: ChargerId,
    pub version: OcppVersion,
    /// The charger's configuration, `None` for an unknown charger (allowed in development).
    pub config: Option<chargegrid_core::network::Charger>,
    /// When this connection opened (UTC); messages stamped well before it were queued offline.
    pub connected_at: chrono::DateTime<chrono::Utc>,
    /// The OCPP security profile this connection was made with: 0 (no credentials), 1
    /// (Basic password over plain WebSocket), 2 (TLS and password) or 3 (TLS client
    /// certificate).
    pub security_profile: u8,
    /// The charger's open sessions as this connection last wrote them, by OCPP transaction id:
    /// the connection is the only writer of its charger's sessions (the API and scheduler keep
    /// their own documents), so a message about a known transaction needs no read. Filled and
    /// refreshed only after a successful write, emptied of a session on any failed one.
    pub live:
        std::sync::Mutex<std::collections::HashMap<String, chargegrid_core::session::Session>>,
    /// 2.0.1: the last TransactionEvent sequence number per open transaction.
    pub seq_nos: std::collections::HashMap<String, i64>,
    /// The last status label counted for each connector (for the connectors gauge).
    pub statuses: std::collections::HashMap<chargegrid_core::ConnectorId, &'static str>,
    /// The time of the status this connection last stored for each connector (connector 0
    /// too): while it holds the charger it is the only writer, so a later report is stored
    /// without reading the stored one first (#20).
    pub status_written:
        std::collections::HashMap<chargegrid_core::ConnectorId, chrono::DateTime<chrono::Utc>>,
    /// 2.0.1: EV needs that arrived before their transaction started, by EVSE.
    pub pending_needs:
        std::collections::HashMap<chargegrid_core::EvseId, chargegrid_store::EvNeeds>,
    /// CALLs a handler wants sent to the charger after its answer (e.g. `CertificateSigned`
    /// after `SignCertificate`).
    pub follow_ups: Vec<chargegrid_core::command::ChargerCommand>,
}

impl ConnectionContext {
    /// The session of `transaction_id` as this connection last wrote it.
    pub fn live_session(&self, transaction_id: &str) -> Option<chargegrid_core::session::Session> {
        self.live
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(transaction_id)
            .cloned()
    }

    /// Remembers `session` as written (an ended one is forgotten).
    pub fn wrote(&self, session: &chargegrid_core::session::Session) {
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        if session.is_active() {
            live.insert(session.transaction_id.clone(), session.clone());
        } else {
            live.remove(&session.transaction_id);
        }
    }

    /// Forgets a session whose write failed (what the store holds is not known).
    pub fn forget(&self, transaction_id: &str) {
        self.live
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(transaction_id);
    }

    /// Whether something stamped `at` happened before this connection (allowing a minute of
    /// clock skew), i.e. while the charger was offline.
    pub fn happened_offline(&self, at: chrono::DateTime<chrono::Utc>) -> bool {
        at + chrono::Duration::seconds(60) < self.connected_at
    }
}
