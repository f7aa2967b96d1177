//! What a replay is asked to do: the window, the site model, the EV physics and the algorithm.

use std::fmt;
use std::str::FromStr;

use chargegrid_core::{Amperes, Kilowatts, Volts};
use chrono::{NaiveDate, TimeDelta};
use serde::{Deserialize, Serialize};

use super::emissions::Emissions;
use super::network::ReplayNetwork;
use super::tariff::Tariff;
use crate::alloc::Policy;

/// Which energy figure is the vehicle's need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DemandSource {
    /// What the uncontrolled site delivered (the vehicle's real appetite, as in acnportal).
    Delivered,
    /// What the driver typed in the app (often 1.7–1.9× too much).
    Requested,
}

/// Which departure the scheduler is told (the vehicle always leaves at the actual one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DepartureSource {
    /// The real departure (perfect knowledge, as in most published comparisons).
    Actual,
    /// What the driver said (median error about 2 h); the real one when they said nothing.
    Estimated,
}

/// What the scheduler is told of each session's energy and departure (the vehicle always needs
/// its real energy and leaves at its real time).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NeedsInputs {
    /// Perfect knowledge: the real need, and the departure `departure` names.
    #[default]
    Perfect,
    /// What a live system is told: the driver's app entries (requested energy, estimated
    /// departure) where the session was claimed; the live defaults (20 kWh, a 4 h stay) where
    /// nobody said anything.
    Stated,
    /// As `Stated`, but a session nobody spoke for is estimated from earlier stays that had
    /// ended by its arrival (`chargegrid_core::stays`): at the same station (ACN-Data ships no
    /// user ids, so the station stands in for the driver), else at the site, else the defaults.
    History,
}

impl NeedsInputs {
    /// Every kind of inputs.
    pub const ALL: [NeedsInputs; 3] = [
        NeedsInputs::Perfect,
        NeedsInputs::Stated,
        NeedsInputs::History,
    ];

    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            NeedsInputs::Perfect => "perfect",
            NeedsInputs::Stated => "stated",
            NeedsInputs::History => "history",
        }
    }
}

impl FromStr for NeedsInputs {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        NeedsInputs::ALL
            .into_iter()
            .find(|i| i.name() == s)
            .ok_or_else(|| format!("unknown inputs {s:?} (perfect, stated, history)"))
    }
}

/// An algorithm to replay: an online policy, or the perfect-foresight reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Algorithm {
    /// chargegrid's allocator.
    Chargegrid,
    /// Every vehicle at its maximum (breaks limits; reference only).
    Uncontrolled,
    /// acnportal's RoundRobin.
    RoundRobin,
    /// acnportal's earliest deadline first.
    Edf,
    /// acnportal's least laxity first.
    Llf,
    /// Maximum energy with perfect knowledge of every arrival, departure and need, solved as a
    /// time-expanded max-flow over the whole window (an upper bound: it ignores the 6 A floor).
    OfflineOptimal,
}

impl Algorithm {
    /// Every algorithm.
    pub const ALL: [Algorithm; 6] = [
        Algorithm::Chargegrid,
        Algorithm::Uncontrolled,
        Algorithm::RoundRobin,
        Algorithm::Edf,
        Algorithm::Llf,
        Algorithm::OfflineOptimal,
    ];

    /// The online policy, or `None` for the offline reference.
    pub fn policy(self) -> Option<Policy> {
        match self {
            Algorithm::Chargegrid => Some(Policy::Chargegrid),
            Algorithm::Uncontrolled => Some(Policy::Uncontrolled),
            Algorithm::RoundRobin => Some(Policy::RoundRobin),
            Algorithm::Edf => Some(Policy::Edf),
            Algorithm::Llf => Some(Policy::Llf),
            Algorithm::OfflineOptimal => None,
        }
    }

    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self.policy() {
            Some(p) => p.name(),
            None => "offline-optimal",
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Algorithm {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Algorithm::ALL
            .into_iter()
            .find(|a| a.name() == s)
            .ok_or_else(|| {
                format!(
                    "unknown algorithm {s:?} (chargegrid, uncontrolled, round-robin, edf, llf, \
                     offline-optimal)"
                )
            })
    }
}

/// What chargegrid is told of the energy still to arrive, with `cost_aware` (a deferral to a
/// cheaper hour leaves room for it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ArrivalsInput {
    /// Nothing: only the sessions present count.
    None,
    /// What the live scheduler has: the site's habit (`chargegrid_core::arrivals`) from the
    /// file's sessions that had left by the moment of decision, never a later one; without a
    /// day on record nothing waits for cheaper hours.
    #[default]
    History,
    /// The recorded arrivals of the next 24 hours: a perfect forecast, the bound on what a
    /// forecast can win.
    Perfect,
}

impl ArrivalsInput {
    /// Every kind.
    pub const ALL: [ArrivalsInput; 3] = [
        ArrivalsInput::None,
        ArrivalsInput::History,
        ArrivalsInput::Perfect,
    ];

    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            ArrivalsInput::None => "none",
            ArrivalsInput::History => "history",
            ArrivalsInput::Perfect => "perfect",
        }
    }
}

impl FromStr for ArrivalsInput {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ArrivalsInput::ALL
            .into_iter()
            .find(|i| i.name() == s)
            .ok_or_else(|| format!("unknown arrivals {s:?} (none, history, perfect)"))
    }
}

/// Replay settings; [`ReplayOptions::new`] gives the documented defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplayOptions {
    /// First day (in the tariff's time zone); `None` starts at the first arrival's day.
    pub from: Option<NaiveDate>,
    /// Number of days; `None` runs to the end of the file.
    pub days: Option<u32>,
    /// The site's aggregate limit.
    pub site_limit: Kilowatts,
    /// Three-phase mode: stations are assigned round-robin to L1/L2/L3 (sorted by id) and each
    /// phase may carry `site_limit / 3 / voltage` amperes (besides the aggregate kW limit).
    pub three_phase: bool,
    /// Station voltage (208 V at Caltech and JPL).
    pub voltage: Volts,
    /// Station and vehicle top power (6.6 kW).
    pub evse_max: Kilowatts,
    /// The floor a running session gets (6 A).
    pub min_current: Amperes,
    /// Decision period (5 minutes).
    #[serde(with = "seconds")]
    pub step: TimeDelta,
    /// Which energy figure the vehicle needs.
    pub demand: DemandSource,
    /// Which departure the scheduler is told (with perfect inputs).
    pub departure: DepartureSource,
    /// What the scheduler is told of needs and departures.
    #[serde(default)]
    pub inputs: NeedsInputs,
    /// Simple battery taper: above 80 % of its need, a vehicle's top rate falls linearly to
    /// 20 % at 100 %.
    pub taper: bool,
    /// Tell the scheduler only each EVSE's maximum, not the vehicle's own top (`evse_max`):
    /// as a live site knows it, where a vehicle's top shows only in what it draws. chargegrid
    /// learns it from the draws ([`DrawRule`](crate::alloc::DrawRule)); the baselines do not.
    #[serde(default)]
    pub evse_top_only: bool,
    /// Judge the vehicles' draws as exact (they are, in this simulation):
    /// [`DrawRule::EXACT`](crate::alloc::DrawRule::EXACT) instead of the live rule.
    #[serde(default)]
    pub exact_meters: bool,
    /// The tariff for cost and demand charge.
    pub tariff: Tariff,
    /// Tell chargegrid the tariff (baselines ignore it), as the live scheduler does with a
    /// site's supply contract, and the energy still to arrive (`arrivals`). Off by default
    /// (the replay compares policies on energy first).
    pub cost_aware: bool,
    /// With `cost_aware`: also tell chargegrid the month's peak so far, which keeps charging
    /// that can wait under it. Off by default and never done live: on the ACN replays it raised
    /// cost and lost energy without lowering the peak (docs/BENCHMARKS.md).
    #[serde(default)]
    pub peak_guard: bool,
    /// With `cost_aware`: what chargegrid is told of the energy still to arrive.
    #[serde(default)]
    pub arrivals: ArrivalsInput,
    /// With `cost_aware` and `emissions`: the price of a kg of CO₂ (in the tariff's currency)
    /// added to the energy price chargegrid is told, at the marginal rate in force; 0 leaves
    /// carbon out of the decision (it is still reported).
    #[serde(default)]
    pub carbon_price_per_kg: f64,
    /// Keep the site power of every step in the report (for plots).
    pub record_power: bool,
    /// Replay on this site of a network file instead of one node with `site_limit` (which then
    /// caps the site's grid connection in kW) and `three_phase`; `voltage` is then the
    /// service's line-to-line voltage (208 V: 120 V line to neutral).
    #[serde(skip)]
    pub network: Option<ReplayNetwork>,
    /// The grid's marginal emissions rate over the window, for `co2_kg` in the report.
    #[serde(skip)]
    pub emissions: Option<Emissions>,
}

impl ReplayOptions {
    /// Defaults: whole file, aggregate limit only, 208 V, 6.6 kW, 6 A, 5 min steps, delivered
    /// demand, actual departures, no taper, the default tariff, not cost-aware.
    pub fn new(site_limit: Kilowatts) -> Self {
        Self {
            from: None,
            days: None,
            site_limit,
            three_phase: false,
            voltage: Volts(208.0),
            evse_max: Kilowatts(6.6),
            min_current: Amperes(6.0),
            step: TimeDelta::minutes(5),
            demand: DemandSource::Delivered,
            departure: DepartureSource::Actual,
            inputs: NeedsInputs::Perfect,
            taper: false,
            evse_top_only: false,
            exact_meters: false,
            tariff: Tariff::default(),
            cost_aware: false,
            peak_guard: false,
            arrivals: ArrivalsInput::History,
            carbon_price_per_kg: 0.0,
            record_power: false,
            network: None,
            emissions: None,
        }
    }
}

/// `TimeDelta` as whole seconds in JSON.
mod seconds {
    use chrono::TimeDelta;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &TimeDelta, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(d.num_seconds())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<TimeDelta, D::Error> {
        Ok(TimeDelta::seconds(i64::deserialize(d)?))
    }
}
