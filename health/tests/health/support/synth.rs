//! A small synthetic EV for end-to-end checks of the estimators: an NMC-like pack (96 cells
//! in series) with ohmic resistance depending on temperature (Arrhenius, 22 kJ/mol: not the
//! estimator's 20) and SoC, a BMS staircase taper, charger power limits, auxiliary loads,
//! per-charger meter gain errors, rounding and noise; ageing and faults with known truth.

use super::{Row, samples};
use chargegrid_core::meter::MeterSample;
use chargegrid_core::session::StopReason;
use chargegrid_core::{ChargerId, SessionId, VehicleId, Volts, WattHours};
use chargegrid_health::features::EvErrorReport;
use chargegrid_health::{SessionContext, VehicleSpec};
use chrono::{DateTime, Duration, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const CELLS: f64 = 96.0;
const EA_TRUE: f64 = 22_000.0;
/// A charger that wrongly ends sessions as EV aborts, whatever the car.
pub const BAD_CHARGER: &str = "C-BAD";

/// A synthetic vehicle and its truth.
#[derive(Debug, Clone)]
pub struct SynthVehicle {
    pub spec: VehicleSpec,
    pub q_nom_ah: f64,
    pub soh0: f64,
    pub fade_per_month: f64,
    pub r0: f64,
    pub r_growth_per_month: f64,
    pub aux_w: f64,
    pub ac_efficiency: f64,
    /// (session index, drop in SoH points).
    pub step: Option<(usize, f64)>,
    /// (session index, resistance factor).
    pub r_jump: Option<(usize, f64)>,
    /// From this session on, the EV aborts half its sessions.
    pub aborts_from: Option<usize>,
    /// At this session the EV reports a battery malfunction.
    pub malfunction_at: Option<usize>,
    /// BMS SoC scale (1.0 = right).
    pub bms_scale: f64,
    /// EV temperature stuck at 21 °C.
    pub dead_temp: bool,
    /// Charges on AC only (with ISO 15118 SoC).
    pub ac_only: bool,
}

/// One generated session with the truth of its moment.
pub struct SynthSession {
    pub samples: Vec<MeterSample>,
    pub ctx: SessionContext,
    pub true_soh: f64,
    pub true_r25: f64,
    pub index: usize,
}

fn ocv_cell(s: f64) -> f64 {
    let s = s.clamp(0.0, 1.0);
    3.3 + 0.9 * s - 0.35 * s * (1.0 - s)
}

fn gauss(rng: &mut StdRng) -> f64 {
    let u1: f64 = rng.random_range(1e-12..1.0);
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

impl SynthVehicle {
    /// A healthy random vehicle.
    pub fn random(i: usize, rng: &mut StdRng) -> Self {
        let q = rng.random_range(150.0..230.0);
        let v_nom = CELLS * 3.65;
        Self {
            spec: VehicleSpec {
                vehicle: VehicleId::new(format!("V{i:03}")).unwrap(),
                fleet: None,
                model: if i.is_multiple_of(2) {
                    "Model-A"
                } else {
                    "Model-B"
                }
                .to_string(),
                nominal_capacity: WattHours(q * v_nom),
                battery: chargegrid_core::driver::BatterySpec {
                    nominal_voltage_v: Some(Volts(v_nom)),
                    ..Default::default()
                },
                label: Some(format!("FL-{i:03}")),
                first_registration: None,
            },
            q_nom_ah: q,
            soh0: rng.random_range(84.0..100.0),
            fade_per_month: rng.random_range(0.08..0.3),
            r0: rng.random_range(0.08..0.13),
            r_growth_per_month: rng.random_range(0.0..0.004),
            aux_w: rng.random_range(150.0..600.0),
            ac_efficiency: rng.random_range(0.87..0.93),
            step: None,
            r_jump: None,
            aborts_from: None,
            malfunction_at: None,
            bms_scale: 1.0,
            dead_temp: false,
            ac_only: false,
        }
    }

    /// True SoH at session `k`, `months` after the first.
    pub fn soh_at(&self, k: usize, months: f64) -> f64 {
        let step = self.step.filter(|s| k >= s.0).map_or(0.0, |s| s.1);
        self.soh0 - self.fade_per_month * months - step
    }

    /// True 25 °C resistance at session `k`.
    pub fn r25_at(&self, k: usize, months: f64) -> f64 {
        let jump = self.r_jump.filter(|j| k >= j.0).map_or(1.0, |j| j.1);
        self.r0 * (1.0 + self.r_growth_per_month * months) * jump
    }
}

/// Generates session `k` of `v` starting at `start` at `charger`.
pub fn session(
    v: &SynthVehicle,
    k: usize,
    start: DateTime<Utc>,
    months: f64,
    charger: &str,
    gain: f64,
    rng: &mut StdRng,
) -> SynthSession {
    let dc = !v.ac_only;
    let soh = v.soh_at(k, months);
    let r25 = v.r25_at(k, months);
    let q = v.q_nom_ah * soh / 100.0;
    let ambient: f64 = rng.random_range(0.0..30.0);
    let mut temp: f64 = ambient + rng.random_range(3.0..12.0);
    let mut soc = rng.random_range(8.0..30.0);
    let target = rng.random_range(80.0..95.0);
    let p_max = if dc {
        [50_000.0, 150_000.0, 300_000.0][rng.random_range(0..3)]
    } else {
        11_000.0
    };
    let interval = if dc {
        [10.0, 15.0, 30.0, 60.0][rng.random_range(0..4)]
    } else {
        60.0
    };
    let bad = charger == BAD_CHARGER && rng.random_bool(0.6);
    let ev_abort = v.aborts_from.is_some_and(|a| k >= a) && rng.random_bool(0.5);
    let stop_soc = if bad || ev_abort {
        rng.random_range(soc + 10.0..target)
    } else {
        target
    };
    let dt = if dc { 2.0 } else { 10.0 };
    let register0 = rng.random_range(1.0e6..5.0e6);
    let mut energy = 0.0;
    let mut t = 0.0;
    let mut next_sample = 0.0;
    let mut rows = Vec::new();
    let mut charger_current: f64 = 0.0;
    let mut volts = CELLS * ocv_cell(soc / 100.0);
    loop {
        if t >= next_sample - 1e-9 {
            let reported_soc = (soc * v.bms_scale).clamp(0.0, 100.0).round();
            let t_rep = if v.dead_temp { 21.0 } else { temp.round() };
            let noisy_i = charger_current + 0.3 * gauss(rng);
            let noisy_v = volts + 0.2 * gauss(rng);
            rows.push(Row {
                t_s: t,
                energy_wh: Some((register0 + energy * gain).round()),
                power_w: Some(if dc {
                    (noisy_i * noisy_v).round()
                } else if t > 0.0 {
                    p_max
                } else {
                    0.0
                }),
                current_a: dc.then_some((noisy_i * 10.0).round() / 10.0),
                voltage_v: dc.then_some((noisy_v * 10.0).round() / 10.0),
                soc: Some(reported_soc),
                temp: Some((t_rep, true)),
                offered_w: Some(p_max),
            });
            next_sample += interval;
        }
        if soc >= stop_soc || t > 6.0 * 3600.0 {
            break;
        }
        let tk = temp + 273.15;
        let r = r25
            * (EA_TRUE / 8.314 * (1.0 / tk - 1.0 / 298.15)).exp()
            * (1.0 + 0.3 * (-soc / 8.0).exp());
        let ocv = CELLS * ocv_cell(soc / 100.0);
        let current = if dc {
            let c_rate = match soc {
                s if s < 50.0 => 1.5,
                s if s < 65.0 => 1.0,
                s if s < 75.0 => 0.7,
                s if s < 85.0 => 0.45,
                _ => 0.25,
            };
            let aux_i = v.aux_w / volts.max(1.0);
            let i_power = p_max / volts.max(1.0) - aux_i;
            let current = (c_rate * q).min(i_power).max(0.0);
            volts = ocv + current * r;
            charger_current = current + v.aux_w / volts;
            energy += volts * charger_current * dt / 3600.0;
            current
        } else {
            let p_ac = p_max;
            let current = (p_ac * v.ac_efficiency - v.aux_w) / ocv;
            volts = ocv + current * r;
            charger_current = p_ac / 230.0;
            energy += p_ac * dt / 3600.0;
            current
        };
        soc += current * dt / 3600.0 / q * 100.0;
        temp += dt * (current * current * r - 150.0 * (temp - ambient)) / 3.0e5;
        t += dt;
    }
    // Transaction.Begin at zero current: the step that gives the first resistance estimate.
    if let Some(first) = rows.first_mut() {
        first.current_a = first.current_a.map(|_| 0.0);
        first.power_w = Some(0.0);
    }
    let end = start + Duration::milliseconds((t * 1000.0) as i64);
    let mut ctx = super::ctx(
        &format!("{}-s{k:03}", v.spec.vehicle),
        charger,
        dc,
        start,
        t,
    );
    ctx.session = SessionId::new(format!("{}-s{k:03}", v.spec.vehicle)).unwrap();
    ctx.vehicle = Some(v.spec.vehicle.clone());
    ctx.charger = ChargerId::new(charger).unwrap();
    ctx.nominal_capacity = Some(v.spec.nominal_capacity);
    ctx.stop_reason = Some(if bad || ev_abort {
        StopReason::EvAbort
    } else {
        StopReason::Local
    });
    if v.malfunction_at == Some(k) {
        ctx.ev_errors.push(EvErrorReport {
            at: end,
            code: "FAILED_EVRESSMalfunction".into(),
        });
    }
    SynthSession {
        samples: samples(start, &rows),
        ctx,
        true_soh: soh,
        true_r25: r25,
        index: k,
    }
}

/// A generated fleet: vehicles, their sessions, and the chargers' meter gains.
pub struct SynthFleet {
    pub vehicles: Vec<(SynthVehicle, Vec<SynthSession>)>,
}

/// `n` vehicles with `sessions` sessions each (one every 6–12 days), faults injected into a
/// known share, reproducible from `seed`.
pub fn fleet(n: usize, sessions: usize, seed: u64) -> SynthFleet {
    let mut rng = StdRng::seed_from_u64(seed);
    let chargers: Vec<String> = (1..=12).map(|i| format!("C{i:02}")).collect();
    let gains: Vec<f64> = (0..chargers.len())
        .map(|_| 1.0 + 0.004 * gauss(&mut rng))
        .collect();
    let start = super::t0();
    let mut out = Vec::new();
    for i in 0..n {
        let mut v = SynthVehicle::random(i, &mut rng);
        match i % 10 {
            1 => {
                v.step = Some((
                    rng.random_range(sessions / 3..2 * sessions / 3),
                    rng.random_range(5.0..10.0),
                ))
            }
            3 => {
                v.r_jump = Some((
                    rng.random_range(sessions / 3..2 * sessions / 3),
                    rng.random_range(1.5..1.9),
                ))
            }
            5 => v.aborts_from = Some(rng.random_range(sessions / 4..sessions / 2)),
            7 => v.soh0 = rng.random_range(72.0..79.0),
            9 if i % 20 == 9 => v.malfunction_at = Some(rng.random_range(sessions / 2..sessions)),
            9 => v.dead_temp = true,
            _ => {}
        }
        let mut t = start + Duration::hours(rng.random_range(0..72));
        let mut list = Vec::new();
        for k in 0..sessions {
            let months = (t - start).num_seconds() as f64 / 86_400.0 / 30.436_875;
            let (charger, gain) = if rng.random_bool(0.06) {
                (BAD_CHARGER.to_string(), 1.0)
            } else {
                let c = rng.random_range(0..chargers.len());
                (chargers[c].clone(), gains[c])
            };
            list.push(session(&v, k, t, months, &charger, gain, &mut rng));
            t += Duration::hours(rng.random_range(6 * 24..12 * 24));
        }
        out.push((v, list));
    }
    SynthFleet { vehicles: out }
}
