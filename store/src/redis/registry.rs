//! [`ConnectionRegistry`] for the Redis store: one key per charger with a Redis expiry.

use std::time::Duration;

use async_trait::async_trait;
use chargegrid_core::device::{DeviceState, Operation, OperationStatus, Setting};
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

    async fn record_operation_status(
        &self,
        charger: &ChargerId,
        operation: Operation,
        status: &OperationStatus,
    ) -> StoreResult<()> {
        let field = match operation {
            Operation::Firmware => "firmware",
            Operation::Upload => "upload",
        };
        let () = self
            .conn()
            .hset(
                keys::device_operations(charger),
                field,
                super::encode(status)?,
            )
            .await?;
        Ok(())
    }

    async fn record_last_seen(
        &self,
        charger: &ChargerId,
        at: chrono::DateTime<chrono::Utc>,
    ) -> StoreResult<()> {
        let _: i64 = scripts::SET_IF_LATER
            .key(keys::last_seen(charger))
            .arg(at.timestamp_millis())
            .invoke_async(&mut self.conn())
            .await?;
        Ok(())
    }

    async fn last_seen(
        &self,
        charger: &ChargerId,
    ) -> StoreResult<Option<chrono::DateTime<chrono::Utc>>> {
        let ms: Option<i64> = self.conn().get(keys::last_seen(charger)).await?;
        Ok(ms.and_then(chrono::DateTime::from_timestamp_millis))
    }

    async fn record_settings(&self, charger: &ChargerId, settings: &[Setting]) -> StoreResult<()> {
        if settings.is_empty() {
            return Ok(());
        }
        let mut invocation = scripts::RECORD_SETTINGS.key(keys::device_settings(charger));
        invocation.arg(crate::SETTINGS_KEPT);
        for setting in settings {
            invocation.arg(&setting.key).arg(super::encode(setting)?);
        }
        let _: i64 = invocation.invoke_async(&mut self.conn()).await?;
        Ok(())
    }

    async fn device_state(&self, charger: &ChargerId) -> StoreResult<DeviceState> {
        let operations_key = keys::device_operations(charger);
        let settings_key = keys::device_settings(charger);
        let (operations, settings): (
            std::collections::HashMap<String, String>,
            std::collections::HashMap<String, String>,
        ) = redis::pipe()
            .hgetall(&operations_key)
            .hgetall(&settings_key)
            .query_async(&mut self.conn())
            .await?;
        let status = |field: &str| {
            operations
                .get(field)
                .map(|text| super::decode::<OperationStatus>(&operations_key, text))
                .transpose()
        };
        let mut state = DeviceState {
            firmware: status("firmware")?,
            upload: status("upload")?,
            settings: settings
                .values()
                .map(|text| super::decode::<Setting>(&settings_key, text))
                .collect::<StoreResult<_>>()?,
        };
        state.settings.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(state)
    }

    async fn forget_device_state(&self, charger: &ChargerId) -> StoreResult<()> {
        let () = self
            .conn()
            .del(&[
                keys::device_operations(charger),
                keys::device_settings(charger),
                keys::last_seen(charger),
            ])
            .await?;
        Ok(())
    }
}
