//! What the in-memory store keeps across restarts when it has a [`Journal`]: what people
//! entered — accounts (drivers, operators, fleet managers), id tags, fleets, vehicles and
//! their models, API keys, and the network (sites and chargers). Live state (connections,
//! sessions in progress, scheduler state, tokens) stays in memory: ended sessions reach the
//! records store through the outbox, and a login after a restart is a new login.
//!
//! Counters that must keep increasing (audit entry ids, OCPP 1.6 transaction ids) are kept
//! too, so ids are never reused after a restart.
//!
//! Every change is written through before the call returns: the method changes memory, then
//! [`MemoryStore::persist`] writes the entity's current document (or its removal). Writes are
//! serialised, and each writes what memory holds at that moment, so the journal ends with the
//! latest value even when two changes of one entity race.

use std::sync::Arc;

use async_trait::async_trait;
use chargegrid_core::driver::{Driver, Fleet, IdTagRecord, Vehicle, VehicleModel};
use chargegrid_core::network::{Charger, Site};
use chargegrid_core::{ChargerId, DriverId, FleetId, SiteId, VehicleId};
use serde::{Deserialize, Serialize};

use super::{MemoryStore, State};
use crate::{ApiKey, StoreError, StoreResult};

/// Durable documents by kind and id: the embedded default keeps them in its SQLite file.
#[async_trait]
pub trait Journal: Send + Sync + std::fmt::Debug {
    /// Writes (`Some`) or removes (`None`) one document.
    async fn save(&self, kind: &str, id: &str, document: Option<String>) -> StoreResult<()>;

    /// Every document, as `(kind, id, document)`.
    async fn load(&self) -> StoreResult<Vec<(String, String, String)>>;
}

/// The kinds of document, in the order a restore applies them (sites before their chargers,
/// drivers before keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Site,
    Charger,
    Fleet,
    Driver,
    IdTag,
    Vehicle,
    VehicleModel,
    ApiKey,
    /// A sequence that must keep increasing across restarts (`audit`, `transaction`).
    Counter,
}

/// The audit trail's id sequence.
pub(crate) const COUNTER_AUDIT: &str = "audit";
/// OCPP 1.6 transaction ids.
pub(crate) const COUNTER_TRANSACTION: &str = "transaction";

const KINDS: [Kind; 9] = [
    Kind::Site,
    Kind::Charger,
    Kind::Fleet,
    Kind::Driver,
    Kind::IdTag,
    Kind::Vehicle,
    Kind::VehicleModel,
    Kind::ApiKey,
    Kind::Counter,
];

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Site => "site",
            Kind::Charger => "charger",
            Kind::Fleet => "fleet",
            Kind::Driver => "driver",
            Kind::IdTag => "id_tag",
            Kind::Vehicle => "vehicle",
            Kind::VehicleModel => "vehicle_model",
            Kind::ApiKey => "api_key",
            Kind::Counter => "counter",
        }
    }
}

/// An API key with the hash of its secret (the secret itself is never kept).
#[derive(Serialize, Deserialize)]
struct KeyDocument {
    key: ApiKey,
    secret_hash: String,
}

/// The id of a fleet's vehicle model document.
pub(crate) fn model_id(fleet: &chargegrid_core::FleetId, name: &str) -> String {
    format!("{fleet}\u{1f}{name}")
}

fn encode<T: Serialize>(value: Option<&T>) -> StoreResult<Option<String>> {
    value
        .map(serde_json::to_string)
        .transpose()
        .map_err(|e| StoreError::Corrupt {
            key: "journal".into(),
            reason: e.to_string(),
        })
}

/// The current document of `kind`/`id` in `state` (`None` when it is gone).
fn document(state: &State, kind: Kind, id: &str) -> StoreResult<Option<String>> {
    match kind {
        Kind::Site => encode(SiteId::new(id).ok().and_then(|k| state.sites.get(&k))),
        Kind::Charger => encode(ChargerId::new(id).ok().and_then(|k| state.chargers.get(&k))),
        Kind::Fleet => encode(FleetId::new(id).ok().and_then(|k| state.fleets.get(&k))),
        Kind::Driver => encode(DriverId::new(id).ok().and_then(|k| state.drivers.get(&k))),
        Kind::IdTag => encode(state.tags.get(id)),
        Kind::Vehicle => encode(VehicleId::new(id).ok().and_then(|k| state.vehicles.get(&k))),
        Kind::VehicleModel => encode(
            state
                .vehicle_models
                .iter()
                .flat_map(|(fleet, models)| models.values().map(move |m| (fleet, m)))
                .find(|(fleet, m)| model_id(fleet, &m.name) == id)
                .map(|x| x.1),
        ),
        Kind::Counter => match id {
            COUNTER_AUDIT => encode(Some(&state.audit_seq)),
            COUNTER_TRANSACTION => encode(Some(&state.last_transaction_id)),
            _ => Ok(None),
        },
        Kind::ApiKey => {
            let doc = state.api_keys.get(id).and_then(|key| {
                state
                    .api_key_secrets
                    .iter()
                    .find(|(_, key_id)| key_id.as_str() == id)
                    .map(|(hash, _)| KeyDocument {
                        key: key.clone(),
                        secret_hash: hash.clone(),
                    })
            });
            encode(doc.as_ref())
        }
    }
}

fn decode<T: for<'de> Deserialize<'de>>(kind: &str, id: &str, text: &str) -> StoreResult<T> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt {
        key: format!("journal {kind}/{id}"),
        reason: e.to_string(),
    })
}

/// Puts one journal document back into `state`, with its indexes.
fn restore(state: &mut State, kind: Kind, id: &str, text: &str) -> StoreResult<()> {
    let name = kind.name();
    match kind {
        Kind::Site => {
            let site: Site = decode(name, id, text)?;
            state.sites.insert(site.id.clone(), site);
            state.sites_version += 1;
        }
        Kind::Charger => {
            let charger: Charger = decode(name, id, text)?;
            state.chargers.insert(charger.id.clone(), charger);
        }
        Kind::Fleet => {
            let fleet: Fleet = decode(name, id, text)?;
            state.fleets.insert(fleet.id.clone(), fleet);
        }
        Kind::Driver => {
            let driver: Driver = decode(name, id, text)?;
            state
                .emails
                .insert(driver.email.to_lowercase(), driver.id.clone());
            state.drivers.insert(driver.id.clone(), driver);
        }
        Kind::IdTag => {
            let tag: IdTagRecord = decode(name, id, text)?;
            state.tags.insert(tag.tag.key(), tag);
        }
        Kind::Vehicle => {
            let vehicle: Vehicle = decode(name, id, text)?;
            state.vehicles.insert(vehicle.id.clone(), vehicle);
        }
        Kind::VehicleModel => {
            let model: VehicleModel = decode(name, id, text)?;
            state
                .vehicle_models
                .entry(model.fleet.clone())
                .or_default()
                .insert(model.name.clone(), model);
        }
        Kind::Counter => match id {
            COUNTER_AUDIT => state.audit_seq = decode(name, id, text)?,
            COUNTER_TRANSACTION => state.last_transaction_id = decode(name, id, text)?,
            _ => {}
        },
        Kind::ApiKey => {
            let doc: KeyDocument = decode(name, id, text)?;
            state
                .api_key_secrets
                .insert(doc.secret_hash, doc.key.id.clone());
            state.api_keys.insert(doc.key.id.clone(), doc.key);
        }
    }
    Ok(())
}

impl MemoryStore {
    /// An in-memory store that keeps what people entered in `journal`, starting from what the
    /// journal holds (a restart).
    pub async fn with_journal(
        clock: Arc<dyn chargegrid_core::Clock>,
        journal: Arc<dyn Journal>,
    ) -> StoreResult<Self> {
        let mut store = Self::new(clock);
        let documents = journal.load().await?;
        {
            let mut state = store.lock();
            for kind in KINDS {
                for (_, id, text) in documents.iter().filter(|(k, _, _)| k == kind.name()) {
                    restore(&mut state, kind, id, text)?;
                }
            }
        }
        store.journal = Some(journal);
        Ok(store)
    }

    /// Writes the current document of `kind`/`id` (or its removal) to the journal, if any.
    pub(crate) async fn persist(&self, kind: Kind, id: &str) -> StoreResult<()> {
        let Some(journal) = &self.journal else {
            return Ok(());
        };
        let _one_at_a_time = self.journal_lock.lock().await;
        let document = document(&self.lock(), kind, id)?;
        journal.save(kind.name(), id, document).await
    }
}
