//! How a scenario drives a running charger (plug an EV in, cut its network, finish) and what
//! the charger tells the scenario back (booted, an EVSE became free).

use chargegrid_core::EvseId;
use std::time::Duration;

use crate::ev::EvPlan;

/// A request to a running charger.
#[derive(Debug)]
pub enum ChargerControl {
    /// An EV plugs into `evse` and starts charging with its own token.
    Plug {
        /// The EVSE.
        evse: EvseId,
        /// The car and its driver's plan.
        ev: Box<EvPlan>,
    },
    /// The network drops for this long (wall time): the socket closes and transaction messages
    /// are queued until the charger is back.
    Outage(Duration),
    /// End of the run: stop running transactions, deliver every queued message, close.
    Finish,
}

/// A report from a charger to the scenario.
#[derive(Debug, Clone, PartialEq)]
pub enum ChargerEvent {
    /// BootNotification was accepted (each time it is).
    Booted {
        /// Index of the charger in the run.
        charger: usize,
    },
    /// An EVSE is free again (its EV left, or it became operative).
    EvseFree {
        /// Index of the charger in the run.
        charger: usize,
        /// The EVSE.
        evse: EvseId,
        /// The EV that left, if one did.
        ev: Option<u64>,
    },
    /// An EV could not plug in (EVSE inoperative or busy); the scenario may send it elsewhere.
    Refused {
        /// Index of the charger in the run.
        charger: usize,
        /// The EVSE.
        evse: EvseId,
        /// The EV.
        ev: Box<EvPlan>,
    },
}
