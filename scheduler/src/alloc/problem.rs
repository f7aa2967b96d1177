//! The input of one allocation: a site's tree of limits, the sessions charging under it, and
//! the moment and price context the decision is made in. Plain data, built by the control loop
//! (from the store) or by the replay (from recorded sessions).

use chargegrid_core::arrivals::{ArrivalHabit, ArrivingEnergy};
use chargegrid_core::limits::{DeltaPrimary, Limit, Phase};
use chargegrid_core::network::Wiring;
use chargegrid_core::{Amperes, Volts, WattHours, Watts};
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use super::error::AllocError;

/// One node of a site's limit tree: the grid connection, a feeder or panel, a charger or an EVSE.
///
/// Nodes are listed root first and every node's parent comes before it, so one forward or
/// backward pass over the list visits the tree top-down or bottom-up without recursion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LimitNode {
    /// Index of the enclosing node in [`SiteProblem::nodes`]; `None` only for the root (the
    /// site's grid connection), which must be node 0.
    pub parent: Option<usize>,
    /// What this node may carry (kW and/or per-phase current); unbounded sides are `None`.
    pub limit: Limit,
    /// If the node is a delta–wye transformer, what its primary lines may carry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delta_primary: Option<DeltaPrimary>,
}

/// The pilot currents a charger can signal, besides 0.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PilotSteps {
    /// Any current between the session's minimum and maximum.
    #[default]
    Continuous,
    /// Whole multiples of this step (for example 1 A for chargers that take integer amperes).
    Step(Amperes),
    /// Exactly these currents, in ascending order (for example 8, 16, 24, 32 A).
    Levels(Vec<Amperes>),
}

/// One active charging session as the allocator sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionDemand {
    /// The limit node it charges under (normally its EVSE's node); every node from there up to
    /// the root limits it.
    pub node: usize,
    /// The site phases the vehicle actually draws on (a single-phase car on a three-phase
    /// charger is `SinglePhase` of the phase its charger maps L1 to).
    pub wiring: Wiring,
    /// Phase-to-neutral voltage, used to turn current into power.
    pub voltage: Volts,
    /// The smallest current the charger can signal once charging (IEC 61851: 6 A); the session
    /// gets 0 or at least this.
    pub min_current: Amperes,
    /// The largest current per phase: the smaller of what the EVSE and the vehicle accept.
    pub max_current: Amperes,
    /// The largest power, if lower than `max_current` implies.
    pub max_power: Option<Watts>,
    /// Which currents the charger can signal.
    pub pilot: PilotSteps,
    /// Energy still needed; 0 means the session asks for nothing more.
    pub energy_needed: WattHours,
    /// When the vehicle is expected to leave; `None` uses [`AllocContext::default_dwell`].
    pub departure: Option<DateTime<Utc>>,
    /// Priority weight (fleet or paid tier): 1.0 is normal; chargegrid ranks a session of weight
    /// `w` as if it had `2 h × ln(w)` less laxity (2.0 ≈ 1.4 h). Must be > 0.
    pub weight: f64,
    /// The most the vehicle has shown it takes, per phase, learned from its draws under
    /// earlier limits ([`DrawRule::learn`](super::DrawRule::learn)): chargegrid caps the
    /// session there (never below its floor); `None` when it took what it was offered.
    pub learned_max: Option<Amperes>,
    /// The per-phase current allocated last time, if any (for smoothness and running sessions).
    pub previous: Option<Amperes>,
}

impl SessionDemand {
    /// A session with the common defaults: 6 A floor, continuous pilot, weight 1, no history.
    pub fn new(
        node: usize,
        wiring: Wiring,
        voltage: Volts,
        max_current: Amperes,
        energy_needed: WattHours,
        departure: Option<DateTime<Utc>>,
    ) -> Self {
        Self {
            node,
            wiring,
            voltage,
            min_current: Amperes(6.0),
            max_current,
            max_power: None,
            pilot: PilotSteps::Continuous,
            energy_needed,
            departure,
            weight: 1.0,
            learned_max: None,
            previous: None,
        }
    }

    /// Number of phases the session draws on.
    pub fn phase_count(&self) -> u8 {
        self.wiring.phases()
    }

    /// Whether the session draws on `phase`.
    pub fn uses(&self, phase: Phase) -> bool {
        self.wiring.draws_on(phase)
    }

    /// Watts drawn per ampere of per-phase current.
    pub fn watts_per_amp(&self) -> f64 {
        self.wiring.watts_per_amp(self.voltage)
    }
}

/// A site's allocation problem: its limit tree and its active sessions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SiteProblem {
    /// The limit tree, root (grid connection) first; parents precede children.
    pub nodes: Vec<LimitNode>,
    /// The sessions to allocate, in a stable order (round-robin serves them in this order).
    pub sessions: Vec<SessionDemand>,
}

impl SiteProblem {
    /// Checks indices, tree order and that every quantity is finite and sane.
    pub fn validate(&self) -> Result<(), AllocError> {
        if self.nodes.is_empty() {
            return Err(AllocError::NoRoot);
        }
        for (i, node) in self.nodes.iter().enumerate() {
            match (i, node.parent) {
                (0, None) => {}
                (0, Some(_)) => return Err(AllocError::NoRoot),
                (_, Some(p)) if p < i => {}
                (_, parent) => return Err(AllocError::BadParent { node: i, parent }),
            }
            node.limit
                .validate(&format!("node {i}"))
                .map_err(|e| AllocError::BadLimit(e.to_string()))?;
            if let Some(t) = &node.delta_primary {
                t.validate(&format!("node {i}"))
                    .map_err(|e| AllocError::BadLimit(e.to_string()))?;
            }
        }
        for (i, s) in self.sessions.iter().enumerate() {
            let bad = |reason: &'static str| AllocError::BadSession { session: i, reason };
            if s.node >= self.nodes.len() {
                return Err(bad("node index out of range"));
            }
            if !(s.voltage.is_finite() && s.voltage.0 > 0.0) {
                return Err(bad("voltage must be > 0"));
            }
            if !(s.min_current.is_finite() && s.min_current.0 >= 0.0) {
                return Err(bad("min current must be >= 0"));
            }
            if !(s.max_current.is_finite() && s.max_current.0 >= 0.0) {
                return Err(bad("max current must be >= 0"));
            }
            if s.max_power.is_some_and(|p| !(p.is_finite() && p.0 >= 0.0)) {
                return Err(bad("max power must be >= 0"));
            }
            if !(s.energy_needed.is_finite() && s.energy_needed.0 >= 0.0) {
                return Err(bad("energy needed must be >= 0"));
            }
            if !(s.weight.is_finite() && s.weight > 0.0) {
                return Err(bad("weight must be > 0"));
            }
            if s.learned_max
                .is_some_and(|a| !(a.is_finite() && a.0 >= 0.0))
            {
                return Err(bad("learned max must be >= 0"));
            }
            match &s.pilot {
                PilotSteps::Continuous => {}
                PilotSteps::Step(a) if a.is_finite() && a.0 > 0.0 => {}
                PilotSteps::Step(_) => return Err(bad("pilot step must be > 0")),
                PilotSteps::Levels(levels) => {
                    if levels.windows(2).any(|w| w[0].0 >= w[1].0)
                        || levels.iter().any(|a| !(a.is_finite() && a.0 > 0.0))
                    {
                        return Err(bad("pilot levels must be > 0 and ascending"));
                    }
                }
            }
        }
        Ok(())
    }
}

/// A time-of-use price signal: the price now and when a cheaper one starts, if it does.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TouSignal {
    /// Price of energy now, per kWh.
    pub price_now: f64,
    /// Start and price of the next cheaper period, if one comes before the horizon ends.
    pub cheaper: Option<(DateTime<Utc>, f64)>,
}

/// Everything about the moment of decision that is not the site itself.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AllocContext {
    /// The decision time.
    pub now: DateTime<Utc>,
    /// How long the allocation will hold before the next decision (the control period; the
    /// replay step). Energy caps and urgency are computed over it.
    pub period: TimeDelta,
    /// Departure assumed for sessions that do not say when they leave, counted from `now`.
    pub default_dwell: TimeDelta,
    /// Time-of-use prices, if the site has a tariff; chargegrid defers flexible charging to a
    /// cheaper period when the deadline allows.
    pub tou: Option<TouSignal>,
    /// The highest site power this billing month (the demand-charge level); chargegrid does not
    /// raise it for charging that can wait.
    pub month_peak: Option<Watts>,
    /// Energy expected to arrive with vehicles not yet plugged in, per hour from `now`: what a
    /// deferral to a cheaper period must leave room for. `None`: no forecast (nothing counted).
    pub arriving: Option<ArrivingEnergy>,
}

impl AllocContext {
    /// A context with no tariff and no peak tracking.
    pub fn new(now: DateTime<Utc>, period: TimeDelta) -> Self {
        Self {
            now,
            period,
            default_dwell: TimeDelta::hours(4),
            tou: None,
            month_peak: None,
            arriving: None,
        }
    }

    /// Tells the allocation the energy still to arrive, from the site's habit, where it has
    /// supply prices (the forecast's only use). Without a habit that has days on record of
    /// every kind the next 24 hours touch ([`ArrivalHabit::covers`]), nothing waits for cheaper
    /// supply: whether the cheaper hours will have room is unknown, and on the ACN replays
    /// waiting without a forecast lost up to 1.6 points of energy at tight limits.
    pub fn with_habit(mut self, habit: Option<&ArrivalHabit>) -> Self {
        if self.tou.is_none() {
            return self;
        }
        match habit.filter(|h| h.covers(self.now)) {
            Some(h) => self.arriving = Some(h.ahead(self.now)),
            None => {
                self.arriving = None;
                if let Some(t) = &mut self.tou {
                    t.cheaper = None;
                }
            }
        }
        self
    }

    /// The period in hours, never below one second.
    pub fn period_hours(&self) -> f64 {
        (self.period.num_milliseconds().max(1000) as f64) / 3_600_000.0
    }
}
