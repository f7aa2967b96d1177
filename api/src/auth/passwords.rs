//! Driver passwords: Argon2id hashes, computed and checked off the async threads (a hash takes
//! tens of milliseconds on purpose).

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

use crate::Problem;

/// Shortest password accepted.
pub(crate) const MIN_LEN: usize = 10;
/// Longest password accepted, in characters (Argon2 cost is linear in it; refuse megabyte
/// "passwords"; at most 1 KiB of UTF-8).
pub(crate) const MAX_LEN: usize = 256;

/// Hashes a password.
pub(crate) async fn hash(password: String) -> Result<String, Problem> {
    tokio::task::spawn_blocking(move || {
        let salt =
            SaltString::encode_b64(uuid::Uuid::new_v4().as_bytes()).map_err(|e| e.to_string())?;
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| e.to_string())
    })
    .await
    .map_err(|_| Problem::unavailable())?
    .map_err(|e| {
        tracing::error!(error = %e, "password hashing failed");
        Problem::unavailable()
    })
}

/// Checks a password against a hash (false for an unreadable hash).
pub(crate) async fn verify(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|h| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &h)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// A hash of a random password: checked against when the account does not exist, so a login
/// takes as long for an unknown e-mail as for a wrong password.
pub(crate) async fn dummy_hash() -> String {
    static DUMMY: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    DUMMY
        .get_or_init(|| async {
            hash(uuid::Uuid::new_v4().to_string())
                .await
                .unwrap_or_default()
        })
        .await
        .clone()
}

/// Checks the length rules.
pub(crate) fn check_rules(password: &str) -> Result<(), Problem> {
    let n = password.chars().count();
    // Characters both ways, as the OpenAPI document's minLength/maxLength count them.
    if !(MIN_LEN..=MAX_LEN).contains(&n) {
        return Err(Problem::invalid_body(format!(
            "password must have {MIN_LEN} to {MAX_LEN} characters"
        )));
    }
    Ok(())
}
