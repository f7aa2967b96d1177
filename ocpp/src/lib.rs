//! chargegrid's OCPP codec: OCPP-J framing (CALL / CALLRESULT / CALLERROR), RPC error codes
//! for 1.6 and 2.0.1, and (as the gateway grows) schema validation and the mapping between
//! protocol payloads and the version-neutral domain model. No sockets: the gateway and the
//! simulators both build on it.

pub mod actions;
pub mod commands;
pub mod decode;
pub mod error_code;
pub mod frame;
#[cfg(test)]
mod frame_props;
pub mod messages;
pub mod schema;
pub mod timestamp;
pub mod v16;
pub mod v201;

pub use chargegrid_core::network::OcppVersion;
pub use error_code::ErrorCode;
pub use frame::{Call, CallError, CallResult, Frame, FrameError};
