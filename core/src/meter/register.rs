//! The one rule for the energy a session drew from its charger's import register: the steps of
//! the register that the charger could have delivered, robust to one bad reading, a register
//! reset and a lifetime register sent with a zero start. Sessions count with it as readings
//! arrive ([`crate::session::Session::record_register`]); health replays it over a finished
//! session's series, so both report the same energy.

use chrono::{DateTime, Utc};

use crate::{WattHours, Watts};

/// The largest power assumed for a charger whose own is not known: a high-power DC charger.
/// It only bounds which register steps are plausible, so too high is safe and too low is not.
pub const UNKNOWN_CHARGER_MAX: Watts = Watts(350_000.0);

/// The state of counting one session's register readings.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RegisterCount {
    /// The register at start, once a trustworthy reading exists.
    pub start: Option<WattHours>,
    /// The latest counted reading.
    pub last: Option<WattHours>,
    /// When [`last`](Self::last) was read (absent: the session's start stands in).
    pub last_at: Option<DateTime<Utc>>,
    /// The counted reading before [`last`](Self::last), kept so that a step which the next
    /// reading contradicts (the register comes back down) can be taken back.
    pub prev: Option<WattHours>,
    /// A reading that did not follow from the last counted one (it went backwards, or jumped
    /// further than the charger could deliver), held until the next reading tells which: if
    /// that one continues from the counted register, this was a glitch and is dropped; if it
    /// continues from this one, the register was reset and the count bridges the step.
    pub held: Option<(WattHours, DateTime<Utc>)>,
    /// Energy counted so far: the sum of the plausible steps of the register.
    pub energy: WattHours,
}

/// What [`RegisterCount::record`] did with a reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegisterOutcome {
    /// It became the baseline (the first reading).
    Baseline,
    /// It replaced an implausible zero baseline.
    Rebased,
    /// Energy was updated from it.
    Counted,
    /// It confirmed a held reading: the register was reset or re-based, and the count
    /// continues across the step.
    Bridged,
    /// It showed the last counted step was a glitch: that step was taken back.
    Corrected,
    /// It was stamped before the last counted reading (replayed late) and was ignored.
    Late,
    /// It was lower than the last counted reading: held, not counted (a reset is confirmed
    /// by the next reading; a glitch is dropped).
    Backwards,
    /// It jumped further than the charger could have delivered: held, not counted.
    Held,
    /// It was negative or not a number and was ignored.
    Invalid,
}

impl RegisterCount {
    /// Records a reading (already in Wh) taken at `at`, for a session that started at
    /// `started_at` on a charger that can deliver at most `max_power`.
    ///
    /// A missing baseline is taken from the first reading. A zero baseline (a missing or zeroed
    /// `Transaction.Begin` / `meterStart`) is only kept while later readings stay within what
    /// the charger could have delivered since the start; a first reading far above that means
    /// the charger reports a lifetime register, and that reading becomes the baseline instead,
    /// so a whole lifetime register never counts as one session's energy.
    ///
    /// After that, energy is the sum of the register's steps, robust to one bad reading:
    /// - a reading stamped before the last counted one is late (replayed out of order) and
    ///   changes nothing;
    /// - a step up that the charger could not have delivered in the time (more than twice
    ///   `max_power` over the interval plus 10 kWh: a unit mix-up, a 1,000× jump) is held, not
    ///   counted;
    /// - a step up within that bound counts at once, but if the next reading comes back down
    ///   to between the two, that step was a glitch and is taken back;
    /// - a reading below the last counted one (a reset, a spurious zero) is held; if the next
    ///   reading continues from it, the reset is bridged and energy keeps counting from there
    ///   (the held reading itself counts too when it is what a register restarted at zero could
    ///   have reached by then); if the next reading continues from the counted register, it was
    ///   a glitch.
    pub fn record(
        &mut self,
        reading: WattHours,
        at: DateTime<Utc>,
        started_at: DateTime<Utc>,
        max_power: Watts,
    ) -> RegisterOutcome {
        if !reading.is_finite() || reading.0 < 0.0 {
            return RegisterOutcome::Invalid;
        }
        let Some(start) = self.start else {
            self.rebase(reading, at);
            return RegisterOutcome::Baseline;
        };
        let last = self.last.unwrap_or(start);
        let last_at = self.last_at.unwrap_or(started_at);
        if at < last_at {
            return RegisterOutcome::Late;
        }
        if start.0 == 0.0 && last.0 == 0.0 && reading.0 > 0.0 {
            let since_start = deliverable(max_power, started_at, at);
            // 20 % and 1 kWh of slack for clock skew and meters that run ahead.
            if reading > since_start * 1.2 + WattHours(1000.0) {
                self.rebase(reading, at);
                return RegisterOutcome::Rebased;
            }
        }
        let from_held = self
            .held
            .filter(|(held, held_at)| possible(*held, *held_at, reading, at, max_power));
        if reading >= last {
            if possible(last, last_at, reading, at, max_power) {
                self.count(last, reading, at);
                return RegisterOutcome::Counted;
            }
            if let Some(held) = from_held {
                self.bridge(held, (last, last_at), reading, at, max_power);
                return RegisterOutcome::Bridged;
            }
            self.held = Some((reading, at));
            return RegisterOutcome::Held;
        }
        // Below the last counted reading.
        if let Some(prev) = self.prev
            && reading >= prev
        {
            // The last step was a glitch: take it back and count from the reading before.
            self.energy -= last - prev;
            self.count(prev, reading, at);
            self.prev = None;
            return RegisterOutcome::Corrected;
        }
        if let Some(held) = from_held {
            self.bridge(held, (last, last_at), reading, at, max_power);
            return RegisterOutcome::Bridged;
        }
        self.held = Some((reading, at));
        RegisterOutcome::Backwards
    }

    /// Starts counting afresh from `reading`.
    fn rebase(&mut self, reading: WattHours, at: DateTime<Utc>) {
        *self = Self {
            start: Some(reading),
            last: Some(reading),
            last_at: Some(at),
            ..Self::default()
        };
    }

    /// Counts the step from `from` to `reading`.
    fn count(&mut self, from: WattHours, reading: WattHours, at: DateTime<Utc>) {
        self.energy += reading - from;
        self.prev = self.last;
        self.last = Some(reading);
        self.last_at = Some(at);
        self.held = None;
    }

    /// Continues from a held reading that `reading` confirmed. A held reading below the last
    /// counted one that a register restarted at zero could have reached since then (within
    /// what the charger delivers in the time, 20 % and 100 Wh of slack) is a reset: the energy
    /// it shows was delivered too.
    fn bridge(
        &mut self,
        (held, held_at): (WattHours, DateTime<Utc>),
        (last, last_at): (WattHours, DateTime<Utc>),
        reading: WattHours,
        at: DateTime<Utc>,
        max_power: Watts,
    ) {
        if held < last && held <= deliverable(max_power, last_at, held_at) * 1.2 + WattHours(100.0)
        {
            self.energy += held;
        }
        self.count(held, reading, at);
        self.prev = None;
    }
}

/// What `max_power` delivers between two instants (nothing when they are out of order).
fn deliverable(max_power: Watts, from: DateTime<Utc>, to: DateTime<Utc>) -> WattHours {
    let hours = (to - from).num_milliseconds().max(0) as f64 / 3_600_000.0;
    max_power.over_hours(hours)
}

/// Whether the register can have gone from `from` to `to` in that time: not backwards, and at
/// most twice what the charger could deliver plus 10 kWh (generous: a charger's configured
/// power may be low, its clock coarse; what this catches are gross errors).
fn possible(
    from: WattHours,
    from_at: DateTime<Utc>,
    to: WattHours,
    to_at: DateTime<Utc>,
    max_power: Watts,
) -> bool {
    to >= from && to - from <= deliverable(max_power, from_at, to_at) * 2.0 + WattHours(10_000.0)
}
