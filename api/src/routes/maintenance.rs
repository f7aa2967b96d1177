//! Operators' maintenance commands, in one shape for both OCPP versions: firmware update,
//! diagnostics upload (1.6 GetDiagnostics, 2.0.1 GetLog), the local authorisation list (send,
//! read its version) and vendor data transfer. Answered like every charger command (see
//! `chargers`); the progress of a firmware update or upload comes back as status notifications,
//! shown in `GET /chargers/{id}` with the request id given here.

use axum::extract::{Path, State};
use chargegrid_core::IdTag;
use chargegrid_core::command::{ChargerCommand, LocalListEntry};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::json::Json;
use crate::routes::chargers::{CommandResult, request_id, run};
use crate::{ApiResult, ApiState, Problem};

/// A firmware update.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FirmwareRequest {
    /// Where the charger downloads the firmware (a URI it can reach).
    #[schema(min_length = 1, max_length = 512)]
    pub location: String,
    /// When to download it (UTC; default now).
    #[serde(default)]
    pub retrieve_at: Option<DateTime<Utc>>,
    /// Download attempts.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 100)]
    pub retries: Option<u32>,
    /// Seconds between attempts.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 86400)]
    pub retry_interval_s: Option<u32>,
}

/// A diagnostics upload.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DiagnosticsRequest {
    /// Where the charger uploads them (a URI it can reach: ftp, ftps, http, https).
    #[schema(min_length = 1, max_length = 512)]
    pub location: String,
    /// Oldest entries wanted (UTC).
    #[serde(default)]
    pub since: Option<DateTime<Utc>>,
    /// Newest entries wanted (UTC).
    #[serde(default)]
    pub until: Option<DateTime<Utc>>,
}

/// A token's status in a local list.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
pub enum ListStatus {
    /// May charge.
    Accepted,
    /// Blocked.
    Blocked,
    /// Expired.
    Expired,
    /// Unknown or invalid.
    Invalid,
}

/// One token of a local list.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListEntry {
    /// The token: 1 to 20 printable ASCII characters without spaces (1.6's limit).
    #[schema(pattern = "^[!-~]{1,20}$")]
    pub id_tag: String,
    /// Its status; absent removes it from the list (in a change).
    #[serde(default)]
    pub status: Option<ListStatus>,
}

/// A local authorisation list update.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LocalListRequest {
    /// The list's version after this update (positive).
    #[schema(minimum = 1)]
    pub version: i32,
    /// The whole list (true, default) or a change to it.
    #[serde(default = "full")]
    pub full: bool,
    /// The tokens (at most 1,000 per request).
    #[schema(max_items = 1000)]
    pub entries: Vec<ListEntry>,
}

fn full() -> bool {
    true
}

/// Vendor data.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DataTransferRequest {
    /// The vendor (1.6: up to 255 characters).
    #[schema(min_length = 1, max_length = 255)]
    pub vendor_id: String,
    /// The vendor's message (up to 50 characters).
    #[serde(default)]
    #[schema(max_length = 50)]
    pub message_id: Option<String>,
    /// The data, as text.
    #[serde(default)]
    #[schema(max_length = 10000)]
    pub data: Option<String>,
}

/// Update a charger's firmware (operators): 1.6 and 2.0.1 UpdateFirmware. The answer carries
/// the `request_id` its status notifications will name.
#[utoipa::path(post, path = "/api/v1/chargers/{charger}/firmware", tag = "operations", security(("bearer" = [])),
    params(("charger" = String, Path, description = "charger id")), request_body = FirmwareRequest,
    description = responses_doc!(),
    responses((status = 200, body = CommandResult), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem), (status = 502, body = Problem), (status = 503, body = Problem), (status = 504, body = Problem)))]
pub(crate) async fn update_firmware(
    State(state): State<ApiState>,
    caller: Caller,
    Path(charger): Path<String>,
    Json(req): Json<FirmwareRequest>,
) -> ApiResult<axum::Json<CommandResult>> {
    let request_id = request_id(&state);
    let command = ChargerCommand::UpdateFirmware {
        request_id,
        location: req.location,
        retrieve_at: req.retrieve_at.unwrap_or_else(|| state.clock.now()),
        retries: req.retries,
        retry_interval_s: req.retry_interval_s,
    };
    let mut result = run(&state, &caller, &charger, command).await?;
    result.0.request_id = Some(request_id);
    Ok(result)
}

/// Have a charger upload its diagnostics (operators): 1.6 GetDiagnostics, 2.0.1 GetLog
/// (DiagnosticsLog). The answer names the file when the charger does, and the `request_id`.
#[utoipa::path(post, path = "/api/v1/chargers/{charger}/diagnostics", tag = "operations", security(("bearer" = [])),
    params(("charger" = String, Path, description = "charger id")), request_body = DiagnosticsRequest,
    description = responses_doc!(),
    responses((status = 200, body = CommandResult), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem), (status = 502, body = Problem), (status = 503, body = Problem), (status = 504, body = Problem)))]
pub(crate) async fn upload_diagnostics(
    State(state): State<ApiState>,
    caller: Caller,
    Path(charger): Path<String>,
    Json(req): Json<DiagnosticsRequest>,
) -> ApiResult<axum::Json<CommandResult>> {
    let request_id = request_id(&state);
    let command = ChargerCommand::UploadDiagnostics {
        request_id,
        location: req.location,
        since: req.since,
        until: req.until,
    };
    let mut result = run(&state, &caller, &charger, command).await?;
    result.0.request_id = Some(request_id);
    Ok(result)
}

/// Install a local authorisation list on a charger (operators): SendLocalList.
#[utoipa::path(post, path = "/api/v1/chargers/{charger}/local-list", tag = "operations", security(("bearer" = [])),
    params(("charger" = String, Path, description = "charger id")), request_body = LocalListRequest,
    description = responses_doc!(),
    responses((status = 200, body = CommandResult), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem), (status = 502, body = Problem), (status = 503, body = Problem), (status = 504, body = Problem)))]
pub(crate) async fn send_local_list(
    State(state): State<ApiState>,
    caller: Caller,
    Path(charger): Path<String>,
    Json(req): Json<LocalListRequest>,
) -> ApiResult<axum::Json<CommandResult>> {
    let entries = req
        .entries
        .into_iter()
        .map(|e| {
            Ok(LocalListEntry {
                id_tag: IdTag::new(&e.id_tag)
                    .map_err(|err| Problem::invalid_body(format!("id_tag: {err}")))?,
                status: e.status.map(|s| format!("{s:?}")),
            })
        })
        .collect::<Result<Vec<_>, Problem>>()?;
    let command = ChargerCommand::SendLocalList {
        version: req.version,
        full: req.full,
        entries,
    };
    run(&state, &caller, &charger, command).await
}

/// The version of a charger's local authorisation list (operators): GetLocalListVersion.
#[utoipa::path(get, path = "/api/v1/chargers/{charger}/local-list/version", tag = "operations", security(("bearer" = [])),
    params(("charger" = String, Path, description = "charger id")),
    description = responses_doc!(),
    responses((status = 200, body = CommandResult), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem), (status = 502, body = Problem), (status = 503, body = Problem), (status = 504, body = Problem)))]
pub(crate) async fn local_list_version(
    State(state): State<ApiState>,
    caller: Caller,
    Path(charger): Path<String>,
) -> ApiResult<axum::Json<CommandResult>> {
    run(
        &state,
        &caller,
        &charger,
        ChargerCommand::GetLocalListVersion,
    )
    .await
}

/// Send vendor data to a charger (operators): DataTransfer.
#[utoipa::path(post, path = "/api/v1/chargers/{charger}/data-transfer", tag = "operations", security(("bearer" = [])),
    params(("charger" = String, Path, description = "charger id")), request_body = DataTransferRequest,
    description = responses_doc!(),
    responses((status = 200, body = CommandResult), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem), (status = 502, body = Problem), (status = 503, body = Problem), (status = 504, body = Problem)))]
pub(crate) async fn data_transfer(
    State(state): State<ApiState>,
    caller: Caller,
    Path(charger): Path<String>,
    Json(req): Json<DataTransferRequest>,
) -> ApiResult<axum::Json<CommandResult>> {
    let command = ChargerCommand::DataTransfer {
        vendor_id: req.vendor_id,
        message_id: req.message_id,
        data: req.data,
    };
    run(&state, &caller, &charger, command).await
}

/// The profile id of an operator's manual limit (the scheduler uses others; a new manual limit
/// replaces the previous one).
const MANUAL_LIMIT_PROFILE: i32 = 900;

/// The unit of a manual limit.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
pub enum LimitUnit {
    /// Watts, total.
    W,
    /// Amperes per phase.
    A,
}

/// A manual limit on a whole charger.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ManualLimitRequest {
    /// `W` (total power) or `A` (current per phase).
    pub unit: LimitUnit,
    /// The most the charger may draw, in `unit`.
    #[schema(minimum = 0, maximum = 1000000)]
    pub limit: f64,
    /// Until when (UTC); unbounded when absent.
    #[serde(default)]
    pub until: Option<DateTime<Utc>>,
}

/// Cap a whole charger (operators): a 1.6 ChargePointMaxProfile / 2.0.1
/// ChargingStationMaxProfile on EVSE 0, which bounds whatever the scheduler plans. A new one
/// replaces the previous one.
#[utoipa::path(put, path = "/api/v1/chargers/{charger}/limit", tag = "operations", security(("bearer" = [])),
    params(("charger" = String, Path, description = "charger id")), request_body = ManualLimitRequest,
    description = responses_doc!(),
    responses((status = 200, body = CommandResult), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem), (status = 502, body = Problem), (status = 503, body = Problem), (status = 504, body = Problem)))]
pub(crate) async fn set_manual_limit(
    State(state): State<ApiState>,
    caller: Caller,
    Path(charger): Path<String>,
    Json(req): Json<ManualLimitRequest>,
) -> ApiResult<axum::Json<CommandResult>> {
    use chargegrid_core::command::{ChargingLimit, ProfilePurpose, RateUnit, SchedulePeriod};
    if !req.limit.is_finite() || req.limit < 0.0 {
        return Err(Problem::invalid_body("limit: a number from 0"));
    }
    let command = ChargerCommand::SetChargingLimit {
        evse: chargegrid_core::EvseId(0),
        limit: ChargingLimit {
            profile_id: MANUAL_LIMIT_PROFILE,
            stack_level: 0,
            purpose: ProfilePurpose::ChargePointMax,
            transaction_id: None,
            start: None,
            unit: match req.unit {
                LimitUnit::W => RateUnit::W,
                LimitUnit::A => RateUnit::A,
            },
            periods: vec![SchedulePeriod {
                start_offset_s: 0,
                limit: req.limit,
                phases: None,
            }],
            valid_to: req.until,
        },
    };
    run(&state, &caller, &charger, command).await
}

/// Remove a charger's manual limit (operators): ClearChargingProfile of that profile.
#[utoipa::path(delete, path = "/api/v1/chargers/{charger}/limit", tag = "operations", security(("bearer" = [])),
    params(("charger" = String, Path, description = "charger id")),
    description = responses_doc!(),
    responses((status = 200, body = CommandResult), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem), (status = 502, body = Problem), (status = 503, body = Problem), (status = 504, body = Problem)))]
pub(crate) async fn clear_manual_limit(
    State(state): State<ApiState>,
    caller: Caller,
    Path(charger): Path<String>,
) -> ApiResult<axum::Json<CommandResult>> {
    let command = ChargerCommand::ClearChargingLimit {
        profile_id: Some(MANUAL_LIMIT_PROFILE),
        evse: None,
        purpose: None,
    };
    run(&state, &caller, &charger, command).await
}
