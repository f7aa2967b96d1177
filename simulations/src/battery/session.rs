//! One charging session, simulated second by second and sampled as a charger reports it.
//!
//! DC: the charger meters the battery's own voltage and current (plus the car's auxiliary
//! load). AC: the charger meters grid-side power through the on-board charger's losses. The car
//! stops at its displayed target, the driver at departure, a faulty BMS or charger earlier.

use super::ageing::GroundTruth;
use super::error::BatteryError;
use super::noise::{gauss, round_to};
use super::reporting::ReportingProfile;
use super::vehicle::SyntheticEv;
use chargegrid_core::meter::{
    Measurand, MeterLocation, MeterPhase, MeterSample, MeterUnit, ReadingContext,
};
use chargegrid_core::session::StopReason;
use chargegrid_core::{Amperes, Volts, WattHours, Watts};
use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use serde::{Deserialize, Serialize};

/// Longest session simulated, seconds.
const MAX_SECONDS: f64 = 16.0 * 3600.0;
/// AC phase-to-neutral voltage.
const AC_VOLTS: f64 = 230.0;

/// DC or AC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChargeKind {
    /// DC fast charging.
    Dc,
    /// AC through the on-board charger on `phases` phases.
    Ac {
        /// 1 or 3.
        phases: u8,
    },
}

/// What to simulate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionRequest {
    /// Plug-in time.
    pub started_at: DateTime<Utc>,
    /// DC or AC.
    pub kind: ChargeKind,
    /// The charger's power limit.
    pub charger_max_power: Watts,
    /// The charger's current limit (DC), if any.
    #[serde(default)]
    pub charger_max_current: Option<Amperes>,
    /// Arrival SoC (true), percent; `None` keeps the car's current SoC.
    #[serde(default)]
    pub arrival_soc_pct: Option<f64>,
    /// The car stops when its displayed SoC reaches this, percent.
    pub target_soc_pct: f64,
    /// The driver unplugs at this time, if earlier.
    #[serde(default)]
    pub departure: Option<DateTime<Utc>>,
    /// Seconds between periodic samples (10–60 is realistic).
    pub sample_interval_s: u32,
    /// Ambient temperature, °C.
    pub ambient_c: f64,
    /// Pack temperature at arrival, °C (`None`: ambient + 8 after driving).
    #[serde(default)]
    pub arrival_temperature_c: Option<f64>,
    /// The charger itself ends the session early but reports it as an EV abort (a charger
    /// fault that must not be blamed on the car).
    #[serde(default)]
    pub charger_fault_abort: bool,
}

/// One sample as a charger reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChargerReading {
    /// When.
    pub at: DateTime<Utc>,
    /// Why sampled.
    pub context: ReadingContext,
    /// Import register.
    pub energy_register: WattHours,
    /// Active power.
    pub power: Watts,
    /// Current: DC the battery's; AC per phase.
    pub current: Amperes,
    /// Voltage: DC the battery's; AC phase-to-neutral.
    pub voltage: Volts,
    /// SoC as the car reports it, when it does.
    #[serde(default)]
    pub soc_pct: Option<f64>,
    /// A temperature and where it was measured.
    #[serde(default)]
    pub temperature: Option<(f64, MeterLocation)>,
    /// Power the charger offers.
    pub offered_power: Watts,
    /// Current the charger offers.
    pub offered_current: Amperes,
}

/// A simulated session: readings, outcome and truth.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimulatedSession {
    /// The vehicle.
    pub vehicle: String,
    /// The request.
    pub request: SessionRequest,
    /// Readings, in time order (Transaction.Begin first, Transaction.End last).
    pub readings: Vec<ChargerReading>,
    /// End time.
    pub ended_at: DateTime<Utc>,
    /// Why it ended, as the charger reports it.
    pub stop_reason: StopReason,
    /// EV error codes reported during the session.
    pub ev_errors: Vec<(DateTime<Utc>, String)>,
    /// Truth at the start.
    pub truth: GroundTruth,
    /// True SoC at start and end, percent.
    pub true_soc_pct: (f64, f64),
    /// Charge into the battery, Ah.
    pub charge_into_battery_ah: f64,
    /// Energy metered (without meter gain or rounding).
    pub energy_metered: WattHours,
}

impl SimulatedSession {
    /// The readings as version-neutral meter samples (DC: totals; AC: per phase current and
    /// voltage, SoC only if reported).
    pub fn to_meter_samples(&self) -> Vec<MeterSample> {
        let phases = match self.request.kind {
            ChargeKind::Dc => None,
            ChargeKind::Ac { phases } => Some(phases.clamp(1, 3)),
        };
        let mut out = Vec::with_capacity(self.readings.len() * 8);
        for r in &self.readings {
            let s = |m: Measurand,
                     u: MeterUnit,
                     v: f64,
                     phase: Option<MeterPhase>,
                     loc: MeterLocation| {
                MeterSample {
                    timestamp: r.at,
                    measurand: m,
                    phase,
                    unit: u,
                    value: v,
                    context: r.context.clone(),
                    location: loc,
                }
            };
            let o = || MeterLocation::Outlet;
            out.push(s(
                Measurand::EnergyActiveImportRegister,
                MeterUnit::Wh,
                r.energy_register.0,
                None,
                o(),
            ));
            out.push(s(
                Measurand::PowerActiveImport,
                MeterUnit::W,
                r.power.0,
                None,
                o(),
            ));
            out.push(s(
                Measurand::PowerOffered,
                MeterUnit::W,
                r.offered_power.0,
                None,
                o(),
            ));
            match phases {
                None => {
                    out.push(s(
                        Measurand::CurrentImport,
                        MeterUnit::A,
                        r.current.0,
                        None,
                        o(),
                    ));
                    out.push(s(Measurand::Voltage, MeterUnit::V, r.voltage.0, None, o()));
                    out.push(s(
                        Measurand::CurrentOffered,
                        MeterUnit::A,
                        r.offered_current.0,
                        None,
                        o(),
                    ));
                }
                Some(n) => {
                    let ph = [
                        (MeterPhase::L1, MeterPhase::L1N),
                        (MeterPhase::L2, MeterPhase::L2N),
                        (MeterPhase::L3, MeterPhase::L3N),
                    ];
                    for (pi, pv) in ph.into_iter().take(usize::from(n)) {
                        out.push(s(
                            Measurand::CurrentImport,
                            MeterUnit::A,
                            r.current.0,
                            Some(pi),
                            o(),
                        ));
                        out.push(s(
                            Measurand::Voltage,
                            MeterUnit::V,
                            r.voltage.0,
                            Some(pv),
                            o(),
                        ));
                    }
                }
            }
            if let Some(soc) = r.soc_pct {
                out.push(s(
                    Measurand::SoC,
                    MeterUnit::Percent,
                    soc,
                    None,
                    MeterLocation::Ev,
                ));
            }
            if let Some((t, loc)) = &r.temperature {
                out.push(s(
                    Measurand::Temperature,
                    MeterUnit::Celsius,
                    *t,
                    None,
                    loc.clone(),
                ));
            }
        }
        out
    }
}

fn validate(req: &SessionRequest) -> Result<(), BatteryError> {
    let bad = |m: &str| Err(BatteryError::InvalidRequest(m.to_string()));
    if !(1..=3600).contains(&req.sample_interval_s) {
        return bad("sample interval must be 1–3600 s");
    }
    if req.charger_max_power.0.is_nan() || req.charger_max_power.0 <= 0.0 {
        return bad("charger power must be positive");
    }
    if !(0.0..=100.0).contains(&req.target_soc_pct) {
        return bad("target SoC must be 0–100 %");
    }
    if req
        .arrival_soc_pct
        .is_some_and(|s| !(0.0..=100.0).contains(&s))
    {
        return bad("arrival SoC must be 0–100 %");
    }
    if req.departure.is_some_and(|d| d <= req.started_at) {
        return bad("departure must be after the start");
    }
    Ok(())
}

/// Largest battery current such that V·I + aux ≤ `p` with V = ocv + I·r.
fn current_for_power(p: f64, aux: f64, ocv: f64, r: f64) -> f64 {
    let avail = (p - aux).max(0.0);
    (-ocv + (ocv * ocv + 4.0 * r * avail).sqrt()) / (2.0 * r)
}

struct Physics {
    current: f64,
    volts: f64,
    metered_power: f64,
    grid_current: f64,
}

/// Simulates one session for `ev` (its SoC, cycles and odometer are updated).
pub fn simulate_session<R: Rng + ?Sized>(
    ev: &mut SyntheticEv,
    req: &SessionRequest,
    profile: &ReportingProfile,
    rng: &mut R,
) -> Result<SimulatedSession, BatteryError> {
    validate(req)?;
    if let Some(a) = req.arrival_soc_pct {
        ev.soc = a / 100.0;
    }
    let start = req.started_at;
    let truth = ev.truth_at(start);
    let pack = ev.pack.clone();
    let q = truth.capacity_ah;
    let soc0 = ev.soc;
    let mut soc = soc0;
    let mut temp = req.arrival_temperature_c.unwrap_or(req.ambient_c + 8.0);
    let dt = match req.kind {
        ChargeKind::Dc => 1.0,
        ChargeKind::Ac { .. } => 5.0,
    };
    let ev_abort = rng.random_bool(ev.abort_probability(start).clamp(0.0, 1.0));
    let early = ev_abort || req.charger_fault_abort;
    let displayed0 = ev.bms_soc_pct(soc, start);
    let stop_displayed = if early && req.target_soc_pct > displayed0 + 2.0 {
        rng.random_range(displayed0 + 1.0..req.target_soc_pct)
    } else {
        req.target_soc_pct
    };
    let departure_s = req.departure.map_or(MAX_SECONDS, |d| {
        ((d - start).num_seconds() as f64).min(MAX_SECONDS)
    });
    let register0 = round_to(
        rng.random_range(100_000.0..9_000_000.0),
        profile.energy_resolution_wh,
    );
    let aux = pack.aux_load.0;
    let mut energy = 0.0;
    let mut charge = 0.0;
    let mut t = 0.0;
    let mut next_sample = f64::from(req.sample_interval_s);
    let mut idle_s = 0.0;
    let mut readings = Vec::new();
    let mut phys = Physics {
        current: 0.0,
        volts: pack.pack_ocv(soc),
        metered_power: 0.0,
        grid_current: 0.0,
    };
    let at = |t: f64| start + Duration::milliseconds((t * 1000.0).round() as i64);
    let sample = |t: f64,
                  ctx: ReadingContext,
                  phys: &Physics,
                  soc: f64,
                  temp: f64,
                  energy: f64,
                  rng: &mut R| {
        let when = at(t);
        let (cur, volts) = match req.kind {
            ChargeKind::Dc => (phys.current + aux / phys.volts.max(1.0), phys.volts),
            ChargeKind::Ac { .. } => (phys.grid_current, AC_VOLTS),
        };
        let cur = if phys.metered_power > 0.0 {
            cur + profile.current_noise_a * gauss(rng)
        } else {
            0.0
        };
        let volts = volts + profile.voltage_noise_v * gauss(rng);
        let phases = match req.kind {
            ChargeKind::Dc => 1.0,
            ChargeKind::Ac { phases } => f64::from(phases.clamp(1, 3)),
        };
        let soc_reported = match req.kind {
            ChargeKind::Ac { .. } if !profile.soc_on_ac => None,
            _ => Some(round_to(ev.bms_soc_pct(soc, when), profile.soc_resolution)),
        };
        let temperature = profile.temperature_location.clone().map(|loc| {
            let value = if loc == MeterLocation::Ev {
                ev.reported_temperature(temp, when)
            } else {
                req.ambient_c + 10.0
            };
            (round_to(value, profile.temperature_resolution_c), loc)
        });
        let offered_current = match req.kind {
            ChargeKind::Dc => req
                .charger_max_current
                .map_or(req.charger_max_power.0 / volts.max(1.0), |a| a.0),
            ChargeKind::Ac { .. } => req.charger_max_power.0 / (AC_VOLTS * phases),
        };
        ChargerReading {
            at: when,
            context: ctx,
            energy_register: WattHours(round_to(
                register0 + energy * profile.meter_gain,
                profile.energy_resolution_wh,
            )),
            power: Watts(round_to(
                cur.max(0.0) * volts * phases * profile.meter_gain,
                profile.power_resolution_w,
            )),
            current: Amperes(round_to(cur.max(0.0), profile.current_resolution_a)),
            voltage: Volts(round_to(volts, profile.voltage_resolution_v)),
            soc_pct: soc_reported,
            temperature,
            offered_power: req.charger_max_power,
            offered_current: Amperes(round_to(offered_current, profile.current_resolution_a)),
        }
    };
    readings.push(sample(
        0.0,
        ReadingContext::TransactionBegin,
        &phys,
        soc,
        temp,
        energy,
        rng,
    ));
    let stop_reason = loop {
        if ev.bms_soc_pct(soc, at(t)) >= stop_displayed {
            break if early {
                StopReason::EvAbort
            } else {
                StopReason::EvDisconnected
            };
        }
        if t >= departure_s {
            break StopReason::Local;
        }
        if idle_s >= 120.0 {
            break StopReason::EvDisconnected;
        }
        let r = pack.resistance(truth.resistance_25c_ohm, soc, temp);
        let ocv = pack.pack_ocv(soc);
        let bms = pack.taper.c_rate(soc * 100.0, temp) * q;
        let cv = ((pack.max_pack_volts() - ocv) / r).max(0.0);
        phys = match req.kind {
            ChargeKind::Dc => {
                let mut i =
                    bms.min(cv)
                        .min(current_for_power(req.charger_max_power.0, aux, ocv, r));
                if let Some(imax) = req.charger_max_current {
                    i = i.min(imax.0 - aux / ocv);
                }
                let i = i.max(0.0);
                let v = ocv + i * r;
                Physics {
                    current: i,
                    volts: v,
                    metered_power: v * i + aux,
                    grid_current: 0.0,
                }
            }
            ChargeKind::Ac { phases } => {
                let p_ac_max = req.charger_max_power.0.min(pack.onboard_charger_max.0);
                let i_p = current_for_power(p_ac_max * pack.onboard_efficiency, aux, ocv, r);
                let i = bms.min(cv).min(i_p).max(0.0);
                let v = ocv + i * r;
                let p_ac = (v * i + aux) / pack.onboard_efficiency;
                let grid = p_ac / (AC_VOLTS * f64::from(phases.clamp(1, 3)));
                Physics {
                    current: i,
                    volts: v,
                    metered_power: p_ac,
                    grid_current: grid,
                }
            }
        };
        idle_s = if phys.current < 0.5 { idle_s + dt } else { 0.0 };
        energy += phys.metered_power * dt / 3600.0;
        charge += phys.current * dt / 3600.0;
        soc = (soc + phys.current * dt / 3600.0 / q).min(1.0);
        let cooling = pack.passive_cooling_w_per_k * (temp - req.ambient_c)
            + if temp > pack.active_cooling_above_c {
                pack.active_cooling_w_per_k * (temp - pack.active_cooling_above_c)
            } else {
                0.0
            };
        temp += dt * (phys.current * phys.current * r - cooling) / pack.thermal_mass_j_per_k;
        t += dt;
        if t >= next_sample - 1e-9 {
            readings.push(sample(
                t,
                ReadingContext::SamplePeriodic,
                &phys,
                soc,
                temp,
                energy,
                rng,
            ));
            next_sample += f64::from(req.sample_interval_s);
        }
    };
    let end_phys = Physics {
        current: 0.0,
        volts: pack.pack_ocv(soc),
        metered_power: 0.0,
        grid_current: 0.0,
    };
    readings.push(sample(
        t,
        ReadingContext::TransactionEnd,
        &end_phys,
        soc,
        temp,
        energy,
        rng,
    ));
    let ended_at = at(t);
    let mut ev_errors = Vec::new();
    if ev.malfunctioning(start) {
        ev_errors.push((at(t / 2.0), "FAILED_EVRESSMalfunction".to_string()));
    }
    ev.soc = soc;
    ev.equivalent_full_cycles += charge / pack.nominal_capacity_ah;
    Ok(SimulatedSession {
        vehicle: ev.id.clone(),
        request: req.clone(),
        readings,
        ended_at,
        stop_reason,
        ev_errors,
        truth,
        true_soc_pct: (soc0 * 100.0, soc * 100.0),
        charge_into_battery_ah: charge,
        energy_metered: WattHours(energy),
    })
}
