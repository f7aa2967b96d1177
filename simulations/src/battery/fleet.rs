//! A synthetic fleet: vehicles of a few models with random ageing, a known share with injected
//! faults, driving between sessions and charging at a network that includes one faulty charger
//! (which ends sessions early and reports them as EV aborts). Reproducible from one seed.

use super::ageing::{AgeingModel, Fault, GroundTruth};
use super::error::BatteryError;
use super::noise::gauss;
use super::pack::PackSpec;
use super::reporting::ReportingProfile;
use super::session::{ChargeKind, SessionRequest, SimulatedSession, simulate_session};
use super::vehicle::SyntheticEv;
use chargegrid_core::meter::MeterLocation;
use chargegrid_core::{Amperes, Watts};
use chrono::{DateTime, Duration, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

/// The charger that misreports its own aborts as the EV's.
pub const FAULTY_CHARGER: &str = "CH-FAULTY";

/// What fleet to generate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FleetScenario {
    /// Vehicles.
    pub vehicles: usize,
    /// Sessions per vehicle.
    pub sessions_per_vehicle: usize,
    /// Share of sessions on DC.
    pub dc_share: f64,
    /// Regular chargers in the network.
    pub chargers: usize,
    /// Share of sessions at the faulty charger.
    pub faulty_charger_share: f64,
    /// Start of the simulated period.
    pub start: DateTime<Utc>,
    /// RNG seed.
    pub seed: u64,
}

impl Default for FleetScenario {
    fn default() -> Self {
        Self {
            vehicles: 50,
            sessions_per_vehicle: 30,
            dc_share: 0.85,
            chargers: 12,
            faulty_charger_share: 0.05,
            start: DateTime::<Utc>::UNIX_EPOCH + Duration::days(20_454),
            seed: 1,
        }
    }
}

/// One session of the fleet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FleetSession {
    /// Index into [`SyntheticFleet::vehicles`].
    pub vehicle: usize,
    /// Charger id.
    pub charger: String,
    /// The session.
    pub session: SimulatedSession,
}

/// A generated fleet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyntheticFleet {
    /// The vehicles, in their final state (faults listed with their start times).
    pub vehicles: Vec<SyntheticEv>,
    /// All sessions, in the order they ended.
    pub sessions: Vec<FleetSession>,
    /// Each vehicle's truth at the end of its last session.
    pub final_truth: Vec<GroundTruth>,
}

fn model(i: usize) -> PackSpec {
    match i % 3 {
        0 => PackSpec::nmc_400v("Alpha-60", 165.0),
        1 => PackSpec::nmc_400v("Beta-77", 210.0),
        _ => {
            let mut p = PackSpec::nmc_400v("Gamma-LFP", 180.0);
            p.chemistry = super::chemistry::Chemistry::Lfp;
            p.series_cells = 120;
            p
        }
    }
}

fn faults_for(i: usize, start: DateTime<Utc>, days: i64, rng: &mut StdRng) -> (Vec<Fault>, f64) {
    let mid = |rng: &mut StdRng| start + Duration::days(rng.random_range(days / 3..2 * days / 3));
    let mut soh0 = rng.random_range(84.0..100.0);
    let f = match i % 10 {
        1 => vec![Fault::CapacityStep {
            at: mid(rng),
            drop_pct: rng.random_range(5.0..10.0),
        }],
        3 => vec![Fault::ResistanceJump {
            at: mid(rng),
            factor: rng.random_range(1.5..1.9),
        }],
        5 => vec![Fault::SpuriousAborts {
            at: mid(rng),
            probability: 0.5,
        }],
        7 => {
            soh0 = rng.random_range(72.0..79.0);
            Vec::new()
        }
        9 if i % 20 == 9 => vec![Fault::BatteryMalfunction { at: mid(rng) }],
        9 => vec![Fault::DeadTemperatureSensor {
            at: start,
            value: 21.0,
        }],
        _ if i % 25 == 12 => vec![Fault::BmsSocError {
            at: start,
            scale: 1.08,
            offset: 0.0,
        }],
        _ => Vec::new(),
    };
    (f, soh0)
}

/// Generates a fleet. Vehicle `i` gets a fault by `i mod 10`: 1 capacity step, 3 resistance
/// jump, 5 spurious aborts, 7 low SoH (72–79 %), 9 battery malfunction code or dead
/// temperature sensor; every 25th (from 12) a BMS SoC scale error.
pub fn generate_fleet(s: &FleetScenario) -> Result<SyntheticFleet, BatteryError> {
    let mut rng = StdRng::seed_from_u64(s.seed);
    let gains: Vec<f64> = (0..s.chargers)
        .map(|_| 1.0 + 0.003 * gauss(&mut rng))
        .collect();
    let days = (s.sessions_per_vehicle as i64 * 9).max(30);
    let mut vehicles = Vec::new();
    let mut sessions = Vec::new();
    let mut final_truth = Vec::new();
    for i in 0..s.vehicles {
        let mut pack = model(i);
        pack.aux_load = Watts(rng.random_range(150.0..700.0));
        pack.resistance_25c_ohm *= rng.random_range(0.85..1.2);
        let mut ev = SyntheticEv::new(
            format!("EV{i:03}"),
            pack,
            s.start - Duration::days(rng.random_range(0..900)),
        );
        let (faults, soh0) = faults_for(i, s.start, days, &mut rng);
        // Ageing before the window is folded into the SoH at the window's start.
        let age_m = (s.start - ev.commissioned_at).num_days() as f64 / 30.436_875;
        ev.ageing = AgeingModel {
            fade_pct_per_month: rng.random_range(0.05..0.25),
            fade_pct_per_cycle: rng.random_range(0.0..0.006),
            resistance_growth_per_month: rng.random_range(0.0..0.004),
            resistance_growth_per_cycle: 0.0,
        };
        ev.initial_soh_pct = soh0 + ev.ageing.fade_pct_per_month * age_m;
        ev.faults = faults;
        ev.soc = rng.random_range(0.3..0.8);
        let mut t = s.start + Duration::hours(rng.random_range(0..96));
        let mut last_end = t;
        for _ in 0..s.sessions_per_vehicle {
            let arrival = rng.random_range(8.0..35.0);
            let km = ((ev.soc * 100.0 - arrival).max(0.0) / 100.0) * ev.truth_at(t).capacity_wh
                / ev.consumption_wh_per_km;
            ev.drive(km, t);
            let dc = rng.random_bool(s.dc_share);
            let faulty = rng.random_bool(s.faulty_charger_share);
            let c = rng.random_range(0..s.chargers);
            let charger = if faulty {
                FAULTY_CHARGER.to_string()
            } else {
                format!("CH{c:02}")
            };
            let ambient = rng.random_range(-5.0..32.0);
            let req = SessionRequest {
                started_at: t,
                kind: if dc {
                    ChargeKind::Dc
                } else {
                    ChargeKind::Ac { phases: 3 }
                },
                charger_max_power: Watts(if dc {
                    [50_000.0, 150_000.0, 300_000.0][rng.random_range(0..3)]
                } else {
                    11_000.0
                }),
                charger_max_current: dc.then_some(Amperes(500.0)),
                arrival_soc_pct: None,
                target_soc_pct: rng.random_range(80.0..95.0),
                departure: (!dc).then(|| t + Duration::hours(rng.random_range(3..12))),
                sample_interval_s: [10, 15, 30, 60][rng.random_range(0..4)],
                ambient_c: ambient,
                arrival_temperature_c: Some(ambient + rng.random_range(2.0..15.0)),
                charger_fault_abort: faulty && rng.random_bool(0.6),
            };
            let profile = ReportingProfile {
                meter_gain: if faulty { 1.0 } else { gains[c] },
                temperature_location: Some(MeterLocation::Ev),
                soc_on_ac: i % 7 == 0,
                ..ReportingProfile::default()
            };
            let session = simulate_session(&mut ev, &req, &profile, &mut rng)?;
            last_end = session.ended_at;
            t = session.ended_at + Duration::hours(rng.random_range(5 * 24..10 * 24));
            sessions.push(FleetSession {
                vehicle: i,
                charger,
                session,
            });
        }
        final_truth.push(ev.truth_at(last_end));
        vehicles.push(ev);
    }
    sessions.sort_by_key(|s| s.session.ended_at);
    Ok(SyntheticFleet {
        vehicles,
        sessions,
        final_truth,
    })
}
