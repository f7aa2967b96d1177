//! Dinic's maximum flow on integer capacities: chargegrid's look-ahead over the sessions present
//! ([`super::horizon`]) and the replay's offline-optimal reference.
//!
//! Written here rather than pulled from an LP crate: both problems (energy from sessions to time
//! slots, slots to the grid) are network-flow problems, so max-flow solves the LP exactly and in
//! integers, with no solver tolerance to argue about and no dependency.

/// No edge (end of a node's list).
const NONE: usize = usize::MAX;

/// A flow network under construction or solved. Edges live in flat arrays, each beside its
/// reverse (`e ^ 1`), with per-node linked lists in insertion order: no allocation per node,
/// which matters when the look-ahead builds a small network for every site on every decision.
/// (Insertion order decides which of several maximum flows is found: the offline plan charges
/// each session in its earliest slots first.)
#[derive(Debug, Clone, Default)]
pub(crate) struct FlowGraph {
    /// First and last edge out of each node.
    head: Vec<usize>,
    tail: Vec<usize>,
    /// Per edge: its head node, residual capacity and the next edge out of the same tail.
    to: Vec<usize>,
    cap: Vec<i64>,
    next: Vec<usize>,
}

/// Handle of an added edge, to read its flow after solving.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EdgeRef {
    index: usize,
    cap: i64,
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
        self.to.reserve(2 * edges);
        self.cap.reserve(2 * edges);
        self.next.reserve(2 * edges);
    }

    /// Adds a node, returning its index.
    pub fn add_node(&mut self) -> usize {
        self.head.push(NONE);
        self.tail.push(NONE);
        self.head.len() - 1
    }

    /// Adds a directed edge with capacity `cap` (>= 0).
    pub fn add_edge(&mut self, from: usize, to: usize, cap: i64) -> EdgeRef {
        let index = self.to.len();
        for (a, b, c) in [(from, to, cap), (to, from, 0)] {
            let e = self.to.len();
            self.to.push(b);
            self.cap.push(c);
            self.next.push(NONE);
            match self.tail[a] {
                NONE => self.head[a] = e,
                last => self.next[last] = e,
            }
            self.tail[a] = e;
        }
        EdgeRef { index, cap }
    }

    /// Changes an edge's capacity; it must stay at or above the edge's present flow. A later
    /// [`FlowGraph::max_flow`] continues from the flow already pushed.
    pub fn set_capacity(&mut self, e: &mut EdgeRef, cap: i64) {
        self.cap[e.index] += cap - e.cap;
        e.cap = cap;
    }

    /// The flow through an edge after [`FlowGraph::max_flow`].
    pub fn flow(&self, e: EdgeRef) -> i64 {
        e.cap - self.cap[e.index]
    }

    /// Pushes the maximum flow from `s` to `t`, returning its value.
    pub fn max_flow(&mut self, s: usize, t: usize) -> i64 {
        let n = self.head.len();
        let mut total = 0;
        let mut level = vec![-1i32; n];
        let mut cursor = vec![NONE; n];
        let mut queue = Vec::with_capacity(n);
        loop {
            // BFS levels.
            level.iter_mut().for_each(|l| *l = -1);
            level[s] = 0;
            queue.clear();
            queue.push(s);
            let mut at = 0;
            while at < queue.len() {
                let v = queue[at];
                at += 1;
                let mut e = self.head[v];
                while e != NONE {
                    let w = self.to[e];
                    if self.cap[e] > 0 && level[w] < 0 {
                        level[w] = level[v] + 1;
                        queue.push(w);
                    }
                    e = self.next[e];
                }
            }
            if level[t] < 0 {
                return total;
            }
            cursor.copy_from_slice(&self.head);
            loop {
                let pushed = self.augment(s, t, i64::MAX, &level, &mut cursor);
                if pushed == 0 {
                    break;
                }
                total += pushed;
            }
        }
    }

    /// One blocking-flow path search (depth is small: both graphs have 4–5 layers).
    fn augment(
        &mut self,
        v: usize,
        t: usize,
        limit: i64,
        level: &[i32],
        cursor: &mut [usize],
    ) -> i64 {
        if v == t {
            return limit;
        }
        while cursor[v] != NONE {
            let e = cursor[v];
            let w = self.to[e];
            if self.cap[e] > 0 && level[w] == level[v] + 1 {
                let pushed = self.augment(w, t, limit.min(self.cap[e]), level, cursor);
                if pushed > 0 {
                    self.cap[e] -= pushed;
                    self.cap[e ^ 1] += pushed;
                    return pushed;
                }
            }
            cursor[v] = self.next[e];
        }
        0
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
}
