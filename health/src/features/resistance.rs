//! DC internal resistance from current steps: ΔV/ΔI between samples a fixed lag apart, where
//! the current changed by at least the configured step. The open-circuit voltage keeps rising
//! while charging, so the drift measured over neighbouring steady intervals is subtracted first;
//! otherwise a falling current would understate the resistance by the SoC rise in between.

use super::series::secs;
use crate::config::HealthConfig;
use crate::quality::{Quality, QualityFlag, QualityReason};
use crate::stats::median;
use crate::units::Ohms;
use chargegrid_core::meter::MeterSeries;
use chargegrid_core::{Amperes, Volts};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One current step and the resistance it shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResistanceStep {
    /// Time of the later sample.
    pub at: DateTime<Utc>,
    /// SoC at the step (mean of both samples).
    pub soc: f64,
    /// 10-point SoC band (0, 10, …, 90).
    pub soc_band: u8,
    /// Battery temperature at the step, when an EV temperature is reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature_c: Option<f64>,
    /// 5 °C temperature band (floor), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature_band: Option<i32>,
    /// Current change.
    pub delta_current: Amperes,
    /// Voltage change after drift correction.
    pub delta_voltage: Volts,
    /// ΔV/ΔI.
    pub resistance: Ohms,
}

/// The session's resistance steps and summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResistanceFeature {
    /// Every accepted step.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<ResistanceStep>,
    /// Median over all steps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub median: Option<Ohms>,
    /// Median over steps in the configured mid-SoC band (the comparable figure).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mid_soc_median: Option<Ohms>,
    /// Median temperature of those mid-band steps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mid_soc_temperature_c: Option<f64>,
    /// Quality.
    pub flag: QualityFlag,
}

fn steady(a: f64, b: f64) -> bool {
    (a - b).abs() <= (0.03 * a.abs().max(b.abs())).max(2.0)
}

/// Voltage drift rate (V/s) over the interval i → j if the current stayed steady in it.
fn drift(series: &MeterSeries, i: usize, j: usize) -> Option<f64> {
    let (a, b) = (&series.points[i], &series.points[j]);
    let (ia, ib, va, vb) = (a.current?.0, b.current?.0, a.voltage?.0, b.voltage?.0);
    let dt = secs(a.at, b.at);
    (steady(ia, ib) && dt > 0.0).then(|| (vb - va) / dt)
}

/// Finds the steps. `temps_ok` says whether EV temperatures may be used.
pub(crate) fn resistance_feature(
    series: &MeterSeries,
    dc: bool,
    temps_ok: bool,
    cfg: &HealthConfig,
) -> ResistanceFeature {
    let mut flag = QualityFlag::good();
    if !dc {
        flag.degrade(Quality::Unusable, QualityReason::AcGridSide);
        return ResistanceFeature::empty(flag);
    }
    let pts = &series.points;
    let lag = cfg.resistance_lag.max(1);
    let mut steps = Vec::new();
    for i in 0..pts.len().saturating_sub(lag) {
        let j = i + lag;
        let (a, b) = (&pts[i], &pts[j]);
        let (Some(ia), Some(ib), Some(va), Some(vb)) = (a.current, b.current, a.voltage, b.voltage)
        else {
            continue;
        };
        let di = ib.0 - ia.0;
        if di.abs() < cfg.min_current_step.0 || di.abs() < 0.15 * ia.0.abs().max(ib.0.abs()) {
            continue;
        }
        let (Some(sa), Some(sb)) = (a.soc, b.soc) else {
            continue;
        };
        if (sb - sa).abs() > cfg.max_step_soc_change {
            continue;
        }
        let before = (i >= lag).then(|| drift(series, i - lag, i)).flatten();
        let after = (j + lag < pts.len())
            .then(|| drift(series, j, j + lag))
            .flatten();
        let rate = match (before, after) {
            (Some(x), Some(y)) => (x + y) / 2.0,
            (Some(x), None) | (None, Some(x)) => x,
            (None, None) => 0.0,
        };
        let dv = vb.0 - va.0 - rate * secs(a.at, b.at);
        let r = dv / di;
        if !(r > 0.0 && r < 2.0) {
            continue;
        }
        let soc = (sa + sb) / 2.0;
        let temperature_c = if temps_ok {
            match (a.ev_temperature, b.ev_temperature) {
                (Some(x), Some(y)) => Some((x + y) / 2.0),
                (x, y) => x.or(y),
            }
        } else {
            None
        };
        steps.push(ResistanceStep {
            at: b.at,
            soc,
            soc_band: ((soc / 10.0).floor().clamp(0.0, 9.0) as u8) * 10,
            temperature_c,
            temperature_band: temperature_c.map(|t| ((t / 5.0).floor() as i32) * 5),
            delta_current: Amperes(di),
            delta_voltage: Volts(dv),
            resistance: Ohms(r),
        });
    }
    if steps.is_empty() {
        flag.degrade(Quality::Unusable, QualityReason::NoCurrentStep);
        return ResistanceFeature::empty(flag);
    }
    let all: Vec<f64> = steps.iter().map(|s| s.resistance.0).collect();
    let (lo, hi) = cfg.resistance_soc_band;
    let mid: Vec<&ResistanceStep> = steps
        .iter()
        .filter(|s| s.soc >= lo && s.soc <= hi)
        .collect();
    let mid_r: Vec<f64> = mid.iter().map(|s| s.resistance.0).collect();
    let mid_t: Vec<f64> = mid.iter().filter_map(|s| s.temperature_c).collect();
    if mid_r.is_empty() {
        flag.degrade(Quality::Limited, QualityReason::NoCurrentStep);
    }
    if !temps_ok || mid_t.len() < mid_r.len() {
        flag.degrade(Quality::Limited, QualityReason::NoEvTemperature);
    }
    ResistanceFeature {
        median: median(&all).map(Ohms),
        mid_soc_median: median(&mid_r).map(Ohms),
        mid_soc_temperature_c: median(&mid_t),
        steps,
        flag,
    }
}

impl ResistanceFeature {
    fn empty(flag: QualityFlag) -> Self {
        Self {
            steps: Vec::new(),
            median: None,
            mid_soc_median: None,
            mid_soc_temperature_c: None,
            flag,
        }
    }
}
