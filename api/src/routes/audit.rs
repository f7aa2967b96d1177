//! The audit trail, newest first (operators: everyone's; fleet managers: their fleet's).

use axum::extract::State;
use chargegrid_core::DriverId;
use chargegrid_core::driver::Role;
use chargegrid_store::{AuditEntry, AuditQuery};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::json::Query;
use crate::{ApiResult, ApiState, Problem};

/// Which entries.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditListQuery {
    /// Only this account's actions.
    #[serde(default)]
    #[param(max_length = 64)]
    pub actor: Option<String>,
    /// Operators: only actions of this fleet's managers.
    #[serde(default)]
    #[param(max_length = 64)]
    pub fleet: Option<String>,
    /// Only actions at or after this time (UTC).
    #[serde(default)]
    pub since: Option<DateTime<Utc>>,
    /// Entries older than this id (the previous page's `next_before`).
    #[serde(default)]
    pub before: Option<u64>,
    /// Page size, 1 to 500 (default 100).
    #[serde(default)]
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<usize>,
}

/// One recorded action.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditEntryView {
    /// Increasing id.
    pub id: u64,
    /// When it was answered (UTC).
    pub at: DateTime<Utc>,
    /// Who acted.
    pub actor: String,
    /// `operator` or `fleet_manager`.
    pub role: String,
    /// The actor's fleet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fleet: Option<String>,
    /// The API key used, when not a login.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,
    /// Method and route, e.g. `POST /api/v1/chargers/{charger}/reset`.
    pub action: String,
    /// The path acted on.
    pub object: String,
    /// The HTTP status answered.
    pub status: u16,
    /// `succeeded` (2xx) or `refused` (anything else).
    pub result: String,
}

impl From<AuditEntry> for AuditEntryView {
    fn from(e: AuditEntry) -> Self {
        Self {
            id: e.id,
            at: e.at,
            actor: e.actor.to_string(),
            role: match e.role {
                Role::Operator => "operator",
                Role::FleetManager => "fleet_manager",
                Role::Driver => "driver",
            }
            .to_string(),
            fleet: e.fleet.map(|f| f.to_string()),
            api_key: e.api_key,
            action: e.action,
            object: e.object,
            status: e.status,
            result: if (200..300).contains(&e.status) {
                "succeeded"
            } else {
                "refused"
            }
            .to_string(),
        }
    }
}

/// A page of the audit trail.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditPageView {
    /// Entries, newest first.
    pub entries: Vec<AuditEntryView>,
    /// Pass as `before` for the next page (absent at the end). A page may hold fewer entries
    /// than asked and still have one: filters look at 5,000 entries per page at most.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_before: Option<u64>,
}

/// What operators and fleet managers did: who, what, which object, when, with what result
/// (operators: everyone; fleet managers: their fleet's managers). Kept for `api.audit_retention_days`.
#[utoipa::path(get, path = "/api/v1/audit", tag = "operations", security(("bearer" = [])),
    params(AuditListQuery),
    responses((status = 200, body = AuditPageView), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 403, body = Problem)))]
pub(crate) async fn audit_trail(
    State(state): State<ApiState>,
    caller: Caller,
    Query(q): Query<AuditListQuery>,
) -> ApiResult<axum::Json<AuditPageView>> {
    let bad = |field: &str, e: chargegrid_core::DomainError| {
        Problem::bad_request(format!("{field}: {e}"))
    };
    let fleet = match caller.driver.role {
        Role::Operator => q
            .fleet
            .map(chargegrid_core::FleetId::new)
            .transpose()
            .map_err(|e| bad("fleet", e))?,
        Role::FleetManager => Some(
            caller
                .driver
                .fleet
                .clone()
                .ok_or_else(|| Problem::forbidden("no fleet"))?,
        ),
        Role::Driver => return Err(Problem::forbidden("operators and fleet managers only")),
    };
    let query = AuditQuery {
        before: q.before,
        actor: q
            .actor
            .map(DriverId::new)
            .transpose()
            .map_err(|e| bad("actor", e))?,
        fleet,
        since: q.since,
        limit: q.limit.unwrap_or(100).clamp(1, 500),
    };
    let mut page = state.store.audit_entries(&query).await?;
    // Past the live store's retention (or after its loss) the trail goes on in the records
    // store's archive, below the last entry given: an archived entry above it was either given
    // already or does not match.
    if page.next_before.is_none()
        && page.entries.len() < query.limit
        && let Some(records) = &state.records
    {
        let mut before = page.entries.last().map(|e| e.id).or(query.before);
        let mut scanned = 0;
        'archive: loop {
            let batch = records.archived_audit(before, 500).await?;
            if batch.is_empty() {
                break;
            }
            for entry in batch {
                scanned += 1;
                before = Some(entry.id);
                if query.matches(&entry) {
                    page.entries.push(entry);
                    if page.entries.len() == query.limit {
                        page.next_before = before;
                        break 'archive;
                    }
                }
                if scanned == chargegrid_store::AUDIT_SCAN_LIMIT {
                    page.next_before = before;
                    break 'archive;
                }
            }
        }
    }
    Ok(axum::Json(AuditPageView {
        entries: page.entries.into_iter().map(Into::into).collect(),
        next_before: page.next_before,
    }))
}
