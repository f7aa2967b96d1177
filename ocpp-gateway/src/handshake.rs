//! The WebSocket handshake: checks the charger id in the path, negotiates the OCPP
//! subprotocol (a charger offering none we speak is refused here, before any frame), applies
//! the unknown-charger policy, then hands the socket to a connection task.

use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chargegrid_core::ChargerId;
use chargegrid_core::network::{Charger, OcppVersion};

use crate::auth::{self, AuthOutcome};
use crate::gateway::Inner;
use crate::{Gateway, connection};

/// Bytes read from a charger's socket at a time.
const READ_BUFFER: usize = 4 * 1024;

/// Subprotocols we speak, most preferred first.
const SUPPORTED: [OcppVersion; 2] = [OcppVersion::V201, OcppVersion::V16];

pub(crate) async fn upgrade(
    State(gateway): State<Gateway>,
    Path(raw_id): Path<String>,
    headers: HeaderMap,
    client_cert: Option<axum::Extension<crate::tls::ClientCertificate>>,
    peer: Option<axum::Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>,
    ws: WebSocketUpgrade,
) -> Response {
    let metrics = &gateway.inner.metrics;
    let ip = peer.map(|axum::Extension(axum::extract::ConnectInfo(a))| a.ip());
    let remote = ip.map_or_else(|| "-".to_string(), |ip| ip.to_string());
    // Every refusal is also recorded in the store (the latest ones, readable by operators
    // through the API): a charger that cannot connect must leave a trace naming it.
    let record = |reason: &'static str| {
        let store = gateway.inner.store.clone();
        let refusal = chargegrid_store::RefusedHandshake {
            at: gateway.inner.clock.now(),
            charger: raw_id.chars().take(64).collect(),
            remote: ip.map(|ip| ip.to_string()),
            reason: reason.to_string(),
            node: gateway.inner.config.node.clone(),
        };
        tokio::spawn(async move {
            if let Err(e) = store.record_refusal(&refusal).await {
                tracing::debug!(error = %e, "refused handshake not recorded");
            }
        });
    };
    let refuse = |status: StatusCode, reason: &'static str, message: String| {
        record(reason);
        metrics
            .handshakes_refused
            .with_label_values(&[reason])
            .inc();
        tracing::info!(charger = ?raw_id.chars().take(64).collect::<String>(), remote = %remote, reason, "handshake refused");
        (status, message).into_response()
    };
    let charger = match ChargerId::new(raw_id.clone()) {
        Ok(id) => id,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, "bad_charger_id", e.to_string()),
    };
    let offered: Vec<&str> = ws
        .requested_protocols()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let Some(version) = negotiate(&offered) else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "no_subprotocol",
            format!(
                "no supported OCPP subprotocol offered (offered: {offered:?}; supported: ocpp2.0.1, ocpp1.6)"
            ),
        );
    };
    // The per-address slot and back-off come before anything costly (the store read, the
    // password hash): a flood of handshakes from one address is stopped here.
    let slot = match ip.map(|ip| IpSlot::take(&gateway.inner, ip)).transpose() {
        Ok(slot) => slot,
        Err(open) => {
            return refuse(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_connections",
                format!("more than {open} connections from one address"),
            );
        }
    };
    let now = gateway.inner.clock.now();
    if let Some(wait) = ip.and_then(|ip| gateway.inner.auth.failures.blocked(&ip, now)) {
        let mut response = refuse(
            StatusCode::TOO_MANY_REQUESTS,
            "auth_backoff",
            "too many failed logins from this address; try again later".into(),
        );
        let seconds = wait.num_seconds().max(1).to_string();
        if let Ok(value) = header::HeaderValue::from_str(&seconds) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return response;
    }
    let config = match gateway.inner.store.get_charger(&charger).await {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(%charger, error = %e, "store unavailable during handshake");
            return refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                "store_unavailable",
                "try again later".into(),
            );
        }
    };
    if config.is_none() && !gateway.inner.config.settings.allow_unknown_chargers {
        return refuse(
            StatusCode::NOT_FOUND,
            "unknown_charger",
            format!("unknown charger {charger}"),
        );
    }
    // Profile 3: a verified client certificate names the charger; it must be this one, and
    // then no password is asked. (The extension is present on every TLS connection.)
    let tls = client_cert.is_some();
    let cert_name = client_cert.and_then(|axum::Extension(c)| c.common_name);
    if let Some(name) = &cert_name
        && name != charger.as_str()
    {
        return refuse(
            StatusCode::FORBIDDEN,
            "certificate_mismatch",
            format!("the client certificate names {name:?}, not {charger}"),
        );
    }
    // The charger's least security profile: a charger moved to TLS or certificates cannot
    // fall back to a weaker connection.
    let offered = match (tls, &cert_name) {
        (true, Some(_)) => 3,
        (true, None) => 2,
        (false, _) => 1,
    };
    if let Some(least) = config.as_ref().and_then(|c| c.security_profile)
        && offered < least
    {
        return refuse(
            StatusCode::FORBIDDEN,
            "security_profile",
            format!("{charger} must connect with security profile {least} (this is {offered})"),
        );
    }
    let mut achieved = offered;
    match credentials(config.as_ref(), cert_name.is_some()) {
        Credentials::NotNeeded => {
            if cert_name.is_none() {
                // No password was checked: profile 0 (over TLS or not).
                achieved = 0;
            }
        }
        Credentials::NoneConfigured => {
            return refuse(
                StatusCode::UNAUTHORIZED,
                "no_credentials_configured",
                format!(
                    "{charger} has no password or certificate configured; an operator must set one \
                     (or security_profile = 0 to let it connect without credentials)"
                ),
            );
        }
        Credentials::Password(hash, previous) => {
            let checked = {
                // Half the handshake's own deadline, so the 503 still reaches the charger
                // before the listener drops a handshake that took too long.
                let permit = tokio::time::timeout(
                    gateway.inner.config.settings.handshake_timeout / 2,
                    gateway.inner.auth.checks.acquire(),
                )
                .await;
                match permit {
                    Ok(Ok(_permit)) => {
                        let current = auth::check(&headers, &charger, hash).await;
                        match previous {
                            // A rotation under way: the new password completes it, the old one
                            // still works until then.
                            Some(_) if current == AuthOutcome::Allowed => {
                                finish_rotation(&gateway, &charger, hash).await;
                                Some(current)
                            }
                            Some(old) if current == AuthOutcome::Denied => {
                                Some(auth::check(&headers, &charger, old).await)
                            }
                            _ => Some(current),
                        }
                    }
                    _ => None,
                }
            };
            match checked {
                Some(AuthOutcome::Allowed) => {}
                None => {
                    return refuse(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "auth_busy",
                        "too many logins at once; try again later".into(),
                    );
                }
                Some(outcome) => {
                    let backs_off = outcome == AuthOutcome::Denied
                        && ip.is_some_and(|ip| gateway.inner.auth.failures.failed(ip, now));
                    record("auth");
                    metrics
                        .handshakes_refused
                        .with_label_values(&["auth"])
                        .inc();
                    tracing::warn!(%charger, remote = %remote, ?outcome, backs_off, "charger authentication failed");
                    return (
                        StatusCode::UNAUTHORIZED,
                        [(header::WWW_AUTHENTICATE, "Basic realm=\"chargegrid\"")],
                        "authentication required",
                    )
                        .into_response();
                }
            }
        }
    }
    let hard_limit = gateway
        .inner
        .config
        .settings
        .max_frame_bytes
        .saturating_mul(4);
    let tracker = gateway.inner.tasks.clone();
    // Buffers sized for OCPP (messages of a few KiB), not the 128 KiB defaults: they are
    // allocated per connection and decided the memory of 100,000 idle chargers. A charger
    // that stops reading cannot grow our write buffer past a few frames: its socket closes.
    ws.protocols([version.subprotocol()])
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(0)
        .max_write_buffer_size(hard_limit.saturating_mul(2))
        .max_message_size(hard_limit)
        .max_frame_size(hard_limit)
        .on_upgrade(move |socket| {
            tracker.track_future(async move {
                connection::run(gateway, charger, version, config, achieved, socket).await;
                drop(slot);
            })
        })
}

/// The charger logged in with its new password: the old one stops working (the stored record
/// is re-read, so a newer change made meanwhile is kept). A failure is logged; the old
/// password then stays valid until the next successful login clears it.
async fn finish_rotation(gateway: &Gateway, charger: &ChargerId, new_hash: &str) {
    let store = &gateway.inner.store;
    let result = match store.get_charger(charger).await {
        Ok(Some(mut c))
            if c.password_hash.as_deref() == Some(new_hash)
                && c.previous_password_hash.is_some() =>
        {
            c.previous_password_hash = None;
            store.put_charger(&c).await
        }
        Ok(_) => Ok(()),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => {
            tracing::info!(%charger, "charger logged in with its new password: the old one no longer works")
        }
        Err(e) => {
            tracing::warn!(%charger, error = %e, "could not retire the charger's old password")
        }
    }
}

/// The OCPP version to speak, from the `Sec-WebSocket-Protocol` header values a charger
/// offered (each may list several, comma-separated): ours in our order of preference, or
/// `None` when it offers none we speak. Public for the fuzz target.
pub fn negotiate(offered: &[&str]) -> Option<OcppVersion> {
    SUPPORTED.into_iter().find(|v| {
        offered
            .iter()
            .flat_map(|h| h.split(','))
            .any(|p| p.trim() == v.subprotocol())
    })
}

/// What a charger must present besides its id.
#[derive(Debug, PartialEq, Eq)]
enum Credentials<'a> {
    /// Nothing more: a verified client certificate named it, the operator allowed unknown
    /// chargers and this one is unknown, or its network entry says `security_profile = 0`.
    NotNeeded,
    /// Its Basic password, checked against this hash.
    Password(&'a str, Option<&'a str>),
    /// It has neither a password nor a certificate: refused (fail closed).
    NoneConfigured,
}

fn credentials(config: Option<&Charger>, certificate: bool) -> Credentials<'_> {
    if certificate {
        return Credentials::NotNeeded;
    }
    let Some(config) = config else {
        // Only reached when the operator set `allow_unknown_chargers`.
        return Credentials::NotNeeded;
    };
    match (&config.password_hash, config.security_profile) {
        (Some(hash), _) => Credentials::Password(hash, config.previous_password_hash.as_deref()),
        (None, Some(0)) => Credentials::NotNeeded,
        (None, _) => Credentials::NoneConfigured,
    }
}

/// One connection counted against its client address, from the handshake's check until the
/// connection ends (or the upgrade fails: the slot is dropped with the unused callback).
struct IpSlot {
    inner: Arc<Inner>,
    ip: IpAddr,
}

impl IpSlot {
    /// Takes a slot for `ip`, or returns how many are open when the limit is reached.
    fn take(inner: &Arc<Inner>, ip: IpAddr) -> Result<Self, usize> {
        let mut per_ip = inner.per_ip.lock().unwrap_or_else(|e| e.into_inner());
        let open = per_ip.entry(ip).or_default();
        if *open >= inner.config.settings.max_connections_per_ip {
            return Err(*open);
        }
        *open += 1;
        Ok(Self {
            inner: inner.clone(),
            ip,
        })
    }
}

impl Drop for IpSlot {
    fn drop(&mut self) {
        let mut per_ip = self.inner.per_ip.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = per_ip.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                per_ip.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn charger(hash: Option<&str>, profile: Option<u8>) -> Charger {
        let mut c: Charger = serde_json::from_value(serde_json::json!({
            "id": "CP1", "site": "s1", "vendor": "v", "model": "m", "ocpp_version": "1.6",
            "wiring": "three_phase", "max_power": 22000.0,
            "evses": [{"id": 1, "max_current": 32.0, "max_power": 22000.0,
                       "connectors": [{"id": 1, "type": "Type2"}]}]
        }))
        .unwrap();
        c.password_hash = hash.map(str::to_string);
        c.security_profile = profile;
        c
    }

    #[test]
    fn the_preferred_version_offered_is_spoken() {
        assert_eq!(negotiate(&["ocpp1.6"]), Some(OcppVersion::V16));
        assert_eq!(negotiate(&["ocpp1.6, ocpp2.0.1"]), Some(OcppVersion::V201));
        assert_eq!(negotiate(&["ocpp1.5", " ocpp1.6 "]), Some(OcppVersion::V16));
        assert_eq!(negotiate(&["ocpp2.1", "ocpp1.6j"]), None);
        assert_eq!(negotiate(&[]), None);
    }

    #[test]
    fn basic_credentials_are_read_strictly() {
        use base64::Engine;
        let enc = |t: &str| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(t)
            )
        };
        assert_eq!(
            crate::auth::basic_credentials(&enc("CP1:pa:ss")),
            Some(("CP1".into(), "pa:ss".into()))
        );
        assert_eq!(crate::auth::basic_credentials(&enc("no-colon")), None);
        assert_eq!(crate::auth::basic_credentials("Bearer x"), None);
        assert_eq!(crate::auth::basic_credentials("Basic !!!"), None);
    }

    #[test]
    fn a_charger_without_credentials_is_refused_unless_profile_0_says_so() {
        let none = charger(None, None);
        assert_eq!(credentials(Some(&none), false), Credentials::NoneConfigured);
        assert_eq!(
            credentials(Some(&charger(None, Some(1))), false),
            Credentials::NoneConfigured
        );
        assert_eq!(
            credentials(Some(&charger(None, Some(0))), false),
            Credentials::NotNeeded
        );
        assert_eq!(credentials(Some(&none), true), Credentials::NotNeeded);
        let with = charger(Some("$argon2id$x"), Some(0));
        assert_eq!(
            credentials(Some(&with), false),
            Credentials::Password("$argon2id$x", None)
        );
        assert_eq!(credentials(None, false), Credentials::NotNeeded);
    }
}
