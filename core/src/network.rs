//! The network model: site (a grid connection) → optional nested limit groups (feeders,
//! panels) → chargers → EVSEs → connectors. This is configuration, checked once by
//! [`Network::validate`]; live state (connector status, sessions) lives elsewhere.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::LimitGroupId;
use crate::limits::{DeltaPrimary, Limit, Phase};
use crate::phasor::{Phasor, voltage_angle};
use crate::supply::SupplyTariff;
use crate::tariff::Tariff;
use crate::{Amperes, ChargerId, ConnectorId, DomainError, EvseId, SiteId, Volts, Watts};

/// A point on Earth, checked to lie within valid latitude and longitude.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "LatLon", into = "LatLon")]
pub struct Location(geo::Point<f64>);

/// The serialized form of a [`Location`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LatLon {
    /// Degrees north, -90..=90.
    pub lat: f64,
    /// Degrees east, -180..=180.
    pub lon: f64,
}

impl Location {
    /// A checked location.
    pub fn new(lat: f64, lon: f64) -> Result<Self, DomainError> {
        if !(lat.is_finite() && (-90.0..=90.0).contains(&lat)) {
            return Err(DomainError::InvalidLocation(format!(
                "latitude {lat} outside -90..=90"
            )));
        }
        if !(lon.is_finite() && (-180.0..=180.0).contains(&lon)) {
            return Err(DomainError::InvalidLocation(format!(
                "longitude {lon} outside -180..=180"
            )));
        }
        Ok(Self(geo::Point::new(lon, lat)))
    }

    /// Latitude in degrees.
    pub fn lat(&self) -> f64 {
        self.0.y()
    }

    /// Longitude in degrees.
    pub fn lon(&self) -> f64 {
        self.0.x()
    }

    /// The `geo` point (x = longitude, y = latitude).
    pub fn point(&self) -> geo::Point<f64> {
        self.0
    }
}

impl TryFrom<LatLon> for Location {
    type Error = DomainError;
    fn try_from(v: LatLon) -> Result<Self, Self::Error> {
        Location::new(v.lat, v.lon)
    }
}

impl From<Location> for LatLon {
    fn from(l: Location) -> Self {
        LatLon {
            lat: l.lat(),
            lon: l.lon(),
        }
    }
}

/// The OCPP version a charger speaks.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OcppVersion {
    /// OCPP 1.6 over JSON (subprotocol `ocpp1.6`).
    #[serde(rename = "1.6")]
    V16,
    /// OCPP 2.0.1 (subprotocol `ocpp2.0.1`).
    #[serde(rename = "2.0.1")]
    V201,
}

impl OcppVersion {
    /// The WebSocket subprotocol name.
    pub fn subprotocol(self) -> &'static str {
        match self {
            OcppVersion::V16 => "ocpp1.6",
            OcppVersion::V201 => "ocpp2.0.1",
        }
    }

    /// The version for a WebSocket subprotocol name, if we speak it.
    pub fn from_subprotocol(name: &str) -> Option<Self> {
        match name {
            "ocpp1.6" => Some(OcppVersion::V16),
            "ocpp2.0.1" => Some(OcppVersion::V201),
            _ => None,
        }
    }

    /// Short label for logs and metrics.
    pub fn label(self) -> &'static str {
        match self {
            OcppVersion::V16 => "1.6",
            OcppVersion::V201 => "2.0.1",
        }
    }
}

crate::text_enum!(
    /// The plug type of a connector.
    ConnectorType {
        /// IEC 62196 Type 2 (Mennekes), AC.
        Type2 = "Type2",
        /// SAE J1772 / IEC 62196 Type 1, AC.
        Type1 = "Type1",
        /// Combined Charging System Combo 2, DC.
        Ccs2 = "CCS2",
        /// Combined Charging System Combo 1, DC.
        Ccs1 = "CCS1",
        /// CHAdeMO, DC.
        Chademo = "CHAdeMO",
        /// China GB/T AC.
        GbtAc = "GBT-AC",
        /// China GB/T DC.
        GbtDc = "GBT-DC",
        /// North American Charging Standard (SAE J3400).
        Nacs = "NACS",
    }
);

impl ConnectorType {
    /// Whether the connector delivers DC (the battery's own voltage and current are measured).
    pub fn is_dc(&self) -> bool {
        matches!(
            self,
            ConnectorType::Ccs1
                | ConnectorType::Ccs2
                | ConnectorType::Chademo
                | ConnectorType::GbtDc
        )
    }
}

/// A physical plug on an EVSE.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Connector {
    /// Connector number (1-based; in 1.6 numbered across the charger).
    #[cfg_attr(feature = "openapi", schema(value_type = u32))]
    pub id: ConnectorId,
    /// Plug type.
    #[serde(rename = "type")]
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub kind: ConnectorType,
    /// Largest current per phase, if limited below the EVSE's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<f64>))]
    pub max_current: Option<Amperes>,
    /// Largest power, if limited below the EVSE's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<f64>))]
    pub max_power: Option<Watts>,
}

/// An EVSE: the part of a charger that can charge one vehicle at a time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Evse {
    /// EVSE number (1-based).
    #[cfg_attr(feature = "openapi", schema(value_type = u32))]
    pub id: EvseId,
    /// Largest current per phase this EVSE can supply.
    #[cfg_attr(feature = "openapi", schema(value_type = f64))]
    pub max_current: Amperes,
    /// Largest power this EVSE can supply.
    #[cfg_attr(feature = "openapi", schema(value_type = f64))]
    pub max_power: Watts,
    /// Its plugs (only one is used at a time).
    pub connectors: Vec<Connector>,
}

/// How a charger's phases map onto the site's supply: a single-phase charger sits on one of
/// the site's phases (line to neutral) or between two of them (line to line, as 208 V EVSEs on
/// a 120/208 V service), a three-phase one on all three (possibly rotated, which only matters
/// for single-phase vehicles on a three-phase charger). In TOML: `wiring = "three_phase"`,
/// `wiring = { single_phase = "L2" }`, `wiring = { line_to_line = ["L1", "L2"] }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Wiring {
    /// Three-phase, L1→L1, L2→L2, L3→L3.
    ThreePhase,
    /// Single-phase, between the given site phase and neutral.
    SinglePhase(Phase),
    /// Single-phase, between two site phases (which must differ): √3 × the line-to-neutral
    /// voltage, its current out on one line and back on the other.
    LineToLine([Phase; 2]),
}

impl Wiring {
    /// Number of phases the EVSE supplies (OCPP `numberPhases`): a line-to-line EVSE is
    /// single-phase to the vehicle.
    pub fn phases(self) -> u8 {
        match self {
            Wiring::ThreePhase => 3,
            Wiring::SinglePhase(_) | Wiring::LineToLine(_) => 1,
        }
    }

    /// Whether it draws current on the site's `phase` line.
    pub fn draws_on(self, phase: Phase) -> bool {
        match self {
            Wiring::ThreePhase => true,
            Wiring::SinglePhase(p) => p == phase,
            Wiring::LineToLine([a, b]) => a == phase || b == phase,
        }
    }

    /// Watts per ampere of (per-phase) current at line-to-neutral voltage `voltage`.
    pub fn watts_per_amp(self, voltage: Volts) -> f64 {
        match self {
            Wiring::ThreePhase => 3.0 * voltage.0,
            Wiring::SinglePhase(_) => voltage.0,
            Wiring::LineToLine(_) => 3f64.sqrt() * voltage.0,
        }
    }

    /// The power `current` draws at line-to-neutral voltage `voltage`.
    pub fn power(self, current: Amperes, voltage: Volts) -> Watts {
        Watts(current.0 * self.watts_per_amp(voltage))
    }

    /// The current that draws `power` at line-to-neutral voltage `voltage`.
    pub fn current(self, power: Watts, voltage: Volts) -> Amperes {
        Amperes(power.0 / self.watts_per_amp(voltage).max(f64::MIN_POSITIVE))
    }

    /// The phasor each site line carries per ampere drawn (zero on lines it does not use),
    /// angles relative to L1's line-to-neutral voltage: a line-to-line load flows in phase
    /// with the voltage between its two lines, out on the first and back on the second.
    /// Computed once per wiring (the allocator asks for every session at every decision).
    pub fn line_phasors(self) -> [Phasor; 3] {
        static TABLE: OnceLock<[[Phasor; 3]; 13]> = OnceLock::new();
        let table = TABLE.get_or_init(|| {
            let mut t = [[Phasor::ZERO; 3]; 13];
            t[0] = Wiring::ThreePhase.compute_line_phasors();
            for a in Phase::ALL {
                t[1 + a.index()] = Wiring::SinglePhase(a).compute_line_phasors();
                for b in Phase::ALL {
                    t[4 + 3 * a.index() + b.index()] =
                        Wiring::LineToLine([a, b]).compute_line_phasors();
                }
            }
            t
        });
        table[match self {
            Wiring::ThreePhase => 0,
            Wiring::SinglePhase(a) => 1 + a.index(),
            Wiring::LineToLine([a, b]) => 4 + 3 * a.index() + b.index(),
        }]
    }

    /// [`Wiring::line_phasors`] from the voltage angles.
    fn compute_line_phasors(self) -> [Phasor; 3] {
        let mut out = [Phasor::ZERO; 3];
        match self {
            Wiring::ThreePhase => {
                for p in Phase::ALL {
                    out[p.index()] = Phasor::polar(1.0, voltage_angle(p));
                }
            }
            Wiring::SinglePhase(p) => out[p.index()] = Phasor::polar(1.0, voltage_angle(p)),
            Wiring::LineToLine([a, b]) => {
                let v = Phasor::polar(1.0, voltage_angle(a)) - Phasor::polar(1.0, voltage_angle(b));
                let i = Phasor::polar(1.0, v.degrees());
                out[a.index()] = i;
                out[b.index()] = i * -1.0;
            }
        }
        out
    }
}

/// A charger's registration state: what a BootNotification gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Registration {
    /// Known and allowed: BootNotification is Accepted.
    #[default]
    Accepted,
    /// Known but waiting for an operator: BootNotification is Pending.
    Pending,
    /// Refused: BootNotification is Rejected.
    Rejected,
}

/// A charger (OCPP charge point / charging station) as configured by the operator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Charger {
    /// Its OCPP identity.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub id: ChargerId,
    /// The site it belongs to.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub site: SiteId,
    /// The innermost limit group it hangs from, if any (else directly from the site).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub limit_group: Option<LimitGroupId>,
    /// Manufacturer, as configured (the charger's BootNotification may say otherwise).
    pub vendor: String,
    /// Model, as configured; per-model quirks are looked up by it.
    pub model: String,
    /// Expected OCPP version.
    pub ocpp_version: OcppVersion,
    /// Phase wiring.
    pub wiring: Wiring,
    /// Largest total power.
    #[cfg_attr(feature = "openapi", schema(value_type = f64))]
    pub max_power: Watts,
    /// Smallest current per phase the charger can signal once charging (IEC 61851: 6 A).
    #[serde(default = "default_min_current")]
    #[cfg_attr(feature = "openapi", schema(value_type = f64))]
    pub min_current: Amperes,
    /// Registration policy.
    #[serde(default)]
    pub registration: Registration,
    /// Argon2 PHC hash of the charger's Basic-auth password (security profile 1/2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_hash: Option<String>,
    /// While a new password is being handed to the charger (`POST …/password`), the hash of
    /// the one it had: accepted too until the charger connects with the new one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_password_hash: Option<String>,
    /// The least OCPP security profile this charger may connect with: 0 (no credentials at
    /// all: an operator's explicit choice for a closed test rig), 1 (Basic password), 2 (TLS and
    /// Basic password) or 3 (TLS client certificate). Absent: whatever its credentials allow,
    /// and a charger with neither a password nor a certificate is refused (fail closed). A
    /// charger moved to profile 3 cannot fall back to its password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_profile: Option<u8>,
    /// Its EVSEs.
    pub evses: Vec<Evse>,
    /// Prices at this charger when they differ from its site's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tariff: Option<Tariff>,
}

fn default_min_current() -> Amperes {
    Amperes(6.0)
}

/// A nested limit inside a site: a feeder, a panel, a transformer branch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LimitGroup {
    /// Its id, unique within the site.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub id: LimitGroupId,
    /// Human name.
    #[serde(default)]
    pub name: String,
    /// The enclosing group, or `None` for a group directly under the site.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub parent: Option<LimitGroupId>,
    /// What the group may draw.
    pub limit: Limit,
    /// If the group is a delta–wye transformer, its primary side (the per-phase `limit` is then
    /// the secondary side's line currents).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delta_primary: Option<DeltaPrimary>,
}

/// Site recorded for sessions of chargers that are not in the network (allowed in development).
pub const UNASSIGNED_SITE: &str = "unassigned";

/// A site: one grid connection with its chargers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Site {
    /// Its id.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub id: SiteId,
    /// Human name, shown to drivers.
    pub name: String,
    /// Where it is.
    #[cfg_attr(feature = "openapi", schema(value_type = LatLon))]
    pub location: Location,
    /// IANA time zone (for tariffs and display; all stored times are UTC).
    pub timezone: String,
    /// The grid connection limit.
    pub grid_limit: Limit,
    /// Nested limit groups.
    #[serde(default)]
    pub limit_groups: Vec<LimitGroup>,
    /// Energy price for drivers, per kWh, in the site's currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_per_kwh: Option<f64>,
    /// ISO 4217 currency of the price.
    #[serde(default = "default_currency")]
    pub currency: String,
    /// The site's prices in full (session fee, energy, time, idle fee, time-of-use windows,
    /// tax); when absent, `price_per_kwh` alone is the tariff.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tariff: Option<Tariff>,
    /// What the site pays for grid energy (time-of-use prices in its `timezone`, a demand
    /// charge, a carbon price): when present, the scheduler moves charging that can wait into
    /// cheaper hours and tracks the month's demand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supply: Option<SupplyTariff>,
}

impl Site {
    /// The energy price per kWh at `at` (time-of-use windows in the site's zone), tax
    /// excluded, when the site has a tariff.
    pub fn energy_price_at(&self, at: DateTime<Utc>) -> Option<f64> {
        let tariff = self.effective_tariff()?;
        let tz = self
            .timezone
            .parse::<chrono_tz::Tz>()
            .unwrap_or(chrono_tz::UTC);
        Some(tariff.prices_at(at, &tz).0)
    }

    /// What `kwh` charged from `at` costs in energy and session fee, tax included (time and
    /// idle fees depend on how the session goes and are not in it).
    pub fn expected_cost(&self, at: DateTime<Utc>, kwh: f64) -> Option<f64> {
        let tariff = self.effective_tariff()?;
        let price = self.energy_price_at(at)?;
        let before_tax = price * kwh + tariff.session_fee;
        Some(before_tax * (1.0 + tariff.tax_percent / 100.0))
    }

    /// The tariff sessions at this site are priced on: its own, or `price_per_kwh` as a
    /// tariff named `site:<id>`, or none when it has no price at all.
    pub fn effective_tariff(&self) -> Option<Tariff> {
        self.tariff.clone().or_else(|| {
            self.price_per_kwh
                .map(|p| Tariff::flat(format!("site:{}", self.id), self.currency.clone(), p))
        })
    }
}

fn default_currency() -> String {
    "CNY".to_string()
}

/// A whole operator network: sites and their chargers.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Network {
    /// All sites.
    #[serde(default)]
    pub sites: Vec<Site>,
    /// All chargers.
    #[serde(default)]
    pub chargers: Vec<Charger>,
}

impl Network {
    /// Checks the model is consistent: unique ids, known sites and groups, no cycles among
    /// limit groups, sane limits and time zones, at least one connector per EVSE.
    pub fn validate(&self) -> Result<(), DomainError> {
        self.check(true)
    }

    /// [`Network::validate`] except that a charger of security profile 1 or 2 may lack its
    /// password for now: the API creates a charger first and sets its password with a route
    /// of its own (such a charger is refused until then).
    pub fn validate_pending_passwords(&self) -> Result<(), DomainError> {
        self.check(false)
    }

    fn check(&self, passwords_required: bool) -> Result<(), DomainError> {
        let bad = DomainError::InvalidNetwork;
        let mut sites: HashMap<&SiteId, &Site> = HashMap::new();
        for site in &self.sites {
            if sites.insert(&site.id, site).is_some() {
                return Err(bad(format!("duplicate site id {}", site.id)));
            }
            site.timezone
                .parse::<chrono_tz::Tz>()
                .map_err(|_| DomainError::UnknownTimeZone(site.timezone.clone()))?;
            site.grid_limit.validate(&format!("site {}", site.id))?;
            if let Some(t) = &site.tariff {
                t.validate()
                    .map_err(|e| bad(format!("site {}: {e}", site.id)))?;
            }
            if let Some(t) = &site.supply {
                t.validate()
                    .map_err(|e| bad(format!("site {}: {e}", site.id)))?;
            }
            validate_groups(site)?;
        }
        let mut chargers = HashSet::new();
        for charger in &self.chargers {
            if !chargers.insert(&charger.id) {
                return Err(bad(format!("duplicate charger id {}", charger.id)));
            }
            let site = sites.get(&charger.site).ok_or_else(|| {
                bad(format!(
                    "charger {} names unknown site {}",
                    charger.id, charger.site
                ))
            })?;
            if let Some(group) = &charger.limit_group
                && !site.limit_groups.iter().any(|g| &g.id == group)
            {
                return Err(bad(format!(
                    "charger {} names unknown limit group {group} of site {}",
                    charger.id, site.id
                )));
            }
            validate_charger(charger, passwords_required)?;
            if let Some(t) = &charger.tariff {
                t.validate()
                    .map_err(|e| bad(format!("charger {}: {e}", charger.id)))?;
            }
        }
        Ok(())
    }

    /// The chargers of one site.
    pub fn chargers_of<'a>(&'a self, site: &'a SiteId) -> impl Iterator<Item = &'a Charger> {
        self.chargers.iter().filter(move |c| &c.site == site)
    }
}

fn validate_groups(site: &Site) -> Result<(), DomainError> {
    let bad = DomainError::InvalidNetwork;
    let mut parents: HashMap<&LimitGroupId, Option<&LimitGroupId>> = HashMap::new();
    for g in &site.limit_groups {
        if parents.insert(&g.id, g.parent.as_ref()).is_some() {
            return Err(bad(format!(
                "site {}: duplicate limit group {}",
                site.id, g.id
            )));
        }
        g.limit
            .validate(&format!("site {} group {}", site.id, g.id))?;
        if let Some(t) = &g.delta_primary {
            t.validate(&format!("site {} group {}", site.id, g.id))?;
        }
    }
    for g in &site.limit_groups {
        let mut seen = HashSet::new();
        let mut cur = Some(&g.id);
        while let Some(id) = cur {
            if !seen.insert(id) {
                return Err(bad(format!(
                    "site {}: limit groups form a cycle through {}",
                    site.id, g.id
                )));
            }
            cur = match parents.get(id) {
                Some(parent) => *parent,
                None => {
                    return Err(bad(format!(
                        "site {}: limit group {} names unknown parent {id}",
                        site.id, g.id
                    )));
                }
            };
        }
    }
    Ok(())
}

fn validate_charger(charger: &Charger, passwords_required: bool) -> Result<(), DomainError> {
    let bad = DomainError::InvalidNetwork;
    if !(charger.max_power.is_finite() && charger.max_power.0 > 0.0) {
        return Err(bad(format!(
            "charger {}: max_power must be > 0",
            charger.id
        )));
    }
    if !(charger.min_current.is_finite() && charger.min_current.0 >= 0.0) {
        return Err(bad(format!(
            "charger {}: min_current must be >= 0",
            charger.id
        )));
    }
    match charger.security_profile {
        None | Some(0 | 3) => {}
        Some(1 | 2) if charger.password_hash.is_some() || !passwords_required => {}
        Some(p @ (1 | 2)) => {
            return Err(bad(format!(
                "charger {}: security_profile {p} needs a password_hash",
                charger.id
            )));
        }
        Some(p) => {
            return Err(bad(format!(
                "charger {}: security_profile {p} is not 0, 1, 2 or 3",
                charger.id
            )));
        }
    }
    if let Wiring::LineToLine([a, b]) = charger.wiring
        && a == b
    {
        return Err(bad(format!(
            "charger {}: line_to_line wiring needs two different phases, not {a:?} twice",
            charger.id
        )));
    }
    if charger.evses.is_empty() {
        return Err(bad(format!("charger {} has no EVSE", charger.id)));
    }
    let mut evses = HashSet::new();
    let mut connectors = HashSet::new();
    for evse in &charger.evses {
        if evse.id.0 == 0 || !evses.insert(evse.id) {
            return Err(bad(format!(
                "charger {}: EVSE id {} is 0 or repeated",
                charger.id, evse.id
            )));
        }
        if evse.connectors.is_empty() {
            return Err(bad(format!(
                "charger {} EVSE {} has no connector",
                charger.id, evse.id
            )));
        }
        for c in &evse.connectors {
            if c.id.0 == 0 || !connectors.insert(c.id) {
                return Err(bad(format!(
                    "charger {}: connector id {} is 0 or repeated",
                    charger.id, c.id
                )));
            }
        }
    }
    Ok(())
}

crate::text_enum!(
    /// A connector's live status, version-neutral (1.6 statuses; 2.0.1 `Occupied` kept as is).
    ConnectorStatus {
        /// Free to use.
        Available = "Available",
        /// Plugged in or authorised, not yet charging.
        Preparing = "Preparing",
        /// Energy is flowing.
        Charging = "Charging",
        /// The EV does not take energy (full, or its own choice).
        SuspendedEv = "SuspendedEV",
        /// The charger does not offer energy (limit 0, for example).
        SuspendedEvse = "SuspendedEVSE",
        /// Transaction ended, cable still in.
        Finishing = "Finishing",
        /// Reserved for a driver.
        Reserved = "Reserved",
        /// Taken out of service.
        Unavailable = "Unavailable",
        /// In fault.
        Faulted = "Faulted",
        /// 2.0.1: in use (no finer detail).
        Occupied = "Occupied",
    }
);

impl ConnectorStatus {
    /// Whether a new driver could start charging here now.
    pub fn is_free(&self) -> bool {
        matches!(self, ConnectorStatus::Available)
    }
}

/// The live state of one connector, as last reported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectorState {
    /// Charger it belongs to.
    pub charger: ChargerId,
    /// Connector number (0 = whole charger, 1.6).
    pub connector: ConnectorId,
    /// Status.
    pub status: ConnectorStatus,
    /// OCPP error code (`NoError` when fine).
    pub error_code: String,
    /// Vendor detail, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub info: Option<String>,
    /// When the charger says this became true (UTC).
    pub since: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::PhaseCurrents;

    fn sample() -> Network {
        let site = Site {
            tariff: None,
            supply: None,
            id: SiteId::new("s1").unwrap(),
            name: "Site".into(),
            location: Location::new(36.07, 120.38).unwrap(),
            timezone: "Asia/Shanghai".into(),
            grid_limit: Limit::power(Watts(100_000.0)),
            limit_groups: vec![LimitGroup {
                id: LimitGroupId::new("feeder-a").unwrap(),
                name: String::new(),
                parent: None,
                limit: Limit {
                    max_power: None,
                    max_current: Some(PhaseCurrents::uniform(Amperes(63.0))),
                },
                delta_primary: None,
            }],
            price_per_kwh: Some(1.2),
            currency: "CNY".into(),
        };
        let charger = Charger {
            tariff: None,
            id: ChargerId::new("c1").unwrap(),
            site: site.id.clone(),
            limit_group: Some(LimitGroupId::new("feeder-a").unwrap()),
            vendor: "V".into(),
            model: "M".into(),
            ocpp_version: OcppVersion::V16,
            wiring: Wiring::ThreePhase,
            max_power: Watts(22_000.0),
            min_current: Amperes(6.0),
            registration: Registration::Accepted,
            password_hash: None,
            previous_password_hash: None,
            security_profile: None,
            evses: vec![Evse {
                id: EvseId(1),
                max_current: Amperes(32.0),
                max_power: Watts(22_000.0),
                connectors: vec![Connector {
                    id: ConnectorId(1),
                    kind: ConnectorType::Type2,
                    max_current: None,
                    max_power: None,
                }],
            }],
        };
        Network {
            sites: vec![site],
            chargers: vec![charger],
        }
    }

    #[test]
    fn sample_network_is_valid() {
        sample().validate().unwrap();
    }

    #[test]
    fn unknown_site_group_and_cycles_are_refused() {
        let mut n = sample();
        n.chargers[0].site = SiteId::new("nope").unwrap();
        assert!(
            n.validate()
                .unwrap_err()
                .to_string()
                .contains("unknown site")
        );

        let mut n = sample();
        n.chargers[0].limit_group = Some(LimitGroupId::new("nope").unwrap());
        assert!(
            n.validate()
                .unwrap_err()
                .to_string()
                .contains("unknown limit group")
        );

        let mut n = sample();
        n.sites[0].limit_groups[0].parent = Some(LimitGroupId::new("feeder-a").unwrap());
        assert!(n.validate().unwrap_err().to_string().contains("cycle"));

        let mut n = sample();
        n.sites[0].timezone = "Mars/Olympus".into();
        assert!(matches!(n.validate(), Err(DomainError::UnknownTimeZone(_))));
    }

    #[test]
    fn security_profiles_are_0_to_3_and_1_and_2_need_a_password() {
        let mut n = sample();
        n.chargers[0].security_profile = Some(0);
        n.validate().unwrap();
        n.chargers[0].security_profile = Some(3);
        n.validate().unwrap();
        n.chargers[0].security_profile = Some(2);
        let err = n.validate().unwrap_err().to_string();
        assert!(err.contains("needs a password_hash"), "{err}");
        // Through the API the password comes after the charger.
        n.validate_pending_passwords().unwrap();
        n.chargers[0].password_hash = Some("$argon2id$v=19$m=19456,t=2,p=1$x$y".into());
        n.validate().unwrap();
        n.chargers[0].security_profile = Some(4);
        let err = n.validate().unwrap_err().to_string();
        assert!(err.contains("not 0, 1, 2 or 3"), "{err}");
    }

    #[test]
    fn location_checks_ranges() {
        assert!(Location::new(91.0, 0.0).is_err());
        assert!(Location::new(0.0, 181.0).is_err());
        assert!(Location::new(f64::NAN, 0.0).is_err());
        let l = Location::new(36.07, 120.38).unwrap();
        assert_eq!((l.lat(), l.lon()), (36.07, 120.38));
    }

    #[test]
    fn unknown_connector_status_is_kept_verbatim() {
        let s: ConnectorStatus = serde_json::from_str("\"Vendorish\"").unwrap();
        assert_eq!(s, ConnectorStatus::Other("Vendorish".into()));
        let s: ConnectorStatus = serde_json::from_str("\"SuspendedEV\"").unwrap();
        assert_eq!(s, ConnectorStatus::SuspendedEv);
    }

    #[test]
    fn line_to_line_wiring_reads_draws_on_both_lines_at_thirty_degrees() {
        let w: Wiring = serde_json::from_str(r#"{"line_to_line":["L1","L2"]}"#).unwrap();
        assert_eq!(w, Wiring::LineToLine([Phase::L1, Phase::L2]));
        assert_eq!(w.phases(), 1);
        assert!(w.draws_on(Phase::L1) && w.draws_on(Phase::L2) && !w.draws_on(Phase::L3));
        assert!((w.watts_per_amp(Volts(120.0)) - 207.846).abs() < 1e-3);
        // Out on L1 in phase with V12 (30°), back on L2; the same for the pair named the
        // other way round (only the lines matter).
        let p = w.line_phasors();
        assert!((p[0].degrees() - 30.0).abs() < 1e-9);
        assert!((p[1].degrees() + 150.0).abs() < 1e-9);
        assert_eq!(p[2].norm(), 0.0);
        let back = Wiring::LineToLine([Phase::L2, Phase::L1]).line_phasors();
        for (x, y) in p.iter().zip(back) {
            assert!((*x - y).norm() < 1e-9);
        }
        // Relative to its own line's voltage every line-to-line load is 30° early or late.
        let bc = Wiring::LineToLine([Phase::L2, Phase::L3]).line_phasors();
        assert!((bc[1].degrees() - (-120.0 + 30.0)).abs() < 1e-9);
        assert!((bc[2].degrees() - (120.0 - 30.0)).abs() < 1e-9);
    }

    #[test]
    fn line_to_line_wiring_on_one_phase_twice_is_refused() {
        let mut n = sample();
        n.chargers[0].wiring = Wiring::LineToLine([Phase::L3, Phase::L3]);
        let err = n.validate().unwrap_err().to_string();
        assert!(err.contains("two different phases"), "{err}");
    }
}
