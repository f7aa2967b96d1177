//! End-to-end accuracy on a synthetic fleet generated here (health cannot depend on the
//! simulations crate): sessions of all vehicles are processed in the order they end, as the
//! gateway would, with suspect chargers recomputed from the fleet as it goes. Bounds are
//! generous; the exact figures are printed (`--nocapture`) for the benchmarks document.

use crate::support::synth::{SynthFleet, SynthVehicle, fleet};
use chargegrid_core::VehicleId;
use chargegrid_health::fleet::suspect_chargers;
use chargegrid_health::validation::{TrueCondition, VehicleOutcome, VehicleTruth, evaluate};
use chargegrid_health::{
    AlertKind, AssessContext, FleetReport, HealthConfig, SohMethod, VehicleHealth, session_features,
};
use std::collections::BTreeMap;

const SCORED: [AlertKind; 5] = [
    AlertKind::SohBelowThreshold,
    AlertKind::CapacityStepDrop,
    AlertKind::ResistanceIncrease,
    AlertKind::RepeatedEvAborts,
    AlertKind::BatteryMalfunctionCode,
];

struct Run {
    states: BTreeMap<VehicleId, VehicleHealth>,
    truths: Vec<VehicleTruth>,
}

fn truth_of(v: &SynthVehicle, sessions: &[crate::support::synth::SynthSession]) -> VehicleTruth {
    let at = |k: usize| sessions[k].ctx.ended_at.unwrap();
    let mut conditions = Vec::new();
    if let Some(k) = sessions.iter().position(|s| s.true_soh < 80.0) {
        conditions.push(TrueCondition {
            kind: AlertKind::SohBelowThreshold,
            onset: at(k),
        });
    }
    if let Some((k, _)) = v.step {
        conditions.push(TrueCondition {
            kind: AlertKind::CapacityStepDrop,
            onset: at(k),
        });
    }
    let mut base: Vec<f64> = sessions.iter().take(5).map(|s| s.true_r25).collect();
    base.sort_by(f64::total_cmp);
    if let Some(k) = sessions.iter().position(|s| s.true_r25 / base[2] >= 1.3) {
        conditions.push(TrueCondition {
            kind: AlertKind::ResistanceIncrease,
            onset: at(k),
        });
    }
    if let Some(k) = v.aborts_from {
        conditions.push(TrueCondition {
            kind: AlertKind::RepeatedEvAborts,
            onset: at(k),
        });
    }
    if let Some(k) = v.malfunction_at {
        conditions.push(TrueCondition {
            kind: AlertKind::BatteryMalfunctionCode,
            onset: at(k),
        });
    }
    VehicleTruth {
        vehicle: v.spec.vehicle.clone(),
        soh_pct: sessions.last().unwrap().true_soh,
        trend_pct_per_month: Some(-v.fade_per_month),
        conditions,
    }
}

fn run(f: &SynthFleet, cfg: &HealthConfig) -> Run {
    let mut states: BTreeMap<VehicleId, VehicleHealth> = f
        .vehicles
        .iter()
        .map(|(v, _)| (v.spec.vehicle.clone(), VehicleHealth::new(v.spec.clone())))
        .collect();
    let mut all: Vec<&crate::support::synth::SynthSession> =
        f.vehicles.iter().flat_map(|(_, s)| s.iter()).collect();
    all.sort_by_key(|s| s.ctx.ended_at);
    for s in all {
        let feats = session_features(&s.samples, &s.ctx, cfg).unwrap();
        let ctx = AssessContext {
            suspect_chargers: suspect_chargers(states.values(), 3, 0.2),
            ..AssessContext::default()
        };
        let vid = s.ctx.vehicle.clone().unwrap();
        states
            .get_mut(&vid)
            .unwrap()
            .update(&feats, &ctx, cfg)
            .unwrap();
    }
    let truths = f.vehicles.iter().map(|(v, s)| truth_of(v, s)).collect();
    Run { states, truths }
}

fn outcomes(r: &Run, cfg: &HealthConfig) -> (Vec<VehicleOutcome>, FleetReport) {
    let ctx = AssessContext {
        suspect_chargers: suspect_chargers(r.states.values(), 3, 0.2),
        ..AssessContext::default()
    };
    let mut out = Vec::new();
    let mut reports = Vec::new();
    for st in r.states.values() {
        let rep = st.report(&ctx, cfg);
        let mut raised: Vec<(AlertKind, chrono::DateTime<chrono::Utc>)> = Vec::new();
        for e in st.episodes() {
            if !raised.iter().any(|(k, _)| *k == e.kind) {
                raised.push((e.kind, e.raised_at));
            }
        }
        out.push(VehicleOutcome {
            vehicle: st.spec.vehicle.clone(),
            soh: rep.soh.clone(),
            trend_pct_per_month: rep.trend.pct_per_month.map(|t| t.value),
            raised,
        });
        reports.push(rep);
    }
    let at = reports.iter().filter_map(|r| r.as_of).max().unwrap();
    (out, FleetReport::build(None, at, reports))
}

#[test]
fn synthetic_fleet_meets_accuracy_targets() {
    let cfg = HealthConfig::default();
    let f = fleet(60, 26, 20_261_108);
    let r = run(&f, &cfg);
    let (outs, report) = outcomes(&r, &cfg);
    let fig = evaluate(&r.truths, &outs, &SCORED).unwrap();
    println!("validation figures: {fig:#?}");
    for (t, o) in r.truths.iter().zip(&outs) {
        let miss = o
            .raised
            .iter()
            .filter(|(k, _)| SCORED.contains(k) && !t.conditions.iter().any(|c| c.kind == *k))
            .count();
        let unseen = t
            .conditions
            .iter()
            .filter(|c| !o.raised.iter().any(|(k, _)| *k == c.kind))
            .count();
        let err = o.soh.value().map(|v| v - t.soh_pct);
        if miss + unseen > 0
            || err.is_some_and(|e| e.abs() > 1.5)
            || o.soh.covers(t.soh_pct) == Some(false)
        {
            println!(
                "{}: err {err:?} soh {:?} [{:?}, {:?}] truth {:.2} raised {:?} truth {:?}",
                t.vehicle,
                o.soh.soh_pct,
                o.soh.low_pct,
                o.soh.high_pct,
                t.soh_pct,
                o.raised,
                t.conditions.iter().map(|c| c.kind).collect::<Vec<_>>()
            );
        }
    }
    assert_eq!(fig.vehicles, 60);
    assert!(fig.insufficient_share <= 0.05, "{fig:?}");
    assert!(fig.soh_mae.unwrap() <= 1.5, "{fig:?}");
    assert!(fig.interval_coverage.unwrap() >= 0.75, "{fig:?}");
    assert!(fig.trend_mae.unwrap() <= 0.25, "{fig:?}");
    assert!(fig.alert_precision.unwrap() >= 0.8, "{fig:?}");
    assert!(fig.alert_recall.unwrap() >= 0.8, "{fig:?}");
    assert!(
        report
            .vehicles
            .iter()
            .all(|v| v.soh.method == SohMethod::DcCharge)
    );
}
