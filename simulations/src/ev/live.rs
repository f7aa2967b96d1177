//! A vehicle on a charger, stepped in time: each step the charger offers a power, the car
//! draws what its battery accepts within that (taper, constant-voltage limit, on-board
//! charger, minimum AC current), its SoC and pack temperature move, and the step's meter
//! readings come out. The equations are those of [`crate::battery::simulate_session`].

use chargegrid_core::{Amperes, Volts, WattHours, Watts};
use chrono::{DateTime, Utc};

use super::EvPlan;
use crate::battery::{ChargeKind, SyntheticEv};

/// AC phase-to-neutral voltage.
pub const AC_VOLTS_NOMINAL: f64 = 230.0;
/// Below this current per phase an AC car does not charge (IEC 61851).
const MIN_AC_AMPS: f64 = 6.0;

/// What the car drew during one step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Draw {
    /// Grid-side active power.
    pub power: Watts,
    /// Current: DC the battery's; AC per phase.
    pub current: Amperes,
    /// Voltage: DC the battery's; AC phase-to-neutral.
    pub voltage: Volts,
}

/// An EV plugged into a charger.
#[derive(Debug, Clone)]
pub struct LiveEv {
    /// The visit.
    pub plan: EvPlan,
    ev: SyntheticEv,
    kind: ChargeKind,
    temp_c: f64,
    delivered: WattHours,
    last: Draw,
}

fn current_for_power(p: f64, aux: f64, ocv: f64, r: f64) -> f64 {
    let avail = (p - aux).max(0.0);
    (-ocv + (ocv * ocv + 4.0 * r * avail).sqrt()) / (2.0 * r)
}

impl LiveEv {
    /// The car of `plan`, plugged in at `at` on DC or AC with `phases`.
    pub fn plug(plan: EvPlan, dc: bool, phases: u8, at: DateTime<Utc>) -> Self {
        let mut ev = SyntheticEv::new(plan.vehicle.clone(), plan.kind.pack(), at);
        ev.soc = (plan.arrival_soc_pct / 100.0).clamp(0.0, 1.0);
        let phases = phases.min(plan.kind.ac_phases()).clamp(1, 3);
        let kind = if dc {
            ChargeKind::Dc
        } else {
            ChargeKind::Ac { phases }
        };
        let temp_c = plan.ambient_c + 8.0;
        let volts = if dc {
            ev.pack.pack_ocv(ev.soc)
        } else {
            AC_VOLTS_NOMINAL
        };
        Self {
            plan,
            ev,
            kind,
            temp_c,
            delivered: WattHours::ZERO,
            last: Draw {
                power: Watts::ZERO,
                current: Amperes::ZERO,
                voltage: Volts(volts),
            },
        }
    }

    /// AC phases drawn on, or `None` on DC.
    pub fn phases(&self) -> Option<u8> {
        match self.kind {
            ChargeKind::Dc => None,
            ChargeKind::Ac { phases } => Some(phases),
        }
    }

    /// Energy delivered so far (grid side, as metered).
    pub fn delivered(&self) -> WattHours {
        self.delivered
    }

    /// SoC as the car displays it, percent.
    pub fn soc_pct(&self, at: DateTime<Utc>) -> f64 {
        self.ev.bms_soc_pct(self.ev.soc, at)
    }

    /// Pack temperature, °C.
    pub fn temperature_c(&self) -> f64 {
        self.temp_c
    }

    /// The last step's draw.
    pub fn last_draw(&self) -> Draw {
        self.last
    }

    /// Whether the car wants no more energy (target SoC or the driver's need reached).
    pub fn is_full(&self, at: DateTime<Utc>) -> bool {
        self.soc_pct(at) >= self.plan.target_soc_pct || self.delivered.0 >= self.plan.energy_need.0
    }

    /// Converts a current limit per phase into a power limit for this car.
    pub fn amps_to_watts(&self, amps: f64, phases: Option<u8>) -> Watts {
        match self.kind {
            ChargeKind::Dc => Watts(amps * self.last.voltage.0.max(1.0)),
            ChargeKind::Ac { phases: own } => {
                Watts(amps * AC_VOLTS_NOMINAL * f64::from(phases.unwrap_or(own).min(own).max(1)))
            }
        }
    }

    /// Draws power for `dt_s` seconds with at most `offered` available; returns the draw.
    pub fn step(&mut self, dt_s: f64, offered: Watts, at: DateTime<Utc>) -> Draw {
        let pack = &self.ev.pack;
        let truth = self.ev.truth_at(at);
        let q = truth.capacity_ah;
        let soc = self.ev.soc;
        let r = pack.resistance(truth.resistance_25c_ohm, soc, self.temp_c);
        let ocv = pack.pack_ocv(soc);
        let aux = pack.aux_load.0;
        let full = self.is_full(at);
        let bms = pack.taper.c_rate(soc * 100.0, self.temp_c) * q;
        let cv = ((pack.max_pack_volts() - ocv) / r).max(0.0);
        let (i, draw) = match self.kind {
            _ if full || offered.0 <= aux => (
                0.0,
                Draw {
                    power: Watts::ZERO,
                    current: Amperes::ZERO,
                    voltage: Volts(match self.kind {
                        ChargeKind::Dc => ocv,
                        ChargeKind::Ac { .. } => AC_VOLTS_NOMINAL,
                    }),
                },
            ),
            ChargeKind::Dc => {
                let i = bms
                    .min(cv)
                    .min(current_for_power(offered.0, aux, ocv, r))
                    .max(0.0);
                let v = ocv + i * r;
                let p = v * i + aux;
                (
                    i,
                    Draw {
                        power: Watts(p),
                        current: Amperes(p / v),
                        voltage: Volts(v),
                    },
                )
            }
            ChargeKind::Ac { phases } => {
                let n = f64::from(phases);
                let eff = pack.onboard_efficiency;
                let p_ac_max = offered.0.min(pack.onboard_charger_max.0);
                if p_ac_max / (AC_VOLTS_NOMINAL * n) < MIN_AC_AMPS {
                    (
                        0.0,
                        Draw {
                            power: Watts::ZERO,
                            current: Amperes::ZERO,
                            voltage: Volts(AC_VOLTS_NOMINAL),
                        },
                    )
                } else {
                    let i = bms
                        .min(cv)
                        .min(current_for_power(p_ac_max * eff, aux, ocv, r))
                        .max(0.0);
                    let v = ocv + i * r;
                    let p = ((v * i + aux) / eff).min(p_ac_max);
                    (
                        i,
                        Draw {
                            power: Watts(p),
                            current: Amperes(p / (AC_VOLTS_NOMINAL * n)),
                            voltage: Volts(AC_VOLTS_NOMINAL),
                        },
                    )
                }
            }
        };
        let pack = &self.ev.pack;
        self.ev.soc = (soc + i * dt_s / 3600.0 / q).min(1.0);
        let cooling = pack.passive_cooling_w_per_k * (self.temp_c - self.plan.ambient_c)
            + if self.temp_c > pack.active_cooling_above_c {
                pack.active_cooling_w_per_k * (self.temp_c - pack.active_cooling_above_c)
            } else {
                0.0
            };
        self.temp_c += dt_s * (i * i * r - cooling) / pack.thermal_mass_j_per_k;
        self.delivered += WattHours(draw.power.0 * dt_s / 3600.0);
        self.last = draw;
        draw
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ev::VehicleKind;
    use chargegrid_core::IdTag;
    use chrono::Duration;

    fn plan(kind: VehicleKind, need_kwh: f64) -> EvPlan {
        let t0 = DateTime::<Utc>::UNIX_EPOCH + Duration::days(20_000);
        EvPlan {
            key: 1,
            vehicle: "V1".into(),
            kind,
            id_tag: IdTag::new("T1").unwrap(),
            arrival: t0,
            departure: t0 + Duration::hours(10),
            arrival_soc_pct: 20.0,
            target_soc_pct: 90.0,
            energy_need: WattHours(need_kwh * 1000.0),
            site: None,
            position: None,
            wants_dc: false,
            ambient_c: 20.0,
        }
    }

    #[test]
    fn the_car_draws_min_of_the_limit_and_what_it_accepts() {
        let p = plan(VehicleKind::Car, 40.0);
        let at = p.arrival;
        let mut ev = LiveEv::plug(p, false, 3, at);
        let d = ev.step(10.0, Watts(7_000.0), at);
        assert!(d.power.0 <= 7_000.0 + 1e-6 && d.power.0 > 6_000.0, "{d:?}");
        // The on-board charger caps it at 11 kW even when 50 kW are offered.
        let d = ev.step(10.0, Watts(50_000.0), at);
        assert!(
            d.power.0 <= 11_000.0 + 1e-6 && d.power.0 > 10_000.0,
            "{d:?}"
        );
        // Below 6 A per phase an AC car stops.
        let d = ev.step(10.0, Watts(3.0 * 230.0 * 5.0), at);
        assert_eq!(d.power, Watts::ZERO);
        assert!(ev.delivered().0 > 0.0);
    }

    #[test]
    fn dc_charging_tapers_and_stops_at_the_need() {
        let p = plan(VehicleKind::Car, 20.0);
        let mut at = p.arrival;
        let mut ev = LiveEv::plug(p, true, 3, at);
        let first = ev.step(1.0, Watts(150_000.0), at);
        assert!(first.power.0 > 60_000.0, "{first:?}");
        let mut steps = 0;
        while !ev.is_full(at) && steps < 10_000 {
            at += Duration::seconds(5);
            ev.step(5.0, Watts(150_000.0), at);
            steps += 1;
        }
        assert!(ev.is_full(at));
        assert!(
            (ev.delivered().0 - 20_000.0).abs() < 300.0,
            "{:?}",
            ev.delivered()
        );
        assert_eq!(ev.step(5.0, Watts(150_000.0), at).power, Watts::ZERO);
    }
}
