//! What the central system answers about a token: 1.6 `idTagInfo` (Authorize, StartTransaction,
//! StopTransaction), 2.0.1 `idTokenInfo` (Authorize, TransactionEvent).

use chargegrid_core::IdTag;
use chargegrid_core::driver::IdTagStatus;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::common::IdToken;

/// `AuthorizationStatus` (the values chargegrid gives).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AuthorizationStatus {
    /// May charge.
    Accepted,
    /// Blocked.
    Blocked,
    /// Expired.
    Expired,
    /// Unknown or not allowed.
    Invalid,
    /// Already charging elsewhere.
    ConcurrentTx,
}

impl From<IdTagStatus> for AuthorizationStatus {
    fn from(s: IdTagStatus) -> Self {
        match s {
            IdTagStatus::Accepted => AuthorizationStatus::Accepted,
            IdTagStatus::Blocked => AuthorizationStatus::Blocked,
            IdTagStatus::Expired => AuthorizationStatus::Expired,
            IdTagStatus::Invalid => AuthorizationStatus::Invalid,
            IdTagStatus::ConcurrentTx => AuthorizationStatus::ConcurrentTx,
        }
    }
}

/// The central system's verdict on a token, version-neutral; rendered as either version's
/// info.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// The status.
    pub status: IdTagStatus,
    /// Until when a charger may cache it.
    pub expiry: Option<DateTime<Utc>>,
    /// The group the token belongs to.
    pub parent: Option<IdTag>,
}

/// 1.6 `IdTagInfo`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdTagInfo {
    /// The status.
    pub status: AuthorizationStatus,
    /// Cache expiry.
    #[serde(
        default,
        with = "crate::timestamp::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub expiry_date: Option<DateTime<Utc>>,
    /// The group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id_tag: Option<String>,
}

impl From<&Verdict> for IdTagInfo {
    fn from(v: &Verdict) -> Self {
        IdTagInfo {
            status: v.status.into(),
            expiry_date: v.expiry,
            parent_id_tag: v.parent.as_ref().map(|p| p.as_str().to_string()),
        }
    }
}

/// 2.0.1 `IdTokenInfoType`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdTokenInfo {
    /// The status.
    pub status: AuthorizationStatus,
    /// Cache expiry.
    #[serde(
        default,
        with = "crate::timestamp::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub cache_expiry_date_time: Option<DateTime<Utc>>,
    /// The group (issued by us: type Central).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id_token: Option<IdToken>,
}

impl From<&Verdict> for IdTokenInfo {
    fn from(v: &Verdict) -> Self {
        IdTokenInfo {
            status: v.status.into(),
            cache_expiry_date_time: v.expiry,
            group_id_token: v.parent.as_ref().map(|p| IdToken {
                id_token: p.as_str().to_string(),
                kind: "Central".into(),
            }),
        }
    }
}

/// 1.6 Authorize.conf.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizeResponse16 {
    /// The verdict.
    pub id_tag_info: IdTagInfo,
}

/// 2.0.1 AuthorizeResponse.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizeResponse201 {
    /// The verdict.
    pub id_token_info: IdTokenInfo,
}

/// 1.6 StartTransaction.conf.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartTransactionResponse {
    /// The transaction id the central system gives.
    pub transaction_id: i64,
    /// The verdict on the token.
    pub id_tag_info: IdTagInfo,
}

/// 1.6 StopTransaction.conf.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StopTransactionResponse {
    /// The verdict on the stopping token, when one was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_tag_info: Option<IdTagInfo>,
}

/// 2.0.1 TransactionEventResponse.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransactionEventResponse {
    /// The verdict on the event's token, when it had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token_info: Option<IdTokenInfo>,
}
