//! Which chargegrid node holds each charger's WebSocket: written by gateways, read by anyone
//! who sends a command. Entries expire unless refreshed, so a crashed node's chargers are
//! released by themselves.

use std::time::Duration;

use async_trait::async_trait;
use chargegrid_core::device::{DeviceState, Operation, OperationStatus, Setting};
use chargegrid_core::{ChargerId, NodeId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::StoreResult;

/// What a charger said about itself in its last BootNotification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BootInfo {
    /// Vendor.
    pub vendor: String,
    /// Model.
    pub model: String,
    /// Serial number, if sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial_number: Option<String>,
    /// Firmware version, if sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firmware_version: Option<String>,
    /// OCPP version spoken on that connection.
    pub ocpp_version: chargegrid_core::network::OcppVersion,
    /// When (UTC).
    pub booted_at: DateTime<Utc>,
}

/// Charger → node ownership, with a time to live.
#[async_trait]
pub trait ConnectionRegistry: Send + Sync {
    /// Records that `node` now holds the charger's socket (replacing any previous owner).
    async fn register_connection(
        &self,
        charger: &ChargerId,
        node: &NodeId,
        ttl: Duration,
    ) -> StoreResult<()>;

    /// Extends the entry if `node` still owns it; returns false if another node took over or
    /// the entry expired (the caller should then re-register or drop the socket).
    async fn refresh_connection(
        &self,
        charger: &ChargerId,
        node: &NodeId,
        ttl: Duration,
    ) -> StoreResult<bool>;

    /// Removes the entry only if `node` still owns it (a late disconnect on an old node must not
    /// unregister the new connection); returns whether it was removed.
    async fn unregister_connection(&self, charger: &ChargerId, node: &NodeId) -> StoreResult<bool>;

    /// The node holding the charger's socket, if any.
    async fn locate(&self, charger: &ChargerId) -> StoreResult<Option<NodeId>>;

    /// Records the charger's last BootNotification.
    async fn put_boot_info(&self, charger: &ChargerId, info: &BootInfo) -> StoreResult<()>;

    /// The charger's last BootNotification.
    async fn boot_info(&self, charger: &ChargerId) -> StoreResult<Option<BootInfo>>;

    /// Records a refused charger handshake; only the latest [`REFUSALS_KEPT`] are kept.
    async fn record_refusal(&self, refusal: &RefusedHandshake) -> StoreResult<()>;

    /// The latest refused handshakes of every node, newest first, at most `limit`.
    async fn recent_refusals(&self, limit: usize) -> StoreResult<Vec<RefusedHandshake>>;

    /// Records the latest status of a charger's firmware update or upload (replacing the
    /// previous one of that operation).
    async fn record_operation_status(
        &self,
        charger: &ChargerId,
        operation: Operation,
        status: &OperationStatus,
    ) -> StoreResult<()>;

    /// Records when a charger was last seen: when a connection of it ended (while connected it
    /// is seen now). Keeps the later of the stored and the given time.
    async fn record_last_seen(&self, charger: &ChargerId, at: DateTime<Utc>) -> StoreResult<()>;

    /// When the charger's last connection ended, if one did.
    async fn last_seen(&self, charger: &ChargerId) -> StoreResult<Option<DateTime<Utc>>>;

    /// Records settings a charger reported: each replaces the stored one with its key; keys
    /// not given are kept. At most [`SETTINGS_KEPT`] keys per charger are kept (the first
    /// reported win).
    async fn record_settings(&self, charger: &ChargerId, settings: &[Setting]) -> StoreResult<()>;

    /// What is kept of a charger's device state (empty for a charger that never reported).
    async fn device_state(&self, charger: &ChargerId) -> StoreResult<DeviceState>;

    /// Forgets a charger's device state (it was deleted from the network).
    async fn forget_device_state(&self, charger: &ChargerId) -> StoreResult<()>;
}

/// Settings kept per charger at most (a 2.0.1 device model has hundreds of variables; a
/// charger cannot grow the store without bound).
pub const SETTINGS_KEPT: usize = 2_000;

/// Refused handshakes kept (the oldest go first).
pub const REFUSALS_KEPT: usize = 1_000;

/// A charger handshake the gateway refused: what an operator needs to see why a charger
/// cannot connect (wrong URL or id, bad password, subprotocol, TLS).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefusedHandshake {
    /// When (UTC).
    pub at: DateTime<Utc>,
    /// The charger id as asked for (at most 64 characters, as sent; may not be a valid id).
    pub charger: String,
    /// The client's address, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote: Option<String>,
    /// Why (the `chargegrid_ocpp_handshakes_refused_total` reason).
    pub reason: String,
    /// The gateway node that refused it.
    pub node: NodeId,
}
