//! [`HealthStore`] for the in-memory store.

use async_trait::async_trait;
use chargegrid_core::{FleetId, SessionId, VehicleId};

use super::MemoryStore;
use crate::{HealthStore, StoreResult};

#[async_trait]
impl HealthStore for MemoryStore {
    async fn put_session_features(
        &self,
        vehicle: &VehicleId,
        session: &SessionId,
        features: &serde_json::Value,
    ) -> StoreResult<()> {
        self.lock()
            .features
            .entry(vehicle.clone())
            .or_default()
            .insert(session.clone(), features.clone());
        Ok(())
    }

    async fn session_features(&self, vehicle: &VehicleId) -> StoreResult<Vec<serde_json::Value>> {
        Ok(self
            .lock()
            .features
            .get(vehicle)
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default())
    }

    async fn put_vehicle_report(
        &self,
        vehicle: &VehicleId,
        fleet: Option<&FleetId>,
        report: &serde_json::Value,
    ) -> StoreResult<()> {
        self.lock()
            .reports
            .insert(vehicle.clone(), (fleet.cloned(), report.clone()));
        Ok(())
    }

    async fn vehicle_report(&self, vehicle: &VehicleId) -> StoreResult<Option<serde_json::Value>> {
        Ok(self.lock().reports.get(vehicle).map(|(_, r)| r.clone()))
    }

    async fn fleet_reports(&self, fleet: &FleetId) -> StoreResult<Vec<serde_json::Value>> {
        Ok(self
            .lock()
            .reports
            .values()
            .filter(|(f, _)| f.as_ref() == Some(fleet))
            .map(|(_, r)| r.clone())
            .collect())
    }

    async fn put_fleet_document(
        &self,
        fleet: &FleetId,
        name: &str,
        content: &str,
    ) -> StoreResult<()> {
        self.lock()
            .fleet_documents
            .insert((fleet.clone(), name.to_string()), content.to_string());
        Ok(())
    }

    async fn fleet_document(&self, fleet: &FleetId, name: &str) -> StoreResult<Option<String>> {
        Ok(self
            .lock()
            .fleet_documents
            .get(&(fleet.clone(), name.to_string()))
            .cloned())
    }
}
