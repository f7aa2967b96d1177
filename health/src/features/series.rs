//! Meter samples regrouped into one point per timestamp with the values the features need,
//! normalised to base units (W, Wh, A, V, °C, %). Per-phase values are combined only when no
//! total is given: currents and energy registers are summed, voltages averaged.

use chargegrid_core::meter::{Measurand, MeterLocation, MeterPhase, MeterSample, MeterUnit};
use chargegrid_core::{Amperes, Volts, WattHours, Watts};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// One instant of a session.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Point {
    /// When.
    pub at: DateTime<Utc>,
    /// Import register.
    pub energy: Option<WattHours>,
    /// Active power.
    pub power: Option<Watts>,
    /// Current (DC: the battery's).
    pub current: Option<Amperes>,
    /// Voltage (DC: the battery's).
    pub voltage: Option<Volts>,
    /// State of charge, percent.
    pub soc: Option<f64>,
    /// Battery temperature (location EV), °C.
    pub ev_temperature: Option<f64>,
    /// Current offered by the charger.
    pub offered_current: Option<Amperes>,
    /// Power offered by the charger.
    pub offered_power: Option<Watts>,
}

/// The points of a session in time order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SessionSeries {
    /// Points, strictly increasing in time.
    pub points: Vec<Point>,
    /// Whether a temperature was reported somewhere other than the EV.
    pub non_ev_temperature_seen: bool,
}

#[derive(Default)]
struct Acc {
    total: Option<f64>,
    phase_sum: f64,
    phase_n: usize,
}

impl Acc {
    fn add(&mut self, phase: &Option<MeterPhase>, v: f64) {
        match phase {
            None => self.total = Some(v),
            Some(MeterPhase::L1 | MeterPhase::L2 | MeterPhase::L3)
            | Some(MeterPhase::L1N | MeterPhase::L2N | MeterPhase::L3N) => {
                self.phase_sum += v;
                self.phase_n += 1;
            }
            Some(_) => {}
        }
    }
    fn summed(&self) -> Option<f64> {
        self.total.or((self.phase_n > 0).then_some(self.phase_sum))
    }
    fn averaged(&self) -> Option<f64> {
        self.total
            .or((self.phase_n > 0).then(|| self.phase_sum / self.phase_n as f64))
    }
}

#[derive(Default)]
struct Slot {
    energy: Acc,
    power: Acc,
    current: Acc,
    voltage: Acc,
    soc: Option<f64>,
    temp: Option<f64>,
    offered_current: Acc,
    offered_power: Acc,
}

/// Groups samples by timestamp. Values in an unexpected unit family (a power in A) are dropped.
pub fn build_series(samples: &[MeterSample]) -> SessionSeries {
    let mut slots: BTreeMap<DateTime<Utc>, Slot> = BTreeMap::new();
    let mut non_ev_temperature_seen = false;
    for s in samples {
        let (v, unit) = s.normalized();
        if !v.is_finite() {
            continue;
        }
        let slot = slots.entry(s.timestamp).or_default();
        match (&s.measurand, unit) {
            (Measurand::EnergyActiveImportRegister, MeterUnit::Wh) => slot.energy.add(&s.phase, v),
            (Measurand::PowerActiveImport, MeterUnit::W) => slot.power.add(&s.phase, v),
            (Measurand::CurrentImport, MeterUnit::A) => slot.current.add(&s.phase, v),
            (Measurand::Voltage, MeterUnit::V) => slot.voltage.add(&s.phase, v),
            (Measurand::SoC, MeterUnit::Percent) => slot.soc = Some(v),
            (Measurand::Temperature, MeterUnit::Celsius) => {
                if s.location == MeterLocation::Ev {
                    slot.temp = Some(v);
                } else {
                    non_ev_temperature_seen = true;
                }
            }
            (Measurand::CurrentOffered, MeterUnit::A) => slot.offered_current.add(&s.phase, v),
            (Measurand::PowerOffered, MeterUnit::W) => slot.offered_power.add(&s.phase, v),
            _ => {}
        }
    }
    let points = slots
        .into_iter()
        .map(|(at, s)| Point {
            at,
            energy: s.energy.summed().map(WattHours),
            power: s.power.summed().map(Watts),
            current: s.current.summed().map(Amperes),
            voltage: s.voltage.averaged().map(Volts),
            soc: s.soc,
            ev_temperature: s.temp,
            offered_current: s.offered_current.summed().map(Amperes),
            offered_power: s.offered_power.summed().map(Watts),
        })
        .collect();
    SessionSeries {
        points,
        non_ev_temperature_seen,
    }
}

/// Seconds from `a` to `b`.
pub(crate) fn secs(a: DateTime<Utc>, b: DateTime<Utc>) -> f64 {
    (b - a).num_milliseconds() as f64 / 1000.0
}

impl SessionSeries {
    /// Power at a point: the reported one, else V × I.
    pub fn power_at(&self, i: usize) -> Option<Watts> {
        let p = &self.points[i];
        p.power.or(match (p.voltage, p.current) {
            (Some(v), Some(c)) => Some(c * v),
            _ => None,
        })
    }
}
