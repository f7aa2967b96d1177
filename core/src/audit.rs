//! The audit trail's entry: who (operator or fleet manager, and which API key) did what, to
//! which object, when, with what result.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::driver::Role;
use crate::{DriverId, FleetId};

/// One recorded action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Assigned by the store on append: increasing, unique.
    #[serde(default)]
    pub id: u64,
    /// When the action was answered (UTC).
    pub at: DateTime<Utc>,
    /// Who acted.
    pub actor: DriverId,
    /// The actor's role at the time.
    pub role: Role,
    /// The actor's fleet, if any (fleet managers read their fleet's entries).
    pub fleet: Option<FleetId>,
    /// The id of the API key used, when the action came with one (not a login).
    pub api_key: Option<String>,
    /// The method and route template, e.g. `POST /api/v1/chargers/{charger}/reset`.
    pub action: String,
    /// The path acted on, e.g. `/api/v1/chargers/CP-1/reset`.
    pub object: String,
    /// The HTTP status answered: the action's result.
    pub status: u16,
}
