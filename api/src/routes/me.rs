//! The caller's own account and id tags (RFID cards linked to them).

use axum::extract::State;
use axum::http::StatusCode;
use chargegrid_core::driver::{IdTagRecord, IdTagStatus};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::json::{Json, Path};
use crate::views::{DriverView, IdTagView};
use crate::{ApiResult, ApiState, Problem};

/// The account with its tokens.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeView {
    /// The account.
    #[serde(flatten)]
    pub driver: DriverView,
    /// Its id tags (the app token first).
    pub id_tags: Vec<IdTagView>,
    /// Fleets that invited this driver (accept one with `POST /me/fleet-invitations/{fleet}`).
    pub fleet_invitations: Vec<String>,
}

/// Link a card.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkIdTag {
    /// The card's UID as the charger reads it (printable ASCII, up to 20 characters).
    pub id_tag: String,
}

/// The caller's account.
#[utoipa::path(get, path = "/api/v1/me", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, body = MeView), (status = 401, body = Problem)))]
pub(crate) async fn me(
    State(state): State<ApiState>,
    caller: Caller,
) -> ApiResult<axum::Json<MeView>> {
    let mut tags = state.store.id_tags_of_driver(&caller.driver.id).await?;
    tags.sort_by_key(|t| !t.tag.as_str().starts_with("APP"));
    Ok(axum::Json(MeView {
        driver: DriverView::from(&caller.driver),
        id_tags: tags.iter().map(IdTagView::from).collect(),
        fleet_invitations: caller
            .driver
            .fleet_invitations
            .iter()
            .map(ToString::to_string)
            .collect(),
    }))
}

/// Accept a fleet's invitation: the caller joins the fleet (its managers then see the caller's
/// sessions, and the caller's cards charge for the fleet).
#[utoipa::path(post, path = "/api/v1/me/fleet-invitations/{fleet}", tag = "accounts", security(("bearer" = [])),
    params(("fleet" = String, Path, description = "the inviting fleet")),
    responses((status = 200, body = DriverView), (status = 401, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub(crate) async fn accept_invitation(
    State(state): State<ApiState>,
    caller: Caller,
    Path(fleet): Path<String>,
) -> ApiResult<axum::Json<DriverView>> {
    let mut driver = caller.driver;
    let invited = driver
        .fleet_invitations
        .iter()
        .find(|f| f.as_str() == fleet)
        .cloned()
        .ok_or_else(|| Problem::not_found(format!("no invitation from fleet {fleet}")))?;
    if driver.fleet.is_some() {
        return Err(Problem::conflict(
            "in-a-fleet",
            "leave your current fleet first",
        ));
    }
    crate::routes::fleets::join(&state, &mut driver, &invited).await?;
    Ok(axum::Json(DriverView::from(&driver)))
}

/// Decline a fleet's invitation.
#[utoipa::path(delete, path = "/api/v1/me/fleet-invitations/{fleet}", tag = "accounts", security(("bearer" = [])),
    params(("fleet" = String, Path, description = "the inviting fleet")),
    responses((status = 204), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub(crate) async fn decline_invitation(
    State(state): State<ApiState>,
    caller: Caller,
    Path(fleet): Path<String>,
) -> ApiResult<StatusCode> {
    let mut driver = caller.driver;
    let before = driver.fleet_invitations.len();
    driver.fleet_invitations.retain(|f| f.as_str() != fleet);
    if driver.fleet_invitations.len() == before {
        return Err(Problem::not_found(format!(
            "no invitation from fleet {fleet}"
        )));
    }
    state.store.update_driver(&driver).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Link an RFID card to the caller (409 if another account has it).
#[utoipa::path(post, path = "/api/v1/me/id-tags", tag = "accounts", security(("bearer" = [])),
    request_body = LinkIdTag,
    responses((status = 201, body = IdTagView), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn link_id_tag(
    State(state): State<ApiState>,
    caller: Caller,
    Json(req): Json<LinkIdTag>,
) -> ApiResult<(StatusCode, axum::Json<IdTagView>)> {
    let tag = crate::routes::cards::card(&req.id_tag)?;
    if let Some(existing) = state.store.get_id_tag(&tag).await? {
        if existing.driver.as_ref() != Some(&caller.driver.id) {
            return Err(Problem::conflict(
                "id-tag-taken",
                "this card is linked to another account",
            ));
        }
        return Ok((StatusCode::CREATED, axum::Json(IdTagView::from(&existing))));
    }
    let record = IdTagRecord {
        tag,
        driver: Some(caller.driver.id.clone()),
        vehicle: None,
        fleet: caller.driver.fleet.clone(),
        status: IdTagStatus::Accepted,
        expires_at: None,
        parent: None,
        allow_concurrent: false,
    };
    state.store.put_id_tag(&record).await?;
    Ok((StatusCode::CREATED, axum::Json(IdTagView::from(&record))))
}
