//! The CALLs this connection sends: one outstanding at a time, each with its id (`cg-N`) and
//! deadline, matched to the charger's answer by id. An answer to anything else is dropped.

use chargegrid_store::IncomingCommand;
use tokio::time::Instant;

/// A CALL we sent and wait an answer for.
pub(crate) struct Outstanding {
    /// The message id.
    pub id: String,
    /// The action (a bounded metric label).
    pub action: &'static str,
    /// Who waits for the answer.
    pub command: IncomingCommand,
    /// When it times out.
    pub deadline: Instant,
}

/// The connection's outgoing CALLs.
#[derive(Default)]
pub(crate) struct Calls {
    outstanding: Option<Outstanding>,
    sent: u64,
}

impl Calls {
    /// Whether a new CALL may go out.
    pub(crate) fn is_idle(&self) -> bool {
        self.outstanding.is_none()
    }

    /// When the outstanding CALL times out.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.outstanding.as_ref().map(|o| o.deadline)
    }

    /// Records a CALL about to be sent; its message id.
    pub(crate) fn begin(
        &mut self,
        action: &'static str,
        command: IncomingCommand,
        deadline: Instant,
    ) -> String {
        self.sent += 1;
        let id = format!("cg-{}", self.sent);
        self.outstanding = Some(Outstanding {
            id: id.clone(),
            action,
            command,
            deadline,
        });
        id
    }

    /// The outstanding CALL an answer with `id` settles, if it is that one.
    pub(crate) fn answered(&mut self, id: &str) -> Option<Outstanding> {
        match self.outstanding.take() {
            Some(o) if o.id == id => Some(o),
            other => {
                self.outstanding = other;
                None
            }
        }
    }

    /// The outstanding CALL, given up (timed out, or the connection closes).
    pub(crate) fn give_up(&mut self) -> Option<Outstanding> {
        self.outstanding.take()
    }
}
