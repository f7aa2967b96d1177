//! A site's limit tree for the allocator, built from the network: the grid connection (with
//! any demand-response windows in force) → limit groups → chargers → EVSEs. Also the arithmetic
//! the loop does on it: taking a fixed load off every limit above an EVSE, and checking whether
//! loads fit.

use std::collections::HashMap;

use chargegrid_core::limits::{Limit, Phase, PhaseCurrents};
use chargegrid_core::network::{Charger, Site, Wiring};
use chargegrid_core::phasor::LineCurrents;
use chargegrid_core::{Amperes, ChargerId, EvseId, Volts, Watts};
use chargegrid_store::LimitWindow;
use chrono::{DateTime, Utc};

use crate::alloc::LimitNode;

/// The tree and where each EVSE hangs in it.
#[derive(Debug, Clone)]
pub(crate) struct SiteTree {
    /// Root first; parents before children.
    pub nodes: Vec<LimitNode>,
    /// The node of each EVSE.
    pub evse_node: HashMap<(ChargerId, EvseId), usize>,
}

/// The site limit in force at `now`: the grid limit intersected with every active window.
pub(crate) fn limit_in_force(site: &Site, windows: &[LimitWindow], now: DateTime<Utc>) -> Limit {
    windows
        .iter()
        .filter(|w| w.from <= now && w.to.is_none_or(|to| now < to))
        .fold(site.grid_limit, |limit, w| limit.intersect(&w.limit))
}

/// The next window start or end after `now`, when the limit in force changes by itself.
pub(crate) fn next_boundary(windows: &[LimitWindow], now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    windows
        .iter()
        .flat_map(|w| [Some(w.from), w.to])
        .flatten()
        .filter(|t| *t > now)
        .min()
}

/// The largest per-phase current an EVSE can supply (its own, its connectors' and its
/// charger's limits, the power ones turned into current on the charger's phases).
pub(crate) fn evse_max(charger: &Charger, evse: EvseId, voltage: Volts) -> Amperes {
    let w = charger.wiring;
    let Some(e) = charger.evses.iter().find(|e| e.id == evse) else {
        return Amperes::ZERO;
    };
    e.max_current
        .min(w.current(e.max_power, voltage))
        .min(w.current(charger.max_power, voltage))
}

/// Builds the tree for `chargers` (all of the site's).
pub(crate) fn build(site: &Site, root: Limit, chargers: &[&Charger]) -> SiteTree {
    let mut nodes = vec![LimitNode {
        parent: None,
        limit: root,
        delta_primary: None,
    }];
    // Groups by depth, so every parent is placed before its children.
    let depth = |id: &chargegrid_core::ids::LimitGroupId| {
        let mut d = 0;
        let mut cur = site.limit_groups.iter().find(|g| &g.id == id);
        while let Some(g) = cur {
            d += 1;
            cur = g
                .parent
                .as_ref()
                .and_then(|p| site.limit_groups.iter().find(|x| &x.id == p));
            if d > site.limit_groups.len() {
                break;
            }
        }
        d
    };
    let mut groups: Vec<_> = site.limit_groups.iter().collect();
    groups.sort_by_key(|g| depth(&g.id));
    let mut group_node = HashMap::new();
    for g in groups {
        let parent = g
            .parent
            .as_ref()
            .and_then(|p| group_node.get(p).copied())
            .unwrap_or(0);
        group_node.insert(g.id.clone(), nodes.len());
        nodes.push(LimitNode {
            parent: Some(parent),
            limit: g.limit,
            delta_primary: g.delta_primary,
        });
    }
    let mut evse_node = HashMap::new();
    for c in chargers {
        let parent = c
            .limit_group
            .as_ref()
            .and_then(|g| group_node.get(g).copied())
            .unwrap_or(0);
        let charger_node = nodes.len();
        nodes.push(LimitNode {
            parent: Some(parent),
            limit: Limit::power(c.max_power),
            delta_primary: None,
        });
        for e in &c.evses {
            evse_node.insert((c.id.clone(), e.id), nodes.len());
            nodes.push(LimitNode {
                parent: Some(charger_node),
                limit: Limit {
                    max_power: Some(e.max_power),
                    max_current: Some(PhaseCurrents::uniform(e.max_current)),
                },
                delta_primary: None,
            });
        }
    }
    SiteTree { nodes, evse_node }
}

/// Takes a fixed per-phase current off every limit from `node` up to the root (never below 0);
/// a line-to-line load comes off both its lines in full, never less than it really takes.
pub(crate) fn subtract(
    nodes: &mut [LimitNode],
    node: usize,
    wiring: Wiring,
    amps: Amperes,
    voltage: Volts,
) {
    if amps.0 <= 0.0 {
        return;
    }
    let power = wiring.power(amps, voltage);
    let mut one_amp = LineCurrents::default();
    one_amp.add(wiring.line_phasors(), 1.0);
    let mut cur = Some(node);
    while let Some(n) = cur {
        if let Some(t) = &mut nodes[n].delta_primary {
            let worst = one_amp
                .delta_primary(t.turns_ratio)
                .into_iter()
                .fold(0.0, f64::max);
            t.max_current = (t.max_current - amps * worst).max(Amperes::ZERO);
        }
        let limit = &mut nodes[n].limit;
        if let Some(p) = &mut limit.max_power {
            *p = (*p - power).max(Watts::ZERO);
        }
        if let Some(c) = &mut limit.max_current {
            for phase in Phase::ALL {
                if wiring.draws_on(phase) {
                    let a = &mut c.0[phase.index()];
                    *a = (*a - amps).max(Amperes::ZERO);
                }
            }
        }
        cur = nodes[n].parent;
    }
}

/// What every node of the tree carries under the loads `(node, wiring, per-phase current)`:
/// its power (W) and its line currents (phasors).
fn node_loads(
    nodes: &[LimitNode],
    loads: &[(usize, Wiring, Amperes)],
    voltage: Volts,
) -> (Vec<f64>, Vec<LineCurrents>) {
    let mut power = vec![0.0; nodes.len()];
    let mut current = vec![LineCurrents::default(); nodes.len()];
    for &(node, wiring, amps) in loads {
        let per_amp = wiring.line_phasors();
        let watts = wiring.power(amps, voltage).0;
        let mut cur = Some(node);
        while let Some(n) = cur {
            power[n] += watts;
            current[n].add(per_amp, amps.0);
            cur = nodes[n].parent;
        }
    }
    (power, current)
}

/// Every limit of the tree as `(load, limit)` under the loads `(node, wiring, per-phase
/// current)`: each node's power, each of its lines (currents summed as phasors, so line-to-line
/// loads count as they really add up) and each line of a delta primary.
pub(crate) fn limit_loads(
    nodes: &[LimitNode],
    loads: &[(usize, Wiring, Amperes)],
    voltage: Volts,
) -> Vec<(f64, f64)> {
    let (power, current) = node_loads(nodes, loads, voltage);
    let mut out = Vec::new();
    for (n, node) in nodes.iter().enumerate() {
        if let Some(p) = node.limit.max_power {
            out.push((power[n], p.0));
        }
        if let Some(c) = node.limit.max_current {
            out.extend(current[n].magnitudes().into_iter().zip(c.0.map(|a| a.0)));
        }
        if let Some(t) = node.delta_primary {
            out.extend(
                current[n]
                    .delta_primary(t.turns_ratio)
                    .map(|a| (a, t.max_current.0)),
            );
        }
    }
    out
}

/// Whether the loads `(node, wiring, per-phase current)` fit under every limit of the tree.
pub(crate) fn fits(
    nodes: &[LimitNode],
    loads: &[(usize, Wiring, Amperes)],
    voltage: Volts,
) -> bool {
    limit_loads(nodes, loads, voltage)
        .iter()
        .all(|&(load, limit)| load <= limit + 1e-6)
}

/// The power a limit allows, for display and the API's headroom: its power side, or its
/// current side on three phases, whichever is lower; `None` when unbounded.
pub(crate) fn limit_watts(limit: &Limit, voltage: Volts) -> Option<Watts> {
    let from_current = limit
        .max_current
        .map(|c| Watts(c.0.iter().map(|a| a.0 * voltage.0).sum()));
    match (limit.max_power, from_current) {
        (Some(p), Some(c)) => Some(p.min(c)),
        (p, c) => p.or(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chargegrid_core::limits::Limit;

    fn node(parent: Option<usize>, limit: Limit) -> LimitNode {
        LimitNode {
            parent,
            limit,
            delta_primary: None,
        }
    }

    #[test]
    fn line_to_line_loads_fit_as_phasors_and_a_delta_primary_is_checked() {
        let l1l2 = Wiring::LineToLine([Phase::L1, Phase::L2]);
        let l3l1 = Wiring::LineToLine([Phase::L3, Phase::L1]);
        let v = Volts(120.0);
        let nodes = vec![node(None, Limit::current(Amperes(50.0)))];
        // √3 × 28 = 48.5 A on L1 fits (a plain sum, 56 A, would not); √3 × 30 = 52 A does not.
        assert!(fits(
            &nodes,
            &[(0, l1l2, Amperes(28.0)), (0, l3l1, Amperes(28.0))],
            v
        ));
        assert!(!fits(
            &nodes,
            &[(0, l1l2, Amperes(30.0)), (0, l3l1, Amperes(30.0))],
            v
        ));
        // A 4:1 delta primary of 10 A: one L3–L1 load of x puts 2x / 4 on one primary line.
        let mut t = vec![LimitNode {
            parent: None,
            limit: Limit::default(),
            delta_primary: Some(chargegrid_core::limits::DeltaPrimary {
                turns_ratio: 4.0,
                max_current: Amperes(10.0),
            }),
        }];
        assert!(fits(&t, &[(0, l3l1, Amperes(19.0))], v));
        assert!(!fits(&t, &[(0, l3l1, Amperes(21.0))], v));
        // Held load comes off the primary at its worst line: 10 A there leaves 5 A.
        subtract(&mut t, 0, l3l1, Amperes(10.0), v);
        let left = t[0].delta_primary.unwrap().max_current.0;
        assert!((left - 5.0).abs() < 1e-9, "{left}");
    }

    #[test]
    fn subtract_walks_to_the_root_and_fits_checks_every_node() {
        let mut nodes = vec![
            node(None, Limit::power(Watts(10_000.0))),
            node(Some(0), Limit::current(Amperes(16.0))),
        ];
        let three = Wiring::ThreePhase;
        assert!(fits(&nodes, &[(1, three, Amperes(14.0))], Volts(230.0)));
        assert!(!fits(&nodes, &[(1, three, Amperes(15.0))], Volts(230.0)));
        subtract(&mut nodes, 1, three, Amperes(10.0), Volts(230.0));
        assert_eq!(nodes[0].limit.max_power, Some(Watts(10_000.0 - 6_900.0)));
        assert_eq!(
            nodes[1].limit.max_current,
            Some(PhaseCurrents::uniform(Amperes(6.0)))
        );
        let one = Wiring::SinglePhase(Phase::L2);
        subtract(&mut nodes, 1, one, Amperes(20.0), Volts(230.0));
        let c = nodes[1].limit.max_current.unwrap();
        assert_eq!(c.get(Phase::L1), Amperes(6.0));
        assert_eq!(c.get(Phase::L2), Amperes(0.0));
    }

    #[test]
    fn windows_in_force_lower_the_root_and_their_edges_are_wakeups() {
        let t0 = DateTime::<Utc>::UNIX_EPOCH;
        let w = LimitWindow {
            id: "dr".into(),
            from: t0 + chrono::TimeDelta::seconds(10),
            to: Some(t0 + chrono::TimeDelta::seconds(20)),
            limit: Limit::power(Watts(5_000.0)),
            reason: String::new(),
        };
        assert_eq!(next_boundary(std::slice::from_ref(&w), t0), Some(w.from));
        assert_eq!(next_boundary(std::slice::from_ref(&w), w.from), w.to);
        assert_eq!(
            limit_watts(&Limit::current(Amperes(10.0)), Volts(230.0)),
            Some(Watts(6_900.0))
        );
    }
}
