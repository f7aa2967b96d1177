//! Renders version-neutral [`ChargerCommand`]s as OCPP CALLs (action and payload) for the
//! charger's version.

use chargegrid_core::command::ChargerCommand;
use serde_json::Value;

use crate::OcppVersion;

/// The action and payload for `command` on a charger speaking `version`, or why it cannot be
/// expressed.
pub fn render(version: OcppVersion, command: &ChargerCommand) -> Result<(String, Value), String> {
    match version {
        OcppVersion::V16 => crate::v16::commands::render(command),
        OcppVersion::V201 => crate::v201::commands::render(command),
    }
}
