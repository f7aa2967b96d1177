//! A site's limit tree flattened into linear packing constraints over the sessions' per-phase
//! currents. Every kW limit and every per-phase ampere limit of every node becomes rows
//! `sum(coef * current) <= cap`; a session appears in the rows of the nodes on its path to the
//! root (kW rows with coefficient watts per ampere, ampere rows of the lines it draws on).
//! Every algorithm works on these rows, so all of them check limits in exactly the same way.
//!
//! A line's current is the magnitude of a phasor sum ([`chargegrid_core::phasor`]). When all
//! loads under a node put their current on a line at the same angle (line-to-neutral and
//! three-phase loads), that is a plain sum: one row with coefficient 1. When line-to-line loads
//! put theirs 30° early or late, the exact limit is a circle, not a row; it is replaced by the
//! few rows of a polygon inside it: for directions φ spread over the loads' angles at most 5°
//! apart, `Σ max(0, |c| cos(angle − φ)) · current ≤ cap · cos δ`, which can never let the true
//! magnitude over the cap and gives away at most 1 − cos 5° ≈ 0.4 % of it (adding the currents
//! instead would give away up to 13 %). 10° (1.5 %) was used until chargegrid planned over the
//! stays ([`super::throughput`]); with the plan, 5° delivers 0.02–0.17 points more energy on
//! every Caltech ACN window replayed (docs/BENCHMARKS.md), since a plan made inside a looser
//! polygon underrates what later periods can carry.

use chargegrid_core::limits::{Phase, PhaseCurrents};
use chargegrid_core::network::Wiring;
use chargegrid_core::phasor::{PRIMARY_PAIRS, Phasor};
use chargegrid_core::{Amperes, Watts};

use super::problem::SiteProblem;

/// Currents handed out from slack stay this far (in amperes) below the exact limit, so rounding
/// in the arithmetic can never tip a node over.
pub(crate) const SAFETY_AMPS: f64 = 1e-7;

/// Largest half-angle between a line's polygon directions, degrees.
const POLYGON_HALF_ANGLE: f64 = 5.0;

/// The packing rows of one site, with both directions of the session ↔ row incidence.
#[derive(Debug, Clone)]
pub(crate) struct Constraints {
    /// Capacity of each row (W for power rows, A for current rows); `f64::INFINITY` if open.
    pub cap: Vec<f64>,
    /// Row of the root's power limit (always present; infinite when the root has none).
    pub site_power: usize,
    /// The rows of the root's per-phase current limits (first row, count per phase), if it has
    /// them.
    pub root_phases: Option<[(usize, usize); 3]>,
    /// Whether some limited current carries loads at more than one angle (line-to-line EVSEs
    /// meeting on a line, a delta primary): where the split of currents changes the power the
    /// limits allow.
    pub phasor_rows: bool,
    session_start: Vec<usize>,
    session_rows: Vec<(usize, f64)>,
    row_start: Vec<usize>,
    row_sessions: Vec<usize>,
}

/// How a quantity's loads are bounded: exact rows when they all share one angle, else a
/// polygon inside the circle.
#[derive(Debug, Clone)]
enum Shape {
    /// One row, each load at its magnitude (exact when the loads share an angle; a safe bound
    /// when they are spread over half a turn or more).
    Sum,
    /// Rows along these directions (unit phasors).
    Polygon(Vec<Phasor>),
}

/// The rows for loads at `angles` (degrees, distinct; sorted here): their shape and capacity
/// factor.
fn polygon(angles: &mut [f64]) -> (Shape, f64) {
    angles.sort_by(f64::total_cmp);
    if angles.len() <= 1 {
        return (Shape::Sum, 1.0);
    }
    // The shortest arc holding every angle starts after the widest gap between neighbours.
    let n = angles.len();
    let (mut gap, mut after) = (angles[0] + 360.0 - angles[n - 1], 0);
    for i in 1..n {
        if angles[i] - angles[i - 1] > gap {
            gap = angles[i] - angles[i - 1];
            after = i;
        }
    }
    let arc = 360.0 - gap;
    if arc >= 180.0 {
        // Their sum can point anywhere: bound it by the sum of magnitudes.
        return (Shape::Sum, 1.0);
    }
    let count = (arc / (2.0 * POLYGON_HALF_ANGLE)).ceil().max(1.0);
    let half = arc / (2.0 * count);
    let first = angles[after] + half;
    let dirs = (0..count as usize)
        .map(|i| Phasor::polar(1.0, first + 2.0 * half * i as f64))
        .collect();
    (Shape::Polygon(dirs), half.to_radians().cos())
}

/// One current a node limits: a line of its own side, or a line of a delta primary.
#[derive(Debug, Clone, Copy)]
enum Current {
    /// Line `l` (0–2).
    Line(usize),
    /// The primary line carrying (line `x` − line `y`) ÷ `ratio`.
    Primary { x: usize, y: usize, ratio: f64 },
}

impl Current {
    /// What one ampere of a session with line phasors `lines` puts on it.
    fn phasor(self, lines: &[Phasor; 3]) -> Phasor {
        match self {
            Current::Line(l) => lines[l],
            Current::Primary { x, y, ratio } => (lines[x] - lines[y]) * (1.0 / ratio),
        }
    }
}

/// A limited current of a node and where its rows are.
#[derive(Debug, Clone)]
struct Limited {
    what: Current,
    cap: f64,
    angles: Vec<f64>,
    shape: Shape,
    first_row: usize,
}

impl Limited {
    fn rows(&self) -> usize {
        match &self.shape {
            Shape::Sum => 1,
            Shape::Polygon(d) => d.len(),
        }
    }
}

impl Constraints {
    /// Flattens a (validated) problem.
    pub fn build(problem: &SiteProblem) -> Self {
        let nodes = problem.nodes.len();
        // Each node's limited currents, and the angles its loads put current on them at.
        let mut limited: Vec<Vec<Limited>> = problem
            .nodes
            .iter()
            .map(|node| {
                let mut out = Vec::new();
                let mut add = |what, cap| {
                    out.push(Limited {
                        what,
                        cap,
                        angles: Vec::new(),
                        shape: Shape::Sum,
                        first_row: 0,
                    })
                };
                if let Some(c) = node.limit.max_current {
                    for (l, a) in c.0.iter().enumerate() {
                        add(Current::Line(l), a.0);
                    }
                }
                if let Some(t) = node.delta_primary {
                    for (x, y) in PRIMARY_PAIRS {
                        add(
                            Current::Primary {
                                x,
                                y,
                                ratio: t.turns_ratio,
                            },
                            t.max_current.0,
                        );
                    }
                }
                out
            })
            .collect();
        // Line-to-neutral and three-phase loads put a line's current at that line's own angle
        // and no delta primary mixes lines: every limited current is then a plain sum, and
        // the angles need not be gathered.
        let mixed = problem
            .sessions
            .iter()
            .any(|s| matches!(s.wiring, Wiring::LineToLine(_)))
            || problem.nodes.iter().any(|n| n.delta_primary.is_some());
        let per_amp: Vec<[Phasor; 3]> = if mixed {
            problem
                .sessions
                .iter()
                .map(|s| s.wiring.line_phasors())
                .collect()
        } else {
            Vec::new()
        };
        // Sessions of one wiring at one node put the same angles on the same currents.
        let mut seen: Vec<(usize, Wiring)> = Vec::new();
        for (s, lines) in problem.sessions.iter().zip(&per_amp) {
            if seen.contains(&(s.node, s.wiring)) {
                continue;
            }
            seen.push((s.node, s.wiring));
            let mut node = Some(s.node);
            while let Some(n) = node {
                for q in &mut limited[n] {
                    let p = q.what.phasor(lines);
                    if p.norm() > 1e-12 {
                        let a = p.degrees();
                        if !q.angles.iter().any(|b| (a - b).abs() < 1e-6) {
                            q.angles.push(a);
                        }
                    }
                }
                node = problem.nodes[n].parent;
            }
        }
        let mut cap = Vec::new();
        let mut power_row = vec![None; nodes];
        for (i, node) in problem.nodes.iter().enumerate() {
            if let Some(p) = node.limit.max_power {
                power_row[i] = Some(cap.len());
                cap.push(p.0);
            } else if i == 0 {
                power_row[i] = Some(cap.len());
                cap.push(f64::INFINITY);
            }
            for q in &mut limited[i] {
                let (shape, factor) = polygon(&mut q.angles);
                q.shape = shape;
                q.first_row = cap.len();
                cap.extend(std::iter::repeat_n(q.cap * factor, q.rows()));
            }
        }
        let mut session_start = Vec::with_capacity(problem.sessions.len() + 1);
        let mut session_rows = Vec::new();
        for (i, s) in problem.sessions.iter().enumerate() {
            session_start.push(session_rows.len());
            let wpa = s.watts_per_amp();
            let mut node = Some(s.node);
            while let Some(n) = node {
                if let Some(r) = power_row[n] {
                    session_rows.push((r, wpa));
                }
                for q in &limited[n] {
                    if !mixed {
                        // Only lines, each a plain sum: 1 on the lines the session draws on.
                        if let Current::Line(l) = q.what
                            && s.uses(Phase::ALL[l])
                        {
                            session_rows.push((q.first_row, 1.0));
                        }
                        continue;
                    }
                    let p = q.what.phasor(&per_amp[i]);
                    if p.norm() <= 1e-12 {
                        continue;
                    }
                    match &q.shape {
                        Shape::Sum => session_rows.push((q.first_row, p.norm())),
                        Shape::Polygon(dirs) => {
                            for (k, dir) in dirs.iter().enumerate() {
                                let coef = p.along(*dir);
                                if coef > 1e-12 {
                                    session_rows.push((q.first_row + k, coef));
                                }
                            }
                        }
                    }
                }
                node = problem.nodes[n].parent;
            }
        }
        session_start.push(session_rows.len());
        let phasor_rows = limited.iter().flatten().any(|q| {
            matches!(q.shape, Shape::Polygon(_))
                || matches!(q.what, Current::Primary { .. }) && !q.angles.is_empty()
        });
        let root_phases = problem.nodes[0]
            .limit
            .max_current
            .map(|_| std::array::from_fn(|l| (limited[0][l].first_row, limited[0][l].rows())));

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
            root_phases,
            phasor_rows,
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
        let mut load = Vec::new();
        self.loads_into(x, &mut load);
        load
    }

    /// [`Constraints::loads`] into `load`, reusing its buffer.
    pub fn loads_into(&self, x: &[f64], load: &mut Vec<f64>) {
        load.clear();
        load.resize(self.rows(), 0.0);
        for (s, &xs) in x.iter().enumerate() {
            if xs != 0.0 {
                self.add(load, s, xs);
            }
        }
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
        let current = self.root_phases.map(|lines| {
            PhaseCurrents(lines.map(|(first, count)| {
                let idle = (first..first + count)
                    .map(|r| self.cap[r] - load[r])
                    .fold(f64::INFINITY, f64::min);
                Amperes(idle.max(0.0))
            }))
        });
        (power, current)
    }
}
