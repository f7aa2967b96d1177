//! [`ConnectionRegistry`] for the Redis store: one key per charger with a Redis expiry.

use std::time::Duration;

use async_trait::async_trait;
use chargegrid_core::{ChargerId, NodeId};
use redis::AsyncCommands;

use super::{RedisStore, keys, millis, scripts};
use crate::{BootInfo, ConnectionRegistry, StoreResult};

#[async_trait]
impl ConnectionRegistry for RedisStore {
    async fn register_connection(
        &self,
        charger: &ChargerId,
        node: &NodeId,
        ttl: Duration,
    ) -> StoreResult<()> {
        let () = self
            .conn()
            .pset_ex(keys::connection(charger), node.as_str(), millis(ttl))
            .await?;
        Ok(())
    }

    async fn refresh_connection(
        &self,
        charger: &ChargerId,
        node: &NodeId,
        ttl: Duration,
    ) -> StoreResult<bool> {
        let extended: i32 = scripts::EXPIRE_IF_EQUAL
            .key(keys::connection(charger))
            .arg(node.as_str())
            .arg(millis(ttl))
            .invoke_async(&mut self.conn())
            .await?;
        Ok(extended == 1)
    }

    async fn unregister_connection(&self, charger: &ChargerId, node: &NodeId) -> StoreResult<bool> {
        let deleted: i32 = scripts::DELETE_IF_EQUAL
            .key(keys::connection(charger))
            .arg(node.as_str())
            .invoke_async(&mut self.conn())
            .await?;
        Ok(deleted == 1)
    }

    async fn locate(&self, charger: &ChargerId) -> StoreResult<Option<NodeId>> {
        let node: Option<String> = self.conn().get(keys::connection(charger)).await?;
        Ok(node.and_then(|n| NodeId::new(n).ok()))
    }

    async fn put_boot_info(&self, charger: &ChargerId, info: &BootInfo) -> StoreResult<()> {
        self.set_json(&keys::boot(charger), info).await
    }

    async fn boot_info(&self, charger: &ChargerId) -> StoreResult<Option<BootInfo>> {
        self.get_json(&keys::boot(charger)).await
    }

    async fn record_refusal(&self, refusal: &crate::RefusedHandshake) -> StoreResult<()> {
        let () = redis::pipe()
            .lpush(keys::refusals(), super::encode(refusal)?)
            .ignore()
            .ltrim(keys::refusals(), 0, crate::REFUSALS_KEPT as isize - 1)
            .ignore()
            .query_async(&mut self.conn())
            .await?;
        Ok(())
    }

    async fn recent_refusals(&self, limit: usize) -> StoreResult<Vec<crate::RefusedHandshake>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let key = keys::refusals();
        let texts: Vec<String> = self
            .conn()
            .lrange(&key, 0, limit.min(crate::REFUSALS_KEPT) as isize - 1)
            .await?;
        texts.iter().map(|t| super::decode(&key, t)).collect()
    }
}
