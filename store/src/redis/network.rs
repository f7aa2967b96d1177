//! [`NetworkStore`] for the Redis store.

use async_trait::async_trait;
use chargegrid_core::network::{Charger, ConnectorState, Site};
use chargegrid_core::{ChargerId, SiteId};
use chrono::{DateTime, Utc};
use redis::AsyncCommands;

use super::{RedisStore, decode, encode, keys, scripts};
use crate::{NetworkStore, StoreError, StoreResult};

#[async_trait]
impl NetworkStore for RedisStore {
    async fn put_site(&self, site: &Site) -> StoreResult<()> {
        let () = redis::pipe()
            .set(keys::site(&site.id), encode(site)?)
            .ignore()
            .sadd(keys::sites(), site.id.as_str())
            .ignore()
            .incr(keys::sites_version(), 1)
            .ignore()
            .query_async(&mut self.conn())
            .await?;
        Ok(())
    }

    async fn sites_version(&self) -> StoreResult<u64> {
        let version: Option<u64> = self.conn().get(keys::sites_version()).await?;
        Ok(version.unwrap_or(0))
    }

    async fn get_site(&self, id: &SiteId) -> StoreResult<Option<Site>> {
        self.get_json(&keys::site(id)).await
    }

    async fn list_sites(&self) -> StoreResult<Vec<Site>> {
        let mut ids: Vec<String> = self.conn().smembers(keys::sites()).await?;
        ids.sort();
        let keys: Vec<String> = ids
            .iter()
            .filter_map(|id| SiteId::new(id.as_str()).ok())
            .map(|id| keys::site(&id))
            .collect();
        self.mget_json(&keys).await
    }

    async fn put_charger(&self, charger: &Charger) -> StoreResult<()> {
        let exists: bool = self.conn().exists(keys::site(&charger.site)).await?;
        if !exists {
            return Err(StoreError::NotFound(format!("site {}", charger.site)));
        }
        // A charger moved to another site must leave the old site's set.
        let old: Option<Charger> = self.get_json(&keys::charger(&charger.id)).await?;
        let mut pipe = redis::pipe();
        if let Some(old) = old.filter(|o| o.site != charger.site) {
            pipe.srem(keys::site_chargers(&old.site), charger.id.as_str())
                .ignore();
        }
        let () = pipe
            .set(keys::charger(&charger.id), encode(charger)?)
            .ignore()
            .sadd(keys::site_chargers(&charger.site), charger.id.as_str())
            .ignore()
            .query_async(&mut self.conn())
            .await?;
        Ok(())
    }

    async fn get_charger(&self, id: &ChargerId) -> StoreResult<Option<Charger>> {
        self.get_json(&keys::charger(id)).await
    }

    async fn chargers_of_site(&self, site: &SiteId) -> StoreResult<Vec<Charger>> {
        let mut ids: Vec<String> = self.conn().smembers(keys::site_chargers(site)).await?;
        ids.sort();
        let keys: Vec<String> = ids
            .iter()
            .filter_map(|id| ChargerId::new(id.as_str()).ok())
            .map(|id| keys::charger(&id))
            .collect();
        self.mget_json(&keys).await
    }

    async fn delete_charger(&self, id: &ChargerId) -> StoreResult<()> {
        let old: Option<Charger> = self.get_json(&keys::charger(id)).await?;
        let mut pipe = redis::pipe();
        if let Some(old) = old {
            pipe.srem(keys::site_chargers(&old.site), id.as_str())
                .ignore();
        }
        let () = pipe
            .del(keys::charger(id))
            .ignore()
            .del(keys::connector_states(id))
            .ignore()
            .del(keys::connector_times(id))
            .ignore()
            .query_async(&mut self.conn())
            .await?;
        Ok(())
    }

    async fn delete_site(&self, id: &SiteId) -> StoreResult<()> {
        let left: usize = self.conn().scard(keys::site_chargers(id)).await?;
        if left > 0 {
            return Err(StoreError::Conflict(format!(
                "site {id} still has {left} chargers"
            )));
        }
        let () = redis::pipe()
            .del(keys::site(id))
            .ignore()
            .srem(keys::sites(), id.as_str())
            .ignore()
            .incr(keys::sites_version(), 1)
            .ignore()
            .query_async(&mut self.conn())
            .await?;
        Ok(())
    }

    async fn put_connector_state(&self, state: &ConnectorState) -> StoreResult<bool> {
        let stored: i32 = scripts::PUT_IF_NOT_OLDER
            .key(keys::connector_states(&state.charger))
            .key(keys::connector_times(&state.charger))
            .arg(state.connector.0)
            .arg(encode(state)?)
            .arg(state.since.timestamp_millis())
            .invoke_async(&mut self.conn())
            .await?;
        Ok(stored == 1)
    }

    async fn put_connector_state_after(
        &self,
        state: &ConnectorState,
        last_written: DateTime<Utc>,
    ) -> StoreResult<bool> {
        if state.since < last_written {
            return Ok(false);
        }
        let field = state.connector.0;
        let () = redis::pipe()
            .hset(
                keys::connector_states(&state.charger),
                field,
                encode(state)?,
            )
            .ignore()
            .hset(
                keys::connector_times(&state.charger),
                field,
                state.since.timestamp_millis(),
            )
            .ignore()
            .query_async(&mut self.conn())
            .await?;
        Ok(true)
    }

    async fn connector_states(&self, charger: &ChargerId) -> StoreResult<Vec<ConnectorState>> {
        let key = keys::connector_states(charger);
        let all: Vec<(u32, String)> = self.conn().hgetall(&key).await?;
        let mut states = all
            .iter()
            .map(|(_, text)| decode::<ConnectorState>(&key, text))
            .collect::<StoreResult<Vec<_>>>()?;
        states.sort_by_key(|s| s.connector);
        Ok(states)
    }
}
