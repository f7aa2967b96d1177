//! [`HealthStore`] for the Redis store.

use async_trait::async_trait;
use chargegrid_core::{FleetId, SessionId, VehicleId};
use redis::AsyncCommands;

use super::{RedisStore, decode, encode, keys};
use crate::{HealthStore, StoreResult};

#[async_trait]
impl HealthStore for RedisStore {
    async fn put_session_features(
        &self,
        vehicle: &VehicleId,
        session: &SessionId,
        features: &serde_json::Value,
    ) -> StoreResult<()> {
        let () = self
            .conn()
            .hset(
                keys::health_features(vehicle),
                session.as_str(),
                encode(features)?,
            )
            .await?;
        Ok(())
    }

    async fn session_features(&self, vehicle: &VehicleId) -> StoreResult<Vec<serde_json::Value>> {
        let key = keys::health_features(vehicle);
        let mut all: Vec<(String, String)> = self.conn().hgetall(&key).await?;
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all.iter().map(|(_, text)| decode(&key, text)).collect()
    }

    async fn put_vehicle_report(
        &self,
        vehicle: &VehicleId,
        fleet: Option<&FleetId>,
        report: &serde_json::Value,
    ) -> StoreResult<()> {
        let mut pipe = redis::pipe();
        pipe.set(keys::health_report(vehicle), encode(report)?)
            .ignore();
        if let Some(fleet) = fleet {
            pipe.sadd(keys::fleet_reports(fleet), vehicle.as_str())
                .ignore();
        }
        let () = pipe.query_async(&mut self.conn()).await?;
        Ok(())
    }

    async fn vehicle_report(&self, vehicle: &VehicleId) -> StoreResult<Option<serde_json::Value>> {
        self.get_json(&keys::health_report(vehicle)).await
    }

    async fn fleet_reports(&self, fleet: &FleetId) -> StoreResult<Vec<serde_json::Value>> {
        let mut ids: Vec<String> = self.conn().smembers(keys::fleet_reports(fleet)).await?;
        ids.sort();
        let keys: Vec<String> = ids
            .iter()
            .filter_map(|i| VehicleId::new(i.as_str()).ok())
            .map(|i| keys::health_report(&i))
            .collect();
        self.mget_json(&keys).await
    }

    async fn put_fleet_document(
        &self,
        fleet: &FleetId,
        name: &str,
        content: &str,
    ) -> StoreResult<()> {
        let () = self
            .conn()
            .hset(keys::fleet_documents(fleet), name, content)
            .await?;
        Ok(())
    }

    async fn fleet_document(&self, fleet: &FleetId, name: &str) -> StoreResult<Option<String>> {
        Ok(self.conn().hget(keys::fleet_documents(fleet), name).await?)
    }
}
