//! Generated networks for scenarios with many sites or chargers (a city, a boot storm): sites
//! on a disc around a centre, each with the same charger template and grid limit. Reproducible
//! from the seed; written out with [`super::Scenario::network_toml`] for the server.

use chargegrid_core::limits::Limit;
use chargegrid_core::network::Location;
use chargegrid_core::network::{
    Charger, Connector, ConnectorType, Evse, Network, OcppVersion, Registration, Site, Wiring,
};
use chargegrid_core::{Amperes, ChargerId, ConnectorId, EvseId, SiteId, Watts};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::SimError;

/// A charger type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChargerTemplate {
    /// Two 11 kW three-phase Type 2 EVSEs.
    Ac22,
    /// One 7.4 kW single-phase EVSE.
    Ac7,
    /// Two 75 kW CCS2 EVSEs sharing 150 kW.
    Dc150,
}

/// How to generate a network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkGenerator {
    /// Charger id prefix (ids are `{prefix}-{site:03}-{n:03}`).
    pub prefix: String,
    /// Number of sites.
    pub sites: usize,
    /// Chargers per site.
    pub chargers_per_site: usize,
    /// Charger type.
    pub charger: ChargerTemplate,
    /// Each site's grid limit, kW.
    pub site_limit_kw: f64,
    /// Centre latitude.
    pub center_lat: f64,
    /// Centre longitude.
    pub center_lon: f64,
    /// Sites lie within this radius, km.
    pub radius_km: f64,
    /// Share of chargers speaking OCPP 2.0.1 (others 1.6).
    #[serde(default)]
    pub v201_share: f64,
    /// Seed.
    #[serde(default)]
    pub seed: u64,
}

fn template(t: ChargerTemplate) -> (Watts, Wiring, Vec<Evse>) {
    let evse = |id: u32, kw: f64, amps: f64, kind: ConnectorType| Evse {
        id: EvseId(id),
        max_current: Amperes(amps),
        max_power: Watts(kw * 1000.0),
        connectors: vec![Connector {
            id: ConnectorId(id),
            kind,
            max_current: None,
            max_power: None,
        }],
    };
    match t {
        ChargerTemplate::Ac22 => (
            Watts(22_000.0),
            Wiring::ThreePhase,
            vec![
                evse(1, 11.0, 16.0, ConnectorType::Type2),
                evse(2, 11.0, 16.0, ConnectorType::Type2),
            ],
        ),
        ChargerTemplate::Ac7 => (
            Watts(7_400.0),
            Wiring::SinglePhase(chargegrid_core::limits::Phase::L1),
            vec![evse(1, 7.4, 32.0, ConnectorType::Type2)],
        ),
        ChargerTemplate::Dc150 => (
            Watts(150_000.0),
            Wiring::ThreePhase,
            vec![
                evse(1, 75.0, 200.0, ConnectorType::Ccs2),
                evse(2, 75.0, 200.0, ConnectorType::Ccs2),
            ],
        ),
    }
}

impl NetworkGenerator {
    /// The network.
    pub fn generate(&self) -> Result<Network, SimError> {
        let bad = |m: String| SimError::invalid("generate_network", m);
        let mut rng = StdRng::seed_from_u64(self.seed);
        let mut network = Network::default();
        for s in 0..self.sites {
            let r = self.radius_km * rng.random::<f64>().sqrt();
            let a = rng.random_range(0.0..std::f64::consts::TAU);
            let lat = self.center_lat + r * a.sin() / 110.574;
            let lon = self.center_lon
                + r * a.cos() / (111.320 * self.center_lat.to_radians().cos().max(0.01));
            let site = SiteId::new(format!("{}-site-{s:03}", self.prefix.to_lowercase()))
                .map_err(|e| bad(e.to_string()))?;
            network.sites.push(Site {
                tariff: None,
                supply: None,
                id: site.clone(),
                name: format!("{} site {s}", self.prefix),
                location: Location::new(lat, lon).map_err(|e| bad(e.to_string()))?,
                timezone: "UTC".into(),
                grid_limit: Limit::power(Watts(self.site_limit_kw * 1000.0)),
                limit_groups: Vec::new(),
                price_per_kwh: Some(1.0 + 0.02 * (s % 10) as f64),
                currency: "CNY".into(),
            });
            for c in 0..self.chargers_per_site {
                let (max_power, wiring, evses) = template(self.charger);
                let v201 = rng.random_bool(self.v201_share.clamp(0.0, 1.0));
                network.chargers.push(Charger {
                    tariff: None,
                    id: ChargerId::new(format!("{}-{s:03}-{c:03}", self.prefix))
                        .map_err(|e| bad(e.to_string()))?,
                    site: site.clone(),
                    limit_group: None,
                    vendor: "SimVendor".into(),
                    model: format!("{:?}", self.charger),
                    ocpp_version: if v201 {
                        OcppVersion::V201
                    } else {
                        OcppVersion::V16
                    },
                    wiring,
                    max_power,
                    min_current: Amperes(6.0),
                    registration: Registration::Accepted,
                    password_hash: None,
                    previous_password_hash: None,
                    // Generated load rigs on loopback: no credentials, explicitly.
                    security_profile: Some(0),
                    evses,
                });
            }
        }
        Ok(network)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_networks_are_valid_and_round_trip_through_toml() {
        let g = NetworkGenerator {
            prefix: "CITY".into(),
            sites: 5,
            chargers_per_site: 3,
            charger: ChargerTemplate::Dc150,
            site_limit_kw: 200.0,
            center_lat: 36.07,
            center_lon: 120.38,
            radius_km: 10.0,
            v201_share: 0.5,
            seed: 3,
        };
        let n = g.generate().unwrap();
        n.validate().unwrap();
        assert_eq!((n.sites.len(), n.chargers.len()), (5, 15));
        let text = toml::to_string(&n).unwrap();
        let back: Network = toml::from_str(&text).unwrap();
        assert_eq!(back, n);
        assert!(
            n.chargers
                .iter()
                .any(|c| c.ocpp_version == OcppVersion::V201)
        );
        assert!(
            n.chargers
                .iter()
                .any(|c| c.ocpp_version == OcppVersion::V16)
        );
    }
}
