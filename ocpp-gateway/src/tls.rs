//! OCPP security profiles 2 and 3: `wss://` with rustls. Profile 2 is TLS plus the Basic
//! password of profile 1; profile 3 is TLS with a client certificate whose common name is the
//! charger id (then no password is asked). Certificates are verified against the configured
//! client CA; a charger presenting none can still use profile 2, unless client certificates are
//! required.

use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use std::sync::Arc;
use thiserror::Error;

/// Why TLS could not be set up.
#[derive(Debug, Error)]
pub enum TlsError {
    /// A PEM file holds nothing usable.
    #[error("{what}: {reason}")]
    Pem {
        /// Which input.
        what: &'static str,
        /// Why.
        reason: String,
    },
    /// rustls refused the configuration.
    #[error("TLS configuration: {0}")]
    Config(String),
}

/// The identity a charger proved with its client certificate (profile 3).
#[derive(Debug, Clone, Default)]
pub(crate) struct ClientCertificate {
    /// The certificate's subject common name, when a verified certificate was presented.
    pub common_name: Option<String>,
}

/// A TLS server configuration for the gateway.
#[derive(Clone)]
pub struct TlsSettings {
    config: Arc<rustls::ServerConfig>,
}

impl std::fmt::Debug for TlsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsSettings").finish_non_exhaustive()
    }
}

fn certs(what: &'static str, pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs: Vec<_> = rustls_pemfile::certs(&mut &pem[..])
        .collect::<Result<_, _>>()
        .map_err(|e| TlsError::Pem {
            what,
            reason: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(TlsError::Pem {
            what,
            reason: "no certificate found".into(),
        });
    }
    Ok(certs)
}

impl TlsSettings {
    /// The rustls configuration to accept connections with.
    pub(crate) fn acceptor_config(&self) -> Arc<rustls::ServerConfig> {
        self.config.clone()
    }

    /// From PEM: the server's certificate chain and key, and optionally the CA that signs
    /// chargers' client certificates (`require_client_cert`: refuse TLS clients without one).
    pub fn from_pem(
        cert_chain: &[u8],
        key: &[u8],
        client_ca: Option<&[u8]>,
        require_client_cert: bool,
    ) -> Result<Self, TlsError> {
        let chain = certs("server certificate", cert_chain)?;
        let key: PrivateKeyDer<'static> = rustls_pemfile::private_key(&mut &key[..])
            .map_err(|e| TlsError::Pem {
                what: "server key",
                reason: e.to_string(),
            })?
            .ok_or(TlsError::Pem {
                what: "server key",
                reason: "no private key found".into(),
            })?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Config(e.to_string()))?;
        let builder = match client_ca {
            Some(ca) => {
                let mut roots = rustls::RootCertStore::empty();
                for c in certs("client CA", ca)? {
                    roots.add(c).map_err(|e| TlsError::Config(e.to_string()))?;
                }
                let verifier =
                    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
                let verifier = if require_client_cert {
                    verifier.build()
                } else {
                    verifier.allow_unauthenticated().build()
                }
                .map_err(|e| TlsError::Config(e.to_string()))?;
                builder.with_client_cert_verifier(verifier)
            }
            None => builder.with_no_client_auth(),
        };
        let mut config = builder
            .with_single_cert(chain, key)
            .map_err(|e| TlsError::Config(e.to_string()))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self {
            config: Arc::new(config),
        })
    }
}

impl ClientCertificate {
    /// The verified client certificate of a TLS connection, if one was presented.
    pub(crate) fn of<S>(stream: &tokio_rustls::server::TlsStream<S>) -> Self {
        Self {
            common_name: stream
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|c| c.first())
                .and_then(common_name),
        }
    }
}

fn common_name(der: &CertificateDer<'_>) -> Option<String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der.as_ref()).ok()?;
    cert.subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .map(String::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_pem_is_reported_by_name() {
        let err = TlsSettings::from_pem(b"nothing", b"nothing", None, false).unwrap_err();
        assert!(err.to_string().contains("server certificate"), "{err}");
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["localhost".to_string()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let err = TlsSettings::from_pem(cert.pem().as_bytes(), b"no key", None, false).unwrap_err();
        assert!(err.to_string().contains("server key"), "{err}");
        let ok = TlsSettings::from_pem(
            cert.pem().as_bytes(),
            key.serialize_pem().as_bytes(),
            Some(cert.pem().as_bytes()),
            true,
        );
        assert!(ok.is_ok());
    }
}
