//! One EV's visit: who it is, when it arrives and must leave, how full it is and how much
//! energy its driver wants. Scenarios generate these from distributions or ACN-Data.

use chargegrid_core::{IdTag, SiteId, WattHours};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::VehicleKind;

/// An EV visit to plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvPlan {
    /// A run-unique number (sessions are matched to it).
    pub key: u64,
    /// Vehicle id (VIN-like).
    pub vehicle: String,
    /// The vehicle type.
    pub kind: VehicleKind,
    /// The token it charges with.
    pub id_tag: IdTag,
    /// When it arrives (simulated time).
    pub arrival: DateTime<Utc>,
    /// When the driver leaves, charged or not.
    pub departure: DateTime<Utc>,
    /// SoC at arrival, percent.
    pub arrival_soc_pct: f64,
    /// The car stops at this displayed SoC, percent.
    pub target_soc_pct: f64,
    /// The energy the driver wants (the car also stops once it has it).
    pub energy_need: WattHours,
    /// The site it heads for; `None` when it is dispatched.
    pub site: Option<SiteId>,
    /// Where the driver is when asking for a station (dispatched drivers).
    #[serde(default)]
    pub position: Option<(f64, f64)>,
    /// Whether it wants DC (otherwise AC); a DC car also accepts AC when nothing else is free.
    pub wants_dc: bool,
    /// Ambient temperature, °C.
    pub ambient_c: f64,
}
