//! The network registry through the API (operators): sites with their limit groups, chargers
//! with their EVSEs and connectors, created or replaced whole and deleted, with the same checks
//! as the network file (the whole network after the change must validate). A change is written
//! to the store, so every node sees it at once: the scheduler re-plans the site (a change
//! notice), a connected charger's gateway node re-reads its configuration, and a deleted
//! charger is disconnected. A charger's password is generated here, handed to the charger when
//! it is connected (1.6 `AuthorizationKey`, 2.0.1 `SecurityCtrlr.BasicAuthPassword`) and shown
//! once; only its hash is stored.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use chargegrid_core::command::{ChargerCommand, CommandReply};
use chargegrid_core::network::{Charger, Network, OcppVersion, Site};
use chargegrid_core::{ChargerId, SiteId};
use chargegrid_store::{ChangeKind, SiteChange};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{Caller, passwords};
use crate::json::{Json, Path};
use crate::{ApiResult, ApiState, Problem};

/// How long a connected charger's node gets to re-read the configuration or close the socket.
const NODE_TIMEOUT: Duration = Duration::from_secs(5);

/// A charger as the registry shows it: its configuration without password hashes.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChargerEntry {
    /// The configuration.
    #[serde(flatten)]
    pub charger: Charger,
    /// Whether it has a password (profiles 1 and 2).
    pub password_set: bool,
    /// Whether a new password was handed to it and it has not logged in with it yet (the old
    /// one still works meanwhile).
    pub password_rotation_pending: bool,
}

impl From<Charger> for ChargerEntry {
    fn from(mut charger: Charger) -> Self {
        let password_set = charger.password_hash.take().is_some();
        let password_rotation_pending = charger.previous_password_hash.take().is_some();
        Self {
            charger,
            password_set,
            password_rotation_pending,
        }
    }
}

/// The whole network.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NetworkView {
    /// Sites, in id order.
    pub sites: Vec<Site>,
    /// Chargers, in id order.
    pub chargers: Vec<ChargerEntry>,
}

/// What a change did on the live network.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChargerChange {
    /// The charger as stored now.
    pub charger: ChargerEntry,
    /// `reloaded` (its gateway node took the new configuration), `not_connected`, or
    /// `unreachable` (connected, but its node did not confirm: it applies the change when the
    /// charger next connects).
    pub connection: String,
}

/// Set a new password.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPassword {
    /// Store it even though the charger is not connected to take it (it must then be set on
    /// the charger by hand, and the old password stops working at once).
    #[serde(default)]
    pub force: bool,
}

/// A new charger password: shown this once.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PasswordSet {
    /// The charger.
    pub charger: String,
    /// The password (HTTP Basic, user = the charger id). Not shown again.
    pub password: String,
    /// Whether the connected charger accepted it (its old password works until it logs in
    /// with the new one); `false` when stored with `force` for an unconnected charger.
    pub handed_to_charger: bool,
}

/// 409 when the network after a change breaks a rule of the network file (a charger's
/// password may come after it, through its own route).
fn check(network: &Network) -> Result<(), Problem> {
    network
        .validate_pending_passwords()
        .map_err(|e| Problem::conflict("invalid-network", e.to_string()))
}

async fn notify(state: &ApiState, site: &SiteId, kind: ChangeKind) {
    if let Err(e) = state
        .store
        .notify_change(SiteChange::new(site.clone(), kind))
        .await
    {
        tracing::warn!(%site, error = %e, "change notice not sent (the periodic pass covers it)");
    }
}

/// Tells the node holding `charger`'s connection to carry out `command`; what happened.
async fn tell_node(state: &ApiState, charger: &ChargerId, command: ChargerCommand) -> String {
    match state.store.locate(charger).await {
        Ok(None) => "not_connected".to_string(),
        Ok(Some(_)) => match state
            .store
            .send_command(charger, command, NODE_TIMEOUT)
            .await
        {
            Ok(CommandReply::Result { .. }) => "reloaded".to_string(),
            Ok(CommandReply::Offline) => "not_connected".to_string(),
            _ => "unreachable".to_string(),
        },
        Err(_) => "unreachable".to_string(),
    }
}

/// The whole network: sites with their limit groups, chargers with their EVSEs (no password
/// hashes).
#[utoipa::path(get, path = "/api/v1/network", tag = "network", security(("bearer" = [])),
    responses((status = 200, body = NetworkView), (status = 401, body = Problem),
        (status = 403, body = Problem)))]
pub(crate) async fn get_network(
    State(state): State<ApiState>,
    caller: Caller,
) -> ApiResult<axum::Json<NetworkView>> {
    caller.require_operator()?;
    let network = state.store.network().await?;
    Ok(axum::Json(NetworkView {
        sites: network.sites,
        chargers: network.chargers.into_iter().map(Into::into).collect(),
    }))
}

/// Create or replace a site (its limit groups included): 201 when new, 200 when replaced. 409
/// `invalid-network` when the network would break a rule of the network file (a charger
/// hanging from a limit group the site no longer has, a bad time zone, ...).
#[utoipa::path(post, path = "/api/v1/network/sites", tag = "network", security(("bearer" = [])),
    request_body = Site,
    responses((status = 200, body = Site), (status = 201, body = Site),
        (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn put_site(
    State(state): State<ApiState>,
    caller: Caller,
    Json(site): Json<Site>,
) -> ApiResult<(StatusCode, axum::Json<Site>)> {
    caller.require_operator()?;
    let mut network = state.store.network().await?;
    let existed = network.sites.iter().any(|s| s.id == site.id);
    network.sites.retain(|s| s.id != site.id);
    network.sites.push(site.clone());
    check(&network)?;
    state.store.put_site(&site).await?;
    notify(&state, &site.id, ChangeKind::Limits).await;
    tracing::info!(operator = %caller.driver.id, site = %site.id, existed, "site written");
    let status = if existed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, axum::Json(site)))
}

/// Delete a site that has no chargers left (409 `site-not-empty` otherwise).
#[utoipa::path(delete, path = "/api/v1/network/sites/{site}", tag = "network", security(("bearer" = [])),
    params(("site" = String, Path, description = "site id")),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem)))]
pub(crate) async fn delete_site(
    State(state): State<ApiState>,
    caller: Caller,
    Path(site): Path<String>,
) -> ApiResult<StatusCode> {
    caller.require_operator()?;
    let id = SiteId::new(site).map_err(|_| Problem::not_found("no such site"))?;
    if state.store.get_site(&id).await?.is_none() {
        return Err(Problem::not_found(format!("site {id}")));
    }
    let chargers = state.store.chargers_of_site(&id).await?;
    if !chargers.is_empty() {
        return Err(Problem::conflict(
            "site-not-empty",
            format!(
                "site {id} still has {} chargers: delete or move them first",
                chargers.len()
            ),
        ));
    }
    state.store.delete_site(&id).await?;
    notify(&state, &id, ChangeKind::Limits).await;
    tracing::info!(operator = %caller.driver.id, site = %id, "site deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// Create or replace a charger (EVSEs and connectors included; its password is kept, set it
/// with `POST …/password`): 201 when new, 200 when replaced. A connected charger's gateway
/// node takes the new configuration at once. 409 `invalid-network` when the network would
/// break a rule of the network file (unknown site or limit group, duplicate connector, ...).
#[utoipa::path(post, path = "/api/v1/network/chargers", tag = "network", security(("bearer" = [])),
    request_body = Charger,
    responses((status = 200, body = ChargerChange), (status = 201, body = ChargerChange),
        (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn put_charger(
    State(state): State<ApiState>,
    caller: Caller,
    Json(mut charger): Json<Charger>,
) -> ApiResult<(StatusCode, axum::Json<ChargerChange>)> {
    caller.require_operator()?;
    if charger.password_hash.is_some() || charger.previous_password_hash.is_some() {
        return Err(Problem::invalid_body(
            "password_hash: set a charger's password with POST /api/v1/network/chargers/{id}/password",
        ));
    }
    let mut network = state.store.network().await?;
    let old = network
        .chargers
        .iter()
        .find(|c| c.id == charger.id)
        .cloned();
    if let Some(old) = &old {
        charger.password_hash.clone_from(&old.password_hash);
        charger
            .previous_password_hash
            .clone_from(&old.previous_password_hash);
    }
    network.chargers.retain(|c| c.id != charger.id);
    network.chargers.push(charger.clone());
    check(&network)?;
    state.store.put_charger(&charger).await?;
    notify(&state, &charger.site, ChangeKind::Charger).await;
    if let Some(old) = old.as_ref().filter(|o| o.site != charger.site) {
        notify(&state, &old.site, ChangeKind::Charger).await;
    }
    let connection = tell_node(&state, &charger.id, ChargerCommand::ReloadConfiguration).await;
    tracing::info!(operator = %caller.driver.id, charger = %charger.id, %connection, "charger written");
    let status = if old.is_some() {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((
        status,
        axum::Json(ChargerChange {
            charger: charger.into(),
            connection,
        }),
    ))
}

/// Delete a charger: it is disconnected at once and refused from then on.
#[utoipa::path(delete, path = "/api/v1/network/chargers/{charger}", tag = "network", security(("bearer" = [])),
    params(("charger" = String, Path, description = "charger id")),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem)))]
pub(crate) async fn delete_charger(
    State(state): State<ApiState>,
    caller: Caller,
    Path(charger): Path<String>,
) -> ApiResult<StatusCode> {
    caller.require_operator()?;
    let id = ChargerId::new(charger).map_err(|_| Problem::not_found("no such charger"))?;
    let Some(old) = state.store.get_charger(&id).await? else {
        return Err(Problem::not_found(format!("charger {id}")));
    };
    state.store.delete_charger(&id).await?;
    state.store.forget_device_state(&id).await?;
    notify(&state, &old.site, ChangeKind::Charger).await;
    let connection = tell_node(&state, &id, ChargerCommand::Disconnect).await;
    tracing::info!(operator = %caller.driver.id, charger = %id, %connection, "charger deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// A new password: 20 URL-safe characters (114 random bits), printable for HTTP Basic and
/// within both versions' limits (16 to 40 characters).
fn new_password() -> String {
    crate::auth::tokens::random_secret()[..20].to_string()
}

/// The configuration key and value that hand `password` to a charger of `version`: 1.6
/// `AuthorizationKey` as the hexadecimal form of its bytes (OCPP 1.6 security whitepaper: the
/// charger decodes it and sends the bytes as its Basic password), 2.0.1
/// `SecurityCtrlr.BasicAuthPassword` as is.
fn password_setting(version: OcppVersion, password: &str) -> (String, String) {
    match version {
        OcppVersion::V16 => (
            "AuthorizationKey".to_string(),
            password.bytes().map(|b| format!("{b:02x}")).collect(),
        ),
        OcppVersion::V201 => (
            "SecurityCtrlr.BasicAuthPassword".to_string(),
            password.to_string(),
        ),
    }
}

/// Set or rotate a charger's Basic-auth password (profiles 1 and 2). A connected charger is
/// sent the new one and must accept it; its old password keeps working until it logs in with
/// the new one. An unconnected charger: 503 unless `force` (then the old password stops at
/// once and the new one must be set on the charger by hand). The password is shown once.
#[utoipa::path(post, path = "/api/v1/network/chargers/{charger}/password", tag = "network", security(("bearer" = [])),
    params(("charger" = String, Path, description = "charger id")),
    request_body = NewPassword,
    responses((status = 200, body = PasswordSet), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem),
        (status = 502, body = Problem), (status = 503, body = Problem),
        (status = 504, body = Problem)))]
pub(crate) async fn set_password(
    State(state): State<ApiState>,
    caller: Caller,
    Path(charger): Path<String>,
    Json(req): Json<NewPassword>,
) -> ApiResult<axum::Json<PasswordSet>> {
    caller.require_operator()?;
    let id = ChargerId::new(charger).map_err(|_| Problem::not_found("no such charger"))?;
    let Some(old) = state.store.get_charger(&id).await? else {
        return Err(Problem::not_found(format!("charger {id}")));
    };
    let password = new_password();
    let hash = passwords::hash(password.clone()).await?;
    let connected = state.store.locate(&id).await?.is_some();
    if !connected {
        if !req.force {
            return Err(Problem::charger(
                StatusCode::SERVICE_UNAVAILABLE,
                "charger-offline",
                "the charger is not connected to take a new password; send {\"force\": true} to \
                 store one anyway (then set it on the charger by hand)",
            ));
        }
        let mut updated = old.clone();
        updated.password_hash = Some(hash);
        updated.previous_password_hash = None;
        state.store.put_charger(&updated).await?;
        tracing::info!(operator = %caller.driver.id, charger = %id, "charger password set (not handed over: not connected)");
        return Ok(axum::Json(PasswordSet {
            charger: id.to_string(),
            password,
            handed_to_charger: false,
        }));
    }
    // Both passwords work while the charger takes the new one (it may reconnect before this
    // answer is back).
    let mut rotating = old.clone();
    rotating.previous_password_hash = old.password_hash.clone();
    rotating.password_hash = Some(hash);
    state.store.put_charger(&rotating).await?;
    let (key, value) = password_setting(old.ocpp_version, &password);
    let reply = state
        .store
        .send_command(
            &id,
            ChargerCommand::SetConfiguration { key, value },
            state.config.command_timeout,
        )
        .await;
    let taken = match reply {
        Ok(reply) => crate::routes::replies::taken_on(
            reply,
            "the new password",
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .map(|_| ()),
        Err(e) => Err(e.into()),
    };
    if let Err(problem) = taken {
        // Not taken: the charger keeps its old password, and only that one works.
        state.store.put_charger(&old).await?;
        return Err(problem);
    }
    tracing::info!(operator = %caller.driver.id, charger = %id, "charger password handed over");
    Ok(axum::Json(PasswordSet {
        charger: id.to_string(),
        password,
        handed_to_charger: true,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_printable_distinct_and_fit_both_versions() {
        let a = new_password();
        let b = new_password();
        assert_ne!(a, b);
        assert_eq!(a.len(), 20);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        let (key, hex) = password_setting(OcppVersion::V16, &a);
        assert_eq!(key, "AuthorizationKey");
        assert_eq!(hex.len(), 40);
        let decoded: Vec<u8> = (0..40)
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        assert_eq!(decoded, a.as_bytes());
        assert_eq!(
            password_setting(OcppVersion::V201, &a),
            ("SecurityCtrlr.BasicAuthPassword".to_string(), a.clone())
        );
    }
}
