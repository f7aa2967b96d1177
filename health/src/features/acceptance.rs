//! Charge acceptance: where the EV starts to taper while the charger offers more, and how long
//! 20 → 80 % takes. A taper that the charger caused (offer ≈ draw) says nothing about the
//! battery and is flagged `ChargerLimited`.

use super::series::secs;
use crate::quality::{Quality, QualityFlag, QualityReason};
use chargegrid_core::Watts;
use chargegrid_core::meter::MeterSeries;
use serde::{Deserialize, Serialize};

/// A session's acceptance figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AcceptanceFeature {
    /// Highest power drawn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_power: Option<Watts>,
    /// SoC at which the draw fell below 90 % of its peak for good.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taper_onset_soc: Option<f64>,
    /// Whether the charger offered ≥ 10 % more than was drawn at the taper (EV-limited);
    /// `None` when no offer was sampled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ev_limited: Option<bool>,
    /// Minutes from 20 % to 80 % SoC, when the session covered both.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minutes_20_to_80: Option<f64>,
    /// Quality.
    pub flag: QualityFlag,
}

fn crossing_time(series: &MeterSeries, level: f64) -> Option<f64> {
    let pts = &series.points;
    let first = pts.iter().find_map(|p| p.soc)?;
    if first > level {
        return None;
    }
    let t0 = pts.first()?.at;
    let mut prev: Option<(f64, f64)> = None;
    for p in pts {
        let Some(s) = p.soc else { continue };
        let t = secs(t0, p.at);
        if s >= level {
            return Some(match prev {
                Some((ps, pt)) if s > ps => pt + (level - ps) / (s - ps) * (t - pt),
                _ => t,
            });
        }
        prev = Some((s, t));
    }
    None
}

/// Acceptance of a session.
pub(crate) fn acceptance_feature(series: &MeterSeries) -> AcceptanceFeature {
    let pts = &series.points;
    let power: Vec<Option<f64>> = (0..pts.len())
        .map(|i| series.power_at(i).map(|w| w.0))
        .collect();
    let mut flag = QualityFlag::good();
    let peak = power
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.map(|p| (i, p)))
        .max_by(|a, b| a.1.total_cmp(&b.1));
    let minutes_20_to_80 = match (crossing_time(series, 20.0), crossing_time(series, 80.0)) {
        (Some(a), Some(b)) if b > a => Some((b - a) / 60.0),
        _ => {
            flag.degrade(Quality::Limited, QualityReason::WindowNotCovered);
            None
        }
    };
    let Some((pk_i, pk)) = peak.filter(|(_, p)| *p > 0.0) else {
        flag.degrade(Quality::Unusable, QualityReason::FewSamples);
        return AcceptanceFeature {
            peak_power: None,
            taper_onset_soc: None,
            ev_limited: None,
            minutes_20_to_80,
            flag,
        };
    };
    // First point after the peak below 90 % of it, after which the draw never returns to 95 %.
    let mut onset = None;
    for k in pk_i + 1..pts.len() {
        let Some(p) = power[k] else { continue };
        let rest_max = power[k..].iter().flatten().copied().fold(0.0, f64::max);
        if p < 0.9 * pk && rest_max < 0.95 * pk && pts[k].soc.is_some() {
            onset = Some(k);
            break;
        }
    }
    let Some(k) = onset else {
        flag.degrade(Quality::Limited, QualityReason::NoTaper);
        return AcceptanceFeature {
            peak_power: Some(Watts(pk)),
            taper_onset_soc: None,
            ev_limited: None,
            minutes_20_to_80,
            flag,
        };
    };
    let p = &pts[k];
    let ev_limited = match (p.offered_current, p.current, p.offered_power, power[k]) {
        (Some(oc), Some(c), _, _) => Some(oc.0 > 1.1 * c.0),
        (_, _, Some(op), Some(pw)) => Some(op.0 > 1.1 * pw),
        _ => None,
    };
    match ev_limited {
        None => flag.degrade(Quality::Limited, QualityReason::NoOfferedValue),
        Some(false) => flag.degrade(Quality::Limited, QualityReason::ChargerLimited),
        Some(true) => {}
    }
    AcceptanceFeature {
        peak_power: Some(Watts(pk)),
        taper_onset_soc: p.soc,
        ev_limited,
        minutes_20_to_80,
        flag,
    }
}
