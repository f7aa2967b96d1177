//! How a charger and car report: resolutions, noise, the meter's calibration, where the
//! temperature comes from, and whether AC sessions carry a SoC (ISO 15118 / OCPP 2.0.1).

use chargegrid_core::meter::MeterLocation;
use serde::{Deserialize, Serialize};

/// A charger/vehicle reporting profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportingProfile {
    /// Energy register resolution, Wh (1, or 10 for kWh with two decimals).
    pub energy_resolution_wh: f64,
    /// Meter gain (1.0 = exact; a class 0.5 meter is within ±0.005).
    pub meter_gain: f64,
    /// Current noise, A (1σ).
    pub current_noise_a: f64,
    /// Current resolution, A.
    pub current_resolution_a: f64,
    /// Voltage noise, V (1σ).
    pub voltage_noise_v: f64,
    /// Voltage resolution, V.
    pub voltage_resolution_v: f64,
    /// Power resolution, W.
    pub power_resolution_w: f64,
    /// SoC resolution, points (1 = integer percent).
    pub soc_resolution: f64,
    /// Temperature resolution, °C.
    pub temperature_resolution_c: f64,
    /// Where the reported temperature comes from: `Ev` (battery) or the charger's `Body`.
    pub temperature_location: Option<MeterLocation>,
    /// Whether AC sessions report SoC.
    pub soc_on_ac: bool,
}

impl Default for ReportingProfile {
    fn default() -> Self {
        Self {
            energy_resolution_wh: 1.0,
            meter_gain: 1.0,
            current_noise_a: 0.3,
            current_resolution_a: 0.1,
            voltage_noise_v: 0.2,
            voltage_resolution_v: 0.1,
            power_resolution_w: 1.0,
            soc_resolution: 1.0,
            temperature_resolution_c: 1.0,
            temperature_location: Some(MeterLocation::Ev),
            soc_on_ac: false,
        }
    }
}
