//! Per-session capacity: SoC regressed on cumulative charge (Ah) and energy (Wh) over the whole
//! session. A regression uses every sample, so the 1 % rounding of reported SoC averages out
//! instead of entering twice, as it would with end points only. Only DC sessions with a wide
//! SoC window give a usable estimate; others are returned with their flags. On DC the car's own
//! auxiliary load (pumps, HVAC) flows through the charger's meter but not into the cells; where
//! the session's current varies enough (tapers), regressing SoC on charge *and* time separates
//! it, removing a bias of roughly aux power / charging power.

use super::energy::Cumulative;
use crate::config::HealthConfig;
use crate::quality::{Quality, QualityFlag, QualityReason};
use crate::stats::{LineFit, ols, ols2, rms_residual, theil_sen};
use chargegrid_core::meter::MeterSeries;
use chargegrid_core::{Volts, WattHours};
use serde::{Deserialize, Serialize};

/// A session's capacity estimate, scaled to a full 0 → 100 % window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapacityFeature {
    /// Charge per 100 % SoC (Ah), DC only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ah_per_full: Option<f64>,
    /// Energy per 100 % SoC at the meter (on DC including the pack's own I²R losses over this
    /// window; on AC including the on-board charger's losses).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wh_per_full: Option<WattHours>,
    /// Lowest SoC seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub soc_from: Option<f64>,
    /// Highest SoC seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub soc_to: Option<f64>,
    /// Samples used.
    pub points: usize,
    /// Auxiliary current (A) drawn by the car while charging, separated from the battery's
    /// charge by regressing SoC on charge and time together; `None` when the session has too
    /// little variation in current to tell them apart, or the figure is implausible.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aux_current_a: Option<f64>,
    /// Standard error of `aux_current_a`, A, from the fit (the SoC's residual scatter about
    /// it): small where the current varied a lot over the window, large where it barely
    /// tapered and charge and time are nearly collinear.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aux_current_se_a: Option<f64>,
    /// Mean DC current over the fit's span (charge over time), A: what an auxiliary current
    /// is compared with when the session could not separate it itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean_current_a: Option<f64>,
    /// RMS of the SoC residuals of the charge fit (percentage points).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub soc_fit_rms: Option<f64>,
    /// Charge-weighted mean terminal voltage over the window (DC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean_voltage: Option<Volts>,
    /// Quality: `Good` only for DC sessions with a wide window and a clean fit.
    pub flag: QualityFlag,
}

impl CapacityFeature {
    fn empty(flag: QualityFlag) -> Self {
        Self {
            ah_per_full: None,
            wh_per_full: None,
            soc_from: None,
            soc_to: None,
            points: 0,
            aux_current_a: None,
            aux_current_se_a: None,
            mean_current_a: None,
            soc_fit_rms: None,
            mean_voltage: None,
            flag,
        }
    }
}

fn fit(xs: &[f64], ys: &[f64], robust: bool) -> Option<LineFit> {
    if robust {
        theil_sen(xs, ys)
    } else {
        ols(xs, ys)
    }
}

/// Largest auxiliary current accepted as plausible, A (about 8 kW at 400 V).
const MAX_AUX_A: f64 = 20.0;

/// Aux current from SoC = a + b·charge + c·t, i.e. SoC counts charge minus aux × time, with
/// its standard error (first-order propagation of the slopes' covariance through −c / b).
fn aux_current(charge: &[f64], secs: &[f64], soc: &[f64]) -> Option<(f64, f64)> {
    let hours: Vec<f64> = secs.iter().map(|s| s / 3600.0).collect();
    let f = ols2(charge, &hours, soc)?;
    let (b, c) = (f.b1, f.b2);
    let aux = -c / b;
    if !(b > 0.0 && (0.0..=MAX_AUX_A).contains(&aux)) {
        return None;
    }
    // ∂aux/∂b = c / b², ∂aux/∂c = −1 / b.
    let (gb, gc) = (c / (b * b), -1.0 / b);
    let var = gb * gb * f.var_b1 + gc * gc * f.var_b2 + 2.0 * gb * gc * f.cov_b1_b2;
    var.is_finite().then(|| (aux, var.max(0.0).sqrt()))
}

/// Estimates capacity from the SoC against cumulative charge/energy. `soc_discontinuity` makes
/// the fit robust (Theil–Sen) and the result `Limited`.
pub(crate) fn capacity_feature(
    series: &MeterSeries,
    cum: &Cumulative,
    dc: bool,
    soc_discontinuity: bool,
    cfg: &HealthConfig,
) -> CapacityFeature {
    let idx: Vec<usize> = (0..series.points.len())
        .filter(|&i| series.points[i].soc.is_some())
        .collect();
    if idx.is_empty() {
        return CapacityFeature::empty(QualityFlag::unusable(QualityReason::MissingSoc));
    }
    let soc: Vec<f64> = idx.iter().filter_map(|&i| series.points[i].soc).collect();
    let soc_from = soc.iter().copied().fold(f64::INFINITY, f64::min);
    let soc_to = soc.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut flag = QualityFlag::good();
    if !dc {
        flag.degrade(Quality::Limited, QualityReason::AcGridSide);
    }
    if soc_to - soc_from < cfg.min_soc_window {
        flag.degrade(Quality::Unusable, QualityReason::NarrowSocWindow);
    }
    if idx.len() < cfg.min_capacity_points {
        flag.degrade(Quality::Unusable, QualityReason::FewSamples);
    }
    if cum.from_power {
        flag.degrade(Quality::Limited, QualityReason::NoEnergyRegister);
    }
    if cum.resets > 0 {
        flag.degrade(Quality::Limited, QualityReason::MeterReset);
    }
    if soc_discontinuity {
        flag.degrade(Quality::Limited, QualityReason::SocDiscontinuity);
    }
    let energy: Vec<f64> = idx.iter().map(|&i| cum.energy[i]).collect();
    let wh_fit = fit(&energy, &soc, soc_discontinuity);
    let wh_per_full = wh_fit
        .filter(|f| f.slope > 0.0)
        .map(|f| WattHours(100.0 / f.slope));
    let mut out = CapacityFeature {
        ah_per_full: None,
        wh_per_full,
        soc_from: Some(soc_from),
        soc_to: Some(soc_to),
        points: idx.len(),
        aux_current_a: None,
        aux_current_se_a: None,
        mean_current_a: None,
        soc_fit_rms: None,
        mean_voltage: None,
        flag,
    };
    if let Some(charge) = cum.charge.as_ref().filter(|_| dc) {
        let q: Vec<f64> = idx.iter().map(|&i| charge[i]).collect();
        if let Some(f) = fit(&q, &soc, soc_discontinuity).filter(|f| f.slope > 0.0) {
            out.ah_per_full = Some(100.0 / f.slope);
            if !soc_discontinuity {
                let secs: Vec<f64> = idx
                    .iter()
                    .map(|&i| super::series::secs(series.points[0].at, series.points[i].at))
                    .collect();
                if let Some((aux, se)) = aux_current(&q, &secs, &soc) {
                    // SoC counts the battery's charge: the charger's minus what the car's own
                    // loads drew meanwhile. The load is recorded only with the figure net of it.
                    let net: Vec<f64> = q
                        .iter()
                        .zip(&secs)
                        .map(|(q, t)| q - aux * t / 3600.0)
                        .collect();
                    if let Some(g) = ols(&net, &soc).filter(|g| g.slope > 0.0) {
                        out.ah_per_full = Some(100.0 / g.slope);
                        out.aux_current_a = Some(aux);
                        out.aux_current_se_a = Some(se);
                    }
                }
            }
            let rms = rms_residual(&f, &q, &soc);
            out.soc_fit_rms = Some(rms);
            if rms > 2.0 {
                out.flag
                    .degrade(Quality::Limited, QualityReason::PoorSocFit);
            }
        }
        // Over the fit's span (`idx` is not empty): mean current and charge-weighted voltage.
        let last = idx.len() - 1;
        let (dq, de) = (q[last] - q[0], energy[last] - energy[0]);
        let span_h =
            super::series::secs(series.points[idx[0]].at, series.points[idx[last]].at) / 3600.0;
        if span_h > 0.0 {
            out.mean_current_a = Some(dq / span_h);
        }
        if dq > 0.0 {
            out.mean_voltage = Some(Volts(de / dq));
        }
    }
    if dc && out.ah_per_full.is_none() {
        out.flag
            .degrade(Quality::Unusable, QualityReason::MissingVoltage);
    }
    if out.wh_per_full.is_none() {
        out.flag
            .degrade(Quality::Unusable, QualityReason::FewSamples);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The standard error of the separated load agrees with the covariance of the three-term
    /// fit worked out independently (the full 3 × 3 inverse of XᵀX by cofactors, not the
    /// centred 2 × 2 one `ols2` uses), and it grows as the current stops varying.
    #[test]
    fn the_separated_loads_standard_error_follows_the_fits_covariance() {
        // A taper from 150 A down to about 60 A over 40 min, a 3 A load, 100 Ah per 100 %,
        // SoC rounded to whole points.
        let case = |taper: f64| {
            let secs: Vec<f64> = (0..80).map(|i| f64::from(i) * 30.0).collect();
            let mut q = vec![0.0];
            for w in secs.windows(2) {
                let i_a = |t: f64| 150.0 - taper * t / 2400.0;
                let last = *q.last().unwrap();
                q.push(last + (i_a(w[0]) + i_a(w[1])) / 2.0 * (w[1] - w[0]) / 3600.0);
            }
            let soc: Vec<f64> = q
                .iter()
                .zip(&secs)
                .map(|(q, t)| (20.0 + (q - 3.0 * t / 3600.0)).round())
                .collect();
            (q, secs, soc)
        };
        let (q, secs, soc) = case(90.0);
        let (aux, se) = aux_current(&q, &secs, &soc).unwrap();
        assert!((aux - 3.0).abs() < 3.0 * se + 0.5, "{aux} ± {se}");
        // Independently: residual variance over n − 3 times the inverse of XᵀX, X = [1, q, h].
        let h: Vec<f64> = secs.iter().map(|s| s / 3600.0).collect();
        let f = ols2(&q, &h, &soc).unwrap();
        let n = q.len() as f64;
        let rss: f64 = (0..q.len())
            .map(|i| (soc[i] - f.a - f.b1 * q[i] - f.b2 * h[i]).powi(2))
            .sum();
        let s2 = rss / (n - 3.0);
        let sum = |v: &dyn Fn(usize) -> f64| (0..q.len()).map(v).sum::<f64>();
        let m = [
            [n, sum(&|i| q[i]), sum(&|i| h[i])],
            [sum(&|i| q[i]), sum(&|i| q[i] * q[i]), sum(&|i| q[i] * h[i])],
            [sum(&|i| h[i]), sum(&|i| q[i] * h[i]), sum(&|i| h[i] * h[i])],
        ];
        let det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
            - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
        let inv11 = (m[0][0] * m[2][2] - m[0][2] * m[2][0]) / det;
        let inv22 = (m[0][0] * m[1][1] - m[0][1] * m[1][0]) / det;
        let inv12 = -(m[0][0] * m[2][1] - m[0][1] * m[2][0]) / det;
        let (b, c) = (f.b1, f.b2);
        let (gb, gc) = (c / (b * b), -1.0 / b);
        let want = (s2 * (gb * gb * inv11 + gc * gc * inv22 + 2.0 * gb * gc * inv12)).sqrt();
        assert!((se - want).abs() <= 1e-6 * want.max(1e-9), "{se} vs {want}");
        // A current that barely tapers leaves charge and time nearly collinear: far less sure.
        let (q, secs, soc) = case(20.0);
        let loose = aux_current(&q, &secs, &soc).map_or(f64::INFINITY, |(_, se)| se);
        assert!(loose > 2.0 * se, "{loose} vs {se}");
    }
}
