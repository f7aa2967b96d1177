//! Network-level smart charging: where a driver should go. A spatial index finds stations near
//! a point; a live snapshot of each (connectors, sessions, the scheduler's allocation, limit
//! windows, reservations, drivers already sent there) becomes an expected charging power and
//! finish time; a documented score ranks them (see `docs/dispatch.md`).

pub(crate) mod index;
pub(crate) mod ranking;
pub(crate) mod snapshot;
