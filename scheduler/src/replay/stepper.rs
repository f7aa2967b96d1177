//! One allocation at a time for an outside simulator. acnportal runs its own clock, vehicles and
//! limit checks and asks an algorithm for each period's pilots; through this, chargegrid can be
//! that algorithm, so it is judged by the same referee, on the same sessions, as acnportal's
//! own algorithms and adacharge's ASA (`simulations/acnportal/caltech_asa.py`, driven through
//! `chargegrid simulate allocate`).

use std::collections::{BTreeMap, HashMap};

use chargegrid_core::{Amperes, EvseId, Volts, WattHours};
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use super::error::ReplayError;
use super::network::{self, Place, ReplayNetwork};
use crate::alloc::{
    AllocContext, DrawRule, LimitNode, Policy, SessionDemand, SiteProblem, allocate,
};

/// One plugged-in vehicle as the outside simulator sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepSession {
    /// Its station (a charger id of the network, EVSE 1, unless the network's station map says
    /// otherwise).
    pub station: String,
    /// Energy it still needs, Wh.
    pub remaining_wh: f64,
    /// When it is expected to leave.
    pub departure: DateTime<Utc>,
    /// The most current it accepts, A (its EVSE's own limit also applies).
    pub max_a: f64,
    /// The vehicle's session: what is remembered of a station (its last pilot, what its vehicle
    /// has shown it takes) belongs to this session, and a new one starts afresh. Without it the
    /// station's last pilot is the vehicle's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    /// What the vehicle drew over the last period, A, under the pilot this stepper gave it: from
    /// it chargegrid learns what the vehicle takes ([`DrawRule`]), for a session named in
    /// `session` (ignored without). Leave it out for a vehicle that was not charging under that
    /// pilot (it just arrived).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drawn_a: Option<f64>,
}

/// What the stepper remembers of a station between periods.
#[derive(Debug, Clone, PartialEq)]
struct Remembered {
    /// The session it was for.
    session: Option<String>,
    /// The pilot it was given, A.
    pilot: f64,
    /// What its vehicle has shown it takes (kept only for a named session).
    learned_max: Option<Amperes>,
}

/// Allocates period after period on one site of a network, remembering each station's last
/// pilot (chargegrid keeps running vehicles running and changes pilots smoothly) and what its
/// vehicle has shown it takes.
#[derive(Debug, Clone)]
pub struct Stepper {
    nodes: Vec<LimitNode>,
    places: BTreeMap<String, Place>,
    voltage: Volts,
    min_current: Amperes,
    policy: Policy,
    rule: DrawRule,
    remembered: HashMap<String, Remembered>,
}

impl Stepper {
    /// A stepper on `net`'s site: every charger's EVSE 1 (and every mapped station) can be
    /// asked for; `voltage_ll` is the service's line-to-line voltage.
    pub fn new(
        net: &ReplayNetwork,
        voltage_ll: Volts,
        min_current: Amperes,
        policy: Policy,
    ) -> Result<Self, ReplayError> {
        if !(voltage_ll.0.is_finite() && voltage_ll.0 > 0.0) {
            return Err(ReplayError::BadOption("voltage must be > 0".into()));
        }
        if !(min_current.0.is_finite() && min_current.0 >= 0.0) {
            return Err(ReplayError::BadOption("min current must be >= 0".into()));
        }
        let voltage = Volts(voltage_ll.0 / 3f64.sqrt());
        // Every mapped station, and every charger with an EVSE 1 under its own id.
        let mut stations: Vec<&str> = net.stations.keys().map(String::as_str).collect();
        stations.extend(
            net.chargers
                .iter()
                .filter(|c| c.evses.iter().any(|e| e.id == EvseId(1)))
                .map(|c| c.id.as_str())
                .filter(|id| !net.stations.contains_key(*id)),
        );
        let tree = network::place(net, &stations, voltage)?;
        Ok(Self {
            nodes: tree.nodes,
            places: tree.places,
            voltage,
            min_current,
            policy,
            rule: DrawRule::default(),
            remembered: HashMap::new(),
        })
    }

    /// The same stepper judging the vehicles' draws by `rule` (default: the live scheduler's,
    /// [`DrawRule::default`]; a simulator whose meters are exact may use [`DrawRule::EXACT`]).
    pub fn judging_draws_by(mut self, rule: DrawRule) -> Result<Self, ReplayError> {
        rule.validate()
            .map_err(|e| ReplayError::BadOption(e.to_string()))?;
        self.rule = rule;
        Ok(self)
    }

    /// The pilots (A per line) for the period from `now`, in the order of `sessions`. A station
    /// the site does not have, or asked for twice, is refused, named.
    pub fn step(
        &mut self,
        now: DateTime<Utc>,
        period: TimeDelta,
        sessions: &[StepSession],
    ) -> Result<Vec<f64>, ReplayError> {
        let mut seen = std::collections::HashSet::new();
        let mut demands = Vec::with_capacity(sessions.len());
        for s in sessions {
            let place = self.places.get(&s.station).ok_or_else(|| {
                ReplayError::BadOption(format!("station {:?} is not in the site", s.station))
            })?;
            if !seen.insert(s.station.as_str()) {
                return Err(ReplayError::BadOption(format!(
                    "station {:?} asked for twice in one period",
                    s.station
                )));
            }
            if !(s.remaining_wh.is_finite() && s.max_a.is_finite() && s.max_a >= 0.0)
                || s.drawn_a.is_some_and(|d| !(d.is_finite() && d >= 0.0))
            {
                return Err(ReplayError::BadOption(format!(
                    "station {:?}: remaining energy, top current and drawn current must be \
                     finite numbers (currents >= 0)",
                    s.station
                )));
            }
            let mine = self
                .remembered
                .get(&s.station)
                .filter(|m| m.session == s.session);
            let mut d = SessionDemand::new(
                place.node,
                place.wiring,
                self.voltage,
                Amperes(place.max_a.min(s.max_a)),
                WattHours(s.remaining_wh.max(0.0)),
                Some(s.departure),
            );
            d.min_current = self.min_current;
            d.previous = mine.map(|m| Amperes(m.pilot));
            // What a vehicle has shown is only carried for a named session: without names, a
            // new car at the station could not be told from the last one.
            let known = mine.filter(|m| m.session.is_some());
            d.learned_max = match (known, s.drawn_a) {
                (Some(m), Some(drawn)) => {
                    self.rule
                        .learn(m.learned_max, Amperes(m.pilot), Amperes(drawn))
                }
                (Some(m), None) => m.learned_max,
                (None, _) => None,
            };
            demands.push(d);
        }
        let problem = SiteProblem {
            nodes: self.nodes.clone(),
            sessions: demands,
        };
        let ctx = AllocContext::new(now, period);
        let answer = allocate(self.policy, &problem, &ctx)?;
        let pilots: Vec<f64> = answer.sessions.iter().map(|a| a.current.0).collect();
        self.remembered = sessions
            .iter()
            .zip(&pilots)
            .zip(&problem.sessions)
            .map(|((s, &pilot), d)| {
                let remembered = Remembered {
                    session: s.session.clone(),
                    pilot,
                    learned_max: d.learned_max,
                };
                (s.station.clone(), remembered)
            })
            .collect();
        Ok(pilots)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether the pilots `(station, A)` keep every limit of the stepper's site (power, phasor
    /// line currents, delta primaries), within float rounding.
    fn within_limits(stepper: &Stepper, pilots: &[(String, f64)]) -> bool {
        let loads: Vec<_> = pilots
            .iter()
            .map(|(s, a)| {
                let p = stepper.places[s];
                (p.node, p.wiring, Amperes(*a))
            })
            .collect();
        network::utilisation(&stepper.nodes, &loads, stepper.voltage) <= 1.0 + 1e-6
    }

    fn caltech() -> ReplayNetwork {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../examples/networks/caltech-acn.toml"
        );
        let text = std::fs::read_to_string(path).unwrap();
        let network: chargegrid_core::network::Network = toml::from_str(&text).unwrap();
        network.validate().unwrap();
        ReplayNetwork::from_network(&network, None, BTreeMap::new()).unwrap()
    }

    #[test]
    fn a_crowded_caltech_period_is_shared_within_every_limit_and_remembered() {
        let net = caltech();
        let mut stepper =
            Stepper::new(&net, Volts(208.0), Amperes(6.0), Policy::Chargegrid).unwrap();
        let now: DateTime<Utc> = "2019-11-11T16:00:00Z".parse().unwrap();
        let stations: Vec<String> = stepper.places.keys().take(54).cloned().collect();
        assert_eq!(stations.len(), 54, "the Caltech file has 54 EVSEs");
        let sessions: Vec<StepSession> = stations
            .iter()
            .enumerate()
            .map(|(i, s)| StepSession {
                station: s.clone(),
                remaining_wh: 20_000.0,
                departure: now + TimeDelta::hours(2 + (i % 6) as i64),
                max_a: 32.0,
                session: None,
                drawn_a: None,
            })
            .collect();
        let pilots = stepper.step(now, TimeDelta::minutes(5), &sessions).unwrap();
        let named: Vec<(String, f64)> = stations.iter().cloned().zip(pilots.clone()).collect();
        assert!(within_limits(&stepper, &named), "{named:?}");
        // 54 × 32 A cannot all run: the pods and the transformer bind.
        let total: f64 = pilots.iter().sum();
        assert!(total < 54.0 * 32.0 * 0.9, "{total}");
        assert!(
            pilots.iter().all(|&a| a == 0.0 || a >= 6.0 - 1e-9),
            "{pilots:?}"
        );
        assert_eq!(stepper.remembered.len(), 54);
        // Twice the pilots breaks a limit: the check can fail.
        let doubled: Vec<(String, f64)> = named.iter().map(|(s, a)| (s.clone(), a * 2.0)).collect();
        assert!(!within_limits(&stepper, &doubled));
        // Unknown and repeated stations are refused, named.
        let mut bad = sessions[..1].to_vec();
        bad[0].station = "NOPE".into();
        let e = stepper.step(now, TimeDelta::minutes(5), &bad).unwrap_err();
        assert!(e.to_string().contains("NOPE"), "{e}");
        let twice = vec![sessions[0].clone(), sessions[0].clone()];
        let e = stepper
            .step(now, TimeDelta::minutes(5), &twice)
            .unwrap_err();
        assert!(e.to_string().contains("twice"), "{e}");
    }

    #[test]
    fn what_a_vehicle_drew_caps_it_until_another_session_takes_the_station() {
        let net = caltech();
        let stepper = Stepper::new(&net, Volts(208.0), Amperes(6.0), Policy::Chargegrid).unwrap();
        let mut stepper = stepper.judging_draws_by(DrawRule::EXACT).unwrap();
        let now: DateTime<Utc> = "2019-11-11T16:00:00Z".parse().unwrap();
        let station = stepper.places.keys().next().unwrap().clone();
        let car = |session: &str, drawn_a: Option<f64>| {
            vec![StepSession {
                station: station.clone(),
                remaining_wh: 30_000.0,
                departure: now + TimeDelta::hours(8),
                max_a: 32.0,
                session: Some(session.into()),
                drawn_a,
            }]
        };
        let mut step = |sessions: Vec<StepSession>| {
            stepper.step(now, TimeDelta::minutes(5), &sessions).unwrap()[0]
        };
        // Alone on the site, it is offered its EVSE's 32 A.
        assert!((step(car("a", None)) - 32.0).abs() < 1e-6);
        // It drew 16 A of them: it gets 16 A and the exact rule's 0.01 A margin.
        assert!((step(car("a", Some(16.0))) - 16.01).abs() < 1e-6);
        // It draws its 16 A under that: the belief holds.
        assert!((step(car("a", Some(16.0))) - 16.01).abs() < 1e-6);
        // It drew all of it: it may take more, and is offered its EVSE's maximum again.
        assert!((step(car("a", Some(16.01))) - 32.0).abs() < 1e-6);
        assert!((step(car("a", Some(16.0))) - 16.01).abs() < 1e-6);
        // Another vehicle at the station starts afresh, whatever the last one drew.
        assert!((step(car("b", Some(0.0))) - 32.0).abs() < 1e-6);
        // The live scheduler's rule reads a 0.27 A shortfall as the meter, not the vehicle.
        let mut live = Stepper::new(&net, Volts(208.0), Amperes(6.0), Policy::Chargegrid).unwrap();
        live.step(now, TimeDelta::minutes(5), &car("c", None))
            .unwrap();
        let pilot = live
            .step(now, TimeDelta::minutes(5), &car("c", Some(31.73)))
            .unwrap()[0];
        assert!((pilot - 32.0).abs() < 1e-6, "{pilot}");
        // Unnamed, a vehicle's draws teach nothing (the next car could not be told apart).
        let unnamed = |drawn_a| {
            let mut v = car("x", drawn_a);
            v[0].session = None;
            v
        };
        live.step(now, TimeDelta::minutes(5), &unnamed(None))
            .unwrap();
        let pilot = live
            .step(now, TimeDelta::minutes(5), &unnamed(Some(10.0)))
            .unwrap()[0];
        assert!((pilot - 32.0).abs() < 1e-6, "{pilot}");
        // A drawn current that is not a number is refused.
        let e = live
            .step(now, TimeDelta::minutes(5), &car("c", Some(f64::NAN)))
            .unwrap_err();
        assert!(e.to_string().contains("drawn current"), "{e}");
    }
}
