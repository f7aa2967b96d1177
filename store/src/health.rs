//! Vehicle-health results. Their shape belongs to the health crate, so they are stored as
//! JSON documents keyed by vehicle and indexed by fleet.

use async_trait::async_trait;
use chargegrid_core::{FleetId, SessionId, VehicleId};

use crate::StoreResult;

/// Names of the fleet documents the health worker writes and the API serves.
pub mod documents {
    /// The roll-up table (a JSON array of rows: vehicle, SoH, interval, grade, trend, alerts).
    pub const ROWS: &str = "rows.json";
    /// The table as CSV.
    pub const CSV: &str = "report.csv";
    /// SoH over time, SVG.
    pub const CHART: &str = "soh.svg";
    /// Chargers whose DC current reads off, from the fleet's sessions (a JSON array).
    pub const CHARGERS: &str = "chargers.json";
}

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

    /// Stores a fleet-level document (the roll-up table, its CSV export, the SoH chart), by
    /// name, replacing the previous one.
    async fn put_fleet_document(
        &self,
        fleet: &FleetId,
        name: &str,
        content: &str,
    ) -> StoreResult<()>;

    /// A fleet-level document.
    async fn fleet_document(&self, fleet: &FleetId, name: &str) -> StoreResult<Option<String>>;
}
