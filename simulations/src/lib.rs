//! chargegrid-simulations: charger and EV simulators, scenarios and load runs that exercise the
//! chargegrid server as a black box (over OCPP, never through its internals).
//!
//! [`battery`] holds the synthetic EV battery model with known ground truth, used to generate
//! charging sessions whose true state of health is known.

pub mod battery;
