//! Dispatch: given where the driver is, how much energy they need and by when, a ranked list of
//! stations with expected power, finish time, price and the reasons. The top answer holds a
//! place for the driver for the expected travel time, so a burst of drivers spreads over the
//! stations instead of all being sent to the nearest.

use axum::extract::State;
use chargegrid_core::Watts;
use chargegrid_core::network::ConnectorType;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::dispatch::ranking::{self, Request};
use crate::dispatch::snapshot::SiteSnapshot;
use crate::json::Json;
use crate::routes::stations::check_point;
use crate::{ApiResult, ApiState, Problem};

/// What the driver needs.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecommendationRequest {
    /// Latitude now.
    pub lat: f64,
    /// Longitude now.
    pub lon: f64,
    /// Energy needed, kWh (0.5 to 500).
    pub energy_kwh: f64,
    /// When charging must be done (UTC).
    #[serde(default)]
    pub deadline: Option<DateTime<Utc>>,
    /// Farthest the driver will go, km (default 10, at most 100).
    #[serde(default)]
    pub max_detour_km: Option<f64>,
    /// Plug type needed.
    #[serde(default)]
    pub connector_type: Option<String>,
    /// The EV's maximum charging power, kW.
    #[serde(default)]
    pub ev_max_kw: Option<f64>,
    /// Hold a place at the top station (default true).
    #[serde(default)]
    pub hold: Option<bool>,
    /// How many stations to return (1 to 20, default 5).
    #[serde(default)]
    pub limit: Option<usize>,
}

/// One recommended station.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Recommendation {
    /// Rank, 1 = best.
    pub rank: usize,
    /// Site id.
    pub site: String,
    /// Name.
    pub name: String,
    /// Distance, km.
    pub distance_km: f64,
    /// Connectors expected free on arrival (negative: drivers ahead in line).
    pub free_connectors: i64,
    /// Expected charging power, kW.
    pub expected_power_kw: f64,
    /// Expected arrival (UTC).
    pub arrival: DateTime<Utc>,
    /// Expected wait for a connector, minutes.
    pub wait_minutes: f64,
    /// Expected end of charging (UTC).
    pub expected_finish: DateTime<Utc>,
    /// Whether that is before the deadline.
    pub meets_deadline: bool,
    /// Price per kWh.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price_per_kwh: Option<f64>,
    /// Expected cost of the energy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_cost: Option<f64>,
    /// Currency.
    pub currency: String,
    /// Score (lower is better; see docs/dispatch.md).
    pub score: f64,
    /// Why these numbers.
    pub reasons: Vec<String>,
    /// Whether a place is being held here for the caller.
    pub held: bool,
}

/// Recommend stations, best first.
#[utoipa::path(post, path = "/api/v1/recommendations", tag = "dispatch", security(("bearer" = [])),
    request_body = RecommendationRequest,
    responses((status = 200, body = Vec<Recommendation>), (status = 400, body = Problem), (status = 401, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn recommend(
    State(state): State<ApiState>,
    caller: Caller,
    Json(req): Json<RecommendationRequest>,
) -> ApiResult<axum::Json<Vec<Recommendation>>> {
    check_point(req.lat, req.lon)?;
    if !(req.energy_kwh.is_finite() && (0.5..=500.0).contains(&req.energy_kwh)) {
        return Err(Problem::bad_request(
            "energy_kwh must be between 0.5 and 500",
        ));
    }
    let detour = req.max_detour_km.unwrap_or(10.0);
    if !(detour.is_finite() && (0.1..=100.0).contains(&detour)) {
        return Err(Problem::bad_request(
            "max_detour_km must be between 0.1 and 100",
        ));
    }
    if req
        .ev_max_kw
        .is_some_and(|k| !(k.is_finite() && (1.0..=1000.0).contains(&k)))
    {
        return Err(Problem::bad_request("ev_max_kw must be between 1 and 1000"));
    }
    let limit = req.limit.unwrap_or(5);
    if !(1..=20).contains(&limit) {
        return Err(Problem::bad_request("limit must be between 1 and 20"));
    }
    let now = state.clock.now();
    if req.deadline.is_some_and(|d| d <= now) {
        return Err(Problem::bad_request("deadline is in the past"));
    }
    let request = Request {
        energy_kwh: req.energy_kwh,
        deadline: req.deadline,
        connector_type: req.connector_type.as_deref().map(ConnectorType::from_text),
        ev_max_power: req.ev_max_kw.map(|k| Watts(k * 1000.0)),
        now,
        travel_speed_kmh: state.config.travel_speed_kmh,
    };
    let index = state.stations().await?;
    let mut candidates = Vec::new();
    for n in index.within(req.lat, req.lon, detour).into_iter().take(30) {
        let snap = SiteSnapshot::load(state.store.as_ref(), n.site, now).await?;
        if let Some(c) = ranking::evaluate(&snap, n.distance_km, &request) {
            candidates.push(c);
        }
    }
    let ranked = ranking::rank(candidates);
    let hold = req.hold.unwrap_or(true);
    let mut out = Vec::new();
    for (i, c) in ranked.into_iter().take(limit).enumerate() {
        let held = hold && i == 0;
        if held {
            // Held until the driver should have arrived, plus a quarter of an hour.
            let until = c.arrival + chrono::Duration::minutes(15);
            // One hold per driver and site: asking again moves the driver's hold at that site
            // instead of adding one, so nobody can make a site look full by repeating calls.
            let token = caller.driver.id.to_string();
            state
                .store
                .add_expected_arrival(&c.site, &token, until)
                .await?;
        }
        out.push(Recommendation {
            rank: i + 1,
            site: c.site.to_string(),
            name: c.name,
            distance_km: (c.distance_km * 100.0).round() / 100.0,
            free_connectors: c.free_connectors,
            expected_power_kw: (c.expected_power.0 / 100.0).round() / 10.0,
            arrival: c.arrival,
            wait_minutes: c.wait_min.round(),
            expected_finish: c.finish,
            meets_deadline: c.meets_deadline,
            price_per_kwh: c.price,
            expected_cost: c.cost.map(|x| (x * 100.0).round() / 100.0),
            currency: c.currency,
            score: (c.score * 10.0).round() / 10.0,
            reasons: c.reasons,
            held,
        });
    }
    state.metrics.recommendations.inc();
    Ok(axum::Json(out))
}
