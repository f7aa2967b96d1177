//! State of health: usable capacity as a percentage of nominal, combined over many sessions.
//!
//! Each usable DC session gives Ah per 100 % SoC (divided by its charger's current gain when the
//! fleet's joint estimate knows it); over the battery's rated Ah (from the
//! registry: given, or rated energy over rated voltage) this is a per-session SoH, entirely in
//! the charge domain. Without a rated Ah nothing is guessed: the figure is withheld and the
//! report names the missing registry fields. Sessions after the latest step change and within
//! the estimation window are combined robustly: a Theil–Sen line evaluated at the latest session
//! when they span long enough for fade to matter, else a Huber location. The 90 % interval is a
//! t-interval on the robust residual scale, widened by a systematic allowance for what more
//! sessions cannot average away (auxiliary loads, meter calibration). Below the minimum number
//! of sessions the figure is withheld rather than shown noisy.

use super::aux_load::aux_factor;
use super::changepoint::{SIDE, StepChange, StepRule, detect_step, detect_step_by};
use super::cold_bias::WARM_C;
use super::context::AssessContext;
use super::spec::VehicleSpec;
use super::summary::SessionSummary;
use crate::config::HealthConfig;
use crate::stats::{huber_location, median, robust_scale, t_quantile_95, theil_sen};
use chargegrid_core::{SessionId, WattHours};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How a SoH figure was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SohMethod {
    /// DC sessions, charge (Ah) per SoC, over the battery's rated Ah.
    DcCharge,
    /// Charge per SoC with a pack voltage inferred from charging data. No longer produced
    /// (it read 10–14 % high: charging voltages sit above nominal); kept so reports stored by
    /// earlier versions still read.
    DcChargeInferredVoltage,
    /// AC sessions only: energy per SoC at the grid side with an assumed charger efficiency.
    /// Lower confidence; compare it with the same model's AC cohort.
    AcEnergy,
}

/// How far a figure can be trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConfidenceGrade {
    /// Many wide-window DC sessions and a narrow interval.
    High,
    /// Enough sessions, a moderate interval.
    Medium,
    /// Shown, but treat as indicative.
    Low,
}

/// Whether a figure is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EstimateStatus {
    /// A figure with its interval.
    Estimated,
    /// Insufficient data: no figure.
    Withheld,
}

/// Why a figure is withheld.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WithheldReason {
    /// Fewer usable sessions than the minimum.
    InsufficientSessions,
    /// Too few usable sessions since a step change.
    InsufficientSessionsSinceStep,
    /// The registry lacks what the estimate needs (see `missing`).
    MissingBatterySpec,
}

/// Registry fields that would let a withheld charge-domain SoH be estimated.
pub const RATED_AH_FIELDS: &[&str] = &[
    "battery.nominal_capacity_ah",
    "battery.nominal_voltage_v (with battery.nominal_energy_kwh or nominal_capacity_kwh)",
];

/// One session's SoH value, for history charts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SohPoint {
    /// The session.
    pub session: SessionId,
    /// When it ended.
    pub at: DateTime<Utc>,
    /// Its SoH, percent.
    pub soh_pct: f64,
}

/// A vehicle's state of health. A struct rather than a tagged enum so stored JSON stays flat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SohEstimate {
    /// Shown or withheld.
    pub status: EstimateStatus,
    /// Method (also set when withheld, to say which data were counted).
    pub method: SohMethod,
    /// SoH, percent of nominal usable capacity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub soh_pct: Option<f64>,
    /// Lower end of the 90 % interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub low_pct: Option<f64>,
    /// Upper end of the 90 % interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub high_pct: Option<f64>,
    /// Confidence grade.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grade: Option<ConfidenceGrade>,
    /// Usable capacity implied by the SoH.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usable_capacity: Option<WattHours>,
    /// Sessions combined.
    pub sessions_used: usize,
    /// Sessions needed before a figure is shown.
    pub sessions_required: usize,
    /// Why withheld.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withheld_reason: Option<WithheldReason>,
    /// Whether only sessions after a step change were used.
    pub since_step_change: bool,
    /// Registry fields that are missing for this estimate (when withheld for that).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
}

impl SohEstimate {
    /// The point estimate, when shown.
    pub fn value(&self) -> Option<f64> {
        self.soh_pct
            .filter(|_| self.status == EstimateStatus::Estimated)
    }

    /// Whether `x` lies in the 90 % interval.
    pub fn covers(&self, x: f64) -> Option<bool> {
        Some(self.low_pct? <= x && x <= self.high_pct?)
    }

    /// Takes a BMS SoC offset of `offset_points` (read at the top of charges) into the interval.
    /// A SoC that runs ahead (positive) makes the charge per displayed point small: the capacity
    /// reads low by about that many per cent, so the truth may lie that far above; and the other
    /// way round. The offset is read near the top, where the display stops at 100 %, so it
    /// understates a scale error: half as much again is allowed (set on the tuning physics
    /// fleet, seed 1, where 1.0 left two scale faults just outside). The figure stays; the grade
    /// becomes low.
    pub fn allow_for_soc_offset(&mut self, offset_points: f64) {
        let (Some(v), Some(lo), Some(hi)) = (self.value(), self.low_pct, self.high_pct) else {
            return;
        };
        let widen = 1.5 * offset_points.abs() / 100.0 * v;
        if offset_points > 0.0 {
            self.high_pct = Some(hi + widen);
        } else {
            self.low_pct = Some(lo - widen);
        }
        self.grade = Some(ConfidenceGrade::Low);
    }

    fn withheld(method: SohMethod, used: usize, required: usize, reason: WithheldReason) -> Self {
        Self {
            status: EstimateStatus::Withheld,
            method,
            soh_pct: None,
            low_pct: None,
            high_pct: None,
            grade: None,
            usable_capacity: None,
            sessions_used: used,
            sessions_required: required,
            withheld_reason: Some(reason),
            since_step_change: false,
            missing: Vec::new(),
        }
    }
}

/// Whether the sessions either side of a step, compared like with like, show at least half of
/// it: the warm ones (where the car's own loads weigh least) when each side has two, else the
/// cold ones when each side has two. Cold sessions read high, so a step down that only the cold
/// sessions make is what is left of their loads at a change of season: one whose sessions
/// before are all cold (fewer than two warm) and whose sessions after are warm with fewer than
/// two cold is taken only if the first cold sessions after those compared (the next winter: at
/// least as many as a step's short side, at most ten) sit at least the smallest step
/// (`step_min_drop_pct`, not half of it) below the cold ones before: the step and the spring
/// came together, only a later winter compares alike across it, and a season's months of fade
/// lie between. `temps` is each point's battery temperature; a side without temperatures is
/// taken as it reads.
fn like_sessions_agree(
    pts: &[SohPoint],
    temps: &[Option<f64>],
    step: &StepChange,
    cfg: &HealthConfig,
) -> bool {
    let side = |range: std::ops::Range<usize>, warm: bool| -> Vec<f64> {
        range
            .filter(|&i| temps[i].is_some_and(|t| (t >= WARM_C) == warm))
            .map(|i| pts[i].soh_pct)
            .collect()
    };
    let k = step.index;
    let (before, after) = (k.saturating_sub(SIDE)..k, k..(k + SIDE).min(pts.len()));
    let agree = |b: &[f64], a: &[f64]| match (median(b), median(a)) {
        (Some(b), Some(a)) => b - a >= cfg.step_min_drop_pct / 2.0,
        _ => true,
    };
    let (warm_b, warm_a) = (side(before.clone(), true), side(after.clone(), true));
    if warm_b.len() >= 2 && warm_a.len() >= 2 {
        return agree(&warm_b, &warm_a);
    }
    let (cold_b, cold_a) = (side(before, false), side(after, false));
    if cold_b.len() >= 2 && cold_a.len() >= 2 {
        return agree(&cold_b, &cold_a);
    }
    if !(warm_b.len() < 2 && cold_b.len() >= 2 && warm_a.len() >= 2) {
        return true;
    }
    // Cold before, warm after: the season, unless a later winter shows the whole step.
    let mut later = side((k + SIDE).min(pts.len())..pts.len(), false);
    // The next winter, not years of fade after it.
    later.truncate(SIDE);
    later.len() >= cfg.step_min_sessions_short_side.max(2)
        && median(&cold_b)
            .zip(median(&later))
            .is_some_and(|(b, a)| b - a >= cfg.step_min_drop_pct)
}

/// Fewest sessions before a step soon after the history starts that the season cannot explain
/// (the short-first rule built in [`estimate_soh`], confirmed by [`colder_after_confirms`]).
const SHORT_FIRST_CONFIRMED_MIN: usize = 2;
/// How much warmer (°C) than the median of the sessions before such a step a session after it
/// may be and still count as at least as cold.
const COLDER_TOLERANCE_C: f64 = 2.0;

/// Whether a step soon after the history starts ([`SHORT_FIRST_CONFIRMED_MIN`] sessions or more
/// before it, fewer than a step's long side, where the refined split put it) is one the season
/// cannot explain: every session before it was warm (at least [`WARM_C`]: cold first sessions
/// read high, which the short-first rule's larger drop guards against, and on the development
/// fleets a first winter's sessions read several points above the next winter's at the same
/// cell temperature, so no later session confirms them), and the sessions after it that were
/// at least as cold as those before it (their median temperature, within
/// [`COLDER_TOLERANCE_C`]), two or more, sit at least the smallest step (`step_min_drop_pct`)
/// below them. Sessions without a temperature confirm nothing.
fn colder_after_confirms(
    pts: &[SohPoint],
    temps: &[Option<f64>],
    step: &StepChange,
    cfg: &HealthConfig,
) -> bool {
    let k = step.index;
    if !(SHORT_FIRST_CONFIRMED_MIN..cfg.step_min_sessions_each_side).contains(&k) {
        return false;
    }
    let before: Option<Vec<f64>> = temps[..k].iter().copied().collect();
    let Some(before) = before.filter(|b| b.iter().all(|&t| t >= WARM_C)) else {
        return false;
    };
    let Some(before_temp) = median(&before) else {
        return false;
    };
    // The level before the step, as the step rule read it.
    let level = step.before;
    let colder: Vec<f64> = (k..pts.len())
        .filter(|&i| temps[i].is_some_and(|t| t <= before_temp + COLDER_TOLERANCE_C))
        .map(|i| pts[i].soh_pct)
        .collect();
    colder.len() >= 2 && median(&colder).is_some_and(|c| level - c >= cfg.step_min_drop_pct)
}

/// A per-session SoH value and its session's battery temperature, °C.
pub(crate) type PointAt = (SohPoint, Option<f64>);

/// Per-session SoH values, each with its session's battery temperature (what the cold
/// corrections key on), and the method they came from; `None` when DC sessions exist but the
/// registry lacks the rated Ah they need.
pub(crate) fn soh_points(
    sessions: &[SessionSummary],
    spec: &VehicleSpec,
    ctx: &AssessContext,
    cfg: &HealthConfig,
) -> Option<(Vec<PointAt>, SohMethod)> {
    let nominal = spec.nominal_capacity.0.max(1.0);
    let wide = |s: &&SessionSummary| s.wide_window(cfg);
    let dc: Vec<&SessionSummary> = sessions
        .iter()
        .filter(|s| s.dc && s.ah_per_full.is_some())
        .filter(wide)
        .collect();
    if !dc.is_empty() {
        let rated = spec.rated_ah()?.0;
        let pts = dc
            .iter()
            .filter_map(|s| {
                let ah =
                    s.ah_per_full? * aux_factor(s, sessions, ctx.aux_references.get(&spec.model));
                let cold = s
                    .battery_temperature_c
                    .map_or(0.0, |t| ctx.cold_biases.at(&spec.model, t));
                let point = SohPoint {
                    session: s.session.clone(),
                    at: s.ended_at,
                    soh_pct: ah / ctx.current_gain(&s.charger) / rated * 100.0 - cold,
                };
                Some((point, s.battery_temperature_c))
            })
            .filter(|(p, _)| p.soh_pct > 0.0)
            .collect();
        return Some((pts, SohMethod::DcCharge));
    }
    let pts = sessions
        .iter()
        .filter(|s| !s.dc)
        .filter(wide)
        .filter_map(|s| {
            let point = SohPoint {
                session: s.session.clone(),
                at: s.ended_at,
                soh_pct: s.wh_per_full?.0 * cfg.ac_assumed_efficiency / nominal * 100.0,
            };
            Some((point, s.battery_temperature_c))
        })
        .collect();
    Some((pts, SohMethod::AcEnergy))
}

/// Estimates SoH from a vehicle's sessions (any order). Returns the estimate, the step change
/// it found (if any) and the per-session history in time order.
pub fn estimate_soh(
    sessions: &[SessionSummary],
    spec: &VehicleSpec,
    ctx: &AssessContext,
    cfg: &HealthConfig,
) -> (SohEstimate, Option<StepChange>, Vec<SohPoint>) {
    // `None`: DC sessions exist but the registry lacks the rated Ah they need.
    let Some((mut points, method)) = soh_points(sessions, spec, ctx, cfg) else {
        let mut est = SohEstimate::withheld(
            SohMethod::DcCharge,
            0,
            cfg.min_sessions_dc,
            WithheldReason::MissingBatterySpec,
        );
        est.missing = RATED_AH_FIELDS.iter().map(|f| (*f).to_string()).collect();
        return (est, None, Vec::new());
    };
    points.sort_by_key(|(p, _)| p.at);
    // Each session's battery temperature beside its value: what the cold corrections key on.
    let (pts, temps): (Vec<SohPoint>, Vec<Option<f64>>) = points.into_iter().unzip();
    let required = if method == SohMethod::AcEnergy {
        cfg.min_sessions_ac
    } else {
        cfg.min_sessions_dc
    };
    let ys: Vec<f64> = pts.iter().map(|p| p.soh_pct).collect();
    // A step soon after the history starts needs a drop beyond what cold first sessions read
    // high by, unless its first sessions were warm and sessions after it as cold as they were
    // show it too.
    let step = detect_step(&ys, cfg)
        .filter(|s| like_sessions_agree(&pts, &temps, s, cfg))
        .or_else(|| {
            let rule = StepRule::capacity_short_first(cfg, SHORT_FIRST_CONFIRMED_MIN);
            detect_step_by(&ys, &rule).filter(|s| colder_after_confirms(&pts, &temps, s, cfg))
        });
    let Some(last) = pts.last() else {
        let est = SohEstimate::withheld(method, 0, required, WithheldReason::InsufficientSessions);
        return (est, step, pts);
    };
    let window_start = last.at - chrono::Duration::days(cfg.estimation_window_days);
    let first = pts
        .iter()
        .position(|p| p.at >= window_start)
        .unwrap_or(0)
        .max(step.map_or(0, |s| s.index));
    let seg = &pts[first..];
    // Shortly after a step the sessions since it are all there is: as few as the step rule's
    // short side give a figure, its noise taken as at least that of the sessions before the
    // step (three values that happen to agree are not a tight estimate).
    let (required, min_scale) = match step {
        Some(s) if seg.len() < required => (
            required.min(cfg.step_min_sessions_short_side.max(2)),
            robust_scale(&ys[s.index.saturating_sub(SIDE)..s.index])
                .unwrap_or(0.0)
                .max(cfg.min_residual_scale_pct),
        ),
        _ => (required, cfg.min_residual_scale_pct),
    };
    if seg.len() < required {
        let reason = if step.is_some() {
            WithheldReason::InsufficientSessionsSinceStep
        } else {
            WithheldReason::InsufficientSessions
        };
        return (
            SohEstimate::withheld(method, seg.len(), required, reason),
            step,
            pts,
        );
    }
    let min_scale = if method != SohMethod::AcEnergy && seg.len() < cfg.few_sessions_dc {
        min_scale.max(cfg.few_sessions_scale_pct)
    } else {
        min_scale
    };
    let est = combine(seg, method, required, step.is_some(), min_scale, spec, cfg);
    (est, step, pts)
}

fn combine(
    seg: &[SohPoint],
    method: SohMethod,
    required: usize,
    since_step: bool,
    min_scale: f64,
    spec: &VehicleSpec,
    cfg: &HealthConfig,
) -> SohEstimate {
    let t_last = seg[seg.len() - 1].at;
    let xs: Vec<f64> = seg
        .iter()
        .map(|p| (p.at - t_last).num_seconds() as f64 / 86_400.0)
        .collect();
    let ys: Vec<f64> = seg.iter().map(|p| p.soh_pct).collect();
    let n = seg.len();
    let span = -xs[0];
    let line = (span >= cfg.trend_min_span_days && n >= cfg.trend_min_sessions)
        .then(|| theil_sen(&xs, &ys))
        .flatten();
    let (level, se, df) = match line {
        Some(f) => {
            let resid: Vec<f64> = xs.iter().zip(&ys).map(|(x, y)| y - f.slope * x).collect();
            let level = median(&resid).unwrap_or(f.intercept);
            let r2: Vec<f64> = resid.iter().map(|r| r - level).collect();
            let sigma = robust_scale(&r2).unwrap_or(0.0).max(min_scale);
            let mx = xs.iter().sum::<f64>() / n as f64;
            let sxx: f64 = xs.iter().map(|x| (x - mx).powi(2)).sum();
            let lever = 1.0 / n as f64 + mx * mx / sxx.max(1e-9);
            (level, 1.1 * sigma * lever.sqrt(), n - 2)
        }
        None => {
            let fit = huber_location(&ys, &vec![1.0; n], min_scale).expect("non-empty segment");
            (fit.location, 1.05 * fit.scale / (n as f64).sqrt(), n - 1)
        }
    };
    let systematic = match method {
        SohMethod::DcCharge => cfg.systematic_dc_pct,
        SohMethod::DcChargeInferredVoltage => cfg
            .systematic_dc_pct
            .hypot(cfg.systematic_inferred_voltage_pct),
        SohMethod::AcEnergy => cfg.systematic_ac_pct,
    };
    let half = (t_quantile_95(df) * se).hypot(1.644_853_6 * systematic);
    let grade = match method {
        SohMethod::DcCharge if n >= 20 && half <= 2.0 => ConfidenceGrade::High,
        SohMethod::DcCharge | SohMethod::DcChargeInferredVoltage if n >= 10 && half <= 3.5 => {
            ConfidenceGrade::Medium
        }
        _ => ConfidenceGrade::Low,
    };
    SohEstimate {
        status: EstimateStatus::Estimated,
        method,
        soh_pct: Some(level),
        low_pct: Some(level - half),
        high_pct: Some(level + half),
        grade: Some(grade),
        usable_capacity: Some(spec.nominal_capacity * (level / 100.0)),
        sessions_used: n,
        sessions_required: required,
        withheld_reason: None,
        since_step_change: since_step,
        missing: Vec::new(),
    }
}
