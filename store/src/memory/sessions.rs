//! [`SessionStore`] for the in-memory store.

use std::collections::BTreeSet;

use async_trait::async_trait;
use chargegrid_core::meter::MeterSample;
use chargegrid_core::session::Session;
use chargegrid_core::{ChargerId, DriverId, FleetId, IdTag, SessionId, SiteId};
use chrono::{DateTime, Utc};

use super::journal::{COUNTER_TRANSACTION, Kind};
use super::{MemoryStore, State};
use crate::{HistoryPage, SessionStore, StoreError, StoreResult};

fn page(
    state: &State,
    index: Option<&BTreeSet<(DateTime<Utc>, SessionId)>>,
    before: Option<DateTime<Utc>>,
    limit: usize,
) -> HistoryPage {
    let Some(index) = index else {
        return HistoryPage {
            sessions: Vec::new(),
            next_before: None,
        };
    };
    let mut iter = index
        .iter()
        .rev()
        .filter(|(t, _)| before.is_none_or(|b| *t < b));
    let sessions: Vec<Session> = iter
        .by_ref()
        .take(limit)
        .filter_map(|(_, id)| state.sessions.get(id).cloned())
        .collect();
    let more = iter.next().is_some();
    HistoryPage {
        next_before: if more {
            sessions.last().map(|s| s.started_at)
        } else {
            None
        },
        sessions,
    }
}

#[async_trait]
impl SessionStore for MemoryStore {
    async fn next_transaction_id(&self) -> StoreResult<i32> {
        let id = {
            let mut state = self.lock();
            state.last_transaction_id = state.last_transaction_id.checked_add(1).unwrap_or(1);
            state.last_transaction_id
        };
        // A charger must never see an id again after a restart.
        self.persist(Kind::Counter, COUNTER_TRANSACTION).await?;
        Ok(id)
    }

    async fn create_session(&self, session: &Session) -> StoreResult<()> {
        let mut state = self.lock();
        let tx_key = (session.charger.clone(), session.transaction_id.clone());
        if state.sessions.contains_key(&session.id) {
            return Err(StoreError::Conflict(format!("session {}", session.id)));
        }
        if state.by_transaction.contains_key(&tx_key) {
            return Err(StoreError::Conflict(format!(
                "transaction {} on {}",
                session.transaction_id, session.charger
            )));
        }
        state.by_transaction.insert(tx_key, session.id.clone());
        if !session.is_active() {
            state
                .records_outbox
                .entry(session.site.clone())
                .or_default()
                .push_back(session.id.clone());
        }
        if session.is_active() {
            state
                .active
                .entry(session.site.clone())
                .or_default()
                .insert(session.id.clone());
            state
                .active_by_charger
                .entry(session.charger.clone())
                .or_default()
                .insert(session.id.clone());
            if let Some(tag) = &session.id_tag {
                state
                    .active_by_tag
                    .entry(tag.key())
                    .or_default()
                    .insert(session.id.clone());
            }
        }
        if let Some(driver) = &session.driver {
            state
                .by_driver
                .entry(driver.clone())
                .or_default()
                .insert((session.started_at, session.id.clone()));
        }
        if let Some(fleet) = &session.fleet {
            state
                .by_fleet
                .entry(fleet.clone())
                .or_default()
                .insert((session.started_at, session.id.clone()));
        }
        state.sessions.insert(session.id.clone(), session.clone());
        Ok(())
    }

    async fn update_session(
        &self,
        _before: &Session,
        session: &Session,
        new_samples: &[MeterSample],
    ) -> StoreResult<()> {
        // Memory holds the stored version itself: the indexes follow it, not the caller's.
        let mut state = self.lock();
        let Some(old) = state.sessions.get(&session.id).cloned() else {
            return Err(StoreError::NotFound(format!("session {}", session.id)));
        };
        if old.is_active() && !session.is_active() {
            state
                .records_outbox
                .entry(session.site.clone())
                .or_default()
                .push_back(session.id.clone());
        }
        if !session.is_active() {
            if let Some(set) = state.active.get_mut(&session.site) {
                set.remove(&session.id);
            }
            if let Some(set) = state.active_by_charger.get_mut(&session.charger) {
                set.remove(&session.id);
            }
            if let Some(tag) = &old.id_tag
                && let Some(set) = state.active_by_tag.get_mut(&tag.key())
            {
                set.remove(&session.id);
            }
        }
        if old.driver != session.driver || old.started_at != session.started_at {
            if let Some(d) = &old.driver
                && let Some(set) = state.by_driver.get_mut(d)
            {
                set.remove(&(old.started_at, old.id.clone()));
            }
            if let Some(d) = &session.driver {
                state
                    .by_driver
                    .entry(d.clone())
                    .or_default()
                    .insert((session.started_at, session.id.clone()));
            }
        }
        if old.fleet != session.fleet || old.started_at != session.started_at {
            if let Some(f) = &old.fleet
                && let Some(set) = state.by_fleet.get_mut(f)
            {
                set.remove(&(old.started_at, old.id.clone()));
            }
            if let Some(f) = &session.fleet {
                state
                    .by_fleet
                    .entry(f.clone())
                    .or_default()
                    .insert((session.started_at, session.id.clone()));
            }
        }
        state.sessions.insert(session.id.clone(), session.clone());
        if !new_samples.is_empty() {
            state
                .samples
                .entry(session.id.clone())
                .or_default()
                .extend_from_slice(new_samples);
        }
        Ok(())
    }

    async fn get_session(&self, id: &SessionId) -> StoreResult<Option<Session>> {
        Ok(self.lock().sessions.get(id).cloned())
    }

    async fn find_by_transaction(
        &self,
        charger: &ChargerId,
        transaction_id: &str,
    ) -> StoreResult<Option<Session>> {
        let state = self.lock();
        Ok(state
            .by_transaction
            .get(&(charger.clone(), transaction_id.to_string()))
            .and_then(|id| state.sessions.get(id))
            .cloned())
    }

    async fn active_sessions(&self, site: &SiteId) -> StoreResult<Vec<Session>> {
        let state = self.lock();
        Ok(state
            .active
            .get(site)
            .into_iter()
            .flatten()
            .filter_map(|id| state.sessions.get(id).cloned())
            .collect())
    }

    async fn active_sessions_of_charger(&self, charger: &ChargerId) -> StoreResult<Vec<Session>> {
        let state = self.lock();
        Ok(state
            .active_by_charger
            .get(charger)
            .into_iter()
            .flatten()
            .filter_map(|id| state.sessions.get(id).cloned())
            .collect())
    }

    async fn active_session_of_id_tag(&self, tag: &IdTag) -> StoreResult<Option<Session>> {
        let state = self.lock();
        Ok(state
            .active_by_tag
            .get(&tag.key())
            .into_iter()
            .flatten()
            .find_map(|id| state.sessions.get(id).cloned()))
    }

    async fn sessions_of_driver(
        &self,
        driver: &DriverId,
        before: Option<DateTime<Utc>>,
        limit: usize,
    ) -> StoreResult<HistoryPage> {
        let state = self.lock();
        Ok(page(&state, state.by_driver.get(driver), before, limit))
    }

    async fn sessions_of_fleet(
        &self,
        fleet: &FleetId,
        before: Option<DateTime<Utc>>,
        limit: usize,
    ) -> StoreResult<HistoryPage> {
        let state = self.lock();
        Ok(page(&state, state.by_fleet.get(fleet), before, limit))
    }

    async fn samples(&self, session: &SessionId) -> StoreResult<Vec<MeterSample>> {
        Ok(self
            .lock()
            .samples
            .get(session)
            .cloned()
            .unwrap_or_default())
    }

    async fn records_outbox(&self, site: &SiteId, limit: usize) -> StoreResult<Vec<SessionId>> {
        Ok(self
            .lock()
            .records_outbox
            .get(site)
            .map(|q| q.iter().take(limit).cloned().collect())
            .unwrap_or_default())
    }

    async fn records_outbox_remove(&self, site: &SiteId, ids: &[SessionId]) -> StoreResult<()> {
        let mut state = self.lock();
        if let Some(q) = state.records_outbox.get_mut(site) {
            q.retain(|id| !ids.contains(id));
            if q.is_empty() {
                state.records_outbox.remove(site);
            }
        }
        Ok(())
    }

    async fn records_outbox_len(&self, site: &SiteId) -> StoreResult<u64> {
        Ok(self
            .lock()
            .records_outbox
            .get(site)
            .map_or(0, |q| q.len() as u64))
    }
}
