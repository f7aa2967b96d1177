//! NotifyEVChargingNeeds (ISO 15118): the EV's energy need, departure time and current or power
//! range become the session's [`EvNeeds`] in the store, where the scheduler reads them. Needs
//! sent before the transaction starts wait on the connection until it does.

use chargegrid_core::session::Session;
use chargegrid_core::{EvseId, Volts, WattHours, Watts};
use chargegrid_ocpp::messages::{data::StatusResponse, payload};
use chargegrid_ocpp::v201::requests::NotifyEvChargingNeeds;
use chargegrid_ocpp::{Call, CallError};
use chargegrid_store::{EvNeeds, NeedsSource, StoreResult};
use serde_json::Value;

use crate::call_errors::{decode, store_error};
use crate::context::ConnectionContext;

/// Phases for an AC energy-transfer mode.
fn phases(mode: &str) -> u8 {
    match mode {
        "AC_two_phase" => 2,
        "AC_three_phase" => 3,
        _ => 1,
    }
}

/// Nominal phase-to-neutral voltage used to turn AC currents into power.
const AC_VOLTAGE: Volts = Volts(230.0);

pub(crate) async fn notify_ev_charging_needs(
    ctx: &mut ConnectionContext,
    call: &Call,
) -> Result<Value, CallError> {
    let req: NotifyEvChargingNeeds = decode(call)?;
    let n = &req.charging_needs;
    let now = ctx.gateway.inner.clock.now();
    let mut needs = EvNeeds {
        energy: None,
        departure: n.departure_time,
        min_power: None,
        max_power: None,
        source: NeedsSource::Vehicle,
        updated_at: now,
    };
    if let Some(ac) = &n.ac_charging_parameters {
        let p = phases(&n.requested_energy_transfer);
        needs.energy = Some(WattHours(ac.energy_amount));
        needs.min_power = Some(chargegrid_core::Amperes(ac.ev_min_current).to_watts(AC_VOLTAGE, p));
        needs.max_power = Some(chargegrid_core::Amperes(ac.ev_max_current).to_watts(AC_VOLTAGE, p));
    }
    if let Some(dc) = &n.dc_charging_parameters {
        needs.energy = dc.energy_amount.map(WattHours).or(needs.energy);
        needs.max_power = Some(Watts(
            dc.ev_max_power
                .unwrap_or(dc.ev_max_current * dc.ev_max_voltage),
        ));
    }
    let evse = EvseId(req.evse_id);
    let open = ctx
        .gateway
        .inner
        .store
        .active_sessions_of_charger(&ctx.charger)
        .await
        .map_err(|e| store_error(call, &e))?;
    match open.iter().find(|s| s.evse == evse) {
        Some(session) => ctx
            .gateway
            .inner
            .store
            .put_ev_needs(&session.site, &session.id, &needs)
            .await
            .map_err(|e| store_error(call, &e))?,
        None => {
            ctx.pending_needs.insert(evse, needs);
        }
    }
    tracing::info!(charger = %ctx.charger, %evse, mode = %n.requested_energy_transfer, "EV charging needs");
    crate::operations::changes::notify(ctx, chargegrid_store::ChangeKind::Needs).await;
    Ok(payload(StatusResponse::of("Accepted")))
}

/// Stores needs that arrived before the session on `evse` started.
pub(super) async fn persist_pending_needs(
    ctx: &mut ConnectionContext,
    evse: EvseId,
    session: &Session,
) -> StoreResult<()> {
    if let Some(needs) = ctx.pending_needs.remove(&evse) {
        ctx.gateway
            .inner
            .store
            .put_ev_needs(&session.site, &session.id, &needs)
            .await?;
    }
    Ok(())
}
