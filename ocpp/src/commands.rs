//! Renders version-neutral [`ChargerCommand`]s as OCPP CALLs (action and payload) for the
//! charger's version.

use chargegrid_core::command::ChargerCommand;
use serde_json::Value;

use crate::OcppVersion;

/// The action and payload for `command` on a charger speaking `version`, or why it cannot be
/// expressed.
pub fn render(version: OcppVersion, command: &ChargerCommand) -> Result<(String, Value), String> {
    match command {
        ChargerCommand::Raw { action, payload } => {
            if crate::actions::known(action).is_none() {
                return Err(format!("unknown action {action}"));
            }
            Ok((action.clone(), payload.clone()))
        }
        other => Err(format!(
            "command {} is not yet rendered for OCPP {}",
            other.name(),
            version.label()
        )),
    }
}
