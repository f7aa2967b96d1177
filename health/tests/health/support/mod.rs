//! Test helpers: meter samples from simple rows, session contexts, and a small synthetic EV
//! generator with known truth (health cannot depend on the simulations crate).

#![allow(dead_code)]

pub mod synth;

use chargegrid_core::meter::{Measurand, MeterLocation, MeterSample, MeterUnit, ReadingContext};
use chargegrid_core::{ChargerId, SessionId, VehicleId};
use chargegrid_health::SessionContext;
use chrono::{DateTime, Duration, TimeZone, Utc};

/// A fixed origin for test time.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 8, 0, 0).unwrap()
}

/// One row of a session: what a DC charger would report at `t_s` seconds.
#[derive(Debug, Clone, Copy, Default)]
pub struct Row {
    /// Seconds from the start.
    pub t_s: f64,
    /// Import register, Wh.
    pub energy_wh: Option<f64>,
    /// Power, W.
    pub power_w: Option<f64>,
    /// Current, A.
    pub current_a: Option<f64>,
    /// Voltage, V.
    pub voltage_v: Option<f64>,
    /// SoC, %.
    pub soc: Option<f64>,
    /// Temperature, °C, and whether it is the EV's.
    pub temp: Option<(f64, bool)>,
    /// Offered power, W.
    pub offered_w: Option<f64>,
}

fn one(at: DateTime<Utc>, m: Measurand, u: MeterUnit, v: f64, loc: MeterLocation) -> MeterSample {
    MeterSample {
        timestamp: at,
        measurand: m,
        phase: None,
        unit: u,
        value: v,
        context: ReadingContext::SamplePeriodic,
        location: loc,
    }
}

/// The meter samples of `rows`, starting at `start`.
pub fn samples(start: DateTime<Utc>, rows: &[Row]) -> Vec<MeterSample> {
    let mut out = Vec::new();
    for r in rows {
        let at = start + Duration::milliseconds((r.t_s * 1000.0).round() as i64);
        let o = MeterLocation::Outlet;
        if let Some(v) = r.energy_wh {
            out.push(one(
                at,
                Measurand::EnergyActiveImportRegister,
                MeterUnit::Wh,
                v,
                o.clone(),
            ));
        }
        if let Some(v) = r.power_w {
            out.push(one(
                at,
                Measurand::PowerActiveImport,
                MeterUnit::W,
                v,
                o.clone(),
            ));
        }
        if let Some(v) = r.current_a {
            out.push(one(
                at,
                Measurand::CurrentImport,
                MeterUnit::A,
                v,
                o.clone(),
            ));
        }
        if let Some(v) = r.voltage_v {
            out.push(one(at, Measurand::Voltage, MeterUnit::V, v, o.clone()));
        }
        if let Some(v) = r.soc {
            out.push(one(
                at,
                Measurand::SoC,
                MeterUnit::Percent,
                v,
                MeterLocation::Ev,
            ));
        }
        if let Some((v, ev)) = r.temp {
            let loc = if ev {
                MeterLocation::Ev
            } else {
                MeterLocation::Body
            };
            out.push(one(at, Measurand::Temperature, MeterUnit::Celsius, v, loc));
        }
        if let Some(v) = r.offered_w {
            out.push(one(at, Measurand::PowerOffered, MeterUnit::W, v, o.clone()));
        }
    }
    out
}

/// A context for session `id` at `charger`.
pub fn ctx(id: &str, charger: &str, dc: bool, start: DateTime<Utc>, secs: f64) -> SessionContext {
    SessionContext {
        session: SessionId::new(id).unwrap(),
        vehicle: Some(VehicleId::new("V1").unwrap()),
        charger: ChargerId::new(charger).unwrap(),
        dc,
        started_at: start,
        ended_at: Some(start + Duration::milliseconds((secs * 1000.0) as i64)),
        stop_reason: None,
        nominal_capacity: None,
        charger_max_power: None,
        odometer_km: None,
        status_changes: Vec::new(),
        ev_errors: Vec::new(),
    }
}

/// A DC session at constant current and voltage with a linear SoC ramp: `n` samples every
/// `dt` seconds, `amps` at `volts`, SoC from `soc0` gaining `soc_per_sample` per sample.
pub fn constant_current_rows(
    n: usize,
    dt: f64,
    amps: f64,
    volts: f64,
    soc0: f64,
    soc_per_sample: f64,
) -> Vec<Row> {
    (0..n)
        .map(|i| {
            let t = i as f64 * dt;
            Row {
                t_s: t,
                energy_wh: Some(amps * volts * t / 3600.0),
                power_w: Some(amps * volts),
                current_a: Some(amps),
                voltage_v: Some(volts),
                soc: Some(soc0 + soc_per_sample * i as f64),
                ..Default::default()
            }
        })
        .collect()
}
