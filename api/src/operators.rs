//! Operator accounts managed from outside the HTTP API: the first operator from the binary's
//! `admin.email` / `admin.password` settings (created only while the store holds no operator,
//! never overwritten), and `chargegrid admin operator add | list | disable | enable`. The same
//! e-mail, name and password rules as sign-up; the password is hashed the same way.

use std::sync::Arc;

use chargegrid_core::Clock;
use chargegrid_core::driver::{Driver, Role};
use chargegrid_store::{Store, StoreError};
use thiserror::Error;

/// Why an operator could not be created or changed.
#[derive(Debug, Error)]
pub enum OperatorError {
    /// The e-mail, name or password breaks the account rules.
    #[error("{0}")]
    Invalid(String),
    /// An account with that e-mail exists.
    #[error("an account with e-mail {0} exists")]
    Exists(String),
    /// No operator with that e-mail.
    #[error("no operator with e-mail {0}")]
    NotFound(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Creates an operator account.
pub async fn add(
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    email: &str,
    password: String,
    name: &str,
) -> Result<Driver, OperatorError> {
    crate::routes::auth::create_account(
        store.as_ref(),
        clock.as_ref(),
        email,
        password,
        name,
        Role::Operator,
        None,
    )
    .await
    .map_err(|p| {
        let detail = p.detail.clone().unwrap_or_else(|| p.title.clone());
        if p.status == 409 {
            OperatorError::Exists(email.trim().to_lowercase())
        } else {
            OperatorError::Invalid(detail)
        }
    })
}

/// Creates the configured first operator when the store holds no operator; `None` (and
/// nothing written) when one exists already, whoever it is.
pub async fn ensure_first(
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    email: &str,
    password: String,
) -> Result<Option<Driver>, OperatorError> {
    if !store.operators().await?.is_empty() {
        return Ok(None);
    }
    add(store, clock, email, password, "Operator")
        .await
        .map(Some)
}

/// Every operator account, in id order.
pub async fn list(store: &dyn Store) -> Result<Vec<Driver>, OperatorError> {
    Ok(store.operators().await?)
}

/// Disables (or enables again) the operator with `email`: a disabled account can neither log
/// in nor use the tokens it holds.
pub async fn set_disabled(
    store: &dyn Store,
    email: &str,
    disabled: bool,
) -> Result<Driver, OperatorError> {
    let mut driver = store
        .find_driver_by_email(email.trim())
        .await?
        .filter(|d| d.role == Role::Operator)
        .ok_or_else(|| OperatorError::NotFound(email.trim().to_lowercase()))?;
    driver.disabled = disabled;
    store.update_driver(&driver).await?;
    Ok(driver)
}
