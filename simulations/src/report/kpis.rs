//! The KPI types of a run (serialised as the JSON result).

use std::collections::BTreeMap;

use chargegrid_core::SiteId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::charger::SessionRecord;
use crate::scenario::{DriverRecord, LimitWindow};
use crate::stats::LatencyHistogram;

/// Chargers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChargerKpis {
    /// Simulated chargers.
    pub total: usize,
    /// Chargers whose BootNotification was accepted.
    pub booted: usize,
    /// Wall ms from first connection attempt to accepted boot, p50.
    pub boot_ms_p50: f64,
    /// Same, p99.
    pub boot_ms_p99: f64,
    /// WebSocket connections made (first ones included).
    pub connects: u64,
    /// Failed connection attempts.
    pub connect_failures: u64,
}

/// Energy.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EnergyKpis {
    /// Energy drivers wanted (all planned EVs), kWh.
    pub requested_kwh: f64,
    /// Energy delivered, kWh.
    pub delivered_kwh: f64,
    /// Delivered / requested.
    pub delivered_ratio: f64,
}

/// Sessions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionKpis {
    /// EVs planned.
    pub planned: usize,
    /// EVs that arrived within the run.
    pub arrived: usize,
    /// Transactions started.
    pub started: usize,
    /// Sessions where the car got its need or target SoC.
    pub fully_served: usize,
    /// Sessions the server refused the token of.
    pub refused: usize,
    /// Sessions still running when the run ended (stopped with reason Local).
    pub cut_by_end: usize,
    /// Drivers who left without a free EVSE.
    pub gave_up: usize,
}

/// One site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteKpis {
    /// Site.
    pub site: SiteId,
    /// The grid limit, kW (lowest value during the run if demand response lowered it).
    pub limit_kw: Option<f64>,
    /// Highest bucket-mean power, kW.
    pub peak_kw: f64,
    /// Buckets whose mean power exceeded the limit in force (+1 %).
    pub violations: usize,
    /// Largest excess, kW.
    pub max_excess_kw: f64,
    /// Energy, kWh.
    pub energy_kwh: f64,
    /// Sessions started.
    pub sessions: usize,
}

/// Site power over time (bucket means).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteSeries {
    /// Site.
    pub site: SiteId,
    /// Bucket starts, hours from the run's start.
    pub t_h: Vec<f64>,
    /// Mean power, kW.
    pub power_kw: Vec<f64>,
    /// Mean limit in force, kW.
    pub limit_kw: Vec<Option<f64>>,
}

/// Limits and profiles.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LimitKpis {
    /// Site-buckets over the limit, all sites.
    pub violations: usize,
    /// Charging profiles received by the chargers.
    pub profiles_received: usize,
    /// Of which accepted.
    pub profiles_accepted: usize,
    /// Physics steps where an EVSE drew more than its own profile limit (quirky chargers).
    pub own_limit_exceeded_steps: u64,
    /// Demand-response windows.
    pub demand_response: Vec<LimitWindow>,
}

/// Drivers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DriverKpis {
    /// Drivers who had to wait for an EVSE.
    pub waited: usize,
    /// Waiting time p50, minutes (of those who waited).
    pub wait_min_p50: f64,
    /// p95.
    pub wait_min_p95: f64,
    /// Longest.
    pub wait_min_max: f64,
    /// Dispatched through the API / fallback to nearest / nearest by design.
    pub dispatch: BTreeMap<String, usize>,
    /// Mean distance to the chosen site, km (dispatched drivers).
    pub distance_km_mean: f64,
    /// Mean detour against the nearest site, km.
    pub detour_km_mean: f64,
    /// Largest detour, km.
    pub detour_km_max: f64,
    /// Dispatch problems (e.g. "recommendations endpoint absent (404)").
    pub dispatch_problems: Vec<String>,
    /// Per-driver records.
    pub records: Vec<DriverRecord>,
}

/// One action's OCPP figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionKpi {
    /// Action.
    pub action: String,
    /// CALLs sent.
    pub sent: u64,
    /// Latency p50, ms.
    pub p50_ms: f64,
    /// Latency p99, ms.
    pub p99_ms: f64,
    /// CALLERRORs.
    pub errors: u64,
    /// Timeouts.
    pub timeouts: u64,
}

/// OCPP traffic.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OcppKpis {
    /// CALLs sent by the chargers.
    pub messages_sent: u64,
    /// Per wall second of the run.
    pub messages_per_s: f64,
    /// CALLERRORs and timeouts.
    pub errors: u64,
    /// Transaction messages replayed after being queued offline.
    pub replayed: u64,
    /// Of which answered with a CALLERROR.
    pub replay_errors: u64,
    /// Calls the CSMS made, by action.
    pub csms_calls: BTreeMap<String, u64>,
    /// Per action.
    pub actions: Vec<ActionKpi>,
    /// All latencies.
    pub latency: LatencyHistogram,
}

/// A scenario run's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    /// Scenario name.
    pub scenario: String,
    /// OCPP URL of the server.
    pub target: String,
    /// Simulated start.
    pub sim_start: DateTime<Utc>,
    /// Simulated end.
    pub sim_end: DateTime<Utc>,
    /// Time scale used.
    pub time_scale: f64,
    /// Wall seconds of the run (without the final flush).
    pub wall_s: f64,
    /// Chargers.
    pub chargers: ChargerKpis,
    /// Energy.
    pub energy: EnergyKpis,
    /// Sessions.
    pub sessions: SessionKpis,
    /// Sites.
    pub sites: Vec<SiteKpis>,
    /// Limits.
    pub limits: LimitKpis,
    /// Drivers.
    pub drivers: DriverKpis,
    /// OCPP.
    pub ocpp: OcppKpis,
    /// Problems seen by the chargers (first 50) and how many in all.
    pub errors: Vec<String>,
    /// Problem count.
    pub error_count: u64,
    /// Site power over time.
    pub series: Vec<SiteSeries>,
    /// Sessions as the chargers recorded them.
    pub session_records: Vec<SessionRecord>,
}
