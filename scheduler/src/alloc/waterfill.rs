//! Progressive filling ("water-filling") through the packing rows of a site.
//!
//! Every session follows a straight line in a common level `t`: its current is
//! `clamp(alpha + beta * t, lo, hi)`. The level rises from low to high; a session starts
//! rising once its line passes its floor, stops at its ceiling, and is frozen as soon as any row
//! on its path is full. With `alpha = 0, beta = 1` this is plain max-min fairness in amperes;
//! chargegrid uses lines that equalise the sessions' urgency after this period instead.
//! The run is event-driven: each step jumps straight to the next event (a row filling up, a
//! session reaching its ceiling or its floor), so it costs O(events × path entries).

use super::constraints::Constraints;

/// Where a session is in the fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Sitting at its floor until its line reaches it.
    Waiting,
    /// Following its line.
    Rising,
    /// Done: at its ceiling, or under a full row.
    Frozen,
}

/// Tolerance on currents when detecting events, in amperes.
const EPS_AMPS: f64 = 1e-9;

/// One fill in progress.
pub(crate) struct Fill<'a> {
    cons: &'a Constraints,
    /// Row capacities (a copy, so soft caps can tighten them).
    cap: Vec<f64>,
    alpha: Vec<f64>,
    beta: Vec<f64>,
    lo: Vec<f64>,
    hi: Vec<f64>,
    x: Vec<f64>,
    state: Vec<State>,
    full: Vec<bool>,
    t: f64,
    /// The rows' loads at the present currents: recomputed at the end of every settle, after
    /// which no current changes until the next step.
    load: Vec<f64>,
}

impl<'a> Fill<'a> {
    /// Starts a fill with every session at `lo` (which must be feasible). `beta` must be > 0.
    pub fn new(
        cons: &'a Constraints,
        lo: Vec<f64>,
        hi: Vec<f64>,
        alpha: Vec<f64>,
        beta: Vec<f64>,
    ) -> Self {
        let n = lo.len();
        let mut t = f64::INFINITY;
        let mut state = vec![State::Frozen; n];
        for s in 0..n {
            if hi[s] > lo[s] + EPS_AMPS {
                state[s] = State::Waiting;
                t = t.min((lo[s] - alpha[s]) / beta[s]);
            }
        }
        let mut fill = Self {
            cons,
            cap: cons.cap.clone(),
            x: lo.clone(),
            alpha,
            beta,
            lo,
            hi,
            state,
            full: vec![false; cons.rows()],
            t: if t.is_finite() { t } else { 0.0 },
            load: Vec::with_capacity(cons.rows()),
        };
        fill.settle();
        fill
    }

    /// The row capacities in force (soft caps included).
    pub fn caps(&self) -> &[f64] {
        &self.cap
    }

    /// Whether row `r` filled up during the run.
    pub fn is_full(&self, r: usize) -> bool {
        self.full[r]
    }

    /// Stops session `s` where it is.
    pub fn freeze(&mut self, s: usize) {
        self.state[s] = State::Frozen;
    }

    /// Lowers row `r`'s capacity to `cap` (never below its present load), freezing its
    /// sessions if that fills it.
    pub fn tighten(&mut self, r: usize, cap: f64) {
        let load = self.row_load(r);
        self.cap[r] = self.cap[r].min(cap.max(load));
        self.settle();
    }

    /// Raises the level to `t_stop` (or until every session is frozen).
    pub fn run_until(&mut self, t_stop: f64) {
        let rows = self.cons.rows();
        let mut slope = vec![0.0; rows];
        // Every step fills a row or moves a session on; the bound only guards against rounding.
        for _ in 0..4 * (rows + self.x.len()) + 16 {
            if self.t >= t_stop {
                return;
            }
            // How fast the loads grow with the level (the loads themselves are those of the
            // last settle: every change of a current ends in one).
            slope.iter_mut().for_each(|v| *v = 0.0);
            let mut any = false;
            for s in 0..self.x.len() {
                match self.state[s] {
                    State::Rising => {
                        any = true;
                        for &(r, c) in self.cons.rows_of(s) {
                            slope[r] += c * self.beta[s];
                        }
                    }
                    State::Waiting => any = true,
                    State::Frozen => {}
                }
            }
            if !any {
                return;
            }
            // The next event.
            let mut dt = t_stop - self.t;
            for (r, &sl) in slope.iter().enumerate() {
                if !self.full[r] && sl > 0.0 && self.cap[r].is_finite() {
                    dt = dt.min(((self.cap[r] - self.load[r]) / sl).max(0.0));
                }
            }
            for s in 0..self.x.len() {
                let line = self.alpha[s] + self.beta[s] * self.t;
                match self.state[s] {
                    State::Rising => dt = dt.min(((self.hi[s] - line) / self.beta[s]).max(0.0)),
                    State::Waiting => dt = dt.min(((self.lo[s] - line) / self.beta[s]).max(0.0)),
                    State::Frozen => {}
                }
            }
            if !dt.is_finite() {
                return;
            }
            self.t += dt;
            for s in 0..self.x.len() {
                if self.state[s] == State::Rising {
                    let line = self.alpha[s] + self.beta[s] * self.t;
                    self.x[s] = line.clamp(self.lo[s], self.hi[s]);
                }
            }
            // Rows that the step filled (by the slope prediction, which is exact up to
            // rounding) freeze their sessions.
            for (r, &sl) in slope.iter().enumerate() {
                if !self.full[r]
                    && sl > 0.0
                    && self.load[r] + sl * dt >= self.cap[r] - 1e-9 * self.cap[r].abs().max(1.0)
                {
                    self.fill_row(r);
                }
            }
            self.settle();
        }
    }

    /// Processes events at the present level: sessions at their ceiling stop, sessions whose
    /// line reached their floor start rising, full rows freeze their sessions.
    fn settle(&mut self) {
        for s in 0..self.x.len() {
            let line = self.alpha[s] + self.beta[s] * self.t;
            match self.state[s] {
                State::Rising if line >= self.hi[s] - EPS_AMPS => {
                    self.x[s] = self.hi[s];
                    self.state[s] = State::Frozen;
                }
                State::Waiting if line >= self.lo[s] - EPS_AMPS => {
                    self.state[s] = if line >= self.hi[s] - EPS_AMPS {
                        State::Frozen
                    } else {
                        State::Rising
                    };
                    self.x[s] = line.clamp(self.lo[s], self.hi[s]);
                }
                _ => {}
            }
        }
        self.cons.loads_into(&self.x, &mut self.load);
        for r in 0..self.load.len() {
            if !self.full[r] && self.load[r] >= self.cap[r] - 1e-9 * self.cap[r].abs().max(1.0) {
                self.fill_row(r);
            }
        }
    }

    fn fill_row(&mut self, r: usize) {
        self.full[r] = true;
        for &s in self.cons.sessions_in(r) {
            self.state[s] = State::Frozen;
        }
    }

    fn row_load(&self, r: usize) -> f64 {
        self.cons
            .sessions_in(r)
            .iter()
            .map(|&s| {
                let c = self
                    .cons
                    .rows_of(s)
                    .iter()
                    .find(|&&(rr, _)| rr == r)
                    .map_or(0.0, |&(_, c)| c);
                c * self.x[s]
            })
            .sum()
    }

    /// The final currents.
    pub fn into_currents(self) -> Vec<f64> {
        self.x
    }
}

#[cfg(test)]
mod tests {
    use chargegrid_core::limits::{Limit, Phase};
    use chargegrid_core::network::Wiring;
    use chargegrid_core::{Amperes, Volts, WattHours, Watts};

    use super::*;
    use crate::alloc::problem::{LimitNode, SessionDemand, SiteProblem};

    fn site(limit: Limit, wirings: &[Wiring]) -> SiteProblem {
        SiteProblem {
            nodes: vec![LimitNode {
                parent: None,
                limit,
                delta_primary: None,
            }],
            sessions: wirings
                .iter()
                .map(|&w| {
                    SessionDemand::new(0, w, Volts(230.0), Amperes(32.0), WattHours(10_000.0), None)
                })
                .collect(),
        }
    }

    #[test]
    fn equal_lines_share_a_row_equally() {
        let p = site(
            Limit::current(Amperes(30.0)),
            &[Wiring::ThreePhase, Wiring::ThreePhase, Wiring::ThreePhase],
        );
        let cons = Constraints::build(&p);
        let mut f = Fill::new(
            &cons,
            vec![0.0; 3],
            vec![32.0; 3],
            vec![0.0; 3],
            vec![1.0; 3],
        );
        f.run_until(f64::INFINITY);
        for x in f.into_currents() {
            assert!((x - 10.0).abs() < 1e-6, "{x}");
        }
    }

    #[test]
    fn a_capped_session_leaves_its_share_to_the_others() {
        let p = site(
            Limit::power(Watts(230.0 * 40.0)),
            &[
                Wiring::SinglePhase(Phase::L1),
                Wiring::SinglePhase(Phase::L2),
                Wiring::SinglePhase(Phase::L3),
            ],
        );
        let cons = Constraints::build(&p);
        let mut f = Fill::new(
            &cons,
            vec![0.0; 3],
            vec![4.0, 32.0, 32.0],
            vec![0.0; 3],
            vec![1.0; 3],
        );
        f.run_until(f64::INFINITY);
        let x = f.into_currents();
        assert!((x[0] - 4.0).abs() < 1e-6);
        assert!(
            (x[1] - 18.0).abs() < 1e-6 && (x[2] - 18.0).abs() < 1e-6,
            "{x:?}"
        );
    }
}
