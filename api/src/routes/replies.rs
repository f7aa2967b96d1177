//! What a charger's answer to a command means for an API caller: the answer when the charger
//! took the command on, or the problem for every other outcome (refused 409, CALLERROR 502, not
//! connected 503, no answer 504, no form in its OCPP version as the caller's route decides).

use axum::http::StatusCode;
use chargegrid_core::command::{CommandReply, ReplyDetails};

use crate::Problem;

/// Statuses that mean the charger took the command on.
const TAKEN_ON: &[&str] = &["Accepted", "Scheduled", "Unlocked", "RebootRequired"];

/// The answer's status and details when the charger took `what` on; otherwise the problem
/// (`unsupported` is the status for a command with no form in the charger's version).
pub(crate) fn taken_on(
    reply: CommandReply,
    what: &str,
    unsupported: StatusCode,
) -> Result<(Option<String>, Option<ReplyDetails>), Problem> {
    match reply {
        CommandReply::Result { status, details } => match status.as_deref() {
            Some(s) if !TAKEN_ON.contains(&s) => Err(Problem::conflict(
                "charger-refused",
                format!("the charger answered {s} to {what}"),
            )),
            _ => Ok((status, details)),
        },
        CommandReply::CallError { code, description } => Err(Problem::charger(
            StatusCode::BAD_GATEWAY,
            "charger-error",
            format!("{what}: {code} {description}"),
        )),
        CommandReply::Timeout => Err(Problem::charger(
            StatusCode::GATEWAY_TIMEOUT,
            "charger-timeout",
            format!("the charger did not answer {what} in time"),
        )),
        CommandReply::Offline => Err(Problem::charger(
            StatusCode::SERVICE_UNAVAILABLE,
            "charger-offline",
            "the charger is not connected",
        )),
        CommandReply::Unsupported { reason } => {
            Err(Problem::charger(unsupported, "charger-unsupported", reason))
        }
    }
}
