//! Opaque bearer tokens. An access token (`cga_…`, short-lived) and a refresh token (`cgr_…`,
//! long-lived) are issued as a pair in a *family*. Only SHA-256 hashes are stored. Refreshing
//! rotates the pair and remembers the used refresh token; presenting a used one again means it
//! leaked, and the whole family is revoked.

use base64::Engine;
use chargegrid_core::DriverId;
use chargegrid_store::TokenRecord;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::{ApiState, Problem};

pub(crate) const ACCESS_PREFIX: &str = "cga_";
pub(crate) const REFRESH_PREFIX: &str = "cgr_";
/// API keys (long-lived, for integrations; see `routes::api_keys`).
pub(crate) const API_KEY_PREFIX: &str = "cgk_";
/// Where the hash of a rotated refresh token is kept, to recognise its reuse.
const USED_PREFIX: &str = "used:";

/// A freshly issued token pair.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TokenPair {
    /// Bearer token for API calls.
    pub access_token: String,
    /// Token to get a new pair with `POST /api/v1/auth/refresh`.
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
}

/// The stored hash of a token.
pub(crate) fn hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
}

pub(crate) fn random_secret() -> String {
    let mut bytes = Vec::with_capacity(32);
    bytes.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    bytes.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Issues a pair for `driver` in `family` (a new family when `None`).
pub(crate) async fn issue(
    state: &ApiState,
    driver: &DriverId,
    family: Option<String>,
) -> Result<TokenPair, Problem> {
    let now = state.clock.now();
    let family = family.unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
    let access = format!("{ACCESS_PREFIX}{}", random_secret());
    let refresh = format!("{REFRESH_PREFIX}{}", random_secret());
    let until = |ttl: std::time::Duration| {
        now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::MAX)
    };
    let record = |expires_at: DateTime<Utc>| TokenRecord {
        driver: driver.clone(),
        expires_at,
        family: family.clone(),
    };
    state
        .store
        .put_token(&hash(&access), &record(until(state.config.access_ttl)))
        .await?;
    state
        .store
        .put_token(&hash(&refresh), &record(until(state.config.refresh_ttl)))
        .await?;
    Ok(TokenPair {
        access_token: access,
        refresh_token: refresh,
        token_type: "Bearer",
        expires_in: state.config.access_ttl.as_secs(),
    })
}

/// Rotates a refresh token into a new pair; reuse of a rotated one revokes its family.
pub(crate) async fn refresh(state: &ApiState, token: &str) -> Result<TokenPair, Problem> {
    if !token.starts_with(REFRESH_PREFIX) {
        return Err(Problem::unauthorized("not a refresh token"));
    }
    let h = hash(token);
    // Taken, not read: of two refreshes with the same token at once only one succeeds (the
    // other then finds it used, which revokes the family as a reuse).
    let Some(record) = state.store.take_token(&h).await? else {
        if let Some(used) = state.store.get_token(&format!("{USED_PREFIX}{h}")).await? {
            tracing::warn!(driver = %used.driver, "rotated refresh token reused: revoking its family");
            state
                .store
                .revoke_token_family(&used.family, used.expires_at)
                .await?;
        }
        return Err(Problem::unauthorized(
            "refresh token unknown, expired or already used",
        ));
    };
    if state.store.is_family_revoked(&record.family).await? {
        return Err(Problem::unauthorized("session revoked"));
    }
    state
        .store
        .put_token(&format!("{USED_PREFIX}{h}"), &record)
        .await?;
    issue(state, &record.driver, Some(record.family)).await
}
