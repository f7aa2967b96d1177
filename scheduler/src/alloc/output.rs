//! The answer of one allocation: a current per session and what the site has left.

use chargegrid_core::limits::PhaseCurrents;
use chargegrid_core::{Amperes, Watts};
use serde::{Deserialize, Serialize};

/// What one session may draw until the next decision.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionAllocation {
    /// The per-phase current to signal (0, or between the session's minimum and maximum, on
    /// one of its pilot steps).
    pub current: Amperes,
    /// The same current placed on the site phases the session draws on.
    pub phases: PhaseCurrents,
    /// The power this current draws.
    pub power: Watts,
}

/// What the site's grid connection still has after this allocation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Headroom {
    /// Idle power at the root, or `None` when the root has no power limit.
    pub power: Option<Watts>,
    /// Idle current per phase at the root, or `None` when the root has no current limit.
    pub current: Option<PhaseCurrents>,
    /// Power handed out above the sessions' minimum currents: what could be re-shared at the
    /// next decision to start a newly arrived vehicle at its floor.
    pub above_floors: Watts,
}

/// The allocation of one site.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SiteAllocation {
    /// One entry per session of the problem, in the same order.
    pub sessions: Vec<SessionAllocation>,
    /// What is left at the root.
    pub headroom: Headroom,
}

impl SiteAllocation {
    /// Total power handed out.
    pub fn total_power(&self) -> Watts {
        self.sessions.iter().map(|s| s.power).sum()
    }
}
