//! Id-tag authorisation: the status a token gets, including expiry, blocking and the refusal of
//! a second concurrent transaction with the same card.

use chargegrid_core::IdTag;
use chargegrid_core::driver::{IdTagRecord, IdTagStatus};
use chargegrid_ocpp::messages::authorization::Verdict;
use chrono::{DateTime, Utc};

use crate::context::ConnectionContext;

/// The answer about a token.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TagInfo {
    pub status: IdTagStatus,
    pub expiry: Option<DateTime<Utc>>,
    pub parent: Option<IdTag>,
    pub record: Option<IdTagRecord>,
}

/// Authorises `tag` for a new transaction (`for_new_transaction`), or just looks it up (a stop
/// or a plain Authorize while charging).
pub(crate) async fn authorize(
    ctx: &ConnectionContext,
    tag: &IdTag,
    for_new_transaction: bool,
) -> Result<TagInfo, chargegrid_store::StoreError> {
    let inner = &ctx.gateway.inner;
    let now = inner.clock.now();
    let record = inner.store.get_id_tag(tag).await?;
    let Some(record) = record else {
        let status = if inner.config.settings.accept_unknown_id_tags {
            IdTagStatus::Accepted
        } else {
            IdTagStatus::Invalid
        };
        return Ok(TagInfo {
            status,
            expiry: None,
            parent: None,
            record: None,
        });
    };
    let mut status = record.status_at(now);
    if status == IdTagStatus::Accepted
        && for_new_transaction
        && !record.allow_concurrent
        && let Some(active) = inner.store.active_session_of_id_tag(tag).await?
    {
        tracing::info!(charger = %ctx.charger, session = %active.id, "id tag already in a transaction");
        status = IdTagStatus::ConcurrentTx;
    }
    Ok(TagInfo {
        status,
        expiry: record.expires_at,
        parent: record.parent.clone(),
        record: Some(record),
    })
}

impl TagInfo {
    /// The verdict to give the charger.
    pub(crate) fn verdict(&self) -> Verdict {
        Verdict {
            status: self.status,
            expiry: self.expiry,
            parent: self.parent.clone(),
        }
    }
}
