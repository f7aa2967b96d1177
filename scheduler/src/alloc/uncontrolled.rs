//! Uncontrolled charging: every vehicle at the most it can take, limits ignored. Only a
//! reference for what a site without smart charging would draw; it breaks limits by design.

use super::bounds::session_bounds;
use super::problem::{AllocContext, SiteProblem};

/// Each session at its ceiling.
pub(crate) fn allocate(problem: &SiteProblem, ctx: &AllocContext) -> Vec<f64> {
    session_bounds(problem, ctx, false).hi
}
