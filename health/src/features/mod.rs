//! Per-session features: everything one charging session says about the battery, each with a
//! quality flag, serialisable as one JSON document per session.

mod acceptance;
mod anomalies;
mod capacity;
mod context;
mod data_quality;
mod energy;
mod resistance;
mod series;
mod stressors;
mod thermal;
mod top_of_charge;

pub use acceptance::AcceptanceFeature;
pub use anomalies::{AnomalyEvent, AnomalyKind, EvErrorClass, classify_ev_error};
pub use capacity::CapacityFeature;
pub use context::{EvErrorReport, SessionContext, StatusChange};
pub use data_quality::DataQuality;
pub use energy::EnergyFeature;
pub use resistance::{ResistanceFeature, ResistanceStep};
pub use stressors::{HIGH_POWER, SessionStressors};
pub use thermal::ThermalFeature;
pub use top_of_charge::TopPoint;

use crate::config::HealthConfig;
use crate::error::HealthError;
use chargegrid_core::meter::MeterSample;
use chargegrid_core::session::StopReason;
use chargegrid_core::{ChargerId, SessionId, VehicleId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Everything one session says about the battery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionFeatures {
    /// The session.
    pub session: SessionId,
    /// The vehicle, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vehicle: Option<VehicleId>,
    /// The charger.
    pub charger: ChargerId,
    /// DC or AC.
    pub dc: bool,
    /// Start (UTC).
    pub started_at: DateTime<Utc>,
    /// End (UTC): the context's, else the last sample's.
    pub ended_at: DateTime<Utc>,
    /// Why it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_reason: Option<StopReason>,
    /// Odometer at plug-in, km.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub odometer_km: Option<f64>,
    /// Energy and charge vs ΔSoC.
    pub energy: EnergyFeature,
    /// Capacity estimate.
    pub capacity: CapacityFeature,
    /// DC resistance from current steps.
    pub resistance: ResistanceFeature,
    /// Charge acceptance.
    pub acceptance: AcceptanceFeature,
    /// Temperature rise.
    pub thermal: ThermalFeature,
    /// Anomalies.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub anomalies: Vec<AnomalyEvent>,
    /// Data quality.
    pub data_quality: DataQuality,
    /// Usage stressors.
    pub stressors: SessionStressors,
    /// DC samples above 60 % SoC (for the BMS SoC check).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub top_of_charge: Vec<TopPoint>,
}

impl SessionFeatures {
    /// Whether the EV (not the driver or the charger) ended the session.
    pub fn ev_abort(&self) -> bool {
        self.anomalies
            .iter()
            .any(|a| a.kind == AnomalyKind::EvAbort)
    }

    /// Whether any anomaly of `kind` was seen.
    pub fn has_anomaly(&self, kind: AnomalyKind) -> bool {
        self.anomalies.iter().any(|a| a.kind == kind)
    }
}

/// Computes the features of one session from its meter samples (in any order) and context.
/// Only malformed inputs are errors; poor data comes back as quality flags.
pub fn session_features(
    samples: &[MeterSample],
    ctx: &SessionContext,
    cfg: &HealthConfig,
) -> Result<SessionFeatures, HealthError> {
    if samples.is_empty() {
        return Err(HealthError::NoSamples(ctx.session.to_string()));
    }
    if ctx.ended_at.is_some_and(|e| e < ctx.started_at) {
        return Err(HealthError::EndsBeforeStart(ctx.session.to_string()));
    }
    let series = chargegrid_core::meter::MeterSeries::from_samples(samples);
    let cum = energy::cumulative(&series, ctx);
    let energy = energy::energy_feature(&series, &cum);
    let mut data_quality = data_quality::data_quality(&series, &cum);
    if ctx.dc {
        if !series.points.iter().any(|p| p.current.is_some()) {
            data_quality.flag.degrade(
                crate::Quality::Limited,
                crate::QualityReason::MissingCurrent,
            );
        }
        if !series.points.iter().any(|p| p.voltage.is_some()) {
            data_quality.flag.degrade(
                crate::Quality::Limited,
                crate::QualityReason::MissingVoltage,
            );
        }
    }
    let anomalies = anomalies::anomalies(&series, &cum.energy, &energy, ctx, ctx.dc);
    let soc_discontinuity = anomalies
        .iter()
        .any(|a| matches!(a.kind, AnomalyKind::SocJump | AnomalyKind::SocDrop));
    let mut capacity = capacity::capacity_feature(&series, &cum, ctx.dc, soc_discontinuity, cfg);
    if data_quality.kwh_as_wh_suspected {
        capacity.flag.degrade(
            crate::Quality::Unusable,
            crate::QualityReason::KwhAsWhSuspected,
        );
    }
    let thermal = thermal::thermal_feature(&series, energy.energy.0);
    let resistance =
        resistance::resistance_feature(&series, ctx.dc, thermal.temperatures_usable(), cfg);
    let acceptance = acceptance::acceptance_feature(&series);
    let stressors = stressors::stressors(&series, &cum.energy);
    let top_of_charge = top_of_charge::top_of_charge(&series, ctx.dc);
    let ended_at = ctx
        .ended_at
        .or(series.points.last().map(|p| p.at))
        .unwrap_or(ctx.started_at);
    Ok(SessionFeatures {
        session: ctx.session.clone(),
        vehicle: ctx.vehicle.clone(),
        charger: ctx.charger.clone(),
        dc: ctx.dc,
        started_at: ctx.started_at,
        ended_at,
        stop_reason: ctx.stop_reason.clone(),
        odometer_km: ctx.odometer_km,
        energy,
        capacity,
        resistance,
        acceptance,
        thermal,
        anomalies,
        data_quality,
        stressors,
        top_of_charge,
    })
}
