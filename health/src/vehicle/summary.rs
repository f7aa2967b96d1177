//! The part of a session's features a vehicle's state keeps: small, so years of sessions fit
//! in one stored document, and enough to recompute every vehicle-level figure.

use crate::config::HealthConfig;
use crate::features::{AnomalyKind, SessionFeatures, TopPoint};
use crate::quality::QualityReason;
use crate::units::Ohms;
use chargegrid_core::{ChargerId, SessionId, Volts, WattHours, Watts};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One session, as the vehicle's state remembers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionSummary {
    /// The session.
    pub session: SessionId,
    /// The charger.
    pub charger: ChargerId,
    /// Start.
    pub started_at: DateTime<Utc>,
    /// End.
    pub ended_at: DateTime<Utc>,
    /// DC or AC.
    pub dc: bool,
    /// Odometer, km.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub odometer_km: Option<f64>,
    /// Energy delivered.
    pub energy: WattHours,
    /// SoC at the end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub soc_end: Option<f64>,
    /// Width of the SoC window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub soc_window: Option<f64>,
    /// Whether the capacity estimate is usable (wide window, clean data).
    pub capacity_usable: bool,
    /// Ah per 100 % SoC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ah_per_full: Option<f64>,
    /// Wh per 100 % SoC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wh_per_full: Option<WattHours>,
    /// Charge-weighted mean terminal voltage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean_voltage: Option<Volts>,
    /// Mid-SoC resistance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resistance: Option<Ohms>,
    /// Temperature of the resistance steps, °C.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resistance_temperature_c: Option<f64>,
    /// Taper onset SoC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taper_onset_soc: Option<f64>,
    /// Whether the taper was the EV's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ev_limited: Option<bool>,
    /// Minutes 20 → 80 %.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minutes_20_to_80: Option<f64>,
    /// Highest power.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_power: Option<Watts>,
    /// Energy above 100 kW.
    pub energy_above_100kw: WattHours,
    /// Seconds at ≥ 90 % SoC.
    pub seconds_above_90_soc: f64,
    /// The EV ended it.
    pub ev_abort: bool,
    /// The EV reported a battery malfunction.
    pub battery_malfunction: bool,
    /// The EV's temperature looked dead (stuck or implausible).
    pub temperature_sensor_suspect: bool,
    /// DC samples above 60 % SoC (for the BMS SoC check).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub top_of_charge: Vec<TopPoint>,
    /// Auxiliary current the session separated from the battery's charge, A (then
    /// `ah_per_full` is net of it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aux_current_a: Option<f64>,
    /// Standard error of `aux_current_a`, A (`None` in summaries kept before it was recorded:
    /// the separated load is then taken as exact, as it was).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aux_current_se_a: Option<f64>,
    /// Mean DC current over the capacity fit's span, A.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean_current_a: Option<f64>,
    /// Mean of the EV's first and last battery temperature, °C, when usable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub battery_temperature_c: Option<f64>,
}

impl SessionSummary {
    /// Mid-SoC resistance referred to 25 °C when the EV reported its battery temperature (then
    /// `true`), else as measured (`false`).
    pub fn resistance_corrected(&self, cfg: &HealthConfig) -> Option<(f64, bool)> {
        let r = self.resistance?.0;
        Some(match self.resistance_temperature_c {
            Some(t) => (to_25c(r, t, cfg.resistance_activation_energy), true),
            None => (r, false),
        })
    }

    /// Whether the session's capacity estimate is usable and spans at least the configured
    /// SoC window (the sessions a capacity figure is built from).
    pub fn wide_window(&self, cfg: &HealthConfig) -> bool {
        self.capacity_usable && self.soc_window.unwrap_or(0.0) >= cfg.min_soc_window
    }

    /// The summary of a session's features.
    pub fn from_features(f: &SessionFeatures) -> Self {
        let t = &f.thermal.flag.reasons;
        Self {
            session: f.session.clone(),
            charger: f.charger.clone(),
            started_at: f.started_at,
            ended_at: f.ended_at,
            dc: f.dc,
            odometer_km: f.odometer_km,
            energy: f.energy.energy,
            soc_end: f.energy.soc_end,
            soc_window: f
                .capacity
                .soc_from
                .zip(f.capacity.soc_to)
                .map(|(a, b)| b - a),
            capacity_usable: f.capacity.flag.usable(),
            ah_per_full: f.capacity.ah_per_full,
            wh_per_full: f.capacity.wh_per_full,
            mean_voltage: f.capacity.mean_voltage,
            resistance: f.resistance.mid_soc_median,
            resistance_temperature_c: f.resistance.mid_soc_temperature_c,
            taper_onset_soc: f.acceptance.taper_onset_soc,
            ev_limited: f.acceptance.ev_limited,
            minutes_20_to_80: f.acceptance.minutes_20_to_80,
            peak_power: f.stressors.peak_power,
            energy_above_100kw: f.stressors.energy_above_100kw,
            seconds_above_90_soc: f.stressors.seconds_above_90_soc,
            ev_abort: f.ev_abort(),
            battery_malfunction: f.has_anomaly(AnomalyKind::BatteryMalfunctionCode),
            temperature_sensor_suspect: t.contains(&QualityReason::TemperatureStuck)
                || t.contains(&QualityReason::TemperatureImplausible),
            top_of_charge: f.top_of_charge.clone(),
            aux_current_a: f.capacity.aux_current_a,
            aux_current_se_a: f.capacity.aux_current_se_a,
            mean_current_a: f.capacity.mean_current_a,
            battery_temperature_c: f
                .thermal
                .start_c
                .zip(f.thermal.end_c)
                .filter(|_| f.thermal.temperatures_usable())
                .map(|(a, b)| (a + b) / 2.0),
        }
    }
}
/// The gas constant, J/(mol·K).
const GAS_CONSTANT: f64 = 8.314;
/// 25 °C in kelvin.
const T25_K: f64 = 298.15;

/// `r` measured at `temp_c`, referred to 25 °C.
pub fn to_25c(r: f64, temp_c: f64, activation_energy: f64) -> f64 {
    let t = temp_c + 273.15;
    r * (-activation_energy / GAS_CONSTANT * (1.0 / t - 1.0 / T25_K)).exp()
}
