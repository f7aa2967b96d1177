//! Step 3c of chargegrid's allocation: the most power the limits allow where line currents add
//! as phasors ([`Constraints::phasor_rows`]: EVSEs wired line to line, a delta primary). Under
//! one full limit every work-conserving split of the current draws the same power, but where
//! the lines of a transformer bind together the fill's split can leave power unused that
//! another would draw: an EVSE between L1 and L2 uses two full lines where one between L2 and
//! L3 would use an idle one. On the Caltech ACN at 30 kVA that left chargegrid 7 points of
//! energy behind acnportal's ASA, which maximises power over its horizon under the exact
//! constraints. Elsewhere the fill's split is kept: there the program's only gain would be to
//! favour three-phase vehicles over single-phase ones on a full line (more watts per ampere),
//! a trade of fairness for power not made silently, and it would cost a linear program on
//! every congested site.
//!
//! So: a linear program over the sessions, maximising power under every row, each session
//! between its floor (nobody charging is stopped) and its ceiling. With a floor, which sessions
//! run is not linear: the program first lets every session that is not running anywhere
//! between 0 and its ceiling; those it gives their floor or more run, the others stay off, and
//! it runs once more with that choice (two solves; trying the others one at a time, least lax
//! first, took 3–9 solves for 0.1 points less energy on the Caltech replay). Ties go to
//! sessions already charging, then the least lax (without it, 4–7 times the interruptions for
//! 0.1–0.2 points more energy there). Solved with a small dense simplex ([`super::simplex`];
//! with `microlp`, a general solver, the stage cost ~55 µs per congested site, mostly its
//! set-up); the answer is taken only if it keeps every row and draws more power than the
//! fill's.
//! Keeping each session's fill share up to its even pace as a lower bound was tried and
//! dropped: it cost energy and drivers served in full on the Caltech replay.
//!
//! It maximises power now, not energy over the stay: on the Caltech replay it ends 0.2–0.7
//! points behind ASA, which plans the whole horizon (docs/BENCHMARKS.md).

use super::constraints::Constraints;
use super::problem::SiteProblem;
use super::simplex::Packing;

/// Least gain (W) for a change to be taken.
const MIN_GAIN_W: f64 = 1.0;
/// Weight of the urgency tie-break against power (relative).
const TIE_BREAK: f64 = 1e-4;
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
}

/// A split that draws more power, if more than one limit binds and one exists.
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
    let relaxed = program.solve(&mode)?;
    let mut undecided = false;
    for (s, m) in mode.iter_mut().enumerate() {
        if *m == Mode::Free {
            *m = if relaxed[s] >= lo[s] - 1e-9 {
                Mode::On
            } else {
                Mode::Off
            };
            undecided |= relaxed[s] > 1e-9 && relaxed[s] < lo[s] - 1e-9;
        }
    }
    let best = if undecided {
        program.solve(&mode)?
    } else {
        relaxed
    };
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
}

impl Program<'_> {
    /// The most power with each session as `mode` says; `None` if infeasible or a row would be
    /// broken.
    fn solve(&self, mode: &[Mode]) -> Option<Vec<f64>> {
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
                for &(r, c) in self.cons.rows_of(s) {
                    if self.caps[r].is_finite() && c > 0.0 {
                        terms[r].push((v, c));
                    }
                }
            }
        }
        for (r, t) in terms.into_iter().enumerate() {
            if !t.is_empty() {
                // A hair under the row, so rounding cannot tip it over.
                let room = (self.caps[r] - self.fixed_load[r] - 1e-7).max(0.0);
                lp.rows.push((t, room));
            }
        }
        let sol = lp.solve()?;
        let y: Vec<f64> = (0..n)
            .map(|s| match var[s] {
                // Within the variable's bounds: rounding in the simplex can leave a running
                // session a hair under its floor.
                Some(v) => sol[v].clamp(lp.lower[v], lp.upper[v]),
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
}
