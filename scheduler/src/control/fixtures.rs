//! Test fixtures shared by the service's unit tests: one 11 kW, 16 A three-phase charger with a
//! single Type 2 connector, so plan and profile tests reason about the same hardware, and the
//! site `s` it stands on.

use chargegrid_core::limits::Limit;
use chargegrid_core::network::{
    Charger, Connector, ConnectorType, Evse, Location, OcppVersion, Site, Wiring,
};
use chargegrid_core::{Amperes, ChargerId, ConnectorId, EvseId, SiteId, Watts};

/// An 11 kW three-phase charger `id` on site `s`, one EVSE of 16 A.
pub(crate) fn charger(id: &str) -> Charger {
    Charger {
        tariff: None,
        id: ChargerId::new(id).unwrap(),
        site: SiteId::new("s").unwrap(),
        limit_group: None,
        vendor: "v".into(),
        model: "m".into(),
        ocpp_version: OcppVersion::V16,
        wiring: Wiring::ThreePhase,
        max_power: Watts(11_000.0),
        min_current: Amperes(6.0),
        registration: Default::default(),
        password_hash: None,
        previous_password_hash: None,
        security_profile: None,
        evses: vec![Evse {
            id: EvseId(1),
            max_current: Amperes(16.0),
            max_power: Watts(11_000.0),
            connectors: vec![Connector {
                id: ConnectorId(1),
                kind: ConnectorType::Type2,
                max_current: None,
                max_power: None,
            }],
        }],
    }
}

/// Site `s` (UTC) with a grid limit of `limit_w` watts and no limit groups.
pub(crate) fn site(limit_w: f64) -> Site {
    Site {
        tariff: None,
        supply: None,
        id: SiteId::new("s").unwrap(),
        name: "s".into(),
        location: Location::new(36.0, 120.0).unwrap(),
        timezone: "UTC".into(),
        grid_limit: Limit::power(Watts(limit_w)),
        limit_groups: vec![],
        price_per_kwh: None,
        currency: "CNY".into(),
    }
}
