//! chargegrid's scheduler: decides how much power each charging session gets.
//!
//! [`alloc`] is the pure allocation core (no I/O); [`replay`] runs it, and the published
//! baselines, offline over recorded ACN-Data sessions to measure energy delivered, limit
//! safety, cost and speed. The control loop over the store comes next, on top of [`alloc`].

pub mod alloc;
pub mod replay;
