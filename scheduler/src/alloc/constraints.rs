//! A site's limit tree flattened into linear packing constraints over the sessions' per-phase
//! currents. Every kW limit and every per-phase ampere limit of every node becomes one row
//! `sum(coef * current) <= cap`; a session appears in the rows of the nodes on its path to the
//! root (kW rows with coefficient volts × phases, ampere rows of the phases it draws on with 1).
//! Every algorithm works on these rows, so all of them check limits in exactly the same way.

use chargegrid_core::limits::{Phase, PhaseCurrents};
use chargegrid_core::{Amperes, Watts};

use super::problem::SiteProblem;

/// Currents handed out from slack stay this far (in amperes) below the exact limit, so rounding
/// in the arithmetic can never tip a node over.
pub(crate) const SAFETY_AMPS: f64 = 1e-7;

/// The packing rows of one site, with both directions of the session ↔ row incidence.
#[derive(Debug, Clone)]
pub(crate) struct Constraints {
    /// Capacity of each row (W for power rows, A for current rows); `f64::INFINITY` if open.
    pub cap: Vec<f64>,
    /// Row of the root's power limit (always present; infinite when the root has none).
    pub site_power: usize,
    /// Rows of the root's per-phase current limits, if it has them.
    pub root_phases: Option<[usize; 3]>,
    session_start: Vec<usize>,
    session_rows: Vec<(usize, f64)>,
    row_start: Vec<usize>,
    row_sessions: Vec<usize>,
}

impl Constraints {
    /// Flattens a (validated) problem.
    pub fn build(problem: &SiteProblem) -> Self {
        let mut cap = Vec::new();
        // For each node: its power row and its three phase rows, if limited.
        let mut power_row = vec![None; problem.nodes.len()];
        let mut phase_rows: Vec<Option<[usize; 3]>> = vec![None; problem.nodes.len()];
        for (i, node) in problem.nodes.iter().enumerate() {
            if let Some(p) = node.limit.max_power {
                power_row[i] = Some(cap.len());
                cap.push(p.0);
            } else if i == 0 {
                power_row[i] = Some(cap.len());
                cap.push(f64::INFINITY);
            }
            if let Some(c) = node.limit.max_current {
                let first = cap.len();
                cap.extend(c.0.iter().map(|a| a.0));
                phase_rows[i] = Some([first, first + 1, first + 2]);
            }
        }
        let mut session_start = Vec::with_capacity(problem.sessions.len() + 1);
        let mut session_rows = Vec::new();
        for s in &problem.sessions {
            session_start.push(session_rows.len());
            let wpa = s.watts_per_amp();
            let mut node = Some(s.node);
            while let Some(n) = node {
                if let Some(r) = power_row[n] {
                    session_rows.push((r, wpa));
                }
                if let Some(rows) = phase_rows[n] {
                    for phase in Phase::ALL {
                        if s.uses(phase) {
                            session_rows.push((rows[phase.index()], 1.0));
                        }
                    }
                }
                node = problem.nodes[n].parent;
            }
        }
        session_start.push(session_rows.len());

        // Reverse incidence (row -> sessions), by counting sort.
        let mut row_start = vec![0usize; cap.len() + 1];
        for &(r, _) in &session_rows {
            row_start[r + 1] += 1;
        }
        for r in 0..cap.len() {
            row_start[r + 1] += row_start[r];
        }
        let mut fill = row_start.clone();
        let mut row_sessions = vec![0usize; session_rows.len()];
        for s in 0..problem.sessions.len() {
            for &(r, _) in &session_rows[session_start[s]..session_start[s + 1]] {
                row_sessions[fill[r]] = s;
                fill[r] += 1;
            }
        }
        Self {
            cap,
            site_power: power_row[0].unwrap_or(0),
            root_phases: phase_rows[0],
            session_start,
            session_rows,
            row_start,
            row_sessions,
        }
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.cap.len()
    }

    /// The rows session `s` appears in, with its coefficient in each.
    pub fn rows_of(&self, s: usize) -> &[(usize, f64)] {
        &self.session_rows[self.session_start[s]..self.session_start[s + 1]]
    }

    /// The sessions in row `r`.
    pub fn sessions_in(&self, r: usize) -> &[usize] {
        &self.row_sessions[self.row_start[r]..self.row_start[r + 1]]
    }

    /// The load of every row for the currents `x`.
    pub fn loads(&self, x: &[f64]) -> Vec<f64> {
        let mut load = vec![0.0; self.rows()];
        for (s, &xs) in x.iter().enumerate() {
            if xs != 0.0 {
                self.add(&mut load, s, xs);
            }
        }
        load
    }

    /// Adds `delta` amperes of session `s` to the loads.
    pub fn add(&self, load: &mut [f64], s: usize, delta: f64) {
        for &(r, c) in self.rows_of(s) {
            load[r] += c * delta;
        }
    }

    /// How many more amperes session `s` can take before a row on its path is full
    /// (infinite when no row limits it), kept [`SAFETY_AMPS`] below the exact value.
    pub fn slack(&self, load: &[f64], s: usize) -> f64 {
        self.slack_under(&self.cap, load, s)
    }

    /// Like [`Constraints::slack`], against other (tighter) capacities `cap`.
    pub fn slack_under(&self, cap: &[f64], load: &[f64], s: usize) -> f64 {
        let mut best = f64::INFINITY;
        for &(r, c) in self.rows_of(s) {
            if cap[r].is_finite() {
                best = best.min((cap[r] - load[r]) / c);
            }
        }
        if best.is_finite() {
            (best - SAFETY_AMPS).max(0.0)
        } else {
            best
        }
    }

    /// Whether a row is over its capacity by more than rounding.
    pub fn is_over(&self, load: &[f64], r: usize) -> bool {
        load[r] > self.cap[r] + 1e-9 * self.cap[r].abs().max(1.0)
    }

    /// The root's idle power and per-phase current after loads `load`.
    pub fn root_idle(&self, load: &[f64]) -> (Option<Watts>, Option<PhaseCurrents>) {
        let r = self.site_power;
        let power = self.cap[r]
            .is_finite()
            .then(|| Watts((self.cap[r] - load[r]).max(0.0)));
        let current = self
            .root_phases
            .map(|rows| PhaseCurrents(rows.map(|r| Amperes((self.cap[r] - load[r]).max(0.0)))));
        (power, current)
    }
}
