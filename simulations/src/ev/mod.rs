//! The EV side of a simulation: vehicles that arrive with a state of charge and an energy
//! need, plug in, and draw what their battery accepts within what the charger offers. The
//! physics is the [`crate::battery`] model (pack, taper, on-board charger, thermal mass)
//! stepped live instead of over a whole session, so a charging profile received mid-session
//! changes what the car draws from the next step on.

mod distribution;
mod live;
mod plan;
mod presets;

pub use chargegrid_acn::AcnSession;
pub use distribution::Distribution;
pub use live::{AC_VOLTS_NOMINAL, Draw, LiveEv};
pub use plan::EvPlan;
pub use presets::VehicleKind;
