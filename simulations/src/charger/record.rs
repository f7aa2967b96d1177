//! What each simulated charger records for the KPIs, from its own side of the socket: every
//! charging profile received (and whether it was accepted), the power its EVSEs drew over
//! simulated time next to the limit in force, its sessions, and its OCPP counters.

use chargegrid_core::{ChargerId, SiteId, WattHours, Watts};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::profiles::Profile;
use crate::stats::OcppStats;

/// Power drawn by one EVSE over a span of simulated time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PowerSpan {
    /// Start (simulated).
    pub from: DateTime<Utc>,
    /// End (simulated).
    pub to: DateTime<Utc>,
    /// EVSE.
    pub evse: u32,
    /// Mean power drawn.
    pub power: Watts,
    /// The limit the charger's profiles put on this EVSE then (its share of a charger-wide
    /// limit included); `None` when no profile applied.
    pub limit: Option<Watts>,
}

/// A SetChargingProfile (or a profile inside a remote start) as received.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileReceipt {
    /// When (simulated).
    pub at: DateTime<Utc>,
    /// The action that carried it.
    pub action: String,
    /// EVSE addressed.
    pub evse: u32,
    /// Whether we answered Accepted.
    pub accepted: bool,
    /// The parsed profile, when it could be read.
    pub profile: Option<Profile>,
    /// Why it could not be read or was refused.
    pub problem: Option<String>,
}

/// One charging session as the charger saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionRecord {
    /// The EV plan's key.
    pub key: u64,
    /// Charger.
    pub charger: ChargerId,
    /// Site.
    pub site: SiteId,
    /// EVSE.
    pub evse: u32,
    /// Vehicle id.
    pub vehicle: String,
    /// The OCPP transaction id, once known.
    pub transaction_id: Option<String>,
    /// Whether the server accepted the id tag.
    pub authorized: bool,
    /// Plug-in (simulated).
    pub started_at: DateTime<Utc>,
    /// End (simulated).
    pub ended_at: Option<DateTime<Utc>>,
    /// Energy the driver wanted.
    pub requested: WattHours,
    /// Energy delivered.
    pub delivered: WattHours,
    /// Whether the car got what it wanted (need or target SoC).
    pub full: bool,
    /// Stop reason as sent (1.6 / 2.0.1 spelling).
    pub stop_reason: Option<String>,
}

/// Everything one charger recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChargerRecord {
    /// Charger.
    pub charger: ChargerId,
    /// Site.
    pub site: SiteId,
    /// Whether a BootNotification was Accepted.
    pub booted: bool,
    /// Wall milliseconds from the first connection attempt to the accepted boot.
    pub boot_ms: Option<f64>,
    /// Power drawn over time, by EVSE (consecutive equal spans merged).
    pub power: Vec<PowerSpan>,
    /// Profiles received.
    pub profiles: Vec<ProfileReceipt>,
    /// Sessions.
    pub sessions: Vec<SessionRecord>,
    /// Steps in which an EVSE drew more than its own limit (quirk `ignore_limits`).
    pub own_limit_exceeded_steps: u64,
    /// OCPP counters.
    pub stats: OcppStats,
    /// Problems worth reporting (first 20).
    pub errors: Vec<String>,
    /// Problems in all.
    pub error_count: u64,
}

impl ChargerRecord {
    /// An empty record.
    pub fn new(charger: ChargerId, site: SiteId) -> Self {
        Self {
            charger,
            site,
            booted: false,
            boot_ms: None,
            power: Vec::new(),
            profiles: Vec::new(),
            sessions: Vec::new(),
            own_limit_exceeded_steps: 0,
            stats: OcppStats::default(),
            errors: Vec::new(),
            error_count: 0,
        }
    }

    /// Notes a problem.
    pub fn error(&mut self, message: String) {
        self.error_count += 1;
        if self.errors.len() < 20 {
            self.errors.push(message);
        }
    }

    /// Appends a power span, merging it into the previous one of the EVSE when equal.
    pub fn power(&mut self, span: PowerSpan) {
        if let Some(last) = self
            .power
            .iter_mut()
            .rev()
            .take(8)
            .find(|p| p.evse == span.evse)
            && last.to == span.from
            && (last.power.0 - span.power.0).abs() < 0.5
            && last.limit.map(|l| l.0.round()) == span.limit.map(|l| l.0.round())
        {
            last.to = span.to;
            return;
        }
        self.power.push(span);
    }
}
