//! The operator's network as configured (sites, chargers) and its live connector states.

use async_trait::async_trait;
use chargegrid_core::network::{Charger, ConnectorState, Network, Site};
use chargegrid_core::{ChargerId, SiteId};
use chrono::{DateTime, Utc};

use crate::StoreResult;

/// Sites, chargers and connector states.
///
/// Configuration is written rarely (start-up, operator changes) and read often, so reads must
/// be cheap. Writing a site or charger replaces the previous version whole.
#[async_trait]
pub trait NetworkStore: Send + Sync {
    /// Writes every site and charger of `network` (replacing existing ones with the same id;
    /// sites and chargers not in `network` are left alone).
    async fn put_network(&self, network: &Network) -> StoreResult<()> {
        for site in &network.sites {
            self.put_site(site).await?;
        }
        for charger in &network.chargers {
            self.put_charger(charger).await?;
        }
        Ok(())
    }

    /// The whole stored network: every site and charger, each in id order.
    async fn network(&self) -> StoreResult<Network> {
        let sites = self.list_sites().await?;
        let mut chargers = Vec::new();
        for site in &sites {
            chargers.extend(self.chargers_of_site(&site.id).await?);
        }
        chargers.sort_by(|a, b| a.id.as_str().cmp(b.id.as_str()));
        Ok(Network { sites, chargers })
    }

    /// Makes the stored network exactly `network`: writes every site and charger in it and
    /// deletes the chargers and sites that are not (an operator's network file is the whole
    /// truth when it is loaded; nothing from an earlier network, such as the demo sample,
    /// lingers). Returns the ids of the chargers deleted.
    async fn replace_network(&self, network: &Network) -> StoreResult<Vec<ChargerId>> {
        self.put_network(network).await?;
        let keep_sites: std::collections::HashSet<&SiteId> =
            network.sites.iter().map(|s| &s.id).collect();
        let keep_chargers: std::collections::HashSet<&ChargerId> =
            network.chargers.iter().map(|c| &c.id).collect();
        let mut deleted = Vec::new();
        for site in self.list_sites().await? {
            for charger in self.chargers_of_site(&site.id).await? {
                if !keep_chargers.contains(&charger.id) {
                    self.delete_charger(&charger.id).await?;
                    deleted.push(charger.id);
                }
            }
            if !keep_sites.contains(&site.id) {
                self.delete_site(&site.id).await?;
            }
        }
        Ok(deleted)
    }

    /// Deletes a charger and its connector states; deleting an absent one is not an error.
    async fn delete_charger(&self, id: &ChargerId) -> StoreResult<()>;

    /// Deletes a site; its chargers must have been deleted or moved first.
    async fn delete_site(&self, id: &SiteId) -> StoreResult<()>;

    /// Writes one site.
    async fn put_site(&self, site: &Site) -> StoreResult<()>;

    /// Reads one site.
    async fn get_site(&self, id: &SiteId) -> StoreResult<Option<Site>>;

    /// All sites, in id order.
    async fn list_sites(&self) -> StoreResult<Vec<Site>>;

    /// A number that changes whenever a site is written or deleted (by any node), so a cache
    /// of the sites knows when to rebuild.
    async fn sites_version(&self) -> StoreResult<u64>;

    /// Writes one charger; its site must exist.
    async fn put_charger(&self, charger: &Charger) -> StoreResult<()>;

    /// Reads one charger.
    async fn get_charger(&self, id: &ChargerId) -> StoreResult<Option<Charger>>;

    /// The chargers of a site, in id order.
    async fn chargers_of_site(&self, site: &SiteId) -> StoreResult<Vec<Charger>>;

    /// Records a connector's latest reported state. A report older than the stored one (a
    /// charger replaying queued messages) does not overwrite it; returns whether it was kept.
    async fn put_connector_state(&self, state: &ConnectorState) -> StoreResult<bool>;

    /// As [`NetworkStore::put_connector_state`], for the charger's own connection, which last
    /// wrote this connector's state with time `last_written` and is its only writer while it
    /// holds the charger: a report older than that is not kept; a newer one may be written
    /// without comparing with the stored one first (on Redis, two commands in one round trip
    /// instead of a script that reads).
    async fn put_connector_state_after(
        &self,
        state: &ConnectorState,
        last_written: DateTime<Utc>,
    ) -> StoreResult<bool> {
        if state.since < last_written {
            return Ok(false);
        }
        self.put_connector_state(state).await
    }

    /// The latest state of each connector of a charger (connector 0 included if reported), in
    /// connector order.
    async fn connector_states(&self, charger: &ChargerId) -> StoreResult<Vec<ConnectorState>>;
}
