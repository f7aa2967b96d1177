//! Step 3c of chargegrid's allocation: the most power the limits allow, when more than one
//! limit binds. Under a single full limit every work-conserving allocation draws the same
//! power, but where several limits bind together (the three lines of a transformer with
//! EVSEs wired line to line, phases of uneven load, a feeder and its panels) the fill's answer
//! can leave power unused that a different split would draw: an EVSE between L1 and L2 uses
//! two full lines where one between L2 and L3 would use an idle one. On the Caltech ACN at
//! 30 kVA that left chargegrid 8 points of energy behind acnportal's ASA, which maximises
//! power over its horizon under the exact constraints.
//!
//! So: a linear program over the sessions, maximising power under every row, each session
//! between its floor (nobody charging is stopped) and its ceiling; ties go to the least lax.
//! With a floor, which sessions run is not linear: the program runs on the sessions the fill
//! admitted, then tries the others, least lax first, one at a time, keeping each that raises
//! the power (until [`MISSES`] in a row do not). Solved with `microlp` (a maintained pure-Rust
//! simplex). The answer is taken only if it keeps every row and draws more power than the
//! fill's. Keeping each session's fill share up to its even pace as a lower bound was tried
//! and dropped: it cost energy and drivers served in full on the Caltech replay
//! (docs/BENCHMARKS.md).

use microlp::{ComparisonOp, OptimizationDirection, Problem, SolveOutcome, Variable};

use super::constraints::Constraints;
use super::problem::SiteProblem;

/// Least gain (W) for a change to be taken.
const MIN_GAIN_W: f64 = 1.0;
/// Weight of the urgency tie-break against power (relative).
const TIE_BREAK: f64 = 1e-4;
/// Sessions tried in a row without a gain before the search for more runners stops.
const MISSES: usize = 8;

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
    // Only where a limit other than the site's power binds and someone is left wanting.
    let other_full = (0..cons.rows()).any(|r| r != cons.site_power && full[r]);
    let wanting = (0..n).any(|s| can_move(s) && x[s] < hi[s] - 1e-6);
    if !other_full || !wanting {
        return None;
    }
    let power = |v: &[f64]| -> f64 {
        v.iter()
            .enumerate()
            .map(|(s, a)| a * problem.sessions[s].watts_per_amp())
            .sum()
    };
    let mut preference = vec![0.0; n];
    for (rank, &s) in order.iter().enumerate() {
        preference[s] = 1.0 - rank as f64 / n as f64;
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
    // Running: admitted, or free to take nothing (no floor).
    let mut on: Vec<bool> = (0..n)
        .map(|s| movable[s] && (admitted[s] || lo[s] <= 0.0))
        .collect();
    let mut best = program.solve(&on)?;
    let mut best_power = power(&best);
    let mut misses = 0;
    for &s in order {
        if misses >= MISSES {
            break;
        }
        if on[s] || !movable[s] {
            continue;
        }
        on[s] = true;
        match program.solve(&on) {
            Some(y) if power(&y) > best_power + MIN_GAIN_W => {
                best_power = power(&y);
                best = y;
                misses = 0;
            }
            _ => {
                on[s] = false;
                misses += 1;
            }
        }
    }
    (best_power > power(x) + MIN_GAIN_W).then_some(best)
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
    /// The most power with the sessions `on` running (between floor and ceiling), the others
    /// at their fill current (movable ones not running at 0); `None` if infeasible or a row
    /// would be broken.
    fn solve(&self, on: &[bool]) -> Option<Vec<f64>> {
        let n = on.len();
        let mut lp = Problem::new(OptimizationDirection::Maximize);
        let mut var: Vec<Option<Variable>> = vec![None; n];
        for s in 0..n {
            if on[s] {
                let wpa = self.problem.sessions[s].watts_per_amp();
                let weight = wpa * (1.0 + TIE_BREAK * self.preference[s]);
                var[s] = Some(lp.add_var(weight, (self.lo[s].min(self.hi[s]), self.hi[s])));
            }
        }
        let mut terms: Vec<Vec<(Variable, f64)>> = vec![Vec::new(); self.cons.rows()];
        for (s, v) in var.iter().enumerate() {
            if let Some(v) = *v {
                for &(r, c) in self.cons.rows_of(s) {
                    if self.caps[r].is_finite() {
                        terms[r].push((v, c));
                    }
                }
            }
        }
        for (r, t) in terms.iter().enumerate() {
            if !t.is_empty() {
                // A hair under the row, so the simplex's tolerance cannot tip it over.
                let room = (self.caps[r] - self.fixed_load[r] - 1e-7).max(0.0);
                lp.add_constraint(t.as_slice(), ComparisonOp::Le, room);
            }
        }
        let Ok(SolveOutcome::Solution(sol)) = lp.solve() else {
            return None;
        };
        let y: Vec<f64> = (0..n)
            .map(|s| match var[s] {
                Some(v) => sol.var_value(v).clamp(0.0, self.hi[s]),
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
