//! [`ChangeFeed`] for the in-memory store: a broadcast channel within the process.

use async_trait::async_trait;
use tokio::sync::{broadcast, mpsc};

use super::MemoryStore;
use crate::{ChangeFeed, SiteChange, StoreResult};

#[async_trait]
impl ChangeFeed for MemoryStore {
    async fn notify_change(&self, change: SiteChange) -> StoreResult<()> {
        // No subscriber is not an error: nobody needs to re-plan.
        let _ = self.changes.send(change);
        Ok(())
    }

    async fn subscribe_changes(&self) -> StoreResult<mpsc::Receiver<SiteChange>> {
        let mut rx = self.changes.subscribe();
        let (tx, out) = mpsc::channel(1024);
        tokio::spawn(async move {
            loop {
                match rx.recv().await {
                    Ok(change) => {
                        if tx.send(change).await.is_err() {
                            return;
                        }
                    }
                    // A slow listener missed some notices; the periodic pass covers them.
                    Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => return,
                }
            }
        });
        Ok(out)
    }
}
