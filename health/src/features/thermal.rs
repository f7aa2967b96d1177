//! Battery temperature rise per kWh charged, from EV-located temperatures only (a charger's
//! Body or Outlet temperature says nothing about the pack). A value that never moves during a
//! long session is taken for a dead sensor.

use crate::quality::{Quality, QualityFlag, QualityReason};
use chargegrid_core::meter::MeterSeries;
use serde::{Deserialize, Serialize};

/// Energy (Wh) after which an unmoving EV temperature is taken for a stuck sensor.
const STUCK_AFTER_WH: f64 = 15_000.0;

/// A session's thermal figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThermalFeature {
    /// First EV temperature, °C.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_c: Option<f64>,
    /// Last EV temperature, °C.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_c: Option<f64>,
    /// Highest EV temperature, °C.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_c: Option<f64>,
    /// (max − start) per kWh delivered, K/kWh.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rise_per_kwh: Option<f64>,
    /// Quality.
    pub flag: QualityFlag,
}

impl ThermalFeature {
    /// Whether EV temperatures may be used by other features.
    pub fn temperatures_usable(&self) -> bool {
        self.flag.usable()
    }
}

/// Thermal feature of a session that delivered `energy_wh`.
pub(crate) fn thermal_feature(series: &MeterSeries, energy_wh: f64) -> ThermalFeature {
    let temps: Vec<f64> = series
        .points
        .iter()
        .filter_map(|p| p.ev_temperature)
        .collect();
    if temps.is_empty() {
        let reason = if series.non_ev_temperature_seen {
            QualityReason::TemperatureNotFromEv
        } else {
            QualityReason::NoEvTemperature
        };
        return ThermalFeature {
            start_c: None,
            end_c: None,
            max_c: None,
            rise_per_kwh: None,
            flag: QualityFlag::unusable(reason),
        };
    }
    let start = temps[0];
    let max = temps.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let min = temps.iter().copied().fold(f64::INFINITY, f64::min);
    let mut flag = QualityFlag::good();
    if !(-40.0..=90.0).contains(&min) || !(-40.0..=90.0).contains(&max) || min <= -39.5 {
        flag.degrade(Quality::Unusable, QualityReason::TemperatureImplausible);
    }
    if temps.len() >= 5 && max == min && energy_wh >= STUCK_AFTER_WH {
        flag.degrade(Quality::Unusable, QualityReason::TemperatureStuck);
    }
    let rise_per_kwh =
        (energy_wh >= 1000.0 && flag.usable()).then(|| (max - start) / (energy_wh / 1000.0));
    ThermalFeature {
        start_c: Some(start),
        end_c: temps.last().copied(),
        max_c: Some(max),
        rise_per_kwh,
        flag,
    }
}
