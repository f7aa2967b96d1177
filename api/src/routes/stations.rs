//! Discovery: stations (sites) near a point with live availability per connector type and
//! power, price, and the site's headroom under its limit.

use std::collections::BTreeMap;

use axum::extract::State;
use chargegrid_core::SiteId;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::dispatch::snapshot::SiteSnapshot;
use crate::json::{Path, Query};
use crate::{ApiResult, ApiState, Problem};

/// Where to look.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct NearQuery {
    /// Latitude, degrees (-90..90).
    #[param(minimum = -90.0, maximum = 90.0)]
    pub lat: f64,
    /// Longitude, degrees (-180..180).
    #[param(minimum = -180.0, maximum = 180.0)]
    pub lon: f64,
    /// Radius in km, 0.1 to 100 (default 5).
    #[serde(default)]
    #[param(minimum = 0.1, maximum = 100.0)]
    pub radius_km: Option<f64>,
}

/// Availability of one kind of connector at a station.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConnectorGroup {
    /// Plug type (Type2, CCS2, GBT-DC, ...).
    pub connector_type: String,
    /// Largest power of this kind, kW.
    pub max_power_kw: f64,
    /// How many exist.
    pub total: usize,
    /// How many are free now (available, not reserved).
    pub available: usize,
}

/// A station.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StationView {
    /// Site id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
    /// Distance from the query point, km.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distance_km: Option<f64>,
    /// Energy price per kWh now (the time-of-use window in force), tax excluded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price_per_kwh: Option<f64>,
    /// Currency.
    pub currency: String,
    /// The site's full tariff (session fee, time and idle fees, windows, tax), which a session
    /// started now is priced on; a charger with its own tariff says so in the station detail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tariff: Option<chargegrid_core::tariff::Tariff>,
    /// Power the site can still give a new EV, kW (absent when unlimited).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headroom_kw: Option<f64>,
    /// The site's limit now, kW.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit_kw: Option<f64>,
    /// Connectors by type and power.
    pub connectors: Vec<ConnectorGroup>,
}

/// One connector, for the station detail.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConnectorDetail {
    /// Charger id.
    pub charger: String,
    /// EVSE id.
    pub evse: u32,
    /// Connector id.
    pub connector: u32,
    /// Plug type.
    pub connector_type: String,
    /// Max power, kW.
    pub max_power_kw: f64,
    /// Live status (Available, Charging, ..., Offline, Unknown).
    pub status: String,
    /// Free for a new driver.
    pub free: bool,
    /// The charger's own tariff, when it has one (it replaces the site's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tariff: Option<chargegrid_core::tariff::Tariff>,
}

/// A station with every connector.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StationDetail {
    /// The summary.
    #[serde(flatten)]
    pub station: StationView,
    /// Each connector.
    pub detail: Vec<ConnectorDetail>,
}

pub(crate) fn check_point(lat: f64, lon: f64) -> Result<(), Problem> {
    if !(lat.is_finite() && (-90.0..=90.0).contains(&lat)) {
        return Err(Problem::bad_request("lat must be between -90 and 90"));
    }
    if !(lon.is_finite() && (-180.0..=180.0).contains(&lon)) {
        return Err(Problem::bad_request("lon must be between -180 and 180"));
    }
    Ok(())
}

pub(crate) fn station_view(
    s: &SiteSnapshot,
    distance_km: Option<f64>,
    now: chrono::DateTime<chrono::Utc>,
) -> StationView {
    let mut groups: BTreeMap<(String, u64), ConnectorGroup> = BTreeMap::new();
    for c in s.connectors() {
        let kw = c.max_power.0 / 1000.0;
        let g = groups
            .entry((c.kind.as_str().to_string(), (kw * 10.0) as u64))
            .or_insert_with(|| ConnectorGroup {
                connector_type: c.kind.as_str().to_string(),
                max_power_kw: kw,
                total: 0,
                available: 0,
            });
        g.total += 1;
        g.available += usize::from(c.free);
    }
    StationView {
        id: s.site.id.to_string(),
        name: s.site.name.clone(),
        lat: s.site.location.lat(),
        lon: s.site.location.lon(),
        distance_km: distance_km.map(|d| (d * 100.0).round() / 100.0),
        price_per_kwh: s.site.energy_price_at(now),
        currency: s
            .site
            .effective_tariff()
            .map_or_else(|| s.site.currency.clone(), |t| t.currency),
        tariff: s.site.effective_tariff(),
        headroom_kw: s.headroom(now).map(|w| (w.0 / 100.0).round() / 10.0),
        limit_kw: s.limit_at(now).map(|w| w.0 / 1000.0),
        connectors: groups.into_values().collect(),
    }
}

/// Stations near a point, nearest first (at most 50).
#[utoipa::path(get, path = "/api/v1/stations", tag = "stations",
    params(NearQuery),
    responses((status = 200, body = Vec<StationView>), (status = 400, body = Problem)))]
pub(crate) async fn near(
    State(state): State<ApiState>,
    Query(q): Query<NearQuery>,
) -> ApiResult<axum::Json<Vec<StationView>>> {
    check_point(q.lat, q.lon)?;
    let radius = q.radius_km.unwrap_or(5.0);
    if !(radius.is_finite() && (0.1..=100.0).contains(&radius)) {
        return Err(Problem::bad_request(
            "radius_km must be between 0.1 and 100",
        ));
    }
    let now = state.clock.now();
    let index = state.stations().await?;
    let mut out = Vec::new();
    for n in index.within(q.lat, q.lon, radius).into_iter().take(50) {
        let snap = SiteSnapshot::load(state.store.as_ref(), n.site, now).await?;
        out.push(station_view(&snap, Some(n.distance_km), now));
    }
    Ok(axum::Json(out))
}

/// One station with each connector's live status.
#[utoipa::path(get, path = "/api/v1/stations/{site}", tag = "stations",
    params(("site" = String, Path, description = "site id")),
    responses((status = 200, body = StationDetail), (status = 404, body = Problem)))]
pub(crate) async fn detail(
    State(state): State<ApiState>,
    Path(site): Path<String>,
) -> ApiResult<axum::Json<StationDetail>> {
    let id = SiteId::new(site).map_err(|e| Problem::not_found(e.to_string()))?;
    let site = state
        .store
        .get_site(&id)
        .await?
        .ok_or_else(|| Problem::not_found(format!("station {id}")))?;
    let now = state.clock.now();
    let snap = SiteSnapshot::load(state.store.as_ref(), &site, now).await?;
    let detail = snap
        .connectors()
        .into_iter()
        .map(|c| ConnectorDetail {
            charger: c.charger.to_string(),
            evse: c.evse.0,
            connector: c.connector.0,
            connector_type: c.kind.as_str().to_string(),
            max_power_kw: c.max_power.0 / 1000.0,
            tariff: snap
                .chargers
                .iter()
                .find(|x| x.id == c.charger)
                .and_then(|x| x.tariff.clone()),
            status: c.status,
            free: c.free,
        })
        .collect();
    Ok(axum::Json(StationDetail {
        station: station_view(&snap, None, now),
        detail,
    }))
}
