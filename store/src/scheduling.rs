//! The scheduler's state: per-site allocations and headroom, limit windows (demand response),
//! EV charging needs, profiles last sent to chargers, and leases so exactly one scheduler
//! instance acts for a site at a time.

use std::time::Duration;

use async_trait::async_trait;
use chargegrid_core::arrivals::PastArrival;
use chargegrid_core::command::ChargingLimit;
use chargegrid_core::limits::Limit;
use chargegrid_core::supply::MonthDemand;
use chargegrid_core::{ChargerId, EvseId, SessionId, SiteId, WattHours, Watts};
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::StoreResult;

/// One session's share of a site's power.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionAllocation {
    /// The session.
    pub session: SessionId,
    /// Its charger.
    pub charger: ChargerId,
    /// Its EVSE.
    pub evse: EvseId,
    /// Power granted.
    pub power: Watts,
}

/// The scheduler's latest decision for a site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteAllocation {
    /// The site.
    pub site: SiteId,
    /// When it was computed (UTC).
    pub computed_at: DateTime<Utc>,
    /// The site limit in force when computed.
    pub limit: Watts,
    /// Power the site could still give a new EV without taking from others.
    pub headroom: Watts,
    /// Per session.
    pub sessions: Vec<SessionAllocation>,
    /// The site's metered demand this billing month, for a demand charge (kept only for a
    /// site whose supply contract has one); carried from allocation to allocation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub demand: Option<MonthDemand>,
}

/// A time window during which a site's limit is lowered (or raised), e.g. demand response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LimitWindow {
    /// Id, unique within the site.
    pub id: String,
    /// Start (UTC, inclusive).
    pub from: DateTime<Utc>,
    /// End (UTC, exclusive); open-ended when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<DateTime<Utc>>,
    /// The limit in force during the window (intersected with the grid limit).
    pub limit: Limit,
    /// Why (shown to operators).
    #[serde(default)]
    pub reason: String,
}

/// Where an EV's needs came from, in order of trust.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NeedsSource {
    /// The EV itself (ISO 15118 NotifyEVChargingNeeds).
    Vehicle,
    /// The driver, through the app.
    Driver,
    /// The fleet's default.
    Fleet,
    /// Learned from history.
    Estimated,
}

/// What an EV needs from a session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvNeeds {
    /// Energy still wanted, as stated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub energy: Option<WattHours>,
    /// When the EV will leave (UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub departure: Option<DateTime<Utc>>,
    /// Smallest power the EV accepts, if it said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_power: Option<Watts>,
    /// Largest power the EV accepts, if it said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_power: Option<Watts>,
    /// Where this came from.
    pub source: NeedsSource,
    /// When it was said (UTC).
    pub updated_at: DateTime<Utc>,
}

impl EvNeeds {
    /// The energy, when the driver stated it (the figure the scheduler corrects by how the
    /// site's earlier statements turned out).
    pub fn driver_energy(&self) -> Option<WattHours> {
        self.energy.filter(|_| self.source == NeedsSource::Driver)
    }
}

/// How many statement ratios a site keeps ([`SchedulerStore::push_statement_ratio`]): as many
/// as the scheduler's correction of stated energies reads.
pub const STATEMENT_RATIOS_KEPT: usize = chargegrid_core::stays::MAX_CALIBRATION;

/// How long a site keeps a day's arrivals after the last was added
/// ([`SchedulerStore::push_arrival`]): the habit's look-back and a day for the time zone.
pub const ARRIVALS_RETENTION: TimeDelta =
    TimeDelta::seconds(chargegrid_core::arrivals::LOOKBACK.num_seconds() + 86_400);

/// The UTC days from that of `since` to that of `until`, at most `until`'s and the
/// [`ARRIVALS_RETENTION`] of days before it (none when `until` is before `since`).
pub(crate) fn days_between(since: DateTime<Utc>, until: DateTime<Utc>) -> Vec<chrono::NaiveDate> {
    let last = until.date_naive();
    let first = since.date_naive().max(last - ARRIVALS_RETENTION);
    first.iter_days().take_while(|d| *d <= last).collect()
}

/// A lease held by one instance, with a fencing token that only grows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    /// The holder's id.
    pub holder: String,
    /// Fencing token: strictly greater for each new holder, so a stale holder's writes can be
    /// told apart.
    pub token: u64,
}

/// The scheduler's state.
#[async_trait]
pub trait SchedulerStore: Send + Sync {
    /// Writes a site's allocation under fencing token `fence` (the writer's [`Lease::token`]):
    /// refused with [`StoreError::Fenced`](crate::StoreError::Fenced) when a write with a newer
    /// token was already seen for the site, so a holder that lost its lease cannot overwrite
    /// the new holder's work.
    async fn put_allocation(&self, allocation: &SiteAllocation, fence: u64) -> StoreResult<()>;

    /// Reads a site's latest allocation.
    async fn get_allocation(&self, site: &SiteId) -> StoreResult<Option<SiteAllocation>>;

    /// Adds or replaces a limit window.
    async fn put_limit_window(&self, site: &SiteId, window: &LimitWindow) -> StoreResult<()>;

    /// Removes a limit window; returns whether it existed.
    async fn delete_limit_window(&self, site: &SiteId, id: &str) -> StoreResult<bool>;

    /// A site's limit windows, ordered by start.
    async fn limit_windows(&self, site: &SiteId) -> StoreResult<Vec<LimitWindow>>;

    /// Sets a session's needs (replacing earlier ones).
    async fn put_ev_needs(
        &self,
        site: &SiteId,
        session: &SessionId,
        needs: &EvNeeds,
    ) -> StoreResult<()>;

    /// A session's needs.
    async fn get_ev_needs(
        &self,
        site: &SiteId,
        session: &SessionId,
    ) -> StoreResult<Option<EvNeeds>>;

    /// Forgets a session's needs (when it ends).
    async fn delete_ev_needs(&self, site: &SiteId, session: &SessionId) -> StoreResult<()>;

    /// Records how a driver's statement of energy turned out at a site: the session's
    /// delivered energy ÷ the energy the driver stated, when the session ended. The site keeps
    /// the newest [`STATEMENT_RATIOS_KEPT`], as durably as the store keeps sessions (Redis keeps
    /// them; the in-memory store forgets them on a restart, as it does the sessions).
    async fn push_statement_ratio(&self, site: &SiteId, ratio: f64) -> StoreResult<()>;

    /// How the site's drivers' statements of energy turned out (see
    /// [`push_statement_ratio`](Self::push_statement_ratio)), newest first.
    async fn statement_ratios(&self, site: &SiteId) -> StoreResult<Vec<f64>>;

    /// Adds an ended session's delivered energy to the site's record of arrivals, in the UTC
    /// quarter-hour it arrived (`chargegrid_core::arrivals::utc_quarter`), from which the
    /// scheduler learns the site's habit. A day's record is kept [`ARRIVALS_RETENTION`] after the
    /// last energy was added to it (durable as the statement ratios are); its size does not
    /// grow with the sessions, at most one figure per quarter-hour.
    async fn push_arrival(&self, site: &SiteId, arrival: &PastArrival) -> StoreResult<()>;

    /// The site's recorded arrivals over the UTC days from that of `since` to that of `until`
    /// (at most [`ARRIVALS_RETENTION`] and a day): one per quarter-hour that had any, at its start,
    /// with the energy of all that arrived in it; oldest first.
    async fn arrivals(
        &self,
        site: &SiteId,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> StoreResult<Vec<PastArrival>>;

    /// Records the profile last sent to an EVSE (accepted by the charger), under fencing token
    /// `fence`, like [`put_allocation`](Self::put_allocation).
    async fn put_sent_profile(
        &self,
        site: &SiteId,
        charger: &ChargerId,
        evse: EvseId,
        limit: &ChargingLimit,
        fence: u64,
    ) -> StoreResult<()>;

    /// Checks that no write with a newer fencing token than `fence` was seen for `site` (and
    /// records `fence` as seen): a holder calls it before sending commands to chargers.
    async fn check_fence(&self, site: &SiteId, fence: u64) -> StoreResult<()>;

    /// Profiles last sent to a site's EVSEs.
    async fn sent_profiles(
        &self,
        site: &SiteId,
    ) -> StoreResult<Vec<(ChargerId, EvseId, ChargingLimit)>>;

    /// Records that a dispatched driver is expected at `site` until `until` (a soft hold, so
    /// the next recommendations see the station as busier), under a unique `token`.
    async fn add_expected_arrival(
        &self,
        site: &SiteId,
        token: &str,
        until: DateTime<Utc>,
    ) -> StoreResult<()>;

    /// How many dispatched drivers are still expected at `site` at `now`.
    async fn expected_arrivals(&self, site: &SiteId, now: DateTime<Utc>) -> StoreResult<usize>;

    /// Takes the named lease for `holder` if it is free (or already `holder`'s), for `ttl`.
    /// Returns the lease when held by `holder` afterwards, `None` when someone else holds it.
    async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        ttl: Duration,
    ) -> StoreResult<Option<Lease>>;

    /// Extends a lease if `lease` is still the current one; returns false if it was lost.
    async fn renew_lease(&self, name: &str, lease: &Lease, ttl: Duration) -> StoreResult<bool>;

    /// Gives a lease up if `lease` is still the current one.
    async fn release_lease(&self, name: &str, lease: &Lease) -> StoreResult<()>;
}
