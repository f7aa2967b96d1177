//! [`SessionStore`] for the Redis store. A session's document and samples live under its
//! site's hash tag; small index keys map session ids and (charger, transaction id) to it.

use async_trait::async_trait;
use chargegrid_core::meter::MeterSample;
use chargegrid_core::session::Session;
use chargegrid_core::{ChargerId, DriverId, FleetId, IdTag, SessionId, SiteId};
use chrono::{DateTime, Utc};
use redis::AsyncCommands;

use super::{RedisStore, decode, encode, keys, scripts};
use crate::{HistoryPage, SessionStore, StoreError, StoreResult};

impl RedisStore {
    /// A page of a history sorted set (score: start time in ms), newest first.
    async fn history(
        &self,
        index: String,
        before: Option<DateTime<Utc>>,
        limit: usize,
    ) -> StoreResult<HistoryPage> {
        let max = match before {
            Some(b) => format!("({}", b.timestamp_millis()),
            None => "+inf".to_string(),
        };
        let count = isize::try_from(limit.saturating_add(1)).unwrap_or(isize::MAX);
        let mut ids: Vec<String> = self
            .conn()
            .zrevrangebyscore_limit(&index, max, "-inf", 0, count)
            .await?;
        let more = ids.len() > limit;
        ids.truncate(limit);
        let index_keys: Vec<String> = ids
            .iter()
            .filter_map(|id| SessionId::new(id.as_str()).ok())
            .map(|id| keys::session_index(&id))
            .collect();
        let doc_keys = self.resolve_docs(&index_keys).await?;
        let sessions: Vec<Session> = self.mget_json(&doc_keys).await?;
        Ok(HistoryPage {
            next_before: if more {
                sessions.last().map(|s| s.started_at)
            } else {
                None
            },
            sessions,
        })
    }

    /// Follows index keys to document keys (one round trip), skipping missing ones.
    async fn resolve_docs(&self, index_keys: &[String]) -> StoreResult<Vec<String>> {
        if index_keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for key in index_keys {
            pipe.get(key);
        }
        let docs: Vec<Option<String>> = pipe.query_async(&mut self.conn()).await?;
        Ok(docs.into_iter().flatten().collect())
    }

    async fn sessions_in_set(
        &self,
        set: String,
        site_of: impl Fn(&SessionId) -> Option<String>,
    ) -> StoreResult<Vec<Session>> {
        let mut ids: Vec<String> = self.conn().smembers(&set).await?;
        ids.sort();
        let ids: Vec<SessionId> = ids
            .into_iter()
            .filter_map(|i| SessionId::new(i).ok())
            .collect();
        let mut doc_keys = Vec::with_capacity(ids.len());
        let mut unknown = Vec::new();
        for id in &ids {
            match site_of(id) {
                Some(key) => doc_keys.push(key),
                None => unknown.push(keys::session_index(id)),
            }
        }
        doc_keys.extend(self.resolve_docs(&unknown).await?);
        self.mget_json(&doc_keys).await
    }
}

#[async_trait]
impl SessionStore for RedisStore {
    async fn next_transaction_id(&self) -> StoreResult<i32> {
        let id: i64 = scripts::NEXT_TRANSACTION_ID
            .key(keys::transaction_counter())
            .invoke_async(&mut self.conn())
            .await?;
        i32::try_from(id).map_err(|_| StoreError::Corrupt {
            key: keys::transaction_counter(),
            reason: format!("{id} is not a 32-bit id"),
        })
    }

    async fn create_session(&self, session: &Session) -> StoreResult<()> {
        let doc = keys::session(&session.site, &session.id);
        let index = keys::session_index(&session.id);
        let tx = keys::transaction(&session.charger, &session.transaction_id);
        // Claim the unique keys first (with an expiry, so a node that dies before the document
        // is written blocks nothing for good); undo the first claim if the second fails.
        let claimed = self.claim(&index, &doc).await?;
        if !claimed {
            return Err(StoreError::Conflict(format!("session {}", session.id)));
        }
        // The transaction key names the document itself, so a charger's message finds its
        // session in two reads, not three.
        let claimed = self.claim(&tx, &doc).await?;
        if !claimed {
            let () = self.conn().del(&index).await?;
            return Err(StoreError::Conflict(format!(
                "transaction {} on {}",
                session.transaction_id, session.charger
            )));
        }
        let mut pipe = redis::pipe();
        pipe.atomic().set(&doc, encode(session)?).ignore();
        // The document exists: the claims are permanent now.
        pipe.persist(&index).ignore().persist(&tx).ignore();
        if !session.is_active() {
            pipe.rpush(keys::records_outbox(&session.site), session.id.as_str())
                .ignore();
        }
        if session.is_active() {
            pipe.sadd(keys::site_active(&session.site), session.id.as_str())
                .ignore()
                .sadd(keys::charger_active(&session.charger), session.id.as_str())
                .ignore();
            if let Some(tag) = &session.id_tag {
                pipe.sadd(keys::id_tag_active(&tag.key()), session.id.as_str())
                    .ignore();
            }
        }
        let score = session.started_at.timestamp_millis();
        if let Some(driver) = &session.driver {
            pipe.zadd(keys::driver_sessions(driver), session.id.as_str(), score)
                .ignore();
        }
        if let Some(fleet) = &session.fleet {
            pipe.zadd(keys::fleet_sessions(fleet), session.id.as_str(), score)
                .ignore();
        }
        let () = pipe.query_async(&mut self.conn()).await?;
        Ok(())
    }

    async fn update_session(
        &self,
        before: &Session,
        session: &Session,
        new_samples: &[MeterSample],
    ) -> StoreResult<()> {
        let doc = keys::session(&session.site, &session.id);
        let old = before;
        let mut pipe = redis::pipe();
        // A charger's meter reading changes the document and adds samples, nothing else: two
        // commands in one round trip, without MULTI/EXEC (two commands more on the busiest
        // path, #20). A change of state or of an index is one transaction.
        let meter_only = old.is_active()
            && session.is_active()
            && old.driver == session.driver
            && old.fleet == session.fleet
            && old.started_at == session.started_at;
        if !meter_only {
            pipe.atomic();
        }
        // Replaces the document only where it exists (XX): no read first; a session never
        // created answers nil and is NotFound.
        pipe.cmd("SET").arg(&doc).arg(encode(session)?).arg("XX");
        if !new_samples.is_empty() {
            let encoded = new_samples
                .iter()
                .map(encode)
                .collect::<StoreResult<Vec<_>>>()?;
            pipe.rpush(keys::session_samples(&session.site, &session.id), encoded)
                .ignore();
        }
        if old.is_active() && !session.is_active() {
            pipe.rpush(keys::records_outbox(&session.site), session.id.as_str())
                .ignore();
        }
        if !session.is_active() {
            pipe.srem(keys::site_active(&session.site), session.id.as_str())
                .ignore()
                .srem(keys::charger_active(&session.charger), session.id.as_str())
                .ignore()
                .pexpire(
                    keys::session_samples(&session.site, &session.id),
                    i64::try_from(super::millis(self.sample_retention)).unwrap_or(i64::MAX),
                )
                .ignore();
            if let Some(tag) = &old.id_tag {
                pipe.srem(keys::id_tag_active(&tag.key()), session.id.as_str())
                    .ignore();
            }
        }
        let score = session.started_at.timestamp_millis();
        if old.driver != session.driver || old.started_at != session.started_at {
            if let Some(d) = &old.driver {
                pipe.zrem(keys::driver_sessions(d), session.id.as_str())
                    .ignore();
            }
            if let Some(d) = &session.driver {
                pipe.zadd(keys::driver_sessions(d), session.id.as_str(), score)
                    .ignore();
            }
        }
        if old.fleet != session.fleet || old.started_at != session.started_at {
            if let Some(f) = &old.fleet {
                pipe.zrem(keys::fleet_sessions(f), session.id.as_str())
                    .ignore();
            }
            if let Some(f) = &session.fleet {
                pipe.zadd(keys::fleet_sessions(f), session.id.as_str(), score)
                    .ignore();
            }
        }
        let (replaced,): (Option<String>,) = pipe.query_async(&mut self.conn()).await?;
        if replaced.is_none() {
            // The other commands ran too: take back what they wrote for a session that does
            // not exist.
            let _: redis::RedisResult<()> = redis::pipe()
                .del(keys::session_samples(&session.site, &session.id))
                .ignore()
                .lrem(keys::records_outbox(&session.site), 0, session.id.as_str())
                .ignore()
                .query_async(&mut self.conn())
                .await;
            return Err(StoreError::NotFound(format!("session {}", session.id)));
        }
        Ok(())
    }

    async fn get_session(&self, id: &SessionId) -> StoreResult<Option<Session>> {
        let doc: Option<String> = self.conn().get(keys::session_index(id)).await?;
        match doc {
            Some(doc) => self.get_json(&doc).await,
            None => Ok(None),
        }
    }

    async fn find_by_transaction(
        &self,
        charger: &ChargerId,
        transaction_id: &str,
    ) -> StoreResult<Option<Session>> {
        let target: Option<String> = self
            .conn()
            .get(keys::transaction(charger, transaction_id))
            .await?;
        match target {
            // The document's key (sessions created since session 8).
            Some(doc) if doc.starts_with(keys::PREFIX) && doc.contains(":session:") => {
                self.get_json(&doc).await
            }
            // A session id (sessions created before).
            Some(id) => match SessionId::new(id) {
                Ok(id) => self.get_session(&id).await,
                Err(_) => Ok(None),
            },
            None => Ok(None),
        }
    }

    async fn active_sessions(&self, site: &SiteId) -> StoreResult<Vec<Session>> {
        self.sessions_in_set(keys::site_active(site), |id| Some(keys::session(site, id)))
            .await
    }

    async fn active_sessions_of_charger(&self, charger: &ChargerId) -> StoreResult<Vec<Session>> {
        self.sessions_in_set(keys::charger_active(charger), |_| None)
            .await
    }

    async fn active_session_of_id_tag(&self, tag: &IdTag) -> StoreResult<Option<Session>> {
        let sessions = self
            .sessions_in_set(keys::id_tag_active(&tag.key()), |_| None)
            .await?;
        Ok(sessions.into_iter().find(Session::is_active))
    }

    async fn sessions_of_driver(
        &self,
        driver: &DriverId,
        before: Option<DateTime<Utc>>,
        limit: usize,
    ) -> StoreResult<HistoryPage> {
        self.history(keys::driver_sessions(driver), before, limit)
            .await
    }

    async fn sessions_of_fleet(
        &self,
        fleet: &FleetId,
        before: Option<DateTime<Utc>>,
        limit: usize,
    ) -> StoreResult<HistoryPage> {
        self.history(keys::fleet_sessions(fleet), before, limit)
            .await
    }

    async fn samples(&self, session: &SessionId) -> StoreResult<Vec<MeterSample>> {
        let Some(found) = self.get_session(session).await? else {
            return Ok(Vec::new());
        };
        let key = keys::session_samples(&found.site, session);
        let raw: Vec<String> = self.conn().lrange(&key, 0, -1).await?;
        raw.iter().map(|text| decode(&key, text)).collect()
    }

    async fn records_outbox(&self, site: &SiteId, limit: usize) -> StoreResult<Vec<SessionId>> {
        let end = isize::try_from(limit.max(1)).unwrap_or(isize::MAX) - 1;
        let raw: Vec<String> = self
            .conn()
            .lrange(keys::records_outbox(site), 0, end)
            .await?;
        raw.into_iter()
            .map(|id| {
                SessionId::new(id).map_err(|e| StoreError::Corrupt {
                    key: keys::records_outbox(site),
                    reason: e.to_string(),
                })
            })
            .collect()
    }

    async fn records_outbox_remove(&self, site: &SiteId, ids: &[SessionId]) -> StoreResult<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let key = keys::records_outbox(site);
        let mut pipe = redis::pipe();
        for id in ids {
            pipe.lrem(&key, 1, id.as_str()).ignore();
        }
        let () = pipe.query_async(&mut self.conn()).await?;
        Ok(())
    }

    async fn records_outbox_len(&self, site: &SiteId) -> StoreResult<u64> {
        Ok(self.conn().llen(keys::records_outbox(site)).await?)
    }
}
