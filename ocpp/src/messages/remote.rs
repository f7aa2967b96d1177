//! Remote start and stop: 1.6 RemoteStartTransaction / RemoteStopTransaction, 2.0.1
//! RequestStartTransaction / RequestStopTransaction.

use serde::{Deserialize, Serialize};

use super::charging::ChargingProfile;
use super::common::IdToken;

/// 1.6 RemoteStartTransaction.req.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemoteStartTransaction {
    /// Connector; the charger picks when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connector_id: Option<u32>,
    /// The token.
    pub id_tag: String,
    /// An initial TxProfile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charging_profile: Option<ChargingProfile>,
}

/// 2.0.1 RequestStartTransactionRequest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestStartTransaction {
    /// EVSE; the station picks when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evse_id: Option<u32>,
    /// Correlates the transaction's events with this request.
    pub remote_start_id: i32,
    /// The token.
    pub id_token: IdToken,
    /// An initial TxProfile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charging_profile: Option<ChargingProfile>,
}

/// 1.6 RemoteStopTransaction.req.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemoteStopTransaction {
    /// The transaction.
    pub transaction_id: i64,
}

/// 2.0.1 RequestStopTransactionRequest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestStopTransaction {
    /// The transaction.
    pub transaction_id: String,
}
