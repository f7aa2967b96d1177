//! criterion benchmarks of `alloc` at 50 sessions (one site), 1,000 sessions (20 sites) and
//! 10,000 sessions (1,000 sites), chargegrid beside the EDF baseline. Sites are synthetic and
//! deterministic: a grid connection with a kW and a per-phase limit at ~40 % of what its
//! vehicles could draw, three feeders with their own phase limits, a mix of three-phase and
//! single-phase vehicles on all phases, departures and needs spread over the day; each also
//! with no charger floor and only the kW limit, where chargegrid runs its look-ahead, and on
//! EVSEs wired line to line under line limits only, where it runs its linear program.

use std::hint::black_box;

use chargegrid_core::limits::{Limit, Phase, PhaseCurrents};
use chargegrid_core::network::Wiring;
use chargegrid_core::{Amperes, Volts, WattHours, Watts};
use chargegrid_scheduler::alloc::{
    AllocContext, DrawRule, LimitNode, Policy, SessionDemand, SiteProblem, allocate_sites,
};
use chrono::{TimeDelta, TimeZone, Utc};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

/// A small deterministic generator (no dependency needed for benchmark inputs).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn site(sessions: usize, rng: &mut Lcg, ctx: &AllocContext) -> SiteProblem {
    let per_phase = 32.0 * sessions as f64 / 3.0 * 0.4;
    let mut nodes = vec![LimitNode {
        parent: None,
        limit: Limit {
            max_power: Some(Watts(per_phase * 230.0 * 3.0)),
            max_current: Some(PhaseCurrents::uniform(Amperes(per_phase))),
        },
        delta_primary: None,
    }];
    for _ in 0..3 {
        nodes.push(LimitNode {
            parent: Some(0),
            limit: Limit::current(Amperes(per_phase * 0.45)),
            delta_primary: None,
        });
    }
    let sessions = (0..sessions)
        .map(|i| {
            let wiring = match i % 4 {
                0 => Wiring::ThreePhase,
                1 => Wiring::SinglePhase(Phase::L1),
                2 => Wiring::SinglePhase(Phase::L2),
                _ => Wiring::SinglePhase(Phase::L3),
            };
            let mut s = SessionDemand::new(
                1 + i % 3,
                wiring,
                Volts(230.0),
                Amperes(16.0 + 16.0 * rng.next()),
                WattHours::from_kwh(2.0 + 40.0 * rng.next()),
                Some(ctx.now + TimeDelta::minutes((30.0 + 600.0 * rng.next()) as i64)),
            );
            if rng.next() < 0.5 {
                s.previous = Some(Amperes(6.0 + 20.0 * rng.next()));
                let drawn = s.previous.map(|a| Amperes(a.0 * (0.5 + 0.5 * rng.next())));
                s.learned_max = s
                    .previous
                    .zip(drawn)
                    .and_then(|(limit, drawn)| DrawRule::default().learn(None, limit, drawn));
            }
            s
        })
        .collect();
    SiteProblem { nodes, sessions }
}

fn bench(c: &mut Criterion) {
    let ctx = AllocContext::new(
        Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap(),
        TimeDelta::minutes(5),
    );
    let mut group = c.benchmark_group("alloc");
    for (total, sites) in [(50usize, 1usize), (1_000, 20), (10_000, 1_000)] {
        let mut rng = Lcg(42);
        let problems: Vec<SiteProblem> = (0..sites)
            .map(|_| site(total / sites, &mut rng, &ctx))
            .collect();
        // The same vehicles without a charger floor under only the site's kW limit (as in
        // acnportal's model): where chargegrid adds its look-ahead, so its cost shows.
        let mut floorless = problems.clone();
        for p in &mut floorless {
            p.nodes[0].limit.max_current = None;
            for node in &mut p.nodes[1..] {
                node.limit = Limit::default();
            }
            for s in &mut p.sessions {
                s.min_current = Amperes(0.0);
            }
        }
        // The same vehicles on EVSEs wired line to line (half of them L1–L2, as at the Caltech
        // ACN) under the grid connection's line limits only: where line currents add as
        // phasors and chargegrid re-splits for power with a linear program.
        let mut line_to_line = problems.clone();
        for p in &mut line_to_line {
            p.nodes[0].limit.max_power = None;
            for node in &mut p.nodes[1..] {
                node.limit = Limit::default();
            }
            for (i, s) in p.sessions.iter_mut().enumerate() {
                s.wiring = match i % 4 {
                    0 | 1 => Wiring::LineToLine([Phase::L1, Phase::L2]),
                    2 => Wiring::LineToLine([Phase::L2, Phase::L3]),
                    _ => Wiring::LineToLine([Phase::L3, Phase::L1]),
                };
                s.voltage = Volts(120.0);
            }
        }
        for (variant, problems) in [
            ("", &problems),
            ("-no-floor", &floorless),
            ("-line-to-line", &line_to_line),
        ] {
            for policy in [Policy::Chargegrid, Policy::Edf] {
                group.bench_with_input(
                    BenchmarkId::new(
                        policy.name(),
                        format!("{total}-sessions-{sites}-sites{variant}"),
                    ),
                    problems,
                    |b, problems| {
                        b.iter(|| allocate_sites(policy, black_box(problems), &ctx).unwrap())
                    },
                );
            }
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
