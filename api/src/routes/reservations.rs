//! Reservations: hold a connector for N minutes (ReserveNow on the charger), list them, cancel
//! them (CancelReservation). They lapse by themselves at expiry, on the charger and here.

use axum::extract::State;
use axum::http::StatusCode;
use chargegrid_core::command::ChargerCommand;
use chargegrid_core::{ChargerId, EvseId};
use chargegrid_store::{Reservation, ReservationState};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::dispatch::snapshot::SiteSnapshot;
use crate::json::{Json, Path};
use crate::routes::sessions::{app_tag, command_outcome};
use crate::{ApiResult, ApiState, Problem};

/// A reservation request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReservation {
    /// Charger.
    pub charger_id: String,
    /// EVSE.
    pub evse_id: u32,
    /// How long, 1 to 60 minutes.
    pub minutes: u32,
}

/// A reservation.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReservationView {
    /// Id.
    pub id: i32,
    /// Site.
    pub site: String,
    /// Charger.
    pub charger: String,
    /// EVSE.
    pub evse: u32,
    /// Made at (UTC).
    pub created_at: DateTime<Utc>,
    /// Lapses at (UTC).
    pub expires_at: DateTime<Utc>,
    /// `active`, `expired`, `cancelled` or `used`.
    pub state: String,
}

fn view(r: &Reservation, now: DateTime<Utc>) -> ReservationView {
    let state = match r.state {
        ReservationState::Active if r.expires_at <= now => "expired",
        ReservationState::Active => "active",
        ReservationState::Cancelled => "cancelled",
        ReservationState::Used => "used",
    };
    ReservationView {
        id: r.id,
        site: r.site.to_string(),
        charger: r.charger.to_string(),
        evse: r.evse.0,
        created_at: r.created_at,
        expires_at: r.expires_at,
        state: state.into(),
    }
}

/// Reserve a connector.
#[utoipa::path(post, path = "/api/v1/reservations", tag = "reservations", security(("bearer" = [])),
    request_body = NewReservation,
    responses((status = 201, body = ReservationView), (status = 400, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 503, body = Problem), (status = 504, body = Problem)))]
pub(crate) async fn create(
    State(state): State<ApiState>,
    caller: Caller,
    Json(req): Json<NewReservation>,
) -> ApiResult<(StatusCode, axum::Json<ReservationView>)> {
    if !(1..=60).contains(&req.minutes) {
        return Err(Problem::bad_request("minutes must be 1 to 60"));
    }
    let charger_id =
        ChargerId::new(req.charger_id).map_err(|_| Problem::not_found("no such charger"))?;
    let charger = state
        .store
        .get_charger(&charger_id)
        .await?
        .ok_or_else(|| Problem::not_found("no such charger"))?;
    let evse = EvseId(req.evse_id);
    if !charger.evses.iter().any(|e| e.id == evse) {
        return Err(Problem::not_found(format!(
            "no EVSE {} on {charger_id}",
            evse.0
        )));
    }
    let now = state.clock.now();
    let site = state
        .store
        .get_site(&charger.site)
        .await?
        .ok_or_else(|| Problem::not_found("no such charger"))?;
    let snap = SiteSnapshot::load(state.store.as_ref(), &site, now).await?;
    let free = snap
        .connectors()
        .iter()
        .any(|c| c.charger == charger_id && c.evse == evse && c.free);
    if !free {
        return Err(Problem::conflict(
            "connector-busy",
            "that connector is not free now",
        ));
    }
    let active_mine = state
        .store
        .reservations_of_driver(&caller.driver.id)
        .await?
        .into_iter()
        .any(|r| r.is_active_at(now));
    if active_mine {
        return Err(Problem::conflict(
            "already-reserved",
            "you already hold a reservation",
        ));
    }
    let tag = app_tag(&state, &caller).await?;
    let reservation = Reservation {
        id: state.store.next_reservation_id().await?,
        driver: caller.driver.id.clone(),
        id_tag: tag.clone(),
        site: charger.site.clone(),
        charger: charger_id.clone(),
        evse,
        created_at: now,
        expires_at: now + chrono::Duration::minutes(i64::from(req.minutes)),
        state: ReservationState::Active,
    };
    // Stored before the charger is asked: a charger that accepts a reservation the store does
    // not know would hold the connector for nobody. If the charger refuses or does not answer,
    // the stored one is cancelled.
    state.store.put_reservation(&reservation).await?;
    let reply = state
        .store
        .send_command(
            &charger_id,
            ChargerCommand::ReserveNow {
                reservation_id: reservation.id,
                evse,
                id_tag: tag,
                expires_at: reservation.expires_at,
            },
            state.config.command_timeout,
        )
        .await;
    let outcome = match reply {
        Ok(reply) => command_outcome(reply, "the reservation"),
        Err(e) => Err(Problem::from(e)),
    };
    if let Err(problem) = outcome {
        let mut cancelled = reservation.clone();
        cancelled.state = ReservationState::Cancelled;
        state.store.put_reservation(&cancelled).await?;
        return Err(problem);
    }
    state
        .metrics
        .reservations
        .with_label_values(&["created"])
        .inc();
    Ok((StatusCode::CREATED, axum::Json(view(&reservation, now))))
}

/// The caller's reservations, newest first.
#[utoipa::path(get, path = "/api/v1/reservations", tag = "reservations", security(("bearer" = [])),
    responses((status = 200, body = Vec<ReservationView>), (status = 401, body = Problem)))]
pub(crate) async fn list(
    State(state): State<ApiState>,
    caller: Caller,
) -> ApiResult<axum::Json<Vec<ReservationView>>> {
    let now = state.clock.now();
    let list = state
        .store
        .reservations_of_driver(&caller.driver.id)
        .await?;
    Ok(axum::Json(list.iter().map(|r| view(r, now)).collect()))
}

/// Cancel a reservation.
#[utoipa::path(delete, path = "/api/v1/reservations/{reservation}", tag = "reservations", security(("bearer" = [])),
    params(("reservation" = i32, Path, description = "reservation id")),
    responses((status = 200, body = ReservationView), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub(crate) async fn cancel(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<i32>,
) -> ApiResult<axum::Json<ReservationView>> {
    let now = state.clock.now();
    let mut r = state
        .store
        .get_reservation(id)
        .await?
        .filter(|r| r.driver == caller.driver.id || caller.is_operator())
        .ok_or_else(|| Problem::not_found("no such reservation"))?;
    if !r.is_active_at(now) {
        return Err(Problem::conflict(
            "reservation-inactive",
            "the reservation is no longer active",
        ));
    }
    let reply = state
        .store
        .send_command(
            &r.charger,
            ChargerCommand::CancelReservation {
                reservation_id: r.id,
            },
            state.config.command_timeout,
        )
        .await?;
    // Cancelled here whatever the charger says: it lapses there at expiry anyway.
    if let Err(p) = command_outcome(reply, "the cancellation") {
        tracing::warn!(reservation = r.id, problem = ?p.detail, "charger did not confirm the cancellation");
    }
    r.state = ReservationState::Cancelled;
    state.store.put_reservation(&r).await?;
    state
        .metrics
        .reservations
        .with_label_values(&["cancelled"])
        .inc();
    Ok(axum::Json(view(&r, now)))
}
