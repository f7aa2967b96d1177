//! The live state of one EVSE: availability, reservation, the plugged-in car, the running
//! transaction and what the charger currently offers it.

use chargegrid_core::IdTag;
use chargegrid_core::Watts;
use chrono::{DateTime, Utc};

use super::EvseSpec;
use crate::ev::LiveEv;

/// A running transaction.
#[derive(Debug, Clone)]
pub(super) struct Tx {
    /// Our own key (1.6 ids are assigned by the server and may arrive late).
    pub local: u64,
    /// The OCPP transaction id once known (2.0.1: ours at once).
    pub id: Option<String>,
    /// When it started (simulated).
    pub started_at: DateTime<Utc>,
    /// The token.
    pub id_tag: IdTag,
    /// 2.0.1 sequence number of the next TransactionEvent.
    pub seq_no: u32,
    /// 2.0.1 remote start id, if started remotely.
    pub remote_start_id: Option<i64>,
    /// Index of its record in the charger's sessions.
    pub session: usize,
    /// Whether the car reported full (SuspendedEV) already.
    pub full_reported: bool,
}

/// One EVSE.
#[derive(Debug, Clone)]
pub(super) struct EvseState {
    pub spec: EvseSpec,
    pub operative: bool,
    /// Inoperative once the running transaction ends (ChangeAvailability Scheduled).
    pub inoperative_after_tx: bool,
    pub reservation: Option<(i64, DateTime<Utc>)>,
    /// A token from a remote start, waiting for the next car.
    pub remote_start: Option<(IdTag, Option<i64>)>,
    pub ev: Option<LiveEv>,
    pub tx: Option<Tx>,
    /// Lifetime import register, Wh.
    pub register_wh: f64,
    /// What the charger lets the car draw now, and the profile limit behind it.
    pub offered: Watts,
    pub limit: Option<Watts>,
    pub next_meter: DateTime<Utc>,
    /// The status last reported.
    pub reported: Option<&'static str>,
}

impl EvseState {
    pub fn new(spec: EvseSpec, register_wh: f64, now: DateTime<Utc>) -> Self {
        Self {
            offered: spec.max_power,
            spec,
            operative: true,
            inoperative_after_tx: false,
            reservation: None,
            remote_start: None,
            ev: None,
            tx: None,
            register_wh,
            limit: None,
            next_meter: now,
            reported: None,
        }
    }

    /// The 1.6 status.
    pub fn status_v16(&self, now: DateTime<Utc>) -> &'static str {
        match (&self.ev, &self.tx) {
            (Some(ev), Some(_)) if ev.is_full(now) => "SuspendedEV",
            (Some(ev), Some(_)) if ev.last_draw().power.0 <= 0.0 => "SuspendedEVSE",
            (Some(_), Some(_)) => "Charging",
            (Some(_), None) => "Preparing",
            _ if !self.operative => "Unavailable",
            _ if self.reservation.is_some() => "Reserved",
            _ => "Available",
        }
    }

    /// The 2.0.1 connector status.
    pub fn status_v201(&self) -> &'static str {
        match &self.ev {
            Some(_) => "Occupied",
            None if !self.operative => "Unavailable",
            None if self.reservation.is_some() => "Reserved",
            None => "Available",
        }
    }

    /// Whether a car can plug in.
    pub fn is_free(&self) -> bool {
        self.ev.is_none() && self.operative
    }
}
