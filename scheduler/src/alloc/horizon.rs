//! Step 6 of chargegrid's allocation, on sites without a charger floor: a look-ahead over the
//! sessions plugged in now.
//!
//! Ordering by laxity decides well who charges first, but one period at a time: on a saturated
//! site it can hand this period's power to a session that could have taken it later while one
//! that leaves sooner ends short. The look-ahead checks the answer against the remaining stay of
//! every session present, as a time-expanded flow network: source → session (its remaining
//! energy) → this period and each later interval (its top rate × the time it is still there) →
//! the site's power limit × the interval's length → sink. The network is first loaded with
//! exactly the proposed currents for this period, then opened to later intervals and pushed to
//! the maximum. Augmenting paths can only re-route this period's energy between sessions (its
//! total cannot fall), and only where that lets more of the present sessions' need be met; if
//! none does, the proposal comes back unchanged.
//!
//! Future arrivals are unknown, so this is not the offline optimum; with perfect information and
//! no charger floor, it is what takes chargegrid from least laxity's figures to the optimum's in
//! the ACN-Data replays (docs/BENCHMARKS.md). With a floor (0 or at least 6 A) the flow's plan
//! for later periods is not one the floor allows, and the caller leaves it out. Only the site's
//! power limit is modelled: the caller accepts the re-routed currents only if they keep every
//! limit and pilot step.

use super::bounds::Bounds;
use super::lexi::{self, Need};
use super::maxflow::{EdgeRef, FlowGraph};
use super::problem::{AllocContext, SiteProblem};
use super::sorted::hours_left;

/// Flow units per watt-hour (1 mWh resolution).
const UNITS_PER_WH: f64 = 1000.0;
/// Most intervals after this period; with more distinct departures, neighbours are merged.
const MAX_INTERVALS: usize = 48;
/// Largest site (sessions with a need) the look-ahead runs on; bigger ones keep the proposal
/// (the network grows with sessions × intervals).
const MAX_SESSIONS: usize = 400;
/// [`short_of_full`] stops trying larger needs after this many in a row do not fit.
const SHORT_MISSES: usize = 3;
/// Most intervals in [`short_of_full`]'s network (it solves several flows per decision).
const SHORT_INTERVALS: usize = 16;
/// Share of the site's power limit after this period that [`short_of_full`] keeps for vehicles
/// yet to arrive when it decides who can be served in full. Sessions present that fit only if
/// nobody else comes are found short now, while their ranking behind the others still costs
/// little, rather than at their departure: in the ACN-Data replays (docs/BENCHMARKS.md,
/// session 18), at 30 % of the uncontrolled peak, 15 % served 1.2–3.3 points more drivers in
/// full on four congested 5-day windows of six and 0.4–0.8 more on three whole files of six
/// (as many on the others; at 40 %, 0.6 more on one window and the same elsewhere), within 0.01
/// points of energy; 10 % served up to 0.6 fewer than 15 %; 17.5–40 % moved the JPL windows by
/// −0.7 to +1.5 points but served 0.6–1.7 fewer on a Caltech one (and 17.5 % cost 0.03 points
/// of energy on a JPL one).
pub(crate) const ARRIVALS_RESERVE: f64 = 0.15;
/// Changes smaller than this (amperes) are unit rounding, not a re-route.
const MOVED_AMPS: f64 = 1e-3;

/// This period's currents after the look-ahead, or `None` when it moves nothing (or the site
/// has no power limit, or is too big). `site_w` is the site's power limit in force (a month's
/// peak may hold it below the hard one); `x` is the proposal (feasible).
pub(crate) fn reroute(
    problem: &SiteProblem,
    ctx: &AllocContext,
    site_w: f64,
    b: &Bounds,
    x: &[f64],
) -> Option<Vec<f64>> {
    let live = sessions_to_plan(b, site_w)?;
    let period = ctx.period_hours();
    let Lookahead {
        mut g,
        mut now_edges,
        mut later,
    } = lookahead(problem, ctx, site_w, b, x, &live, Loading::Pushed);
    let (src, sink) = (0, 1);
    for (_, e, cap) in &mut now_edges {
        let c = (*cap).max(g.flow(*e));
        g.set_capacity(e, c);
    }
    for (_, e, cap) in &mut later {
        let c = *cap;
        g.set_capacity(e, c);
    }
    g.max_flow(src, sink);

    // Every session's current from the flow (not only the moved ones): the flow's units are
    // rounded down, so together they stay within the site's limit.
    let mut y = x.to_vec();
    let mut moved = false;
    for &(s, e, _) in &now_edges {
        let wpa = problem.sessions[s].watts_per_amp();
        y[s] = g.flow(e) as f64 / UNITS_PER_WH / (wpa * period);
        moved |= (y[s] - x[s]).abs() > MOVED_AMPS;
    }
    moved.then_some(y)
}

/// The look-ahead's network with the proposal loaded, before it is opened.
struct Lookahead {
    g: FlowGraph,
    /// Per session: its edge to this period, and the capacity it opens to.
    now_edges: Vec<(usize, EdgeRef, i64)>,
    /// Per later interval: its node, its edge to the sink (closed), and that edge's capacity.
    later: Vec<(usize, EdgeRef, i64)>,
}

/// How the proposal is put on the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Loading {
    /// Pushed along each session's path through this period where the proposal fits the
    /// network's limit for it (it nearly always does: it is feasible, and flow units round
    /// down), else searched for.
    Pushed,
    /// Searched for by a maximum flow (the reference the pushed flow must equal).
    #[cfg(test)]
    Searched,
}

/// Builds the look-ahead's network (source → session → this period and each later interval →
/// sink) with every later interval closed and exactly the proposal's currents on this period.
/// Pushing them directly gives the flow a search would find: with the later intervals closed
/// the only paths run through this period, one per session, each carrying at most the
/// session's proposed energy (its edge's capacity, never above its need); when they fit the
/// period's limit together, the search fills every one of them, whatever its order. The search
/// visited every later interval as a dead end on the way (pushing instead took the no-floor
/// benchmark from 28.7 to 26.7 ms, docs/BENCHMARKS.md).
fn lookahead(
    problem: &SiteProblem,
    ctx: &AllocContext,
    site_w: f64,
    b: &Bounds,
    x: &[f64],
    live: &[usize],
    loading: Loading,
) -> Lookahead {
    let n = x.len();
    let period = ctx.period_hours();
    // Whole periods each session stays after this one: an allocation holds for a period, so a
    // period cut short by the departure is not counted on.
    let rest: Vec<f64> = (0..n)
        .map(|s| ((hours_left(problem, ctx, s) / period).floor() - 1.0).max(0.0) * period)
        .collect();
    let ends = interval_ends(live.iter().map(|&s| rest[s]), MAX_INTERVALS);

    let mut g = FlowGraph::new(2);
    g.reserve(
        1 + ends.len() + live.len(),
        1 + ends.len() + live.len() * (2 + ends.len()),
    );
    let (src, sink) = (0, 1);
    let now_node = g.add_node();
    let now_cap = units(site_w * period);
    let now_sink = g.add_edge(now_node, sink, now_cap);
    let mut later: Vec<(usize, EdgeRef, i64)> = Vec::with_capacity(ends.len());
    let mut start = 0.0;
    for &end in &ends {
        let node = g.add_node();
        // Closed until the proposal is loaded.
        let e = g.add_edge(node, sink, 0);
        later.push((node, e, units(site_w * (end - start))));
        start = end;
    }
    let mut now_edges: Vec<(usize, EdgeRef, i64)> = Vec::with_capacity(live.len());
    let mut paths: Vec<(EdgeRef, i64)> = Vec::with_capacity(live.len());
    for &s in live {
        let wpa = problem.sessions[s].watts_per_amp();
        let need = units(b.amp_hours[s] * wpa);
        let seed = units(x[s].min(b.hi[s]) * wpa * period).min(need);
        let node = g.add_node();
        paths.push((g.add_edge(src, node, need), seed));
        // Later intervals before this period in the session's list: a path through the
        // session tries to serve it later before it takes this period's power from another.
        let mut start = 0.0;
        for (j, &end) in ends.iter().enumerate() {
            let overlap = rest[s].min(end) - start;
            if overlap <= 0.0 {
                break;
            }
            g.add_edge(node, later[j].0, units(b.top[s] * wpa * overlap));
            start = end;
        }
        let e = g.add_edge(node, now_node, seed);
        now_edges.push((s, e, units(b.hi[s] * wpa * period)));
    }
    let seeds: i64 = paths.iter().map(|p| p.1).sum();
    if loading == Loading::Pushed && seeds <= now_cap {
        for (&(in_edge, seed), &(_, now_edge, _)) in paths.iter().zip(&now_edges) {
            g.push(in_edge, seed);
            g.push(now_edge, seed);
        }
        g.push(now_sink, seeds);
    } else {
        g.max_flow(src, sink);
    }
    Lookahead {
        g,
        now_edges,
        later,
    }
}

/// The sessions present that cannot be served in full together with the others, by the
/// drivers' objective ([`lexi`]) on the remaining stay of every session under the site's power
/// limit less [`ARRIVALS_RESERVE`] after this period, each with the energy (Wh) it can still
/// get in the plan that serves the others in full and delivers the most under the whole limit;
/// `None` when everyone can be served (or the site has no power limit, or is too big). Future
/// arrivals are unknown: the reserve stands in for them.
pub(crate) fn short_of_full(
    problem: &SiteProblem,
    ctx: &AllocContext,
    site_w: f64,
    b: &Bounds,
) -> Option<Vec<Option<f64>>> {
    let n = b.hi.len();
    let live = sessions_to_plan(b, site_w)?;
    let period = ctx.period_hours();
    // Whole periods each session stays, this one included.
    let stay: Vec<f64> = (0..n)
        .map(|s| (hours_left(problem, ctx, s) / period).floor().max(1.0) * period)
        .collect();
    let ends: Vec<f64> = std::iter::once(period)
        .chain(
            interval_ends(live.iter().map(|&s| stay[s] - period), SHORT_INTERVALS)
                .into_iter()
                .map(|e| e + period),
        )
        .collect();
    let mut g = FlowGraph::new(2);
    g.reserve(
        ends.len() + live.len(),
        ends.len() + live.len() * (1 + ends.len()),
    );
    let (src, sink) = (0, 1);
    let mut start = 0.0;
    let mut cuts = PrefixCuts::new(ends.len(), live.len());
    // Each slot's edge to the sink with the whole limit's capacity, for after the decision.
    let mut whole: Vec<(EdgeRef, i64)> = Vec::with_capacity(ends.len());
    let slots: Vec<usize> = ends
        .iter()
        .enumerate()
        .map(|(j, &end)| {
            let node = g.add_node();
            let kept = if j == 0 { 1.0 } else { 1.0 - ARRIVALS_RESERVE };
            let cap = units(site_w * (end - start) * kept);
            whole.push((g.add_edge(node, sink, cap), units(site_w * (end - start))));
            cuts.slot(j, cap);
            start = end;
            node
        })
        .collect();
    let mut needs = Vec::with_capacity(live.len());
    for (k, &s) in live.iter().enumerate() {
        let wpa = problem.sessions[s].watts_per_amp();
        let node = g.add_node();
        needs.push(Need {
            edge: g.add_edge(src, node, 0),
            units: units(b.amp_hours[s] * wpa),
        });
        let mut start = 0.0;
        for (j, &end) in ends.iter().enumerate() {
            let overlap = stay[s].min(end) - start;
            if overlap <= 0.0 {
                break;
            }
            let cap = units(b.top[s] * wpa * overlap);
            g.add_edge(node, slots[j], cap);
            cuts.edge(k, j, cap);
            start = end;
        }
    }
    let cuts = cuts.finish(&needs);
    let may_fit = |set: &[usize]| cuts.may_fit(set);
    let full = lexi::serve_in_full(&mut g, src, sink, &mut needs, SHORT_MISSES, Some(&may_fit));
    if full.iter().all(|&f| f) {
        return None;
    }
    // What the others can get is measured under the whole limit: the reserve decides who is
    // short, not how far behind (measured under the reserve, it cost 0.04–0.5 points of energy
    // on a JPL window with reserves of 10–25 %).
    for (e, cap) in &mut whole {
        g.set_capacity(e, *cap);
    }
    // No bisection on the shortfall here: in the replays it changed nothing measurable (the
    // ranking needs what each can get, not the fairest split) and cost a flow per step.
    lexi::fill_the_rest(&mut g, src, sink, &mut needs, &full, i64::MAX);
    let mut short = vec![None; n];
    for (k, &s) in live.iter().enumerate() {
        if !full[k] {
            short[s] = Some(g.flow(needs[k].edge) as f64 / UNITS_PER_WH);
        }
    }
    Some(short)
}

/// The look-ahead network's cuts that put the first `p` time slots on the sink's side, for
/// every `p`: a set of sessions fits only if, for each `p`, what they need beyond what they can
/// get after slot `p` fits in the first `p` slots. Every session's stay starts now, so its
/// slots are a prefix of the slots; these cuts are then the ones that decide (a set of slots
/// cut elsewhere cuts less than its prefix of the same length would), up to the rounding of
/// capacities to whole units and the merged intervals, so they are a necessary condition that
/// is nearly always also sufficient: the caller confirms with a flow. Costs
/// O(sessions × slots) per set instead of a maximum flow.
struct PrefixCuts {
    slots: usize,
    /// Capacity of the first `p` slots, `p` = 0..=slots.
    before: Vec<i64>,
    /// Per session, (slots + 1) entries: what its edges carry from slot `p` on.
    after: Vec<i64>,
    /// Per session, its need.
    needs: Vec<i64>,
}

impl PrefixCuts {
    fn new(slots: usize, sessions: usize) -> Self {
        Self {
            slots,
            before: vec![0; slots + 1],
            after: vec![0; (slots + 1) * sessions],
            needs: Vec::new(),
        }
    }

    /// Slot `j`'s capacity to the sink.
    fn slot(&mut self, j: usize, cap: i64) {
        self.before[j + 1] = cap;
    }

    /// Session `k`'s edge to slot `j`.
    fn edge(&mut self, k: usize, j: usize, cap: i64) {
        self.after[k * (self.slots + 1) + j] = cap;
    }

    /// Turns the capacities into prefix and suffix sums.
    fn finish(mut self, needs: &[Need]) -> Self {
        for p in 1..=self.slots {
            self.before[p] += self.before[p - 1];
        }
        for row in self.after.chunks_mut(self.slots + 1) {
            for p in (0..self.slots).rev() {
                row[p] += row[p + 1];
            }
        }
        self.needs = needs.iter().map(|n| n.units.max(0)).collect();
        self
    }

    /// Whether the sessions `set` (indices into the needs) pass every prefix cut.
    fn may_fit(&self, set: &[usize]) -> bool {
        let w = self.slots + 1;
        (0..w).all(|p| {
            let must: i64 = set
                .iter()
                .map(|&k| (self.needs[k] - self.after[k * w + p]).max(0))
                .sum();
            must <= self.before[p]
        })
    }
}

/// The sessions with a need, or `None` when the look-ahead does not run: no power limit, no
/// one to charge, or a site too big.
fn sessions_to_plan(b: &Bounds, site_w: f64) -> Option<Vec<usize>> {
    let live: Vec<usize> = (0..b.hi.len()).filter(|&s| b.hi[s] > 0.0).collect();
    (site_w.is_finite() && !live.is_empty() && live.len() <= MAX_SESSIONS).then_some(live)
}

/// Energy in flow units (rounded down, never negative).
fn units(wh: f64) -> i64 {
    (wh * UNITS_PER_WH).floor().max(0.0) as i64
}

/// The ends (hours after this period) of the intervals: the distinct stays, merged down to
/// about `most` by keeping evenly spaced ones and the last (a session leaving inside
/// a merged interval counts its overlap, a slight optimism the caller's checks absorb).
fn interval_ends(rests: impl Iterator<Item = f64>, most: usize) -> Vec<f64> {
    let mut ends: Vec<f64> = rests.filter(|&r| r > 0.0).collect();
    ends.sort_by(f64::total_cmp);
    ends.dedup_by(|a, b| (*a - *b).abs() < 1e-9);
    if ends.len() > most {
        let last = ends[ends.len() - 1];
        let step = ends.len().div_ceil(most);
        let mut kept: Vec<f64> = ends.iter().copied().skip(step - 1).step_by(step).collect();
        if kept.last() != Some(&last) {
            kept.push(last);
        }
        ends = kept;
    }
    ends
}

#[cfg(test)]
mod tests {
    use chargegrid_core::limits::{Limit, Phase};
    use chargegrid_core::network::Wiring;
    use chargegrid_core::{Amperes, Volts, WattHours, Watts};
    use chrono::{TimeDelta, TimeZone, Utc};

    use super::*;
    use crate::alloc::bounds::session_bounds;
    use crate::alloc::problem::{LimitNode, SessionDemand};

    /// Two sessions under a 32 A × 230 V site, 5-minute periods: one leaves after this period
    /// and needs all of it at 32 A; the other stays 10 h and needs 5 kWh.
    fn site() -> (SiteProblem, AllocContext) {
        let now = Utc.with_ymd_and_hms(2026, 3, 2, 8, 0, 0).unwrap();
        let ctx = AllocContext::new(now, TimeDelta::minutes(5));
        let session = |wh: f64, stay: TimeDelta| {
            let mut s = SessionDemand::new(
                0,
                Wiring::SinglePhase(Phase::L1),
                Volts(230.0),
                Amperes(32.0),
                WattHours(wh),
                Some(now + stay),
            );
            s.min_current = Amperes(0.0);
            s
        };
        let p = SiteProblem {
            nodes: vec![LimitNode {
                parent: None,
                limit: Limit::power(Watts(32.0 * 230.0)),
                delta_primary: None,
            }],
            sessions: vec![
                session(32.0 * 230.0 / 12.0, TimeDelta::minutes(5)),
                session(5_000.0, TimeDelta::hours(10)),
            ],
        };
        (p, ctx)
    }

    #[test]
    fn power_moves_to_the_session_that_cannot_take_it_later() {
        let (p, ctx) = site();
        let b = session_bounds(&p, &ctx, false);
        let site_w = 32.0 * 230.0;
        let y = reroute(&p, &ctx, site_w, &b, &[0.0, 32.0]).expect("a re-route");
        assert!((y[0] - 32.0).abs() < 1e-3 && y[1].abs() < 1e-3, "{y:?}");
        // Already right: nothing to move.
        assert!(reroute(&p, &ctx, site_w, &b, &[32.0, 0.0]).is_none());
        // Power left idle now is taken too (the total this period never falls).
        let y = reroute(&p, &ctx, site_w, &b, &[16.0, 0.0]).expect("a re-route");
        assert!((y[0] - 32.0).abs() < 1e-3, "{y:?}");
    }

    /// The random source of these tests, the same on every run.
    fn seeded_rng() -> proptest::test_runner::TestRng {
        proptest::test_runner::TestRng::deterministic_rng(
            proptest::test_runner::RngAlgorithm::ChaCha,
        )
    }

    #[test]
    fn the_proposal_pushed_is_the_flow_a_search_finds() {
        use proptest::prelude::RngExt;
        let mut rng = seeded_rng();
        let (mut pushed, mut fell_back) = (0, 0);
        for _ in 0..500 {
            let (mut p, ctx) = site();
            let now = ctx.now;
            let n = rng.random_range(1..=12usize);
            p.sessions = (0..n)
                .map(|_| {
                    let mut s = SessionDemand::new(
                        0,
                        Wiring::SinglePhase(Phase::L1),
                        Volts(230.0),
                        Amperes(rng.random_range(6.0..32.0)),
                        WattHours(rng.random_range(0.0..30_000.0)),
                        Some(now + TimeDelta::minutes(rng.random_range(1..600))),
                    );
                    s.min_current = Amperes(0.0);
                    s
                })
                .collect();
            let b = session_bounds(&p, &ctx, false);
            // Proposals up to 1.5 times the site's limit: those over it are searched for.
            let site_w = rng.random_range(1_000.0..40_000.0);
            let scale = rng.random_range(0.0..1.5);
            let x: Vec<f64> = (0..n)
                .map(|s| b.hi[s] * rng.random_range(0.0..1.0))
                .collect();
            let drawn: f64 = (0..n).map(|s| x[s] * p.sessions[s].watts_per_amp()).sum();
            let x: Vec<f64> = x
                .iter()
                .map(|v| v * (scale * site_w / drawn.max(1.0)).min(1.0))
                .collect();
            let Some(live) = sessions_to_plan(&b, site_w) else {
                continue;
            };
            let a = lookahead(&p, &ctx, site_w, &b, &x, &live, Loading::Pushed);
            let r = lookahead(&p, &ctx, site_w, &b, &x, &live, Loading::Searched);
            assert_eq!(a.g.residuals(), r.g.residuals(), "proposal {x:?}");
            // Which way it was loaded, read off the searched network: the proposal fits the
            // period's limit when the search filled every session's edge to this period.
            let (seeds, filled) = proposal_and_flow(&r);
            if seeds > 0 && filled == seeds {
                pushed += 1;
            } else if filled < seeds {
                fell_back += 1;
            }
        }
        assert!(
            pushed > 200 && fell_back > 50,
            "{pushed} pushed, {fell_back} searched"
        );
        // Exactly at the limit: one session proposed the whole site.
        let (p, ctx) = site();
        let b = session_bounds(&p, &ctx, false);
        let (site_w, x) = (32.0 * 230.0, [32.0, 0.0]);
        let live = sessions_to_plan(&b, site_w).expect("a site to plan");
        let a = lookahead(&p, &ctx, site_w, &b, &x, &live, Loading::Pushed);
        let r = lookahead(&p, &ctx, site_w, &b, &x, &live, Loading::Searched);
        assert_eq!(
            proposal_and_flow(&r),
            (
                units(site_w * ctx.period_hours()),
                units(site_w * ctx.period_hours())
            )
        );
        assert_eq!(a.g.residuals(), r.g.residuals());
    }

    /// The proposal's energy this period (the capacities of the sessions' edges to it) and the
    /// flow through those edges, in flow units.
    fn proposal_and_flow(l: &Lookahead) -> (i64, i64) {
        let edges = || l.now_edges.iter().map(|&(_, e, _)| e);
        (
            edges().map(EdgeRef::capacity).sum(),
            edges().map(|e| l.g.flow(e)).sum(),
        )
    }

    #[test]
    fn who_fits_only_if_nobody_else_comes_is_found_short_and_ranked_by_the_whole_limit() {
        // One 32 A × 230 V site, 5-minute periods, two sessions staying 2 h that can take the
        // site's whole limit: together they need 90 % of what the site gives in those 2 h.
        let (mut p, ctx) = site();
        let site_w = 32.0 * 230.0;
        let two_hours = site_w * 2.0;
        let now = ctx.now;
        for (s, share) in p.sessions.iter_mut().zip([0.3, 0.6]) {
            s.energy_needed = WattHours(two_hours * share);
            s.departure = Some(now + TimeDelta::hours(2));
        }
        let b = session_bounds(&p, &ctx, false);
        let short = short_of_full(&p, &ctx, site_w, &b).expect("someone is short");
        // With 15 % of the site kept for arrivals, only the smaller need fits in full; the
        // larger is ranked by what it can get under the whole limit: all of it.
        assert_eq!(short[0], None);
        let reach = short[1].expect("the larger need is short");
        assert!((reach - two_hours * 0.6).abs() < 1.0, "{reach}");
        // Well within the reserve (60 % of the site together), both are served in full.
        for (s, share) in p.sessions.iter_mut().zip([0.2, 0.4]) {
            s.energy_needed = WattHours(two_hours * share);
        }
        let b = session_bounds(&p, &ctx, false);
        assert!(short_of_full(&p, &ctx, site_w, &b).is_none());
    }

    #[test]
    fn intervals_are_the_distinct_stays_merged_to_the_cap() {
        assert_eq!(
            interval_ends([2.0, 0.0, 1.0, 2.0].into_iter(), MAX_INTERVALS),
            vec![1.0, 2.0]
        );
        let many = interval_ends((1..=200).map(f64::from), MAX_INTERVALS);
        assert!(many.len() <= MAX_INTERVALS + 1, "{}", many.len());
        assert_eq!(many.last(), Some(&200.0));
        assert!(many.windows(2).all(|w| w[0] < w[1]));
    }

    /// A look-ahead network of random sessions, built as `short_of_full` builds it: slots of
    /// integer lengths, sessions with integer rates whose stays end on a slot's end, or, with
    /// `partial`, part-way into their last slot (as merged intervals do).
    fn random_network(
        rng: &mut proptest::test_runner::TestRng,
        partial: bool,
    ) -> (FlowGraph, Vec<Need>, PrefixCuts) {
        use proptest::prelude::RngExt;
        let m = rng.random_range(1..=6usize);
        let n = rng.random_range(1..=12usize);
        let site = rng.random_range(1..=20i64);
        let lengths: Vec<i64> = (0..m).map(|_| rng.random_range(1..=5)).collect();
        let mut g = FlowGraph::new(2);
        let mut cuts = PrefixCuts::new(m, n);
        let slots: Vec<usize> = (0..m)
            .map(|j| {
                let node = g.add_node();
                g.add_edge(node, 1, site * lengths[j]);
                cuts.slot(j, site * lengths[j]);
                node
            })
            .collect();
        let mut needs = Vec::new();
        for k in 0..n {
            let rate = rng.random_range(1..=8i64);
            let stay = rng.random_range(1..=m);
            let node = g.add_node();
            let mut most = 0;
            for j in 0..stay {
                let mut time = lengths[j];
                if partial && j + 1 == stay {
                    time = rng.random_range(1..=lengths[j]);
                }
                g.add_edge(node, slots[j], rate * time);
                cuts.edge(k, j, rate * time);
                most += rate * time;
            }
            needs.push(Need {
                edge: g.add_edge(0, node, 0),
                units: rng.random_range(0..=most + 3),
            });
        }
        let cuts = cuts.finish(&needs);
        (g, needs, cuts)
    }

    #[test]
    fn the_prefix_cuts_decide_who_fits_as_the_flow_does() {
        let mut rng = seeded_rng();
        let (mut exact, mut refused) = (0, 0);
        for round in 0..2_000 {
            let partial = round % 2 == 1;
            let (g, needs, cuts) = random_network(&mut rng, partial);
            // Every subset of up to 12 sessions would be many: the prefixes by need and a few
            // random sets.
            let mut sets: Vec<Vec<usize>> = (0..=needs.len()).map(|k| (0..k).collect()).collect();
            for _ in 0..4 {
                use proptest::prelude::RngExt;
                sets.push((0..needs.len()).filter(|_| rng.random_bool(0.5)).collect());
            }
            for set in sets {
                let mut trial = g.clone();
                let mut edges: Vec<Need> = needs.clone();
                let mut total = 0;
                for &k in &set {
                    trial.set_capacity(&mut edges[k].edge, needs[k].units);
                    total += needs[k].units;
                }
                let flows = trial.max_flow(0, 1) >= total;
                let passes = cuts.may_fit(&set);
                // A necessary condition: what it refuses never fits.
                assert!(passes || !flows, "refused a set that fits: {set:?}");
                if !passes {
                    refused += 1;
                }
                // With stays on slot ends (no rounding here), it is the whole condition.
                if !partial {
                    assert_eq!(passes, flows, "set {set:?}");
                    exact += 1;
                }
            }
        }
        assert!(
            refused > 1_000 && exact > 10_000,
            "{refused} refused, {exact} exact"
        );
        // And with it, who is served in full and every flow stay what the flows alone give.
        for round in 0..2_000 {
            let (g, needs, cuts) = random_network(&mut rng, round % 2 == 1);
            let (mut g1, mut n1) = (g.clone(), needs.clone());
            let plain = lexi::serve_in_full(&mut g1, 0, 1, &mut n1, SHORT_MISSES, None);
            let (mut g2, mut n2) = (g, needs);
            let may_fit = |set: &[usize]| cuts.may_fit(set);
            let cut = lexi::serve_in_full(&mut g2, 0, 1, &mut n2, SHORT_MISSES, Some(&may_fit));
            assert_eq!(plain, cut);
            let flows =
                |g: &FlowGraph, n: &[Need]| n.iter().map(|e| g.flow(e.edge)).collect::<Vec<_>>();
            assert_eq!(flows(&g1, &n1), flows(&g2, &n2));
        }
    }
}
