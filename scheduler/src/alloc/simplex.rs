//! A small simplex for the packing programs of the throughput stage ([`super::throughput`]):
//! maximise `c·x` subject to `A x ≤ b` and `l ≤ x ≤ u`, where every coefficient of `A` is
//! non-negative and the lower bounds fit (`A l ≤ b`). Those two facts make the lower corner a
//! feasible vertex, so there is no first phase: the slacks start as the basis and a
//! bounded-variable primal simplex (Dantzig's rule, Bland's once steps stop gaining, a bound
//! flip instead of a pivot where the entering variable reaches its own bound) climbs from there.
//!
//! Written here rather than taken from a crate because of size, not speed of the simplex
//! itself: the stage solved programs of about ten variables and ten rows, twice per congested
//! site per decision, and with `microlp` (a maintained general solver, kept as a dev-dependency
//! to cross-check this one in tests) that cost ~55 µs per site, mostly the solver's set-up,
//! which put 1,000 line-to-line sites at ~70 ms a decision (docs/BENCHMARKS.md). Since the stage
//! plans over the stays (session 20) its programs have 40–60 variables and 70–160 rows on the
//! benchmark's sites, and are sparse. The tableau is kept condensed (a column per non-basic
//! variable only, not one per slack too: a third of the memory there); each step reads the
//! entering column's non-zero entries once, for the ratio test, the move and the pivot, and a
//! pivot updates only the rows where that column is non-zero, at the columns where the pivot
//! row is. The stage's second solve (with the 0-or-floor choice made) changes only bounds, so
//! [`Solver::tighten`] climbs on from the first optimum instead of from the lower corner.
//! Together (session 21), on the line-to-line benchmark: 10,000 sessions over 1,000 sites
//! 168 → 86 ms, one 50-session site 1.48 → 0.89 ms, same replay figures (docs/BENCHMARKS.md).

/// Reduced costs and pivots smaller than this are treated as zero.
const EPS: f64 = 1e-9;
/// Steps without gain after which entering variables are chosen by Bland's rule (no cycling).
const STALL: usize = 50;
/// Upper limit of steps; past it the program is given up (the caller keeps what it had).
const MAX_STEPS: usize = 10_000;

/// A packing program: maximise `c·x`, `A x ≤ b`, `l ≤ x ≤ u`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Packing {
    /// Objective weights, one per variable.
    pub c: Vec<f64>,
    /// Lower bounds.
    pub lower: Vec<f64>,
    /// Upper bounds (finite).
    pub upper: Vec<f64>,
    /// Rows, each as `(variable, coefficient ≥ 0)` pairs, with its capacity.
    pub rows: Vec<(Vec<(usize, f64)>, f64)>,
}

/// The simplex's working state. Variables are the program's `n` (shifted to start at 0) then
/// the `m` slacks. The condensed tableau `t` has a column per non-basic variable, stored row
/// after row (`t[i * n + k]`): how much the basic variable of row `i` falls per unit the
/// non-basic variable of column `k` rises.
struct Tableau {
    t: Vec<f64>,
    /// The basic variable of each row and its value.
    basis: Vec<usize>,
    value: Vec<f64>,
    /// The non-basic variable of each column, and its reduced cost.
    column: Vec<usize>,
    reduced: Vec<f64>,
    /// Which non-basic variables sit at their upper bound (by variable).
    at_upper: Vec<bool>,
    /// Upper bound of each variable in shifted form (`u − l`; slacks unbounded).
    upper: Vec<f64>,
    /// Scratch: the pivot column's non-zero entries, and the pivot row's.
    pivot_column: Vec<(usize, f64)>,
    pivot_row: Vec<(usize, f64)>,
}

impl Packing {
    /// The optimum, or `None` when the lower bounds do not fit or no optimum was reached.
    pub fn solve(&self) -> Option<Vec<f64>> {
        Some(self.solver()?.x())
    }

    /// The program solved, kept at its optimal vertex so that bounds can be tightened and the
    /// climb resumed from there ([`Solver::tighten`]); `None` as for [`Packing::solve`].
    pub fn solver(&self) -> Option<Solver> {
        let n = self.c.len();
        let m = self.rows.len();
        let mut tab = Tableau {
            t: vec![0.0; m * n],
            basis: (n..n + m).collect(),
            value: Vec::with_capacity(m),
            column: (0..n).collect(),
            reduced: self.c.clone(),
            at_upper: vec![false; n + m],
            upper: Vec::with_capacity(n + m),
            pivot_column: Vec::with_capacity(m),
            pivot_row: Vec::with_capacity(n),
        };
        for j in 0..n {
            let span = self.upper[j] - self.lower[j];
            if span.is_nan() || span < -EPS {
                return None;
            }
            tab.upper.push(span.max(0.0));
        }
        tab.upper.resize(n + m, f64::INFINITY);
        for (i, (terms, cap)) in self.rows.iter().enumerate() {
            let mut room = *cap;
            for &(j, a) in terms {
                debug_assert!(j < n, "row {i} names variable {j} of {n}");
                tab.t[i * n + j] += a;
                room -= a * self.lower[j];
            }
            // The lower corner must fit (up to rounding).
            if room < -1e-9 * cap.abs().max(1.0) {
                return None;
            }
            tab.value.push(room.max(0.0));
        }
        tab.run()?;
        Some(Solver {
            tab,
            c: self.c.clone(),
            lower: self.lower.clone(),
        })
    }
}

/// A packing program at an optimal vertex (its last climb's, see [`Solver::tighten`]).
pub(crate) struct Solver {
    tab: Tableau,
    c: Vec<f64>,
    lower: Vec<f64>,
}

impl Solver {
    /// The variables' values at the vertex, each within its bounds (rounding in the steps can
    /// leave a basic variable a hair outside them).
    pub fn x(&self) -> Vec<f64> {
        let n = self.lower.len();
        let mut x = self.lower.clone();
        for (j, v) in x.iter_mut().enumerate() {
            if self.tab.at_upper[j] {
                *v += self.tab.upper[j];
            }
        }
        for (i, &b) in self.tab.basis.iter().enumerate() {
            if b < n {
                x[b] += self.tab.value[i].clamp(0.0, self.tab.upper[b]);
            }
        }
        x
    }

    /// Pins the variables `zero` (lower bound 0) at 0 and raises each lower bound `(j, l)` of
    /// `raise` (the variable must be at `l` or above already), then climbs to the new optimum
    /// from the current vertex instead of from the lower corner: first to a vertex where the
    /// pinned variables are 0 (lowering a variable of a packing program never breaks a row),
    /// then on the objective. `None`, the solver left as it was, if a condition does not hold;
    /// `None`, the solver spent, if no optimum was reached.
    pub fn tighten(&mut self, zero: &[usize], raise: &[(usize, f64)]) -> Option<()> {
        let x = self.x();
        let tol = |l: f64| 1e-9 * l.abs().max(1.0);
        if raise
            .iter()
            .any(|&(j, l)| x[j] < l - tol(l) || l < self.lower[j] - tol(l))
            || zero.iter().any(|&j| self.lower[j] != 0.0)
        {
            return None;
        }
        let n = self.lower.len();
        let mut row_of = vec![None; n];
        for (i, &b) in self.tab.basis.iter().enumerate() {
            if b < n {
                row_of[b] = Some(i);
            }
        }
        for &(j, l) in raise {
            let d = (l - self.lower[j]).max(0.0);
            self.lower[j] += d;
            self.tab.upper[j] = (self.tab.upper[j] - d).max(0.0);
            match row_of[j] {
                Some(i) => self.tab.value[i] = (self.tab.value[i] - d).max(0.0),
                // At its upper bound the variable keeps its value; at its lower bound (only
                // within rounding of `l`) it rises by `d` and the basic variables follow.
                None if !self.tab.at_upper[j] && d > 0.0 => {
                    let w = self.tab.column.len();
                    if let Some(k) = self.tab.column.iter().position(|&v| v == j) {
                        for (i, v) in self.tab.value.iter_mut().enumerate() {
                            *v = (*v - self.tab.t[i * w + k] * d).max(0.0);
                        }
                    }
                }
                None => {}
            }
        }
        if zero.iter().any(|&j| x[j] > 0.0) {
            let mut down = vec![0.0; n];
            for &j in zero {
                down[j] = -1.0;
            }
            self.tab.reprice(&down);
            self.tab.run()?;
            let y = self.x();
            if zero.iter().any(|&j| y[j] > 1e-9) {
                return None;
            }
        }
        for &j in zero {
            self.tab.upper[j] = 0.0;
            self.tab.at_upper[j] = false;
            if let Some(i) = self.tab.basis.iter().position(|&b| b == j) {
                self.tab.value[i] = 0.0;
            }
        }
        self.tab.reprice(&self.c);
        self.tab.run()
    }
}

impl Tableau {
    /// Reduced costs for objective `c` (over the program's variables; slacks weigh 0) at the
    /// current basis.
    fn reprice(&mut self, c: &[f64]) {
        let n = self.column.len();
        let weight = |v: usize| c.get(v).copied().unwrap_or(0.0);
        for (k, d) in self.reduced.iter_mut().enumerate() {
            *d = weight(self.column[k]);
        }
        for (i, &b) in self.basis.iter().enumerate() {
            let w = weight(b);
            if w != 0.0 {
                for (d, &a) in self.reduced.iter_mut().zip(&self.t[i * n..(i + 1) * n]) {
                    *d -= w * a;
                }
            }
        }
    }

    /// Steps until no entering variable improves the objective; `None` if unbounded or too long.
    fn run(&mut self) -> Option<()> {
        let n = self.column.len();
        let mut stalled = 0;
        for _ in 0..MAX_STEPS {
            let Some(k) = self.entering(stalled >= STALL) else {
                return Some(());
            };
            let j = self.column[k];
            // The entering column's non-zero entries, read once for the ratio test, the move
            // and the pivot.
            self.pivot_column.clear();
            for i in 0..self.basis.len() {
                let a = self.t[i * n + k];
                if a != 0.0 {
                    self.pivot_column.push((i, a));
                }
            }
            // Direction: +1 raises the entering variable from its lower bound, −1 lowers it from
            // its upper bound.
            let dir = if self.at_upper[j] { -1.0 } else { 1.0 };
            // Ratio test: how far it can move before a basic variable hits a bound, or itself.
            let mut step = self.upper[j];
            let mut leave: Option<(usize, bool)> = None;
            for &(i, a) in &self.pivot_column {
                let alpha = dir * a;
                let b = self.basis[i];
                // The basic variable moves by −alpha per unit of step.
                let (limit, to_upper) = if alpha > EPS {
                    (self.value[i] / alpha, false)
                } else if alpha < -EPS && self.upper[b].is_finite() {
                    ((self.upper[b] - self.value[i]) / -alpha, true)
                } else {
                    continue;
                };
                let limit = limit.max(0.0);
                // Ties within rounding: the bound flip first (no pivot), then the smallest
                // variable index leaves (Bland).
                let take = limit < step - EPS
                    || matches!(leave, Some((r, _)) if limit <= step + EPS && b < self.basis[r]);
                if take {
                    step = step.min(limit);
                    leave = Some((i, to_upper));
                }
            }
            if !step.is_finite() {
                return None;
            }
            stalled = if step * self.reduced[k].abs() > EPS {
                0
            } else {
                stalled + 1
            };
            // Move: every basic variable follows the entering column.
            for &(i, a) in &self.pivot_column {
                self.value[i] -= dir * step * a;
            }
            match leave {
                None => self.at_upper[j] = !self.at_upper[j],
                Some((r, to_upper)) => {
                    let entering_value = if self.at_upper[j] {
                        self.upper[j] - step
                    } else {
                        step
                    };
                    let out = self.basis[r];
                    self.at_upper[out] = to_upper;
                    self.at_upper[j] = false;
                    self.basis[r] = j;
                    self.value[r] = entering_value;
                    self.column[k] = out;
                    self.pivot(r, k);
                }
            }
        }
        None
    }

    /// The column of a non-basic variable whose move improves the objective: the largest
    /// reduced cost, or with `bland` the smallest variable index.
    fn entering(&self, bland: bool) -> Option<usize> {
        let mut best: Option<(usize, f64)> = None;
        for (k, (&j, &d)) in self.column.iter().zip(&self.reduced).enumerate() {
            let gain = if self.at_upper[j] { -d } else { d };
            if gain <= EPS || self.upper[j] <= 0.0 {
                continue;
            }
            let better = match best {
                None => true,
                Some((b, _)) if bland => j < self.column[b],
                Some((_, g)) => gain > g,
            };
            if better {
                best = Some((k, gain));
            }
        }
        best.map(|(k, _)| k)
    }

    /// Exchanges the basic variable of row `r` with the non-basic one of column `k` (values and
    /// labels already updated; `pivot_column` holds column `k`'s non-zero entries): the pivot
    /// row is divided by the pivot, every other row where the pivot column is non-zero loses
    /// that multiple of it at the pivot row's non-zero columns, and the pivot column becomes
    /// the leaving variable's.
    fn pivot(&mut self, r: usize, k: usize) {
        let n = self.column.len();
        let p = self.t[r * n + k];
        let row = &mut self.t[r * n..(r + 1) * n];
        self.pivot_row.clear();
        for (c, a) in row.iter_mut().enumerate() {
            if *a != 0.0 {
                *a /= p;
                if c != k {
                    self.pivot_row.push((c, *a));
                }
            }
        }
        row[k] = 1.0 / p;
        for &(i, a) in &self.pivot_column {
            if i == r {
                continue;
            }
            let row = &mut self.t[i * n..(i + 1) * n];
            for &(c, f) in &self.pivot_row {
                row[c] -= a * f;
            }
            row[k] = -a / p;
        }
        let d = self.reduced[k];
        if d != 0.0 {
            for &(c, f) in &self.pivot_row {
                self.reduced[c] -= d * f;
            }
        }
        self.reduced[k] = -d / p;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use microlp::{ComparisonOp, OptimizationDirection, Problem, SolveOutcome};
    use proptest::prelude::*;

    fn objective(p: &Packing, x: &[f64]) -> f64 {
        p.c.iter().zip(x).map(|(c, x)| c * x).sum()
    }

    /// Every bound and row kept, up to rounding.
    fn feasible(p: &Packing, x: &[f64]) -> bool {
        let bounds = x
            .iter()
            .zip(p.lower.iter().zip(&p.upper))
            .all(|(&v, (&l, &u))| v >= l - 1e-7 && v <= u + 1e-7);
        let rows = p.rows.iter().all(|(terms, cap)| {
            let load: f64 = terms.iter().map(|&(j, a)| a * x[j]).sum();
            load <= cap + 1e-7 * cap.abs().max(1.0)
        });
        bounds && rows
    }

    /// The same program solved by `microlp`, an independent general solver.
    fn reference(p: &Packing) -> Option<f64> {
        let mut lp = Problem::new(OptimizationDirection::Maximize);
        let vars: Vec<_> = (0..p.c.len())
            .map(|j| lp.add_var(p.c[j], (p.lower[j], p.upper[j])))
            .collect();
        for (terms, cap) in &p.rows {
            let t: Vec<_> = terms.iter().map(|&(j, a)| (vars[j], a)).collect();
            lp.add_constraint(t.as_slice(), ComparisonOp::Le, *cap);
        }
        match lp.solve() {
            Ok(SolveOutcome::Solution(sol)) => Some(sol.objective()),
            _ => None,
        }
    }

    #[test]
    fn a_textbook_program_reaches_its_optimum() {
        // max 3x + 2y, x + y ≤ 4, x + 3y ≤ 6, 0 ≤ x ≤ 3, 0 ≤ y ≤ 10: x = 3, y = 1, value 11.
        let p = Packing {
            c: vec![3.0, 2.0],
            lower: vec![0.0, 0.0],
            upper: vec![3.0, 10.0],
            rows: vec![
                (vec![(0, 1.0), (1, 1.0)], 4.0),
                (vec![(0, 1.0), (1, 3.0)], 6.0),
            ],
        };
        let x = p.solve().unwrap();
        assert!(
            (x[0] - 3.0).abs() < 1e-9 && (x[1] - 1.0).abs() < 1e-9,
            "{x:?}"
        );
    }

    #[test]
    fn lower_bounds_that_do_not_fit_give_no_answer() {
        let p = Packing {
            c: vec![1.0, 1.0],
            lower: vec![6.0, 6.0],
            upper: vec![32.0, 32.0],
            rows: vec![(vec![(0, 1.0), (1, 1.0)], 10.0)],
        };
        assert_eq!(p.solve(), None);
    }

    /// Packing programs shaped like the throughput stage's: up to 16 sessions with floors and
    /// ceilings in amperes, rows of phase currents (coefficients 0–1) and of power (W per A).
    fn packing() -> impl Strategy<Value = Packing> {
        (1usize..16, 1usize..12).prop_flat_map(|(n, m)| {
            (
                prop::collection::vec(100.0f64..700.0, n),
                prop::collection::vec((0.0f64..1.0, 0.0f64..26.0), n),
                prop::collection::vec(
                    (
                        prop::collection::vec(
                            prop::option::weighted(0.6, prop_oneof![Just(1.0), 0.0f64..1.0]),
                            n,
                        ),
                        // Rows exactly at the floors or the ceilings: degenerate corners.
                        prop_oneof![Just(0.0), Just(1.0), 0.0f64..1.0],
                        any::<bool>(),
                    ),
                    m,
                ),
            )
                .prop_map(move |(c, bounds, rows)| {
                    let lower: Vec<f64> = bounds
                        .iter()
                        .map(|&(f, _)| if f < 0.5 { 0.0 } else { 6.0 * f })
                        .collect();
                    let upper: Vec<f64> = bounds
                        .iter()
                        .zip(&lower)
                        .map(|(&(_, s), l)| l + s)
                        .collect();
                    let rows = rows
                        .into_iter()
                        .map(|(coefs, tight, power)| {
                            let scale = if power { 230.0 } else { 1.0 };
                            let terms: Vec<(usize, f64)> = coefs
                                .iter()
                                .enumerate()
                                .filter_map(|(j, a)| a.map(|a| (j, a * scale)))
                                .collect();
                            // Between what the floors need and what the ceilings would draw.
                            let least: f64 = terms.iter().map(|&(j, a)| a * lower[j]).sum();
                            let most: f64 = terms.iter().map(|&(j, a)| a * upper[j]).sum();
                            (terms, least + tight * (most - least))
                        })
                        .collect();
                    Packing {
                        c,
                        lower,
                        upper,
                        rows,
                    }
                })
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        /// Pinning variables at 0 and raising lower bounds to at most their values, then
        /// climbing on from the optimum, reaches what an independent solver reaches on the
        /// program with those bounds from scratch.
        #[test]
        fn a_tightened_program_resumed_agrees_with_a_cold_solve(
            p in packing(),
            picks in prop::collection::vec(
                (any::<bool>(), prop_oneof![Just(1.0), 0.0f64..1.0]),
                16,
            ),
        ) {
            let mut solver = p.solver().expect("a feasible bounded program has an optimum");
            let x = solver.x();
            let mut tight = p.clone();
            let (mut zero, mut raise) = (Vec::new(), Vec::new());
            for (j, &(pin, share)) in picks.iter().enumerate().take(p.c.len()) {
                if pin && p.lower[j] == 0.0 {
                    zero.push(j);
                    tight.upper[j] = 0.0;
                } else if !pin {
                    let l = p.lower[j] + share * (x[j] - p.lower[j]);
                    raise.push((j, l));
                    tight.lower[j] = l;
                }
            }
            prop_assert!(solver.tighten(&zero, &raise).is_some());
            let y = solver.x();
            prop_assert!(feasible(&tight, &y), "{y:?}");
            let want = reference(&tight).expect("microlp solves it too");
            let got = objective(&tight, &y);
            prop_assert!((got - want).abs() <= 1e-6 * want.abs().max(1.0), "{got} vs {want}");
        }

        /// On every such program it keeps every bound and row and reaches the objective an
        /// independent solver reaches.
        #[test]
        fn it_agrees_with_an_independent_solver(p in packing()) {
            let x = p.solve().expect("a feasible bounded program has an optimum");
            prop_assert!(feasible(&p, &x), "{x:?}");
            let want = reference(&p).expect("microlp solves it too");
            let got = objective(&p, &x);
            prop_assert!((got - want).abs() <= 1e-6 * want.abs().max(1.0), "{got} vs {want}");
        }
    }
}
