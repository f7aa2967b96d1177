//! [`CommandBus`] over Redis pub/sub. Each gateway node subscribes to `cg:cmd:<node>`; each
//! sending node subscribes to `cg:reply:<node>` and matches replies to waiting calls by id.
//! Pub/sub delivers at most once: a command whose node dies in flight ends as a timeout, which
//! callers already handle (the scheduler re-sends; the API reports it).

use std::time::Duration;

use async_trait::async_trait;
use chargegrid_core::command::{ChargerCommand, CommandReply};
use chargegrid_core::{ChargerId, NodeId};
use futures::StreamExt;
use redis::AsyncCommands;
use redis::aio::PubSub;
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};

use super::{Pending, RedisStore, encode, keys};
use crate::{
    CommandBus, CommandEnvelope, ConnectionRegistry, IncomingCommand, ReplySink, StoreResult,
};

/// Commands waiting for a gateway's connection tasks before back-pressure.
const QUEUE: usize = 1024;
/// Pause before re-subscribing after the pub/sub connection broke.
const RESUBSCRIBE_DELAY: Duration = Duration::from_millis(500);

#[derive(Serialize, Deserialize)]
struct ReplyMessage {
    id: String,
    reply: CommandReply,
}

struct RedisReplySink {
    conn: super::conn::StoreConn,
    channel: String,
    id: String,
}

#[async_trait]
impl ReplySink for RedisReplySink {
    async fn deliver(mut self: Box<Self>, reply: CommandReply) {
        let message = ReplyMessage {
            id: std::mem::take(&mut self.id),
            reply,
        };
        let Ok(text) = encode(&message) else { return };
        let sent: redis::RedisResult<i64> = self.conn.publish(&self.channel, text).await;
        if let Err(e) = sent {
            tracing::warn!(error = %e, channel = %self.channel, "command reply not delivered");
        }
    }
}

pub(super) async fn subscribe(client: &redis::Client, channel: &str) -> redis::RedisResult<PubSub> {
    let mut pubsub = client.get_async_pubsub().await?;
    pubsub.subscribe(channel).await?;
    Ok(pubsub)
}

/// Keeps a subscription alive: hands each payload to `on_message`, re-subscribes when the
/// connection breaks, and stops when `on_message` returns false.
pub(super) async fn pump(
    client: redis::Client,
    channel: String,
    mut pubsub: PubSub,
    mut on_message: impl FnMut(String) -> bool + Send,
) {
    loop {
        let mut stream = pubsub.into_on_message();
        while let Some(msg) = stream.next().await {
            let Ok(payload) = msg.get_payload::<String>() else {
                continue;
            };
            if !on_message(payload) {
                return;
            }
        }
        tracing::warn!(%channel, "pub/sub connection lost, re-subscribing");
        pubsub = loop {
            tokio::time::sleep(RESUBSCRIBE_DELAY).await;
            match subscribe(&client, &channel).await {
                Ok(p) => break p,
                Err(e) => tracing::warn!(%channel, error = %e, "re-subscribe failed"),
            }
        };
    }
}

impl RedisStore {
    async fn ensure_reply_listener(&self) -> StoreResult<()> {
        self.reply_listener
            .get_or_try_init(|| async {
                let channel = keys::reply_channel(&self.node);
                let pubsub = subscribe(&self.client, &channel).await?;
                let pending: Pending = self.pending.clone();
                tokio::spawn(pump(self.client.clone(), channel, pubsub, move |payload| {
                    match serde_json::from_str::<ReplyMessage>(&payload) {
                        Ok(m) => {
                            let waiter = pending
                                .lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .remove(&m.id);
                            if let Some(w) = waiter {
                                let _ = w.send(m.reply);
                            }
                        }
                        Err(e) => tracing::warn!(error = %e, "undecodable command reply"),
                    }
                    true
                }));
                Ok::<(), crate::StoreError>(())
            })
            .await?;
        Ok(())
    }
}

#[async_trait]
impl CommandBus for RedisStore {
    async fn send_command(
        &self,
        charger: &ChargerId,
        command: ChargerCommand,
        timeout: Duration,
    ) -> StoreResult<CommandReply> {
        let Some(node) = self.locate(charger).await? else {
            return Ok(CommandReply::Offline);
        };
        self.ensure_reply_listener().await?;
        let envelope = CommandEnvelope {
            sent_at_ms: Some(chrono::Utc::now().timestamp_millis()),
            ..CommandEnvelope::new(charger.clone(), command, self.node.clone(), timeout)
        };
        let (tx, rx) = oneshot::channel();
        let pending = self.pending.clone();
        let forget = |id: &str| {
            pending.lock().unwrap_or_else(|e| e.into_inner()).remove(id);
        };
        pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(envelope.id.clone(), tx);
        let receivers: redis::RedisResult<i64> = self
            .conn()
            .publish(keys::command_channel(&node), encode(&envelope)?)
            .await;
        match receivers {
            // On a cluster PUBLISH counts only the subscribers of the node that took it (the
            // message still reaches every node), so there the registry alone says "offline".
            Ok(0) if !self.is_cluster() => {
                forget(&envelope.id);
                return Ok(CommandReply::Offline);
            }
            Ok(_) => {}
            Err(e) => {
                forget(&envelope.id);
                return Err(e.into());
            }
        }
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(reply)) => Ok(reply),
            Ok(Err(_)) => Ok(CommandReply::Offline),
            Err(_) => {
                forget(&envelope.id);
                Ok(CommandReply::Timeout)
            }
        }
    }

    async fn subscribe_commands(
        &self,
        node: &NodeId,
    ) -> StoreResult<mpsc::Receiver<IncomingCommand>> {
        let channel = keys::command_channel(node);
        let pubsub = subscribe(&self.client, &channel).await?;
        let (tx, rx) = mpsc::channel(QUEUE);
        let conn = self.conn();
        let metrics = self.metrics.clone();
        tokio::spawn(pump(self.client.clone(), channel, pubsub, move |payload| {
            let envelope: CommandEnvelope = match serde_json::from_str(&payload) {
                Ok(e) => e,
                Err(e) => {
                    tracing::warn!(error = %e, "undecodable command");
                    return true;
                }
            };
            if let (Some(m), Some(sent)) = (&metrics, envelope.sent_at_ms) {
                let lag = (chrono::Utc::now().timestamp_millis() - sent).max(0) as f64 / 1000.0;
                m.bus_lag_seconds.observe(lag);
            }
            let sink = RedisReplySink {
                conn: conn.clone(),
                channel: keys::reply_channel(&envelope.reply_to),
                id: envelope.id.clone(),
            };
            match tx.try_send(IncomingCommand::new(envelope, Box::new(sink))) {
                Ok(()) => true,
                Err(mpsc::error::TrySendError::Full(cmd)) => {
                    tracing::warn!(charger = %cmd.envelope.charger, "command queue full, dropping command");
                    true
                }
                // The gateway stopped listening: end the subscription.
                Err(mpsc::error::TrySendError::Closed(_)) => false,
            }
        }));
        Ok(rx)
    }
}
