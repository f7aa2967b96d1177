//! Dinic's maximum flow on integer capacities: chargegrid's look-ahead over the sessions present
//! ([`super::horizon`]) and the replay's offline-optimal reference.
//!
//! Written here rather than pulled from an LP crate: both problems (energy from sessions to time
//! slots, slots to the grid) are network-flow problems, so max-flow solves the LP exactly and in
//! integers, with no solver tolerance to argue about and no dependency.

/// No edge (end of a node's list).
const NONE: u32 = u32::MAX;

/// A flow network under construction or solved. Edges live in one flat array, each beside its
/// reverse (`e ^ 1`), with per-node linked lists in insertion order: no allocation per node,
/// which matters when the look-ahead builds a small network for every site on every decision.
/// (Insertion order decides which of several maximum flows is found: the offline plan charges
/// each session in its earliest slots first.) Indices are `u32` and an edge's head, next edge
/// and residual capacity sit together (16 bytes), so a search reads one cache line per edge
/// where three arrays read three (session 26, with the kept search arrays, the level search
/// stopped at the sink and the one-pass search: the no-floor benchmark 44 → 37 ms, the offline
/// optimum's solve 18 → 13 ms, docs/BENCHMARKS.md).
#[derive(Debug, Default)]
pub(crate) struct FlowGraph {
    /// First and last edge out of each node.
    head: Vec<u32>,
    tail: Vec<u32>,
    edges: Vec<Edge>,
    /// The search's working arrays, kept between flows (not part of the network: a clone
    /// starts without them).
    scratch: Scratch,
}

/// One direction of an edge.
#[derive(Debug, Clone, Copy)]
struct Edge {
    /// Its head node.
    to: u32,
    /// The next edge out of the same tail.
    next: u32,
    /// Residual capacity.
    cap: i64,
}

/// Per node: BFS level and DFS cursor; the BFS queue.
#[derive(Debug, Default)]
struct Scratch {
    level: Vec<i32>,
    cursor: Vec<u32>,
    queue: Vec<u32>,
}

impl Clone for FlowGraph {
    fn clone(&self) -> Self {
        Self {
            head: self.head.clone(),
            tail: self.tail.clone(),
            edges: self.edges.clone(),
            scratch: Scratch::default(),
        }
    }

    fn clone_from(&mut self, source: &Self) {
        self.head.clone_from(&source.head);
        self.tail.clone_from(&source.tail);
        self.edges.clone_from(&source.edges);
    }
}

/// Handle of an added edge, to read its flow after solving.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EdgeRef {
    index: usize,
    cap: i64,
}

impl EdgeRef {
    /// The capacity the edge was given (or last set to).
    #[cfg(test)]
    pub fn capacity(self) -> i64 {
        self.cap
    }
}

/// A node or edge index as stored (networks here have far fewer than 2³² of either).
fn stored(i: usize) -> u32 {
    u32::try_from(i)
        .ok()
        .filter(|&i| i != NONE)
        .expect("a flow network under 2^32 - 1 nodes and edges")
}

impl FlowGraph {
    /// A graph with `n` nodes and no edges.
    pub fn new(n: usize) -> Self {
        Self {
            head: vec![NONE; n],
            tail: vec![NONE; n],
            ..Self::default()
        }
    }

    /// Makes room for `nodes` more nodes and `edges` more edges, so building does not
    /// reallocate.
    pub fn reserve(&mut self, nodes: usize, edges: usize) {
        self.head.reserve(nodes);
        self.tail.reserve(nodes);
        self.edges.reserve(2 * edges);
    }

    /// Adds a node, returning its index.
    pub fn add_node(&mut self) -> usize {
        self.head.push(NONE);
        self.tail.push(NONE);
        self.head.len() - 1
    }

    /// Adds a directed edge with capacity `cap` (>= 0).
    pub fn add_edge(&mut self, from: usize, to: usize, cap: i64) -> EdgeRef {
        let first = self.edges.len();
        for (a, b, c) in [(from, to, cap), (to, from, 0)] {
            let e = stored(self.edges.len());
            self.edges.push(Edge {
                to: stored(b),
                next: NONE,
                cap: c,
            });
            match self.tail[a] {
                NONE => self.head[a] = e,
                last => self.edges[last as usize].next = e,
            }
            self.tail[a] = e;
        }
        EdgeRef { index: first, cap }
    }

    /// Changes an edge's capacity; it must stay at or above the edge's present flow. A later
    /// [`FlowGraph::max_flow`] continues from the flow already pushed.
    pub fn set_capacity(&mut self, e: &mut EdgeRef, cap: i64) {
        self.edges[e.index].cap += cap - e.cap;
        e.cap = cap;
    }

    /// Puts `amount` more flow on an edge, as an augmenting path through it would (its residual
    /// falls, its reverse's rises), so that a flow known in advance need not be searched for.
    /// The caller pushes a flow (paths from source to sink, summed per edge), within every
    /// edge's capacity: the network's flow must stay a flow for [`FlowGraph::max_flow`] to
    /// continue from it.
    pub fn push(&mut self, e: EdgeRef, amount: i64) {
        debug_assert!(
            amount <= self.edges[e.index].cap,
            "a push over the residual"
        );
        self.edges[e.index].cap -= amount;
        self.edges[e.index ^ 1].cap += amount;
    }

    /// Every edge's residual capacity, in order (to compare two ways of reaching a flow).
    #[cfg(test)]
    pub fn residuals(&self) -> Vec<i64> {
        self.edges.iter().map(|e| e.cap).collect()
    }

    /// The flow through an edge after [`FlowGraph::max_flow`] or [`FlowGraph::push`].
    pub fn flow(&self, e: EdgeRef) -> i64 {
        e.cap - self.edges[e.index].cap
    }

    /// Pushes the maximum flow from `s` to `t`, returning its value (0 when they are the same
    /// node).
    pub fn max_flow(&mut self, s: usize, t: usize) -> i64 {
        let n = self.head.len();
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.level.resize(n, -1);
        scratch.cursor.resize(n, NONE);
        let mut total = 0;
        while self.levels(s, t, &mut scratch) {
            scratch.cursor.copy_from_slice(&self.head);
            total += self.augment(s, t, i64::MAX, &scratch.level, &mut scratch.cursor);
        }
        self.scratch = scratch;
        total
    }

    /// BFS levels from `s` in the residual network, stopped once `t` has one (no node found
    /// later could be on a shortest path to it); whether `t` is reached.
    fn levels(&self, s: usize, t: usize, scratch: &mut Scratch) -> bool {
        let Scratch { level, queue, .. } = scratch;
        level.iter_mut().for_each(|l| *l = -1);
        level[s] = 0;
        queue.clear();
        queue.push(stored(s));
        let mut at = 0;
        while at < queue.len() {
            let v = queue[at] as usize;
            at += 1;
            let mut e = self.head[v];
            while e != NONE {
                let edge = &self.edges[e as usize];
                let w = edge.to as usize;
                if edge.cap > 0 && level[w] < 0 {
                    level[w] = level[v] + 1;
                    if w == t {
                        return true;
                    }
                    queue.push(edge.to);
                }
                e = edge.next;
            }
        }
        false
    }

    /// Pushes up to `limit` from `v` to `t` along edges that go one level down, continuing
    /// from each node's cursor after every path (what a restart from the source for each path
    /// would find, in the same order, without walking back up; depth is small: the graphs here
    /// have 4–5 layers); returns what was pushed.
    fn augment(
        &mut self,
        v: usize,
        t: usize,
        limit: i64,
        level: &[i32],
        cursor: &mut [u32],
    ) -> i64 {
        if v == t {
            return limit;
        }
        let mut pushed = 0;
        while cursor[v] != NONE {
            let e = cursor[v] as usize;
            let Edge { to, next, cap } = self.edges[e];
            let w = to as usize;
            if cap > 0 && level[w] == level[v] + 1 {
                let more = self.augment(w, t, (limit - pushed).min(cap), level, cursor);
                if more > 0 {
                    self.edges[e].cap -= more;
                    self.edges[e ^ 1].cap += more;
                    pushed += more;
                    if pushed == limit {
                        return pushed;
                    }
                    // The edge may still carry more (the path ended at a smaller capacity
                    // further down): it stays the cursor while it has room.
                    if self.edges[e].cap > 0 {
                        continue;
                    }
                }
            }
            cursor[v] = next;
        }
        pushed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classic_small_network() {
        // s=0, t=3: two paths with a cross edge; max flow 5.
        let mut g = FlowGraph::new(4);
        let a = g.add_edge(0, 1, 3);
        g.add_edge(0, 2, 2);
        g.add_edge(1, 2, 5);
        g.add_edge(1, 3, 2);
        g.add_edge(2, 3, 3);
        assert_eq!(g.max_flow(0, 3), 5);
        assert_eq!(g.flow(a), 3);
    }

    /// The value by a plain shortest-augmenting-path search on a capacity matrix (Edmonds–Karp),
    /// written apart from the graph under test.
    fn reference(n: usize, edges: &[(usize, usize, i64)], s: usize, t: usize) -> i64 {
        let mut cap = vec![vec![0i64; n]; n];
        for &(a, b, c) in edges {
            cap[a][b] += c;
        }
        let mut total = 0;
        loop {
            let mut prev = vec![usize::MAX; n];
            prev[s] = s;
            let mut queue = std::collections::VecDeque::from([s]);
            while let Some(v) = queue.pop_front() {
                for w in 0..n {
                    if cap[v][w] > 0 && prev[w] == usize::MAX {
                        prev[w] = v;
                        queue.push_back(w);
                    }
                }
            }
            if prev[t] == usize::MAX {
                return total;
            }
            let mut push = i64::MAX;
            let mut w = t;
            while w != s {
                push = push.min(cap[prev[w]][w]);
                w = prev[w];
            }
            let mut w = t;
            while w != s {
                cap[prev[w]][w] -= push;
                cap[w][prev[w]] += push;
                w = prev[w];
            }
            total += push;
        }
    }

    /// The search before session 26: one augmenting path per descent from the source.
    fn one_path_max_flow(g: &mut FlowGraph, s: usize, t: usize) -> i64 {
        fn descend(
            g: &mut FlowGraph,
            v: usize,
            t: usize,
            limit: i64,
            level: &[i32],
            cursor: &mut [u32],
        ) -> i64 {
            if v == t {
                return limit;
            }
            while cursor[v] != NONE {
                let e = cursor[v] as usize;
                let Edge { to, next, cap } = g.edges[e];
                if cap > 0 && level[to as usize] == level[v] + 1 {
                    let pushed = descend(g, to as usize, t, limit.min(cap), level, cursor);
                    if pushed > 0 {
                        g.edges[e].cap -= pushed;
                        g.edges[e ^ 1].cap += pushed;
                        return pushed;
                    }
                }
                cursor[v] = next;
            }
            0
        }
        let n = g.head.len();
        let mut scratch = Scratch {
            level: vec![-1; n],
            cursor: vec![NONE; n],
            queue: Vec::new(),
        };
        let mut total = 0;
        while s != t && g.levels(s, t, &mut scratch) {
            scratch.cursor.copy_from_slice(&g.head);
            loop {
                let pushed = descend(g, s, t, i64::MAX, &scratch.level, &mut scratch.cursor);
                if pushed == 0 {
                    break;
                }
                total += pushed;
            }
        }
        total
    }

    /// On random networks (parallel edges, cycles, edges into the source and out of the sink
    /// included), the maximum flow's value is the reference's, every edge's flow is within its
    /// capacity, and flow is conserved at every node but the two ends; and a flow resumed after
    /// capacities rise reaches the reference's value for the new capacities.
    #[test]
    fn random_networks_reach_the_reference_maximum() {
        use proptest::prelude::RngExt;
        let mut rng = proptest::test_runner::TestRng::deterministic_rng(
            proptest::test_runner::RngAlgorithm::ChaCha,
        );
        for _ in 0..500 {
            let n = rng.random_range(2..=9usize);
            let m = rng.random_range(0..=30usize);
            let edges: Vec<(usize, usize, i64)> = (0..m)
                .map(|_| {
                    (
                        rng.random_range(0..n),
                        rng.random_range(0..n),
                        rng.random_range(0..=20),
                    )
                })
                .filter(|&(a, b, _)| a != b)
                .collect();
            let mut g = FlowGraph::new(n);
            let mut refs: Vec<EdgeRef> =
                edges.iter().map(|&(a, b, c)| g.add_edge(a, b, c)).collect();
            let mut old = g.clone();
            let value = g.max_flow(0, n - 1);
            // The same flow on every edge as the search it replaced (which flow is found among
            // several maximum ones is what the look-ahead's answers depend on).
            assert_eq!(one_path_max_flow(&mut old, 0, n - 1), value);
            assert!(refs.iter().all(|&e| old.flow(e) == g.flow(e)), "{edges:?}");
            assert_eq!(value, reference(n, &edges, 0, n - 1), "{edges:?}");
            let mut net = vec![0i64; n];
            for (&(a, b, c), &e) in edges.iter().zip(&refs) {
                let f = g.flow(e);
                assert!((0..=c).contains(&f), "flow {f} on an edge of {c}");
                net[a] -= f;
                net[b] += f;
            }
            assert!(net[1..n - 1].iter().all(|&x| x == 0), "{net:?}");
            assert_eq!(net[n - 1], value);
            // Raise every capacity by up to 5 and resume.
            let raised: Vec<(usize, usize, i64)> = edges
                .iter()
                .zip(&mut refs)
                .map(|(&(a, b, c), e)| {
                    let c = c + rng.random_range(0..=5);
                    g.set_capacity(e, c);
                    (a, b, c)
                })
                .collect();
            let more = g.max_flow(0, n - 1);
            assert_eq!(value + more, reference(n, &raised, 0, n - 1), "{raised:?}");
        }
    }
}
