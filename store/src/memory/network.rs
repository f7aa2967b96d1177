//! [`NetworkStore`] for the in-memory store.

use async_trait::async_trait;
use chargegrid_core::network::{Charger, ConnectorState, Site};
use chargegrid_core::{ChargerId, SiteId};

use super::MemoryStore;
use super::journal::Kind;
use crate::{NetworkStore, StoreError, StoreResult};

#[async_trait]
impl NetworkStore for MemoryStore {
    async fn put_site(&self, site: &Site) -> StoreResult<()> {
        {
            let mut state = self.lock();
            state.sites.insert(site.id.clone(), site.clone());
            state.sites_version += 1;
        }
        self.persist(Kind::Site, site.id.as_str()).await
    }

    async fn sites_version(&self) -> StoreResult<u64> {
        Ok(self.lock().sites_version)
    }

    async fn get_site(&self, id: &SiteId) -> StoreResult<Option<Site>> {
        Ok(self.lock().sites.get(id).cloned())
    }

    async fn list_sites(&self) -> StoreResult<Vec<Site>> {
        Ok(self.lock().sites.values().cloned().collect())
    }

    async fn put_charger(&self, charger: &Charger) -> StoreResult<()> {
        {
            let mut state = self.lock();
            if !state.sites.contains_key(&charger.site) {
                return Err(StoreError::NotFound(format!("site {}", charger.site)));
            }
            state.chargers.insert(charger.id.clone(), charger.clone());
        }
        self.persist(Kind::Charger, charger.id.as_str()).await
    }

    async fn get_charger(&self, id: &ChargerId) -> StoreResult<Option<Charger>> {
        Ok(self.lock().chargers.get(id).cloned())
    }

    async fn chargers_of_site(&self, site: &SiteId) -> StoreResult<Vec<Charger>> {
        Ok(self
            .lock()
            .chargers
            .values()
            .filter(|c| &c.site == site)
            .cloned()
            .collect())
    }

    async fn delete_charger(&self, id: &ChargerId) -> StoreResult<()> {
        {
            let mut state = self.lock();
            state.chargers.remove(id);
            state.connectors.remove(id);
        }
        self.persist(Kind::Charger, id.as_str()).await
    }

    async fn delete_site(&self, id: &SiteId) -> StoreResult<()> {
        {
            let mut state = self.lock();
            if let Some(c) = state.chargers.values().find(|c| &c.site == id) {
                return Err(StoreError::Conflict(format!(
                    "site {id} still has charger {}",
                    c.id
                )));
            }
            state.sites.remove(id);
            state.sites_version += 1;
        }
        self.persist(Kind::Site, id.as_str()).await
    }

    async fn put_connector_state(&self, state: &ConnectorState) -> StoreResult<bool> {
        let mut all = self.lock();
        let slot = all
            .connectors
            .entry(state.charger.clone())
            .or_default()
            .entry(state.connector);
        match slot {
            std::collections::btree_map::Entry::Occupied(mut e) => {
                if e.get().since > state.since {
                    return Ok(false);
                }
                e.insert(state.clone());
            }
            std::collections::btree_map::Entry::Vacant(e) => {
                e.insert(state.clone());
            }
        }
        Ok(true)
    }

    async fn connector_states(&self, charger: &ChargerId) -> StoreResult<Vec<ConnectorState>> {
        Ok(self
            .lock()
            .connectors
            .get(charger)
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default())
    }
}
