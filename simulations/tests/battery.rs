//! The synthetic battery: physics sanity, reproducibility, faults and reporting.

use chargegrid_core::meter::{Measurand, MeterLocation, ReadingContext};
use chargegrid_core::session::StopReason;
use chargegrid_core::{Amperes, Watts};
use chargegrid_simulations::battery::{
    BatteryError, ChargeKind, Fault, FleetScenario, PackSpec, ReportingProfile, SessionRequest,
    SyntheticEv, generate_fleet, simulate_session,
};
use chrono::{DateTime, Duration, TimeZone, Utc};
use proptest::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap()
}

fn ev() -> SyntheticEv {
    SyntheticEv::new("EV1", PackSpec::nmc_400v("Beta-77", 200.0), t0())
}

fn dc(arrival: f64, target: f64, interval: u32) -> SessionRequest {
    SessionRequest {
        started_at: t0(),
        kind: ChargeKind::Dc,
        charger_max_power: Watts(150_000.0),
        charger_max_current: Some(Amperes(500.0)),
        arrival_soc_pct: Some(arrival),
        target_soc_pct: target,
        departure: None,
        sample_interval_s: interval,
        ambient_c: 20.0,
        arrival_temperature_c: Some(25.0),
        charger_fault_abort: false,
    }
}

fn run(
    ev: &mut SyntheticEv,
    req: &SessionRequest,
    seed: u64,
) -> chargegrid_simulations::battery::SimulatedSession {
    simulate_session(
        ev,
        req,
        &ReportingProfile::default(),
        &mut StdRng::seed_from_u64(seed),
    )
    .unwrap()
}

#[test]
fn same_seed_same_session_other_seed_other_noise() {
    let a = run(&mut ev(), &dc(20.0, 80.0, 30), 7);
    let b = run(&mut ev(), &dc(20.0, 80.0, 30), 7);
    let c = run(&mut ev(), &dc(20.0, 80.0, 30), 8);
    assert_eq!(a, b);
    assert_ne!(a.readings, c.readings);
}

#[test]
fn readings_are_framed_and_sampled_at_the_interval() {
    let s = run(&mut ev(), &dc(20.0, 80.0, 15), 1);
    assert_eq!(s.readings[0].context, ReadingContext::TransactionBegin);
    assert_eq!(
        s.readings.last().unwrap().context,
        ReadingContext::TransactionEnd
    );
    assert_eq!(s.readings[0].current.0, 0.0);
    for w in s.readings[..s.readings.len() - 1].windows(2) {
        assert_eq!((w[1].at - w[0].at).num_seconds(), 15);
    }
    assert_eq!(s.stop_reason, StopReason::EvDisconnected);
    assert!(s.readings.last().unwrap().soc_pct.unwrap() >= 80.0);
}

#[test]
fn charge_energy_and_limits_are_physical() {
    let mut car = ev();
    let s = run(&mut car, &dc(15.0, 90.0, 10), 3);
    let (soc0, soc1) = s.true_soc_pct;
    // Charge into the battery is exactly the true SoC gained times the true capacity.
    assert!((s.charge_into_battery_ah - (soc1 - soc0) / 100.0 * s.truth.capacity_ah).abs() < 1e-6);
    let vmax = car.pack.max_pack_volts();
    for r in &s.readings {
        assert!(r.voltage.0 <= vmax + 1.0, "{} > {vmax}", r.voltage.0);
        assert!(r.power.0 <= 150_000.0 * 1.01 + 1000.0);
    }
    // Metered energy exceeds the charge times the mean OCV (losses and aux load).
    let regs: Vec<f64> = s.readings.iter().map(|r| r.energy_register.0).collect();
    assert!(regs.windows(2).all(|w| w[1] >= w[0]));
    assert!(s.energy_metered.0 > s.charge_into_battery_ah * car.pack.pack_ocv(0.15));
    // The taper shows as current steps at 50 %, 60 % … (manufacturer-like).
    let peak = s.readings.iter().map(|r| r.current.0).fold(0.0, f64::max);
    let late = s.readings.iter().rev().nth(3).unwrap().current.0;
    assert!(late < 0.5 * peak, "{late} vs {peak}");
    assert!(
        (car.soc - soc1 / 100.0).abs() < 1e-12,
        "the car keeps its SoC"
    );
    assert!(car.equivalent_full_cycles > 0.3);
}

#[test]
fn faults_show_in_reports_and_truth() {
    let mut car = ev();
    car.faults = vec![
        Fault::BmsSocError {
            at: t0(),
            scale: 1.1,
            offset: 0.0,
        },
        Fault::DeadTemperatureSensor {
            at: t0(),
            value: 21.0,
        },
        Fault::BatteryMalfunction { at: t0() },
        Fault::SpuriousAborts {
            at: t0(),
            probability: 1.0,
        },
        Fault::CapacityStep {
            at: t0(),
            drop_pct: 7.0,
        },
    ];
    let s = run(&mut car, &dc(20.0, 90.0, 10), 4);
    assert_eq!(s.stop_reason, StopReason::EvAbort);
    assert_eq!(s.ev_errors.len(), 1);
    assert!(
        s.readings
            .iter()
            .all(|r| r.temperature == Some((21.0, MeterLocation::Ev)))
    );
    assert!(
        (s.readings[0].soc_pct.unwrap() - 22.0).abs() < 1e-9,
        "20 % × 1.1"
    );
    assert!((s.truth.soh_pct - 93.0).abs() < 1e-9);

    let mut req = dc(20.0, 90.0, 10);
    req.charger_fault_abort = true;
    let s = run(&mut ev(), &req, 5);
    assert_eq!(s.stop_reason, StopReason::EvAbort);
    assert!(s.true_soc_pct.1 < 90.0);
}

#[test]
fn ac_sessions_report_grid_side_per_phase() {
    let mut req = dc(30.0, 80.0, 60);
    req.kind = ChargeKind::Ac { phases: 3 };
    req.charger_max_power = Watts(11_000.0);
    req.departure = Some(t0() + Duration::hours(10));
    let s = run(&mut ev(), &req, 6);
    let mid = &s.readings[s.readings.len() / 2];
    assert!(mid.soc_pct.is_none(), "no SoC on AC by default");
    assert!((mid.power.0 - 11_000.0).abs() < 300.0, "{}", mid.power.0);
    assert!((mid.current.0 - 11_000.0 / 690.0).abs() < 1.5);
    let samples = s.to_meter_samples();
    let currents = samples
        .iter()
        .filter(|m| m.timestamp == mid.at && m.measurand == Measurand::CurrentImport)
        .count();
    assert_eq!(currents, 3);
    assert!(samples.iter().all(|m| m.measurand != Measurand::SoC));
}

#[test]
fn dc_meter_samples_carry_every_measurand() {
    let s = run(&mut ev(), &dc(20.0, 60.0, 30), 9);
    let samples = s.to_meter_samples();
    for m in [
        Measurand::EnergyActiveImportRegister,
        Measurand::PowerActiveImport,
        Measurand::CurrentImport,
        Measurand::Voltage,
        Measurand::SoC,
        Measurand::Temperature,
        Measurand::PowerOffered,
        Measurand::CurrentOffered,
    ] {
        assert_eq!(
            samples.iter().filter(|x| x.measurand == m).count(),
            s.readings.len(),
            "{m}"
        );
    }
    let t = samples
        .iter()
        .find(|x| x.measurand == Measurand::Temperature)
        .unwrap();
    assert_eq!(t.location, MeterLocation::Ev);
}

#[test]
fn invalid_requests_are_refused() {
    let mut req = dc(20.0, 80.0, 0);
    let err = simulate_session(
        &mut ev(),
        &req,
        &ReportingProfile::default(),
        &mut StdRng::seed_from_u64(1),
    );
    assert!(matches!(err, Err(BatteryError::InvalidRequest(_))));
    req.sample_interval_s = 30;
    req.target_soc_pct = 120.0;
    assert!(
        simulate_session(
            &mut ev(),
            &req,
            &ReportingProfile::default(),
            &mut StdRng::seed_from_u64(1)
        )
        .is_err()
    );
}

#[test]
fn fleet_is_reproducible_and_time_ordered() {
    let sc = FleetScenario {
        vehicles: 6,
        sessions_per_vehicle: 4,
        seed: 42,
        ..Default::default()
    };
    let a = generate_fleet(&sc).unwrap();
    let b = generate_fleet(&sc).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.sessions.len(), 24);
    assert!(
        a.sessions
            .windows(2)
            .all(|w| w[0].session.ended_at <= w[1].session.ended_at)
    );
    assert_eq!(a.final_truth.len(), 6);
    // Vehicle 1 carries a capacity step; vehicle 3 a resistance jump.
    assert!(matches!(
        a.vehicles[1].faults[0],
        Fault::CapacityStep { .. }
    ));
    assert!(matches!(
        a.vehicles[3].faults[0],
        Fault::ResistanceJump { .. }
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn any_session_is_monotone_and_within_its_time(
        arrival in 5.0f64..60.0,
        extra in 10.0f64..35.0,
        interval in 10u32..=60,
        seed in 0u64..1000,
    ) {
        let target = (arrival + extra).min(98.0);
        let s = run(&mut ev(), &dc(arrival, target, interval), seed);
        let regs: Vec<f64> = s.readings.iter().map(|r| r.energy_register.0).collect();
        prop_assert!(regs.windows(2).all(|w| w[1] >= w[0]));
        let socs: Vec<f64> = s.readings.iter().filter_map(|r| r.soc_pct).collect();
        prop_assert!(socs.windows(2).all(|w| w[1] >= w[0]));
        prop_assert!(s.readings.iter().all(|r| r.at >= t0() && r.at <= s.ended_at));
        prop_assert!(s.true_soc_pct.1 >= s.true_soc_pct.0);
    }
}
