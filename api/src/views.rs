//! Response bodies: what the app sees, in kW and kWh (drivers' units), times in UTC.

use chargegrid_core::driver::{Driver, Fleet, IdTagRecord, Role};
use chargegrid_core::session::Session;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

/// An account.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DriverView {
    /// Account id.
    pub id: String,
    /// E-mail.
    pub email: String,
    /// Name.
    pub name: String,
    /// `driver`, `fleet_manager` or `operator`.
    pub role: String,
    /// Fleet, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fleet: Option<String>,
}

impl From<&Driver> for DriverView {
    fn from(d: &Driver) -> Self {
        Self {
            id: d.id.to_string(),
            email: d.email.clone(),
            name: d.name.clone(),
            role: match d.role {
                Role::Driver => "driver",
                Role::FleetManager => "fleet_manager",
                Role::Operator => "operator",
            }
            .into(),
            fleet: d.fleet.as_ref().map(ToString::to_string),
        }
    }
}

/// An id tag (RFID card or app token).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IdTagView {
    /// The token.
    pub id_tag: String,
    /// Accepted, Blocked, ...
    pub status: String,
    /// Vehicle it is tied to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vehicle: Option<String>,
}

impl From<&IdTagRecord> for IdTagView {
    fn from(r: &IdTagRecord) -> Self {
        Self {
            id_tag: r.tag.to_string(),
            status: format!("{:?}", r.status),
            vehicle: r.vehicle.as_ref().map(ToString::to_string),
        }
    }
}

/// A fleet.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FleetView {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
}

impl From<&Fleet> for FleetView {
    fn from(f: &Fleet) -> Self {
        Self {
            id: f.id.to_string(),
            name: f.name.clone(),
        }
    }
}

/// A charging session.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SessionView {
    /// Session id.
    pub id: String,
    /// `active` or `ended`.
    pub state: String,
    /// Site.
    pub site: String,
    /// Charger.
    pub charger: String,
    /// EVSE.
    pub evse: u32,
    /// Started (UTC).
    pub started_at: DateTime<Utc>,
    /// Ended (UTC).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<DateTime<Utc>>,
    /// Energy delivered, kWh.
    pub energy_kwh: f64,
    /// Power now, kW.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub power_kw: Option<f64>,
    /// State of charge, %.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub soc_percent: Option<f64>,
    /// Power the scheduler allocated, kW.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allocated_kw: Option<f64>,
    /// Energy still wanted, kWh (from the EV, the driver or the fleet).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub energy_needed_kwh: Option<f64>,
    /// Planned departure (UTC).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub departure: Option<DateTime<Utc>>,
    /// When the need should be met at the current power (UTC).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub estimated_finish: Option<DateTime<Utc>>,
    /// Cost so far, tax included, on the tariff in force when the session started (absent
    /// when it had none). The session's charge detail record is what is billed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost: Option<f64>,
    /// Currency of `cost`.
    pub currency: String,
    /// The tariff it is priced on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tariff_id: Option<String>,
    /// What the cost is made of so far (session fee, energy and time per price period, idle
    /// fee), tax excluded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cost_lines: Vec<chargegrid_core::tariff::CostLine>,
    /// Why it stopped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_reason: Option<String>,
}

impl SessionView {
    /// The view of a session, with what the scheduler and the site add.
    pub fn new(
        s: &Session,
        priced: Option<&chargegrid_core::tariff::Priced>,
        currency: &str,
        allocated_kw: Option<f64>,
        needs: Option<&chargegrid_store::EvNeeds>,
        now: DateTime<Utc>,
    ) -> Self {
        let energy_kwh = s.energy.kwh();
        let power_kw = s.power.map(|p| p.0 / 1000.0);
        let needed = needs.and_then(|n| n.energy).map(|e| e.kwh());
        let estimated_finish = match (s.is_active(), needed, power_kw) {
            (true, Some(need), Some(p)) if p > 0.05 => {
                let left = (need - energy_kwh).max(0.0);
                Some(now + chrono::Duration::seconds((left / p * 3600.0) as i64))
            }
            _ => None,
        };
        Self {
            id: s.id.to_string(),
            state: if s.is_active() { "active" } else { "ended" }.into(),
            site: s.site.to_string(),
            charger: s.charger.to_string(),
            evse: s.evse.0,
            started_at: s.started_at,
            ended_at: s.ended_at,
            energy_kwh,
            power_kw,
            soc_percent: s.soc,
            allocated_kw,
            energy_needed_kwh: needed,
            departure: needs.and_then(|n| n.departure),
            estimated_finish,
            cost: priced.map(|p| p.total),
            currency: priced.map_or(currency, |p| p.currency.as_str()).to_string(),
            tariff_id: priced.map(|p| p.tariff_id.clone()),
            cost_lines: priced.map(|p| p.lines.clone()).unwrap_or_default(),
            stop_reason: s.stop_reason.as_ref().map(ToString::to_string),
        }
    }
}

/// A page of sessions.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SessionPage {
    /// Sessions, newest first.
    pub sessions: Vec<SessionView>,
    /// Pass as `before` for the next page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_before: Option<DateTime<Utc>>,
}
