//! The allocation policies behind one function shape, so the control loop, the replay and the
//! benchmarks can swap chargegrid for a baseline with a single argument.

use std::fmt;
use std::str::FromStr;

use chargegrid_core::limits::{Phase, PhaseCurrents};
use chargegrid_core::{Amperes, Watts};
use serde::{Deserialize, Serialize};

use super::constraints::Constraints;
use super::error::AllocError;
use super::output::{Headroom, SessionAllocation, SiteAllocation};
use super::problem::{AllocContext, SiteProblem};
use super::{chargegrid, round_robin, sorted, uncontrolled};

/// Anything that turns one site's problem into currents.
pub trait Allocator {
    /// Allocates one site. Only a malformed problem is an error.
    fn allocate(
        &self,
        problem: &SiteProblem,
        ctx: &AllocContext,
    ) -> Result<SiteAllocation, AllocError>;
}

/// The built-in policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Policy {
    /// chargegrid's deadline-aware water-filling (see [`super::chargegrid`]).
    Chargegrid,
    /// Every vehicle at its maximum, limits ignored (reference only; breaks limits).
    Uncontrolled,
    /// acnportal's RoundRobin: equal shares in pilot-step increments.
    RoundRobin,
    /// acnportal's earliest deadline first: greedy by departure.
    Edf,
    /// acnportal's least laxity first: greedy by laxity.
    Llf,
}

impl Policy {
    /// Every policy, chargegrid first.
    pub const ALL: [Policy; 5] = [
        Policy::Chargegrid,
        Policy::Uncontrolled,
        Policy::RoundRobin,
        Policy::Edf,
        Policy::Llf,
    ];

    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Policy::Chargegrid => "chargegrid",
            Policy::Uncontrolled => "uncontrolled",
            Policy::RoundRobin => "round-robin",
            Policy::Edf => "edf",
            Policy::Llf => "llf",
        }
    }

    /// Whether the policy promises to keep every limit (all but uncontrolled).
    pub fn respects_limits(self) -> bool {
        self != Policy::Uncontrolled
    }
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An unknown policy name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown allocation policy {0:?} (chargegrid, uncontrolled, round-robin, edf, llf)")]
pub struct UnknownPolicy(pub String);

impl FromStr for Policy {
    type Err = UnknownPolicy;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Policy::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| UnknownPolicy(s.to_string()))
    }
}

impl Allocator for Policy {
    fn allocate(
        &self,
        problem: &SiteProblem,
        ctx: &AllocContext,
    ) -> Result<SiteAllocation, AllocError> {
        allocate(*self, problem, ctx)
    }
}

/// Allocates one site with `policy`.
pub fn allocate(
    policy: Policy,
    problem: &SiteProblem,
    ctx: &AllocContext,
) -> Result<SiteAllocation, AllocError> {
    problem.validate()?;
    let cons = Constraints::build(problem);
    let x = match policy {
        Policy::Chargegrid => chargegrid::allocate(problem, ctx, &cons),
        Policy::Uncontrolled => uncontrolled::allocate(problem, ctx),
        Policy::RoundRobin => round_robin::allocate(problem, ctx, &cons),
        Policy::Edf => sorted::edf(problem, ctx, &cons),
        Policy::Llf => sorted::llf(problem, ctx, &cons),
    };
    Ok(assemble(problem, &cons, &x))
}

/// Allocates many independent sites (each is its own problem).
pub fn allocate_sites(
    policy: Policy,
    problems: &[SiteProblem],
    ctx: &AllocContext,
) -> Result<Vec<SiteAllocation>, AllocError> {
    problems.iter().map(|p| allocate(policy, p, ctx)).collect()
}

/// Turns per-session currents into the public answer.
fn assemble(problem: &SiteProblem, cons: &Constraints, x: &[f64]) -> SiteAllocation {
    let mut above_floors = 0.0;
    let sessions = problem
        .sessions
        .iter()
        .zip(x)
        .map(|(s, &a)| {
            if a > 0.0 {
                above_floors += (a - s.min_current.0).max(0.0) * s.watts_per_amp();
            }
            let mut phases = PhaseCurrents::default();
            for p in Phase::ALL {
                if s.uses(p) {
                    phases.0[p.index()] = Amperes(a);
                }
            }
            SessionAllocation {
                current: Amperes(a),
                phases,
                power: Watts(a * s.watts_per_amp()),
            }
        })
        .collect();
    let load = cons.loads(x);
    let (power, current) = cons.root_idle(&load);
    SiteAllocation {
        sessions,
        headroom: Headroom {
            power,
            current,
            above_floors: Watts(above_floors),
        },
    }
}
