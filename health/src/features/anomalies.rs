//! Anomaly events of one session: EV-side aborts, voltage falling at constant current, SoC
//! jumps, an energy/SoC mismatch, repeated SuspendedEV, and EV error codes, classified so a
//! battery malfunction can be told from a shift-lever or connector-lock complaint.

use super::context::SessionContext;
use super::energy::EnergyFeature;
use chargegrid_core::meter::MeterSeries;
use chargegrid_core::network::ConnectorStatus;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What kind of anomaly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnomalyKind {
    /// The EV (its BMS) ended the session.
    EvAbort,
    /// Pack voltage fell while the current held steady and SoC rose.
    VoltageDropAtConstantCurrent,
    /// SoC rose far faster than the energy allows.
    SocJump,
    /// SoC fell while charging.
    SocDrop,
    /// Energy per SoC point is far from the nominal capacity.
    EnergySocMismatch,
    /// The EV suspended charging three or more times.
    RepeatedSuspendedEv,
    /// The EV reported a battery (RESS) malfunction.
    BatteryMalfunctionCode,
    /// The EV refused charge for battery temperature.
    BatteryTemperatureInhibit,
    /// The EV reported another error.
    OtherEvError,
}

/// One anomaly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnomalyEvent {
    /// Kind.
    pub kind: AnomalyKind,
    /// When it was seen.
    pub at: DateTime<Utc>,
    /// Human-readable detail.
    pub detail: String,
}

/// Class of an EV error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvErrorClass {
    /// Battery (RESS) malfunction.
    BatteryMalfunction,
    /// Battery temperature out of the charging range.
    BatteryTemperatureInhibit,
    /// Anything else the EV complained about.
    Other,
}

/// Classifies an EV error code (`FAILED_EVRESSMalfunction`, `FAILED_RESSTemperatureInhibit`,
/// CHAdeMO / vendor texts mentioning a battery fault). `None` for "no error" codes.
pub fn classify_ev_error(code: &str) -> Option<EvErrorClass> {
    let k: String = code
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase();
    if k.is_empty() || k == "noerror" || k == "nodata" {
        return None;
    }
    if k.contains("temperatureinhibit") || k.contains("batterytemperature") {
        return Some(EvErrorClass::BatteryTemperatureInhibit);
    }
    if k.contains("ressmalfunction")
        || k.contains("batterymalfunction")
        || k.contains("batteryfault")
        || k.contains("batteryovervoltage")
        || k.contains("batteryundervoltage")
    {
        return Some(EvErrorClass::BatteryMalfunction);
    }
    Some(EvErrorClass::Other)
}

fn event(kind: AnomalyKind, at: DateTime<Utc>, detail: String) -> AnomalyEvent {
    AnomalyEvent { kind, at, detail }
}

/// Scans the session for anomalies. `energy_cum` is the cumulative energy per point.
pub(crate) fn anomalies(
    series: &MeterSeries,
    energy_cum: &[f64],
    energy: &EnergyFeature,
    ctx: &SessionContext,
    dc: bool,
) -> Vec<AnomalyEvent> {
    let mut out = Vec::new();
    let end = ctx
        .ended_at
        .or(series.points.last().map(|p| p.at))
        .unwrap_or(ctx.started_at);
    if ctx.ev_side_abort() {
        out.push(event(
            AnomalyKind::EvAbort,
            end,
            format!("session ended by the EV at charger {}", ctx.charger),
        ));
    }
    voltage_drops(series, dc, &mut out);
    soc_jumps(series, energy_cum, ctx, &mut out);
    if let (Some(nominal), Some(ds)) = (ctx.nominal_capacity, energy.delta_soc)
        && ds >= 20.0
    {
        let per_full = energy.energy.0 * 100.0 / ds;
        let ratio = per_full / nominal.0;
        let (lo, hi) = if dc { (0.5, 1.4) } else { (0.5, 1.7) };
        if !(lo..=hi).contains(&ratio) {
            out.push(event(
                AnomalyKind::EnergySocMismatch,
                end,
                format!("energy per 100 % SoC is {ratio:.2} × nominal"),
            ));
        }
    }
    let mut statuses = ctx.status_changes.clone();
    statuses.sort_by_key(|s| s.at);
    let suspensions = statuses
        .windows(2)
        .filter(|w| w[1].status == ConnectorStatus::SuspendedEv && w[0].status != w[1].status)
        .count()
        + usize::from(
            statuses
                .first()
                .is_some_and(|s| s.status == ConnectorStatus::SuspendedEv),
        );
    if suspensions >= 3 {
        out.push(event(
            AnomalyKind::RepeatedSuspendedEv,
            end,
            format!("EV suspended charging {suspensions} times"),
        ));
    }
    for e in &ctx.ev_errors {
        let kind = match classify_ev_error(&e.code) {
            None => continue,
            Some(EvErrorClass::BatteryMalfunction) => AnomalyKind::BatteryMalfunctionCode,
            Some(EvErrorClass::BatteryTemperatureInhibit) => AnomalyKind::BatteryTemperatureInhibit,
            Some(EvErrorClass::Other) => AnomalyKind::OtherEvError,
        };
        out.push(event(kind, e.at, format!("EV error code {}", e.code)));
    }
    out
}

fn voltage_drops(series: &MeterSeries, dc: bool, out: &mut Vec<AnomalyEvent>) {
    if !dc {
        return;
    }
    for w in series.points.windows(2) {
        let (a, b) = (&w[0], &w[1]);
        let (Some(ia), Some(ib), Some(va), Some(vb)) = (a.current, b.current, a.voltage, b.voltage)
        else {
            continue;
        };
        let steady = (ib.0 - ia.0).abs() <= (0.02 * ia.0).max(2.0);
        let soc_ok = matches!((a.soc, b.soc), (Some(x), Some(y)) if y >= x);
        let drop = va.0 - vb.0;
        if ia.0 > 5.0 && steady && soc_ok && drop > (0.01 * va.0).max(2.0) {
            out.push(event(
                AnomalyKind::VoltageDropAtConstantCurrent,
                b.at,
                format!("voltage fell {drop:.1} V at {:.0} A", ib.0),
            ));
        }
    }
}

fn soc_jumps(
    series: &MeterSeries,
    energy_cum: &[f64],
    ctx: &SessionContext,
    out: &mut Vec<AnomalyEvent>,
) {
    let pts = &series.points;
    let mut last: Option<(usize, f64)> = None;
    for (i, p) in pts.iter().enumerate() {
        let Some(s) = p.soc else { continue };
        if let Some((j, prev)) = last {
            let ds = s - prev;
            let de = energy_cum[i] - energy_cum[j];
            let expected = ctx.nominal_capacity.map(|c| de * 100.0 / c.0.max(1.0));
            let jump = match expected {
                Some(e) => ds > 5.0 && ds > 3.0 * e + 2.0,
                None => ds > 15.0,
            };
            if jump {
                out.push(event(
                    AnomalyKind::SocJump,
                    p.at,
                    format!("SoC rose {ds:.0} points in one sample"),
                ));
            } else if ds <= -2.0 && de >= 0.0 {
                out.push(event(
                    AnomalyKind::SocDrop,
                    p.at,
                    format!("SoC fell {:.0} points while charging", -ds),
                ));
            }
        }
        last = Some((i, s));
    }
}
