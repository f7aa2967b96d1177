//! What the fleet or network knows that one vehicle's data cannot show: chargers whose aborts
//! are not a car's fault, chargers' measurement errors, each model's SoC reference and
//! auxiliary load by temperature, what is left of it in cold sessions, and each model's typical
//! resistance.

use std::collections::{BTreeMap, BTreeSet};

use chargegrid_core::ChargerId;
use serde::{Deserialize, Serialize};

use super::aux_load::AuxReference;
use super::cold_bias::ColdBiases;
use super::cv_check::SocReference;
use crate::fleet::ChargerEffect;
use crate::units::Ohms;

/// What the fleet or network knows that one vehicle's data cannot show.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AssessContext {
    /// Chargers that end sessions of several different vehicles with EV-side aborts: their
    /// aborts are not blamed on a car.
    #[serde(default)]
    pub suspect_chargers: BTreeSet<ChargerId>,
    /// Chargers' measurement errors estimated jointly over the fleet: their current gain is
    /// divided out of the charge measured there and their connector resistance taken off
    /// ΔV/ΔI. Chargers not listed are taken as accurate.
    #[serde(default)]
    pub chargers: BTreeMap<ChargerId, ChargerEffect>,
    /// Each model's healthy top-of-charge SoC reference (for the BMS SoC check).
    #[serde(default)]
    pub soc_references: BTreeMap<String, SocReference>,
    /// Each model's auxiliary load by battery temperature, lent to sessions that could not
    /// separate their own.
    #[serde(default)]
    pub aux_references: BTreeMap<String, AuxReference>,
    /// Per-session SoH excess in the cold, per model and fleet-wide.
    #[serde(default)]
    pub cold_biases: ColdBiases,
    /// Each model's median resistance from current steps (the fleet's vehicles' recent
    /// figures, corrected to 25 °C), for the cohort resistance alert
    /// ([`super::resistance_medians`]).
    #[serde(default)]
    pub resistance_medians: BTreeMap<String, Ohms>,
}

impl AssessContext {
    /// The current gain of `charger` (1.0 when unknown).
    pub fn current_gain(&self, charger: &ChargerId) -> f64 {
        self.chargers
            .get(charger)
            .map_or(1.0, |e| e.current_gain)
            .max(0.5)
    }

    /// The resistance `charger`'s connector adds, ohms (0 when unknown).
    pub fn resistance_offset(&self, charger: &ChargerId) -> f64 {
        self.chargers
            .get(charger)
            .map_or(0.0, |e| e.resistance_offset_ohm)
    }
}
