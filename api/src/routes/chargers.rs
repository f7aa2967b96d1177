//! Operators' view of the chargers (connection, firmware, connector states; filterable) and
//! their commands to one charger, in one shape whatever OCPP version it speaks: remote
//! start and stop, reset, availability, unlock, trigger a message, read and change its
//! configuration, clear its authorisation cache, and a raw OCPP call for everything else. Each
//! goes over the command bus to whichever node holds the charger's socket and is answered with
//! the charger's own result, or a problem: 404 an unknown charger, 409 the charger refused (its
//! status says why), 422 the command has no form in the charger's OCPP version, 502 the charger
//! answered with a CALLERROR, 503 it is not connected, 504 it did not answer in time.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use chargegrid_core::command::{ChargerCommand, ReplyDetails, ResetKind};
use chargegrid_core::{ChargerId, ConnectorId, EvseId, IdTag};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::json::{Json, Query};
use crate::{ApiResult, ApiState, Problem};

/// What a charger answered.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CommandResult {
    /// The charger's status word (Accepted, Scheduled, Unlocked, RebootRequired, ...), when its
    /// answer has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Configuration values read (configuration reads).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<ConfigurationEntry>,
    /// Keys the charger does not know (configuration reads).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unknown_keys: Vec<String>,
    /// The charger's answer verbatim (raw calls).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub payload: Option<serde_json::Value>,
    /// The request id chargegrid gave a firmware update or upload: its status notifications
    /// (shown in `GET /chargers/{id}`) carry it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<i32>,
    /// The file the charger will upload (diagnostics), when it named one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    /// The local authorisation list's version (local-list version reads).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub list_version: Option<i32>,
    /// The vendor's answer data, as text (data transfers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
}

/// One configuration value.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConfigurationEntry {
    /// The key (1.6 name, or 2.0.1 `Component.Variable`).
    pub key: String,
    /// Its value, when the charger shows it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Whether it cannot be changed, when the charger said (1.6).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub readonly: Option<bool>,
}

/// Sends `command` to `charger` for an operator and maps the answer.
pub(crate) async fn run(
    state: &ApiState,
    caller: &Caller,
    charger: &str,
    command: ChargerCommand,
) -> ApiResult<axum::Json<CommandResult>> {
    caller.require_operator()?;
    let id = ChargerId::new(charger).map_err(|_| Problem::not_found("no such charger"))?;
    if state.store.get_charger(&id).await?.is_none() {
        return Err(Problem::not_found("no such charger"));
    }
    let what = command.name().replace('_', " ");
    let reply = state
        .store
        .send_command(&id, command, state.config.command_timeout)
        .await?;
    tracing::info!(operator = %caller.driver.id, charger = %id, command = %what, ?reply, "operator command");
    let (status, details) =
        crate::routes::replies::taken_on(reply, &what, StatusCode::UNPROCESSABLE_ENTITY)?;
    let mut result = CommandResult {
        status,
        values: Vec::new(),
        unknown_keys: Vec::new(),
        payload: None,
        request_id: None,
        file_name: None,
        list_version: None,
        data: None,
    };
    match details {
        Some(ReplyDetails::Configuration(report)) => {
            result.values = report
                .values
                .into_iter()
                .map(|v| ConfigurationEntry {
                    key: v.key,
                    value: v.value,
                    readonly: v.readonly,
                })
                .collect();
            result.unknown_keys = report.unknown;
        }
        Some(ReplyDetails::Raw { payload }) => result.payload = Some(payload),
        Some(ReplyDetails::Upload { file_name }) => result.file_name = file_name,
        Some(ReplyDetails::LocalListVersion(version)) => result.list_version = Some(version),
        Some(ReplyDetails::DataTransfer { data }) => result.data = data,
        Some(ReplyDetails::CompositeSchedule(_)) | None => {}
    }
    Ok(axum::Json(result))
}

/// How to reset.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResetHow {
    /// Finish transactions, then restart (2.0.1 OnIdle).
    Soft,
    /// Restart now (2.0.1 Immediate).
    Hard,
}

/// A reset.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetRequest {
    /// Soft or hard.
    pub kind: ResetHow,
}

/// A remote start.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RemoteStartRequest {
    /// The token to charge for: 1 to 36 printable ASCII characters without spaces.
    #[schema(pattern = "^[!-~]{1,36}$")]
    pub id_tag: String,
    /// The EVSE (1.6: connector); the charger picks when absent.
    #[serde(default)]
    #[schema(minimum = 1)]
    pub evse: Option<u32>,
}

/// A remote stop.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RemoteStopRequest {
    /// The OCPP transaction id (an integer for 1.6 chargers).
    #[schema(min_length = 1, max_length = 36)]
    pub transaction_id: String,
}

/// An availability change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AvailabilityRequest {
    /// The EVSE (1.6: connector); 0 is the whole charger.
    pub evse: u32,
    /// In service (true) or out of service.
    pub operative: bool,
}

/// An unlock.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnlockRequest {
    /// The EVSE.
    #[schema(minimum = 1)]
    pub evse: u32,
    /// The connector (1.6: the connector number; 2.0.1: the connector on the EVSE).
    #[schema(minimum = 1)]
    pub connector: u32,
}

/// A message a charger can be asked to send.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
pub enum TriggeredMessage {
    /// BootNotification.
    BootNotification,
    /// Heartbeat.
    Heartbeat,
    /// MeterValues.
    MeterValues,
    /// StatusNotification.
    StatusNotification,
    /// FirmwareStatusNotification.
    FirmwareStatusNotification,
    /// 1.6: DiagnosticsStatusNotification.
    DiagnosticsStatusNotification,
    /// 2.0.1: LogStatusNotification.
    LogStatusNotification,
    /// 2.0.1: TransactionEvent.
    TransactionEvent,
    /// 2.0.1: SignChargingStationCertificate.
    SignChargingStationCertificate,
}

/// A trigger.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TriggerRequest {
    /// What to send.
    pub message: TriggeredMessage,
    /// For one EVSE (1.6: connector) only.
    #[serde(default)]
    pub evse: Option<u32>,
}

/// Which configuration to read.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ConfigurationQuery {
    /// Comma-separated keys (1.6 names, 2.0.1 `Component.Variable`); all when absent (1.6
    /// only: 2.0.1 reads named variables).
    #[serde(default)]
    #[param(max_length = 2000)]
    pub keys: Option<String>,
}

/// A configuration change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetConfigurationRequest {
    /// The key (1.6 name, or 2.0.1 `Component.Variable`).
    #[schema(min_length = 1, max_length = 100)]
    pub key: String,
    /// The new value.
    #[schema(max_length = 1000)]
    pub value: String,
}

/// A raw OCPP call.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RawCallRequest {
    /// The OCPP action of the charger's version (e.g. GetLocalListVersion, GetBaseReport).
    #[schema(min_length = 1, max_length = 50)]
    pub action: String,
    /// Its payload, checked against the official schema before it is sent.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
}

/// Reset a charger (operators).
#[utoipa::path(post, path = "/api/v1/chargers/{charger}/reset", tag = "operations", security(("bearer" = [])),
    params(("charger" = String, Path, description = "charger id")), request_body = ResetRequest,
    description = responses_doc!(),
    responses((status = 200, body = CommandResult), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem), (status = 502, body = Problem), (status = 503, body = Problem), (status = 504, body = Problem)))]
pub(crate) async fn reset(
    State(state): State<ApiState>,
    caller: Caller,
    Path(charger): Path<String>,
    Json(req): Json<ResetRequest>,
) -> ApiResult<axum::Json<CommandResult>> {
    let kind = match req.kind {
        ResetHow::Soft => ResetKind::Soft,
        ResetHow::Hard => ResetKind::Hard,
    };
    run(&state, &caller, &charger, ChargerCommand::Reset { kind }).await
}

/// Start charging on a charger for a token (operators).
#[utoipa::path(post, path = "/api/v1/chargers/{charger}/remote-start", tag = "operations", security(("bearer" = [])),
    params(("charger" = String, Path, description = "charger id")), request_body = RemoteStartRequest,
    description = responses_doc!(),
    responses((status = 200, body = CommandResult), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem), (status = 502, body = Problem), (status = 503, body = Problem), (status = 504, body = Problem)))]
pub(crate) async fn remote_start(
    State(state): State<ApiState>,
    caller: Caller,
    Path(charger): Path<String>,
    Json(req): Json<RemoteStartRequest>,
) -> ApiResult<axum::Json<CommandResult>> {
    // Who asks comes before what the body says: a driver learns nothing from a bad token.
    caller.require_operator()?;
    let id_tag = IdTag::new(req.id_tag).map_err(|e| Problem::invalid_body(e.to_string()))?;
    let command = ChargerCommand::RemoteStart {
        evse: req.evse.map(EvseId),
        id_tag,
        limit: None,
        remote_start_id: request_id(&state),
    };
    run(&state, &caller, &charger, command).await
}

/// A positive request id from the clock, for the ids a charger echoes back (2.0.1
/// `remoteStartId`, firmware and log `requestId`).
pub(crate) fn request_id(state: &ApiState) -> i32 {
    let ms = state.clock.now().timestamp_millis();
    i32::try_from(ms.rem_euclid(i64::from(i32::MAX - 1)) + 1).unwrap_or(1)
}

/// Stop a transaction on a charger (operators).
#[utoipa::path(post, path = "/api/v1/chargers/{charger}/remote-stop", tag = "operations", security(("bearer" = [])),
    params(("charger" = String, Path, description = "charger id")), request_body = RemoteStopRequest,
    description = responses_doc!(),
    responses((status = 200, body = CommandResult), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem), (status = 502, body = Problem), (status = 503, body = Problem), (status = 504, body = Problem)))]
pub(crate) async fn remote_stop(
    State(state): State<ApiState>,
    caller: Caller,
    Path(charger): Path<String>,
    Json(req): Json<RemoteStopRequest>,
) -> ApiResult<axum::Json<CommandResult>> {
    let command = ChargerCommand::RemoteStop {
        transaction_id: req.transaction_id,
    };
    run(&state, &caller, &charger, command).await
}

/// Put an EVSE (or the whole charger, with EVSE 0) in or out of service (operators).
#[utoipa::path(post, path = "/api/v1/chargers/{charger}/availability", tag = "operations", security(("bearer" = [])),
    params(("charger" = String, Path, description = "charger id")), request_body = AvailabilityRequest,
    description = responses_doc!(),
    responses((status = 200, body = CommandResult), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem), (status = 502, body = Problem), (status = 503, body = Problem), (status = 504, body = Problem)))]
pub(crate) async fn availability(
    State(state): State<ApiState>,
    caller: Caller,
    Path(charger): Path<String>,
    Json(req): Json<AvailabilityRequest>,
) -> ApiResult<axum::Json<CommandResult>> {
    let command = ChargerCommand::ChangeAvailability {
        evse: EvseId(req.evse),
        operative: req.operative,
    };
    run(&state, &caller, &charger, command).await
}

/// Unlock a connector (operators).
#[utoipa::path(post, path = "/api/v1/chargers/{charger}/unlock", tag = "operations", security(("bearer" = [])),
    params(("charger" = String, Path, description = "charger id")), request_body = UnlockRequest,
    description = responses_doc!(),
    responses((status = 200, body = CommandResult), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem), (status = 502, body = Problem), (status = 503, body = Problem), (status = 504, body = Problem)))]
pub(crate) async fn unlock(
    State(state): State<ApiState>,
    caller: Caller,
    Path(charger): Path<String>,
    Json(req): Json<UnlockRequest>,
) -> ApiResult<axum::Json<CommandResult>> {
    let command = ChargerCommand::UnlockConnector {
        evse: EvseId(req.evse),
        connector: ConnectorId(req.connector),
    };
    run(&state, &caller, &charger, command).await
}

/// Ask a charger to send a message now (operators).
#[utoipa::path(post, path = "/api/v1/chargers/{charger}/trigger", tag = "operations", security(("bearer" = [])),
    params(("charger" = String, Path, description = "charger id")), request_body = TriggerRequest,
    description = responses_doc!(),
    responses((status = 200, body = CommandResult), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem), (status = 502, body = Problem), (status = 503, body = Problem), (status = 504, body = Problem)))]
pub(crate) async fn trigger(
    State(state): State<ApiState>,
    caller: Caller,
    Path(charger): Path<String>,
    Json(req): Json<TriggerRequest>,
) -> ApiResult<axum::Json<CommandResult>> {
    let message = format!("{:?}", req.message);
    let command = ChargerCommand::TriggerMessage {
        message,
        evse: req.evse.map(EvseId),
    };
    run(&state, &caller, &charger, command).await
}

/// Read a charger's configuration (operators): 1.6 GetConfiguration, 2.0.1 GetVariables.
#[utoipa::path(get, path = "/api/v1/chargers/{charger}/configuration", tag = "operations", security(("bearer" = [])),
    params(("charger" = String, Path, description = "charger id"), ConfigurationQuery),
    description = responses_doc!(),
    responses((status = 200, body = CommandResult), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem), (status = 502, body = Problem), (status = 503, body = Problem), (status = 504, body = Problem)))]
pub(crate) async fn get_configuration(
    State(state): State<ApiState>,
    caller: Caller,
    Path(charger): Path<String>,
    Query(q): Query<ConfigurationQuery>,
) -> ApiResult<axum::Json<CommandResult>> {
    let keys = q
        .keys
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(String::from)
        .collect();
    run(
        &state,
        &caller,
        &charger,
        ChargerCommand::GetConfiguration { keys },
    )
    .await
}

/// Change one configuration value (operators): 1.6 ChangeConfiguration, 2.0.1 SetVariables.
#[utoipa::path(put, path = "/api/v1/chargers/{charger}/configuration", tag = "operations", security(("bearer" = [])),
    params(("charger" = String, Path, description = "charger id")), request_body = SetConfigurationRequest,
    description = responses_doc!(),
    responses((status = 200, body = CommandResult), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem), (status = 502, body = Problem), (status = 503, body = Problem), (status = 504, body = Problem)))]
pub(crate) async fn set_configuration(
    State(state): State<ApiState>,
    caller: Caller,
    Path(charger): Path<String>,
    Json(req): Json<SetConfigurationRequest>,
) -> ApiResult<axum::Json<CommandResult>> {
    let command = ChargerCommand::SetConfiguration {
        key: req.key,
        value: req.value,
    };
    run(&state, &caller, &charger, command).await
}

/// Clear a charger's authorisation cache (operators).
#[utoipa::path(post, path = "/api/v1/chargers/{charger}/clear-cache", tag = "operations", security(("bearer" = [])),
    params(("charger" = String, Path, description = "charger id")),
    description = responses_doc!(),
    responses((status = 200, body = CommandResult), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem), (status = 502, body = Problem), (status = 503, body = Problem), (status = 504, body = Problem)))]
pub(crate) async fn clear_cache(
    State(state): State<ApiState>,
    caller: Caller,
    Path(charger): Path<String>,
) -> ApiResult<axum::Json<CommandResult>> {
    run(&state, &caller, &charger, ChargerCommand::ClearCache).await
}

/// Send any OCPP call of the charger's version, verbatim (operators).
#[utoipa::path(post, path = "/api/v1/chargers/{charger}/ocpp", tag = "operations", security(("bearer" = [])),
    params(("charger" = String, Path, description = "charger id")), request_body = RawCallRequest,
    description = responses_doc!(),
    responses((status = 200, body = CommandResult), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem), (status = 502, body = Problem), (status = 503, body = Problem), (status = 504, body = Problem)))]
pub(crate) async fn raw_call(
    State(state): State<ApiState>,
    caller: Caller,
    Path(charger): Path<String>,
    Json(req): Json<RawCallRequest>,
) -> ApiResult<axum::Json<CommandResult>> {
    let command = ChargerCommand::Raw {
        action: req.action,
        payload: req.payload,
    };
    run(&state, &caller, &charger, command).await
}

/// Which chargers to list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ChargerListQuery {
    /// Only this site's chargers.
    #[serde(default)]
    #[param(max_length = 64)]
    pub site: Option<String>,
    /// Only connected (true) or not connected (false) chargers.
    #[serde(default)]
    pub connected: Option<bool>,
    /// Only chargers with (true) or without (false) a faulted connector or an error code.
    #[serde(default)]
    pub faulted: Option<bool>,
    /// Only chargers whose last boot reported this firmware version.
    #[serde(default)]
    #[param(max_length = 100)]
    pub firmware: Option<String>,
    /// Chargers after this id (the previous page's last), in id order.
    #[serde(default)]
    #[param(max_length = 64)]
    pub after: Option<String>,
    /// Page size, 1 to 1,000 (default 100).
    #[serde(default)]
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
}

/// A charger as operators watch it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChargerStatusView {
    /// Charger id.
    pub id: String,
    /// Its site.
    pub site: String,
    /// Vendor and model from the network.
    pub vendor: String,
    /// Model from the network.
    pub model: String,
    /// The OCPP version it is configured for (`1.6` or `2.0.1`).
    pub ocpp_version: String,
    /// Whether a gateway node holds its socket now.
    pub connected: bool,
    /// That node.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// When it was last seen: now while connected, otherwise when its last connection ended
    /// (absent if it never connected since it was added).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<chrono::DateTime<chrono::Utc>>,
    /// Its last boot: when (UTC).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub booted_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Firmware version it reported at that boot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub firmware_version: Option<String>,
    /// Serial number it reported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serial_number: Option<String>,
    /// Whether a connector is faulted or reports an error code.
    pub faulted: bool,
    /// Sessions in progress on it.
    pub active_sessions: usize,
    /// Each connector's latest reported state.
    pub connectors: Vec<ConnectorStatusView>,
}

/// What is known of one charger: its status as in the list, plus the latest firmware and
/// upload (diagnostics or log) status it reported and its settings as last read.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChargerDetailView {
    /// As in the charger list.
    #[serde(flatten)]
    pub status: ChargerStatusView,
    /// The latest firmware status notification.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub firmware: Option<OperationView>,
    /// The latest diagnostics or log upload status notification.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upload: Option<OperationView>,
    /// Its settings as last read (at boot, or by an operator's configuration read), in key
    /// order.
    pub settings: Vec<SettingView>,
}

/// The latest status of a firmware update or upload.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OperationView {
    /// The charger's status word (Downloading, Installed, Uploaded, UploadFailed, ...).
    pub status: String,
    /// The request it belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<i64>,
    /// When it arrived (UTC).
    pub at: chrono::DateTime<chrono::Utc>,
}

/// One setting as last read.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SettingView {
    /// The key (1.6 name, 2.0.1 `Component.Variable`).
    pub key: String,
    /// Its value, when shown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Whether it is read-only, when said.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub readonly: Option<bool>,
    /// When it was read (UTC).
    pub at: chrono::DateTime<chrono::Utc>,
}

/// A charger's status from the store: connection, last boot, connectors, sessions.
async fn status_view(
    state: &ApiState,
    c: chargegrid_core::network::Charger,
) -> Result<ChargerStatusView, Problem> {
    let node = state.store.locate(&c.id).await?;
    let boot = state.store.boot_info(&c.id).await?;
    let connectors: Vec<ConnectorStatusView> = state
        .store
        .connector_states(&c.id)
        .await?
        .into_iter()
        .map(|s| ConnectorStatusView {
            connector: s.connector.0,
            status: s.status.as_str().to_string(),
            error_code: s.error_code,
            info: s.info,
            since: s.since,
        })
        .collect();
    let faulted = connectors
        .iter()
        .any(|s| s.status == "Faulted" || s.error_code != "NoError");
    let active_sessions = state.store.active_sessions_of_charger(&c.id).await?.len();
    let last_seen = if node.is_some() {
        Some(state.clock.now())
    } else {
        state.store.last_seen(&c.id).await?
    };
    Ok(ChargerStatusView {
        id: c.id.as_str().to_string(),
        site: c.site.as_str().to_string(),
        vendor: c.vendor,
        model: c.model,
        ocpp_version: c.ocpp_version.label().to_string(),
        connected: node.is_some(),
        node: node.map(|n| n.as_str().to_string()),
        last_seen,
        booted_at: boot.as_ref().map(|b| b.booted_at),
        firmware_version: boot.as_ref().and_then(|b| b.firmware_version.clone()),
        serial_number: boot.and_then(|b| b.serial_number),
        faulted,
        active_sessions,
        connectors,
    })
}

/// One charger as operators see it: status, firmware and upload progress, settings.
#[utoipa::path(get, path = "/api/v1/chargers/{charger}", tag = "operations", security(("bearer" = [])),
    params(("charger" = String, Path, description = "charger id")),
    responses((status = 200, body = ChargerDetailView), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem)))]
pub(crate) async fn get_charger(
    State(state): State<ApiState>,
    caller: Caller,
    Path(charger): Path<String>,
) -> ApiResult<axum::Json<ChargerDetailView>> {
    caller.require_operator()?;
    let id = ChargerId::new(charger).map_err(|_| Problem::not_found("no such charger"))?;
    let Some(c) = state.store.get_charger(&id).await? else {
        return Err(Problem::not_found(format!("charger {id}")));
    };
    let status = status_view(&state, c).await?;
    let device = state.store.device_state(&id).await?;
    let operation = |o: chargegrid_core::device::OperationStatus| OperationView {
        status: o.status,
        request_id: o.request_id,
        at: o.at,
    };
    Ok(axum::Json(ChargerDetailView {
        status,
        firmware: device.firmware.map(operation),
        upload: device.upload.map(operation),
        settings: device
            .settings
            .into_iter()
            .map(|s| SettingView {
                key: s.key,
                value: s.value,
                readonly: s.readonly,
                at: s.at,
            })
            .collect(),
    }))
}

/// A connector's latest reported state.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConnectorStatusView {
    /// Connector number (0: the whole charger).
    pub connector: u32,
    /// Status (Available, Charging, Faulted, ...).
    pub status: String,
    /// OCPP error code (`NoError` when fine).
    pub error_code: String,
    /// Vendor detail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub info: Option<String>,
    /// Since when (UTC).
    pub since: chrono::DateTime<chrono::Utc>,
}

/// The network's chargers with their connection, firmware and connector states, filterable
/// (operators).
#[utoipa::path(get, path = "/api/v1/chargers", tag = "operations", security(("bearer" = [])),
    params(ChargerListQuery),
    responses((status = 200, body = Vec<ChargerStatusView>), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 403, body = Problem)))]
pub(crate) async fn list_chargers(
    State(state): State<ApiState>,
    caller: Caller,
    Query(q): Query<ChargerListQuery>,
) -> ApiResult<axum::Json<Vec<ChargerStatusView>>> {
    caller.require_operator()?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let mut sites = state.store.list_sites().await?;
    if let Some(site) = &q.site {
        sites.retain(|s| s.id.as_str() == site);
    }
    let mut chargers = Vec::new();
    for site in &sites {
        chargers.extend(state.store.chargers_of_site(&site.id).await?);
    }
    chargers.sort_by(|a, b| a.id.as_str().cmp(b.id.as_str()));
    let mut out = Vec::new();
    for c in chargers {
        if q.after
            .as_deref()
            .is_some_and(|after| c.id.as_str() <= after)
        {
            continue;
        }
        let view = status_view(&state, c).await?;
        if q.connected.is_some_and(|want| want != view.connected)
            || (q.firmware.is_some() && q.firmware != view.firmware_version)
            || q.faulted.is_some_and(|want| want != view.faulted)
        {
            continue;
        }
        out.push(view);
        if out.len() == limit {
            break;
        }
    }
    Ok(axum::Json(out))
}
