//! Data-quality figures of a session: sampling, SoC coverage, register resets and unit
//! suspicions (kW sent as W, kWh sent as Wh: both seen in the field).

use super::energy::Cumulative;
use super::series::secs;
use crate::quality::{Quality, QualityFlag, QualityReason};
use crate::stats::median;
use chargegrid_core::meter::MeterSeries;
use serde::{Deserialize, Serialize};

/// A session's data quality.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataQuality {
    /// Distinct sample timestamps.
    pub samples: usize,
    /// Median time between samples, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub median_interval_s: Option<f64>,
    /// Longest time between samples, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_gap_s: Option<f64>,
    /// Share of samples with a SoC.
    pub soc_share: f64,
    /// Register resets (back to near zero).
    pub meter_resets: usize,
    /// Other register decreases.
    pub register_decreases: usize,
    /// Reported power ≈ 1/1000 of the register's rate.
    pub kw_as_w_suspected: bool,
    /// Register rate ≈ 1/1000 of the reported power.
    pub kwh_as_wh_suspected: bool,
    /// Overall grade and reasons.
    pub flag: QualityFlag,
}

/// Data quality of a session.
pub(crate) fn data_quality(series: &MeterSeries, cum: &Cumulative) -> DataQuality {
    let pts = &series.points;
    let gaps: Vec<f64> = pts.windows(2).map(|w| secs(w[0].at, w[1].at)).collect();
    let median_interval_s = median(&gaps);
    let max_gap_s = gaps.iter().copied().reduce(f64::max);
    let with_soc = pts.iter().filter(|p| p.soc.is_some()).count();
    let soc_share = if pts.is_empty() {
        0.0
    } else {
        with_soc as f64 / pts.len() as f64
    };
    let mut flag = QualityFlag::good();
    if pts.len() < 5 {
        flag.degrade(Quality::Limited, QualityReason::FewSamples);
    }
    if median_interval_s.is_some_and(|m| m > 60.0) {
        flag.degrade(Quality::Limited, QualityReason::SparseSampling);
    }
    if let (Some(m), Some(g)) = (median_interval_s, max_gap_s)
        && g > 300.0
        && g > 5.0 * m
    {
        flag.degrade(Quality::Limited, QualityReason::SamplingGap);
    }
    if with_soc == 0 {
        flag.degrade(Quality::Limited, QualityReason::MissingSoc);
    }
    if cum.resets > 0 {
        flag.degrade(Quality::Limited, QualityReason::MeterReset);
    }
    if cum.decreases > 0 {
        flag.degrade(Quality::Limited, QualityReason::NonMonotonicRegister);
    }
    // Energy integrated from reported power against the register's count.
    let mut power_wh = 0.0;
    for i in 1..pts.len() {
        if let (Some(a), Some(b)) = (series.power_at(i - 1), series.power_at(i)) {
            power_wh += (a.0 + b.0) / 2.0 * secs(pts[i - 1].at, pts[i].at) / 3600.0;
        }
    }
    let register_wh = cum.energy.last().copied().unwrap_or(0.0);
    let has_power = pts.iter().any(|p| p.power.is_some());
    let (mut kw_as_w, mut kwh_as_wh) = (false, false);
    if !cum.from_power && has_power && power_wh > 0.0 && register_wh > 0.0 {
        let ratio = power_wh / register_wh;
        kw_as_w = ratio < 0.01;
        kwh_as_wh = ratio > 100.0;
    }
    if kw_as_w {
        flag.degrade(Quality::Limited, QualityReason::KwAsWSuspected);
    }
    if kwh_as_wh {
        flag.degrade(Quality::Unusable, QualityReason::KwhAsWhSuspected);
    }
    DataQuality {
        samples: pts.len(),
        median_interval_s,
        max_gap_s,
        soc_share,
        meter_resets: cum.resets,
        register_decreases: cum.decreases,
        kw_as_w_suspected: kw_as_w,
        kwh_as_wh_suspected: kwh_as_wh,
        flag,
    }
}
