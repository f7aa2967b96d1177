//! Dinic's maximum flow on integer capacities, for the offline-optimal reference.
//!
//! Written here rather than pulled from an LP crate: the offline problem (energy from
//! sessions to time slots, slots to the grid) is a network-flow problem, so max-flow solves the
//! LP exactly and in integers, with no solver tolerance to argue about and no dependency.

/// An arc of the residual graph.
#[derive(Debug, Clone)]
struct Arc {
    to: usize,
    rev: usize,
    cap: i64,
}

/// A flow network under construction or solved.
#[derive(Debug, Clone, Default)]
pub(crate) struct FlowGraph {
    adj: Vec<Vec<Arc>>,
}

/// Handle of an added edge, to read its flow after solving.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EdgeRef {
    from: usize,
    index: usize,
    cap: i64,
}

impl FlowGraph {
    /// A graph with `n` nodes and no edges.
    pub fn new(n: usize) -> Self {
        Self {
            adj: vec![Vec::new(); n],
        }
    }

    /// Adds a node, returning its index.
    pub fn add_node(&mut self) -> usize {
        self.adj.push(Vec::new());
        self.adj.len() - 1
    }

    /// Adds a directed edge with capacity `cap` (>= 0).
    pub fn add_edge(&mut self, from: usize, to: usize, cap: i64) -> EdgeRef {
        let index = self.adj[from].len();
        let rev = self.adj[to].len() + usize::from(from == to);
        self.adj[from].push(Arc { to, rev, cap });
        self.adj[to].push(Arc {
            to: from,
            rev: index,
            cap: 0,
        });
        EdgeRef { from, index, cap }
    }

    /// The flow through an edge after [`FlowGraph::max_flow`].
    pub fn flow(&self, e: EdgeRef) -> i64 {
        e.cap - self.adj[e.from][e.index].cap
    }

    /// Pushes the maximum flow from `s` to `t`, returning its value.
    pub fn max_flow(&mut self, s: usize, t: usize) -> i64 {
        let n = self.adj.len();
        let mut total = 0;
        let mut level = vec![-1i32; n];
        let mut next = vec![0usize; n];
        loop {
            // BFS levels.
            level.iter_mut().for_each(|l| *l = -1);
            level[s] = 0;
            let mut queue = std::collections::VecDeque::from([s]);
            while let Some(v) = queue.pop_front() {
                for a in &self.adj[v] {
                    if a.cap > 0 && level[a.to] < 0 {
                        level[a.to] = level[v] + 1;
                        queue.push_back(a.to);
                    }
                }
            }
            if level[t] < 0 {
                return total;
            }
            next.iter_mut().for_each(|i| *i = 0);
            loop {
                let pushed = self.augment(s, t, i64::MAX, &level, &mut next);
                if pushed == 0 {
                    break;
                }
                total += pushed;
            }
        }
    }

    /// One blocking-flow path search (depth is small: the offline graph has 4–5 layers).
    fn augment(
        &mut self,
        v: usize,
        t: usize,
        limit: i64,
        level: &[i32],
        next: &mut [usize],
    ) -> i64 {
        if v == t {
            return limit;
        }
        while next[v] < self.adj[v].len() {
            let i = next[v];
            let (to, cap) = (self.adj[v][i].to, self.adj[v][i].cap);
            if cap > 0 && level[to] == level[v] + 1 {
                let pushed = self.augment(to, t, limit.min(cap), level, next);
                if pushed > 0 {
                    self.adj[v][i].cap -= pushed;
                    let rev = self.adj[v][i].rev;
                    self.adj[to][rev].cap += pushed;
                    return pushed;
                }
            }
            next[v] += 1;
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
