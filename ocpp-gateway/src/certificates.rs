//! Charger certificates: chargegrid as the operator's charger CA. A charger sends a PKCS#10
//! request (1.6 security extension `SignCertificate`, 2.0.1 A02/A03); when its subject's common
//! name is that charger's id, it is signed into a client certificate the charger installs and
//! then uses for security profile 3 (TLS client certificate). Pure: no I/O, time passed in.
//!
//! The CA decides what the certificate says: only the requested subject and public key are
//! taken from the request (extensions the charger asks for are ignored), the validity, key
//! usages (TLS client) and a random serial are set here.

use chargegrid_core::ChargerId;
use chrono::{DateTime, TimeDelta, Utc};
use rcgen::{
    CertificateParams, CertificateSigningRequestParams, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SerialNumber,
};
use thiserror::Error;

/// Why a charger CA could not be set up.
#[derive(Debug, Error)]
#[error("charger CA {what}: {reason}")]
pub struct CaError {
    what: &'static str,
    reason: String,
}

/// Why a signing request was refused (the charger is answered `Rejected`).
#[derive(Debug, Error, PartialEq)]
pub enum CsrRefused {
    /// Not a PEM PKCS#10 request, a bad self-signature, or an algorithm not supported.
    #[error("unreadable certificate signing request: {0}")]
    Unreadable(String),
    /// The subject does not name the charger that sent it.
    #[error("the request's common name {found:?} is not the charger's id")]
    WrongSubject {
        /// The common name in the request, if any.
        found: Option<String>,
    },
    /// Signing failed.
    #[error("signing failed: {0}")]
    Signing(String),
}

/// The CA that signs chargers' certificates.
pub struct ChargerCa {
    /// The CA certificate, for the chain (trailing whitespace trimmed).
    cert_pem: String,
    /// Its name, key identifier and key, parsed once.
    issuer: Issuer<'static, KeyPair>,
    validity: TimeDelta,
}

impl std::fmt::Debug for ChargerCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key.
        f.debug_struct("ChargerCa")
            .field("validity", &self.validity)
            .finish_non_exhaustive()
    }
}

/// How far back a new certificate's validity starts (chargers' clocks drift).
const CLOCK_SKEW: TimeDelta = TimeDelta::minutes(10);

impl ChargerCa {
    /// From the CA certificate and key (PEM) and the lifetime of the certificates it issues.
    pub fn from_pem(cert_pem: &str, key_pem: &str, validity_days: u32) -> Result<Self, CaError> {
        let key = KeyPair::from_pem(key_pem).map_err(|e| CaError {
            what: "key",
            reason: e.to_string(),
        })?;
        let issuer = Issuer::from_ca_cert_pem(cert_pem, key).map_err(|e| CaError {
            what: "certificate",
            reason: e.to_string(),
        })?;
        if validity_days == 0 {
            return Err(CaError {
                what: "validity",
                reason: "must be at least one day".into(),
            });
        }
        Ok(Self {
            cert_pem: cert_pem.trim_end().to_string(),
            issuer,
            validity: TimeDelta::days(i64::from(validity_days)),
        })
    }

    /// Signs `csr_pem` for `charger` at `now`: the PEM chain (the new certificate, then the CA).
    pub fn sign(
        &self,
        csr_pem: &str,
        charger: &ChargerId,
        now: DateTime<Utc>,
    ) -> Result<String, CsrRefused> {
        let csr = CertificateSigningRequestParams::from_pem(csr_pem)
            .map_err(|e| CsrRefused::Unreadable(e.to_string()))?;
        let found = common_name(&csr.params);
        if found.as_deref() != Some(charger.as_str()) {
            return Err(CsrRefused::WrongSubject { found });
        }
        let mut params = CertificateParams::default();
        params.distinguished_name = csr.params.distinguished_name.clone();
        params.not_before = offset(now - CLOCK_SKEW)?;
        params.not_after = offset(now + self.validity)?;
        params.serial_number = Some(serial());
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyAgreement,
        ];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.use_authority_key_identifier_extension = true;
        let cert = params
            .signed_by(&csr.public_key, &self.issuer)
            .map_err(|e| CsrRefused::Signing(e.to_string()))?;
        let mut chain = cert.pem();
        if !chain.ends_with('\n') {
            chain.push('\n');
        }
        chain.push_str(&self.cert_pem);
        chain.push('\n');
        Ok(chain)
    }
}

fn common_name(params: &CertificateParams) -> Option<String> {
    match params.distinguished_name.get(&DnType::CommonName)? {
        rcgen::DnValue::PrintableString(s) => Some(s.to_string()),
        rcgen::DnValue::Utf8String(s) => Some(s.clone()),
        rcgen::DnValue::Ia5String(s) => Some(s.to_string()),
        rcgen::DnValue::TeletexString(s) => Some(s.to_string()),
        _ => None,
    }
}

fn offset(at: DateTime<Utc>) -> Result<time::OffsetDateTime, CsrRefused> {
    time::OffsetDateTime::from_unix_timestamp(at.timestamp())
        .map_err(|e| CsrRefused::Signing(e.to_string()))
}

/// A random positive 127-bit serial (RFC 5280: unique per CA, at most 20 octets).
fn serial() -> SerialNumber {
    let mut bytes = *uuid::Uuid::new_v4().as_bytes();
    bytes[0] &= 0x7f;
    bytes[0] |= 0x01 << 6;
    SerialNumber::from_slice(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn ca() -> (ChargerCa, String) {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "chargegrid test charger CA");
        params.is_ca = IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let cert = params.self_signed(&key).unwrap();
        let ca = ChargerCa::from_pem(&cert.pem(), &key.serialize_pem(), 365).unwrap();
        (ca, cert.pem())
    }

    fn csr(cn: &str) -> String {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, cn);
        params
            .distinguished_name
            .push(DnType::OrganizationName, "Example CPO");
        params.serialize_request(&key).unwrap().pem().unwrap()
    }

    fn id(s: &str) -> ChargerId {
        s.parse().unwrap()
    }

    #[test]
    fn a_request_naming_the_charger_is_signed_for_client_auth_by_the_ca() {
        let (ca, ca_pem) = ca();
        let now = Utc.with_ymd_and_hms(2026, 11, 29, 8, 0, 0).unwrap();
        let chain = ca.sign(&csr("CP-7"), &id("CP-7"), now).unwrap();
        assert_eq!(chain.matches("BEGIN CERTIFICATE").count(), 2);
        assert!(chain.ends_with(&format!("{}\n", ca_pem.trim_end())));
        let first = rustls_pemfile::certs(&mut chain.as_bytes())
            .next()
            .unwrap()
            .unwrap();
        let (_, cert) = x509_parser::parse_x509_certificate(first.as_ref()).unwrap();
        let cn = cert.subject().iter_common_name().next().unwrap();
        assert_eq!(cn.as_str().unwrap(), "CP-7");
        assert_eq!(
            cert.issuer()
                .iter_common_name()
                .next()
                .unwrap()
                .as_str()
                .unwrap(),
            "chargegrid test charger CA"
        );
        assert_eq!(
            cert.validity().not_before.timestamp(),
            now.timestamp() - 600
        );
        assert_eq!(
            cert.validity().not_after.timestamp(),
            (now + TimeDelta::days(365)).timestamp()
        );
        let eku = cert.extended_key_usage().unwrap().unwrap().value;
        assert!(eku.client_auth && !eku.server_auth);
        assert!(!cert.is_ca());
    }

    #[test]
    fn requests_for_another_charger_or_garbage_are_refused() {
        let (ca, _) = ca();
        let now = Utc::now();
        assert_eq!(
            ca.sign(&csr("CP-8"), &id("CP-7"), now),
            Err(CsrRefused::WrongSubject {
                found: Some("CP-8".into())
            })
        );
        assert!(matches!(
            ca.sign("not a csr", &id("CP-7"), now),
            Err(CsrRefused::Unreadable(_))
        ));
        // A request whose subject was altered after signing (one letter of the organisation:
        // still well-formed DER) fails its self-signature.
        use base64::Engine;
        use base64::engine::general_purpose::STANDARD;
        let good = csr("CP-7");
        let body: String = good.lines().filter(|l| !l.starts_with("-----")).collect();
        let mut der = STANDARD.decode(body).unwrap();
        let pem = |der: &[u8]| {
            format!(
                "-----BEGIN CERTIFICATE REQUEST-----\n{}\n-----END CERTIFICATE REQUEST-----\n",
                STANDARD.encode(der)
            )
        };
        // Re-encoded as it is, it still signs: the refusal below is the signature's.
        assert!(ca.sign(&pem(&der), &id("CP-7"), now).is_ok());
        let at = der
            .windows(11)
            .position(|w| w == b"Example CPO")
            .expect("the organisation is in the request");
        der[at] = b'F';
        assert!(matches!(
            ca.sign(&pem(&der), &id("CP-7"), now),
            Err(CsrRefused::Unreadable(_))
        ));
    }

    #[test]
    fn a_bad_ca_is_named() {
        let err = ChargerCa::from_pem("nothing", "nothing", 365).unwrap_err();
        assert!(err.to_string().contains("charger CA key"), "{err}");
    }
}
