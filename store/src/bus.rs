//! The command bus: any node (API, scheduler) sends a command to a charger, the node holding
//! the charger's socket receives it, forwards it as an OCPP CALL and sends the reply back.

use std::time::Duration;

use async_trait::async_trait;
use chargegrid_core::command::{ChargerCommand, CommandReply};
use chargegrid_core::{ChargerId, NodeId};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use crate::StoreResult;

/// A command in transit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommandEnvelope {
    /// Unique id, to match the reply.
    pub id: String,
    /// Target charger.
    pub charger: ChargerId,
    /// What to do.
    pub command: ChargerCommand,
    /// The node waiting for the reply.
    pub reply_to: NodeId,
    /// How long the sender waits, in milliseconds; the receiving node should not spend longer.
    pub timeout_ms: u64,
    /// When it was published (UTC milliseconds), to measure the bus's lag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at_ms: Option<i64>,
}

impl CommandEnvelope {
    /// A new envelope with a fresh id, not yet stamped with a send time.
    pub fn new(
        charger: ChargerId,
        command: ChargerCommand,
        reply_to: NodeId,
        timeout: Duration,
    ) -> Self {
        Self {
            id: uuid::Uuid::new_v4().to_string(),
            charger,
            command,
            reply_to,
            timeout_ms: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
            sent_at_ms: None,
        }
    }
}

/// Where a reply goes; implemented by each bus.
#[async_trait]
pub trait ReplySink: Send + Sync {
    /// Delivers the reply (best effort: the sender may have given up).
    async fn deliver(self: Box<Self>, reply: CommandReply);
}

/// A command received by the node holding the charger's socket.
pub struct IncomingCommand {
    /// The command.
    pub envelope: CommandEnvelope,
    sink: Box<dyn ReplySink>,
}

impl std::fmt::Debug for IncomingCommand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IncomingCommand")
            .field("envelope", &self.envelope)
            .finish_non_exhaustive()
    }
}

impl IncomingCommand {
    /// Wraps a received command with its reply path.
    pub fn new(envelope: CommandEnvelope, sink: Box<dyn ReplySink>) -> Self {
        Self { envelope, sink }
    }

    /// Sends the charger's answer back to the sender.
    pub async fn reply(self, reply: CommandReply) {
        self.sink.deliver(reply).await;
    }
}

/// Routes commands to the node that holds a charger's socket and replies back.
#[async_trait]
pub trait CommandBus: Send + Sync {
    /// Sends `command` to `charger` wherever it is connected and waits up to `timeout` for the
    /// reply. A charger with no socket anywhere gives `CommandReply::Offline`; no answer in time
    /// gives `CommandReply::Timeout`. Errors are only for the store itself failing.
    async fn send_command(
        &self,
        charger: &ChargerId,
        command: ChargerCommand,
        timeout: Duration,
    ) -> StoreResult<CommandReply>;

    /// Starts receiving the commands addressed to `node` (a gateway calls this once at start).
    async fn subscribe_commands(
        &self,
        node: &NodeId,
    ) -> StoreResult<mpsc::Receiver<IncomingCommand>>;
}
