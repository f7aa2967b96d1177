//! Simulated chargers over real WebSockets, OCPP 1.6J or 2.0.1: they boot, heartbeat, report
//! status, run transactions with realistic meter values, obey charging profiles, answer every
//! CSMS call, reconnect with back-off and replay transaction messages queued while offline.
//! Each records, from its own side, the profiles it received and the power it drew.

mod control;
mod csms;
mod link;
mod meter;
mod profiles;
mod record;
mod spec;
mod state;
mod task;
mod transactions;

pub use control::{ChargerControl, ChargerEvent};
pub use link::{Ws, connect};
pub use meter::{Reading, meter_value};
pub use profiles::{ClearCriteria, Kind, Period, Profile, ProfileSet, Purpose};
pub use record::{ChargerRecord, PowerSpan, ProfileReceipt, SessionRecord};
pub use spec::{ChargerSettings, ChargerSpec, EvseSpec, Quirks};

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::clock::SimClock;

/// A running simulated charger.
#[derive(Debug)]
pub struct ChargerHandle {
    /// Requests to the charger.
    pub control: mpsc::UnboundedSender<ChargerControl>,
    /// Resolves to what it recorded once it finished.
    pub task: JoinHandle<ChargerRecord>,
}

/// Where and how a charger runs.
#[derive(Debug, Clone)]
pub struct ChargerRun {
    /// Index in the run (reported back in events).
    pub index: usize,
    /// OCPP base URL, e.g. `ws://127.0.0.1:9000/ocpp`.
    pub base_url: String,
    /// Simulated time.
    pub clock: SimClock,
    /// Timing.
    pub settings: ChargerSettings,
    /// Random seed (meter register start, back-off jitter).
    pub seed: u64,
    /// When to connect first (wall).
    pub start: Instant,
}

/// Starts a simulated charger task.
pub fn spawn_charger(
    spec: ChargerSpec,
    run: ChargerRun,
    events: mpsc::UnboundedSender<ChargerEvent>,
) -> ChargerHandle {
    let (control, rx) = mpsc::unbounded_channel();
    let charger = task::SimCharger::new(
        run.index,
        spec,
        run.settings,
        run.clock,
        run.base_url,
        events,
        run.seed,
        run.start,
    );
    ChargerHandle {
        control,
        task: tokio::spawn(charger.run(rx)),
    }
}

#[cfg(test)]
mod tests;
