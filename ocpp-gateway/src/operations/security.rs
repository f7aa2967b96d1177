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

/// Why a certificate signing request is answered `Rejected`.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CertificateRefusal {
    /// Not over TLS, or not a known charger.
    #[error(
        "certificates are issued only on TLS connections of known chargers with a password or \
         certificate (this connection: security profile {0})"
    )]
    NotOverTls(u8),
    /// A V2G or other certificate.
    #[error("{0} is not issued here: chargegrid signs charging station certificates only")]
    WrongType(String),
    /// No CA to sign with.
    #[error("no charger CA is configured (ocpp.charger_ca_cert_file)")]
    NoCa,
    /// The CA refused the request.
    #[error(transparent)]
    Csr(#[from] CsrRefused),
}

impl CertificateRefusal {
    /// The certificate metric's outcome label.
    fn label(&self) -> &'static str {
        match self {
            CertificateRefusal::NotOverTls(_) => "refused_profile",
            CertificateRefusal::WrongType(_) => "refused_type",
            CertificateRefusal::NoCa => "no_ca",
            CertificateRefusal::Csr(CsrRefused::WrongSubject { .. }) => "refused_subject",
            CertificateRefusal::Csr(CsrRefused::Unreadable(_)) => "refused_unreadable",
            CertificateRefusal::Csr(CsrRefused::Signing(_)) => "signing_failed",
        }
    }
}

/// Handles a certificate signing request: `Ok` means answer `Accepted` (the certificate
/// follows as a CALL), `Err` carries the reason to log and answer `Rejected`. Counted either
/// way.
pub(crate) fn sign_certificate(
    ctx: &mut ConnectionContext,
    csr: &str,
    certificate_type: Option<&str>,
) -> Result<(), CertificateRefusal> {
    let outcome = issue(ctx, csr, certificate_type);
    let label = outcome.as_ref().map_or_else(|e| e.label(), |()| "signed");
    ctx.gateway
        .inner
        .metrics
        .certificates
        .with_label_values(&[label])
        .inc();
    outcome
}

fn issue(
    ctx: &mut ConnectionContext,
    csr: &str,
    certificate_type: Option<&str>,
) -> Result<(), CertificateRefusal> {
    let inner = ctx.gateway.inner.clone();
    // A certificate outlives the password: only a charger that proved itself over TLS (its
    // password on profile 2, or its current certificate on profile 3) may ask for one. Over
    // plain ws:// a leaked password must not become a year-long client certificate.
    if ctx.security_profile < 2 || ctx.config.is_none() {
        return Err(CertificateRefusal::NotOverTls(ctx.security_profile));
    }
    if let Some(other) = certificate_type.filter(|t| *t != "ChargingStationCertificate") {
        return Err(CertificateRefusal::WrongType(other.to_string()));
    }
    let ca = inner
        .config
        .charger_ca
        .as_ref()
        .ok_or(CertificateRefusal::NoCa)?;
    let chain = ca.sign(csr, &ctx.charger, inner.clock.now())?;
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
