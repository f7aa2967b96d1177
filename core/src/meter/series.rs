//! Meter samples regrouped into one point per instant, in base units (W, Wh, A, V, °C, %):
//! the one reading of a charger's meter data. The gateway builds it once per message to update
//! the session (its energy, power and state of charge, which the scheduler's draw check reads);
//! health builds it from a finished session's stored samples.
//!
//! Rules, in one place:
//! - **Units**: every value is normalised ([`MeterSample::normalized`]); a value in a unit of the
//!   wrong family (a power in A) or not a finite number is dropped.
//! - **Phases**: a value without a phase is the total and is preferred; without one, per-phase
//!   values (L1, L2, L3, or L1-N, L2-N, L3-N) are combined: energies, powers and currents
//!   summed, voltages averaged. Line-to-line and neutral values are not combined.
//! - **Location**: energy, power, current and voltage are read at the outlet (the default
//!   location, or `Cable`); a meter at the grid inlet is used only at an instant without an
//!   outlet value. Temperature at `EV` is the battery's; elsewhere it is the charger's, and only
//!   noted.
//! - **Context**: each point keeps the reading context of its first sample (chargers send one
//!   context for a whole `meterValue`).

use chrono::{DateTime, Utc};

use super::register::{RegisterCount, RegisterOutcome};
use super::{Measurand, MeterLocation, MeterPhase, MeterSample, MeterUnit, ReadingContext};
use crate::{Amperes, Volts, WattHours, Watts};

/// One instant of a session's meter data.
#[derive(Debug, Clone, PartialEq)]
pub struct MeterPoint {
    /// When (UTC).
    pub at: DateTime<Utc>,
    /// Why the values were taken.
    pub context: ReadingContext,
    /// Import register.
    pub energy: Option<WattHours>,
    /// Active power drawn.
    pub power: Option<Watts>,
    /// Current drawn (DC: the battery's).
    pub current: Option<Amperes>,
    /// The largest current on one phase line, where the charger reports per-phase currents
    /// (Current.Import with a phase): what a vehicle draws per phase, whatever phases it uses.
    pub line_current: Option<Amperes>,
    /// Voltage (DC: the battery's).
    pub voltage: Option<Volts>,
    /// State of charge, percent (0–100; other values are dropped).
    pub soc: Option<f64>,
    /// Battery temperature (location EV), °C.
    pub ev_temperature: Option<f64>,
    /// Current offered by the charger.
    pub offered_current: Option<Amperes>,
    /// Power offered by the charger.
    pub offered_power: Option<Watts>,
}

impl MeterPoint {
    /// Power: the reported one, else voltage × current.
    pub fn power_or_product(&self) -> Option<Watts> {
        self.power.or(match (self.voltage, self.current) {
            (Some(v), Some(c)) => Some(c * v),
            _ => None,
        })
    }
}

/// A session's meter data, one point per instant, in time order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MeterSeries {
    /// Points, strictly increasing in time.
    pub points: Vec<MeterPoint>,
    /// Whether a temperature was reported somewhere other than the EV.
    pub non_ev_temperature_seen: bool,
}

impl MeterSeries {
    /// Groups samples (in any order) by instant.
    pub fn from_samples(samples: &[MeterSample]) -> Self {
        let mut ordered: Vec<&MeterSample> = samples.iter().collect();
        // Stable and linear on samples that already come in time order (the usual case).
        ordered.sort_by_key(|s| s.timestamp);
        let mut series = Self::default();
        let mut i = 0;
        while i < ordered.len() {
            let at = ordered[i].timestamp;
            let mut instant = Instant::default();
            let mut j = i;
            while j < ordered.len() && ordered[j].timestamp == at {
                series.non_ev_temperature_seen |= instant.add(ordered[j]);
                j += 1;
            }
            series
                .points
                .push(instant.point(at, ordered[i].context.clone()));
            i = j;
        }
        series
    }

    /// Power at point `i`: the reported one, else voltage × current.
    pub fn power_at(&self, i: usize) -> Option<Watts> {
        self.points[i].power_or_product()
    }

    /// The energy the import register shows, point by point, counted by the one rule
    /// ([`RegisterCount::record`]) for a session that started at `started_at` with the register
    /// at `meter_start` (when the charger said so apart from the samples) on a charger of at
    /// most `max_power`. `None` when no point carries a register.
    pub fn register_curve(
        &self,
        started_at: DateTime<Utc>,
        meter_start: Option<WattHours>,
        max_power: Watts,
    ) -> Option<RegisterCurve> {
        if !self.points.iter().any(|p| p.energy.is_some()) {
            return None;
        }
        let mut count = RegisterCount::default();
        if let Some(wh) = meter_start {
            count.record(wh, started_at, started_at, max_power);
        }
        let mut curve = RegisterCurve {
            energy: Vec::with_capacity(self.points.len()),
            resets: 0,
            glitches: 0,
        };
        // Whether a reading is held: dropped as a glitch unless the next one confirms it.
        let mut holding = false;
        for p in &self.points {
            if let Some(reading) = p.energy {
                match count.record(reading, p.at, started_at, max_power) {
                    RegisterOutcome::Bridged => {
                        curve.resets += 1;
                        holding = false;
                    }
                    RegisterOutcome::Backwards | RegisterOutcome::Held => {
                        curve.glitches += usize::from(holding);
                        holding = true;
                    }
                    RegisterOutcome::Corrected => {
                        curve.glitches += 1 + usize::from(holding);
                        holding = false;
                    }
                    RegisterOutcome::Counted
                    | RegisterOutcome::Baseline
                    | RegisterOutcome::Rebased => {
                        curve.glitches += usize::from(holding);
                        holding = false;
                    }
                    RegisterOutcome::Late | RegisterOutcome::Invalid => {}
                }
            }
            curve.energy.push(count.energy);
        }
        curve.glitches += usize::from(holding);
        // A step counted at once and taken back later: no point shows more than a later one.
        for i in (1..curve.energy.len()).rev() {
            if curve.energy[i - 1] > curve.energy[i] {
                curve.energy[i - 1] = curve.energy[i];
            }
        }
        Some(curve)
    }
}

/// Energy counted from a series' import register: see [`MeterSeries::register_curve`].
#[derive(Debug, Clone, PartialEq)]
pub struct RegisterCurve {
    /// Energy counted up to each point of the series (the first is zero unless a start reading
    /// came before it); never above a later point.
    pub energy: Vec<WattHours>,
    /// Readings that showed the register was reset or re-based (the count bridged the step).
    pub resets: usize,
    /// Readings dropped as glitches (backwards, or a jump the charger could not deliver, that
    /// the next reading contradicted) or steps taken back.
    pub glitches: usize,
}

/// A total, or per-phase values to combine.
#[derive(Default)]
struct Acc {
    total: Option<f64>,
    phase_sum: f64,
    phase_n: usize,
    phase_max: Option<f64>,
}

impl Acc {
    fn add(&mut self, phase: &Option<MeterPhase>, v: f64) {
        match phase {
            None => self.total = Some(v),
            Some(
                MeterPhase::L1
                | MeterPhase::L2
                | MeterPhase::L3
                | MeterPhase::L1N
                | MeterPhase::L2N
                | MeterPhase::L3N,
            ) => {
                self.phase_sum += v;
                self.phase_n += 1;
                self.phase_max = Some(self.phase_max.map_or(v, |m| m.max(v)));
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

/// The electrical values at one location.
#[derive(Default)]
struct Electrical {
    energy: Acc,
    power: Acc,
    current: Acc,
    voltage: Acc,
}

/// What one instant's samples said, before combining.
#[derive(Default)]
struct Instant {
    outlet: Electrical,
    inlet: Electrical,
    soc: Option<f64>,
    ev_temperature: Option<f64>,
    offered_current: Acc,
    offered_power: Acc,
}

impl Instant {
    /// Takes one sample; returns whether it was a temperature somewhere other than the EV.
    fn add(&mut self, s: &MeterSample) -> bool {
        let (v, unit) = s.normalized();
        if !v.is_finite() {
            return false;
        }
        let at = match s.location {
            MeterLocation::Inlet => &mut self.inlet,
            _ => &mut self.outlet,
        };
        match (&s.measurand, unit) {
            (Measurand::EnergyActiveImportRegister, MeterUnit::Wh) => at.energy.add(&s.phase, v),
            (Measurand::PowerActiveImport, MeterUnit::W) => at.power.add(&s.phase, v),
            (Measurand::CurrentImport, MeterUnit::A) => at.current.add(&s.phase, v),
            (Measurand::Voltage, MeterUnit::V) => at.voltage.add(&s.phase, v),
            (Measurand::SoC, MeterUnit::Percent) if (0.0..=100.0).contains(&v) => {
                self.soc = Some(v)
            }
            (Measurand::Temperature, MeterUnit::Celsius) => {
                if s.location == MeterLocation::Ev {
                    self.ev_temperature = Some(v);
                } else {
                    return true;
                }
            }
            (Measurand::CurrentOffered, MeterUnit::A) => self.offered_current.add(&s.phase, v),
            (Measurand::PowerOffered, MeterUnit::W) => self.offered_power.add(&s.phase, v),
            _ => {}
        }
        false
    }

    fn point(self, at: DateTime<Utc>, context: ReadingContext) -> MeterPoint {
        let (o, i) = (&self.outlet, &self.inlet);
        MeterPoint {
            energy: o.energy.summed().or(i.energy.summed()).map(WattHours),
            power: o.power.summed().or(i.power.summed()).map(Watts),
            current: o.current.summed().or(i.current.summed()).map(Amperes),
            line_current: o.current.phase_max.or(i.current.phase_max).map(Amperes),
            voltage: o.voltage.averaged().or(i.voltage.averaged()).map(Volts),
            soc: self.soc,
            ev_temperature: self.ev_temperature,
            offered_current: self.offered_current.summed().map(Amperes),
            offered_power: self.offered_power.summed().map(Watts),
            at,
            context,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn sample(
        sec: i64,
        measurand: &str,
        phase: Option<&str>,
        unit: &str,
        value: f64,
    ) -> MeterSample {
        MeterSample {
            timestamp: DateTime::<Utc>::UNIX_EPOCH + Duration::seconds(sec),
            measurand: Measurand::from_text(measurand),
            phase: phase.map(MeterPhase::from_text),
            unit: MeterUnit::from_text(unit),
            value,
            context: ReadingContext::SamplePeriodic,
            location: MeterLocation::Outlet,
        }
    }

    fn at(mut s: MeterSample, location: MeterLocation) -> MeterSample {
        s.location = location;
        s
    }

    #[test]
    fn samples_in_any_order_become_one_point_per_instant_in_base_units() {
        let series = MeterSeries::from_samples(&[
            sample(60, "Energy.Active.Import.Register", None, "kWh", 1.5),
            sample(0, "Energy.Active.Import.Register", None, "Wh", 1_000.0),
            sample(60, "Power.Active.Import", None, "kW", 7.2),
            sample(60, "SoC", None, "Percent", 55.0),
            sample(0, "SoC", None, "Percent", 140.0),
            sample(60, "Power.Active.Import", None, "A", 16.0),
        ]);
        assert_eq!(series.points.len(), 2);
        let (a, b) = (&series.points[0], &series.points[1]);
        assert!(a.at < b.at);
        assert_eq!(a.energy, Some(WattHours(1_000.0)));
        assert_eq!(a.soc, None, "a SoC above 100 % is dropped");
        assert_eq!(b.energy, Some(WattHours(1_500.0)));
        assert_eq!(
            b.power,
            Some(Watts(7_200.0)),
            "the power in A is dropped, not taken"
        );
        assert_eq!(b.soc, Some(55.0));
    }

    #[test]
    fn phases_combine_only_without_a_total() {
        let series = MeterSeries::from_samples(&[
            sample(
                0,
                "Energy.Active.Import.Register",
                Some("L1"),
                "Wh",
                3_400.0,
            ),
            sample(
                0,
                "Energy.Active.Import.Register",
                Some("L2"),
                "Wh",
                3_300.0,
            ),
            sample(
                0,
                "Energy.Active.Import.Register",
                Some("L3"),
                "Wh",
                3_500.0,
            ),
            sample(0, "Current.Import", Some("L1"), "A", 16.0),
            sample(0, "Current.Import", Some("L2"), "A", 15.0),
            sample(0, "Current.Import", Some("N"), "A", 1.0),
            sample(0, "Voltage", Some("L1-N"), "V", 230.0),
            sample(0, "Voltage", Some("L2-N"), "V", 232.0),
            sample(0, "Voltage", Some("L1-L2"), "V", 400.0),
            sample(30, "Power.Active.Import", Some("L1"), "W", 2_000.0),
            sample(30, "Power.Active.Import", None, "W", 6_000.0),
        ]);
        let (a, b) = (&series.points[0], &series.points[1]);
        assert_eq!(a.energy, Some(WattHours(10_200.0)));
        assert_eq!(a.current, Some(Amperes(31.0)));
        assert_eq!(
            a.line_current,
            Some(Amperes(16.0)),
            "the most loaded phase, not N"
        );
        assert_eq!(b.line_current, None);
        assert_eq!(a.voltage, Some(Volts(231.0)));
        assert_eq!(a.power, None);
        assert_eq!(series.power_at(0), Some(Watts(31.0 * 231.0)));
        assert_eq!(b.power, Some(Watts(6_000.0)), "the total wins over phases");
    }

    #[test]
    fn the_outlet_is_preferred_to_the_inlet_and_only_ev_temperature_is_the_batterys() {
        let series = MeterSeries::from_samples(&[
            at(
                sample(0, "Energy.Active.Import.Register", None, "Wh", 10_500.0),
                MeterLocation::Inlet,
            ),
            sample(0, "Energy.Active.Import.Register", None, "Wh", 10_000.0),
            at(
                sample(30, "Energy.Active.Import.Register", None, "Wh", 10_700.0),
                MeterLocation::Inlet,
            ),
            at(
                sample(30, "Temperature", None, "Celsius", 31.0),
                MeterLocation::Ev,
            ),
            at(
                sample(30, "Temperature", None, "Fahrenheit", 104.0),
                MeterLocation::Body,
            ),
        ]);
        assert_eq!(series.points[0].energy, Some(WattHours(10_000.0)));
        assert_eq!(
            series.points[1].energy,
            Some(WattHours(10_700.0)),
            "an inlet-only instant uses the inlet"
        );
        assert_eq!(series.points[1].ev_temperature, Some(31.0));
        assert!(series.non_ev_temperature_seen);
    }

    #[test]
    fn the_register_curve_takes_back_a_glitch_and_bridges_a_reset() {
        let regs = [
            1_000.0, 1_092.0, 6_000.0, 1_184.0, 1_276.0, 30.0, 122.0, 214.0,
        ];
        let samples: Vec<MeterSample> = regs
            .iter()
            .enumerate()
            .map(|(i, wh)| {
                sample(
                    30 * i as i64,
                    "Energy.Active.Import.Register",
                    None,
                    "Wh",
                    *wh,
                )
            })
            .collect();
        let series = MeterSeries::from_samples(&samples);
        let start = DateTime::<Utc>::UNIX_EPOCH;
        let curve = series.register_curve(start, None, Watts(11_000.0)).unwrap();
        let wh: Vec<f64> = curve.energy.iter().map(|e| e.0).collect();
        // The 6,000 step is counted when it comes and taken back by the next reading: the curve
        // never shows it. The reset to 30 is held, then bridged with the 30 it shows.
        assert_eq!(wh, [0.0, 92.0, 184.0, 184.0, 276.0, 276.0, 398.0, 490.0]);
        assert_eq!((curve.resets, curve.glitches), (1, 1));
        // A start reading from the charger (meterStart) is the baseline before the samples.
        let from_start = series
            .register_curve(start, Some(WattHours(900.0)), Watts(11_000.0))
            .unwrap();
        assert_eq!(from_start.energy[0], WattHours(100.0));
        assert_eq!(
            MeterSeries::from_samples(&[sample(0, "SoC", None, "Percent", 50.0)]).register_curve(
                start,
                None,
                Watts(11_000.0)
            ),
            None
        );
    }
}
