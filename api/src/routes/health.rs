//! `GET /api/v1/health`: whether this node and its store answer (for load balancers).

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use crate::{ApiState, Problem};

/// Liveness and store reachability.
#[derive(Debug, Serialize, ToSchema)]
pub struct HealthView {
    /// `ok`.
    pub status: &'static str,
    /// `memory` or `redis`.
    pub store: &'static str,
    /// Server time (UTC).
    pub time: chrono::DateTime<chrono::Utc>,
}

/// Whether the API and its store answer.
#[utoipa::path(get, path = "/api/v1/health", tag = "operations",
    responses((status = 200, body = HealthView), (status = 503, body = Problem)))]
pub(crate) async fn health(State(state): State<ApiState>) -> Result<Json<HealthView>, Problem> {
    state.store.ping().await.map_err(|e| {
        tracing::warn!(error = %e, "health check: store unavailable");
        Problem::unavailable()
    })?;
    Ok(Json(HealthView {
        status: "ok",
        store: state.store.backend(),
        time: state.clock.now(),
    }))
}
