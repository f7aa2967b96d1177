//! [`AuditStore`] for the in-memory store.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::MemoryStore;
use super::journal::{COUNTER_AUDIT, Kind};
use crate::{AUDIT_SCAN_LIMIT, AuditEntry, AuditPage, AuditQuery, AuditStore, StoreResult};

#[async_trait]
impl AuditStore for MemoryStore {
    async fn append_audit(
        &self,
        mut entry: AuditEntry,
        keep_after: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let id = {
            let mut state = self.lock();
            state.audit_seq += 1;
            entry.id = state.audit_seq;
            state.audit.insert(entry.id, entry);
            // Entries arrive in time order: the old ones are at the front.
            while state
                .audit
                .first_key_value()
                .is_some_and(|(_, e)| e.at < keep_after)
            {
                state.audit.pop_first();
            }
            state.audit_seq
        };
        // Ids keep increasing across a restart (the archive is keyed by them).
        self.persist(Kind::Counter, COUNTER_AUDIT).await?;
        Ok(id)
    }

    async fn audit_after(&self, after: u64, limit: usize) -> StoreResult<Vec<AuditEntry>> {
        Ok(self
            .lock()
            .audit
            .range(after.saturating_add(1)..)
            .take(limit.max(1))
            .map(|(_, e)| e.clone())
            .collect())
    }

    async fn audit_entries(&self, query: &AuditQuery) -> StoreResult<AuditPage> {
        let state = self.lock();
        let limit = query.limit.max(1);
        let mut page = AuditPage::default();
        let older = state.audit.range(..query.before.unwrap_or(u64::MAX)).rev();
        let mut last = None;
        for (scanned, (id, entry)) in older.enumerate() {
            if page.entries.len() == limit || scanned == AUDIT_SCAN_LIMIT {
                page.next_before = last;
                break;
            }
            last = Some(*id);
            if query.matches(entry) {
                page.entries.push(entry.clone());
            }
        }
        Ok(page)
    }
}
