//! What the leader of a site remembers between passes, and why: which chargers are online,
//! since when one is offline (its limits are held for a while), which booted (they get their
//! failsafe again), which refuse or ignore profiles (excluded, assumed at their maximum), and
//! per session when its limit last changed and whether meter readings have arrived since
//! (a vehicle's own limit is only read from readings taken under its current limit), and what
//! each vehicle has shown it takes ([`crate::alloc::DrawRule`]).
//!
//! Nothing here needs to survive a takeover: a new leader starts with safe assumptions (an
//! offline charger with profiles on record is held from the takeover on; boots after the last
//! allocation written are treated as new).

use std::collections::{HashMap, HashSet};

use chargegrid_core::arrivals::ArrivalHabit;
use chargegrid_core::stays::StayEstimate;
use chargegrid_core::{Amperes, ChargerId, SessionId, WattHours, Watts};
use chrono::{DateTime, Utc};

use super::config::ControlConfig;
use super::snapshot::SiteSnapshot;

/// How the plan treats a charger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChargerMode {
    /// Online and obeying: its sessions are allocated and it gets profiles.
    Controlled,
    /// Offline within the hold time: what its profiles allow is reserved.
    Held,
    /// Refuses or ignores profiles: its maximum is reserved, it gets no profiles.
    Excluded,
    /// Offline with nothing on record, or past the hold time: assumed to draw nothing.
    Gone,
}

/// What is remembered about one charger.
#[derive(Debug, Clone, Default)]
pub(crate) struct ChargerWatch {
    /// Whether it was online at the last pass.
    pub online: bool,
    /// When this leader first saw it offline (after having seen it, or with profiles on record).
    pub offline_since: Option<DateTime<Utc>>,
    /// The boot this leader has already handled.
    pub handled_boot: Option<DateTime<Utc>>,
    /// Failed profile sends in a row.
    pub failures: u32,
    /// Excluded until then.
    pub excluded_until: Option<DateTime<Utc>>,
}

/// What is remembered about one session.
#[derive(Debug, Clone)]
pub(crate) struct SessionWatch {
    /// The current it was allowed at the last pass.
    pub cap: Amperes,
    /// When that cap took effect.
    pub since: DateTime<Utc>,
    /// Energy and power last seen, to notice new meter readings.
    pub seen: (WattHours, Option<Watts>),
    /// Meter readings noticed since the cap took effect.
    pub readings: u32,
    /// Passes in a row it drew clearly above its cap.
    pub over: u32,
    /// What the vehicle has shown it takes (per phase), from readings under its caps.
    pub learned_max: Option<Amperes>,
    /// The fewest phases its vehicle can be drawing on, from the most power read under a cap
    /// (a single-phase car on a three-phase charger draws all its power on one): 1 until a
    /// reading shows more.
    pub phases: u8,
}

/// A leader's memory of one site.
#[derive(Debug, Clone, Default)]
pub(crate) struct SiteWatch {
    /// Per charger.
    pub chargers: HashMap<ChargerId, ChargerWatch>,
    /// Per active session.
    pub sessions: HashMap<SessionId, SessionWatch>,
    /// EVSEs whose accepted profile could not be recorded in the store.
    pub unrecorded: std::collections::HashSet<(ChargerId, chargegrid_core::EvseId)>,
    /// Per active session that did not state all its needs: the estimate from its driver's
    /// earlier stays (`None`: no driver, or too little history), looked up once.
    pub estimates: HashMap<SessionId, Option<StayEstimate>>,
    /// When the site's record of how its drivers' statements of energy turned out was last
    /// read, and the correction it gives (`stays::statement_correction`; `None`: too few yet);
    /// read when a driver's statement is to be planned with.
    pub statement_correction: Option<(DateTime<Utc>, Option<f64>)>,
    /// The site's habit of arrivals (`chargegrid_core::arrivals`) and the local day it was
    /// learned for; read when the site has supply prices that change, once a local day.
    pub arrival_habit: Option<(chrono::NaiveDate, ArrivalHabit)>,
}

/// The result of looking at a new snapshot.
#[derive(Debug, Clone, Default)]
pub(crate) struct Observation {
    /// How the plan treats each charger.
    pub modes: HashMap<ChargerId, ChargerMode>,
    /// Chargers that booted since their failsafe was last handled: their defaults are re-sent.
    pub booted: HashSet<ChargerId>,
}

impl SiteWatch {
    /// A new leader's memory: boots up to the last allocation written are taken as handled.
    pub fn new(snapshot: &SiteSnapshot) -> Self {
        let handled_until = snapshot.previous.as_ref().map(|a| a.computed_at);
        let chargers = snapshot
            .chargers
            .iter()
            .map(|c| {
                let handled_boot = c
                    .booted_at
                    .filter(|b| handled_until.is_some_and(|h| *b <= h));
                (
                    c.charger.id.clone(),
                    ChargerWatch {
                        handled_boot,
                        ..ChargerWatch::default()
                    },
                )
            })
            .collect();
        Self {
            chargers,
            sessions: HashMap::new(),
            unrecorded: Default::default(),
            estimates: HashMap::new(),
            statement_correction: None,
            arrival_habit: None,
        }
    }

    /// Updates connection state from a snapshot and decides each charger's mode.
    pub fn observe(
        &mut self,
        snapshot: &SiteSnapshot,
        now: DateTime<Utc>,
        config: &ControlConfig,
    ) -> Observation {
        let mut out = Observation::default();
        for input in &snapshot.chargers {
            let id = &input.charger.id;
            let has_record = snapshot.sent.keys().any(|(c, _)| c == id);
            let w = self.chargers.entry(id.clone()).or_default();
            if input.online {
                w.offline_since = None;
                if input.booted_at.is_some() && input.booted_at != w.handled_boot {
                    // A boot clears an exclusion: the charger may have been fixed or updated.
                    out.booted.insert(id.clone());
                    w.excluded_until = None;
                    w.failures = 0;
                }
            } else if (w.online || has_record) && w.offline_since.is_none() {
                w.offline_since = Some(now);
            }
            w.online = input.online;
            if w.excluded_until.is_some_and(|t| t <= now) {
                w.excluded_until = None;
                w.failures = 0;
            }
            let mode = if w.excluded_until.is_some() {
                ChargerMode::Excluded
            } else if input.online {
                ChargerMode::Controlled
            } else if w
                .offline_since
                .is_some_and(|since| now - since < config.offline_hold)
            {
                ChargerMode::Held
            } else {
                ChargerMode::Gone
            };
            out.modes.insert(id.clone(), mode);
        }
        let active: HashSet<&SessionId> = snapshot.sessions.iter().map(|s| &s.session.id).collect();
        self.sessions.retain(|id, _| active.contains(id));
        self.notice_readings(snapshot, now);
        self.learn_draws(snapshot, config);
        out
    }

    /// Marks boots as handled once their chargers' defaults were accepted.
    pub fn boots_handled(&mut self, snapshot: &SiteSnapshot, handled: &HashSet<ChargerId>) {
        for c in &snapshot.chargers {
            if handled.contains(&c.charger.id)
                && let Some(w) = self.chargers.get_mut(&c.charger.id)
            {
                w.handled_boot = c.booted_at;
            }
        }
    }

    /// Counts a failed send; returns true when the charger has just been excluded.
    pub fn failed(
        &mut self,
        charger: &ChargerId,
        now: DateTime<Utc>,
        config: &ControlConfig,
    ) -> bool {
        let w = self.chargers.entry(charger.clone()).or_default();
        w.failures += 1;
        if w.failures >= config.max_failures && w.excluded_until.is_none() {
            w.excluded_until = Some(now + config.exclusion);
            return true;
        }
        false
    }

    /// Resets a charger's failure count after an accepted profile.
    pub fn succeeded(&mut self, charger: &ChargerId) {
        if let Some(w) = self.chargers.get_mut(charger) {
            w.failures = 0;
        }
    }

    /// Excludes a charger (it ignores its limits).
    pub fn exclude(&mut self, charger: &ChargerId, now: DateTime<Utc>, config: &ControlConfig) {
        let w = self.chargers.entry(charger.clone()).or_default();
        w.excluded_until = Some(now + config.exclusion);
    }

    /// Number of chargers excluded now.
    pub fn excluded(&self) -> usize {
        self.chargers
            .values()
            .filter(|w| w.excluded_until.is_some())
            .count()
    }

    /// What a session's vehicle has shown it takes, per phase.
    pub fn learned_max(&self, session: &SessionId) -> Option<Amperes> {
        self.sessions.get(session).and_then(|s| s.learned_max)
    }

    /// Learns from each session's metered power what its vehicle takes, where that power was
    /// read under its current cap (two readings since the cap took effect: the first may have
    /// been sampled before the vehicle followed).
    ///
    /// The charger's per-phase currents, where it reports them, are the vehicle's current per
    /// phase. Otherwise the power stands in, at the nominal voltage; it is the sum over the
    /// phases, and a vehicle on a three-phase charger may draw on one, two or three of them:
    /// its current per phase is read as if it drew on the fewest phases that the power allows
    /// under the cap (the most current per phase those readings admit), so a single-phase car
    /// at its cap is never taken for a three-phase car at a third of it. Once a reading needs
    /// more phases, the vehicle is known to have them.
    fn learn_draws(&mut self, snapshot: &SiteSnapshot, config: &ControlConfig) {
        let rule = config.draw_rule;
        for input in &snapshot.sessions {
            let s = &input.session;
            let (Some(w), Some(power), Some(charger)) = (
                self.sessions.get_mut(&s.id),
                s.power,
                snapshot.charger(&s.charger),
            ) else {
                continue;
            };
            if w.readings < 2 || !w.cap.is_finite() {
                continue;
            }
            let wiring = charger.charger.wiring;
            let legs = wiring.phases().max(1);
            let per_leg = wiring.watts_per_amp(config.voltage) / f64::from(legs);
            let most = w.cap.0 + rule.tolerance_at(w.cap).0;
            let current = |k: u8| power.0.max(0.0) / (f64::from(k) * per_leg);
            let k = (w.phases.clamp(1, legs)..=legs)
                .find(|&k| current(k) <= most)
                .unwrap_or(legs);
            w.phases = k;
            let drawn = s.line_current.unwrap_or(Amperes(current(k)));
            w.learned_max = rule.learn(w.learned_max, w.cap, drawn);
        }
    }

    /// Records the cap a session runs under after a pass; a changed cap starts counting
    /// readings again.
    pub fn set_cap(&mut self, id: &SessionId, cap: Amperes, now: DateTime<Utc>) {
        let Some(w) = self.sessions.get_mut(id) else {
            return;
        };
        if w.cap.0.is_nan() || (w.cap.0 - cap.0).abs() > 0.05 {
            w.cap = cap;
            w.since = now;
            w.readings = 0;
            w.over = 0;
        }
    }

    /// Notices new meter readings (energy or power changed since the last pass).
    fn notice_readings(&mut self, snapshot: &SiteSnapshot, now: DateTime<Utc>) {
        for input in &snapshot.sessions {
            let s = &input.session;
            let seen = (s.energy, s.power);
            let w = self.sessions.entry(s.id.clone()).or_insert(SessionWatch {
                cap: Amperes(f64::NAN),
                since: now,
                seen,
                readings: 0,
                over: 0,
                learned_max: None,
                phases: 1,
            });
            if w.seen != seen {
                w.readings += 1;
                w.seen = seen;
            }
        }
    }
}
