//! [`AccountStore`] for the in-memory store.

use async_trait::async_trait;
use chargegrid_core::driver::{Driver, Fleet, IdTagRecord, Vehicle, VehicleModel};
use chargegrid_core::{DriverId, FleetId, IdTag, VehicleId};

use super::MemoryStore;
use super::journal::{Kind, model_id};
use chrono::{DateTime, Utc};

use crate::{AccountStore, ApiKey, StoreError, StoreResult, TokenRecord};

#[async_trait]
impl AccountStore for MemoryStore {
    async fn create_driver(&self, driver: &Driver) -> StoreResult<()> {
        {
            let mut state = self.lock();
            let email = driver.email.to_lowercase();
            if state.drivers.contains_key(&driver.id) {
                return Err(StoreError::Conflict(format!("driver {}", driver.id)));
            }
            if state.emails.contains_key(&email) {
                return Err(StoreError::Conflict(format!("account for {email}")));
            }
            state.emails.insert(email, driver.id.clone());
            state.drivers.insert(driver.id.clone(), driver.clone());
        }
        self.persist(Kind::Driver, driver.id.as_str()).await
    }

    async fn update_driver(&self, driver: &Driver) -> StoreResult<()> {
        {
            let mut state = self.lock();
            let Some(old) = state.drivers.get(&driver.id) else {
                return Err(StoreError::NotFound(format!("driver {}", driver.id)));
            };
            let mut updated = driver.clone();
            updated.email = old.email.clone();
            state.drivers.insert(driver.id.clone(), updated);
        }
        self.persist(Kind::Driver, driver.id.as_str()).await
    }

    async fn get_driver(&self, id: &DriverId) -> StoreResult<Option<Driver>> {
        Ok(self.lock().drivers.get(id).cloned())
    }

    async fn find_driver_by_email(&self, email: &str) -> StoreResult<Option<Driver>> {
        let state = self.lock();
        Ok(state
            .emails
            .get(&email.to_lowercase())
            .and_then(|id| state.drivers.get(id))
            .cloned())
    }

    async fn put_id_tag(&self, record: &IdTagRecord) -> StoreResult<()> {
        self.lock().tags.insert(record.tag.key(), record.clone());
        self.persist(Kind::IdTag, &record.tag.key()).await
    }

    async fn get_id_tag(&self, tag: &IdTag) -> StoreResult<Option<IdTagRecord>> {
        Ok(self.lock().tags.get(&tag.key()).cloned())
    }

    async fn id_tags_of_driver(&self, driver: &DriverId) -> StoreResult<Vec<IdTagRecord>> {
        let mut tags: Vec<IdTagRecord> = self
            .lock()
            .tags
            .values()
            .filter(|r| r.driver.as_ref() == Some(driver))
            .cloned()
            .collect();
        tags.sort_by_key(|r| r.tag.key());
        Ok(tags)
    }

    async fn put_fleet(&self, fleet: &Fleet) -> StoreResult<()> {
        self.lock().fleets.insert(fleet.id.clone(), fleet.clone());
        self.persist(Kind::Fleet, fleet.id.as_str()).await
    }

    async fn get_fleet(&self, id: &FleetId) -> StoreResult<Option<Fleet>> {
        Ok(self.lock().fleets.get(id).cloned())
    }

    async fn put_vehicle(&self, vehicle: &Vehicle) -> StoreResult<()> {
        self.lock()
            .vehicles
            .insert(vehicle.id.clone(), vehicle.clone());
        self.persist(Kind::Vehicle, vehicle.id.as_str()).await
    }

    async fn get_vehicle(&self, id: &VehicleId) -> StoreResult<Option<Vehicle>> {
        Ok(self.lock().vehicles.get(id).cloned())
    }

    async fn vehicles_of_fleet(&self, fleet: &FleetId) -> StoreResult<Vec<Vehicle>> {
        Ok(self
            .lock()
            .vehicles
            .values()
            .filter(|v| v.fleet.as_ref() == Some(fleet))
            .cloned()
            .collect())
    }

    async fn operators(&self) -> StoreResult<Vec<Driver>> {
        let mut ops: Vec<Driver> = self
            .lock()
            .drivers
            .values()
            .filter(|d| d.role == chargegrid_core::driver::Role::Operator)
            .cloned()
            .collect();
        ops.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(ops)
    }

    async fn put_vehicle_model(&self, model: &VehicleModel) -> StoreResult<()> {
        self.lock()
            .vehicle_models
            .entry(model.fleet.clone())
            .or_default()
            .insert(model.name.clone(), model.clone());
        self.persist(Kind::VehicleModel, &model_id(&model.fleet, &model.name))
            .await
    }

    async fn vehicle_models_of_fleet(&self, fleet: &FleetId) -> StoreResult<Vec<VehicleModel>> {
        Ok(self
            .lock()
            .vehicle_models
            .get(fleet)
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default())
    }

    async fn put_token(&self, secret_hash: &str, record: &TokenRecord) -> StoreResult<()> {
        let now = self.now();
        let mut state = self.lock();
        // Expired tokens and revocations are dropped as new tokens arrive, so a long-running
        // process does not keep every token it ever issued (amortised: once per 1,024 writes).
        state.token_writes = state.token_writes.wrapping_add(1);
        if state.token_writes.is_multiple_of(1_024) {
            state.tokens.retain(|_, t| t.expires_at > now);
            state.revoked_families.retain(|_, until| *until > now);
        }
        state.tokens.insert(secret_hash.to_string(), record.clone());
        Ok(())
    }

    async fn take_token(&self, secret_hash: &str) -> StoreResult<Option<TokenRecord>> {
        let now = self.now();
        Ok(self
            .lock()
            .tokens
            .remove(secret_hash)
            .filter(|t| t.expires_at > now))
    }

    async fn get_token(&self, secret_hash: &str) -> StoreResult<Option<TokenRecord>> {
        let now = self.now();
        Ok(self
            .lock()
            .tokens
            .get(secret_hash)
            .filter(|t| t.expires_at > now)
            .cloned())
    }

    async fn revoke_token(&self, secret_hash: &str) -> StoreResult<()> {
        self.lock().tokens.remove(secret_hash);
        Ok(())
    }

    async fn revoke_token_family(
        &self,
        family: &str,
        until: chrono::DateTime<chrono::Utc>,
    ) -> StoreResult<()> {
        self.lock()
            .revoked_families
            .insert(family.to_string(), until);
        Ok(())
    }

    async fn is_family_revoked(&self, family: &str) -> StoreResult<bool> {
        let now = self.now();
        Ok(self
            .lock()
            .revoked_families
            .get(family)
            .is_some_and(|until| *until > now))
    }

    async fn drivers_of_fleet(&self, fleet: &FleetId) -> StoreResult<Vec<Driver>> {
        let mut list: Vec<Driver> = self
            .lock()
            .drivers
            .values()
            .filter(|d| d.fleet.as_ref() == Some(fleet))
            .cloned()
            .collect();
        list.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(list)
    }

    async fn create_api_key(&self, secret_hash: &str, key: &ApiKey) -> StoreResult<()> {
        {
            let mut state = self.lock();
            if state.api_keys.contains_key(&key.id) {
                return Err(StoreError::Conflict(format!("API key {}", key.id)));
            }
            state.api_keys.insert(key.id.clone(), key.clone());
            state
                .api_key_secrets
                .insert(secret_hash.to_string(), key.id.clone());
        }
        self.persist(Kind::ApiKey, &key.id).await
    }

    async fn api_key_by_secret(&self, secret_hash: &str) -> StoreResult<Option<ApiKey>> {
        let state = self.lock();
        Ok(state
            .api_key_secrets
            .get(secret_hash)
            .and_then(|id| state.api_keys.get(id))
            .cloned())
    }

    async fn get_api_key(&self, id: &str) -> StoreResult<Option<ApiKey>> {
        Ok(self.lock().api_keys.get(id).cloned())
    }

    async fn api_keys(&self, owner: Option<&DriverId>) -> StoreResult<Vec<ApiKey>> {
        let mut keys: Vec<ApiKey> = self
            .lock()
            .api_keys
            .values()
            .filter(|k| owner.is_none_or(|o| *o == k.owner))
            .cloned()
            .collect();
        keys.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(keys)
    }

    async fn revoke_api_key(&self, id: &str, at: DateTime<Utc>) -> StoreResult<Option<ApiKey>> {
        let revoked = self.lock().api_keys.get_mut(id).map(|key| {
            key.revoked_at.get_or_insert(at);
            key.clone()
        });
        self.persist(Kind::ApiKey, id).await?;
        Ok(revoked)
    }

    async fn touch_api_key(&self, id: &str, at: DateTime<Utc>) -> StoreResult<()> {
        if let Some(key) = self.lock().api_keys.get_mut(id) {
            key.last_used_at = Some(key.last_used_at.map_or(at, |t| t.max(at)));
        }
        self.persist(Kind::ApiKey, id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chargegrid_core::{Clock, DriverId, ManualClock};

    #[tokio::test]
    async fn expired_tokens_are_purged_as_new_ones_arrive() {
        let clock = ManualClock::new(chrono::Utc::now());
        let store = MemoryStore::new(std::sync::Arc::new(clock.clone()));
        let record = |days: i64| TokenRecord {
            driver: DriverId::new("d1").unwrap(),
            expires_at: clock.now() + chrono::Duration::days(days),
            family: "f".into(),
        };
        for i in 0..1_000 {
            store
                .put_token(&format!("old-{i}"), &record(1))
                .await
                .unwrap();
        }
        clock.advance(chrono::Duration::days(2));
        for i in 0..1_100 {
            store
                .put_token(&format!("new-{i}"), &record(1))
                .await
                .unwrap();
        }
        let left = store.lock().tokens.len();
        assert!(left <= 1_100, "expired tokens were dropped: {left} left");
        assert!(store.get_token("new-0").await.unwrap().is_some());
    }
}
