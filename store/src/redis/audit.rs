//! [`AuditStore`] for the Redis store: one sorted set scored by entry id (both keys share the
//! hash tag `{audit}`, so the append is one atomic script on a cluster too).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use redis::AsyncCommands;

use super::{RedisStore, decode, encode, keys, scripts};
use crate::{
    AUDIT_SCAN_LIMIT, AuditEntry, AuditPage, AuditQuery, AuditStore, StoreError, StoreResult,
};

/// Entries read per round trip while filling a page.
const BATCH: usize = 500;

#[async_trait]
impl AuditStore for RedisStore {
    async fn append_audit(&self, entry: AuditEntry, keep_after: DateTime<Utc>) -> StoreResult<u64> {
        let id: u64 = scripts::APPEND_AUDIT
            .key(keys::audit_counter())
            .key(keys::audit_entries())
            .arg(encode(&entry)?)
            .arg(entry.at.timestamp_millis())
            .arg(keep_after.timestamp_millis())
            .invoke_async(&mut self.conn())
            .await?;
        Ok(id)
    }

    async fn audit_after(&self, after: u64, limit: usize) -> StoreResult<Vec<AuditEntry>> {
        let key = keys::audit_entries();
        let members: Vec<String> = self
            .conn()
            .zrangebyscore_limit(
                &key,
                format!("({after}"),
                "+inf",
                0,
                isize::try_from(limit.max(1)).unwrap_or(isize::MAX),
            )
            .await?;
        members.iter().map(|m| parse(&key, m)).collect()
    }

    async fn audit_entries(&self, query: &AuditQuery) -> StoreResult<AuditPage> {
        let key = keys::audit_entries();
        let limit = query.limit.max(1);
        let mut page = AuditPage::default();
        let mut before = query.before;
        let mut scanned = 0;
        loop {
            let max = before.map_or_else(|| "+inf".to_string(), |b| format!("({b}"));
            let members: Vec<String> = self
                .conn()
                .zrevrangebyscore_limit(&key, max, "-inf", 0, BATCH as isize)
                .await?;
            let exhausted = members.len() < BATCH;
            for member in members {
                if page.entries.len() == limit || scanned == AUDIT_SCAN_LIMIT {
                    page.next_before = before;
                    return Ok(page);
                }
                let entry = parse(&key, &member)?;
                scanned += 1;
                before = Some(entry.id);
                if query.matches(&entry) {
                    page.entries.push(entry);
                }
            }
            if exhausted {
                return Ok(page);
            }
        }
    }
}

/// An entry from its member `<id>:<ms>:<json>`.
fn parse(key: &str, member: &str) -> StoreResult<AuditEntry> {
    let corrupt = || StoreError::Corrupt {
        key: key.to_string(),
        reason: format!("audit member {:?}", member.get(..40).unwrap_or(member)),
    };
    let mut parts = member.splitn(3, ':');
    let id = parts
        .next()
        .and_then(|p| p.parse().ok())
        .ok_or_else(corrupt)?;
    let json = parts.nth(1).ok_or_else(corrupt)?;
    let mut entry: AuditEntry = decode(key, json)?;
    entry.id = id;
    Ok(entry)
}
