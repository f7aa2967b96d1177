//! One ended session → its features (stored by session id, so reprocessing replaces them).

use chargegrid_core::{FleetId, SessionId};

use super::{HealthWorker, WorkerError};
use chargegrid_health::features::{SessionContext, session_features};

/// Computes and stores the features of an ended session of a known vehicle.
pub(super) async fn process(
    svc: &HealthWorker,
    id: &SessionId,
) -> Result<Option<FleetId>, WorkerError> {
    let store = &svc.store;
    let Some(session) = store.get_session(id).await? else {
        return Ok(None);
    };
    if session.is_active() {
        return Ok(None);
    }
    let Some(vehicle_id) = session.vehicle.clone() else {
        svc.metrics
            .sessions
            .with_label_values(&["no_vehicle"])
            .inc();
        return Ok(None);
    };
    let vehicle = store.get_vehicle(&vehicle_id).await?;
    let charger = store.get_charger(&session.charger).await?;
    let connector = charger.as_ref().and_then(|c| {
        c.evses
            .iter()
            .flat_map(|e| e.connectors.iter().map(move |k| (e, k)))
            .find(|(_, k)| k.id == session.connector)
            .or_else(|| {
                c.evses
                    .iter()
                    .find(|e| e.id == session.evse)
                    .and_then(|e| e.connectors.first().map(|k| (e, k)))
            })
    });
    let dc = connector.is_some_and(|(_, k)| k.kind.is_dc());
    let mut ctx = SessionContext::from_session(&session, dc);
    ctx.vehicle = Some(vehicle_id.clone());
    ctx.nominal_capacity = vehicle.as_ref().map(|v| v.nominal_capacity);
    ctx.charger_max_power = connector.map(|(e, k)| k.max_power.unwrap_or(e.max_power));
    let samples = store.samples(&session.id).await?;
    let config = svc.config.clone();
    let features = tokio::task::spawn_blocking(move || session_features(&samples, &ctx, &config))
        .await
        .map_err(|e| WorkerError::Task(e.to_string()))??;
    let json = serde_json::to_value(&features)?;
    store
        .put_session_features(&vehicle_id, &session.id, &json)
        .await?;
    svc.metrics.sessions.with_label_values(&["processed"]).inc();
    Ok(vehicle.and_then(|v| v.fleet).or(session.fleet))
}
