//! What a driver's or fleet's card may be: an RFID UID as chargers send it.

use chargegrid_core::IdTag;

use crate::Problem;

/// An RFID card UID as chargers send it (OCPP 1.6 allows 20 characters, the tighter limit).
pub(crate) fn card(text: &str) -> Result<IdTag, Problem> {
    IdTag::new(text.trim())
        .ok()
        .filter(|t| t.as_str().len() <= 20)
        .ok_or_else(|| Problem::invalid_body("id_tag must be 1 to 20 printable characters"))
}
