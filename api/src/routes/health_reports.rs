//! Vehicle health for fleet operators: a vehicle's report, the fleet's roll-up (filterable by
//! alert, sortable), its CSV export and SoH chart. The health worker computes and stores these
//! documents as sessions end; the API serves them to the fleet's managers and operators. Every
//! report states it is an estimate from charging data, not a certificate.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use chargegrid_core::{FleetId, VehicleId};
use chargegrid_store::health::documents;
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;

use crate::auth::Caller;
use crate::json::{Path, Query};
use crate::{ApiResult, ApiState, Problem};

/// The statement every report carries.
const DISCLAIMER: &str = "An estimate from charging data, not a certificate.";

/// Roll-up filters and order.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RollupQuery {
    /// Only vehicles with this active alert (e.g. `soh_below_threshold`, `resistance_increase`).
    #[serde(default)]
    pub alert: Option<String>,
    /// Sort by `vehicle` (default), `soh`, `trend`, `resistance_index`, `severity`.
    #[serde(default)]
    pub sort: Option<String>,
    /// `asc` (default) or `desc`.
    #[serde(default)]
    pub order: Option<String>,
}

async fn fleet_for(state: &ApiState, caller: &Caller, raw: &str) -> ApiResult<FleetId> {
    let id = FleetId::new(raw).map_err(|_| Problem::not_found("no such fleet"))?;
    caller.require_manager_of(&id)?;
    state
        .store
        .get_fleet(&id)
        .await?
        .ok_or_else(|| Problem::not_found("no such fleet"))?;
    Ok(id)
}

fn severity_rank(row: &Value) -> i64 {
    match row["worst_severity"].as_str() {
        Some("critical") => 3,
        Some("warning") => 2,
        Some("info") => 1,
        _ => 0,
    }
}

/// A vehicle's health report.
#[utoipa::path(get, path = "/api/v1/vehicles/{vehicle}/health", tag = "health", security(("bearer" = [])),
    params(("vehicle" = String, Path, description = "vehicle id")),
    responses((status = 200, description = "the vehicle's report (SoH with interval and grade or withheld, trend, resistance, acceptance, stressors, alerts, history)", body = Object),
        (status = 401, body = Problem), (status = 404, body = Problem)))]
pub(crate) async fn vehicle(
    State(state): State<ApiState>,
    caller: Caller,
    Path(raw): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    let id = VehicleId::new(raw).map_err(|_| Problem::not_found("no such vehicle"))?;
    let vehicle = state
        .store
        .get_vehicle(&id)
        .await?
        .ok_or_else(|| Problem::not_found("no such vehicle"))?;
    // Whoever may not see it gets the same 404 as for a vehicle that does not exist: neither
    // the vehicle's existence nor its fleet is revealed.
    let allowed = match &vehicle.fleet {
        Some(f) => caller.manages(f),
        None => caller.is_operator(),
    };
    if !allowed {
        return Err(Problem::not_found("no such vehicle"));
    }
    let report = state.store.vehicle_report(&id).await?.ok_or_else(|| {
        Problem::not_found("no health report yet: the vehicle has no analysed session")
    })?;
    Ok(axum::Json(report))
}

/// The fleet's health roll-up, one row per vehicle.
#[utoipa::path(get, path = "/api/v1/fleets/{fleet}/health", tag = "health", security(("bearer" = [])),
    params(("fleet" = String, Path, description = "fleet id"), RollupQuery),
    responses((status = 200, description = "rows with SoH, interval, grade, trend, resistance index and alerts", body = Object),
        (status = 400, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub(crate) async fn rollup(
    State(state): State<ApiState>,
    caller: Caller,
    Path(raw): Path<String>,
    Query(q): Query<RollupQuery>,
) -> ApiResult<axum::Json<Value>> {
    let fleet = fleet_for(&state, &caller, &raw).await?;
    let text = state.store.fleet_document(&fleet, documents::ROWS).await?;
    let mut rows: Vec<Value> = match text {
        Some(t) => serde_json::from_str(&t).map_err(|e| {
            tracing::error!(error = %e, "unreadable fleet health rows");
            Problem::unavailable()
        })?,
        None => Vec::new(),
    };
    if let Some(alert) = &q.alert {
        rows.retain(|r| {
            r["alerts"]
                .as_array()
                .is_some_and(|a| a.iter().any(|k| k == alert.as_str()))
        });
    }
    let key = q.sort.as_deref().unwrap_or("vehicle");
    let descending = match q.order.as_deref() {
        None | Some("asc") => false,
        Some("desc") => true,
        Some(other) => {
            return Err(Problem::bad_request(format!(
                "order {other:?} is not asc or desc"
            )));
        }
    };
    let number = |r: &Value, field: &str| r[field].as_f64();
    match key {
        "vehicle" => rows.sort_by(|a, b| a["vehicle"].as_str().cmp(&b["vehicle"].as_str())),
        "soh" | "trend" | "resistance_index" => {
            let field = match key {
                "soh" => "soh_pct",
                "trend" => "trend_pct_per_month",
                _ => "resistance_index",
            };
            // Missing values last whatever the order.
            rows.sort_by(|a, b| match (number(a, field), number(b, field)) {
                (Some(x), Some(y)) if descending => y.total_cmp(&x),
                (Some(x), Some(y)) => x.total_cmp(&y),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            });
        }
        "severity" => rows.sort_by_key(|r| {
            let rank = severity_rank(r);
            if descending { -rank } else { rank }
        }),
        other => return Err(Problem::bad_request(format!("cannot sort by {other:?}"))),
    }
    if key == "vehicle" && descending {
        rows.reverse();
    }
    Ok(axum::Json(serde_json::json!({
        "fleet": fleet.to_string(),
        "vehicles": rows.len(),
        "rows": rows,
        "disclaimer": DISCLAIMER,
    })))
}

/// The roll-up as CSV.
#[utoipa::path(get, path = "/api/v1/fleets/{fleet}/health.csv", tag = "health", security(("bearer" = [])),
    params(("fleet" = String, Path, description = "fleet id")),
    responses((status = 200, description = "text/csv, one row per vehicle", content_type = "text/csv"),
        (status = 403, body = Problem), (status = 404, body = Problem)))]
pub(crate) async fn csv(
    State(state): State<ApiState>,
    caller: Caller,
    Path(raw): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let fleet = fleet_for(&state, &caller, &raw).await?;
    let text = state
        .store
        .fleet_document(&fleet, documents::CSV)
        .await?
        .ok_or_else(|| Problem::not_found("no health report yet for this fleet"))?;
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], text))
}

/// SoH over time for the fleet, as SVG.
#[utoipa::path(get, path = "/api/v1/fleets/{fleet}/health/soh.svg", tag = "health", security(("bearer" = [])),
    params(("fleet" = String, Path, description = "fleet id")),
    responses((status = 200, description = "image/svg+xml", content_type = "image/svg+xml"),
        (status = 403, body = Problem), (status = 404, body = Problem)))]
pub(crate) async fn chart(
    State(state): State<ApiState>,
    caller: Caller,
    Path(raw): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let fleet = fleet_for(&state, &caller, &raw).await?;
    let svg = state
        .store
        .fleet_document(&fleet, documents::CHART)
        .await?
        .ok_or_else(|| Problem::not_found("no health report yet for this fleet"))?;
    Ok(([(header::CONTENT_TYPE, "image/svg+xml")], svg))
}
