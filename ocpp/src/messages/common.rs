//! Types several actions share: 2.0.1's `IdTokenType` and `EVSEType`.

use chargegrid_core::IdTag;
use serde::{Deserialize, Serialize};

/// 2.0.1 `IdTokenType`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdToken {
    /// The token text.
    pub id_token: String,
    /// Its kind (ISO14443, eMAID, Central, ...).
    #[serde(rename = "type")]
    pub kind: String,
}

impl IdToken {
    /// The token for a tag we send: one that looks like an RFID UID (hex, 8/14/20 digits) is
    /// ISO14443; any other is Central (issued by the CSMS, e.g. the app's remote start).
    pub fn of(tag: &IdTag) -> Self {
        let text = tag.as_str();
        let rfid = matches!(text.len(), 8 | 14 | 20) && text.chars().all(|c| c.is_ascii_hexdigit());
        IdToken {
            id_token: text.to_string(),
            kind: if rfid { "ISO14443" } else { "Central" }.into(),
        }
    }
}

/// 2.0.1 `EVSEType`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Evse {
    /// EVSE id.
    pub id: u32,
    /// Connector id on the EVSE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connector_id: Option<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_get_a_plausible_type() {
        assert_eq!(
            IdToken::of(&IdTag::new("04E91C2A").unwrap()).kind,
            "ISO14443"
        );
        assert_eq!(
            IdToken::of(&IdTag::new("app-driver-17").unwrap()).kind,
            "Central"
        );
    }
}
