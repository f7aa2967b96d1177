//! Boot and registration: what a BootNotification gets, and whether a charger that has not
//! booted on this connection may talk (many chargers reconnect without booting again).

use std::time::Duration;

use chargegrid_core::network::Registration;
use chargegrid_ocpp::messages::payload;
use chargegrid_ocpp::messages::provisioning::{BootNotificationResponse, HeartbeatResponse};
use chargegrid_store::BootInfo;

use crate::context::ConnectionContext;

/// Retry interval given to a Pending charger.
const PENDING_RETRY: Duration = Duration::from_secs(60);
/// Retry interval given to a Rejected charger.
const REJECTED_RETRY: Duration = Duration::from_secs(300);

/// The answer to a boot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BootDecision {
    pub registration: Registration,
    pub interval: Duration,
}

impl BootDecision {
    /// The BootNotification answer; its fields are the same in OCPP 1.6 and 2.0.1.
    pub(crate) fn reply(&self, now: chrono::DateTime<chrono::Utc>) -> serde_json::Value {
        payload(BootNotificationResponse {
            status: self.registration.into(),
            current_time: now,
            interval: self.interval.as_secs(),
        })
    }
}

/// The Heartbeat answer (the same in both versions): the central system's time.
pub(crate) fn heartbeat(ctx: &ConnectionContext) -> serde_json::Value {
    payload(HeartbeatResponse {
        current_time: ctx.gateway.inner.clock.now(),
    })
}

/// Records the boot and decides the registration status from the network's policy.
pub(crate) async fn boot(
    ctx: &mut ConnectionContext,
    info: BootInfo,
) -> Result<BootDecision, chargegrid_store::StoreError> {
    let inner = &ctx.gateway.inner;
    inner.store.put_boot_info(&ctx.charger, &info).await?;
    let registration = registration_of(ctx);
    if let Some(config) = &ctx.config
        && (config.vendor != info.vendor || config.model != info.model)
    {
        tracing::info!(
            charger = %ctx.charger,
            configured = %format!("{} {}", config.vendor, config.model),
            // Charger-supplied text: logged escaped (Debug), never raw.
            reported = ?format!("{} {}", info.vendor, info.model),
            "charger reports another vendor/model than configured"
        );
    }
    let interval = match registration {
        Registration::Accepted => inner.config.settings.heartbeat_interval,
        Registration::Pending => PENDING_RETRY,
        Registration::Rejected => REJECTED_RETRY,
    };
    tracing::info!(charger = %ctx.charger, ?registration, vendor = ?info.vendor, model = ?info.model, "boot");
    super::changes::notify(ctx, chargegrid_store::ChangeKind::Charger).await;
    Ok(BootDecision {
        registration,
        interval,
    })
}

/// The registration status from configuration: a known charger's own, an unknown one's by
/// policy (it only got this far if unknown chargers are allowed).
pub(crate) fn registration_of(ctx: &ConnectionContext) -> Registration {
    ctx.config
        .as_ref()
        .map_or(Registration::Accepted, |c| c.registration)
}

/// Whether the charger may send `action` now: before acceptance only BootNotification (and
/// Heartbeat, which some chargers send regardless) is allowed.
pub(crate) fn may_send(ctx: &ConnectionContext, action: &str) -> bool {
    registration_of(ctx) == Registration::Accepted
        || matches!(action, "BootNotification" | "Heartbeat")
}
