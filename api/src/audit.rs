//! The audit trail of operators' and fleet managers' actions: every request that changes
//! something (any method but `GET`, `HEAD` and `OPTIONS`) by an operator or a fleet manager —
//! with a login or an API key — is recorded with who, what (method and route), which object
//! (the path), when and the status answered. The `Caller` extractor names the actor through an
//! [`AuditSlot`] this layer puts in the request; requests without an authenticated actor (bad
//! credentials, logins) and drivers' own actions are not recorded here.

use std::sync::{Arc, Mutex};

use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use chargegrid_core::driver::Role;
use chargegrid_core::{DriverId, FleetId};
use chargegrid_store::AuditEntry;

use crate::ApiState;
use crate::auth::{Caller, Credential};

/// Who acted, as the audit trail records them.
#[derive(Debug, Clone)]
pub(crate) struct Actor {
    driver: DriverId,
    role: Role,
    fleet: Option<FleetId>,
    api_key: Option<String>,
}

impl Actor {
    pub(crate) fn of(caller: &Caller) -> Self {
        Self {
            driver: caller.driver.id.clone(),
            role: caller.driver.role,
            fleet: caller.driver.fleet.clone(),
            api_key: match &caller.credential {
                Credential::ApiKey { id, .. } => Some(id.clone()),
                Credential::Login { .. } => None,
            },
        }
    }
}

/// Where the `Caller` extractor leaves the actor of an audited request.
#[derive(Debug, Clone, Default)]
pub(crate) struct AuditSlot(Arc<Mutex<Option<Actor>>>);

impl AuditSlot {
    pub(crate) fn fill(&self, actor: Actor) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(actor);
    }

    fn take(&self) -> Option<Actor> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

/// Records a changing request of an operator or fleet manager once it is answered. A failed
/// write is logged and counted (`chargegrid_api_audit_failures_total`); the answer stands (the
/// action has happened).
pub(crate) async fn record(
    State(state): State<ApiState>,
    mut req: Request,
    next: Next,
) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let action = format!(
        "{} {}",
        req.method(),
        req.extensions()
            .get::<MatchedPath>()
            .map_or("unmatched", MatchedPath::as_str)
    );
    let object = req.uri().path().to_string();
    let slot = AuditSlot::default();
    req.extensions_mut().insert(slot.clone());
    let response = next.run(req).await;
    let Some(actor) = slot.take().filter(|a| a.role != Role::Driver) else {
        return response;
    };
    let now = state.clock.now();
    let entry = AuditEntry {
        id: 0,
        at: now,
        actor: actor.driver,
        role: actor.role,
        fleet: actor.fleet,
        api_key: actor.api_key,
        action,
        object,
        status: response.status().as_u16(),
    };
    let keep_after = now
        - chrono::Duration::from_std(state.config.audit_retention)
            .unwrap_or(chrono::Duration::days(365));
    if let Err(e) = state.store.append_audit(entry, keep_after).await {
        state.metrics.audit_failures.inc();
        tracing::error!(error = %e, "audit entry not written");
    }
    response
}
