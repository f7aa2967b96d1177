//! Security messages of both versions: certificate signing requests (answered at once, the
//! signed certificate follows as a `CertificateSigned` CALL after the answer, as the 1.6
//! security extension and 2.0.1 A02 describe) and security events (logged and counted).

use chargegrid_core::ChargerId;
use chargegrid_core::command::{ChargerCommand, CommandReply};
use chargegrid_core::network::OcppVersion;
use chargegrid_ocpp::messages::data::CertificateSigned;
use chargegrid_ocpp::messages::payload;
use chargegrid_store::ReplySink;

use crate::certificates::CsrRefused;
use crate::context::ConnectionContext;

/// Security event types of the 1.6 security extension and 2.0.1 (metric labels stay bounded:
/// anything else is counted as "other").
const EVENT_TYPES: &[&str] = &[
    "AttemptedReplayAttacks",
    "CentralSystemFailedToAuthenticate",
    "CsmsFailedToAuthenticate",
    "FailedToAuthenticateAtCentralSystem",
    "FailedToAuthenticateAtCsms",
    "FirmwareUpdated",
    "InvalidCentralSystemCertificate",
    "InvalidChargePointCertificate",
    "InvalidChargingStationCertificate",
    "InvalidCsmsCertificate",
    "InvalidFirmwareSignature",
    "InvalidFirmwareSigningCertificate",
    "InvalidMessages",
    "InvalidTLSCipherSuite",
    "InvalidTLSVersion",
    "MaintenanceLoginAccepted",
    "MaintenanceLoginFailed",
    "MemoryExhaustion",
    "ReconfigurationOfSecurityParameters",
    "ResetOrReboot",
    "SecurityLogWasCleared",
    "SettingSystemTime",
    "StartupOfTheDevice",
    "TamperDetectionActivated",
];

/// Logs and counts a security event a charger reported.
pub(crate) fn security_event(ctx: &ConnectionContext, kind: &str, tech_info: Option<&str>) {
    let label = EVENT_TYPES
        .iter()
        .copied()
        .find(|t| *t == kind)
        .unwrap_or("other");
    ctx.gateway
        .inner
        .metrics
        .security_events
        .with_label_values(&[label])
        .inc();
    tracing::warn!(charger = %ctx.charger, kind = ?kind, info = ?tech_info, "security event");
}

/// Handles a certificate signing request: `Ok` means answer `Accepted` (the certificate
/// follows as a CALL), `Err` carries the reason to log and answer `Rejected`.
pub(crate) fn sign_certificate(
    ctx: &mut ConnectionContext,
    csr: &str,
    certificate_type: Option<&str>,
) -> Result<(), String> {
    let inner = ctx.gateway.inner.clone();
    let count = |outcome: &str| {
        inner
            .metrics
            .certificates
            .with_label_values(&[outcome])
            .inc()
    };
    // A certificate outlives the password: only a charger that proved itself over TLS (its
    // password on profile 2, or its current certificate on profile 3) may ask for one. Over
    // plain ws:// a leaked password must not become a year-long client certificate.
    if ctx.security_profile < 2 || ctx.config.is_none() {
        count("refused_profile");
        return Err(format!(
            "certificates are issued only on TLS connections of known chargers with a password or \
             certificate (this connection: security profile {})",
            ctx.security_profile
        ));
    }
    if certificate_type.is_some_and(|t| t != "ChargingStationCertificate") {
        count("refused_type");
        return Err(format!(
            "{} is not issued here: chargegrid signs charging station certificates only",
            certificate_type.unwrap_or_default()
        ));
    }
    let Some(ca) = &inner.config.charger_ca else {
        count("no_ca");
        return Err("no charger CA is configured (ocpp.charger_ca_cert_file)".into());
    };
    let chain = ca.sign(csr, &ctx.charger, inner.clock.now()).map_err(|e| {
        count(match e {
            CsrRefused::WrongSubject { .. } => "refused_subject",
            CsrRefused::Unreadable(_) => "refused_unreadable",
            CsrRefused::Signing(_) => "signing_failed",
        });
        e.to_string()
    })?;
    count("signed");
    let payload = payload(CertificateSigned {
        certificate_chain: chain,
        certificate_type: (ctx.version == OcppVersion::V201)
            .then(|| "ChargingStationCertificate".into()),
    });
    ctx.follow_ups.push(ChargerCommand::Raw {
        action: "CertificateSigned".into(),
        payload,
    });
    Ok(())
}

/// Where the charger's answer to a CALL the gateway sent on its own goes: the log and the
/// certificate metric (nobody waits for it).
pub(crate) struct FollowUpReply {
    pub charger: ChargerId,
    pub action: String,
    pub metrics: crate::GatewayMetrics,
}

#[async_trait::async_trait]
impl ReplySink for FollowUpReply {
    async fn deliver(self: Box<Self>, reply: CommandReply) {
        let outcome = if reply.is_accepted() {
            "installed"
        } else if matches!(reply, CommandReply::Result { .. }) {
            "install_refused"
        } else {
            "install_failed"
        };
        if self.action == "CertificateSigned" {
            self.metrics
                .certificates
                .with_label_values(&[outcome])
                .inc();
        }
        tracing::info!(charger = %self.charger, action = %self.action, ?reply, "charger answered");
    }
}
