//! Applying meter samples to a session: the energy register (total, or the sum of per-phase
//! registers when a charger sends only those), the latest power and state of charge. Units are
//! normalised (kWh → Wh, kW → W) and a register that goes backwards is ignored, not counted.

use std::collections::BTreeMap;

use chargegrid_core::meter::{Measurand, MeterPhase, MeterSample};
use chargegrid_core::session::{RegisterOutcome, Session};
use chargegrid_core::{WattHours, Watts};
use chrono::{DateTime, Utc};

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

#[derive(Default)]
struct AtInstant {
    register_total: Option<f64>,
    register_phases: f64,
    register_phase_count: usize,
    power_total: Option<f64>,
    power_phases: f64,
    power_phase_count: usize,
    soc: Option<f64>,
}

fn is_line_phase(phase: &Option<MeterPhase>) -> bool {
    matches!(
        phase,
        Some(
            MeterPhase::L1
                | MeterPhase::L2
                | MeterPhase::L3
                | MeterPhase::L1N
                | MeterPhase::L2N
                | MeterPhase::L3N
        )
    )
}

/// Updates `session` from `samples` (in any order); `max_power` bounds plausible energy.
pub(crate) fn apply(session: &mut Session, samples: &[MeterSample], max_power: Watts) -> Applied {
    let mut by_time: BTreeMap<DateTime<Utc>, AtInstant> = BTreeMap::new();
    for s in samples {
        let (value, _) = s.normalized();
        let slot = by_time.entry(s.timestamp).or_default();
        match s.measurand {
            Measurand::EnergyActiveImportRegister if s.phase.is_none() => {
                slot.register_total = Some(value);
            }
            Measurand::EnergyActiveImportRegister if is_line_phase(&s.phase) => {
                slot.register_phases += value;
                slot.register_phase_count += 1;
            }
            Measurand::PowerActiveImport if s.phase.is_none() => slot.power_total = Some(value),
            Measurand::PowerActiveImport if is_line_phase(&s.phase) => {
                slot.power_phases += value;
                slot.power_phase_count += 1;
            }
            Measurand::SoC => slot.soc = Some(value),
            _ => {}
        }
    }
    let mut applied = Applied::default();
    for (at, slot) in by_time {
        let register = slot
            .register_total
            .or((slot.register_phase_count > 0).then_some(slot.register_phases));
        if let Some(wh) = register {
            match session.record_register(WattHours(wh), at, max_power) {
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
        let power = slot
            .power_total
            .or((slot.power_phase_count > 0).then_some(slot.power_phases));
        if let Some(w) = power.filter(|w| w.is_finite() && *w >= 0.0) {
            session.power = Some(Watts(w));
        }
        if let Some(soc) = slot.soc.filter(|s| (0.0..=100.0).contains(s)) {
            session.soc = Some(soc);
        }
    }
    applied
}

#[cfg(test)]
mod tests {
    use super::*;
    use chargegrid_core::meter::{MeterLocation, MeterUnit, ReadingContext};
    use chargegrid_core::{ChargerId, ConnectorId, EvseId, SessionId, SiteId};
    use chrono::Duration;

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
}
