//! Power allocation: given a site's tree of limits and its active sessions, decide the current
//! each session may draw until the next decision. Pure and synchronous: no I/O, no clock (the
//! decision time comes in [`AllocContext`]), so it is tested and benchmarked in isolation and
//! the control loop only gathers inputs and sends the answer.
//!
//! Objectives, in strict order: never exceed a limit (kW or per-phase current at any node, the
//! 0-or-floor rule, pilot steps); energy delivered by departure; time-of-use cost; the month's
//! peak; fairness; smooth changes. [`Policy::Chargegrid`] is our algorithm (see
//! [`chargegrid`]); the acnportal baselines sit beside it behind the same [`allocate`] call.
//! Sites are independent: allocate each on its own ([`allocate_sites`]).

mod bounds;
pub mod chargegrid;
mod constraints;
mod draw;
mod error;
mod exact;
mod horizon;
pub(crate) mod lexi;
pub(crate) mod maxflow;
mod output;
mod pilot;
mod policy;
mod problem;
mod repair;
mod round_robin;
mod simplex;
mod sorted;
mod throughput;
mod uncontrolled;
mod waterfill;

pub use draw::{DrawRule, DrawRuleError};
pub use error::AllocError;
pub use output::{Headroom, SessionAllocation, SiteAllocation};
pub use policy::{Allocator, Policy, UnknownPolicy, allocate, allocate_sites};
pub use problem::{AllocContext, LimitNode, PilotSteps, SessionDemand, SiteProblem, TouSignal};
