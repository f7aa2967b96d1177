//! Units the domain core does not have yet: electrical resistance.

use serde::{Deserialize, Serialize};

/// Resistance in ohms (a pack's DC internal resistance).
#[derive(Debug, Clone, Copy, Default, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Ohms(pub f64);

impl Ohms {
    /// The bare number, in ohms.
    pub const fn value(self) -> f64 {
        self.0
    }

    /// In milliohms, for display.
    pub fn milliohms(self) -> f64 {
        self.0 * 1000.0
    }
}
