//! Replaying on the live network model: one site of an operator's network file (its limit
//! tree of feeders, panels and delta–wye transformers, per-phase line limits, chargers wired
//! line to neutral or line to line), each recorded station mapped to a charger's EVSE. The
//! tree is the one the live control loop builds ([`crate::control`]), so the replay checks
//! exactly the constraints the live scheduler works under.

use std::collections::BTreeMap;

use chargegrid_core::network::{Charger, Network, Site, Wiring};
use chargegrid_core::{Amperes, ChargerId, EvseId, Volts};

use super::error::ReplayError;
use crate::alloc::LimitNode;
use crate::control::tree;

/// A site to replay on, and where each recorded station charges.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayNetwork {
    /// The site.
    pub site: Site,
    /// Its chargers.
    pub chargers: Vec<Charger>,
    /// Recorded station id → the charger and EVSE it is; a station not listed is the charger
    /// with its id, EVSE 1.
    pub stations: BTreeMap<String, (ChargerId, EvseId)>,
}

impl ReplayNetwork {
    /// Picks `site` (the network's only site when `None`) out of a validated network.
    pub fn from_network(
        network: &Network,
        site: Option<&str>,
        stations: BTreeMap<String, (ChargerId, EvseId)>,
    ) -> Result<Self, ReplayError> {
        let chosen = match site {
            Some(id) => network.sites.iter().find(|s| s.id.as_str() == id),
            None if network.sites.len() == 1 => network.sites.first(),
            None => {
                return Err(ReplayError::BadOption(format!(
                    "the network has {} sites; name one with --site",
                    network.sites.len()
                )));
            }
        };
        let site = chosen
            .ok_or_else(|| ReplayError::BadOption(format!("no site {site:?} in the network")))?
            .clone();
        let chargers = network
            .chargers
            .iter()
            .filter(|c| c.site == site.id)
            .cloned()
            .collect();
        Ok(Self {
            site,
            chargers,
            stations,
        })
    }
}

/// Where a station's sessions charge in the tree.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Place {
    /// Its EVSE's node.
    pub node: usize,
    /// How its EVSE is wired.
    pub wiring: Wiring,
    /// The most current its EVSE (and charger) can give, A.
    pub max_a: f64,
}

/// The site's tree and the place of every recorded station in it.
#[derive(Debug, Clone)]
pub(crate) struct PlacedTree {
    /// Root first; the root carries the site's grid limit.
    pub nodes: Vec<LimitNode>,
    /// Station id → place.
    pub places: BTreeMap<String, Place>,
}

/// Builds the tree and places `stations` in it; every station must map to an EVSE of the site.
pub(crate) fn place(
    net: &ReplayNetwork,
    stations: &[&str],
    voltage: Volts,
) -> Result<PlacedTree, ReplayError> {
    let chargers: Vec<&Charger> = net.chargers.iter().collect();
    let built = tree::build(&net.site, net.site.grid_limit, &chargers);
    let mut places = BTreeMap::new();
    let mut missing = Vec::new();
    for &station in stations {
        let (charger, evse) = match net.stations.get(station) {
            Some((c, e)) => (c.as_str().to_string(), *e),
            None => (station.to_string(), EvseId(1)),
        };
        let found = net
            .chargers
            .iter()
            .find(|c| c.id.as_str() == charger)
            .and_then(|c| {
                built
                    .evse_node
                    .get(&(c.id.clone(), evse))
                    .map(|&node| (c, node))
            });
        match found {
            Some((c, node)) => {
                places.insert(
                    station.to_string(),
                    Place {
                        node,
                        wiring: c.wiring,
                        max_a: tree::evse_max(c, evse, voltage).0,
                    },
                );
            }
            None => missing.push(station.to_string()),
        }
    }
    if !missing.is_empty() {
        return Err(ReplayError::BadOption(format!(
            "{} recorded station(s) have no EVSE in site {}: {}",
            missing.len(),
            net.site.id,
            missing.join(", ")
        )));
    }
    Ok(PlacedTree {
        nodes: built.nodes,
        places,
    })
}

/// The highest share of any limit in the tree the loads `(node, wiring, A)` use: power, line
/// currents summed as phasors, and delta primaries (1.0 = exactly at a limit).
pub(crate) fn utilisation(
    nodes: &[LimitNode],
    loads: &[(usize, Wiring, Amperes)],
    voltage: Volts,
) -> f64 {
    tree::limit_loads(nodes, loads, voltage)
        .into_iter()
        .map(|(load, limit)| {
            if limit > 0.0 {
                load / limit
            } else if load > 1e-9 {
                f64::INFINITY
            } else {
                0.0
            }
        })
        .fold(0.0, f64::max)
}
