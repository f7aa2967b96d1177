//! [`AccountStore`] for the Redis store.

use async_trait::async_trait;
use chargegrid_core::driver::{Driver, Fleet, IdTagRecord, Role, Vehicle, VehicleModel};
use chargegrid_core::{DriverId, FleetId, IdTag, VehicleId};
use redis::AsyncCommands;

use super::{RedisStore, decode, encode, keys, millis};
use chrono::{DateTime, Utc};

use crate::{AccountStore, ApiKey, StoreError, StoreResult, TokenRecord};

#[async_trait]
impl AccountStore for RedisStore {
    async fn create_driver(&self, driver: &Driver) -> StoreResult<()> {
        let email = driver.email.to_lowercase();
        let email_key = keys::driver_email(&email);
        // The e-mail's claim expires unless the account is written after it (a node that dies
        // in between must not block the address forever).
        let claimed = self.claim(&email_key, driver.id.as_str()).await?;
        if !claimed {
            return Err(StoreError::Conflict(format!("account for {email}")));
        }
        let created: bool = self
            .conn()
            .set_nx(keys::driver(&driver.id), encode(driver)?)
            .await?;
        if !created {
            let () = self.conn().del(&email_key).await?;
            return Err(StoreError::Conflict(format!("driver {}", driver.id)));
        }
        let _: bool = self.conn().persist(&email_key).await?;
        if driver.role == Role::Operator {
            let () = self
                .conn()
                .sadd(keys::operators(), driver.id.as_str())
                .await?;
        }
        if let Some(fleet) = &driver.fleet {
            let () = self
                .conn()
                .sadd(keys::fleet_drivers(fleet), driver.id.as_str())
                .await?;
        }
        Ok(())
    }

    async fn update_driver(&self, driver: &Driver) -> StoreResult<()> {
        let key = keys::driver(&driver.id);
        let old: Option<Driver> = self.get_json(&key).await?;
        let Some(old) = old else {
            return Err(StoreError::NotFound(format!("driver {}", driver.id)));
        };
        let mut updated = driver.clone();
        updated.email = old.email.clone();
        let mut pipe = redis::pipe();
        pipe.atomic().set(&key, encode(&updated)?).ignore();
        if updated.role == Role::Operator {
            pipe.sadd(keys::operators(), driver.id.as_str()).ignore();
        } else if old.role == Role::Operator {
            pipe.srem(keys::operators(), driver.id.as_str()).ignore();
        }
        if old.fleet != updated.fleet {
            if let Some(f) = &old.fleet {
                pipe.srem(keys::fleet_drivers(f), driver.id.as_str())
                    .ignore();
            }
            if let Some(f) = &updated.fleet {
                pipe.sadd(keys::fleet_drivers(f), driver.id.as_str())
                    .ignore();
            }
        }
        let () = pipe.query_async(&mut self.conn()).await?;
        Ok(())
    }

    async fn get_driver(&self, id: &DriverId) -> StoreResult<Option<Driver>> {
        self.get_json(&keys::driver(id)).await
    }

    async fn find_driver_by_email(&self, email: &str) -> StoreResult<Option<Driver>> {
        let id: Option<String> = self
            .conn()
            .get(keys::driver_email(&email.to_lowercase()))
            .await?;
        match id.and_then(|i| DriverId::new(i).ok()) {
            Some(id) => self.get_driver(&id).await,
            None => Ok(None),
        }
    }

    async fn put_id_tag(&self, record: &IdTagRecord) -> StoreResult<()> {
        let key = keys::id_tag(&record.tag.key());
        let old: Option<IdTagRecord> = self.get_json(&key).await?;
        let mut pipe = redis::pipe();
        pipe.atomic();
        if let Some(d) = old
            .and_then(|o| o.driver)
            .filter(|d| Some(d) != record.driver.as_ref())
        {
            pipe.srem(keys::driver_tags(&d), record.tag.key()).ignore();
        }
        pipe.set(&key, encode(record)?).ignore();
        if let Some(d) = &record.driver {
            pipe.sadd(keys::driver_tags(d), record.tag.key()).ignore();
        }
        let () = pipe.query_async(&mut self.conn()).await?;
        Ok(())
    }

    async fn get_id_tag(&self, tag: &IdTag) -> StoreResult<Option<IdTagRecord>> {
        self.get_json(&keys::id_tag(&tag.key())).await
    }

    async fn id_tags_of_driver(&self, driver: &DriverId) -> StoreResult<Vec<IdTagRecord>> {
        let mut tags: Vec<String> = self.conn().smembers(keys::driver_tags(driver)).await?;
        tags.sort();
        let keys: Vec<String> = tags.iter().map(|t| keys::id_tag(t)).collect();
        self.mget_json(&keys).await
    }

    async fn put_fleet(&self, fleet: &Fleet) -> StoreResult<()> {
        self.set_json(&keys::fleet(&fleet.id), fleet).await
    }

    async fn get_fleet(&self, id: &FleetId) -> StoreResult<Option<Fleet>> {
        self.get_json(&keys::fleet(id)).await
    }

    async fn put_vehicle(&self, vehicle: &Vehicle) -> StoreResult<()> {
        let key = keys::vehicle(&vehicle.id);
        let old: Option<Vehicle> = self.get_json(&key).await?;
        let mut pipe = redis::pipe();
        pipe.atomic();
        if let Some(f) = old
            .and_then(|o| o.fleet)
            .filter(|f| Some(f) != vehicle.fleet.as_ref())
        {
            pipe.srem(keys::fleet_vehicles(&f), vehicle.id.as_str())
                .ignore();
        }
        pipe.set(&key, encode(vehicle)?).ignore();
        if let Some(f) = &vehicle.fleet {
            pipe.sadd(keys::fleet_vehicles(f), vehicle.id.as_str())
                .ignore();
        }
        let () = pipe.query_async(&mut self.conn()).await?;
        Ok(())
    }

    async fn get_vehicle(&self, id: &VehicleId) -> StoreResult<Option<Vehicle>> {
        self.get_json(&keys::vehicle(id)).await
    }

    async fn vehicles_of_fleet(&self, fleet: &FleetId) -> StoreResult<Vec<Vehicle>> {
        self.members_json(&keys::fleet_vehicles(fleet), |id| {
            VehicleId::new(id).ok().map(|id| keys::vehicle(&id))
        })
        .await
    }

    async fn operators(&self) -> StoreResult<Vec<Driver>> {
        self.members_json(&keys::operators(), |id| {
            DriverId::new(id).ok().map(|id| keys::driver(&id))
        })
        .await
    }

    async fn put_vehicle_model(&self, model: &VehicleModel) -> StoreResult<()> {
        let () = self
            .conn()
            .hset(
                keys::fleet_models(&model.fleet),
                &model.name,
                encode(model)?,
            )
            .await?;
        Ok(())
    }

    async fn vehicle_models_of_fleet(&self, fleet: &FleetId) -> StoreResult<Vec<VehicleModel>> {
        let key = keys::fleet_models(fleet);
        let all: Vec<(String, String)> = self.conn().hgetall(&key).await?;
        let mut models = all
            .iter()
            .map(|(_, text)| decode::<VehicleModel>(&key, text))
            .collect::<StoreResult<Vec<_>>>()?;
        models.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(models)
    }

    async fn put_token(&self, secret_hash: &str, record: &TokenRecord) -> StoreResult<()> {
        let ttl = (record.expires_at - chrono::Utc::now())
            .to_std()
            .unwrap_or_default();
        let () = self
            .conn()
            .pset_ex(keys::token(secret_hash), encode(record)?, millis(ttl))
            .await?;
        Ok(())
    }

    async fn get_token(&self, secret_hash: &str) -> StoreResult<Option<TokenRecord>> {
        let record: Option<TokenRecord> = self.get_json(&keys::token(secret_hash)).await?;
        // Redis expires the key; the check also covers clock skew between nodes and Redis.
        Ok(record.filter(|r| r.expires_at > chrono::Utc::now()))
    }

    async fn take_token(&self, secret_hash: &str) -> StoreResult<Option<TokenRecord>> {
        let key = keys::token(secret_hash);
        let text: Option<String> = redis::cmd("GETDEL")
            .arg(&key)
            .query_async(&mut self.conn())
            .await?;
        let record = text.map(|t| decode::<TokenRecord>(&key, &t)).transpose()?;
        Ok(record.filter(|r| r.expires_at > chrono::Utc::now()))
    }

    async fn revoke_token(&self, secret_hash: &str) -> StoreResult<()> {
        let () = self.conn().del(keys::token(secret_hash)).await?;
        Ok(())
    }

    async fn revoke_token_family(
        &self,
        family: &str,
        until: chrono::DateTime<chrono::Utc>,
    ) -> StoreResult<()> {
        let ttl = (until - chrono::Utc::now()).to_std().unwrap_or_default();
        let () = self
            .conn()
            .pset_ex(keys::revoked_family(family), 1, millis(ttl))
            .await?;
        Ok(())
    }

    async fn is_family_revoked(&self, family: &str) -> StoreResult<bool> {
        Ok(self.conn().exists(keys::revoked_family(family)).await?)
    }

    async fn drivers_of_fleet(&self, fleet: &FleetId) -> StoreResult<Vec<Driver>> {
        let mut ids: Vec<String> = self.conn().smembers(keys::fleet_drivers(fleet)).await?;
        ids.sort();
        let keys: Vec<String> = ids
            .iter()
            .filter_map(|i| DriverId::new(i.as_str()).ok())
            .map(|i| keys::driver(&i))
            .collect();
        self.mget_json(&keys).await
    }

    async fn create_api_key(&self, secret_hash: &str, key: &ApiKey) -> StoreResult<()> {
        let created: bool = self
            .conn()
            .set_nx(keys::api_key(&key.id), encode(key)?)
            .await?;
        if !created {
            return Err(StoreError::Conflict(format!("API key {}", key.id)));
        }
        let () = self.conn().sadd(keys::api_keys(), &key.id).await?;
        let () = self
            .conn()
            .sadd(keys::driver_api_keys(&key.owner), &key.id)
            .await?;
        // Last: the secret finds the key only once everything else is written.
        let () = self
            .conn()
            .set(keys::api_key_secret(secret_hash), &key.id)
            .await?;
        Ok(())
    }

    async fn api_key_by_secret(&self, secret_hash: &str) -> StoreResult<Option<ApiKey>> {
        let id: Option<String> = self.conn().get(keys::api_key_secret(secret_hash)).await?;
        match id {
            Some(id) => self.get_api_key(&id).await,
            None => Ok(None),
        }
    }

    async fn get_api_key(&self, id: &str) -> StoreResult<Option<ApiKey>> {
        Ok(self
            .api_keys_by_id(&[id.to_string()])
            .await?
            .into_iter()
            .next())
    }

    async fn api_keys(&self, owner: Option<&DriverId>) -> StoreResult<Vec<ApiKey>> {
        let set = owner.map_or_else(keys::api_keys, keys::driver_api_keys);
        let ids: Vec<String> = self.conn().smembers(set).await?;
        let mut found = self.api_keys_by_id(&ids).await?;
        found.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(found)
    }

    async fn revoke_api_key(&self, id: &str, at: DateTime<Utc>) -> StoreResult<Option<ApiKey>> {
        let key = keys::api_key(id);
        let Some(mut record) = self.get_json::<ApiKey>(&key).await? else {
            return Ok(None);
        };
        if record.revoked_at.is_none() {
            record.revoked_at = Some(at);
            self.set_json(&key, &record).await?;
        }
        Ok(self.get_api_key(id).await?.or(Some(record)))
    }

    async fn touch_api_key(&self, id: &str, at: DateTime<Utc>) -> StoreResult<()> {
        // Apart from the record, which is never rewritten here (a revocation cannot be undone
        // by a use racing it); of two nodes' uses in the same moment either time may stay.
        let () = redis::cmd("SET")
            .arg(keys::api_key_used(id))
            .arg(at.timestamp_millis())
            .query_async(&mut self.conn())
            .await?;
        Ok(())
    }
}

impl RedisStore {
    /// The keys with these ids (missing ones skipped), each with its last use.
    async fn api_keys_by_id(&self, ids: &[String]) -> StoreResult<Vec<ApiKey>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for id in ids {
            pipe.get(keys::api_key(id)).get(keys::api_key_used(id));
        }
        let raws: Vec<Option<String>> = pipe.query_async(&mut self.conn()).await?;
        let mut found = Vec::with_capacity(ids.len());
        for (id, pair) in ids.iter().zip(raws.chunks(2)) {
            let [Some(record), used] = pair else { continue };
            let mut key: ApiKey = decode(&keys::api_key(id), record)?;
            key.last_used_at = used
                .as_deref()
                .and_then(|ms| ms.parse().ok())
                .and_then(DateTime::from_timestamp_millis)
                .max(key.last_used_at);
            found.push(key);
        }
        Ok(found)
    }
}
