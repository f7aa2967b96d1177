//! `GET /api/v1/health`: whether this node and its store answer (for load balancers).

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::{ApiState, Problem};

pub(crate) async fn health(State(state): State<ApiState>) -> Result<Json<Value>, Problem> {
    state.store.ping().await.map_err(|e| {
        tracing::warn!(error = %e, "health check: store unavailable");
        Problem::unavailable()
    })?;
    Ok(Json(json!({
        "status": "ok",
        "store": state.store.backend(),
        "time": state.clock.now(),
    })))
}
