//! [`ConnectionRegistry`] for the in-memory store; expiry follows the injected clock.

use std::time::Duration;

use async_trait::async_trait;
use chargegrid_core::device::{DeviceState, Operation, OperationStatus, Setting};
use chargegrid_core::{ChargerId, NodeId};

use super::{MemoryStore, ttl};
use crate::{BootInfo, ConnectionRegistry, StoreResult};

#[async_trait]
impl ConnectionRegistry for MemoryStore {
    async fn register_connection(
        &self,
        charger: &ChargerId,
        node: &NodeId,
        time_to_live: Duration,
    ) -> StoreResult<()> {
        let until = self.now() + ttl(time_to_live);
        self.lock()
            .connections
            .insert(charger.clone(), (node.clone(), until));
        Ok(())
    }

    async fn refresh_connection(
        &self,
        charger: &ChargerId,
        node: &NodeId,
        time_to_live: Duration,
    ) -> StoreResult<bool> {
        let now = self.now();
        let mut state = self.lock();
        match state.connections.get_mut(charger) {
            Some((owner, until)) if owner == node && *until > now => {
                *until = now + ttl(time_to_live);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn unregister_connection(&self, charger: &ChargerId, node: &NodeId) -> StoreResult<bool> {
        let mut state = self.lock();
        match state.connections.get(charger) {
            Some((owner, _)) if owner == node => {
                state.connections.remove(charger);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn locate(&self, charger: &ChargerId) -> StoreResult<Option<NodeId>> {
        let now = self.now();
        Ok(self
            .lock()
            .connections
            .get(charger)
            .filter(|(_, until)| *until > now)
            .map(|(node, _)| node.clone()))
    }

    async fn put_boot_info(&self, charger: &ChargerId, info: &BootInfo) -> StoreResult<()> {
        self.lock().boots.insert(charger.clone(), info.clone());
        Ok(())
    }

    async fn boot_info(&self, charger: &ChargerId) -> StoreResult<Option<BootInfo>> {
        Ok(self.lock().boots.get(charger).cloned())
    }

    async fn record_refusal(&self, refusal: &crate::RefusedHandshake) -> StoreResult<()> {
        let mut state = self.lock();
        state.refusals.push_front(refusal.clone());
        state.refusals.truncate(crate::REFUSALS_KEPT);
        Ok(())
    }

    async fn recent_refusals(&self, limit: usize) -> StoreResult<Vec<crate::RefusedHandshake>> {
        Ok(self.lock().refusals.iter().take(limit).cloned().collect())
    }

    async fn record_operation_status(
        &self,
        charger: &ChargerId,
        operation: Operation,
        status: &OperationStatus,
    ) -> StoreResult<()> {
        let mut state = self.lock();
        let device = state.devices.entry(charger.clone()).or_default();
        match operation {
            Operation::Firmware => device.firmware = Some(status.clone()),
            Operation::Upload => device.upload = Some(status.clone()),
        }
        Ok(())
    }

    async fn record_last_seen(
        &self,
        charger: &ChargerId,
        at: chrono::DateTime<chrono::Utc>,
    ) -> StoreResult<()> {
        let mut state = self.lock();
        let seen = state.last_seen.entry(charger.clone()).or_insert(at);
        *seen = (*seen).max(at);
        Ok(())
    }

    async fn last_seen(
        &self,
        charger: &ChargerId,
    ) -> StoreResult<Option<chrono::DateTime<chrono::Utc>>> {
        Ok(self.lock().last_seen.get(charger).copied())
    }

    async fn record_settings(&self, charger: &ChargerId, settings: &[Setting]) -> StoreResult<()> {
        let mut state = self.lock();
        let device = state.devices.entry(charger.clone()).or_default();
        for setting in settings {
            match device
                .settings
                .binary_search_by(|s| s.key.cmp(&setting.key))
            {
                Ok(i) => device.settings[i] = setting.clone(),
                Err(i) if device.settings.len() < crate::SETTINGS_KEPT => {
                    device.settings.insert(i, setting.clone());
                }
                Err(_) => {}
            }
        }
        Ok(())
    }

    async fn device_state(&self, charger: &ChargerId) -> StoreResult<DeviceState> {
        Ok(self
            .lock()
            .devices
            .get(charger)
            .cloned()
            .unwrap_or_default())
    }

    async fn forget_device_state(&self, charger: &ChargerId) -> StoreResult<()> {
        let mut state = self.lock();
        state.devices.remove(charger);
        state.last_seen.remove(charger);
        Ok(())
    }
}
