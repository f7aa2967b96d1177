//! A live snapshot of one site, read from the store, and what it means for a new driver: free
//! connectors by type and power, the power the site can still give (its limit, lowered by any
//! limit window in force, minus what is drawn or allocated), reservations and drivers already
//! heading there.

use chargegrid_core::network::{Charger, ConnectorState, ConnectorType, Site};
use chargegrid_core::session::Session;
use chargegrid_core::{ChargerId, ConnectorId, EvseId, Watts};
use chargegrid_store::{LimitWindow, Reservation, SiteAllocation, Store, StoreResult};
use chrono::{DateTime, Utc};

/// Nominal phase voltage used to turn per-phase current limits into power.
const PHASE_VOLTAGE: f64 = 230.0;

/// Everything known about a site right now.
#[derive(Debug, Clone)]
pub(crate) struct SiteSnapshot {
    pub site: Site,
    pub chargers: Vec<Charger>,
    pub states: Vec<ConnectorState>,
    pub sessions: Vec<Session>,
    pub allocation: Option<SiteAllocation>,
    pub windows: Vec<LimitWindow>,
    pub reservations: Vec<Reservation>,
    pub expected_arrivals: usize,
    /// Chargers with a live connection somewhere in the cluster.
    pub online: Vec<ChargerId>,
}

/// One connector as a driver sees it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ConnectorView {
    pub charger: ChargerId,
    pub evse: EvseId,
    pub connector: ConnectorId,
    pub kind: ConnectorType,
    pub max_power: Watts,
    pub status: String,
    /// Available, not reserved.
    pub free: bool,
}

impl SiteSnapshot {
    /// Reads a site's snapshot from the store.
    pub async fn load(store: &dyn Store, site: &Site, now: DateTime<Utc>) -> StoreResult<Self> {
        let chargers = store.chargers_of_site(&site.id).await?;
        let mut states = Vec::new();
        let mut online = Vec::new();
        for c in &chargers {
            states.extend(store.connector_states(&c.id).await?);
            if store.locate(&c.id).await?.is_some() {
                online.push(c.id.clone());
            }
        }
        Ok(Self {
            site: site.clone(),
            states,
            sessions: store.active_sessions(&site.id).await?,
            allocation: store.get_allocation(&site.id).await?,
            windows: store.limit_windows(&site.id).await?,
            reservations: store.active_reservations_of_site(&site.id, now).await?,
            expected_arrivals: store.expected_arrivals(&site.id, now).await?,
            online,
            chargers,
        })
    }

    /// The site's power limit at `now`: the grid connection, tightened by any window in force;
    /// a per-phase current limit counts as three phases at 230 V.
    pub fn limit_at(&self, now: DateTime<Utc>) -> Option<Watts> {
        let mut limit = self.site.grid_limit;
        for w in &self.windows {
            if w.from <= now && w.to.is_none_or(|to| now < to) {
                limit = limit.intersect(&w.limit);
            }
        }
        let from_current = limit.max_current.map(|c| {
            Watts(c.0.iter().map(|a| a.0).fold(f64::INFINITY, f64::min) * PHASE_VOLTAGE * 3.0)
        });
        match (limit.max_power, from_current) {
            (Some(p), Some(c)) => Some(p.min(c)),
            (p, c) => p.or(c),
        }
    }

    /// Power drawn now: the scheduler's allocation when there is one, else metered power.
    pub fn drawn(&self) -> Watts {
        match &self.allocation {
            Some(a) if !a.sessions.is_empty() => a.sessions.iter().map(|s| s.power).sum(),
            _ => self.sessions.iter().filter_map(|s| s.power).sum(),
        }
    }

    /// Power a new EV could get without taking from others (`None`: the site has no limit).
    pub fn headroom(&self, now: DateTime<Utc>) -> Option<Watts> {
        self.limit_at(now)
            .map(|l| (l - self.drawn()).max(Watts::ZERO))
    }

    /// Every connector with its live status.
    pub fn connectors(&self) -> Vec<ConnectorView> {
        let mut out = Vec::new();
        for c in &self.chargers {
            for e in &c.evses {
                let busy_evse = self
                    .sessions
                    .iter()
                    .any(|s| s.charger == c.id && s.evse == e.id);
                let reserved = self
                    .reservations
                    .iter()
                    .any(|r| r.charger == c.id && r.evse == e.id);
                for conn in &e.connectors {
                    let state = self
                        .states
                        .iter()
                        .find(|s| s.charger == c.id && s.connector == conn.id);
                    let status = if self.online.contains(&c.id) {
                        state.map_or("Unknown".to_string(), |s| s.status.as_str().to_string())
                    } else {
                        "Offline".to_string()
                    };
                    let online = self.online.contains(&c.id);
                    let available = online && state.is_some_and(|s| s.status.is_free());
                    out.push(ConnectorView {
                        charger: c.id.clone(),
                        evse: e.id,
                        connector: conn.id,
                        kind: conn.kind.clone(),
                        max_power: conn.max_power.unwrap_or(e.max_power).min(c.max_power),
                        status,
                        free: available && !busy_evse && !reserved,
                    });
                }
            }
        }
        out
    }
}
