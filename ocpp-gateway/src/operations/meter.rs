//! Applying meter samples to a session: read once into the core's per-instant series
//! ([`MeterSeries`]: units, phases and locations resolved there), then the energy register by the
//! core's one counting rule, the latest power (reported, else voltage × current: what the
//! scheduler's draw check compares with the limit) with the largest per-phase current beside
//! it, and the latest state of charge.

use chargegrid_core::Watts;
use chargegrid_core::meter::{MeterSample, MeterSeries, RegisterOutcome};
use chargegrid_core::session::Session;

/// What applying samples did, for logs and metrics.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Applied {
    /// Register readings counted.
    pub counted: usize,
    /// Register readings ignored because they went backwards.
    pub backwards: usize,
    /// A zero baseline replaced by the first plausible reading.
    pub rebased: bool,
}

/// Updates `session` from `samples` (in any order); `max_power` bounds plausible energy.
pub(crate) fn apply(session: &mut Session, samples: &[MeterSample], max_power: Watts) -> Applied {
    let mut applied = Applied::default();
    for point in MeterSeries::from_samples(samples).points {
        if let Some(wh) = point.energy {
            match session.record_register(wh, point.at, max_power) {
                RegisterOutcome::Counted
                | RegisterOutcome::Baseline
                | RegisterOutcome::Bridged
                | RegisterOutcome::Corrected => applied.counted += 1,
                RegisterOutcome::Rebased => {
                    applied.counted += 1;
                    applied.rebased = true;
                }
                RegisterOutcome::Backwards
                | RegisterOutcome::Held
                | RegisterOutcome::Late
                | RegisterOutcome::Invalid => applied.backwards += 1,
            }
        }
        if let Some(w) = point.power_or_product().filter(|w| w.0 >= 0.0) {
            session.power = Some(w);
            // Per-phase currents belong to the reading that gave the power (none: unknown).
            session.line_current = point.line_current.filter(|a| a.0 >= 0.0);
        }
        if let Some(soc) = point.soc {
            session.soc = Some(soc);
        }
    }
    applied
}

#[cfg(test)]
mod tests {
    use super::*;
    use chargegrid_core::meter::{Measurand, MeterLocation, MeterPhase, MeterUnit, ReadingContext};
    use chargegrid_core::{ChargerId, ConnectorId, EvseId, SessionId, SiteId, WattHours};
    use chrono::{DateTime, Duration, Utc};

    fn session() -> Session {
        Session {
            meter_start: Some(WattHours(10_000.0)),
            meter_last: Some(WattHours(10_000.0)),
            ..Session::new(
                SessionId::new("s").unwrap(),
                "1".into(),
                SiteId::new("site").unwrap(),
                ChargerId::new("c").unwrap(),
                (EvseId(1), ConnectorId(1)),
                DateTime::<Utc>::UNIX_EPOCH,
            )
        }
    }

    fn sample(
        min: i64,
        measurand: &str,
        phase: Option<&str>,
        unit: &str,
        value: f64,
    ) -> MeterSample {
        MeterSample {
            timestamp: DateTime::<Utc>::UNIX_EPOCH + Duration::minutes(min),
            measurand: Measurand::from_text(measurand),
            phase: phase.map(MeterPhase::from_text),
            unit: MeterUnit::from_text(unit),
            value,
            context: ReadingContext::SamplePeriodic,
            location: MeterLocation::Outlet,
        }
    }

    #[test]
    fn kwh_registers_power_and_soc_are_applied_in_time_order() {
        let mut s = session();
        let a = apply(
            &mut s,
            &[
                sample(10, "Energy.Active.Import.Register", None, "kWh", 11.5),
                sample(5, "Energy.Active.Import.Register", None, "Wh", 10_700.0),
                sample(10, "Power.Active.Import", None, "kW", 7.2),
                sample(10, "SoC", None, "Percent", 55.0),
            ],
            Watts(22_000.0),
        );
        assert_eq!(a.counted, 2);
        assert_eq!(s.energy, WattHours(1_500.0));
        assert_eq!(s.power, Some(Watts(7_200.0)));
        assert_eq!(s.soc, Some(55.0));
    }

    #[test]
    fn per_phase_registers_are_summed_and_backwards_readings_ignored() {
        let mut s = session();
        apply(
            &mut s,
            &[
                sample(
                    1,
                    "Energy.Active.Import.Register",
                    Some("L1"),
                    "Wh",
                    3_400.0,
                ),
                sample(
                    1,
                    "Energy.Active.Import.Register",
                    Some("L2"),
                    "Wh",
                    3_300.0,
                ),
                sample(
                    1,
                    "Energy.Active.Import.Register",
                    Some("L3"),
                    "Wh",
                    3_500.0,
                ),
                sample(1, "Power.Active.Import", Some("L1"), "W", 2_000.0),
                sample(1, "Power.Active.Import", Some("L2"), "W", 2_100.0),
            ],
            Watts(22_000.0),
        );
        assert_eq!(s.energy, WattHours(200.0));
        assert_eq!(s.power, Some(Watts(4_100.0)));
        let a = apply(
            &mut s,
            &[sample(
                2,
                "Energy.Active.Import.Register",
                None,
                "Wh",
                9_000.0,
            )],
            Watts(22_000.0),
        );
        assert_eq!(a.backwards, 1);
        assert_eq!(s.energy, WattHours(200.0));
    }

    #[test]
    fn a_charger_that_reports_only_voltage_and_current_gets_a_power() {
        // A DC charger without Power.Active.Import: the scheduler's draw check still has a figure.
        let mut s = session();
        apply(
            &mut s,
            &[
                sample(1, "Voltage", None, "V", 400.0),
                sample(1, "Current.Import", None, "A", 120.0),
                sample(1, "SoC", None, "Percent", 101.0),
            ],
            Watts(150_000.0),
        );
        assert_eq!(s.power, Some(Watts(48_000.0)));
        assert_eq!(s.soc, None, "a SoC over 100 % is not taken");
        assert_eq!(
            s.line_current, None,
            "a current without a phase is not a line's"
        );
    }

    #[test]
    fn per_phase_currents_go_with_the_power_of_their_reading() {
        let mut s = session();
        // A single-phase car on a three-phase charger: 16 A on L1 only.
        apply(
            &mut s,
            &[
                sample(1, "Power.Active.Import", None, "W", 3_680.0),
                sample(1, "Current.Import", Some("L1"), "A", 16.0),
                sample(1, "Current.Import", Some("L2"), "A", 0.0),
                sample(1, "Current.Import", Some("L3"), "A", 0.0),
            ],
            Watts(22_000.0),
        );
        assert_eq!(s.line_current, Some(chargegrid_core::Amperes(16.0)));
        // A later reading with power only: the old phase currents are not kept beside it.
        apply(
            &mut s,
            &[sample(2, "Power.Active.Import", None, "W", 3_000.0)],
            Watts(22_000.0),
        );
        assert_eq!(s.power, Some(Watts(3_000.0)));
        assert_eq!(s.line_current, None);
    }
}
