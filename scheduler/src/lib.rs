//! chargegrid's scheduler: decides how much power each charging session gets.
//!
//! [`alloc`] is the pure allocation core (no I/O); [`replay`] runs it, and the published
//! baselines, offline over recorded ACN-Data sessions to measure energy delivered, limit
//! safety, cost and speed; [`control`] is the live control loop over the store: it runs
//! [`alloc`] per site and drives real chargers with charging profiles through the command bus.

pub mod alloc;
pub mod control;
pub mod replay;
