//! The OCPP 2.0.1 handlers: one per charging station → CSMS action, translating into the same
//! version-neutral operations as 1.6, so sessions, needs and status look identical to the
//! rest of chargegrid whichever version a charger speaks. [`crate::routing`] routes CALLs to
//! them.

pub(crate) mod boot;
pub(crate) mod needs;
pub(crate) mod notifications;
pub(crate) mod transactions;
