//! The chargers connected to this node, and the pump that hands each command from the bus to
//! the connection task of its charger.

use std::collections::HashMap;
use std::sync::Mutex;

use chargegrid_core::ChargerId;
use chargegrid_core::command::CommandReply;
use chargegrid_store::IncomingCommand;
use tokio::sync::mpsc;

use crate::Gateway;

/// A command waiting for its connection, boxed: tokio allocates a channel's first block of 32
/// slots with the channel, and a command is 240 bytes, so unboxed an idle connection's inbox
/// held 7.5 KiB (256 bytes boxed; #20's memory per charger).
pub(crate) type Queued = Box<IncomingCommand>;

/// A connection's inbox for commands, with a generation number so a replaced connection
/// cannot remove its successor.
#[derive(Debug, Clone)]
pub(crate) struct Handle {
    pub generation: u64,
    pub commands: mpsc::Sender<Queued>,
    pub replaced: tokio_util::sync::CancellationToken,
}

#[derive(Debug, Default)]
pub(crate) struct LocalConnections {
    map: Mutex<HashMap<ChargerId, Handle>>,
    next: std::sync::atomic::AtomicU64,
}

impl LocalConnections {
    /// Registers a new connection, telling an older one for the same charger to close.
    pub fn insert(&self, charger: &ChargerId, commands: mpsc::Sender<Queued>) -> Handle {
        let generation = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let handle = Handle {
            generation,
            commands,
            replaced: tokio_util::sync::CancellationToken::new(),
        };
        let old = self
            .map
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(charger.clone(), handle.clone());
        if let Some(old) = old {
            old.replaced.cancel();
        }
        handle
    }

    /// Removes the connection if it is still the current one; returns whether it was.
    pub fn remove(&self, charger: &ChargerId, generation: u64) -> bool {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if map.get(charger).is_some_and(|h| h.generation == generation) {
            map.remove(charger);
            true
        } else {
            false
        }
    }

    pub fn get(&self, charger: &ChargerId) -> Option<Handle> {
        self.map
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(charger)
            .cloned()
    }

    pub fn len(&self) -> usize {
        self.map.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

/// Hands bus commands to connection tasks; a command for a charger no longer here is answered
/// `Offline` at once so the sender does not wait for its timeout.
pub(crate) async fn route_commands(
    gateway: Gateway,
    mut commands: mpsc::Receiver<IncomingCommand>,
) {
    let refused = |reason: &str| {
        gateway
            .inner
            .metrics
            .commands_refused
            .with_label_values(&[reason])
            .inc();
    };
    while let Some(cmd) = commands.recv().await {
        let handle = gateway.inner.local.get(&cmd.envelope.charger);
        match handle {
            Some(h) => match h.commands.try_send(Box::new(cmd)) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Closed(cmd)) => {
                    refused("offline");
                    cmd.reply(CommandReply::Offline).await;
                }
                // One slow charger must not hold up commands for every other charger.
                Err(mpsc::error::TrySendError::Full(cmd)) => {
                    refused("queue_full");
                    cmd.reply(CommandReply::Timeout).await;
                }
            },
            None => {
                refused("offline");
                cmd.reply(CommandReply::Offline).await;
            }
        }
    }
}
