//! 1.6 Authorize, StartTransaction and StopTransaction.

use chargegrid_core::driver::IdTagStatus;
use chargegrid_core::session::StopReason;
use chargegrid_core::{ConnectorId, EvseId, WattHours};
use chargegrid_ocpp::messages::authorization::{
    AuthorizeResponse16, IdTagInfo, StartTransactionResponse, StopTransactionResponse,
};
use chargegrid_ocpp::messages::meter::to_samples;
use chargegrid_ocpp::messages::payload;
use chargegrid_ocpp::v16::requests::{Authorize, StartTransaction, StopTransaction};
use chargegrid_ocpp::{Call, CallError, ErrorCode};
use serde_json::Value;

use crate::call_errors::{call_error, decode, id_tag, store_error};
use crate::context::ConnectionContext;
use crate::operations::authorization::{TagInfo, authorize as authorize_tag};
use crate::operations::transactions::{self, StartRequest, StopRequest};

pub(crate) async fn authorize(
    ctx: &mut ConnectionContext,
    call: &Call,
) -> Result<Value, CallError> {
    let req: Authorize = decode(call)?;
    let tag = id_tag(call, &req.id_tag)?;
    let info = authorize_tag(ctx, &tag, true)
        .await
        .map_err(|e| store_error(call, &e))?;
    Ok(payload(AuthorizeResponse16 {
        id_tag_info: IdTagInfo::from(&info.verdict()),
    }))
}

pub(crate) async fn start_transaction(
    ctx: &mut ConnectionContext,
    call: &Call,
) -> Result<Value, CallError> {
    let req: StartTransaction = decode(call)?;
    let tag = id_tag(call, &req.id_tag)?;
    if req.connector_id == 0 {
        return Err(call_error(
            call,
            ErrorCode::PropertyConstraintViolation,
            "connectorId must be > 0".into(),
        ));
    }
    let started = transactions::start(
        ctx,
        StartRequest {
            evse: EvseId(req.connector_id),
            connector: ConnectorId(req.connector_id),
            id_tag: Some(tag),
            meter_start: (req.meter_start >= 0).then_some(WattHours(req.meter_start as f64)),
            started_at: req.timestamp,
            transaction_id: None,
            reason: Some("Authorized".into()),
            offline: ctx.happened_offline(req.timestamp),
            samples: Vec::new(),
            reservation: req.reservation_id,
        },
    )
    .await
    .map_err(|e| store_error(call, &e))?;
    if started.duplicate {
        tracing::info!(charger = %ctx.charger, transaction = %started.session.transaction_id, "repeated StartTransaction answered with the same id");
    }
    let info = started.tag.unwrap_or(TagInfo {
        status: IdTagStatus::Invalid,
        expiry: None,
        parent: None,
        record: None,
    });
    let transaction_id: i64 = started.session.transaction_id.parse().unwrap_or(0);
    Ok(payload(StartTransactionResponse {
        transaction_id,
        id_tag_info: IdTagInfo::from(&info.verdict()),
    }))
}

pub(crate) async fn stop_transaction(
    ctx: &mut ConnectionContext,
    call: &Call,
) -> Result<Value, CallError> {
    let req: StopTransaction = decode(call)?;
    let tag = match req.id_tag.as_deref() {
        Some(t) => Some(id_tag(call, t)?),
        None => None,
    };
    let converted = to_samples(&req.transaction_data);
    let stopped = transactions::stop(
        ctx,
        StopRequest {
            transaction_id: req.transaction_id.to_string(),
            evse: None,
            id_tag: tag,
            meter_stop: (req.meter_stop >= 0).then_some(WattHours(req.meter_stop as f64)),
            stopped_at: req.timestamp,
            // 1.6: an absent reason means Local.
            reason: StopReason::from_text(req.reason.as_deref().unwrap_or("Local")),
            offline: ctx.happened_offline(req.timestamp),
            samples: converted.samples,
        },
    )
    .await
    .map_err(|e| store_error(call, &e))?;
    transactions::count_meter_data(ctx, stopped.matched, 0, converted.skipped);
    Ok(payload(StopTransactionResponse {
        id_tag_info: stopped.tag.map(|info| IdTagInfo::from(&info.verdict())),
    }))
}
