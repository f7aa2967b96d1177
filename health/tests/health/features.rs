//! Session features on known curves, with exact expected values.

use crate::support::{Row, constant_current_rows, ctx, samples, t0};
use chargegrid_core::WattHours;
use chargegrid_core::network::ConnectorStatus;
use chargegrid_core::session::StopReason;
use chargegrid_health::features::{AnomalyKind, EvErrorClass, EvErrorReport, classify_ev_error};
use chargegrid_health::{
    HealthConfig, HealthError, Quality, QualityReason, SessionFeatures, StatusChange,
    session_features,
};
use chrono::Duration;

fn features(rows: &[Row], dc: bool) -> SessionFeatures {
    let secs = rows.last().map_or(0.0, |r| r.t_s);
    session_features(
        &samples(t0(), rows),
        &ctx("S1", "C1", dc, t0(), secs),
        &HealthConfig::default(),
    )
    .unwrap()
}

fn close(a: f64, b: f64, tol: f64) {
    assert!((a - b).abs() <= tol, "{a} != {b} (±{tol})");
}

#[test]
fn constant_current_linear_soc_gives_exact_capacity() {
    // 100 A at 400 V for one hour, SoC 20 → 70 %: 100 Ah and 40 kWh over 50 points.
    let rows = constant_current_rows(61, 60.0, 100.0, 400.0, 20.0, 50.0 / 60.0);
    let f = features(&rows, true);
    close(f.energy.energy.0, 40_000.0, 1e-6);
    close(f.energy.charge_ah.unwrap(), 100.0, 1e-9);
    close(f.energy.delta_soc.unwrap(), 50.0, 1e-9);
    close(f.capacity.ah_per_full.unwrap(), 200.0, 1e-6);
    close(f.capacity.wh_per_full.unwrap().0, 80_000.0, 1e-4);
    close(f.capacity.mean_voltage.unwrap().0, 400.0, 1e-9);
    close(f.capacity.soc_fit_rms.unwrap(), 0.0, 1e-9);
    assert_eq!(f.capacity.flag.quality, Quality::Good);
    assert_eq!(f.data_quality.median_interval_s, Some(60.0));
}

#[test]
fn narrow_window_or_ac_is_flagged_not_hidden() {
    let narrow = constant_current_rows(21, 60.0, 100.0, 400.0, 40.0, 1.0);
    let f = features(&narrow, true);
    assert_eq!(f.capacity.flag.quality, Quality::Unusable);
    assert!(
        f.capacity
            .flag
            .reasons
            .contains(&QualityReason::NarrowSocWindow)
    );
    assert!(
        f.capacity.ah_per_full.is_some(),
        "the value is still reported"
    );

    let mut ac = constant_current_rows(61, 60.0, 16.0, 690.0, 20.0, 0.5);
    for r in &mut ac {
        r.current_a = None;
        r.voltage_v = None;
    }
    let f = features(&ac, false);
    assert_eq!(f.capacity.ah_per_full, None);
    assert_eq!(f.capacity.flag.quality, Quality::Limited);
    assert!(f.capacity.flag.reasons.contains(&QualityReason::AcGridSide));
    assert_eq!(f.resistance.flag.quality, Quality::Unusable);
}

#[test]
fn resistance_from_a_current_step_with_ocv_drift_is_exact() {
    // OCV rises 1.5 V per 30 s sample; 200 A → 120 A at sample 10; R = 0.1 Ω.
    let rows: Vec<Row> = (0..20)
        .map(|i| {
            let t = f64::from(i) * 30.0;
            let amps = if i < 10 { 200.0 } else { 120.0 };
            let ocv = 380.0 + 0.05 * t;
            Row {
                t_s: t,
                energy_wh: Some(1000.0 + 80_000.0 * t / 3600.0),
                current_a: Some(amps),
                voltage_v: Some(ocv + 0.1 * amps),
                soc: Some(40.0 + 0.5 * f64::from(i)),
                temp: Some((25.0 + 0.1 * f64::from(i), true)),
                ..Default::default()
            }
        })
        .collect();
    let f = features(&rows, true);
    assert_eq!(f.resistance.steps.len(), 1, "{:?}", f.resistance.steps);
    let s = &f.resistance.steps[0];
    close(s.resistance.0, 0.1, 1e-9);
    close(s.delta_current.0, -80.0, 1e-12);
    assert_eq!(s.soc_band, 40);
    assert_eq!(s.temperature_band, Some(25));
    close(f.resistance.mid_soc_median.unwrap().0, 0.1, 1e-9);
    assert_eq!(f.resistance.flag.quality, Quality::Good);
}

fn taper_rows(offered: impl Fn(f64) -> f64) -> Vec<Row> {
    (0..41)
        .map(|i| {
            let soc = 10.0 + 2.0 * f64::from(i);
            let p = if soc < 60.0 { 100_000.0 } else { 50_000.0 };
            Row {
                t_s: f64::from(i) * 60.0,
                energy_wh: Some(f64::from(i) * 1000.0),
                power_w: Some(p),
                current_a: Some(p / 400.0),
                voltage_v: Some(400.0),
                soc: Some(soc),
                offered_w: Some(offered(p)),
                ..Default::default()
            }
        })
        .collect()
}

#[test]
fn acceptance_finds_the_ev_taper_and_20_to_80_time() {
    let f = features(&taper_rows(|_| 150_000.0), true);
    assert_eq!(f.acceptance.taper_onset_soc, Some(60.0));
    assert_eq!(f.acceptance.ev_limited, Some(true));
    close(f.acceptance.minutes_20_to_80.unwrap(), 30.0, 1e-9);
    assert_eq!(f.acceptance.peak_power.unwrap().0, 100_000.0);
    assert_eq!(f.acceptance.flag.quality, Quality::Good);

    let f = features(&taper_rows(|p| p), true);
    assert_eq!(f.acceptance.ev_limited, Some(false));
    assert!(
        f.acceptance
            .flag
            .reasons
            .contains(&QualityReason::ChargerLimited)
    );
}

fn thermal_rows(temp: impl Fn(usize) -> Option<(f64, bool)>) -> Vec<Row> {
    (0..11)
        .map(|i| Row {
            t_s: i as f64 * 60.0,
            energy_wh: Some(i as f64 * 2000.0),
            soc: Some(20.0 + 4.0 * i as f64),
            temp: temp(i),
            ..Default::default()
        })
        .collect()
}

#[test]
fn temperature_rise_per_kwh_uses_ev_temperatures_only() {
    let f = features(&thermal_rows(|i| Some((25.0 + i as f64, true))), true);
    close(f.thermal.rise_per_kwh.unwrap(), 0.5, 1e-12);
    assert_eq!(f.thermal.max_c, Some(35.0));

    let f = features(&thermal_rows(|i| Some((25.0 + i as f64, false))), true);
    assert_eq!(f.thermal.rise_per_kwh, None);
    assert_eq!(
        f.thermal.flag.reasons,
        vec![QualityReason::TemperatureNotFromEv]
    );

    let f = features(&thermal_rows(|_| Some((21.0, true))), true);
    assert_eq!(f.thermal.flag.quality, Quality::Unusable);
    assert!(
        f.thermal
            .flag
            .reasons
            .contains(&QualityReason::TemperatureStuck)
    );
}

#[test]
fn meter_reset_is_bridged_and_flagged() {
    let regs = [5000.0, 6000.0, 100.0, 1100.0];
    let rows: Vec<Row> = regs
        .iter()
        .enumerate()
        .map(|(i, e)| Row {
            t_s: i as f64 * 30.0,
            energy_wh: Some(*e),
            ..Default::default()
        })
        .collect();
    let f = features(&rows, false);
    assert_eq!(f.energy.energy, WattHours(2100.0));
    assert_eq!(f.data_quality.meter_resets, 1);
    assert!(
        f.data_quality
            .flag
            .reasons
            .contains(&QualityReason::MeterReset)
    );
    assert!(
        f.data_quality
            .flag
            .reasons
            .contains(&QualityReason::MissingSoc)
    );
}

/// Health replays a finished session's register by the same rule the gateway counted it with
/// live, so a report and the session (and its charge detail record) agree on the energy, glitches
/// and resets included.
#[test]
fn health_and_the_session_count_a_register_by_the_same_rule() {
    use chargegrid_core::session::Session;
    use chargegrid_core::{ChargerId, ConnectorId, EvseId, SessionId, SiteId, Watts};
    // 92 Wh a step (11 kW, 30 s) from a lifetime register that starts at zero (a zeroed
    // meterStart), a 1,000× glitch, a spurious zero, a step that comes back down, and a reset.
    let cases: [(&[f64], f64); 4] = [
        (&[0.0, 1_000_000.0, 1_000_092.0, 1_000_184.0], 184.0),
        (
            &[1_000.0, 1_092.0, 1_184_000.0, 1_276.0, 0.0, 1_368.0],
            368.0,
        ),
        (&[1_000.0, 1_092.0, 6_000.0, 1_184.0, 1_276.0], 276.0),
        (
            &[1_000.0, 1_092.0, 1_184.0, 40.0, 132.0, 224.0],
            184.0 + 40.0 + 184.0,
        ),
    ];
    for (regs, truth) in cases {
        let rows: Vec<Row> = regs
            .iter()
            .enumerate()
            .map(|(i, e)| Row {
                t_s: i as f64 * 30.0,
                energy_wh: Some(*e),
                ..Default::default()
            })
            .collect();
        let mut c = ctx("S1", "C1", false, t0(), 30.0 * regs.len() as f64);
        c.charger_max_power = Some(Watts(11_000.0));
        let report = session_features(&samples(t0(), &rows), &c, &HealthConfig::default())
            .unwrap()
            .energy
            .energy;
        let mut live = Session::new(
            SessionId::new("S1").unwrap(),
            "1".into(),
            SiteId::new("site").unwrap(),
            ChargerId::new("C1").unwrap(),
            (EvseId(1), ConnectorId(1)),
            t0(),
        );
        for row in &rows {
            let at = t0() + Duration::seconds(row.t_s as i64);
            live.record_register(WattHours(row.energy_wh.unwrap()), at, Watts(11_000.0));
        }
        assert_eq!(report, live.energy, "{regs:?}");
        assert_eq!(report, WattHours(truth), "{regs:?}");
    }
}

#[test]
fn kilowatts_declared_as_watts_and_sparse_sampling_are_suspected() {
    // 50 kW for an hour, power sent as "50" W, one sample every 2 minutes.
    let rows: Vec<Row> = (0..31)
        .map(|i| Row {
            t_s: f64::from(i) * 120.0,
            energy_wh: Some(50_000.0 * f64::from(i) * 120.0 / 3600.0),
            power_w: Some(50.0),
            soc: Some(20.0 + f64::from(i)),
            ..Default::default()
        })
        .collect();
    let f = features(&rows, false);
    assert!(f.data_quality.kw_as_w_suspected);
    assert!(!f.data_quality.kwh_as_wh_suspected);
    assert!(
        f.data_quality
            .flag
            .reasons
            .contains(&QualityReason::SparseSampling)
    );
    assert_eq!(f.data_quality.median_interval_s, Some(120.0));
}

#[test]
fn anomalies_are_detected() {
    let mut rows = constant_current_rows(31, 30.0, 100.0, 400.0, 20.0, 1.0);
    rows[20].soc = Some(60.0); // a 21-point jump in one sample
    rows[25].voltage_v = Some(390.0); // voltage falls 10 V at the same current
    let start = t0();
    let mut c = ctx("S9", "C7", true, start, 900.0);
    c.stop_reason = Some(StopReason::EvAbort);
    c.nominal_capacity = Some(WattHours(80_000.0));
    c.status_changes = (0..8)
        .map(|i| StatusChange {
            at: start + Duration::seconds(60 * i),
            status: if i % 2 == 0 {
                ConnectorStatus::Charging
            } else {
                ConnectorStatus::SuspendedEv
            },
        })
        .collect();
    c.ev_errors = vec![EvErrorReport {
        at: start,
        code: "FAILED_EVRESSMalfunction".into(),
    }];
    let f = session_features(&samples(start, &rows), &c, &HealthConfig::default()).unwrap();
    for kind in [
        AnomalyKind::EvAbort,
        AnomalyKind::SocJump,
        AnomalyKind::VoltageDropAtConstantCurrent,
        AnomalyKind::RepeatedSuspendedEv,
        AnomalyKind::BatteryMalfunctionCode,
    ] {
        assert!(f.has_anomaly(kind), "missing {kind:?}: {:?}", f.anomalies);
    }
    assert!(f.ev_abort());
    assert!(
        f.capacity
            .flag
            .reasons
            .contains(&QualityReason::SocDiscontinuity)
    );
}

#[test]
fn ev_error_codes_are_classified() {
    assert_eq!(
        classify_ev_error("FAILED_EVRESSMalfunction"),
        Some(EvErrorClass::BatteryMalfunction)
    );
    assert_eq!(
        classify_ev_error("FAILED_RESSTemperatureInhibit"),
        Some(EvErrorClass::BatteryTemperatureInhibit)
    );
    assert_eq!(
        classify_ev_error("FAILED_EVShiftPosition"),
        Some(EvErrorClass::Other)
    );
    assert_eq!(classify_ev_error("NO_ERROR"), None);
    assert_eq!(classify_ev_error(""), None);
}

#[test]
fn features_round_trip_through_json() {
    let rows = constant_current_rows(61, 60.0, 100.0, 400.0, 20.0, 50.0 / 60.0);
    let f = features(&rows, true);
    let json = serde_json::to_string(&f).unwrap();
    let mut back: SessionFeatures = serde_json::from_str(&json).unwrap();
    // serde_json parses floats to within one ulp unless its `float_roundtrip` feature is on.
    close(
        back.capacity.ah_per_full.unwrap(),
        f.capacity.ah_per_full.unwrap(),
        1e-9,
    );
    close(
        back.energy.charge_ah.unwrap(),
        f.energy.charge_ah.unwrap(),
        1e-9,
    );
    back.energy.charge_ah = f.energy.charge_ah;
    assert_eq!(back.capacity.flag, f.capacity.flag);
    assert_eq!(
        (back.energy, back.resistance, back.thermal),
        (f.energy, f.resistance, f.thermal)
    );
    assert_eq!(
        (back.session, back.charger, back.ended_at),
        (f.session, f.charger, f.ended_at)
    );
    assert!(json.contains("\"ah_per_full\""));
}

#[test]
fn malformed_inputs_are_errors() {
    let c = ctx("S1", "C1", true, t0(), 60.0);
    let cfg = HealthConfig::default();
    assert_eq!(
        session_features(&[], &c, &cfg),
        Err(HealthError::NoSamples("S1".into()))
    );
    let mut back = c.clone();
    back.ended_at = Some(t0() - Duration::seconds(1));
    let rows = constant_current_rows(3, 60.0, 1.0, 400.0, 20.0, 1.0);
    assert_eq!(
        session_features(&samples(t0(), &rows), &back, &cfg),
        Err(HealthError::EndsBeforeStart("S1".into()))
    );
}
