//! Alerts a vehicle's data raise, with a severity. Conservative by design: a fleet manager who
//! gets false alarms stops reading them. EV-side aborts count only when they happen at several
//! different chargers, and chargers known to abort other vehicles too are left out.

use super::changepoint::StepChange;
use super::context::AssessContext;
use super::cv_check::CvCheck;
use super::resistance_index::ResistanceIndex;
use super::soh::SohEstimate;
use super::summary::SessionSummary;
use crate::config::HealthConfig;
use crate::units::Ohms;
use chargegrid_core::ChargerId;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// How many times [`HealthConfig::resistance_cv_shift_points`] a shift of constant voltage must
/// reach to raise the resistance alert where the current steps read no rise (index under 1).
/// 1.5, session 25: on twelve development fleets (45–56) four of eight false resistance alerts
/// were shifts of 4–5.75 points with an index of 0.83–0.96 (now not raised), and every true
/// jump with an index under 1 had shifted 6.5 points or more.
const CV_CONTRADICTED_FACTOR: f64 = 1.5;

/// What an alert is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// SoH below the configured threshold (80 % by default).
    SohBelowThreshold,
    /// SoH significantly below the 5th percentile of the model's cohort.
    SohBelowCohortP5,
    /// A step drop in capacity.
    CapacityStepDrop,
    /// Resistance up over the vehicle's own baseline (constant voltage coming earlier, or
    /// ΔV/ΔI at current steps by the configured ratio).
    ResistanceIncrease,
    /// Resistance well above the model's healthy packs (cohort outlier), whatever the
    /// vehicle's own history.
    ResistanceAboveCohort,
    /// Repeated EV-side aborts at different chargers.
    RepeatedEvAborts,
    /// The EV reported a battery malfunction.
    BatteryMalfunctionCode,
    /// The EV's battery temperature sensor looks dead.
    TemperatureSensorSuspect,
    /// The BMS's SoC is likely off (scale or drift): the displayed SoC runs ahead of or behind
    /// healthy packs at the top of charge, or the capacity reads far above nominal.
    SocCalibrationSuspect,
}

/// How urgent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth knowing.
    Info,
    /// Plan a check.
    Warning,
    /// Check soon.
    Critical,
}

/// One active alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Kind.
    pub kind: AlertKind,
    /// Severity.
    pub severity: Severity,
    /// When this episode was first raised (the end of the session that raised it).
    pub first_raised_at: DateTime<Utc>,
    /// Human-readable explanation with the figures behind it.
    pub message: String,
    /// The figure that triggered it, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
}

/// One raise-to-clear episode of an alert, kept in the vehicle's state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertEpisode {
    /// Kind.
    pub kind: AlertKind,
    /// First raised (session end).
    pub raised_at: DateTime<Utc>,
    /// Cleared (session end), while open `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cleared_at: Option<DateTime<Utc>>,
}

fn alert(
    kind: AlertKind,
    severity: Severity,
    at: DateTime<Utc>,
    message: String,
    value: Option<f64>,
) -> Alert {
    Alert {
        kind,
        severity,
        first_raised_at: at,
        message,
        value,
    }
}

/// Inputs of the vehicle-level alert rules.
pub(crate) struct AlertInputs<'a> {
    pub sessions: &'a [SessionSummary],
    pub soh: &'a SohEstimate,
    pub step: Option<(StepChange, DateTime<Utc>)>,
    pub resistance: &'a ResistanceIndex,
    pub cv: Option<&'a CvCheck>,
    /// The vehicle's model's median resistance ([`AssessContext::resistance_medians`]).
    pub cohort_resistance: Option<Ohms>,
    pub as_of: DateTime<Utc>,
}

/// The alerts a vehicle's own data raise (cohort alerts are added by the fleet roll-up).
pub(crate) fn vehicle_alerts(
    i: &AlertInputs<'_>,
    cfg: &HealthConfig,
    ctx: &AssessContext,
) -> Vec<Alert> {
    let mut out = Vec::new();
    let at = i.as_of;
    let soc_offset = i.cv.and_then(|c| c.suspect_offset_points);
    if let Some(v) = i.soh.value() {
        let high = i.soh.high_pct.unwrap_or(v);
        let low = i.soh.low_pct.unwrap_or(v);
        // The estimate and most of its interval below. An interval is symmetric about its
        // estimate unless the SoC check widened one side: a capacity that reads low because the
        // SoC runs ahead has its interval reaching far up, and is not called below.
        let below_share = if high > low {
            ((cfg.soh_alert_pct - low) / (high - low)).clamp(0.0, 1.0)
        } else {
            // No width: the interval is the estimate, below when it is.
            1.0
        };
        if v < cfg.soh_alert_pct && below_share > 0.5 {
            let sev = if high < cfg.soh_alert_pct {
                Severity::Critical
            } else {
                Severity::Warning
            };
            out.push(alert(
                AlertKind::SohBelowThreshold,
                sev,
                at,
                format!(
                    "state of health {v:.1} % (90 % interval {low:.1}–{high:.1}) is below {:.0} %",
                    cfg.soh_alert_pct
                ),
                Some(v),
            ));
        }
        if low > 104.0 && soc_offset.is_none() {
            out.push(alert(
                AlertKind::SocCalibrationSuspect,
                Severity::Info,
                at,
                format!(
                    "capacity reads {v:.1} % of nominal: the vehicle's SoC scale is likely off"
                ),
                Some(v),
            ));
        }
    }
    if let Some(o) = soc_offset {
        let (runs, effect) = if o > 0.0 {
            ("ahead of", "reads low")
        } else {
            ("behind", "reads high")
        };
        out.push(alert(
            AlertKind::SocCalibrationSuspect,
            Severity::Info,
            at,
            format!(
                "at the top of recent charges the displayed SoC runs {:.1} points {runs} healthy packs of this model at the same current and temperature: the BMS's SoC is likely off (scale or drift), and a capacity from it {effect}; the SoH interval allows for it",
                o.abs()
            ),
            Some(o),
        ));
    }
    // A SoC that runs ahead from some date shrinks the charge per displayed point exactly as a
    // capacity drop would: with the constant-voltage check saying so, the step is the BMS's.
    let soc_ahead = soc_offset.is_some_and(|o| o > 0.0);
    if let Some((s, when)) = i.step.filter(|_| !soc_ahead) {
        let sev = if s.drop() >= 10.0 {
            Severity::Critical
        } else {
            Severity::Warning
        };
        out.push(alert(
            AlertKind::CapacityStepDrop,
            sev,
            at,
            format!(
                "capacity dropped by {:.1} points around {} ({:.1} → {:.1} %)",
                s.drop(),
                when.format("%Y-%m-%d"),
                s.before,
                s.after
            ),
            Some(s.drop()),
        ));
    }
    let limit = if i.resistance.temperature_corrected {
        cfg.resistance_alert_ratio
    } else {
        cfg.resistance_alert_ratio_uncorrected
    };
    // Where the constant-voltage check can compare the vehicle with its own first sessions it
    // decides (normalised for current and temperature, no step needed); ΔV/ΔI at current
    // steps, which mixes SoC, temperature and the charger's cable, decides alone only where it
    // cannot, and otherwise with constant voltage now coming earlier than for healthy packs
    // (two imperfect measures agreeing: a jump too recent for the check's own comparison).
    let cv_judges = i.cv.is_some_and(CvCheck::compares_own_history);
    // How far constant voltage now comes earlier than for healthy packs, when by enough to
    // support a resistance figure from current steps (here and against the cohort below).
    let cv_behind =
        i.cv.and_then(|c| c.unexplained_offset_points)
            .filter(|o| *o <= -cfg.resistance_cohort_support_points);
    let from_steps = i
        .resistance
        .index
        .filter(|ix| *ix >= limit && (!cv_judges || cv_behind.is_some()));
    // A shift of constant voltage less than half again the alert's own, where ΔV/ΔI at current
    // steps reads no rise at all (index under 1), is the constant voltage's noise: the two
    // measures contradict each other and neither is sure.
    let steps_say_none = i.resistance.index.is_some_and(|ix| ix < 1.0);
    let earlier_cv = i.cv.and_then(|c| c.earlier_cv_points).filter(|shift| {
        !(steps_say_none && *shift > -CV_CONTRADICTED_FACTOR * cfg.resistance_cv_shift_points)
    });
    if from_steps.is_some() || earlier_cv.is_some() {
        let sev = if from_steps.is_some_and(|ix| ix >= 2.0) {
            Severity::Critical
        } else {
            Severity::Warning
        };
        let mut why = Vec::new();
        if let Some(ix) = from_steps {
            why.push(format!(
                "internal resistance from current steps is {:.0} % above the vehicle's own baseline",
                (ix - 1.0) * 100.0
            ));
        }
        if let Some(shift) = earlier_cv {
            why.push(format!(
                "constant voltage now comes {:.1} points of SoC earlier than in its first sessions at the same current and temperature",
                -shift
            ));
        }
        out.push(alert(
            AlertKind::ResistanceIncrease,
            sev,
            at,
            why.join("; "),
            from_steps.or(i.resistance.index),
        ));
    }
    // Against the cohort: constant voltage far earlier than for healthy packs, or somewhat
    // earlier with the resistance from current steps well above the model's median (two
    // imperfect measures agreeing: the first swings with temperature and current, the second
    // with SoC and the charger's cable). Only 25 °C-corrected figures are compared.
    let over_cohort = i
        .resistance
        .corrected_recent()
        .zip(i.cohort_resistance)
        .filter(|(_, m)| m.0 > 0.0)
        .map(|(r, m)| r.0 / m.0);
    let supported = cv_behind.zip(over_cohort.filter(|x| *x >= cfg.resistance_cohort_ratio));
    let cohort = match (i.cv.and_then(|c| c.behind_cohort_points), supported) {
        (Some(o), _) => Some((o, String::new())),
        (None, Some((o, x))) => Some((
            o,
            format!(
                "internal resistance from current steps is {x:.2} times the median of this model's packs, and "
            ),
        )),
        (None, None) => None,
    };
    if let Some((o, steps)) = cohort {
        out.push(alert(
            AlertKind::ResistanceAboveCohort,
            Severity::Warning,
            at,
            format!(
                "{steps}constant voltage comes {:.1} points of SoC earlier than for healthy packs of this model at the same current and temperature, and neither the SoC check nor low currents explain it: the pack's resistance is well above its cohort's",
                -o
            ),
            Some(o),
        ));
    }
    let recent = &i.sessions[i.sessions.len().saturating_sub(cfg.abort_window_sessions)..];
    let aborts: Vec<&SessionSummary> = recent
        .iter()
        .filter(|s| s.ev_abort && !ctx.suspect_chargers.contains(&s.charger))
        .collect();
    let chargers: BTreeSet<&ChargerId> = aborts.iter().map(|s| &s.charger).collect();
    if aborts.len() >= cfg.abort_min_count && chargers.len() >= cfg.abort_min_chargers {
        out.push(alert(
            AlertKind::RepeatedEvAborts,
            Severity::Warning,
            at,
            format!(
                "the vehicle ended {} of its last {} sessions itself, at {} different chargers",
                aborts.len(),
                recent.len(),
                chargers.len()
            ),
            Some(aborts.len() as f64),
        ));
    }
    if let Some(s) = i
        .sessions
        .iter()
        .rev()
        .find(|s| s.battery_malfunction && s.ended_at >= at - Duration::days(90))
    {
        out.push(alert(
            AlertKind::BatteryMalfunctionCode,
            Severity::Critical,
            at,
            format!(
                "the vehicle reported a battery malfunction during session {}",
                s.session
            ),
            None,
        ));
    }
    let last5 = &i.sessions[i.sessions.len().saturating_sub(5)..];
    let dead = last5
        .iter()
        .filter(|s| s.temperature_sensor_suspect)
        .count();
    if dead >= 3 {
        out.push(alert(
            AlertKind::TemperatureSensorSuspect,
            Severity::Info,
            at,
            format!(
                "battery temperature stuck or implausible in {dead} of the last {} sessions",
                last5.len()
            ),
            None,
        ));
    }
    out
}
