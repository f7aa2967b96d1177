//! Step 3c of chargegrid's allocation, where line currents add as phasors
//! ([`Constraints::phasor_rows`]: EVSEs wired line to line, a delta primary): a plan over the
//! stays of the sessions present that delivers them the most energy, of which this period's
//! currents are taken. Under one full limit every work-conserving split of the current draws
//! the same power, but where the lines of a transformer bind together the split decides both
//! the power drawn now (an EVSE between L1 and L2 uses two full lines where one between L2 and
//! L3 would use an idle one) and who can still be served later (a session leaving within the
//! hour on a full line cannot wait; one staying all day on it can). On the Caltech ACN at
//! 30 kVA the fill's split left chargegrid 7 points of energy behind acnportal's ASA, which
//! plans power over its horizon under the exact constraints; maximising power now closed most of
//! that, and the plan the rest (docs/BENCHMARKS.md). Elsewhere the fill's split is kept: there
//! the only gain would be to favour three-phase vehicles over single-phase ones on a full line
//! (more watts per ampere), a trade of fairness for power not made silently, and it would cost a
//! linear program on every congested site.
//!
//! So: a linear program. This period: each session's current between its floor (nobody
//! charging is stopped) and its ceiling, under every row. Later: the stays cut at the sessions'
//! departures into at most [`PLAN_INTERVALS`] intervals (whole periods only: an allocation
//! holds for a period), each session's ampere-hours in each interval at most its top current
//! over the part it stays, every row scaled by the interval's length less
//! [`ARRIVALS_RESERVE`] for vehicles yet to come; each session's energy over all of them at
//! most its need. Maximise the energy delivered, each watt-hour worth a hair more the sooner
//! it comes ([`SOONER`]), so among the plans that deliver the most, the one that delivers
//! earliest (a session that can wait does not, unless waiting lets another finish). Later
//! intervals have no floor, and sessions whose current is fixed (held for a cheaper period)
//! are not in them, so with a tariff the plan overrates later room: a relaxation, re-planned at
//! every decision. Without
//! later intervals (nobody with a need stays two whole periods) it is the most power now.
//!
//! With a floor, which sessions run is not linear: the program first lets every session that is
//! not running anywhere between 0 and its ceiling; those it gives their floor or more run, the
//! others stay off, and it runs once more with that choice, climbing on from the first optimum
//! (those left off keep their later intervals and need rows; trying the others one at a time,
//! least lax first, took 3–9 solves for 0.1 points less energy on the Caltech replay). Ties go
//! to sessions already charging, then the least lax (without it, 4–7 times the interruptions
//! for 0.1–0.2 points more energy there). Solved with a small simplex ([`super::simplex`]). Without later intervals the answer is taken only if it keeps every row
//! and draws more power than the fill's; with them, if it keeps every row (it may draw less
//! now, for more energy by the departures).
//!
//! Tried and dropped: a power-now program with urgency weights (need over what the stay allows
//! at top current) instead of the plan: 0.1 points where the plan gains 0.4; later intervals
//! limited to the rows full now: 30 % faster, 0.3 points less on one window of three.

use super::constraints::Constraints;
use super::horizon::ARRIVALS_RESERVE;
use super::problem::{AllocContext, SiteProblem};
use super::simplex::Packing;
use super::sorted::hours_left;

/// Least gain (W) for a change to be taken.
const MIN_GAIN_W: f64 = 1.0;
/// Weight of the tie-break (running, then least lax) against energy or power (relative).
const TIE_BREAK: f64 = 1e-4;
/// Most intervals after this period in the plan; with more distinct departures, neighbours
/// are merged. On seven Caltech ACN windows 16 intervals delivered the same energy within
/// ±0.03 points and 2–4 up to 0.3 points less; the program's size, and so its cost, grows with
/// them (docs/BENCHMARKS.md).
const PLAN_INTERVALS: usize = 8;
/// A watt-hour in this period is worth `1 + SOONER`, one in a later interval `1 + SOONER`
/// times one less its midpoint's share of the plan's length (relative): small enough never to
/// trade energy for earliness beyond rounding, large enough to order plans that deliver the
/// same.
const SOONER: f64 = 1e-4;
/// The fill's answer and what bounds each session, for [`rebalance`].
pub(crate) struct Split<'a> {
    /// The fill's currents.
    pub x: &'a [f64],
    /// Each session's least current once running.
    pub lo: &'a [f64],
    /// Each session's ceiling (0: it takes nothing).
    pub hi: &'a [f64],
    /// Whom the fill let run.
    pub admitted: &'a [bool],
    /// Sessions whose current is fixed (held for a cheaper period).
    pub fixed: &'a [bool],
    /// Sessions least lax first.
    pub order: &'a [usize],
    /// Row capacities in force.
    pub caps: &'a [f64],
    /// Which rows the fill left full.
    pub full: &'a [bool],
    /// The decision's time, for the sessions' stays.
    pub ctx: &'a AllocContext,
    /// Each session's top current (A) in later periods.
    pub top: &'a [f64],
    /// Each session's remaining need, ampere-hours.
    pub need: &'a [f64],
}

/// What the plan beyond this period needs, per session.
struct Stays<'a> {
    /// This period's length, hours.
    period: f64,
    /// Hours each session has left from now.
    left: Vec<f64>,
    /// Each session's top current (A) in later periods.
    top: &'a [f64],
    /// Each session's remaining need, ampere-hours.
    need: &'a [f64],
}

impl Stays<'_> {
    /// Whole periods of session `s`'s stay, hours from now.
    fn whole(&self, s: usize) -> f64 {
        (self.left[s] / self.period).floor() * self.period
    }

    /// The plan's later intervals, `(start, end)` in hours from now: cut at departures after
    /// this period, at most [`PLAN_INTERVALS`] of them (every `len / PLAN_INTERVALS`-th
    /// departure kept, the last always; the first too while there are fewer than twice as many
    /// departures as intervals).
    fn intervals(&self) -> Vec<(f64, f64)> {
        let p = self.period;
        let mut ends: Vec<f64> = (0..self.left.len())
            .filter(|&s| self.top[s] > 0.0 && self.need[s] > 0.0)
            .map(|s| self.whole(s))
            .filter(|&e| e > p + 1e-9)
            .collect();
        ends.sort_by(f64::total_cmp);
        ends.dedup_by(|a, b| (*a - *b).abs() < 1e-9);
        if ends.len() > PLAN_INTERVALS {
            ends = (1..=PLAN_INTERVALS)
                .map(|i| ends[i * ends.len() / PLAN_INTERVALS - 1])
                .collect();
        }
        let mut start = p;
        ends.into_iter()
            .map(|e| {
                let interval = (start, e);
                start = e;
                interval
            })
            .collect()
    }
}

/// This period's currents from the plan (or a split that draws more power when the plan has no
/// later intervals), if more than one limit binds and one exists.
pub(crate) fn rebalance(
    problem: &SiteProblem,
    cons: &Constraints,
    split: &Split<'_>,
) -> Option<Vec<f64>> {
    let Split {
        x,
        lo,
        hi,
        admitted,
        fixed,
        order,
        caps,
        full,
        ctx,
        top,
        need,
    } = *split;
    let n = x.len();
    let can_move = |s: usize| hi[s] > 0.0 && !fixed[s];
    // Only where line currents add as phasors, a limit other than the site's power binds, and
    // someone is left wanting.
    let other_full = cons.phasor_rows && (0..cons.rows()).any(|r| r != cons.site_power && full[r]);
    // Someone wanting who shares a limit with room left with others: else every shared limit
    // it could use is full, and re-splitting cannot give it more.
    let wanting = (0..n).any(|s| {
        can_move(s)
            && x[s] < hi[s] - 1e-6
            && cons.rows_of(s).iter().any(|&(r, _)| {
                r != cons.site_power
                    && caps[r].is_finite()
                    && !full[r]
                    && cons.sessions_in(r).len() > 1
            })
    });
    if !other_full || !wanting {
        return None;
    }
    let power = |v: &[f64]| -> f64 {
        v.iter()
            .enumerate()
            .map(|(s, a)| a * problem.sessions[s].watts_per_amp())
            .sum()
    };
    // Ties go to sessions already charging (no stop-start for nothing), then the least lax.
    let mut preference = vec![0.0; n];
    for (rank, &s) in order.iter().enumerate() {
        let running = problem.sessions[s].previous.is_some_and(|p| p.0 > 0.0);
        preference[s] = if running { 1.0 } else { 0.0 } + 0.5 * (1.0 - rank as f64 / n as f64);
    }
    let mut fixed_load = vec![0.0; cons.rows()];
    for (s, &xs) in x.iter().enumerate() {
        if !can_move(s) && xs > 0.0 {
            cons.add(&mut fixed_load, s, xs);
        }
    }
    let movable: Vec<bool> = (0..n).map(can_move).collect();
    // The stays, only on sites that get this far (the rest never plan).
    let stays = Stays {
        period: ctx.period_hours(),
        left: (0..n).map(|s| hours_left(problem, ctx, s)).collect(),
        top,
        need,
    };
    let program = Program {
        movable: &movable,
        problem,
        cons,
        lo,
        hi,
        caps,
        fixed_load: &fixed_load,
        preference: &preference,
        x,
        later: stays.intervals(),
        stays,
    };
    // First with every session that is not running free between 0 and its ceiling (the
    // relaxation of "0 or at least the floor"): those it gives their floor or more run, the
    // others stay off; then once more with that choice fixed.
    let mut mode: Vec<Mode> = (0..n)
        .map(|s| match (movable[s], admitted[s] || lo[s] <= 0.0) {
            (false, _) => Mode::Off,
            (true, true) => Mode::On,
            (true, false) => Mode::Free,
        })
        .collect();
    let (lp, var) = program.build(&mode);
    let mut solver = lp.solver()?;
    let relaxed = program.currents(&var, &solver.x())?;
    let mut undecided = false;
    let (mut zero, mut raise) = (Vec::new(), Vec::new());
    for (s, m) in mode.iter_mut().enumerate() {
        if *m == Mode::Free {
            *m = if relaxed[s] >= lo[s] - 1e-9 {
                Mode::On
            } else {
                Mode::Off
            };
            undecided |= relaxed[s] > 1e-9 && relaxed[s] < lo[s] - 1e-9;
            if let Some(v) = var[s] {
                if *m == Mode::On {
                    raise.push((v, lo[s].min(hi[s])));
                } else {
                    zero.push(v);
                }
            }
        }
    }
    // A session left off keeps its variable (pinned at 0), so its need row keeps the floor's
    // room for this period; where that is more than its need, the program is not the one a
    // fresh solve would build, and a fresh solve it is.
    let period = program.stays.period;
    let same_program = || {
        program.later.is_empty()
            || (0..n).all(|s| {
                mode[s] != Mode::Off || var[s].is_none() || need[s] >= lo[s].min(hi[s]) * period
            })
    };
    let best = if !undecided {
        relaxed
    } else if same_program() && solver.tighten(&zero, &raise).is_some() {
        // The same program with that choice, climbed on from the relaxation's optimum.
        program.currents(&var, &solver.x())?
    } else {
        program.solve(&mode)?
    };
    if !program.later.is_empty() {
        return Some(best);
    }
    (power(&best) > power(x) + MIN_GAIN_W).then_some(best)
}

/// How the program treats a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Not in the program: 0 if movable, else its fill current.
    Off,
    /// Running: between its floor and its ceiling.
    On,
    /// Anywhere between 0 and its ceiling.
    Free,
}

/// The linear program's fixed parts.
struct Program<'a> {
    problem: &'a SiteProblem,
    cons: &'a Constraints,
    lo: &'a [f64],
    hi: &'a [f64],
    caps: &'a [f64],
    fixed_load: &'a [f64],
    preference: &'a [f64],
    /// The fill's currents, which sessions that are not movable keep.
    x: &'a [f64],
    /// Sessions the program may change (the others keep the fill's current).
    movable: &'a [bool],
    stays: Stays<'a>,
    /// The plan's intervals after this period (empty: this period only).
    later: Vec<(f64, f64)>,
}

impl Program<'_> {
    /// The most power (with later intervals: the plan's most energy, earliest) with each session
    /// as `mode` says; `None` if infeasible or a row would be broken.
    fn solve(&self, mode: &[Mode]) -> Option<Vec<f64>> {
        let (lp, var) = self.build(mode);
        let sol = lp.solve()?;
        self.currents(&var, &sol)
    }

    /// The program for `mode`, and each session's variable for this period in it.
    fn build(&self, mode: &[Mode]) -> (Packing, Vec<Option<usize>>) {
        let n = mode.len();
        let mut lp = Packing::default();
        // The program's variable of each session in it.
        let mut var: Vec<Option<usize>> = vec![None; n];
        for s in 0..n {
            let least = match mode[s] {
                Mode::Off => continue,
                Mode::On => self.lo[s].min(self.hi[s]),
                Mode::Free => 0.0,
            };
            let wpa = self.problem.sessions[s].watts_per_amp();
            var[s] = Some(lp.c.len());
            lp.c.push(wpa * (1.0 + TIE_BREAK * self.preference[s]));
            lp.lower.push(least);
            lp.upper.push(self.hi[s]);
        }
        let mut terms: Vec<Vec<(usize, f64)>> = vec![Vec::new(); self.cons.rows()];
        for (s, v) in var.iter().enumerate() {
            if let Some(v) = *v {
                self.add_terms(&mut terms, s, v);
            }
        }
        for (r, t) in terms.into_iter().enumerate() {
            if !t.is_empty() {
                // A hair under the row, so rounding cannot tip it over.
                let room = (self.caps[r] - self.fixed_load[r] - 1e-7).max(0.0);
                lp.rows.push((t, room));
            }
        }
        if !self.later.is_empty() {
            self.plan_later(&mut lp, &var);
        }
        (lp, var)
    }

    /// This period's currents from a solution `sol` of the program (each variable within its
    /// bounds, [`super::simplex::Solver::x`]), or `None` if a row would be broken.
    fn currents(&self, var: &[Option<usize>], sol: &[f64]) -> Option<Vec<f64>> {
        let n = var.len();
        let y: Vec<f64> = (0..n)
            .map(|s| match var[s] {
                Some(v) => sol[v],
                None if self.movable[s] => 0.0,
                None => self.x[s],
            })
            .collect();
        let load = self.cons.loads(&y);
        let ok = load
            .iter()
            .zip(self.caps)
            .all(|(&l, &c)| l <= c + 1e-9 * c.abs().max(1.0));
        ok.then_some(y)
    }

    /// Puts variable `v` of session `s` into the terms of every limited row on its path.
    fn add_terms(&self, terms: &mut [Vec<(usize, f64)>], s: usize, v: usize) {
        for &(r, c) in self.cons.rows_of(s) {
            if self.caps[r].is_finite() && c > 0.0 {
                terms[r].push((v, c));
            }
        }
    }

    /// Turns the program for this period's currents `var` into the plan: their weights become
    /// energy, and the later intervals' variables, rows and each session's need are added.
    fn plan_later(&self, lp: &mut Packing, var: &[Option<usize>]) {
        let st = &self.stays;
        let n = var.len();
        let plan_hours = self.later.last().map_or(st.period, |l| l.1);
        let mut need_terms: Vec<Vec<(usize, f64)>> = vec![Vec::new(); n];
        for (s, v) in var.iter().enumerate() {
            if let Some(v) = *v {
                // A current held for the period: its energy is current × period.
                lp.c[v] *= st.period * (1.0 + SOONER);
                need_terms[s].push((v, st.period));
            }
        }
        let mut terms: Vec<Vec<(usize, f64)>> = vec![Vec::new(); self.cons.rows()];
        for &(start, end) in &self.later {
            let worth = 1.0 + SOONER * (1.0 - 0.5 * (start + end) / plan_hours);
            for (s, need_s) in need_terms.iter_mut().enumerate() {
                if !self.movable[s] || st.top[s] <= 0.0 || st.need[s] <= 0.0 {
                    continue;
                }
                let hours = self.stays.whole(s).min(end) - start;
                if hours <= 1e-9 {
                    continue;
                }
                // The session's ampere-hours in this interval.
                let v = lp.c.len();
                lp.c.push(self.problem.sessions[s].watts_per_amp() * worth);
                lp.lower.push(0.0);
                lp.upper.push(st.top[s] * hours);
                need_s.push((v, 1.0));
                self.add_terms(&mut terms, s, v);
            }
            let share = (end - start) * (1.0 - ARRIVALS_RESERVE);
            for (r, t) in terms.iter_mut().enumerate() {
                if t.is_empty() {
                    continue;
                }
                let t = std::mem::take(t);
                let room = (self.caps[r] * share).max(0.0);
                // A row its sessions cannot fill even at their top currents cannot bind.
                if most(lp, &t) > room {
                    lp.rows.push((t, room));
                }
            }
        }
        for (s, t) in need_terms.into_iter().enumerate() {
            if t.is_empty() {
                continue;
            }
            // At least the floor for the period of a session in the program, running or not:
            // one needing less than a period at its floor still gets the floor (it stops
            // drawing once full), as in its bounds.
            let least = var[s].map_or(0.0, |_| self.lo[s].min(self.hi[s]) * st.period);
            let cap = st.need[s].max(least);
            // Nor a need the session cannot reach at its top current.
            if most(lp, &t) > cap {
                lp.rows.push((t, cap));
            }
        }
    }
}

/// The most a row's terms can reach with every variable at its upper bound.
fn most(lp: &Packing, terms: &[(usize, f64)]) -> f64 {
    terms.iter().map(|&(v, c)| c * lp.upper[v]).sum()
}
