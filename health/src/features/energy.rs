//! Energy and charge delivered, the SoC window, and the cumulative energy/charge curves the
//! capacity fit uses. Registers are preferred to integrated power: they count exactly.

use super::context::SessionContext;
use super::series::secs;
use crate::quality::{Quality, QualityFlag, QualityReason};
use chargegrid_core::WattHours;
use chargegrid_core::meter::{MeterSeries, UNKNOWN_CHARGER_MAX};
use serde::{Deserialize, Serialize};

/// Energy and charge delivered in one session, against its SoC window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnergyFeature {
    /// Energy delivered (meter resets bridged).
    pub energy: WattHours,
    /// Charge delivered (Ah), DC only: the trapezoid of the measured DC current, else register
    /// increments divided by the mean voltage of each interval (a register is often metered on
    /// the AC side, where conversion losses and standby draw inflate it by several percent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charge_ah: Option<f64>,
    /// First reported SoC, percent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub soc_start: Option<f64>,
    /// Last reported SoC, percent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub soc_end: Option<f64>,
    /// `soc_end − soc_start`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delta_soc: Option<f64>,
    /// From first to last sample, seconds.
    pub duration_s: f64,
    /// Quality.
    pub flag: QualityFlag,
}

/// Cumulative curves over the points of a series.
#[derive(Debug, Clone, Default)]
pub(crate) struct Cumulative {
    /// Energy since the first point, Wh, per point.
    pub energy: Vec<f64>,
    /// Charge since the first point, Ah, per point (DC with current or voltage).
    pub charge: Option<Vec<f64>>,
    /// Register reset or re-based (a held reading the next one confirmed).
    pub resets: usize,
    /// Register readings dropped as glitches, or steps taken back.
    pub decreases: usize,
    /// No register at all: energy is integrated power.
    pub from_power: bool,
}

/// Builds the cumulative energy (and, for DC, charge) curves. The register is counted by the
/// core's one rule ([`MeterSeries::register_curve`], the same the session's energy was counted
/// by live), bounded by the charger's power when known; without a register, power is integrated.
pub(crate) fn cumulative(series: &MeterSeries, ctx: &SessionContext) -> Cumulative {
    let pts = &series.points;
    let max_power = ctx.charger_max_power.unwrap_or(UNKNOWN_CHARGER_MAX);
    let mut out = match series.register_curve(ctx.started_at, None, max_power) {
        Some(curve) => Cumulative {
            energy: curve.energy.iter().map(|e| e.0).collect(),
            resets: curve.resets,
            decreases: curve.glitches,
            ..Default::default()
        },
        None => {
            let mut energy = vec![0.0; pts.len()];
            for i in 1..pts.len() {
                let inc = match (series.power_at(i - 1), series.power_at(i)) {
                    (Some(a), Some(b)) => {
                        (a.0 + b.0) / 2.0 * secs(pts[i - 1].at, pts[i].at) / 3600.0
                    }
                    _ => 0.0,
                };
                energy[i] = energy[i - 1] + inc.max(0.0);
            }
            Cumulative {
                energy,
                from_power: true,
                ..Default::default()
            }
        }
    };
    if ctx.dc {
        out.charge = cumulative_charge(series, &out.energy);
    }
    out
}

fn cumulative_charge(series: &MeterSeries, energy: &[f64]) -> Option<Vec<f64>> {
    let pts = &series.points;
    let usable = pts
        .iter()
        .any(|p| p.voltage.is_some() || p.current.is_some());
    if !usable || pts.is_empty() {
        return None;
    }
    let mut q = vec![0.0; pts.len()];
    for i in 1..pts.len() {
        let de = energy[i] - energy[i - 1];
        let (a, b) = (&pts[i - 1], &pts[i]);
        // The charge domain first: current integrated over time is what flowed into the car,
        // whatever the meter's side or losses.
        let inc = match (a.voltage, b.voltage, a.current, b.current) {
            (_, _, Some(ia), Some(ib)) => (ia.0 + ib.0) / 2.0 * secs(a.at, b.at) / 3600.0,
            (Some(va), Some(vb), _, _) if va.0 + vb.0 > 1.0 => de / ((va.0 + vb.0) / 2.0),
            _ => 0.0,
        };
        q[i] = q[i - 1] + inc.max(0.0);
    }
    Some(q)
}

/// The energy feature of a session.
pub(crate) fn energy_feature(series: &MeterSeries, cum: &Cumulative) -> EnergyFeature {
    let pts = &series.points;
    let mut flag = QualityFlag::good();
    let socs: Vec<f64> = pts.iter().filter_map(|p| p.soc).collect();
    let soc_start = socs.first().copied();
    let soc_end = socs.last().copied();
    if socs.is_empty() {
        flag.degrade(Quality::Limited, QualityReason::MissingSoc);
    }
    if cum.from_power {
        flag.degrade(Quality::Limited, QualityReason::NoEnergyRegister);
    }
    if cum.resets > 0 {
        flag.degrade(Quality::Limited, QualityReason::MeterReset);
    }
    if cum.decreases > 0 {
        flag.degrade(Quality::Limited, QualityReason::NonMonotonicRegister);
    }
    let duration_s = match (pts.first(), pts.last()) {
        (Some(a), Some(b)) => secs(a.at, b.at),
        _ => 0.0,
    };
    EnergyFeature {
        energy: WattHours(cum.energy.last().copied().unwrap_or(0.0)),
        charge_ah: cum.charge.as_ref().and_then(|q| q.last().copied()),
        soc_start,
        soc_end,
        delta_soc: soc_start.zip(soc_end).map(|(a, b)| b - a),
        duration_s,
        flag,
    }
}
