//! Charge detail records: what each ended session cost, read from the records store. Drivers
//! see their own, fleet managers their fleet's, operators everyone's (filterable by driver,
//! fleet and site); all by session start time, paged, as JSON or CSV. Records never change:
//! an operator's correction is a new record carrying the difference.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use chargegrid_core::cdr::Cdr;
use chargegrid_core::{DriverId, FleetId, SiteId};
use chargegrid_records::{CdrQuery, RecordsStore};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::json::{Json, Path, Query};
use crate::{ApiResult, ApiState, Problem};
use chargegrid_core::driver::Role;

/// Which records.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CdrListQuery {
    /// Only this driver's (operators; a fleet manager's within the fleet).
    #[serde(default)]
    pub driver: Option<String>,
    /// Only this fleet's (operators; a fleet manager's own fleet always).
    #[serde(default)]
    pub fleet: Option<String>,
    /// Only this site's.
    #[serde(default)]
    pub site: Option<String>,
    /// Sessions that started at or after this (UTC).
    #[serde(default)]
    pub since: Option<DateTime<Utc>>,
    /// Sessions that started before this (UTC; a page's `next_before`).
    #[serde(default)]
    pub before: Option<DateTime<Utc>>,
    /// Page size, 1 to 1,000 (default 100); a page also carries the rest of its last start
    /// time's records.
    #[serde(default)]
    pub limit: Option<usize>,
}

/// A page of records.
#[derive(Debug, Serialize, ToSchema)]
pub struct CdrPage {
    /// Newest session first; a session's corrections follow its first record.
    pub cdrs: Vec<Cdr>,
    /// Pass as `before` for the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_before: Option<DateTime<Utc>>,
}

/// An operator's correction.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CorrectionRequest {
    /// What the driver should pay for the session in all, tax included (0 to refund it).
    pub total: f64,
    /// Why (kept in the record).
    pub reason: String,
}

fn records(state: &ApiState) -> ApiResult<&dyn RecordsStore> {
    state.records.as_deref().ok_or_else(|| {
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "no-records",
            "Service temporarily unavailable",
        )
        .detail("this node has no records store")
    })
}

/// The query as the caller may ask it: a driver's own records, a manager's fleet's.
fn scoped(caller: &Caller, q: CdrListQuery) -> ApiResult<CdrQuery> {
    let limit = q.limit.unwrap_or(100);
    if !(1..=1_000).contains(&limit) {
        return Err(Problem::bad_request("limit must be 1 to 1000"));
    }
    let bad = |what: &str| Problem::bad_request(format!("invalid {what} id"));
    let mut query = CdrQuery {
        driver: q
            .driver
            .map(DriverId::new)
            .transpose()
            .map_err(|_| bad("driver"))?,
        fleet: q
            .fleet
            .map(FleetId::new)
            .transpose()
            .map_err(|_| bad("fleet"))?,
        site: q
            .site
            .map(SiteId::new)
            .transpose()
            .map_err(|_| bad("site"))?,
        since: q.since,
        before: q.before,
        limit,
    };
    match caller.driver.role {
        Role::Operator => {}
        Role::FleetManager => {
            let own = caller.driver.fleet.clone();
            if query.fleet.is_some() && query.fleet != own {
                return Err(Problem::forbidden("another fleet's records"));
            }
            query.fleet = own;
            if query.fleet.is_none() {
                query.driver = Some(caller.driver.id.clone());
            }
        }
        Role::Driver => {
            if query
                .driver
                .as_ref()
                .is_some_and(|d| d != &caller.driver.id)
                || query.fleet.is_some()
            {
                return Err(Problem::forbidden("only your own records"));
            }
            query.driver = Some(caller.driver.id.clone());
        }
    }
    Ok(query)
}

async fn page(state: &ApiState, caller: &Caller, q: CdrListQuery) -> ApiResult<CdrPage> {
    let query = scoped(caller, q)?;
    let cdrs = records(state)?.cdrs(&query).await?;
    let next_before = (cdrs.len() >= query.limit)
        .then(|| cdrs.last().map(|c| c.started_at))
        .flatten();
    Ok(CdrPage { cdrs, next_before })
}

/// A time as RFC 3339 UTC with `Z`, to the millisecond.
fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Whether the caller may see a record.
fn may_see(caller: &Caller, cdr: &Cdr) -> bool {
    cdr.driver.as_ref() == Some(&caller.driver.id)
        || cdr.fleet.as_ref().is_some_and(|f| caller.manages(f))
        || caller.is_operator()
}

/// Charge detail records, newest session first.
#[utoipa::path(get, path = "/api/v1/cdrs", tag = "billing", security(("bearer" = [])),
    params(CdrListQuery),
    responses((status = 200, body = CdrPage), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 503, body = Problem)))]
pub(crate) async fn list_cdrs(
    State(state): State<ApiState>,
    caller: Caller,
    Query(q): Query<CdrListQuery>,
) -> ApiResult<axum::Json<CdrPage>> {
    Ok(axum::Json(page(&state, &caller, q).await?))
}

/// The same records as CSV, one row per record (the page's `next_before` in the
/// `X-Next-Before` header).
#[utoipa::path(get, path = "/api/v1/cdrs.csv", tag = "billing", security(("bearer" = [])),
    params(CdrListQuery),
    responses((status = 200, description = "text/csv, one row per record", content_type = "text/csv"),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 503, body = Problem)))]
pub(crate) async fn export_cdrs(
    State(state): State<ApiState>,
    caller: Caller,
    Query(q): Query<CdrListQuery>,
) -> ApiResult<impl IntoResponse> {
    let page = page(&state, &caller, q).await?;
    let mut out = csv::Writer::from_writer(Vec::new());
    let row_error = |e: csv::Error| {
        tracing::error!(error = %e, "CDR CSV");
        Problem::unavailable()
    };
    out.write_record([
        "id",
        "session",
        "corrects",
        "issued_at",
        "site",
        "charger",
        "evse",
        "connector",
        "driver",
        "fleet",
        "vehicle",
        "auth_method",
        "started_at",
        "ended_at",
        "energy_kwh",
        "charging_seconds",
        "idle_seconds",
        "tariff_id",
        "currency",
        "energy_cost",
        "time_cost",
        "idle_cost",
        "session_fee",
        "adjustment",
        "subtotal",
        "tax",
        "total",
    ])
    .map_err(row_error)?;
    for c in &page.cdrs {
        let cost = c.cost.as_ref();
        let part = |kind: chargegrid_core::tariff::CostKind| {
            cost.map_or(String::new(), |p| {
                let sum: f64 = p
                    .lines
                    .iter()
                    .filter(|l| l.kind == kind)
                    .map(|l| l.amount)
                    .sum();
                // An empty sum is -0.0; the books want 0.
                format!("{}", sum + 0.0)
            })
        };
        let opt = |x: Option<String>| x.unwrap_or_default();
        use chargegrid_core::tariff::CostKind as K;
        out.write_record([
            c.id.clone(),
            c.session.to_string(),
            opt(c.corrects.clone()),
            rfc3339(c.issued_at),
            c.site.to_string(),
            c.charger.to_string(),
            c.evse.0.to_string(),
            c.connector.0.to_string(),
            opt(c.driver.as_ref().map(ToString::to_string)),
            opt(c.fleet.as_ref().map(ToString::to_string)),
            opt(c.vehicle.as_ref().map(ToString::to_string)),
            serde_json::to_value(c.auth_method)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            rfc3339(c.started_at),
            rfc3339(c.ended_at),
            format!("{}", (c.energy.0 / 1000.0 * 10_000.0).round() / 10_000.0),
            opt(cost.map(|p| p.charging_seconds.to_string())),
            opt(cost.map(|p| p.idle_seconds.to_string())),
            opt(cost.map(|p| p.tariff_id.clone())),
            opt(cost.map(|p| p.currency.clone())),
            part(K::Energy),
            part(K::Time),
            part(K::Idle),
            part(K::SessionFee),
            part(K::Adjustment),
            opt(cost.map(|p| p.subtotal.to_string())),
            opt(cost.map(|p| p.tax.to_string())),
            opt(cost.map(|p| p.total.to_string())),
        ])
        .map_err(row_error)?;
    }
    let body = out
        .into_inner()
        .map_err(|e| row_error(e.into_error().into()))?;
    let mut response = ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], body).into_response();
    if let Some(next) = page.next_before
        && let Ok(value) = axum::http::HeaderValue::from_str(&rfc3339(next))
    {
        response.headers_mut().insert("x-next-before", value);
    }
    Ok(response)
}

/// One record.
#[utoipa::path(get, path = "/api/v1/cdrs/{cdr}", tag = "billing", security(("bearer" = [])),
    params(("cdr" = String, Path, description = "record id")),
    responses((status = 200, body = Cdr), (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 503, body = Problem)))]
pub(crate) async fn get_cdr(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Cdr>> {
    records(&state)?
        .cdr(&id)
        .await?
        .filter(|c| may_see(&caller, c))
        .map(axum::Json)
        .ok_or_else(|| Problem::not_found("no such record"))
}

/// Corrects a session's charge (operators): a new record with the difference between the new
/// total and what the session's records add up to so far.
#[utoipa::path(post, path = "/api/v1/cdrs/{cdr}/corrections", tag = "billing", security(("bearer" = [])),
    params(("cdr" = String, Path, description = "the session's first record")),
    request_body = CorrectionRequest,
    responses((status = 201, body = Cdr), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 415, body = Problem), (status = 422, body = Problem), (status = 503, body = Problem)))]
pub(crate) async fn correct_cdr(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(req): Json<CorrectionRequest>,
) -> ApiResult<(StatusCode, axum::Json<Cdr>)> {
    caller.require_operator()?;
    if !req.total.is_finite() || !(0.0..=1e7).contains(&req.total) {
        return Err(Problem::bad_request(
            "total must be between 0 and 10,000,000",
        ));
    }
    let reason = req.reason.trim();
    if reason.is_empty() || reason.len() > 500 {
        return Err(Problem::bad_request("reason must be 1 to 500 characters"));
    }
    let records = records(&state)?;
    let original = records
        .cdr(&id)
        .await?
        .ok_or_else(|| Problem::not_found("no such record"))?;
    if original.corrects.is_some() {
        return Err(Problem::conflict(
            "not-a-first-record",
            "correct the session's first record, not a correction",
        ));
    }
    let issued = records.cdrs_of_session(&original.session).await?;
    let correction = original
        .correction(&issued, req.total, reason.to_string(), state.clock.now())
        .ok_or_else(|| {
            Problem::conflict(
                "not-priced",
                "the session had no tariff; there is no charge to correct",
            )
        })?;
    if !records.add_cdr(&correction).await? {
        return Err(Problem::conflict(
            "concurrent-correction",
            "another correction of this session was issued at the same time; read the records and retry",
        ));
    }
    Ok((StatusCode::CREATED, axum::Json(correction)))
}
