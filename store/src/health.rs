//! Vehicle-health results. Their shape belongs to the health crate, so they are stored as
//! JSON documents keyed by vehicle and indexed by fleet.

use async_trait::async_trait;
use chargegrid_core::{FleetId, SessionId, VehicleId};

use crate::StoreResult;

/// Per-session features and per-vehicle reports.
#[async_trait]
pub trait HealthStore: Send + Sync {
    /// Stores the features computed from one session of a vehicle (replacing earlier ones for
    /// the same session, so recomputation is idempotent).
    async fn put_session_features(
        &self,
        vehicle: &VehicleId,
        session: &SessionId,
        features: &serde_json::Value,
    ) -> StoreResult<()>;

    /// All stored session features of a vehicle, in session id order.
    async fn session_features(&self, vehicle: &VehicleId) -> StoreResult<Vec<serde_json::Value>>;

    /// Stores a vehicle's latest report, listed under its fleet when it has one.
    async fn put_vehicle_report(
        &self,
        vehicle: &VehicleId,
        fleet: Option<&FleetId>,
        report: &serde_json::Value,
    ) -> StoreResult<()>;

    /// A vehicle's latest report.
    async fn vehicle_report(&self, vehicle: &VehicleId) -> StoreResult<Option<serde_json::Value>>;

    /// The latest reports of a fleet's vehicles, in vehicle id order.
    async fn fleet_reports(&self, fleet: &FleetId) -> StoreResult<Vec<serde_json::Value>>;
}
