//! The store conformance suite on the in-memory store.

use std::sync::Arc;

use chargegrid_core::SystemClock;
use chargegrid_store::{MemoryStore, Store};

async fn memory() -> (Arc<dyn Store>, ()) {
    (Arc::new(MemoryStore::new(Arc::new(SystemClock))), ())
}

chargegrid_store::store_conformance_suite!(memory);
