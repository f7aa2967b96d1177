//! The authenticated caller, extracted from `Authorization: Bearer <access token or API key>`,
//! and the access rules: a driver acts on their own sessions and reservations; a fleet manager
//! on their fleet; an operator on everything. Another account's resource answers 404 (its
//! existence is not revealed); a role that may never use an endpoint gets 403. An API key acts
//! as its owner within its scope: a read-only key may only `GET`.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use chargegrid_core::FleetId;
use chargegrid_core::driver::{Driver, Role};
use chargegrid_core::session::Session;
use chargegrid_store::{ApiKey, KeyScope};

use super::tokens::{ACCESS_PREFIX, API_KEY_PREFIX, hash};
use crate::audit::{Actor, AuditSlot};
use crate::{ApiState, Problem};

/// A key's use is written to the store at most this often.
const TOUCH_EVERY: chrono::Duration = chrono::Duration::seconds(60);

/// What the caller presented.
#[derive(Debug, Clone)]
pub enum Credential {
    /// A login's access token.
    Login {
        /// The hash of the access token (for logout).
        token_hash: String,
        /// The token family (for logout everywhere in this login chain).
        family: String,
    },
    /// An API key.
    ApiKey {
        /// The key's id.
        id: String,
        /// What it may do.
        scope: KeyScope,
    },
}

/// An authenticated account.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The account.
    pub driver: Driver,
    /// How it authenticated.
    pub credential: Credential,
}

impl FromRequestParts<ApiState> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ApiState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| Problem::unauthorized("missing Authorization: Bearer token"))?;
        let token = header
            .strip_prefix("Bearer ")
            .map(str::trim)
            .filter(|t| t.len() < 200)
            .ok_or_else(|| Problem::unauthorized("not a bearer access token or API key"))?;
        let caller = if token.starts_with(API_KEY_PREFIX) {
            by_api_key(state, token).await?
        } else {
            by_access_token(state, token).await?
        };
        // The per-account (or per-key) step of rate limiting (the per-address step ran before).
        let (bucket, per_minute) = match &caller.credential {
            Credential::ApiKey { id, .. } => (
                format!("k:{id}"),
                state.config.api_key_rate_limit_per_minute,
            ),
            Credential::Login { .. } => (
                format!("a:{}", caller.driver.id),
                state.config.rate_limit_per_minute,
            ),
        };
        if !state
            .limiter
            .allow(&bucket, per_minute, std::time::Instant::now())
        {
            state.metrics.rate_limited.inc();
            return Err(Problem::too_many_requests());
        }
        // Named for the audit trail before the scope check: a read-only key's attempt to
        // change something is recorded, refused.
        if let Some(slot) = parts.extensions.get::<AuditSlot>() {
            slot.fill(Actor::of(&caller));
        }
        if let Credential::ApiKey {
            scope: KeyScope::Read,
            ..
        } = caller.credential
            && !matches!(
                parts.method,
                axum::http::Method::GET | axum::http::Method::HEAD
            )
        {
            return Err(Problem::forbidden(
                "this API key is read-only: it may only GET",
            ));
        }
        Ok(caller)
    }
}

/// A login's access token.
async fn by_access_token(state: &ApiState, token: &str) -> Result<Caller, Problem> {
    if !token.starts_with(ACCESS_PREFIX) {
        return Err(Problem::unauthorized(
            "not a bearer access token or API key",
        ));
    }
    let token_hash = hash(token);
    let record = state
        .store
        .get_token(&token_hash)
        .await?
        .filter(|r| r.expires_at > state.clock.now())
        .ok_or_else(|| Problem::unauthorized("token unknown or expired"))?;
    if state.store.is_family_revoked(&record.family).await? {
        return Err(Problem::unauthorized("session revoked"));
    }
    let driver = state
        .store
        .get_driver(&record.driver)
        .await?
        .filter(|d| !d.disabled)
        .ok_or_else(|| Problem::unauthorized("account no longer exists or is disabled"))?;
    Ok(Caller {
        driver,
        credential: Credential::Login {
            token_hash,
            family: record.family,
        },
    })
}

/// An API key: live, its owner enabled and still an operator or fleet manager, and within
/// its scope (read-only keys only `GET`).
async fn by_api_key(state: &ApiState, token: &str) -> Result<Caller, Problem> {
    let now = state.clock.now();
    let key: ApiKey = state
        .store
        .api_key_by_secret(&hash(token))
        .await?
        .filter(|k| k.is_live(now))
        .ok_or_else(|| Problem::unauthorized("API key unknown, expired or revoked"))?;
    let driver = state
        .store
        .get_driver(&key.owner)
        .await?
        .filter(|d| !d.disabled && d.role != Role::Driver)
        .ok_or_else(|| {
            Problem::unauthorized(
                "the key's account no longer exists, is disabled or may no longer hold keys",
            )
        })?;
    if key.last_used_at.is_none_or(|t| now - t >= TOUCH_EVERY) {
        state.store.touch_api_key(&key.id, now).await?;
    }
    Ok(Caller {
        driver,
        credential: Credential::ApiKey {
            id: key.id,
            scope: key.scope,
        },
    })
}

impl Caller {
    /// Requires a login (403 for an API key): managing keys, logging out.
    pub fn require_login(&self) -> Result<(), Problem> {
        match self.credential {
            Credential::Login { .. } => Ok(()),
            Credential::ApiKey { .. } => Err(Problem::forbidden(
                "not with an API key: log in with the account's password",
            )),
        }
    }

    /// Whether the credential used still holds: a login not logged out and its token unexpired,
    /// or a key not revoked and unexpired (checked by long streams).
    pub(crate) async fn still_holds(&self, state: &ApiState) -> bool {
        let now = state.clock.now();
        match &self.credential {
            Credential::Login { token_hash, family } => {
                let token = state.store.get_token(token_hash).await;
                let revoked = state.store.is_family_revoked(family).await;
                matches!(token, Ok(Some(r)) if r.expires_at > now) && matches!(revoked, Ok(false))
            }
            Credential::ApiKey { id, .. } => {
                matches!(state.store.get_api_key(id).await, Ok(Some(k)) if k.is_live(now))
            }
        }
    }

    /// Whether the caller is an operator.
    pub fn is_operator(&self) -> bool {
        self.driver.role == Role::Operator
    }

    /// Requires the operator role (403 otherwise).
    pub fn require_operator(&self) -> Result<(), Problem> {
        if self.is_operator() {
            Ok(())
        } else {
            Err(Problem::forbidden("operators only"))
        }
    }

    /// Whether the caller manages `fleet` (or is an operator).
    pub fn manages(&self, fleet: &FleetId) -> bool {
        self.is_operator()
            || (self.driver.role == Role::FleetManager && self.driver.fleet.as_ref() == Some(fleet))
    }

    /// Requires managing `fleet`: 403 for drivers, 404 for another fleet's manager.
    pub fn require_manager_of(&self, fleet: &FleetId) -> Result<(), Problem> {
        if self.manages(fleet) {
            return Ok(());
        }
        if self.driver.role == Role::Driver {
            return Err(Problem::forbidden("fleet managers only"));
        }
        Err(Problem::not_found(format!("fleet {fleet}")))
    }

    /// Whether the caller may see a session: their own, their fleet's, or any for operators.
    pub fn may_see(&self, session: &Session) -> bool {
        session.driver.as_ref() == Some(&self.driver.id)
            || session.fleet.as_ref().is_some_and(|f| self.manages(f))
            || self.is_operator()
    }
}
