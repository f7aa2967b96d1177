//! Vehicle health for fleet operators: a vehicle's report, the fleet's roll-up (filterable by
//! alert, sortable), its CSV export and SoH chart. The health worker computes and stores these
//! documents as sessions end; the API serves them to the fleet's managers and operators. Every
//! report states it is an estimate from charging data, not a certificate.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use chargegrid_core::{FleetId, VehicleId};
use chargegrid_health::fleet::{ChargerEffect, FleetFilter, FleetRow, SortKey, select};
use chargegrid_health::{AlertKind, DISCLAIMER, Severity};
use chargegrid_store::health::documents;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::json::{Path, Query};
use crate::{ApiResult, ApiState, Problem};

/// Roll-up filters and order (the health crate's [`FleetFilter`] and [`SortKey`]).
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RollupQuery {
    /// Only vehicles with this active alert (an alert kind, e.g. `soh_below_threshold`,
    /// `resistance_increase`).
    #[serde(default)]
    #[param(value_type = Option<String>)]
    pub alert: Option<AlertKind>,
    /// Only vehicles with an alert at least this severe: `info`, `warning` or `critical`.
    #[serde(default)]
    #[param(value_type = Option<String>)]
    pub min_severity: Option<Severity>,
    /// Only vehicles of this model.
    #[serde(default)]
    pub model: Option<String>,
    /// `true`: only vehicles whose SoH is withheld; `false`: only those with a figure.
    #[serde(default)]
    pub withheld: Option<bool>,
    /// Sort by `vehicle` (default), `soh`, `trend`, `resistance_index`, `severity`; missing
    /// values last whatever the order.
    #[serde(default)]
    #[param(value_type = Option<String>)]
    pub sort: Option<SortKey>,
    /// `asc` (default) or `desc`.
    #[serde(default)]
    pub order: Option<String>,
}

/// The roll-up as served: the health crate's rows after the filter and order asked for.
#[derive(Debug, Serialize)]
pub struct RollupTable {
    /// The fleet.
    pub fleet: FleetId,
    /// Rows returned.
    pub vehicles: usize,
    /// One row per vehicle.
    pub rows: Vec<FleetRow>,
    /// Every report is an estimate from charging data, not a certificate.
    pub disclaimer: &'static str,
}

/// The chargers found reading off, as served.
#[derive(Debug, Serialize)]
pub struct ChargerFindings {
    /// The fleet.
    pub fleet: FleetId,
    /// Chargers whose DC current reads off, with the figures behind each.
    pub chargers: Vec<ChargerEffect>,
    /// Every report is an estimate from charging data, not a certificate.
    pub disclaimer: &'static str,
}

/// A fleet's JSON list document as the health worker stored it (empty before the first
/// roll-up); an unreadable one is logged and answered 503.
async fn json_list<T: serde::de::DeserializeOwned>(
    state: &ApiState,
    fleet: &FleetId,
    name: &str,
) -> ApiResult<Vec<T>> {
    match state.store.fleet_document(fleet, name).await? {
        Some(text) => serde_json::from_str(&text).map_err(|e| {
            tracing::error!(error = %e, document = name, "unreadable fleet health document");
            Problem::unavailable()
        }),
        None => Ok(Vec::new()),
    }
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

/// The vehicle, when the caller may see it. Whoever may not gets the same 404 as for a vehicle
/// that does not exist: neither the vehicle's existence nor its fleet is revealed.
async fn visible_vehicle(state: &ApiState, caller: &Caller, raw: String) -> ApiResult<VehicleId> {
    let id = VehicleId::new(raw).map_err(|_| Problem::not_found("no such vehicle"))?;
    let vehicle = state
        .store
        .get_vehicle(&id)
        .await?
        .ok_or_else(|| Problem::not_found("no such vehicle"))?;
    let allowed = match &vehicle.fleet {
        Some(f) => caller.manages(f),
        None => caller.is_operator(),
    };
    if !allowed {
        return Err(Problem::not_found("no such vehicle"));
    }
    Ok(id)
}

/// Paging of a vehicle's health history.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    /// At most this many points, newest first (1 to 1,000; default 100).
    #[serde(default)]
    pub limit: Option<usize>,
}

/// One kept report, reduced to its state of health.
#[derive(Debug, Serialize, ToSchema)]
pub struct HealthPoint {
    /// The time of the newest data the report used.
    pub as_of: chrono::DateTime<chrono::Utc>,
    /// State of health, % (absent when withheld).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub soh_pct: Option<f64>,
    /// Lower end of its 90 % interval.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub low_pct: Option<f64>,
    /// Upper end of its 90 % interval.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub high_pct: Option<f64>,
    /// How it was estimated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
}

/// A vehicle's state of health over time.
#[derive(Debug, Serialize, ToSchema)]
pub struct HealthHistory {
    /// The vehicle.
    pub vehicle: String,
    /// Newest first.
    pub points: Vec<HealthPoint>,
}

/// The vehicle's state of health over time, from the reports kept in the records store (they
/// reach back past the live store).
#[utoipa::path(get, path = "/api/v1/vehicles/{vehicle}/health/history", tag = "health", security(("bearer" = [])),
    params(("vehicle" = String, Path, description = "vehicle id"), HistoryQuery),
    responses((status = 200, body = HealthHistory), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 404, body = Problem), (status = 503, body = Problem)))]
pub(crate) async fn vehicle_health_history(
    State(state): State<ApiState>,
    caller: Caller,
    Path(raw): Path<String>,
    Query(q): Query<HistoryQuery>,
) -> ApiResult<axum::Json<HealthHistory>> {
    let limit = q.limit.unwrap_or(100);
    if !(1..=1_000).contains(&limit) {
        return Err(Problem::bad_request("limit must be 1 to 1000"));
    }
    let id = visible_vehicle(&state, &caller, raw).await?;
    let Some(records) = &state.records else {
        return Err(Problem::unavailable());
    };
    let points = records
        .health_history(&id, limit)
        .await?
        .into_iter()
        .map(|(as_of, text)| {
            let report: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            let soh = &report["soh"];
            HealthPoint {
                as_of,
                soh_pct: soh["soh_pct"].as_f64(),
                low_pct: soh["low_pct"].as_f64(),
                high_pct: soh["high_pct"].as_f64(),
                method: soh["method"].as_str().map(str::to_string),
            }
        })
        .collect();
    Ok(axum::Json(HealthHistory {
        vehicle: id.to_string(),
        points,
    }))
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
    let id = visible_vehicle(&state, &caller, raw).await?;
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
) -> ApiResult<axum::Json<RollupTable>> {
    let fleet = fleet_for(&state, &caller, &raw).await?;
    let descending = match q.order.as_deref() {
        None | Some("asc") => false,
        Some("desc") => true,
        Some(other) => {
            return Err(Problem::bad_request(format!(
                "order {other:?} is not asc or desc"
            )));
        }
    };
    let rows: Vec<FleetRow> = json_list(&state, &fleet, documents::ROWS).await?;
    let filter = FleetFilter {
        alert: q.alert,
        min_severity: q.min_severity,
        model: q.model,
        withheld: q.withheld,
    };
    let rows = select(
        rows,
        &filter,
        q.sort.unwrap_or(SortKey::Vehicle),
        descending,
    );
    Ok(axum::Json(RollupTable {
        fleet,
        vehicles: rows.len(),
        rows,
        disclaimer: DISCLAIMER,
    }))
}

/// Chargers whose DC current reads off by more than the tolerance, found jointly from every
/// vehicle of the fleet charged there (already corrected for in the vehicles' figures).
#[utoipa::path(get, path = "/api/v1/fleets/{fleet}/health/chargers", tag = "health", security(("bearer" = [])),
    params(("fleet" = String, Path, description = "fleet id")),
    responses((status = 200, description = "the findings: charger, current_gain with its 90 % half-width, sessions and vehicles behind it, connector resistance offset", body = Object),
        (status = 403, body = Problem), (status = 404, body = Problem)))]
pub(crate) async fn chargers(
    State(state): State<ApiState>,
    caller: Caller,
    Path(raw): Path<String>,
) -> ApiResult<axum::Json<ChargerFindings>> {
    let fleet = fleet_for(&state, &caller, &raw).await?;
    let chargers = json_list(&state, &fleet, documents::CHARGERS).await?;
    Ok(axum::Json(ChargerFindings {
        fleet,
        chargers,
        disclaimer: DISCLAIMER,
    }))
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
