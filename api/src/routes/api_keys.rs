//! API keys for integrations (fleet tools, billing): an operator or fleet manager, logged in
//! with their password, issues a named key that is read-only or may manage, expires (90 days
//! unless asked otherwise, a year at most) and can be revoked. The secret is shown once, in the
//! answer that creates it; only its hash is stored. A key acts as its owner (who must stay an
//! enabled operator or fleet manager) and has its own rate limit; its last use is recorded.

use axum::extract::State;
use axum::http::StatusCode;
use chargegrid_core::DriverId;
use chargegrid_core::driver::Role;
use chargegrid_store::{ApiKey, KeyScope};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::auth::tokens::{API_KEY_PREFIX, hash, random_secret};
use crate::json::{Json, Path, Query};
use crate::{ApiResult, ApiState, Problem};

/// Live keys one account may hold at once.
pub const MAX_LIVE_KEYS: usize = 25;
/// A key's lifetime unless the request names one.
const DEFAULT_LIFETIME: chrono::Duration = chrono::Duration::days(90);
/// The longest lifetime a key may be given, days.
const MAX_LIFETIME_DAYS: u32 = 366;
/// Revoked or expired keys stay listed this long, then are left out of lists.
const LISTED_AFTER_END: chrono::Duration = chrono::Duration::days(30);

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScopeView {
    /// `GET` requests only.
    Read,
    /// Everything the owner may do, except managing API keys and logging out.
    Manage,
}

impl From<ScopeView> for KeyScope {
    fn from(s: ScopeView) -> Self {
        match s {
            ScopeView::Read => KeyScope::Read,
            ScopeView::Manage => KeyScope::Manage,
        }
    }
}

impl From<KeyScope> for ScopeView {
    fn from(s: KeyScope) -> Self {
        match s {
            KeyScope::Read => ScopeView::Read,
            KeyScope::Manage => ScopeView::Manage,
        }
    }
}

/// Issue a key.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApiKey {
    /// What it is for ("billing export"): 1 to 100 characters, not only spaces, no control
    /// characters.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub name: String,
    /// `read` (GET only) or `manage`.
    pub scope: ScopeView,
    /// Days until it stops working, 1 to 366 (default 90).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 366)]
    pub expires_in_days: Option<u32>,
}

/// A key as listed (never its secret).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiKeyView {
    /// Its id (to revoke it).
    pub id: String,
    /// The account it acts as.
    pub owner: String,
    /// Its name.
    pub name: String,
    /// What it may do.
    pub scope: ScopeView,
    /// The secret's last four characters.
    pub hint: String,
    /// `active`, `expired` or `revoked`.
    pub status: String,
    /// When it was issued.
    pub created_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// When it was revoked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<DateTime<Utc>>,
    /// When it was last used (to the minute).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<DateTime<Utc>>,
}

impl ApiKeyView {
    fn new(key: &ApiKey, now: DateTime<Utc>) -> Self {
        let status = if key.revoked_at.is_some() {
            "revoked"
        } else if key.expires_at <= now {
            "expired"
        } else {
            "active"
        };
        Self {
            id: key.id.clone(),
            owner: key.owner.to_string(),
            name: key.name.clone(),
            scope: key.scope.into(),
            hint: key.hint.clone(),
            status: status.to_string(),
            created_at: key.created_at,
            expires_at: key.expires_at,
            revoked_at: key.revoked_at,
            last_used_at: key.last_used_at,
        }
    }
}

/// A new key with its secret: shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedApiKey {
    /// The key.
    #[serde(flatten)]
    pub key: ApiKeyView,
    /// Send as `Authorization: Bearer <secret>`. Not shown again.
    pub secret: String,
}

/// Which keys to list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyQuery {
    /// Operators: only this account's keys (default: every account's).
    #[serde(default)]
    #[param(max_length = 64)]
    pub owner: Option<String>,
}

/// Who may hold keys: operators and fleet managers, with a login (not a key).
fn require_key_holder(caller: &Caller) -> Result<(), Problem> {
    if caller.driver.role == Role::Driver {
        return Err(Problem::forbidden(
            "API keys are for operators and fleet managers",
        ));
    }
    caller.require_login()
}

/// Issue an API key (operators and fleet managers, logged in).
#[utoipa::path(post, path = "/api/v1/api-keys", tag = "accounts", security(("bearer" = [])),
    request_body = CreateApiKey,
    responses((status = 201, body = CreatedApiKey), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
pub(crate) async fn create_api_key(
    State(state): State<ApiState>,
    caller: Caller,
    Json(req): Json<CreateApiKey>,
) -> ApiResult<(StatusCode, axum::Json<CreatedApiKey>)> {
    require_key_holder(&caller)?;
    let now = state.clock.now();
    // The same rule as the schema's pattern (ECMAScript's `\s` also counts U+FEFF as a space).
    let name = req
        .name
        .trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(Problem::invalid_body(
            "name: 1 to 100 characters, no control characters",
        ));
    }
    let expires_at = match req.expires_in_days {
        None => now + DEFAULT_LIFETIME,
        Some(days @ 1..=MAX_LIFETIME_DAYS) => now + chrono::Duration::days(i64::from(days)),
        Some(_) => {
            return Err(Problem::invalid_body(format!(
                "expires_in_days: 1 to {MAX_LIFETIME_DAYS}"
            )));
        }
    };
    let live = state
        .store
        .api_keys(Some(&caller.driver.id))
        .await?
        .iter()
        .filter(|k| k.is_live(now))
        .count();
    if live >= MAX_LIVE_KEYS {
        return Err(Problem::conflict(
            "too-many-api-keys",
            format!("at most {MAX_LIVE_KEYS} live keys per account: revoke one first"),
        ));
    }
    let secret = format!("{API_KEY_PREFIX}{}", random_secret());
    let key = ApiKey {
        id: format!("k_{}", &uuid::Uuid::new_v4().simple().to_string()[..16]),
        owner: caller.driver.id.clone(),
        name: name.to_string(),
        scope: req.scope.into(),
        hint: secret[secret.len() - 4..].to_string(),
        created_at: now,
        expires_at,
        revoked_at: None,
        last_used_at: None,
    };
    state.store.create_api_key(&hash(&secret), &key).await?;
    state
        .metrics
        .accounts
        .with_label_values(&["api_key_created"])
        .inc();
    tracing::info!(owner = %key.owner, key = %key.id, scope = ?key.scope, "API key issued");
    Ok((
        StatusCode::CREATED,
        axum::Json(CreatedApiKey {
            key: ApiKeyView::new(&key, now),
            secret,
        }),
    ))
}

/// The caller's keys; operators: every account's (or `owner`'s). Keys revoked or expired more
/// than 30 days ago are left out.
#[utoipa::path(get, path = "/api/v1/api-keys", tag = "accounts", security(("bearer" = [])),
    params(ApiKeyQuery),
    responses((status = 200, body = Vec<ApiKeyView>), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 403, body = Problem)))]
pub(crate) async fn list_api_keys(
    State(state): State<ApiState>,
    caller: Caller,
    Query(q): Query<ApiKeyQuery>,
) -> ApiResult<axum::Json<Vec<ApiKeyView>>> {
    require_key_holder(&caller)?;
    let owner = if caller.is_operator() {
        q.owner
            .map(DriverId::new)
            .transpose()
            .map_err(|e| Problem::bad_request(format!("owner: {e}")))?
    } else {
        Some(caller.driver.id.clone())
    };
    let now = state.clock.now();
    let keys = state.store.api_keys(owner.as_ref()).await?;
    Ok(axum::Json(
        keys.iter()
            .filter(|k| {
                k.revoked_at.unwrap_or(k.expires_at).min(k.expires_at) + LISTED_AFTER_END > now
            })
            .map(|k| ApiKeyView::new(k, now))
            .collect(),
    ))
}

/// Revoke a key (its owner, or any operator): it stops working at once on every node.
#[utoipa::path(delete, path = "/api/v1/api-keys/{key}", tag = "accounts", security(("bearer" = [])),
    params(("key" = String, Path, description = "the key's id")),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem)))]
pub(crate) async fn revoke_api_key(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    require_key_holder(&caller)?;
    let visible = state
        .store
        .get_api_key(&id)
        .await?
        .filter(|k| caller.is_operator() || k.owner == caller.driver.id);
    if visible.is_none() {
        return Err(Problem::not_found(format!("API key {id}")));
    }
    state.store.revoke_api_key(&id, state.clock.now()).await?;
    state
        .metrics
        .accounts
        .with_label_values(&["api_key_revoked"])
        .inc();
    Ok(StatusCode::NO_CONTENT)
}
