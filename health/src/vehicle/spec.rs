//! What is known about a vehicle before any session: its model and nominal battery.

use chargegrid_core::driver::Vehicle;
use chargegrid_core::{FleetId, VehicleId, Volts, WattHours};
use serde::{Deserialize, Serialize};

/// A vehicle as the health estimators need it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VehicleSpec {
    /// The vehicle.
    pub vehicle: VehicleId,
    /// Its fleet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fleet: Option<FleetId>,
    /// Make and model: the cohort it is compared with.
    pub model: String,
    /// Nominal usable capacity when new.
    pub nominal_capacity: WattHours,
    /// Nominal pack voltage from the model's datasheet. With it, a charge-based (Ah) capacity
    /// converts to energy exactly; without it the voltage is inferred from charging data and
    /// the estimate is graded lower.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nominal_voltage: Option<Volts>,
    /// Plate or fleet number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

impl VehicleSpec {
    /// From the domain vehicle, with the model's nominal pack voltage when known.
    pub fn from_vehicle(v: &Vehicle, nominal_voltage: Option<Volts>) -> Self {
        Self {
            vehicle: v.id.clone(),
            fleet: v.fleet.clone(),
            model: v.model.clone(),
            nominal_capacity: v.nominal_capacity,
            nominal_voltage,
            label: v.label.clone(),
        }
    }
}
