//! Accounts and tokens: sign-up, login, refresh (rotating), logout. Every driver gets an app
//! token (an id tag) at sign-up, used to start charging from the app.

use axum::extract::State;
use axum::http::StatusCode;
use chargegrid_core::driver::{Driver, IdTagRecord, IdTagStatus, Role};
use chargegrid_core::{DriverId, IdTag};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::tokens::{self, TokenPair};
use crate::auth::{Caller, Credential, passwords};
use crate::json::Json;
use crate::views::DriverView;
use crate::{ApiResult, ApiState, Problem};

/// Sign-up.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignupRequest {
    /// Login e-mail: something@domain.tld, at most 254 characters (surrounding spaces are
    /// trimmed, case is folded).
    #[schema(max_length = 254, pattern = r"^\s*[^@\s]+@[^\s.]\S*\.\S*[^\s.]\s*$")]
    pub email: String,
    /// Password, 10 to 256 characters.
    #[schema(min_length = 10, max_length = 256)]
    pub password: String,
    /// Display name: 1 to 100 printable characters, not only spaces.
    #[schema(
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub name: String,
}

/// Login.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Login e-mail.
    pub email: String,
    /// Password.
    pub password: String,
}

/// Refresh.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// The refresh token.
    pub refresh_token: String,
}

/// An account with fresh tokens.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuthResponse {
    /// The account.
    pub driver: DriverView,
    /// The tokens.
    #[serde(flatten)]
    pub tokens: TokenPair,
}

pub(crate) fn check_email(email: &str) -> Result<String, Problem> {
    let email = email.trim().to_lowercase();
    let valid = email.len() <= 254
        && email.split_once('@').is_some_and(|(user, domain)| {
            !user.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        })
        && !email.chars().any(char::is_whitespace);
    if valid {
        Ok(email)
    } else {
        Err(Problem::invalid_body("email is not a valid address"))
    }
}

fn check_name(name: &str) -> Result<String, Problem> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(Problem::invalid_body(
            "name must have 1 to 100 printable characters",
        ));
    }
    Ok(name.to_string())
}

/// Creates an account of `role` (and its app token) and returns it.
pub(crate) async fn create_account(
    store: &dyn chargegrid_store::Store,
    clock: &dyn chargegrid_core::Clock,
    email: &str,
    password: String,
    name: &str,
    role: Role,
    fleet: Option<chargegrid_core::FleetId>,
) -> ApiResult<Driver> {
    let email = check_email(email)?;
    let name = check_name(name)?;
    passwords::check_rules(&password)?;
    let driver = Driver {
        id: DriverId::new(format!("drv-{}", uuid::Uuid::new_v4().simple()))
            .map_err(|_| Problem::unavailable())?,
        email,
        name,
        role,
        fleet,
        password_hash: passwords::hash(password).await?,
        created_at: clock.now(),
        fleet_invitations: Vec::new(),
        disabled: false,
    };
    store.create_driver(&driver).await.map_err(|e| match e {
        chargegrid_store::StoreError::Conflict(_) => {
            Problem::conflict("email-taken", "an account with this e-mail exists")
        }
        other => other.into(),
    })?;
    let app_tag = IdTag::new(format!(
        "APP{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12].to_uppercase()
    ))
    .map_err(|_| Problem::unavailable())?;
    store
        .put_id_tag(&IdTagRecord {
            tag: app_tag,
            driver: Some(driver.id.clone()),
            vehicle: None,
            fleet: driver.fleet.clone(),
            status: IdTagStatus::Accepted,
            expires_at: None,
            parent: None,
            allow_concurrent: false,
        })
        .await?;
    Ok(driver)
}

/// Create a driver account; returns the account and a token pair.
#[utoipa::path(post, path = "/api/v1/auth/signup", tag = "accounts",
    request_body = SignupRequest,
    responses((status = 201, body = AuthResponse), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn signup(
    State(state): State<ApiState>,
    Json(req): Json<SignupRequest>,
) -> ApiResult<(StatusCode, axum::Json<AuthResponse>)> {
    let driver = create_account(
        state.store.as_ref(),
        state.clock.as_ref(),
        &req.email,
        req.password,
        &req.name,
        Role::Driver,
        None,
    )
    .await?;
    state.metrics.accounts.with_label_values(&["signup"]).inc();
    let tokens = tokens::issue(&state, &driver.id, None).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(AuthResponse {
            driver: DriverView::from(&driver),
            tokens,
        }),
    ))
}

/// Log in with e-mail and password.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "accounts",
    request_body = LoginRequest,
    responses((status = 200, body = AuthResponse), (status = 401, body = Problem), (status = 429, body = Problem)))]
pub(crate) async fn login(
    State(state): State<ApiState>,
    Json(req): Json<LoginRequest>,
) -> ApiResult<axum::Json<AuthResponse>> {
    // Per account (by the address asked for, existing or not, so the answer reveals nothing):
    // a guessed account waits before more guesses are even hashed.
    let account = req.email.trim().to_lowercase();
    let now = state.clock.now();
    if let Some(wait) = state.logins.blocked(&account, now) {
        state
            .metrics
            .accounts
            .with_label_values(&["login_throttled"])
            .inc();
        let mut problem = Problem::too_many_requests()
            .detail("too many failed logins for this account; try again in a few minutes");
        problem.retry_after = u64::try_from(wait.num_seconds()).ok();
        return Err(problem);
    }
    let found = state.store.find_driver_by_email(req.email.trim()).await?;
    // Same work whether or not the account exists, so timing does not reveal it.
    let hash = match &found {
        Some(d) => d.password_hash.clone(),
        None => passwords::dummy_hash().await,
    };
    let ok =
        req.password.len() <= passwords::MAX_LEN && passwords::verify(req.password, hash).await;
    let Some(driver) = found.filter(|d| ok && !d.disabled) else {
        state
            .metrics
            .accounts
            .with_label_values(&["login_failed"])
            .inc();
        state.logins.failed(account, now);
        return Err(Problem::unauthorized("wrong e-mail or password"));
    };
    state.logins.forget(&account);
    state.metrics.accounts.with_label_values(&["login"]).inc();
    let tokens = tokens::issue(&state, &driver.id, None).await?;
    Ok(axum::Json(AuthResponse {
        driver: DriverView::from(&driver),
        tokens,
    }))
}

/// Exchange a refresh token for a new pair (the old one stops working; reusing it revokes the
/// whole login).
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "accounts",
    request_body = RefreshRequest,
    responses((status = 200, body = TokenPair), (status = 401, body = Problem)))]
pub(crate) async fn refresh(
    State(state): State<ApiState>,
    Json(req): Json<RefreshRequest>,
) -> ApiResult<axum::Json<TokenPair>> {
    Ok(axum::Json(
        tokens::refresh(&state, &req.refresh_token).await?,
    ))
}

/// End this login: the access token and its whole family stop working.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "accounts",
    security(("bearer" = [])),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub(crate) async fn logout(State(state): State<ApiState>, caller: Caller) -> ApiResult<StatusCode> {
    let Credential::Login { token_hash, family } = &caller.credential else {
        return Err(Problem::forbidden(
            "an API key is not logged out: revoke it (DELETE /api/v1/api-keys/{id})",
        ));
    };
    state.store.revoke_token(token_hash).await?;
    let until = state.clock.now()
        + chrono::Duration::from_std(state.config.refresh_ttl)
            .unwrap_or(chrono::Duration::days(30));
    state.store.revoke_token_family(family, until).await?;
    Ok(StatusCode::NO_CONTENT)
}
