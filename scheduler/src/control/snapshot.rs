//! Everything one pass needs about a site, read from the store in one go: the network, which
//! chargers are connected and when they last booted, limit windows, active sessions with their
//! needs, the profiles on record and the last allocation.

use std::collections::HashMap;

use chargegrid_core::command::ChargingLimit;
use chargegrid_core::network::{Charger, Site};
use chargegrid_core::session::Session;
use chargegrid_core::{ChargerId, EvseId, SiteId};
use chargegrid_store::{EvNeeds, LimitWindow, SiteAllocation, Store};
use chrono::{DateTime, Utc};

use super::error::ServiceError;

/// One charger and its connection.
#[derive(Debug, Clone)]
pub(crate) struct ChargerInput {
    /// Its configuration.
    pub charger: Charger,
    /// Whether a gateway holds its socket now.
    pub online: bool,
    /// When it last booted, if it ever did.
    pub booted_at: Option<DateTime<Utc>>,
}

/// One active session and what its EV needs.
#[derive(Debug, Clone)]
pub(crate) struct SessionInput {
    /// The session record.
    pub session: Session,
    /// Needs stated by the vehicle, the driver or the fleet.
    pub needs: Option<EvNeeds>,
}

/// A site as the store has it now.
#[derive(Debug, Clone)]
pub(crate) struct SiteSnapshot {
    /// The site.
    pub site: Site,
    /// Its chargers, in id order.
    pub chargers: Vec<ChargerInput>,
    /// Its limit windows.
    pub windows: Vec<LimitWindow>,
    /// Its active sessions.
    pub sessions: Vec<SessionInput>,
    /// Profiles on record (accepted by the chargers), by charger and EVSE (0: charger-wide).
    pub sent: HashMap<(ChargerId, EvseId), ChargingLimit>,
    /// The last allocation written (by this or another instance).
    pub previous: Option<SiteAllocation>,
}

impl SiteSnapshot {
    /// Reads a site.
    pub async fn read(store: &dyn Store, site: &SiteId) -> Result<Self, ServiceError> {
        let Some(site_record) = store.get_site(site).await? else {
            return Err(ServiceError::UnknownSite(site.to_string()));
        };
        let mut chargers = Vec::new();
        for charger in store.chargers_of_site(site).await? {
            let online = store.locate(&charger.id).await?.is_some();
            let booted_at = store.boot_info(&charger.id).await?.map(|b| b.booted_at);
            chargers.push(ChargerInput {
                charger,
                online,
                booted_at,
            });
        }
        let mut sessions = Vec::new();
        for session in store.active_sessions(site).await? {
            let needs = store.get_ev_needs(site, &session.id).await?;
            sessions.push(SessionInput { session, needs });
        }
        let sent = store
            .sent_profiles(site)
            .await?
            .into_iter()
            .map(|(c, e, l)| ((c, e), l))
            .collect();
        Ok(Self {
            site: site_record,
            chargers,
            windows: store.limit_windows(site).await?,
            sessions,
            sent,
            previous: store.get_allocation(site).await?,
        })
    }

    /// A charger of the site.
    pub fn charger(&self, id: &ChargerId) -> Option<&ChargerInput> {
        self.chargers.iter().find(|c| &c.charger.id == id)
    }
}
