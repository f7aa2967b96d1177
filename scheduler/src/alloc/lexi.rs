//! The drivers' objective on a flow network of needs: among the flows that deliver the most
//! energy, one that serves as many sessions in full as it can, then keeps the largest shortfall
//! of the others as small as it can.
//!
//! Both the offline reference ([`crate::replay`]) and chargegrid's look-ahead
//! ([`super::horizon`]) model a site as source → session (its need) → time → sink. The source
//! edges are opened one at a time with [`FlowGraph::max_flow`] between: an augmenting path
//! never takes flow back from a source edge, and a session that cannot reach the sink in the
//! residual network never can again, so the flow found last is still a maximum flow while each
//! session kept on the way keeps what it was given. Which sessions to serve in full is chosen
//! greedily, smallest need first (a session that does not fit in full is closed again): the
//! classic heuristic for the most jobs done, not a proof of the most.

use super::maxflow::{EdgeRef, FlowGraph};

/// A session's edge out of the source, built with capacity 0, and its need in flow units.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Need {
    /// The source edge.
    pub edge: EdgeRef,
    /// The session's need.
    pub units: i64,
}

/// A necessary condition for a set of sessions (indices into the needs) to be served in full
/// together: see [`serve_in_full`].
pub(crate) type MayFit<'a> = dyn Fn(&[usize]) -> bool + 'a;

/// Opens the source edges smallest need first, keeping each session open only if it is served
/// in full together with those kept before; returns who is. Sessions not kept are left closed
/// (capacity 0, no flow). When everyone fits at once (the common case), that one flow is kept;
/// otherwise the run of smallest needs that fits is found by bisection (a handful of maximum
/// flows) and only the sessions after it are tried one by one, until `misses` in a row do not
/// fit.
///
/// `may_fit`, when given, is a necessary condition for a set of sessions (indices into
/// `needs`) to fit, cheaper than a flow (some of the network's cuts): a set it refuses is not
/// tried, and the bisection runs on it, with one flow to confirm its answer (and flows again
/// below it in the rare case that flow disagrees).
pub(crate) fn serve_in_full(
    g: &mut FlowGraph,
    src: usize,
    sink: usize,
    needs: &mut [Need],
    misses: usize,
    may_fit: Option<&MayFit>,
) -> Vec<bool> {
    let n = needs.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| (needs[i].units, i));
    let passes = |set: &[usize]| may_fit.is_none_or(|f| f(set));
    // Whether the first `k` of `order` fit together, tried on a copy.
    let fits = |trial: &mut Trial, g: &FlowGraph, needs: &[Need], k: usize| {
        trial.reset(g, needs);
        let mut total = 0;
        for &i in &order[..k] {
            let units = trial.needs[i].units.max(0);
            trial.g.set_capacity(&mut trial.needs[i].edge, units);
            total += units;
        }
        trial.g.max_flow(src, sink) >= total
    };
    let mut trial = Trial::default();
    if passes(&order) && fits(&mut trial, g, needs, n) {
        trial.keep(g, needs);
        return vec![true; n];
    }
    let mut full = vec![false; n];
    // The longest prefix that fits: feasibility only falls as the prefix grows.
    let (mut lo, mut hi) = (0, n - 1);
    let mut best: Option<Trial> = None;
    if may_fit.is_some() {
        // The longest prefix the condition lets through is at least as long: bisect on it and
        // confirm with one flow.
        lo = last_that_holds(lo, hi, |k| passes(&order[..k]));
        if lo > 0 && fits(&mut trial, g, needs, lo) {
            trial.promote(&mut best);
            hi = lo;
        } else {
            (lo, hi) = (0, lo.saturating_sub(1));
        }
    }
    lo = last_that_holds(lo, hi, |k| {
        let ok = fits(&mut trial, g, needs, k);
        if ok {
            trial.promote(&mut best);
        }
        ok
    });
    if let Some(mut b) = best {
        b.keep(g, needs);
    }
    for &i in &order[..lo] {
        full[i] = true;
    }
    // The one after the prefix does not fit; larger ones still may (a longer stay).
    let mut missed = 1;
    // Who is served in full so far, kept beside `full` for the condition (collecting it from
    // `full` for each candidate measured 2–3 ms slower on 10,000 sessions without a floor).
    let mut kept: Vec<usize> = order[..lo].to_vec();
    for &i in &order[lo + 1..] {
        if missed >= misses {
            break;
        }
        kept.push(i);
        if !passes(&kept) {
            kept.pop();
            missed += 1;
            continue;
        }
        // (Needs of 0 sort first and are always in the prefix.)
        trial.g.clone_from(g);
        let closed = needs[i].edge;
        g.set_capacity(&mut needs[i].edge, needs[i].units);
        g.max_flow(src, sink);
        if g.flow(needs[i].edge) >= needs[i].units {
            full[i] = true;
            missed = 0;
        } else {
            std::mem::swap(g, &mut trial.g);
            needs[i].edge = closed;
            kept.pop();
            missed += 1;
        }
    }
    full
}

/// The largest `k` in `lo..=hi` for which `holds(k)` is true, by bisection, for a `holds`
/// true at `lo` that only falls as `k` grows (`lo` itself is never asked).
fn last_that_holds(mut lo: usize, mut hi: usize, mut holds: impl FnMut(usize) -> bool) -> usize {
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if holds(mid) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    lo
}

/// After [`serve_in_full`]: opens the other sessions so that the largest shortfall among them
/// is as small as it can be, to within `resolution` units (a bisection over the shortfall,
/// each step a maximum flow), then to their whole need, and pushes the maximum flow.
pub(crate) fn fill_the_rest(
    g: &mut FlowGraph,
    src: usize,
    sink: usize,
    needs: &mut [Need],
    full: &[bool],
    resolution: i64,
) {
    let rest: Vec<usize> = (0..needs.len()).filter(|&i| !full[i]).collect();
    // Whether every other session can get its need less `short`, tried on a copy.
    let with_shortfall = |trial: &mut Trial, g: &FlowGraph, needs: &[Need], short: i64| {
        trial.reset(g, needs);
        for &i in &rest {
            let cap = (trial.needs[i].units - short).max(0);
            trial.g.set_capacity(&mut trial.needs[i].edge, cap);
        }
        trial.g.max_flow(src, sink);
        rest.iter()
            .all(|&i| trial.g.flow(trial.needs[i].edge) >= (trial.needs[i].units - short).max(0))
    };
    // Largest shortfall that is certainly enough: everything short.
    let mut hi = rest.iter().map(|&i| needs[i].units).max().unwrap_or(0);
    let mut lo = 0;
    let mut trial = Trial::default();
    let mut best: Option<Trial> = None;
    while hi.saturating_sub(lo) > resolution.max(0) {
        let mid = lo + (hi - lo) / 2;
        if with_shortfall(&mut trial, g, needs, mid) {
            hi = mid;
            trial.promote(&mut best);
        } else {
            lo = mid + 1;
        }
    }
    if let Some(mut b) = best {
        b.keep(g, needs);
    }
    for &i in &rest {
        let units = needs[i].units;
        g.set_capacity(&mut needs[i].edge, units);
    }
    g.max_flow(src, sink);
}

/// A copy of the network and its source edges to try a flow on; its arrays are reused from
/// trial to trial.
#[derive(Default)]
struct Trial {
    g: FlowGraph,
    needs: Vec<Need>,
}

impl Trial {
    fn reset(&mut self, g: &FlowGraph, needs: &[Need]) {
        self.g.clone_from(g);
        self.needs.clear();
        self.needs.extend_from_slice(needs);
    }

    /// Keeps this trial as the best so far, leaving the previous best (or an empty one) here
    /// to be reset for the next.
    fn promote(&mut self, best: &mut Option<Trial>) {
        match best {
            Some(b) => std::mem::swap(b, self),
            None => *best = Some(std::mem::take(self)),
        }
    }

    /// Makes this trial the network's flow.
    fn keep(&mut self, g: &mut FlowGraph, needs: &mut [Need]) {
        std::mem::swap(g, &mut self.g);
        needs.copy_from_slice(&self.needs);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: usize = 0;
    const SINK: usize = 1;

    /// One slot of `cap` units and a session per need, every source edge closed.
    fn one_slot(cap: i64, units: &[i64]) -> (FlowGraph, Vec<Need>) {
        let mut g = FlowGraph::new(3);
        g.add_edge(2, SINK, cap);
        let needs = units
            .iter()
            .map(|&units| {
                let v = g.add_node();
                g.add_edge(v, 2, 100);
                Need {
                    edge: g.add_edge(SRC, v, 0),
                    units,
                }
            })
            .collect();
        (g, needs)
    }

    fn flows(g: &FlowGraph, needs: &[Need]) -> Vec<i64> {
        needs.iter().map(|n| g.flow(n.edge)).collect()
    }

    /// Needs of 6, 5 and 4 in one slot of 10. The most energy is 10 however it is split; only
    /// smallest-first serves two in full.
    #[test]
    fn the_most_sessions_in_full_and_still_the_most_energy() {
        let (mut g, mut needs) = one_slot(10, &[6, 5, 4]);
        let full = serve_in_full(&mut g, SRC, SINK, &mut needs, usize::MAX, None);
        assert_eq!(full, vec![false, true, true]);
        assert_eq!(flows(&g, &needs), vec![0, 5, 4]);
        fill_the_rest(&mut g, SRC, SINK, &mut needs, &full, 0);
        assert_eq!(flows(&g, &needs), vec![1, 5, 4]);
        // When all fit, all are served at once.
        let (mut g, mut needs) = one_slot(15, &[6, 5, 4]);
        assert_eq!(
            serve_in_full(&mut g, SRC, SINK, &mut needs, usize::MAX, None),
            vec![true; 3]
        );
        assert_eq!(flows(&g, &needs), vec![6, 5, 4]);
    }

    /// Two needs of 10 in a slot of 12: one is served in full; with neither kept, the
    /// shortfall is shared, 6 each.
    #[test]
    fn the_largest_shortfall_is_as_small_as_it_can_be() {
        let (mut g, mut needs) = one_slot(12, &[10, 10]);
        let full = serve_in_full(&mut g, SRC, SINK, &mut needs, usize::MAX, None);
        assert_eq!(full.iter().filter(|&&f| f).count(), 1);
        let (mut g, mut needs) = one_slot(12, &[10, 10]);
        fill_the_rest(&mut g, SRC, SINK, &mut needs, &[false, false], 0);
        assert_eq!(flows(&g, &needs), vec![6, 6]);
    }
}
