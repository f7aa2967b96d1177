//! What is known about a vehicle before any session: its model and nominal battery.

use chargegrid_core::driver::{BatterySpec, Vehicle};
use chargegrid_core::{FleetId, VehicleId, WattHours};
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
    /// The battery in effect (the vehicle's own datasheet fields over its model's). The
    /// charge-domain SoH needs its rated Ah, given or as rated energy over rated voltage;
    /// without them no SoH is estimated (nothing is guessed from charging voltages).
    #[serde(default)]
    pub battery: BatterySpec,
    /// Plate or fleet number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// First registration (the battery's calendar age).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_registration: Option<chrono::NaiveDate>,
}

impl VehicleSpec {
    /// From the domain vehicle and its battery in effect.
    pub fn from_vehicle(v: &Vehicle, battery: BatterySpec) -> Self {
        Self {
            vehicle: v.id.clone(),
            fleet: v.fleet.clone(),
            model: v.model.clone(),
            nominal_capacity: v.nominal_capacity,
            battery,
            label: v.label.clone(),
            first_registration: v.first_registration,
        }
    }

    /// The rated capacity in Ah: the battery's own figure, or its rated energy (the vehicle's
    /// nominal capacity when the battery gives none) over its rated voltage. `None` when that
    /// cannot be known without guessing.
    pub fn rated_ah(&self) -> Option<chargegrid_core::AmpereHours> {
        let mut b = self.battery.clone();
        if b.nominal_energy_kwh.is_none() && self.nominal_capacity.0 > 0.0 {
            b.nominal_energy_kwh = Some(self.nominal_capacity.kwh());
        }
        b.capacity_ah()
    }
}
