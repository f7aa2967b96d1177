//! [`ChangeFeed`] over Redis pub/sub (channel `cg:site-changes`), so a scheduler on any node
//! hears about changes made on every other node.

use async_trait::async_trait;
use redis::AsyncCommands;
use tokio::sync::mpsc;

use super::bus::{pump, subscribe};
use super::{RedisStore, encode, keys};
use crate::{ChangeFeed, SiteChange, StoreResult};

#[async_trait]
impl ChangeFeed for RedisStore {
    async fn notify_change(&self, change: SiteChange) -> StoreResult<()> {
        let _: i64 = self
            .conn()
            .publish(keys::changes_channel(), encode(&change)?)
            .await?;
        Ok(())
    }

    async fn subscribe_changes(&self) -> StoreResult<mpsc::Receiver<SiteChange>> {
        let channel = keys::changes_channel();
        let pubsub = subscribe(&self.client, &channel).await?;
        let (tx, rx) = mpsc::channel(1024);
        tokio::spawn(pump(self.client.clone(), channel, pubsub, move |payload| {
            match serde_json::from_str::<SiteChange>(&payload) {
                Ok(change) => match tx.try_send(change) {
                    Ok(()) | Err(mpsc::error::TrySendError::Full(_)) => true,
                    Err(mpsc::error::TrySendError::Closed(_)) => false,
                },
                Err(e) => {
                    tracing::warn!(error = %e, "undecodable site change");
                    true
                }
            }
        }));
        Ok(rx)
    }
}
