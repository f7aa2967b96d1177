//! Quality flags: every feature and estimate says how far it can be trusted and why.

use serde::{Deserialize, Serialize};

/// How far a value can be trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Quality {
    /// Usable as is.
    Good,
    /// Usable with care (shown, weighted down, or used only where nothing better exists).
    Limited,
    /// Not to be used; the value (if any) is informative only.
    Unusable,
}

/// Why a value is not `Good`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QualityReason {
    /// AC session: current, voltage and energy are grid-side, not the battery's.
    AcGridSide,
    /// No state of charge was reported.
    MissingSoc,
    /// The SoC window is narrower than the configured minimum.
    NarrowSocWindow,
    /// Too few samples for the feature.
    FewSamples,
    /// No energy register; energy was integrated from power.
    NoEnergyRegister,
    /// No DC current reported.
    MissingCurrent,
    /// No DC voltage reported.
    MissingVoltage,
    /// No current step large enough for a resistance estimate.
    NoCurrentStep,
    /// No battery (EV-located) temperature; the value is not temperature-corrected.
    NoEvTemperature,
    /// The only temperature reported is the charger's (Body, Outlet, Cable, Inlet).
    TemperatureNotFromEv,
    /// The EV temperature did not move during a long session (dead sensor?).
    TemperatureStuck,
    /// The EV temperature is outside a plausible range.
    TemperatureImplausible,
    /// Neither offered current nor offered power was sampled.
    NoOfferedValue,
    /// The charger, not the EV, limited the power.
    ChargerLimited,
    /// No taper was observed in the session.
    NoTaper,
    /// The session did not cover the SoC range (e.g. 20 → 80 %).
    WindowNotCovered,
    /// The energy register went back to (near) zero during the session.
    MeterReset,
    /// The energy register decreased during the session.
    NonMonotonicRegister,
    /// Power looks like kW sent while W was declared.
    KwAsWSuspected,
    /// Energy looks like kWh sent while Wh was declared.
    KwhAsWhSuspected,
    /// The median sampling interval is longer than 60 s.
    SparseSampling,
    /// There is a long gap between samples.
    SamplingGap,
    /// The SoC jumped or fell during the session.
    SocDiscontinuity,
    /// SoC does not follow charge linearly (poor fit).
    PoorSocFit,
    /// The pack voltage was inferred from charging data, not given by the model's spec.
    InferredVoltage,
    /// Fewer sessions than the minimum for a confident figure.
    FewSessions,
    /// The estimate covers only the sessions since a step change.
    SinceStepChange,
    /// Vehicle has only AC sessions: energy-based estimate with an assumed charger efficiency.
    AcEnergyBased,
}

/// A quality grade with its reasons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QualityFlag {
    /// The grade.
    pub quality: Quality,
    /// Why it is not `Good` (empty when it is).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<QualityReason>,
}

impl QualityFlag {
    /// A good value.
    pub fn good() -> Self {
        Self {
            quality: Quality::Good,
            reasons: Vec::new(),
        }
    }

    /// A value that must not be used, for one reason.
    pub fn unusable(reason: QualityReason) -> Self {
        Self {
            quality: Quality::Unusable,
            reasons: vec![reason],
        }
    }

    /// Lowers the grade to at least `quality` and records the reason (once).
    pub fn degrade(&mut self, quality: Quality, reason: QualityReason) {
        self.quality = self.quality.max(quality);
        if !self.reasons.contains(&reason) {
            self.reasons.push(reason);
        }
    }

    /// Whether the value may be used at all.
    pub fn usable(&self) -> bool {
        self.quality != Quality::Unusable
    }
}

impl Default for QualityFlag {
    fn default() -> Self {
        Self::good()
    }
}
