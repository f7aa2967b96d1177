//! Property tests over random sites: random limit trees (kW and uneven per-phase limits at any
//! node, some nodes delta–wye transformers with a primary limit), three-phase, line-to-neutral
//! and line-to-line sessions on any phases, floors, pilot steps, tapering vehicles. For every
//! policy but uncontrolled: no limit is ever exceeded (line and primary currents summed as
//! phasors) and every session gets 0 or a pilot value between its floor and its maximum. For
//! chargegrid, EDF, LLF and round-robin: no session is left a pilot step below what every limit
//! on its path still allows (unused power is handed out; where line-to-line loads meet on a
//! line, "allows" is within the allocator's polygon, at least cos 5° of the line's limit).

use chargegrid_core::limits::{DeltaPrimary, Limit, Phase, PhaseCurrents};
use chargegrid_core::network::Wiring;
use chargegrid_core::phasor::{LineCurrents, PRIMARY_PAIRS, Phasor};
use chargegrid_core::{Amperes, Volts, WattHours, Watts};
use chargegrid_scheduler::alloc::{
    AllocContext, DrawRule, LimitNode, PilotSteps, Policy, SessionDemand, SiteProblem, allocate,
};
use chrono::{TimeDelta, TimeZone, Utc};
use proptest::prelude::*;

fn limit() -> impl Strategy<Value = Limit> {
    (
        prop::option::weighted(0.5, 1_000.0..60_000.0f64),
        prop::option::weighted(0.5, prop::array::uniform3(0.0..80.0f64)),
    )
        .prop_map(|(p, c)| Limit {
            max_power: p.map(Watts),
            max_current: c.map(|c| PhaseCurrents(c.map(Amperes))),
        })
}

fn nodes() -> impl Strategy<Value = Vec<LimitNode>> {
    let primary = prop::option::weighted(0.25, 0.0..40.0f64);
    prop::collection::vec((limit(), any::<prop::sample::Index>(), primary), 1..7).prop_map(|v| {
        v.into_iter()
            .enumerate()
            .map(|(i, (limit, parent, primary))| LimitNode {
                parent: (i > 0).then(|| parent.index(i)),
                limit,
                delta_primary: primary.map(|a| DeltaPrimary {
                    turns_ratio: 2.0,
                    max_current: Amperes(a),
                }),
            })
            .collect()
    })
}

fn pilot() -> impl Strategy<Value = PilotSteps> {
    prop_oneof![
        3 => Just(PilotSteps::Continuous),
        1 => Just(PilotSteps::Step(Amperes(1.0))),
        1 => Just(PilotSteps::Levels(vec![Amperes(8.0), Amperes(16.0), Amperes(24.0), Amperes(32.0)])),
    ]
}

fn wiring() -> impl Strategy<Value = Wiring> {
    prop_oneof![
        Just(Wiring::ThreePhase),
        Just(Wiring::SinglePhase(Phase::L1)),
        Just(Wiring::SinglePhase(Phase::L2)),
        Just(Wiring::SinglePhase(Phase::L3)),
        Just(Wiring::LineToLine([Phase::L1, Phase::L2])),
        Just(Wiring::LineToLine([Phase::L2, Phase::L3])),
        Just(Wiring::LineToLine([Phase::L3, Phase::L1])),
    ]
}

prop_compose! {
    fn session(nodes: usize)(
        node in 0..nodes,
        wiring in wiring(),
        volts in prop_oneof![Just(230.0), Just(120.0)],
        floor in prop_oneof![Just(0.0), Just(6.0)],
        max in 6.0..40.0f64,
        max_kw in prop::option::weighted(0.3, 1.0..22.0f64),
        pilot in pilot(),
        kwh in prop_oneof![1 => Just(0.0), 6 => 0.0..40.0f64],
        hours in prop::option::weighted(0.8, -1.0..12.0f64),
        weight in 0.5..3.0f64,
        history in prop::option::of((0.0..40.0f64, 0.0..40.0f64)),
    ) -> SessionDemand {
        let now = Utc.with_ymd_and_hms(2026, 3, 2, 8, 0, 0).unwrap();
        let mut s = SessionDemand::new(
            node,
            wiring,
            Volts(volts),
            Amperes(max),
            WattHours::from_kwh(kwh),
            hours.map(|h| now + TimeDelta::seconds((h * 3600.0) as i64)),
        );
        s.min_current = Amperes(floor);
        s.max_power = max_kw.map(|kw| Watts(kw * 1000.0));
        s.pilot = pilot;
        s.weight = weight;
        if let Some((prev, measured)) = history {
            s.previous = Some(Amperes(prev));
            s.learned_max = DrawRule::default().learn(None, Amperes(prev), Amperes(measured));
        }
        s
    }
}

/// A site; one in three has no floor at all (DC chargers, acnportal's model), which is where
/// chargegrid's look-ahead runs.
fn problem() -> impl Strategy<Value = SiteProblem> {
    nodes().prop_flat_map(|nodes| {
        let n = nodes.len();
        (
            prop::collection::vec(session(n), 0..14),
            prop::bool::weighted(0.33),
        )
            .prop_map(move |(mut sessions, floorless)| {
                if floorless {
                    sessions
                        .iter_mut()
                        .for_each(|s| s.min_current = Amperes(0.0));
                }
                SiteProblem {
                    nodes: nodes.clone(),
                    sessions,
                }
            })
    })
}

fn ctx() -> AllocContext {
    AllocContext::new(
        Utc.with_ymd_and_hms(2026, 3, 2, 8, 0, 0).unwrap(),
        TimeDelta::minutes(5),
    )
}

/// Every node's load over the sessions in its subtree: power W and line currents (phasors).
fn node_loads(p: &SiteProblem, x: &[f64]) -> Vec<(f64, LineCurrents)> {
    let mut loads = vec![(0.0, LineCurrents::default()); p.nodes.len()];
    for (s, &a) in p.sessions.iter().zip(x) {
        let mut node = Some(s.node);
        while let Some(n) = node {
            loads[n].0 += a * s.watts_per_amp();
            loads[n].1.add(s.wiring.line_phasors(), a);
            node = p.nodes[n].parent;
        }
    }
    loads
}

/// How far `t` amperes of a load putting `c` per ampere on a current now at `v` can go before
/// its magnitude reaches `cap` (0 when it is there already).
fn phasor_slack(v: Phasor, c: Phasor, cap: f64) -> f64 {
    let cc = c.re * c.re + c.im * c.im;
    if cc <= 1e-24 {
        return f64::INFINITY;
    }
    let vc = v.re * c.re + v.im * c.im;
    let disc = vc * vc - cc * (v.re * v.re + v.im * v.im - cap * cap);
    if disc < 0.0 {
        return 0.0;
    }
    ((-vc + disc.sqrt()) / cc).max(0.0)
}

/// The currents a node limits (its lines, its primary lines) for line phasors `lines`.
fn limited(node: &LimitNode, lines: &[Phasor; 3]) -> Vec<(Phasor, f64)> {
    let mut out = Vec::new();
    if let Some(c) = node.limit.max_current {
        out.extend(lines.iter().zip(c.0).map(|(&p, a)| (p, a.0)));
    }
    if let Some(t) = node.delta_primary {
        out.extend(PRIMARY_PAIRS.iter().map(|&(x, y)| {
            (
                (lines[x] - lines[y]) * (1.0 / t.turns_ratio),
                t.max_current.0,
            )
        }));
    }
    out
}

/// How many more amperes session `s` could take under every limit on its path; a current that
/// loads put on at more than one angle counts at cos 5° of its limit (the allocator's polygon).
fn path_slack(p: &SiteProblem, loads: &[(f64, LineCurrents)], s: usize) -> f64 {
    let sess = &p.sessions[s];
    let mine = sess.wiring.line_phasors();
    let mut best = f64::INFINITY;
    let mut node = Some(sess.node);
    while let Some(n) = node {
        let l = &p.nodes[n].limit;
        if let Some(pw) = l.max_power {
            best = best.min((pw.0 - loads[n].0) / sess.watts_per_amp());
        }
        let now = limited(&p.nodes[n], &loads[n].1.0);
        // The angles each limited current carries load at, over the node's sessions.
        let mut angles: Vec<Vec<f64>> = vec![Vec::new(); now.len()];
        for other in &p.sessions {
            let mut up = Some(other.node);
            while let Some(m) = up {
                if m == n {
                    for (k, (c, _)) in limited(&p.nodes[n], &other.wiring.line_phasors())
                        .into_iter()
                        .enumerate()
                    {
                        if c.norm() > 1e-12 {
                            angles[k].push(c.degrees());
                        }
                    }
                    break;
                }
                up = p.nodes[m].parent;
            }
        }
        for (k, ((v, cap), (c, _))) in now.into_iter().zip(limited(&p.nodes[n], &mine)).enumerate()
        {
            if c.norm() <= 1e-12 {
                continue;
            }
            let mixed = angles[k].iter().any(|a| (a - angles[k][0]).abs() > 1e-6);
            let cap = if mixed {
                cap * 5f64.to_radians().cos()
            } else {
                cap
            };
            best = best.min(phasor_slack(v, c, cap));
        }
        node = p.nodes[n].parent;
    }
    best
}

/// The session's own ceiling as the allocator must see it (max, power, energy this period,
/// taper reclaim for chargegrid), before pilot rounding.
fn own_cap(s: &SessionDemand, policy: Policy) -> f64 {
    let wpa = s.watts_per_amp();
    let mut max = s.max_current.0;
    if let Some(p) = s.max_power {
        max = max.min(p.0 / wpa);
    }
    if policy == Policy::Chargegrid
        && let Some(m) = s.learned_max
    {
        max = max.min(m.0.max(s.min_current.0));
    }
    let finish = (s.energy_needed.0 / wpa / (5.0 / 60.0)).max(s.min_current.0);
    max.min(finish)
}

/// The next current above `x` that the session may signal and that stays within `cap`.
fn next_step(s: &SessionDemand, x: f64, cap: f64, resolution: f64) -> Option<f64> {
    let lo = s.min_current.0;
    let next = match &s.pilot {
        PilotSteps::Continuous => {
            if x < lo {
                lo
            } else {
                x + resolution
            }
        }
        PilotSteps::Step(step) => {
            let mut v = (x / step.0).floor() * step.0 + step.0;
            while v < lo {
                v += step.0;
            }
            v
        }
        PilotSteps::Levels(levels) => levels
            .iter()
            .map(|a| a.0)
            .find(|&a| a > x + 1e-9 && a >= lo)?,
    };
    (next <= cap + 1e-9).then_some(next)
}

fn check(policy: Policy, p: &SiteProblem) -> Result<(), TestCaseError> {
    let a = allocate(policy, p, &ctx()).expect("valid problem");
    let x: Vec<f64> = a.sessions.iter().map(|s| s.current.0).collect();
    // Min/max and pilot rules.
    for (s, &xs) in p.sessions.iter().zip(&x) {
        prop_assert!(xs >= 0.0);
        if s.energy_needed.0 <= 0.0 {
            prop_assert_eq!(xs, 0.0);
        }
        if xs > 0.0 {
            prop_assert!(xs >= s.min_current.0 - 1e-9, "below floor: {xs}");
            prop_assert!(xs <= s.max_current.0 + 1e-9, "above max: {xs}");
            if let Some(pw) = s.max_power {
                prop_assert!(xs * s.watts_per_amp() <= pw.0 + 1e-6);
            }
            match &s.pilot {
                PilotSteps::Continuous => {}
                PilotSteps::Step(step) => {
                    let r = xs / step.0;
                    prop_assert!((r - r.round()).abs() < 1e-6, "off step: {xs}");
                }
                PilotSteps::Levels(levels) => {
                    prop_assert!(
                        levels.iter().any(|l| (l.0 - xs).abs() < 1e-9),
                        "off level: {xs}"
                    );
                }
            }
        }
    }
    if !policy.respects_limits() {
        return Ok(());
    }
    // Limits at every node.
    let loads = node_loads(p, &x);
    for (n, (node, (pw, lines))) in p.nodes.iter().zip(&loads).enumerate() {
        if let Some(cap) = node.limit.max_power {
            prop_assert!(
                *pw <= cap.0 * (1.0 + 1e-9) + 1e-6,
                "node {n}: {pw} W > {cap}"
            );
        }
        for (i, (v, cap)) in limited(node, &lines.0).into_iter().enumerate() {
            prop_assert!(
                v.norm() <= cap + 1e-6,
                "node {n} current {i}: {} A > {cap}",
                v.norm()
            );
        }
    }
    // Unused power is handed out.
    let resolution = if policy == Policy::RoundRobin {
        0.1
    } else {
        0.01
    };
    for (s, sess) in p.sessions.iter().enumerate() {
        if sess.energy_needed.0 <= 0.0 {
            continue;
        }
        if let Some(next) = next_step(sess, x[s], own_cap(sess, policy), resolution) {
            let slack = path_slack(p, &loads, s);
            prop_assert!(
                slack < next - x[s] + 1e-6,
                "{policy}: session {s} at {} A could take {next} A (slack {slack})",
                x[s]
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn chargegrid_keeps_every_rule_and_hands_out_power(p in problem()) {
        check(Policy::Chargegrid, &p)?;
    }

    #[test]
    fn baselines_keep_every_rule(p in problem()) {
        for policy in [Policy::Edf, Policy::Llf, Policy::RoundRobin, Policy::Uncontrolled] {
            check(policy, &p)?;
        }
    }
}
