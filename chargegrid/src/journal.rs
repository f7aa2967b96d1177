//! The embedded default's memory: the in-memory live store keeps what people entered
//! (accounts, fleets, vehicles, keys, the network) as documents in the records database, the
//! same SQLite file as the ended sessions and their charge detail records.

use std::sync::Arc;

use async_trait::async_trait;
use chargegrid_records::RecordsStore;
use chargegrid_store::{Journal, StoreError, StoreResult};

/// A [`Journal`] over the records store.
#[derive(Debug)]
pub struct RecordsJournal(pub Arc<dyn RecordsStore>);

fn unavailable(e: chargegrid_records::RecordsError) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

#[async_trait]
impl Journal for RecordsJournal {
    async fn save(&self, kind: &str, id: &str, document: Option<String>) -> StoreResult<()> {
        self.0
            .put_document(kind, id, document.as_deref())
            .await
            .map_err(unavailable)
    }

    async fn load(&self) -> StoreResult<Vec<(String, String, String)>> {
        self.0.documents().await.map_err(unavailable)
    }
}
