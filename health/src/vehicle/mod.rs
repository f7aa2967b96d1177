//! Per-vehicle health: the state kept between sessions, the estimators that read it (state of
//! health, resistance index, acceptance, trend, usage stressors) and the alerts they raise.

mod acceptance;
mod alerts;
mod aux_load;
mod changepoint;
pub(crate) mod cold_bias;
mod context;
mod cv_check;
mod report;
mod resistance_index;
mod soh;
mod spec;
mod state;
mod stressors;
mod summary;
mod trend;

pub use acceptance::AcceptanceSummary;
pub use alerts::{Alert, AlertEpisode, AlertKind, Severity};
pub use aux_load::{AuxBin, AuxReference, aux_references};
pub use changepoint::{StepChange, detect_step};
pub use cold_bias::{ColdBias, ColdBiases, ColdBin};
pub use context::AssessContext;
pub use cv_check::{CvCheck, SocBin, SocOffset, SocReference, soc_references};
pub use report::{CohortComparison, SessionCounts, VehicleReport};
pub use resistance_index::{ResistanceIndex, resistance_medians};
pub(crate) use soh::soh_points;
pub use soh::{
    ConfidenceGrade, EstimateStatus, SohEstimate, SohMethod, SohPoint, WithheldReason, estimate_soh,
};
pub use spec::VehicleSpec;
pub use state::VehicleHealth;
pub use stressors::UsageStressors;
pub use summary::SessionSummary;
pub use trend::{TrendEstimate, ValueInterval};
