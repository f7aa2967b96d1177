//! 2.0.1 Authorize and TransactionEvent. TransactionEvent's Started / Updated /
//! Ended map onto the same start / meter data / stop as 1.6; the station's own transaction id
//! is kept. Sequence numbers are checked per transaction and gaps are logged and counted;
//! events may arrive out of order after an offline period, which the register logic tolerates
//! (a lower reading never reduces energy). An Updated or Ended event for a transaction whose
//! Started was lost opens the session implicitly (marked offline).

use chargegrid_core::EvseId;
use chargegrid_core::session::StopReason;
use chargegrid_ocpp::messages::authorization::{
    AuthorizeResponse201, IdTokenInfo, TransactionEventResponse,
};
use chargegrid_ocpp::messages::meter::to_samples;
use chargegrid_ocpp::messages::payload;
use chargegrid_ocpp::v201::requests::{Authorize, TransactionEvent};
use chargegrid_ocpp::{Call, CallError, ErrorCode};
use serde_json::Value;

use super::boot::connector_number;
use super::needs::persist_pending_needs;
use crate::call_errors::{call_error, decode, id_tag, store_error};
use crate::context::ConnectionContext;
use crate::operations::authorization::authorize as authorize_tag;
use crate::operations::transactions::{self, StartRequest, StopRequest};

pub(crate) async fn authorize(
    ctx: &mut ConnectionContext,
    call: &Call,
) -> Result<Value, CallError> {
    let req: Authorize = decode(call)?;
    let tag = id_tag(call, &req.id_token.id_token)?;
    let info = authorize_tag(ctx, &tag, true)
        .await
        .map_err(|e| store_error(call, &e))?;
    Ok(payload(AuthorizeResponse201 {
        id_token_info: IdTokenInfo::from(&info.verdict()),
    }))
}

/// Open transactions whose sequence numbers one connection follows.
pub(crate) const MAX_TRACKED_TRANSACTIONS: usize = 64;

/// Records `seq_no` as the last of transaction `id`; the previous one, if known. Bounded:
/// transaction ids come from the charger, and one that never sends Ended (or makes ids up)
/// must not grow the map: a charger has a few EVSEs, so a few open transactions.
fn track_seq_no(
    seq_nos: &mut std::collections::HashMap<String, i64>,
    id: &str,
    seq_no: i64,
) -> Option<i64> {
    if seq_nos.len() >= MAX_TRACKED_TRANSACTIONS && !seq_nos.contains_key(id) {
        let evicted = seq_nos.keys().next().cloned();
        if let Some(evicted) = evicted {
            seq_nos.remove(&evicted);
        }
    }
    seq_nos.insert(id.to_string(), seq_no)
}

/// Checks the event's sequence number against the last one of its transaction.
fn check_sequence(ctx: &mut ConnectionContext, event: &TransactionEvent) {
    let id = &event.transaction_info.transaction_id;
    let last = track_seq_no(&mut ctx.seq_nos, id, event.seq_no);
    if let Some(last) = last
        && event.seq_no != last + 1
    {
        let kind = if event.seq_no <= last {
            "out_of_order"
        } else {
            "gap"
        };
        ctx.gateway
            .inner
            .metrics
            .register_anomalies
            .with_label_values(&[kind])
            .inc();
        tracing::warn!(charger = %ctx.charger, transaction = %id, last, seq_no = event.seq_no, kind, "transaction event sequence is not contiguous");
    }
    if event.event_type == "Ended" {
        ctx.seq_nos.remove(id);
    }
}

pub(crate) async fn transaction_event(
    ctx: &mut ConnectionContext,
    call: &Call,
) -> Result<Value, CallError> {
    let req: TransactionEvent = decode(call)?;
    check_sequence(ctx, &req);
    let tag = req
        .id_token
        .as_ref()
        .map(|t| id_tag(call, &t.id_token))
        .transpose()?;
    let transaction_id = req.transaction_info.transaction_id.clone();
    let samples = to_samples(&req.meter_value).samples;
    let offline = req.offline || ctx.happened_offline(req.timestamp);
    let store = ctx.gateway.inner.store.clone();
    // This connection's own last write of the transaction, else the store's.
    let existing = match ctx.live_session(&transaction_id) {
        Some(s) => Some(s),
        None => store
            .find_by_transaction(&ctx.charger, &transaction_id)
            .await
            .map_err(|e| store_error(call, &e))?,
    };
    let evse = req
        .evse
        .map(|e| EvseId(e.id))
        .or(existing.as_ref().map(|s| s.evse));
    let mut tag_info = None;
    if existing.is_some() && req.event_type == "Started" {
        // A Started we already recorded (resent after a lost answer): acknowledge it again.
        if let Some(tag) = &tag {
            tag_info = Some(
                authorize_tag(ctx, tag, false)
                    .await
                    .map_err(|e| store_error(call, &e))?,
            );
        }
    } else if existing.is_none() && req.event_type != "Ended" {
        let Some(evse) = evse else {
            return Err(call_error(
                call,
                ErrorCode::OccurrenceConstraintViolation,
                "the first event of a transaction must name its evse".into(),
            ));
        };
        let connector = connector_number(
            ctx,
            evse,
            req.evse.and_then(|e| e.connector_id).unwrap_or(1),
        );
        let started = transactions::start(
            ctx,
            StartRequest {
                evse,
                connector,
                id_tag: tag.clone(),
                meter_start: None,
                started_at: req.timestamp,
                transaction_id: Some(transaction_id.clone()),
                reason: Some(req.trigger_reason.clone()),
                offline: offline || req.event_type != "Started",
                samples: samples.clone(),
                reservation: req.reservation_id.and_then(|r| i32::try_from(r).ok()),
            },
        )
        .await
        .map_err(|e| store_error(call, &e))?;
        persist_pending_needs(ctx, evse, &started.session)
            .await
            .map_err(|e| store_error(call, &e))?;
        tag_info = started.tag;
    } else if req.event_type == "Ended" {
        let stopped = transactions::stop(
            ctx,
            StopRequest {
                transaction_id: transaction_id.clone(),
                evse,
                id_tag: tag.clone(),
                meter_stop: None,
                stopped_at: req.timestamp,
                // 2.0.1: an absent stoppedReason means Local.
                reason: StopReason::from_text(
                    req.transaction_info
                        .stopped_reason
                        .as_deref()
                        .unwrap_or("Local"),
                ),
                offline,
                samples,
            },
        )
        .await
        .map_err(|e| store_error(call, &e))?;
        tag_info = stopped.tag;
    } else {
        // The session was found above by its exact id: record on it without a second lookup.
        // An unknown id goes through the shared path, which reconciles it to an open session.
        let session = match existing {
            Some(mut session) => {
                transactions::record_samples(ctx, &mut session, samples)
                    .await
                    .map_err(|e| store_error(call, &e))?;
                Some(session)
            }
            None => {
                transactions::meter_values(
                    ctx,
                    evse.unwrap_or(EvseId(0)),
                    Some(&transaction_id),
                    samples,
                )
                .await
                .map_err(|e| store_error(call, &e))?;
                None
            }
        };
        if let Some(tag) = &tag {
            // Authorised during the transaction (plug-and-charge first, card later). A card that
            // becomes this transaction's is checked like one starting a transaction: it may not
            // be in use elsewhere at the same time.
            let attaching = session.as_ref().is_some_and(|s| s.id_tag.is_none());
            let info = authorize_tag(ctx, tag, attaching)
                .await
                .map_err(|e| store_error(call, &e))?;
            if let Some(mut session) = session
                && session.id_tag.is_none()
                && info.status == chargegrid_core::driver::IdTagStatus::Accepted
            {
                let before = session.clone();
                session.id_tag = Some(tag.clone());
                if let Some(r) = &info.record {
                    session.driver = r.driver.clone();
                    session.fleet = r.fleet.clone();
                    session.vehicle = r.vehicle.clone();
                }
                let result = store.update_session(&before, &session, &[]).await;
                match &result {
                    Ok(()) => ctx.wrote(&session),
                    Err(_) => ctx.forget(&session.transaction_id),
                }
                result.map_err(|e| store_error(call, &e))?;
            }
            tag_info = Some(info);
        }
    }
    let id_token_info = tag_info
        .filter(|_| req.id_token.is_some())
        .map(|info| IdTokenInfo::from(&info.verdict()));
    Ok(payload(TransactionEventResponse { id_token_info }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_up_transaction_ids_do_not_grow_the_sequence_map() {
        let mut map = std::collections::HashMap::new();
        assert_eq!(track_seq_no(&mut map, "real", 0), None);
        assert_eq!(track_seq_no(&mut map, "real", 1), Some(0));
        for i in 0..10_000 {
            track_seq_no(&mut map, &format!("made-up-{i}"), 0);
        }
        assert!(map.len() <= MAX_TRACKED_TRANSACTIONS, "{}", map.len());
        assert_eq!(track_seq_no(&mut map, "made-up-9999", 1), Some(0));
    }
}
