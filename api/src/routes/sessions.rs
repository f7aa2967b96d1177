//! Charging from the app: start on a connector (RemoteStart / RequestStartTransaction through
//! the command bus, with the driver's app token), stop, set the energy need and departure time
//! (fed to the scheduler), the current state, and the history.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::StatusCode;
use chargegrid_core::command::{ChargerCommand, CommandReply};
use chargegrid_core::network::Site;
use chargegrid_core::session::Session;
use chargegrid_core::{ChargerId, EvseId, IdTag, SessionId, SiteId, WattHours};
use chargegrid_store::{ChangeKind, EvNeeds, HistoryPage, NeedsSource, SiteAllocation, SiteChange};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::json::{Json, Path, Query};
use crate::views::{SessionPage, SessionView};
use crate::{ApiResult, ApiState, Problem};

/// Start charging.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartRequest {
    /// The charger.
    pub charger_id: String,
    /// The EVSE (connector for 1.6); the charger picks when absent.
    #[serde(default)]
    pub evse_id: Option<u32>,
}

/// What the charger said to the start request.
#[derive(Debug, Serialize, ToSchema)]
pub struct StartAccepted {
    /// `accepted`: the charger will start; the session appears once the EV is plugged in.
    pub status: String,
    /// Correlates the coming session with this request.
    pub remote_start_id: i32,
    /// The token the session will carry.
    pub id_tag: String,
}

/// Energy need and departure.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NeedsRequest {
    /// Energy still wanted, kWh (0 to 500).
    #[serde(default)]
    pub energy_kwh: Option<f64>,
    /// When the car leaves (UTC, in the future).
    #[serde(default)]
    pub departure: Option<chrono::DateTime<chrono::Utc>>,
}

/// Maps a charger's answer to a driver's command onto the API's errors (a command with no form
/// in the charger's version is the charger's failing, 502, not the driver's).
pub(crate) fn command_outcome(reply: CommandReply, what: &str) -> Result<(), Problem> {
    crate::routes::replies::taken_on(reply, what, StatusCode::BAD_GATEWAY).map(|_| ())
}

/// The driver's app token (made at sign-up), or their first card.
pub(crate) async fn app_tag(state: &ApiState, caller: &Caller) -> ApiResult<IdTag> {
    let mut tags = state.store.id_tags_of_driver(&caller.driver.id).await?;
    tags.sort_by_key(|t| !t.tag.as_str().starts_with("APP"));
    tags.into_iter()
        .next()
        .map(|t| t.tag)
        .ok_or_else(|| Problem::conflict("no-id-tag", "the account has no id tag to charge with"))
}

/// The view of a session with its cost so far (priced on its meter series), the scheduler's
/// allocation and the needs.
pub(crate) async fn view(state: &ApiState, s: &Session) -> ApiResult<SessionView> {
    let needs = state.store.get_ev_needs(&s.site, &s.id).await?;
    let site = SiteContext::read(state, &s.site).await?;
    let samples = series_for_price(state, s).await?;
    Ok(site.view(s, &samples, needs.as_ref(), state.clock.now()))
}

/// The meter series a session's price needs: none for a tariff whose price does not depend on
/// when energy flowed (the session's figures suffice; this view is polled by live streams);
/// else the live store's, or the records store's once Redis no longer has them.
async fn series_for_price(
    state: &ApiState,
    s: &Session,
) -> ApiResult<Vec<chargegrid_core::meter::MeterSample>> {
    if !s.tariff.as_ref().is_some_and(|t| t.depends_on_timing()) {
        return Ok(Vec::new());
    }
    let samples = state.store.samples(&s.id).await?;
    if samples.is_empty()
        && !s.is_active()
        && let Some(records) = &state.records
        && let Some((_, kept)) = records.session(&s.id).await?
    {
        return Ok(kept);
    }
    Ok(samples)
}

/// Whose history.
pub(crate) enum Owner<'a> {
    /// A driver's.
    Driver(&'a chargegrid_core::DriverId),
    /// A fleet's.
    Fleet(&'a chargegrid_core::FleetId),
}

/// A page of history from the live store and the records store together: sessions the live
/// store still has (running ones, recent ones) and those only the records store keeps (older
/// than the live store's retention, or from before a Redis loss), newest first, each once.
pub(crate) async fn history_page(
    state: &ApiState,
    owner: Owner<'_>,
    before: Option<DateTime<Utc>>,
    limit: usize,
) -> ApiResult<HistoryPage> {
    let live = match owner {
        Owner::Driver(d) => state.store.sessions_of_driver(d, before, limit).await?,
        Owner::Fleet(f) => state.store.sessions_of_fleet(f, before, limit).await?,
    };
    let Some(records) = &state.records else {
        return Ok(live);
    };
    let kept = match owner {
        Owner::Driver(d) => records.sessions_of_driver(d, before, limit).await?,
        Owner::Fleet(f) => records.sessions_of_fleet(f, before, limit).await?,
    };
    let mut sessions = live.sessions;
    for s in kept {
        if !sessions.iter().any(|x| x.id == s.id) {
            sessions.push(s);
        }
    }
    sessions.sort_by(|a, b| b.started_at.cmp(&a.started_at).then(b.id.cmp(&a.id)));
    sessions.truncate(limit);
    let next_before = (sessions.len() == limit)
        .then(|| sessions.last().map(|s| s.started_at))
        .flatten();
    Ok(HistoryPage {
        sessions,
        next_before,
    })
}

/// Paging.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// Sessions started before this time (from `next_before`).
    #[serde(default)]
    pub before: Option<chrono::DateTime<chrono::Utc>>,
    /// Page size, 1 to 100 (default 20).
    #[serde(default)]
    pub limit: Option<usize>,
}

pub(crate) async fn page_view(state: &ApiState, page: HistoryPage) -> ApiResult<SessionPage> {
    // A page's sessions are mostly at a few sites: read each site's price and allocation once.
    let mut sites: HashMap<SiteId, SiteContext> = HashMap::new();
    let mut sessions = Vec::with_capacity(page.sessions.len());
    for s in &page.sessions {
        if !sites.contains_key(&s.site) {
            sites.insert(s.site.clone(), SiteContext::read(state, &s.site).await?);
        }
        let needs = state.store.get_ev_needs(&s.site, &s.id).await?;
        // Pages price on the session's figures alone (energy spread over its time, no idle
        // time known); the session's own view and its charge detail record use the series.
        sessions.push(sites[&s.site].view(s, &[], needs.as_ref(), state.clock.now()));
    }
    Ok(SessionPage {
        sessions,
        next_before: page.next_before,
    })
}

/// What a session's view takes from its site: the price and the scheduler's allocation.
struct SiteContext {
    site: Option<Site>,
    allocation: Option<SiteAllocation>,
}

impl SiteContext {
    async fn read(state: &ApiState, site: &SiteId) -> ApiResult<Self> {
        Ok(Self {
            site: state.store.get_site(site).await?,
            allocation: state.store.get_allocation(site).await?,
        })
    }

    fn view(
        &self,
        s: &Session,
        samples: &[chargegrid_core::meter::MeterSample],
        needs: Option<&EvNeeds>,
        now: DateTime<Utc>,
    ) -> SessionView {
        let tz = self
            .site
            .as_ref()
            .and_then(|x| x.timezone.parse::<chrono_tz::Tz>().ok())
            .unwrap_or(chrono_tz::UTC);
        let priced = s
            .tariff
            .as_ref()
            .map(|t| chargegrid_core::cdr::price(t, s, samples, now, &tz));
        let allocated = self
            .allocation
            .as_ref()
            .and_then(|a| a.sessions.iter().find(|x| x.session == s.id))
            .map(|x| x.power.0 / 1000.0);
        let currency = self.site.as_ref().map_or("CNY", |x| x.currency.as_str());
        SessionView::new(s, priced.as_ref(), currency, allocated, needs, now)
    }
}

/// A session the caller may see (404 otherwise, also for other people's).
pub(crate) async fn visible_session(
    state: &ApiState,
    caller: &Caller,
    id: &str,
) -> ApiResult<Session> {
    let id = SessionId::new(id).map_err(|_| Problem::not_found("no such session"))?;
    let mut found = state.store.get_session(&id).await?;
    if found.is_none()
        && let Some(records) = &state.records
    {
        found = records.session(&id).await?.map(|(s, _)| s);
    }
    found
        .filter(|s| caller.may_see(s))
        .ok_or_else(|| Problem::not_found("no such session"))
}

/// Start charging on a charger with the caller's app token.
#[utoipa::path(post, path = "/api/v1/sessions", tag = "charging", security(("bearer" = [])),
    request_body = StartRequest,
    responses((status = 202, body = StartAccepted), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 502, body = Problem), (status = 503, body = Problem), (status = 504, body = Problem)))]
pub(crate) async fn start(
    State(state): State<ApiState>,
    caller: Caller,
    Json(req): Json<StartRequest>,
) -> ApiResult<(StatusCode, axum::Json<StartAccepted>)> {
    let charger_id =
        ChargerId::new(req.charger_id).map_err(|_| Problem::not_found("no such charger"))?;
    let charger = state
        .store
        .get_charger(&charger_id)
        .await?
        .ok_or_else(|| Problem::not_found("no such charger"))?;
    let evse = req.evse_id.map(EvseId);
    if let Some(e) = evse
        && !charger.evses.iter().any(|x| x.id == e)
    {
        return Err(Problem::not_found(format!(
            "no EVSE {} on {charger_id}",
            e.0
        )));
    }
    let tag = app_tag(&state, &caller).await?;
    if state.store.active_session_of_id_tag(&tag).await?.is_some() {
        return Err(Problem::conflict(
            "already-charging",
            "you already have a session running",
        ));
    }
    let remote_start_id =
        i32::try_from(uuid::Uuid::new_v4().as_u128() % 1_000_000_000).unwrap_or(1);
    let reply = state
        .store
        .send_command(
            &charger_id,
            ChargerCommand::RemoteStart {
                evse,
                id_tag: tag.clone(),
                limit: None,
                remote_start_id,
            },
            state.config.command_timeout,
        )
        .await?;
    command_outcome(reply, "the start request")?;
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(StartAccepted {
            status: "accepted".into(),
            remote_start_id,
            id_tag: tag.to_string(),
        }),
    ))
}

/// The caller's sessions, newest first (`before` pages back).
#[utoipa::path(get, path = "/api/v1/sessions", tag = "charging", security(("bearer" = [])),
    params(PageQuery),
    responses((status = 200, body = SessionPage), (status = 400, body = Problem), (status = 401, body = Problem)))]
pub(crate) async fn history(
    State(state): State<ApiState>,
    caller: Caller,
    Query(q): Query<PageQuery>,
) -> ApiResult<axum::Json<SessionPage>> {
    let limit = q.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(Problem::bad_request("limit must be 1 to 100"));
    }
    let page = history_page(&state, Owner::Driver(&caller.driver.id), q.before, limit).await?;
    Ok(axum::Json(page_view(&state, page).await?))
}

/// One session: power, energy, SoC, allocated power, estimated finish, cost so far.
#[utoipa::path(get, path = "/api/v1/sessions/{session}", tag = "charging", security(("bearer" = [])),
    params(("session" = String, Path, description = "session id")),
    responses((status = 200, body = SessionView), (status = 404, body = Problem)))]
pub(crate) async fn get(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<SessionView>> {
    let s = visible_session(&state, &caller, &id).await?;
    Ok(axum::Json(view(&state, &s).await?))
}

/// Stop a running session.
#[utoipa::path(post, path = "/api/v1/sessions/{session}/stop", tag = "charging", security(("bearer" = [])),
    params(("session" = String, Path, description = "session id")),
    responses((status = 202, body = SessionView), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 502, body = Problem), (status = 503, body = Problem), (status = 504, body = Problem)))]
pub(crate) async fn stop(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, axum::Json<SessionView>)> {
    let s = visible_session(&state, &caller, &id).await?;
    if !s.is_active() {
        return Err(Problem::conflict(
            "session-ended",
            "the session has already ended",
        ));
    }
    let reply = state
        .store
        .send_command(
            &s.charger,
            ChargerCommand::RemoteStop {
                transaction_id: s.transaction_id.clone(),
            },
            state.config.command_timeout,
        )
        .await?;
    command_outcome(reply, "the stop request")?;
    Ok((StatusCode::ACCEPTED, axum::Json(view(&state, &s).await?)))
}

/// Set or change the energy need and departure time of a running session (the scheduler
/// plans with it).
#[utoipa::path(put, path = "/api/v1/sessions/{session}/needs", tag = "charging", security(("bearer" = [])),
    params(("session" = String, Path, description = "session id")),
    request_body = NeedsRequest,
    responses((status = 200, body = SessionView), (status = 400, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub(crate) async fn set_needs(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(req): Json<NeedsRequest>,
) -> ApiResult<axum::Json<SessionView>> {
    let s = visible_session(&state, &caller, &id).await?;
    if !s.is_active() {
        return Err(Problem::conflict(
            "session-ended",
            "the session has already ended",
        ));
    }
    let now = state.clock.now();
    if req
        .energy_kwh
        .is_some_and(|e| !(e.is_finite() && (0.0..=500.0).contains(&e)))
    {
        return Err(Problem::bad_request("energy_kwh must be between 0 and 500"));
    }
    if req
        .departure
        .is_some_and(|d| d <= now || d > now + chrono::Duration::days(7))
    {
        return Err(Problem::bad_request(
            "departure must be within the next 7 days",
        ));
    }
    if req.energy_kwh.is_none() && req.departure.is_none() {
        return Err(Problem::bad_request("give energy_kwh, departure or both"));
    }
    let previous = state.store.get_ev_needs(&s.site, &s.id).await?;
    let needs = EvNeeds {
        energy: req
            .energy_kwh
            .map(WattHours::from_kwh)
            .or(previous.as_ref().and_then(|p| p.energy)),
        departure: req
            .departure
            .or(previous.as_ref().and_then(|p| p.departure)),
        min_power: previous.as_ref().and_then(|p| p.min_power),
        max_power: previous.as_ref().and_then(|p| p.max_power),
        // The source says whose energy figure this is (the scheduler corrects a driver's, not a
        // vehicle's): a departure alone keeps the earlier figure's.
        source: match (&req.energy_kwh, &previous) {
            (None, Some(p)) if p.energy.is_some() => p.source,
            _ => NeedsSource::Driver,
        },
        updated_at: now,
    };
    state.store.put_ev_needs(&s.site, &s.id, &needs).await?;
    let _ = state
        .store
        .notify_change(SiteChange {
            site: s.site.clone(),
            kind: ChangeKind::Needs,
            session: Some(s.id.clone()),
        })
        .await;
    let site = SiteContext::read(&state, &s.site).await?;
    let samples = series_for_price(&state, &s).await?;
    Ok(axum::Json(site.view(
        &s,
        &samples,
        Some(&needs),
        state.clock.now(),
    )))
}
