//! Ageing with known ground truth: capacity fades and resistance grows with calendar time and
//! equivalent full cycles; faults step them or corrupt what the car reports.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Smooth ageing rates.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AgeingModel {
    /// Capacity loss per month, SoH points.
    pub fade_pct_per_month: f64,
    /// Capacity loss per equivalent full cycle, SoH points.
    pub fade_pct_per_cycle: f64,
    /// Relative resistance growth per month.
    pub resistance_growth_per_month: f64,
    /// Relative resistance growth per equivalent full cycle.
    pub resistance_growth_per_cycle: f64,
}

impl Default for AgeingModel {
    fn default() -> Self {
        Self {
            fade_pct_per_month: 0.12,
            fade_pct_per_cycle: 0.004,
            resistance_growth_per_month: 0.003,
            resistance_growth_per_cycle: 0.0001,
        }
    }
}

/// An injected fault, active from its time on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    /// Capacity drops by `drop_pct` SoH points (a failing module).
    CapacityStep {
        /// From when.
        at: DateTime<Utc>,
        /// Points lost.
        drop_pct: f64,
    },
    /// Resistance multiplies by `factor` (a failing joint or cell).
    ResistanceJump {
        /// From when.
        at: DateTime<Utc>,
        /// Multiplier.
        factor: f64,
    },
    /// Reported SoC = true SoC × `scale` + `offset` (a BMS that lost its calibration).
    BmsSocError {
        /// From when.
        at: DateTime<Utc>,
        /// Scale.
        scale: f64,
        /// Offset, points.
        offset: f64,
    },
    /// The battery temperature sensor reports `value` forever.
    DeadTemperatureSensor {
        /// From when.
        at: DateTime<Utc>,
        /// The stuck reading, °C.
        value: f64,
    },
    /// The EV aborts sessions at random with `probability` each.
    SpuriousAborts {
        /// From when.
        at: DateTime<Utc>,
        /// Per-session probability.
        probability: f64,
    },
    /// The EV reports `FAILED_EVRESSMalfunction` in its sessions.
    BatteryMalfunction {
        /// From when.
        at: DateTime<Utc>,
    },
}

impl Fault {
    /// When the fault starts.
    pub fn at(&self) -> DateTime<Utc> {
        match self {
            Fault::CapacityStep { at, .. }
            | Fault::ResistanceJump { at, .. }
            | Fault::BmsSocError { at, .. }
            | Fault::DeadTemperatureSensor { at, .. }
            | Fault::SpuriousAborts { at, .. }
            | Fault::BatteryMalfunction { at } => *at,
        }
    }
}

/// The truth about a battery at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GroundTruth {
    /// When.
    pub at: DateTime<Utc>,
    /// True usable capacity, Ah.
    pub capacity_ah: f64,
    /// True usable energy at the nominal voltage, Wh.
    pub capacity_wh: f64,
    /// True resistance at 25 °C, mid SoC, ohms.
    pub resistance_25c_ohm: f64,
    /// True state of health: capacity over nominal, percent.
    pub soh_pct: f64,
    /// Equivalent full cycles so far.
    pub equivalent_full_cycles: f64,
    /// Odometer, km.
    pub odometer_km: f64,
}
