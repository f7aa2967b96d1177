//! Why an allocation problem was refused. Only malformed input is an error: a site that cannot
//! give anyone power is a valid problem whose answer is all zeros.

use thiserror::Error;

/// A malformed [`SiteProblem`](super::SiteProblem).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AllocError {
    /// The tree is empty, or node 0 has a parent.
    #[error("the limit tree needs a root at node 0 without a parent")]
    NoRoot,
    /// A node other than the root has no parent, or its parent does not come before it.
    #[error("node {node} has parent {parent:?}; parents must come before their children")]
    BadParent {
        /// The node.
        node: usize,
        /// Its declared parent.
        parent: Option<usize>,
    },
    /// A limit is negative or not finite.
    #[error("bad limit: {0}")]
    BadLimit(String),
    /// A session field is out of range.
    #[error("session {session}: {reason}")]
    BadSession {
        /// Index of the session.
        session: usize,
        /// What is wrong.
        reason: &'static str,
    },
}
