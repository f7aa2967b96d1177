//! [`CommandBus`] for the in-memory store: tokio channels within one process.

use std::time::Duration;

use async_trait::async_trait;
use chargegrid_core::command::{ChargerCommand, CommandReply};
use chargegrid_core::{ChargerId, NodeId};
use tokio::sync::{mpsc, oneshot};

use super::MemoryStore;
use crate::{
    CommandBus, CommandEnvelope, ConnectionRegistry, IncomingCommand, ReplySink, StoreResult,
};

/// How many commands may wait for a node before senders see it as busy (back-pressure).
const QUEUE: usize = 1024;

struct OneshotSink(oneshot::Sender<CommandReply>);

#[async_trait]
impl ReplySink for OneshotSink {
    async fn deliver(self: Box<Self>, reply: CommandReply) {
        // The sender may have timed out and gone; nothing to do then.
        let _ = self.0.send(reply);
    }
}

#[async_trait]
impl CommandBus for MemoryStore {
    async fn send_command(
        &self,
        charger: &ChargerId,
        command: ChargerCommand,
        timeout: Duration,
    ) -> StoreResult<CommandReply> {
        let Some(node) = self.locate(charger).await? else {
            return Ok(CommandReply::Offline);
        };
        let Some(queue) = self
            .subscribers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&node)
            .cloned()
        else {
            return Ok(CommandReply::Offline);
        };
        let (tx, rx) = oneshot::channel();
        let envelope = CommandEnvelope::new(charger.clone(), command, node, timeout);
        let incoming = IncomingCommand::new(envelope, Box::new(OneshotSink(tx)));
        if queue.send(incoming).await.is_err() {
            return Ok(CommandReply::Offline);
        }
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(reply)) => Ok(reply),
            // The receiving side dropped the command without answering.
            Ok(Err(_)) => Ok(CommandReply::Offline),
            Err(_) => Ok(CommandReply::Timeout),
        }
    }

    async fn subscribe_commands(
        &self,
        node: &NodeId,
    ) -> StoreResult<mpsc::Receiver<IncomingCommand>> {
        let (tx, rx) = mpsc::channel(QUEUE);
        self.subscribers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(node.clone(), tx);
        Ok(rx)
    }
}
