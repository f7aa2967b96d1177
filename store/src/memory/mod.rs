//! The in-memory store (`memory://`): everything in one process behind a mutex. The default
//! for a single node and for development. Alone, nothing survives a restart; with a
//! [`Journal`] (the embedded default gives it the records' SQLite file) what people entered
//! does.

mod accounts;
mod audit;
mod bus;
mod changes;
mod health;
mod journal;
mod network;
mod registry;
mod reservations;
mod scheduling;
mod sessions;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use chargegrid_core::command::ChargingLimit;
use chargegrid_core::driver::{Driver, Fleet, IdTagRecord, Vehicle};
use chargegrid_core::meter::MeterSample;
use chargegrid_core::network::{Charger, ConnectorState, Site};
use chargegrid_core::session::Session;
use chargegrid_core::{
    ChargerId, Clock, ConnectorId, DriverId, EvseId, FleetId, NodeId, SessionId, SiteId, VehicleId,
};
use chrono::{DateTime, Utc};
use tokio::sync::mpsc;

use crate::accounts::TokenRecord;
use crate::bus::IncomingCommand;
use crate::registry::BootInfo;
use crate::scheduling::{EvNeeds, Lease, LimitWindow, SiteAllocation};
use crate::{Store, StoreResult};
pub use journal::Journal;

/// Everything kept, in plain collections.
#[derive(Default)]
struct State {
    sites: BTreeMap<SiteId, Site>,
    sites_version: u64,
    chargers: BTreeMap<ChargerId, Charger>,
    connectors: HashMap<ChargerId, BTreeMap<ConnectorId, ConnectorState>>,

    connections: HashMap<ChargerId, (NodeId, DateTime<Utc>)>,
    boots: HashMap<ChargerId, BootInfo>,
    devices: HashMap<ChargerId, chargegrid_core::device::DeviceState>,
    last_seen: HashMap<ChargerId, DateTime<Utc>>,
    refusals: std::collections::VecDeque<crate::RefusedHandshake>,

    last_transaction_id: i32,
    sessions: HashMap<SessionId, Session>,
    by_transaction: HashMap<(ChargerId, String), SessionId>,
    active: HashMap<SiteId, BTreeSet<SessionId>>,
    active_by_charger: HashMap<ChargerId, BTreeSet<SessionId>>,
    active_by_tag: HashMap<String, BTreeSet<SessionId>>,
    by_driver: HashMap<DriverId, BTreeSet<(DateTime<Utc>, SessionId)>>,
    by_fleet: HashMap<FleetId, BTreeSet<(DateTime<Utc>, SessionId)>>,
    samples: HashMap<SessionId, Vec<MeterSample>>,
    records_outbox: HashMap<SiteId, std::collections::VecDeque<SessionId>>,

    drivers: HashMap<DriverId, Driver>,
    emails: HashMap<String, DriverId>,
    tags: HashMap<String, IdTagRecord>,
    fleets: HashMap<FleetId, Fleet>,
    vehicles: BTreeMap<VehicleId, Vehicle>,
    vehicle_models: HashMap<FleetId, BTreeMap<String, chargegrid_core::driver::VehicleModel>>,
    tokens: HashMap<String, TokenRecord>,
    api_keys: BTreeMap<String, crate::ApiKey>,
    api_key_secrets: HashMap<String, String>,

    audit: BTreeMap<u64, crate::AuditEntry>,
    audit_seq: u64,

    allocations: HashMap<SiteId, SiteAllocation>,
    /// The highest scheduler fencing token seen per site.
    fences: HashMap<SiteId, u64>,
    windows: HashMap<SiteId, BTreeMap<String, LimitWindow>>,
    needs: HashMap<(SiteId, SessionId), EvNeeds>,
    statement_ratios: HashMap<SiteId, std::collections::VecDeque<f64>>,
    /// Per site and UTC day, the energy that arrived in each quarter-hour (`None`: no arrival),
    /// and until when the day is kept.
    past_arrivals: HashMap<SiteId, BTreeMap<chrono::NaiveDate, DayOfArrivals>>,
    sent: HashMap<SiteId, BTreeMap<(ChargerId, EvseId), ChargingLimit>>,
    leases: HashMap<String, (Lease, DateTime<Utc>)>,
    lease_tokens: HashMap<String, u64>,

    last_reservation_id: i32,
    reservations: BTreeMap<i32, crate::Reservation>,
    arrivals: HashMap<SiteId, HashMap<String, DateTime<Utc>>>,
    revoked_families: HashMap<String, DateTime<Utc>>,
    /// Tokens written so far (drives the periodic purge of expired ones).
    token_writes: u64,

    features: HashMap<VehicleId, BTreeMap<SessionId, serde_json::Value>>,
    reports: BTreeMap<VehicleId, (Option<FleetId>, serde_json::Value)>,
    fleet_documents: HashMap<(FleetId, String), String>,
}

/// One UTC day of a site's arrivals: the energy per quarter-hour (`None`: no arrival), and
/// until when the day is kept.
type DayOfArrivals = (
    [Option<f64>; chargegrid_core::arrivals::SLOTS],
    DateTime<Utc>,
);

/// The in-memory store. Cheap to clone: clones share state.
#[derive(Clone)]
pub struct MemoryStore {
    state: Arc<Mutex<State>>,
    journal: Option<Arc<dyn Journal>>,
    journal_lock: Arc<tokio::sync::Mutex<()>>,
    subscribers: Arc<Mutex<HashMap<NodeId, mpsc::Sender<IncomingCommand>>>>,
    changes: tokio::sync::broadcast::Sender<crate::SiteChange>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore").finish_non_exhaustive()
    }
}

impl MemoryStore {
    /// An empty store whose expiries (connections, tokens, leases) follow `clock`.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            state: Arc::default(),
            journal: None,
            journal_lock: Arc::default(),
            subscribers: Arc::default(),
            changes: tokio::sync::broadcast::channel(4096).0,
            clock,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain data behind; keep serving it.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}

#[async_trait]
impl Store for MemoryStore {
    fn backend(&self) -> &'static str {
        "memory"
    }

    async fn ping(&self) -> StoreResult<()> {
        Ok(())
    }
}

/// Converts a std duration to chrono for expiry arithmetic (saturating).
fn ttl(d: std::time::Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}
