//! Fleet operators' endpoints: operators create fleets and their managers; a manager sees and
//! manages only their own fleet (drivers, vehicles, cards, sessions).

use axum::extract::State;
use axum::http::StatusCode;
use chargegrid_core::driver::{Driver, Fleet, IdTagRecord, IdTagStatus, Role};
use chargegrid_core::{DriverId, FleetId, VehicleId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::json::{Json, Path, Query};
use crate::routes::sessions::{PageQuery, page_view};
use crate::views::{DriverView, FleetView, IdTagView, SessionPage};
use crate::{ApiResult, ApiState, Problem};

/// A new fleet.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFleet {
    /// Id (letters, digits, `-_.`).
    pub id: String,
    /// Name.
    pub name: String,
    /// Default plug-in duration for the fleet's vehicles, hours (used as their departure).
    #[serde(default)]
    pub default_dwell_hours: Option<f64>,
}

/// A new fleet manager account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewManager {
    /// Login e-mail.
    pub email: String,
    /// Password.
    pub password: String,
    /// Name.
    pub name: String,
}

/// A driver to add to the fleet (an existing account).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddDriver {
    /// The driver's login e-mail.
    pub email: String,
}

/// A fleet card.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFleetTag {
    /// Card UID.
    pub id_tag: String,
    /// Vehicle the card belongs to.
    #[serde(default)]
    pub vehicle_id: Option<String>,
}

pub(crate) fn fleet_id(raw: &str) -> Result<FleetId, Problem> {
    FleetId::new(raw).map_err(|e| Problem::not_found(e.to_string()))
}

pub(crate) async fn existing_fleet(state: &ApiState, id: &FleetId) -> ApiResult<Fleet> {
    state
        .store
        .get_fleet(id)
        .await?
        .ok_or_else(|| Problem::not_found(format!("fleet {id}")))
}

/// Create a fleet (operators).
#[utoipa::path(post, path = "/api/v1/fleets", tag = "fleets", security(("bearer" = [])),
    request_body = NewFleet,
    responses((status = 201, body = FleetView), (status = 403, body = Problem), (status = 409, body = Problem)))]
pub(crate) async fn create_fleet(
    State(state): State<ApiState>,
    caller: Caller,
    Json(req): Json<NewFleet>,
) -> ApiResult<(StatusCode, axum::Json<FleetView>)> {
    caller.require_operator()?;
    let id = FleetId::new(req.id.trim()).map_err(|e| Problem::invalid_body(e.to_string()))?;
    if state.store.get_fleet(&id).await?.is_some() {
        return Err(Problem::conflict(
            "fleet-exists",
            format!("fleet {id} exists"),
        ));
    }
    if req
        .default_dwell_hours
        .is_some_and(|h| !(0.25..=72.0).contains(&h))
    {
        return Err(Problem::invalid_body(
            "default_dwell_hours must be 0.25 to 72",
        ));
    }
    let fleet = Fleet {
        id,
        name: req.name.trim().chars().take(100).collect(),
        default_dwell_hours: req.default_dwell_hours,
    };
    state.store.put_fleet(&fleet).await?;
    Ok((StatusCode::CREATED, axum::Json(FleetView::from(&fleet))))
}

/// A fleet.
#[utoipa::path(get, path = "/api/v1/fleets/{fleet}", tag = "fleets", security(("bearer" = [])),
    params(("fleet" = String, Path, description = "fleet id")),
    responses((status = 200, body = FleetView), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub(crate) async fn get_fleet(
    State(state): State<ApiState>,
    caller: Caller,
    Path(fleet): Path<String>,
) -> ApiResult<axum::Json<FleetView>> {
    let id = fleet_id(&fleet)?;
    caller.require_manager_of(&id)?;
    Ok(axum::Json(FleetView::from(
        &existing_fleet(&state, &id).await?,
    )))
}

/// Create a manager account for a fleet (operators).
#[utoipa::path(post, path = "/api/v1/fleets/{fleet}/managers", tag = "fleets", security(("bearer" = [])),
    params(("fleet" = String, Path, description = "fleet id")),
    request_body = NewManager,
    responses((status = 201, body = DriverView), (status = 403, body = Problem), (status = 409, body = Problem)))]
pub(crate) async fn create_manager(
    State(state): State<ApiState>,
    caller: Caller,
    Path(fleet): Path<String>,
    Json(req): Json<NewManager>,
) -> ApiResult<(StatusCode, axum::Json<DriverView>)> {
    caller.require_operator()?;
    let id = fleet_id(&fleet)?;
    existing_fleet(&state, &id).await?;
    let manager = crate::routes::auth::create_account(
        state.store.as_ref(),
        state.clock.as_ref(),
        &req.email,
        req.password,
        &req.name,
        Role::FleetManager,
        Some(id),
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(DriverView::from(&manager))))
}

/// Invite a driver account to the fleet by e-mail. The driver joins only by accepting the
/// invitation (`POST /me/fleet-invitations/{fleet}`); the answer is the same whether or not an
/// account has that address, so it reveals nothing about who is registered.
#[utoipa::path(post, path = "/api/v1/fleets/{fleet}/drivers", tag = "fleets", security(("bearer" = [])),
    params(("fleet" = String, Path, description = "fleet id")),
    request_body = AddDriver,
    responses((status = 202, body = Invited), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn add_driver(
    State(state): State<ApiState>,
    caller: Caller,
    Path(fleet): Path<String>,
    Json(req): Json<AddDriver>,
) -> ApiResult<(StatusCode, axum::Json<Invited>)> {
    let id = fleet_id(&fleet)?;
    caller.require_manager_of(&id)?;
    existing_fleet(&state, &id).await?;
    let found = state
        .store
        .find_driver_by_email(req.email.trim())
        .await?
        .filter(|d| d.role == Role::Driver && d.fleet.is_none());
    if let Some(mut driver) = found
        && !driver.fleet_invitations.contains(&id)
    {
        if driver.fleet_invitations.len() >= chargegrid_core::driver::MAX_FLEET_INVITATIONS {
            driver.fleet_invitations.remove(0);
        }
        driver.fleet_invitations.push(id.clone());
        state.store.update_driver(&driver).await?;
    }
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(Invited {
            fleet: id.to_string(),
            status: "invited".into(),
        }),
    ))
}

/// The answer to an invitation: the same whether or not the address has an account.
#[derive(Debug, Serialize, ToSchema)]
pub struct Invited {
    /// The inviting fleet.
    pub fleet: String,
    /// Always `invited`: the driver joins when they accept.
    pub status: String,
}

/// Joins `fleet` after the driver accepted its invitation: the driver's cards now charge for
/// the fleet.
pub(crate) async fn join(state: &ApiState, driver: &mut Driver, fleet: &FleetId) -> ApiResult<()> {
    existing_fleet(state, fleet).await?;
    driver.fleet = Some(fleet.clone());
    driver.fleet_invitations.clear();
    state.store.update_driver(driver).await?;
    for mut tag in state.store.id_tags_of_driver(&driver.id).await? {
        tag.fleet = Some(fleet.clone());
        state.store.put_id_tag(&tag).await?;
    }
    Ok(())
}

/// The fleet's drivers and managers.
#[utoipa::path(get, path = "/api/v1/fleets/{fleet}/drivers", tag = "fleets", security(("bearer" = [])),
    params(("fleet" = String, Path, description = "fleet id")),
    responses((status = 200, body = Vec<DriverView>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub(crate) async fn list_drivers(
    State(state): State<ApiState>,
    caller: Caller,
    Path(fleet): Path<String>,
) -> ApiResult<axum::Json<Vec<DriverView>>> {
    let id = fleet_id(&fleet)?;
    caller.require_manager_of(&id)?;
    let drivers = state.store.drivers_of_fleet(&id).await?;
    Ok(axum::Json(drivers.iter().map(DriverView::from).collect()))
}

/// Issue a fleet card, optionally tied to a vehicle (so its sessions count for that vehicle).
#[utoipa::path(post, path = "/api/v1/fleets/{fleet}/id-tags", tag = "fleets", security(("bearer" = [])),
    params(("fleet" = String, Path, description = "fleet id")),
    request_body = NewFleetTag,
    responses((status = 201, body = IdTagView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub(crate) async fn add_id_tag(
    State(state): State<ApiState>,
    caller: Caller,
    Path(fleet): Path<String>,
    Json(req): Json<NewFleetTag>,
) -> ApiResult<(StatusCode, axum::Json<IdTagView>)> {
    let id = fleet_id(&fleet)?;
    caller.require_manager_of(&id)?;
    existing_fleet(&state, &id).await?;
    let tag = crate::routes::cards::card(&req.id_tag)?;
    let vehicle = match req.vehicle_id {
        Some(v) => {
            let vid = VehicleId::new(v).map_err(|e| Problem::invalid_body(e.to_string()))?;
            let found = state.store.get_vehicle(&vid).await?;
            if found.is_none_or(|v| v.fleet.as_ref() != Some(&id)) {
                return Err(Problem::not_found(format!("vehicle {vid} in fleet {id}")));
            }
            Some(vid)
        }
        None => None,
    };
    if let Some(existing) = state.store.get_id_tag(&tag).await?
        && existing.fleet.as_ref() != Some(&id)
    {
        return Err(Problem::conflict(
            "id-tag-taken",
            "this card belongs to someone else",
        ));
    }
    let record = IdTagRecord {
        tag,
        driver: None::<DriverId>,
        vehicle,
        fleet: Some(id),
        status: IdTagStatus::Accepted,
        expires_at: None,
        parent: None,
        allow_concurrent: false,
    };
    state.store.put_id_tag(&record).await?;
    Ok((StatusCode::CREATED, axum::Json(IdTagView::from(&record))))
}

/// The fleet's sessions, newest first.
#[utoipa::path(get, path = "/api/v1/fleets/{fleet}/sessions", tag = "fleets", security(("bearer" = [])),
    params(("fleet" = String, Path, description = "fleet id"), PageQuery),
    responses((status = 200, body = SessionPage), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub(crate) async fn fleet_sessions(
    State(state): State<ApiState>,
    caller: Caller,
    Path(fleet): Path<String>,
    Query(q): Query<PageQuery>,
) -> ApiResult<axum::Json<SessionPage>> {
    let id = fleet_id(&fleet)?;
    caller.require_manager_of(&id)?;
    let limit = q.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(Problem::bad_request("limit must be 1 to 100"));
    }
    let page = crate::routes::sessions::history_page(
        &state,
        crate::routes::sessions::Owner::Fleet(&id),
        q.before,
        limit,
    )
    .await?;
    Ok(axum::Json(page_view(&state, page).await?))
}
