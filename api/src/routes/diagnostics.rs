//! Operators' diagnostics of charger connections: the latest refused handshakes of every
//! gateway node, with the charger id as asked for, the client's address and the reason — the
//! trace a charger that cannot connect (wrong URL or id, bad password, subprotocol, TLS)
//! leaves.

use axum::extract::State;
use chargegrid_store::RefusedHandshake;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::Caller;
use crate::json::Query;
use crate::{ApiResult, ApiState};

/// How many to return.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RefusalsQuery {
    /// At most this many, newest first (1 to 1,000; default 100).
    #[serde(default)]
    pub limit: Option<usize>,
}

/// The latest refused charger handshakes (operators).
#[utoipa::path(get, path = "/api/v1/chargers/refused-handshakes", tag = "operations", security(("bearer" = [])),
    params(RefusalsQuery),
    responses((status = 200, description = "newest first: at, charger, remote, reason, node", body = Object),
        (status = 400, body = crate::Problem), (status = 401, body = crate::Problem), (status = 403, body = crate::Problem)))]
pub(crate) async fn refused_handshakes(
    State(state): State<ApiState>,
    caller: Caller,
    Query(q): Query<RefusalsQuery>,
) -> ApiResult<axum::Json<Vec<RefusedHandshake>>> {
    caller.require_operator()?;
    let limit = q
        .limit
        .unwrap_or(100)
        .clamp(1, chargegrid_store::REFUSALS_KEPT);
    Ok(axum::Json(state.store.recent_refusals(limit).await?))
}
