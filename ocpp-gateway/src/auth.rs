//! OCPP security profile 1 (and the password half of profile 2): HTTP Basic authentication at
//! the WebSocket handshake. The user name is the charger id, the password is checked against
//! the charger's Argon2 hash in constant time by argon2 itself, off the async threads (a hash
//! takes tens of milliseconds and about 19 MiB on purpose). Because a check is that costly,
//! [`AuthThrottle`] bounds how many run at once and makes an address that keeps failing wait
//! before any more of its guesses are hashed.

use std::net::IpAddr;

use argon2::password_hash::PasswordHash;
use argon2::{Argon2, PasswordVerifier};
use axum::http::HeaderMap;
use base64::Engine;
use chargegrid_core::ChargerId;
use chargegrid_core::throttle::FailureThrottle;

/// The outcome of checking a handshake's credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AuthOutcome {
    /// Credentials match (or none are required).
    Allowed,
    /// No `Authorization: Basic` header.
    Missing,
    /// Wrong user, wrong password, or an unreadable header.
    Denied,
}

/// Checks Basic credentials against `hash` (a PHC string). The caller decides whether a
/// charger without a hash may connect at all (only with `security_profile = 0`).
pub(crate) async fn check(headers: &HeaderMap, charger: &ChargerId, hash: &str) -> AuthOutcome {
    let Some(value) = headers.get(axum::http::header::AUTHORIZATION) else {
        return AuthOutcome::Missing;
    };
    let Some((user, password)) = value.to_str().ok().and_then(basic_credentials) else {
        return AuthOutcome::Denied;
    };
    if user != charger.as_str() {
        return AuthOutcome::Denied;
    }
    let hash = hash.to_string();
    let password = password.to_string();
    let ok = tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false);
    if ok {
        AuthOutcome::Allowed
    } else {
        AuthOutcome::Denied
    }
}

/// The user name and password of an `Authorization: Basic …` header value, when it is one:
/// base64 of `user:password` in UTF-8 (the password may contain `:`; OCPP passwords are
/// printable text, so bytes that are not UTF-8 simply fail). Public for the fuzz target.
pub fn basic_credentials(value: &str) -> Option<(String, String)> {
    let encoded = value.strip_prefix("Basic ")?.trim();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

/// The bound on password checks running at once (each holds ~19 MiB and a core for tens of
/// milliseconds), and the back-off of addresses that keep failing.
pub(crate) struct AuthThrottle {
    /// Permits for concurrent Argon2 checks.
    pub checks: tokio::sync::Semaphore,
    /// Wrong passwords per client address.
    pub failures: FailureThrottle<IpAddr>,
}

/// Failures older than this are forgotten.
const FAILURE_WINDOW: chrono::Duration = chrono::Duration::seconds(60);
/// Addresses tracked at most.
const MAX_TRACKED: usize = 100_000;

impl AuthThrottle {
    /// `concurrent` checks at once; `limit` failures in a minute (0: never) earn `backoff`.
    pub fn new(concurrent: usize, limit: u32, backoff: std::time::Duration) -> Self {
        Self {
            checks: tokio::sync::Semaphore::new(concurrent.max(1)),
            failures: FailureThrottle::new(
                limit,
                FAILURE_WINDOW,
                chrono::Duration::from_std(backoff).unwrap_or(chrono::Duration::MAX),
                MAX_TRACKED,
            ),
        }
    }
}

/// Why a password could not be hashed.
#[derive(Debug, thiserror::Error)]
#[error("cannot hash the password: {0}")]
pub struct HashError(argon2::password_hash::Error);

/// Hashes a password for the network file (Argon2id, random salt).
pub fn hash_password(password: &str) -> Result<String, HashError> {
    use argon2::password_hash::{PasswordHasher, SaltString};
    // 16 bytes from the OS CSPRNG (a v4 UUID is exactly that, less 6 fixed bits).
    let salt = SaltString::encode_b64(uuid::Uuid::new_v4().as_bytes()).map_err(HashError)?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(HashError)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(user: &str, password: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        h.insert(
            axum::http::header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Basic {token}")).unwrap(),
        );
        h
    }

    #[tokio::test]
    async fn basic_credentials_are_checked_against_the_hash() {
        let id = ChargerId::new("CP1").unwrap();
        let hash = hash_password("s3cret-pass").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert_eq!(
            check(&headers("CP1", "s3cret-pass"), &id, &hash).await,
            AuthOutcome::Allowed
        );
        assert_eq!(
            check(&headers("CP1", "wrong"), &id, &hash).await,
            AuthOutcome::Denied
        );
        assert_eq!(
            check(&headers("CP2", "s3cret-pass"), &id, &hash).await,
            AuthOutcome::Denied
        );
        assert_eq!(
            check(&HeaderMap::new(), &id, &hash).await,
            AuthOutcome::Missing
        );
        let mut garbage = HeaderMap::new();
        garbage.insert(
            axum::http::header::AUTHORIZATION,
            HeaderValue::from_static("Basic !!!"),
        );
        assert_eq!(check(&garbage, &id, &hash).await, AuthOutcome::Denied);
    }
}
