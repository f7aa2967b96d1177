//! Charging profiles both ways: rendering a per-phase current as the [`ChargingLimit`] a
//! charger model wants (purpose, stack level, A or W, phases, step), and reading back from the
//! profiles on record what an EVSE may draw now — with a session (its TxProfile, else the
//! per-EVSE default, else the charger-wide default, else its maximum) or for the next vehicle
//! to arrive (the defaults only).

use std::collections::HashMap;

use chargegrid_core::command::{ChargingLimit, ProfilePurpose, RateUnit, SchedulePeriod};
use chargegrid_core::network::Charger;
use chargegrid_core::{Amperes, ChargerId, EvseId, Volts, Watts};

use super::config::ModelKnobs;

/// Profile id of the charger-wide failsafe default (EVSE 0).
const CHARGER_DEFAULT_ID: i32 = 1;
/// Profile ids of per-EVSE TxProfiles are this plus the EVSE id.
const TX_BASE_ID: i32 = 100;
/// Profile ids of per-EVSE defaults are this plus the EVSE id.
const EVSE_DEFAULT_BASE_ID: i32 = 200;

/// The 1.6 schema's resolution: the gateway rounds limits down to it.
fn tenth_floor(v: f64) -> f64 {
    ((v * 10.0) + 1e-9).floor() / 10.0
}

/// What a profile is on an EVSE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Slot {
    /// The charger-wide TxDefaultProfile (EVSE 0).
    ChargerDefault,
    /// A per-EVSE TxDefaultProfile.
    EvseDefault,
    /// A TxProfile for one transaction.
    Tx,
}

/// The unit profiles for `charger` are expressed in.
pub(crate) fn unit_for(charger: &Charger, knobs: &ModelKnobs) -> RateUnit {
    knobs.unit.unwrap_or_else(|| {
        let dc = charger
            .evses
            .iter()
            .flat_map(|e| &e.connectors)
            .any(|c| c.kind.is_dc());
        if dc { RateUnit::W } else { RateUnit::A }
    })
}

/// Renders a per-phase current for `charger` with `knobs`.
pub(crate) fn render(
    charger: &Charger,
    knobs: &ModelKnobs,
    slot: Slot,
    evse: EvseId,
    transaction: Option<&str>,
    amps: Amperes,
    voltage: Volts,
) -> ChargingLimit {
    let phases = charger.wiring.phases();
    let amps = match knobs.current_step {
        Some(step) if step.0 > 0.0 => Amperes((amps.0 / step.0 + 1e-9).floor() * step.0),
        _ => amps,
    };
    let unit = unit_for(charger, knobs);
    let limit = match unit {
        RateUnit::A => tenth_floor(amps.0),
        RateUnit::W => tenth_floor(charger.wiring.power(amps, voltage).0),
    };
    let (profile_id, stack_level, purpose) = match slot {
        Slot::ChargerDefault => (
            CHARGER_DEFAULT_ID,
            knobs.stack_level,
            ProfilePurpose::TxDefault,
        ),
        Slot::EvseDefault => (
            EVSE_DEFAULT_BASE_ID + evse.0 as i32,
            knobs.stack_level + 1,
            ProfilePurpose::TxDefault,
        ),
        Slot::Tx => (
            TX_BASE_ID + evse.0 as i32,
            knobs.stack_level,
            ProfilePurpose::Tx,
        ),
    };
    ChargingLimit {
        profile_id,
        stack_level,
        purpose,
        transaction_id: transaction.filter(|_| slot == Slot::Tx).map(str::to_string),
        start: None,
        unit,
        periods: vec![SchedulePeriod {
            start_offset_s: 0,
            limit,
            phases: Some(knobs.number_phases.unwrap_or(phases)),
        }],
        valid_to: None,
    }
}

/// The per-phase current a profile allows on `charger` (its first period; W turned into
/// current on the charger's phases).
pub(crate) fn limit_amps(limit: &ChargingLimit, charger: &Charger, voltage: Volts) -> Amperes {
    let v = tenth_floor(limit.periods.first().map_or(0.0, |p| p.limit.max(0.0)));
    match limit.unit {
        RateUnit::A => Amperes(v),
        RateUnit::W => charger.wiring.current(Watts(v), voltage),
    }
}

/// The profiles on record, read as currents.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Installed<'a> {
    /// Profiles by charger and EVSE (0: charger-wide).
    pub sent: &'a HashMap<(ChargerId, EvseId), ChargingLimit>,
    /// Voltage for W profiles.
    pub voltage: Volts,
}

impl Installed<'_> {
    /// The charger-wide default, if one is on record.
    pub fn charger_default(&self, charger: &Charger) -> Option<Amperes> {
        self.sent
            .get(&(charger.id.clone(), EvseId(0)))
            .filter(|l| l.purpose == ProfilePurpose::TxDefault)
            .map(|l| limit_amps(l, charger, self.voltage))
    }

    /// The EVSE's own default, if one is on record.
    pub fn evse_default(&self, charger: &Charger, evse: EvseId) -> Option<Amperes> {
        self.sent
            .get(&(charger.id.clone(), evse))
            .filter(|l| l.purpose == ProfilePurpose::TxDefault)
            .map(|l| limit_amps(l, charger, self.voltage))
    }

    /// The TxProfile on record for this transaction on the EVSE, if any.
    pub fn tx(&self, charger: &Charger, evse: EvseId, transaction: &str) -> Option<Amperes> {
        self.sent
            .get(&(charger.id.clone(), evse))
            .filter(|l| {
                l.purpose == ProfilePurpose::Tx && l.transaction_id.as_deref() == Some(transaction)
            })
            .map(|l| limit_amps(l, charger, self.voltage))
    }

    /// What a vehicle arriving at the EVSE may draw before we act: the defaults.
    pub fn idle_cap(&self, charger: &Charger, evse: EvseId, max: Amperes) -> Amperes {
        self.evse_default(charger, evse)
            .or_else(|| self.charger_default(charger))
            .unwrap_or(max)
            .min(max)
    }

    /// What the running transaction may draw now.
    pub fn active_cap(
        &self,
        charger: &Charger,
        evse: EvseId,
        transaction: &str,
        max: Amperes,
    ) -> Amperes {
        self.tx(charger, evse, transaction)
            .unwrap_or_else(|| self.idle_cap(charger, evse, max))
            .min(max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn charger() -> Charger {
        crate::control::fixtures::charger("c")
    }

    #[test]
    fn rendering_follows_the_knobs_and_reads_back_as_the_same_current() {
        let c = charger();
        let v = Volts(230.0);
        let w = ModelKnobs {
            unit: Some(RateUnit::W),
            current_step: Some(Amperes(1.0)),
            ..ModelKnobs::default()
        };
        let l = render(&c, &w, Slot::Tx, EvseId(1), Some("7"), Amperes(10.7), v);
        assert_eq!(l.periods[0].limit, 6_900.0);
        assert_eq!(l.transaction_id.as_deref(), Some("7"));
        assert_eq!(l.profile_id, 101);
        assert!((limit_amps(&l, &c, v).0 - 10.0).abs() < 1e-9);
        let d = render(
            &c,
            &ModelKnobs::default(),
            Slot::ChargerDefault,
            EvseId(0),
            Some("7"),
            Amperes(8.26),
            v,
        );
        assert_eq!(d.periods[0].limit, 8.2);
        assert_eq!(d.transaction_id, None);
        assert_eq!(d.purpose, ProfilePurpose::TxDefault);
    }

    #[test]
    fn caps_prefer_the_transaction_then_the_evse_then_the_charger() {
        let c = charger();
        let v = Volts(230.0);
        let k = ModelKnobs::default();
        let max = Amperes(16.0);
        let mut sent = HashMap::new();
        let installed = |sent: &HashMap<_, _>| {
            let i = Installed { sent, voltage: v };
            (
                i.idle_cap(&c, EvseId(1), max),
                i.active_cap(&c, EvseId(1), "7", max),
            )
        };
        assert_eq!(installed(&sent), (max, max));
        sent.insert(
            (c.id.clone(), EvseId(0)),
            render(
                &c,
                &k,
                Slot::ChargerDefault,
                EvseId(0),
                None,
                Amperes(8.0),
                v,
            ),
        );
        assert_eq!(installed(&sent), (Amperes(8.0), Amperes(8.0)));
        sent.insert(
            (c.id.clone(), EvseId(1)),
            render(&c, &k, Slot::Tx, EvseId(1), Some("6"), Amperes(12.0), v),
        );
        assert_eq!(
            installed(&sent),
            (Amperes(8.0), Amperes(8.0)),
            "another transaction's profile is gone"
        );
        sent.insert(
            (c.id.clone(), EvseId(1)),
            render(&c, &k, Slot::Tx, EvseId(1), Some("7"), Amperes(12.0), v),
        );
        assert_eq!(installed(&sent), (Amperes(8.0), Amperes(12.0)));
    }
}
