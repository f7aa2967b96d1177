//! The authenticated caller, extracted from `Authorization: Bearer <access token>`, and the
//! access rules: a driver acts on their own sessions and reservations; a fleet manager on their
//! fleet; an operator on everything. Another account's resource answers 404 (its existence is
//! not revealed); a role that may never use an endpoint gets 403.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use chargegrid_core::FleetId;
use chargegrid_core::driver::{Driver, Role};
use chargegrid_core::session::Session;

use super::tokens::{ACCESS_PREFIX, hash};
use crate::{ApiState, Problem};

/// An authenticated account.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The account.
    pub driver: Driver,
    /// The hash of the access token used (for logout).
    pub token_hash: String,
    /// The token family (for logout everywhere in this session chain).
    pub family: String,
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
            .filter(|t| t.starts_with(ACCESS_PREFIX) && t.len() < 200)
            .ok_or_else(|| Problem::unauthorized("not a bearer access token"))?;
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
        // The per-account step of rate limiting (the per-address step ran before).
        if !state.limiter.allow(
            &format!("a:{}", driver.id),
            state.config.rate_limit_per_minute,
            std::time::Instant::now(),
        ) {
            state.metrics.rate_limited.inc();
            return Err(Problem::too_many_requests());
        }
        Ok(Caller {
            driver,
            token_hash,
            family: record.family,
        })
    }
}

impl Caller {
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
