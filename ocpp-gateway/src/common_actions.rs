//! The charger actions whose messages are the same in OCPP 1.6 and 2.0.1, handled once:
//! BootNotification and MeterValues (their answers are the same; the requests' fields only
//! move), Heartbeat,
//! DataTransfer (answered `UnknownVendorId`: no vendor extension is installed, which
//! tells the charger truthfully that nothing acted on it) and SecurityEventNotification
//! (logged and counted).

use chargegrid_core::EvseId;
use chargegrid_core::command::ChargerCommand;
use chargegrid_core::network::OcppVersion;
use chargegrid_ocpp::messages::data::{
    DataTransfer, Empty, SecurityEventNotification, StatusResponse,
};
use chargegrid_ocpp::messages::meter::to_samples;
use chargegrid_ocpp::messages::payload;
use chargegrid_ocpp::{Call, CallError, v16, v201};
use chargegrid_store::BootInfo;
use serde_json::Value;

use crate::call_errors::{decode, store_error};
use crate::context::ConnectionContext;
use crate::operations::{registration, transactions};

/// BootNotification: the boot recorded, the registration decided by the network's policy.
pub(crate) async fn boot_notification(
    ctx: &mut ConnectionContext,
    call: &Call,
) -> Result<Value, CallError> {
    let now = ctx.gateway.inner.clock.now();
    let info = match ctx.version {
        OcppVersion::V16 => {
            let req: v16::requests::BootNotification = decode(call)?;
            BootInfo {
                vendor: req.charge_point_vendor,
                model: req.charge_point_model,
                serial_number: req
                    .charge_point_serial_number
                    .or(req.charge_box_serial_number),
                firmware_version: req.firmware_version,
                ocpp_version: ctx.version,
                booted_at: now,
            }
        }
        OcppVersion::V201 => {
            let req: v201::requests::BootNotification = decode(call)?;
            let station = req.charging_station;
            BootInfo {
                vendor: station.vendor_name,
                model: station.model,
                serial_number: station.serial_number,
                firmware_version: station.firmware_version,
                ocpp_version: ctx.version,
                booted_at: now,
            }
        }
    };
    let decision = registration::boot(ctx, info)
        .await
        .map_err(|e| store_error(call, &e))?;
    if decision.registration == chargegrid_core::network::Registration::Accepted
        && ctx.gateway.inner.config.settings.read_settings_at_boot
    {
        ctx.follow_ups.push(read_settings(ctx.version, now));
    }
    Ok(decision.reply(now))
}

/// The call that reads a charger's settings: 1.6 GetConfiguration of every key (the answer
/// is kept when it arrives), 2.0.1 GetBaseReport ConfigurationInventory (the charger then
/// sends NotifyReport parts).
fn read_settings(version: OcppVersion, now: chrono::DateTime<chrono::Utc>) -> ChargerCommand {
    match version {
        OcppVersion::V16 => ChargerCommand::GetConfiguration { keys: Vec::new() },
        OcppVersion::V201 => ChargerCommand::Raw {
            action: "GetBaseReport".to_string(),
            payload: chargegrid_ocpp::messages::payload(
                chargegrid_ocpp::messages::configuration::GetBaseReport {
                    // Positive, and distinct enough between boots to tell reports apart.
                    request_id: (now.timestamp() % 1_000_000_000) as i32,
                    report_base: "ConfigurationInventory".to_string(),
                },
            ),
        },
    }
}

/// Firmware, diagnostics and log status notifications (1.6 Diagnostics-, Firmware-,
/// LogStatusNotification and the signed firmware one; 2.0.1 Firmware-, Log- and
/// PublishFirmwareStatusNotification): the same `status` and `requestId` in both versions,
/// kept as the charger's device state.
pub(crate) async fn status_report(
    ctx: &ConnectionContext,
    call: &Call,
) -> Result<Value, CallError> {
    let req: v16::requests::StatusReport = decode(call)?;
    crate::operations::device::record_status(ctx, call, &req.status, req.request_id).await?;
    Ok(payload(chargegrid_ocpp::messages::data::Empty {}))
}

/// MeterValues: 1.6 names a connector and maybe a transaction, 2.0.1 an EVSE; the samples are
/// recorded on the session they belong to, and what could not be used is counted.
pub(crate) async fn meter_values(
    ctx: &mut ConnectionContext,
    call: &Call,
) -> Result<Value, CallError> {
    let (evse, transaction, values) = match ctx.version {
        OcppVersion::V16 => {
            let req: v16::requests::MeterValues = decode(call)?;
            let transaction = req.transaction_id.map(|t| t.to_string());
            (req.connector_id, transaction, req.meter_value)
        }
        OcppVersion::V201 => {
            let req: v201::requests::MeterValues = decode(call)?;
            (req.evse_id, None, req.meter_value)
        }
    };
    let converted = to_samples(&values);
    let (matched, applied) =
        transactions::meter_values(ctx, EvseId(evse), transaction.as_deref(), converted.samples)
            .await
            .map_err(|e| store_error(call, &e))?;
    transactions::count_meter_data(ctx, matched, applied.backwards, converted.skipped);
    Ok(payload(Empty {}))
}

/// Heartbeat: the central system's time.
pub(crate) fn heartbeat(ctx: &ConnectionContext) -> Result<Value, CallError> {
    Ok(crate::operations::registration::heartbeat(ctx))
}

/// DataTransfer from the charger.
pub(crate) fn data_transfer(ctx: &ConnectionContext, call: &Call) -> Result<Value, CallError> {
    let req: DataTransfer = decode(call)?;
    tracing::info!(charger = %ctx.charger, vendor = ?req.vendor_id, message = ?req.message_id, "data transfer from charger");
    Ok(payload(StatusResponse::of("UnknownVendorId")))
}

/// SecurityEventNotification.
pub(crate) fn security_event(ctx: &ConnectionContext, call: &Call) -> Result<Value, CallError> {
    let req: SecurityEventNotification = decode(call)?;
    crate::operations::security::security_event(ctx, &req.kind, req.tech_info.as_deref());
    Ok(payload(Empty {}))
}
