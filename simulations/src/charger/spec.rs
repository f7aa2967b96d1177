//! What a simulated charger is: its identity, OCPP version, EVSEs, and the quirks and timing it
//! runs with. Built from the operator's network file so the server knows every charger.

use chargegrid_core::network::{Charger, OcppVersion};
use chargegrid_core::{Amperes, ChargerId, ConnectorId, EvseId, SiteId, Watts};
use serde::{Deserialize, Serialize};

/// One EVSE of a simulated charger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvseSpec {
    /// EVSE number.
    pub id: EvseId,
    /// Connector number as 1.6 sees it (charger-wide); 2.0.1 uses connector 1 of the EVSE.
    pub connector: ConnectorId,
    /// Largest power.
    pub max_power: Watts,
    /// Largest current per phase (AC) or DC current.
    pub max_current: Amperes,
    /// DC (the battery's voltage and current are metered) or AC.
    pub dc: bool,
}

/// A simulated charger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChargerSpec {
    /// Its OCPP identity.
    pub id: ChargerId,
    /// Its site.
    pub site: SiteId,
    /// The OCPP version it speaks.
    pub version: OcppVersion,
    /// Vendor, as sent in BootNotification.
    pub vendor: String,
    /// Model, as sent in BootNotification.
    pub model: String,
    /// AC phases (1 or 3).
    pub phases: u8,
    /// Largest total power.
    pub max_power: Watts,
    /// Its EVSEs.
    pub evses: Vec<EvseSpec>,
    /// Basic-auth password (security profile 1), if the server wants one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// Misbehaviour to exercise the server.
    #[serde(default)]
    pub quirks: Quirks,
}

impl ChargerSpec {
    /// The simulated twin of a configured charger.
    pub fn from_network(c: &Charger) -> Self {
        let evses = c
            .evses
            .iter()
            .map(|e| {
                let first = e.connectors.first();
                EvseSpec {
                    id: e.id,
                    connector: first.map_or(ConnectorId(e.id.0), |k| k.id),
                    max_power: first
                        .and_then(|k| k.max_power)
                        .unwrap_or(e.max_power)
                        .min(e.max_power),
                    max_current: first
                        .and_then(|k| k.max_current)
                        .unwrap_or(e.max_current)
                        .min(e.max_current),
                    dc: first.is_some_and(|k| k.kind.is_dc()),
                }
            })
            .collect();
        Self {
            id: c.id.clone(),
            site: c.site.clone(),
            version: c.ocpp_version,
            vendor: c.vendor.clone(),
            model: c.model.clone(),
            phases: c.wiring.phases(),
            max_power: c.max_power,
            evses,
            password: None,
            quirks: Quirks::default(),
        }
    }

    /// Whether any EVSE is DC.
    pub fn has_dc(&self) -> bool {
        self.evses.iter().any(|e| e.dc)
    }
}

/// Misbehaviour found in real chargers, to exercise the server's robustness.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Quirks {
    /// Answer every CSMS call this many wall milliseconds late.
    pub answer_delay_ms: u64,
    /// Answer SetChargingProfile with Rejected.
    pub reject_profiles: bool,
    /// Accept charging profiles but keep drawing the EVSE's maximum.
    pub ignore_limits: bool,
    /// Send power and energy values in kW/kWh while declaring W/Wh.
    pub kw_in_meter_values: bool,
}

/// Timing a charger runs with. Simulated seconds unless the name says wall.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChargerSettings {
    /// Seconds between periodic MeterValues (simulated).
    pub meter_interval_s: u32,
    /// Physics step (simulated seconds); smaller is smoother and costs more CPU.
    pub step_s: u32,
    /// Heartbeat interval (wall seconds); `None` uses the one BootNotification returns.
    pub heartbeat_wall_s: Option<u64>,
    /// How long a CALL may wait for its answer (wall milliseconds).
    pub call_timeout_ms: u64,
    /// First reconnect delay (wall milliseconds); doubles up to `reconnect_max_ms`, ± 50 %.
    pub reconnect_base_ms: u64,
    /// Longest reconnect delay (wall milliseconds).
    pub reconnect_max_ms: u64,
    /// Send Authorize before starting a transaction (when online).
    pub authorize_first: bool,
}

impl Default for ChargerSettings {
    fn default() -> Self {
        Self {
            meter_interval_s: 60,
            step_s: 30,
            heartbeat_wall_s: None,
            call_timeout_ms: 30_000,
            reconnect_base_ms: 200,
            reconnect_max_ms: 5_000,
            authorize_first: false,
        }
    }
}
