//! Operators' site controls: demand-response windows that lower (or raise) a site's limit from
//! a given time; the scheduler applies them.

use axum::extract::State;
use axum::http::StatusCode;
use chargegrid_core::limits::Limit;
use chargegrid_core::{SiteId, Watts};
use chargegrid_store::{ChangeKind, LimitWindow, SiteChange};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::json::{Json, Path};
use crate::{ApiResult, ApiState, Problem};

/// A limit window.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLimitWindow {
    /// Id, unique within the site (letters, digits, `-_.`).
    pub id: String,
    /// Start (UTC).
    pub from: DateTime<Utc>,
    /// End (UTC); open-ended when absent.
    #[serde(default)]
    pub to: Option<DateTime<Utc>>,
    /// The site's limit during the window, kW.
    pub max_kw: f64,
    /// Why (shown to operators).
    #[serde(default)]
    pub reason: String,
}

/// A limit window as stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct LimitWindowView {
    /// Id.
    pub id: String,
    /// Start (UTC).
    pub from: DateTime<Utc>,
    /// End (UTC).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<DateTime<Utc>>,
    /// Limit, kW.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_kw: Option<f64>,
    /// Why.
    pub reason: String,
}

fn view(w: &LimitWindow) -> LimitWindowView {
    LimitWindowView {
        id: w.id.clone(),
        from: w.from,
        to: w.to,
        max_kw: w.limit.max_power.map(|p| p.0 / 1000.0),
        reason: w.reason.clone(),
    }
}

async fn site(state: &ApiState, raw: &str) -> ApiResult<SiteId> {
    let id = SiteId::new(raw).map_err(|_| Problem::not_found("no such site"))?;
    state
        .store
        .get_site(&id)
        .await?
        .map(|s| s.id)
        .ok_or_else(|| Problem::not_found("no such site"))
}

/// Add or replace a limit window (operators).
#[utoipa::path(post, path = "/api/v1/sites/{site}/limit-windows", tag = "operations", security(("bearer" = [])),
    params(("site" = String, Path, description = "site id")),
    request_body = NewLimitWindow,
    responses((status = 201, body = LimitWindowView), (status = 400, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub(crate) async fn add_window(
    State(state): State<ApiState>,
    caller: Caller,
    Path(raw): Path<String>,
    Json(req): Json<NewLimitWindow>,
) -> ApiResult<(StatusCode, axum::Json<LimitWindowView>)> {
    caller.require_operator()?;
    let id = site(&state, &raw).await?;
    let valid_id = !req.id.is_empty()
        && req.id.len() <= 64
        && req
            .id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if !valid_id {
        return Err(Problem::bad_request(
            "id must be 1 to 64 letters, digits, - _ .",
        ));
    }
    if !(req.max_kw.is_finite() && (0.0..=100_000.0).contains(&req.max_kw)) {
        return Err(Problem::bad_request("max_kw must be between 0 and 100000"));
    }
    if req.to.is_some_and(|to| to <= req.from) {
        return Err(Problem::bad_request("to must be after from"));
    }
    let window = LimitWindow {
        id: req.id,
        from: req.from,
        to: req.to,
        limit: Limit::power(Watts(req.max_kw * 1000.0)),
        reason: req.reason.chars().take(200).collect(),
    };
    state.store.put_limit_window(&id, &window).await?;
    let _ = state
        .store
        .notify_change(SiteChange::new(id, ChangeKind::Limits))
        .await;
    Ok((StatusCode::CREATED, axum::Json(view(&window))))
}

/// A site's limit windows (operators).
#[utoipa::path(get, path = "/api/v1/sites/{site}/limit-windows", tag = "operations", security(("bearer" = [])),
    params(("site" = String, Path, description = "site id")),
    responses((status = 200, body = Vec<LimitWindowView>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub(crate) async fn list_windows(
    State(state): State<ApiState>,
    caller: Caller,
    Path(raw): Path<String>,
) -> ApiResult<axum::Json<Vec<LimitWindowView>>> {
    caller.require_operator()?;
    let id = site(&state, &raw).await?;
    let windows = state.store.limit_windows(&id).await?;
    Ok(axum::Json(windows.iter().map(view).collect()))
}

/// Remove a limit window (operators).
#[utoipa::path(delete, path = "/api/v1/sites/{site}/limit-windows/{window}", tag = "operations", security(("bearer" = [])),
    params(("site" = String, Path, description = "site id"), ("window" = String, Path, description = "window id")),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub(crate) async fn delete_window(
    State(state): State<ApiState>,
    caller: Caller,
    Path((raw, window)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    caller.require_operator()?;
    let id = site(&state, &raw).await?;
    if !state.store.delete_limit_window(&id, &window).await? {
        return Err(Problem::not_found("no such window"));
    }
    let _ = state
        .store
        .notify_change(SiteChange::new(id, ChangeKind::Limits))
        .await;
    Ok(StatusCode::NO_CONTENT)
}
