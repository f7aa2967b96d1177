//! Transactions on the simulated charger: the physics step (what each car draws under the
//! limits in force), plug-in and start, periodic meter values, stop and unplug — as 1.6
//! StartTransaction / MeterValues / StopTransaction or 2.0.1 TransactionEvents.

use chargegrid_core::command::RateUnit;
use chargegrid_core::{EvseId, Watts};
use chargegrid_ocpp::messages::authorization::{
    AuthorizationStatus, StartTransactionResponse, TransactionEventResponse,
};
use chargegrid_ocpp::messages::common::{Evse, IdToken};
use chargegrid_ocpp::messages::payload;
use chargegrid_ocpp::v16::requests as v16;
use chargegrid_ocpp::v201::requests as v201;
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use serde_json::Value;

use super::control::ChargerEvent;
use super::meter::{Reading, meter_value};
use super::record::{PowerSpan, SessionRecord};
use super::state::Tx;
use super::task::{Pending, SimCharger, StopCause};
use crate::ev::{AC_VOLTS_NOMINAL, EvPlan, LiveEv};

/// Nominal DC voltage for converting amperes of a DC charger's profile.
const DC_VOLTS_NOMINAL: f64 = 400.0;

impl SimCharger {
    /// When the next physics step is due: the step length, or earlier when a limit changes.
    pub fn next_tick(&self) -> DateTime<Utc> {
        let step = self.last_tick + Duration::seconds(i64::from(self.settings.step_s.max(1)));
        let charging = self.evses.iter().any(|e| e.tx.is_some());
        if !charging {
            return step;
        }
        let tx_start = self
            .evses
            .iter()
            .filter_map(|e| e.tx.as_ref())
            .map(|t| t.started_at)
            .min();
        let mut next = self
            .profiles
            .change_points(self.last_tick, step, tx_start)
            .into_iter()
            .next()
            .unwrap_or(step);
        for e in &self.evses {
            if let Some(ev) = &e.ev {
                next = next.min(
                    ev.plan
                        .departure
                        .max(self.last_tick + Duration::milliseconds(1)),
                );
            }
        }
        next
    }

    fn to_watts(&self, i: usize, limit: (f64, RateUnit, Option<u8>)) -> Watts {
        let (value, unit, phases) = limit;
        match unit {
            RateUnit::W => Watts(value),
            RateUnit::A => match &self.evses[i].ev {
                Some(ev) => ev.amps_to_watts(value, phases),
                None if self.evses[i].spec.dc => Watts(value * DC_VOLTS_NOMINAL),
                None => Watts(
                    value * AC_VOLTS_NOMINAL * f64::from(phases.unwrap_or(self.spec.phases).max(1)),
                ),
            },
        }
    }

    fn charger_cap(&self, now: DateTime<Utc>) -> (Watts, Option<Watts>) {
        let profile = self
            .profiles
            .charger_limit(now)
            .map(|(v, unit, phases)| match unit {
                RateUnit::W => Watts(v),
                RateUnit::A if self.spec.has_dc() => Watts(v * DC_VOLTS_NOMINAL),
                RateUnit::A => {
                    Watts(v * AC_VOLTS_NOMINAL * f64::from(phases.unwrap_or(self.spec.phases)))
                }
            });
        (
            profile.map_or(self.spec.max_power, |p| p.min(self.spec.max_power)),
            profile,
        )
    }

    /// The limit on EVSE `i` at `now` from its profiles and the charger-wide one (before sharing).
    pub fn evse_profile_limit(&self, i: usize, now: DateTime<Utc>) -> Option<Watts> {
        let e = &self.evses[i];
        let tx =
            e.tx.as_ref()
                .map(|t| (t.id.as_deref().unwrap_or(""), t.started_at));
        let own = self
            .profiles
            .evse_limit(e.spec.id.0, now, tx)
            .map(|l| self.to_watts(i, l));
        let (_, charger) = self.charger_cap(now);
        match (own, charger) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Advances the cars to now under the offers made at the last step, records the power
    /// drawn, then decides the new offers from the limits in force now.
    pub fn tick(&mut self) {
        let now = self.clock.now();
        let from = self.last_tick;
        let dt = (now - from).num_milliseconds() as f64 / 1000.0;
        if dt <= 0.0 {
            return;
        }
        self.last_tick = now;
        for i in 0..self.evses.len() {
            let (offered, limit) = (self.evses[i].offered, self.evses[i].limit);
            let ignore = self.spec.quirks.ignore_limits;
            let e = &mut self.evses[i];
            let Some(ev) = e.ev.as_mut() else { continue };
            if e.tx.is_none() {
                continue;
            }
            let draw_offer = if ignore { e.spec.max_power } else { offered };
            let draw = ev.step(dt, draw_offer, from);
            e.register_wh += draw.power.0 * dt / 3600.0;
            let evse = e.spec.id.0;
            if limit.is_some_and(|l| draw.power.0 > l.0 * 1.001 + 1.0) {
                self.record.own_limit_exceeded_steps += 1;
            }
            self.record.power(PowerSpan {
                from,
                to: now,
                evse,
                power: draw.power,
                limit,
            });
        }
        self.decide_offers(now);
        for i in 0..self.evses.len() {
            self.after_step(i, now);
        }
        self.refresh_statuses();
    }

    /// What each charging EVSE may draw from now on.
    pub fn decide_offers(&mut self, now: DateTime<Utc>) {
        let (cap, charger_profile) = self.charger_cap(now);
        let mut offers = Vec::with_capacity(self.evses.len());
        for i in 0..self.evses.len() {
            let e = &self.evses[i];
            let own = self
                .profiles
                .evse_limit(
                    e.spec.id.0,
                    now,
                    e.tx.as_ref()
                        .map(|t| (t.id.as_deref().unwrap_or(""), t.started_at)),
                )
                .map(|l| self.to_watts(i, l));
            let hw = match &e.ev {
                Some(ev) if !e.spec.dc => e
                    .spec
                    .max_power
                    .min(ev.amps_to_watts(e.spec.max_current.0, None)),
                _ => e.spec.max_power,
            };
            let active = e.tx.is_some() && e.ev.is_some();
            offers.push((active, own, own.map_or(hw, |o| o.min(hw))));
        }
        let total: f64 = offers.iter().filter(|o| o.0).map(|o| o.2.0).sum();
        let share = if total > cap.0 && total > 0.0 {
            cap.0 / total
        } else {
            1.0
        };
        for (i, (active, own, offer)) in offers.into_iter().enumerate() {
            let offered = if active { offer * share } else { offer };
            let limit = match (own, charger_profile) {
                (None, None) => None,
                _ if share < 1.0 && charger_profile.is_some() => Some(offered),
                (Some(o), _) => Some(o),
                (None, Some(_)) => Some(offered),
            };
            self.evses[i].offered = offered;
            self.evses[i].limit = limit;
        }
    }

    fn after_step(&mut self, i: usize, now: DateTime<Utc>) {
        let Some(ev) = &self.evses[i].ev else { return };
        let departed = now >= ev.plan.departure;
        let full = ev.is_full(now);
        if self.evses[i].tx.is_some() {
            if departed {
                self.stop_transaction(i, StopCause::EvLeft);
                self.unplug(i, true);
                return;
            }
            if full && !self.evses[i].tx.as_ref().is_some_and(|t| t.full_reported) {
                if let Some(t) = self.evses[i].tx.as_mut() {
                    t.full_reported = true;
                }
                if !self.v16() {
                    self.transaction_event(i, "Updated", "ChargingStateChanged", "Context", None);
                }
            }
            if now >= self.evses[i].next_meter {
                self.evses[i].next_meter =
                    now + Duration::seconds(i64::from(self.meter_interval_s));
                if self.v16() {
                    self.meter_values_16(i, "Sample.Periodic");
                } else {
                    self.transaction_event(
                        i,
                        "Updated",
                        "MeterValuePeriodic",
                        "Sample.Periodic",
                        None,
                    );
                }
            }
        } else if departed {
            self.unplug(i, true);
        }
    }

    /// The current reading of EVSE `i`.
    pub fn reading(&self, i: usize, context: &'static str) -> Reading {
        let e = &self.evses[i];
        let now = self.clock.now();
        let (power, current, voltage, phases, soc) = match &e.ev {
            Some(ev) => {
                let d = ev.last_draw();
                let soc = (e.spec.dc || !self.v16()).then(|| ev.soc_pct(now));
                (d.power.0, d.current.0, d.voltage.0, ev.phases(), soc)
            }
            None => (
                0.0,
                0.0,
                if e.spec.dc { 0.0 } else { AC_VOLTS_NOMINAL },
                (!e.spec.dc).then_some(self.spec.phases),
                None,
            ),
        };
        let phases_n = f64::from(phases.unwrap_or(1));
        Reading {
            at: now,
            context,
            register_wh: e.register_wh,
            power_w: if context == "Transaction.End" {
                0.0
            } else {
                power
            },
            current_a: if context == "Transaction.End" {
                0.0
            } else {
                current
            },
            voltage_v: voltage,
            phases,
            offered_w: e.offered.0,
            offered_a: if phases.is_some() {
                e.offered.0 / (AC_VOLTS_NOMINAL * phases_n)
            } else {
                e.offered.0 / voltage.max(1.0)
            },
            soc_pct: soc,
            temperature_c: Some(25.0 + power / 10_000.0),
        }
    }

    /// An EV plugs in at `evse` and starts a transaction with its token (or a remote start's).
    pub fn plug(&mut self, evse: EvseId, plan: EvPlan) {
        let Some(i) = self.evses.iter().position(|e| e.spec.id == evse) else {
            return;
        };
        if !self.evses[i].is_free() {
            let _ = self.events.send(ChargerEvent::Refused {
                charger: self.index,
                evse,
                ev: Box::new(plan),
            });
            return;
        }
        self.tick();
        let now = self.clock.now();
        let ev = LiveEv::plug(plan, self.evses[i].spec.dc, self.spec.phases, now);
        self.evses[i].ev = Some(ev);
        self.evses[i].reservation = None;
        self.start_transaction(i);
        self.decide_offers(now);
        self.refresh_statuses();
    }

    fn start_transaction(&mut self, i: usize) {
        let now = self.clock.now();
        let Some(ev) = &self.evses[i].ev else { return };
        let plan = ev.plan.clone();
        let (tag, remote_id) = match self.evses[i].remote_start.take() {
            Some((tag, id)) => (tag, id),
            None => (plan.id_tag.clone(), None),
        };
        self.next_local_tx += 1;
        let local = self.next_local_tx;
        let tx_id = (!self.v16()).then(|| format!("{}-{}", self.spec.id, local));
        let session = self.record.sessions.len();
        self.record.sessions.push(SessionRecord {
            key: plan.key,
            charger: self.spec.id.clone(),
            site: self.spec.site.clone(),
            evse: self.evses[i].spec.id.0,
            vehicle: plan.vehicle.clone(),
            transaction_id: tx_id.clone(),
            authorized: false,
            started_at: now,
            ended_at: None,
            requested: plan.energy_need,
            delivered: chargegrid_core::WattHours::ZERO,
            full: false,
            stop_reason: None,
        });
        self.evses[i].tx = Some(Tx {
            local,
            id: tx_id,
            started_at: now,
            id_tag: tag.clone(),
            seq_no: 0,
            remote_start_id: remote_id,
            session,
            full_reported: false,
        });
        self.evses[i].next_meter = now + Duration::seconds(i64::from(self.meter_interval_s));
        if self.v16() {
            if self.settings.authorize_first && self.online() {
                self.push(Pending {
                    action: "Authorize",
                    payload: payload(v16::Authorize {
                        id_tag: tag.as_str().to_string(),
                    }),
                    durable: false,
                    tx_local: None,
                    offline: false,
                });
            }
            self.push(Pending {
                action: "StartTransaction",
                payload: payload(v16::StartTransaction {
                    connector_id: self.evses[i].spec.connector.0,
                    id_tag: tag.as_str().to_string(),
                    meter_start: self.evses[i].register_wh.floor() as i64,
                    reservation_id: None,
                    timestamp: now,
                }),
                durable: true,
                tx_local: Some(local),
                offline: false,
            });
        } else {
            let trigger = if remote_id.is_some() {
                "RemoteStart"
            } else {
                "CablePluggedIn"
            };
            self.transaction_event(i, "Started", trigger, "Transaction.Begin", None);
            self.notify_needs(i);
        }
    }

    fn notify_needs(&mut self, i: usize) {
        let Some(ev) = &self.evses[i].ev else { return };
        let now = self.clock.now();
        let need = (ev.plan.energy_need.0 - ev.delivered().0).max(0.0).round() as i64;
        let e = &self.evses[i];
        let needs = if e.spec.dc {
            v201::ChargingNeeds {
                requested_energy_transfer: "DC".into(),
                departure_time: Some(ev.plan.departure),
                ac_charging_parameters: None,
                dc_charging_parameters: Some(v201::DcParameters {
                    ev_max_current: e.spec.max_current.0.round(),
                    ev_max_voltage: 800.0,
                    energy_amount: Some(need as f64),
                    ev_max_power: Some(e.spec.max_power.0.round()),
                    state_of_charge: Some(ev.soc_pct(now).round()),
                    ev_energy_capacity: None,
                    full_soc: None,
                }),
            }
        } else {
            let phases = ev.phases().unwrap_or(3);
            v201::ChargingNeeds {
                requested_energy_transfer: if phases == 1 {
                    "AC_single_phase"
                } else {
                    "AC_three_phase"
                }
                .into(),
                departure_time: Some(ev.plan.departure),
                ac_charging_parameters: Some(v201::AcParameters {
                    energy_amount: need as f64,
                    ev_min_current: 6.0,
                    ev_max_current: e.spec.max_current.0.round().clamp(16.0, 32.0),
                    ev_max_voltage: 400.0,
                }),
                dc_charging_parameters: None,
            }
        };
        self.push(Pending {
            action: "NotifyEVChargingNeeds",
            payload: payload(v201::NotifyEvChargingNeeds {
                evse_id: e.spec.id.0,
                charging_needs: needs,
            }),
            durable: false,
            tx_local: None,
            offline: false,
        });
    }

    fn meter_values_16(&mut self, i: usize, context: &'static str) {
        let Some(tx) = &self.evses[i].tx else { return };
        let local = tx.local;
        let mv = meter_value(
            &self.reading(i, context),
            self.spec.version,
            self.spec.quirks.kw_in_meter_values,
        );
        self.push(Pending {
            action: "MeterValues",
            payload: payload(v16::MeterValues {
                connector_id: self.evses[i].spec.connector.0,
                transaction_id: Some(-1),
                meter_value: vec![mv],
            }),
            durable: true,
            tx_local: Some(local),
            offline: false,
        });
    }

    /// Triggered meter values (TriggerMessage).
    pub fn triggered_meter_values(&mut self, evse: Option<u32>) {
        for i in 0..self.evses.len() {
            if evse.is_some_and(|e| e != self.evses[i].spec.id.0 && e != 0) {
                continue;
            }
            if self.v16() {
                if self.evses[i].tx.is_some() {
                    self.meter_values_16(i, "Trigger");
                } else {
                    let mv = meter_value(&self.reading(i, "Trigger"), self.spec.version, false);
                    self.push(Pending {
                        action: "MeterValues",
                        payload: payload(v16::MeterValues {
                            connector_id: self.evses[i].spec.connector.0,
                            transaction_id: None,
                            meter_value: vec![mv],
                        }),
                        durable: false,
                        tx_local: None,
                        offline: false,
                    });
                }
            } else if self.evses[i].tx.is_some() {
                self.transaction_event(i, "Updated", "Trigger", "Trigger", None);
            } else {
                let mv = meter_value(&self.reading(i, "Trigger"), self.spec.version, false);
                self.push(Pending {
                    action: "MeterValues",
                    payload: payload(v201::MeterValues {
                        evse_id: self.evses[i].spec.id.0,
                        meter_value: vec![mv],
                    }),
                    durable: false,
                    tx_local: None,
                    offline: false,
                });
            }
        }
    }

    /// A 2.0.1 TransactionEvent for EVSE `i`.
    pub fn transaction_event(
        &mut self,
        i: usize,
        event_type: &'static str,
        trigger: &'static str,
        context: &'static str,
        stopped_reason: Option<&'static str>,
    ) {
        let reading = self.reading(i, context);
        let online = self.online();
        let e = &mut self.evses[i];
        let Some(tx) = e.tx.as_mut() else { return };
        let seq = tx.seq_no;
        tx.seq_no += 1;
        let charging_state = match (&e.ev, event_type) {
            (_, "Ended") => "Idle",
            (Some(ev), _) if ev.is_full(reading.at) => "SuspendedEV",
            (Some(ev), _) if ev.last_draw().power.0 <= 0.0 && event_type != "Started" => {
                "SuspendedEVSE"
            }
            _ => "Charging",
        };
        let event = v201::TransactionEvent {
            event_type: event_type.into(),
            timestamp: reading.at,
            trigger_reason: trigger.into(),
            seq_no: i64::from(seq),
            offline: !online,
            number_of_phases_used: None,
            transaction_info: v201::TransactionInfo {
                transaction_id: tx.id.clone().unwrap_or_default(),
                charging_state: Some(charging_state.into()),
                stopped_reason: stopped_reason.map(String::from),
                remote_start_id: tx.remote_start_id.filter(|_| event_type == "Started"),
            },
            id_token: (event_type == "Started").then(|| IdToken::of(&tx.id_tag)),
            evse: Some(Evse {
                id: e.spec.id.0,
                connector_id: Some(1),
            }),
            meter_value: vec![meter_value(
                &reading,
                self.spec.version,
                self.spec.quirks.kw_in_meter_values,
            )],
            reservation_id: None,
        };
        self.push(Pending {
            action: "TransactionEvent",
            payload: payload(event),
            durable: true,
            tx_local: None,
            offline: false,
        });
    }

    /// Stops the transaction on EVSE `i` (the car stays plugged until [`Self::unplug`]).
    /// Callers outside [`Self::tick`] bring the physics up to date first.
    pub fn stop_transaction(&mut self, i: usize, cause: StopCause) {
        let Some(tx) = self.evses[i].tx.clone() else {
            return;
        };
        let now = self.clock.now();
        if self.v16() {
            let end = meter_value(
                &self.reading(i, "Transaction.End"),
                self.spec.version,
                self.spec.quirks.kw_in_meter_values,
            );
            self.push(Pending {
                action: "StopTransaction",
                payload: payload(v16::StopTransaction {
                    id_tag: Some(tx.id_tag.as_str().to_string()),
                    meter_stop: self.evses[i].register_wh.floor() as i64,
                    timestamp: now,
                    transaction_id: -1,
                    reason: Some(cause.v16().to_string()),
                    transaction_data: vec![end],
                }),
                durable: true,
                tx_local: Some(tx.local),
                offline: false,
            });
        } else {
            let (trigger, reason) = cause.v201();
            self.transaction_event(i, "Ended", trigger, "Transaction.End", Some(reason));
        }
        let e = &mut self.evses[i];
        if let Some(s) = self.record.sessions.get_mut(tx.session) {
            s.ended_at = Some(now);
            s.stop_reason = Some(match self.spec.version {
                chargegrid_core::network::OcppVersion::V16 => cause.v16().to_string(),
                chargegrid_core::network::OcppVersion::V201 => cause.v201().1.to_string(),
            });
            if let Some(ev) = &e.ev {
                s.delivered = ev.delivered();
                s.full = ev.is_full(now) || ev.delivered().0 >= 0.99 * ev.plan.energy_need.0;
            }
        }
        e.tx = None;
        e.offered = e.spec.max_power;
        e.limit = None;
        self.profiles.end_transaction(e.spec.id.0);
        if e.inoperative_after_tx {
            e.inoperative_after_tx = false;
            e.operative = false;
        }
    }

    /// The car on EVSE `i` leaves; the scenario hears the EVSE is free (if `notify`).
    pub fn unplug(&mut self, i: usize, notify: bool) {
        let Some(ev) = self.evses[i].ev.take() else {
            return;
        };
        self.refresh_statuses();
        if notify && self.evses[i].operative {
            let _ = self.events.send(ChargerEvent::EvseFree {
                charger: self.index,
                evse: self.evses[i].spec.id,
                ev: Some(ev.plan.key),
            });
        }
    }

    /// 1.6: the StartTransaction answer gives the transaction id and the token's status.
    pub fn on_start_result(&mut self, p: &Pending, payload: &Value) {
        let Some(local) = p.tx_local else { return };
        let answer = StartTransactionResponse::deserialize(payload).ok();
        let id = answer.as_ref().map_or(-1, |a| a.transaction_id).to_string();
        self.tx_ids.insert(local, id.clone());
        let status = answer.map(|a| a.id_tag_info.status);
        let accepted = status == Some(AuthorizationStatus::Accepted);
        let mut refused = None;
        for (i, e) in self.evses.iter_mut().enumerate() {
            if let Some(tx) = e.tx.as_mut().filter(|t| t.local == local) {
                tx.id = Some(id.clone());
                if !accepted {
                    refused = Some(i);
                }
                if let Some(s) = self.record.sessions.get_mut(tx.session) {
                    s.transaction_id = Some(id.clone());
                    s.authorized = accepted;
                }
            }
        }
        if let Some(s) = self
            .record
            .sessions
            .iter_mut()
            .find(|s| s.transaction_id.as_deref() == Some(&id))
        {
            s.authorized = accepted;
        }
        if let Some(i) = refused {
            self.record.error(format!("token refused: {status:?}"));
            self.stop_transaction(i, StopCause::DeAuthorized);
            self.unplug(i, true);
        }
    }

    /// 2.0.1: a Started event's answer may carry the token's status.
    pub fn on_transaction_event_result(&mut self, p: &Pending, payload: &Value) {
        let Ok(event) = v201::TransactionEvent::deserialize(&p.payload) else {
            return;
        };
        if event.event_type != "Started" {
            return;
        }
        let id = event.transaction_info.transaction_id.as_str();
        let status = TransactionEventResponse::deserialize(payload)
            .ok()
            .and_then(|a| a.id_token_info)
            .map(|i| i.status);
        let accepted = status.is_none_or(|s| s == AuthorizationStatus::Accepted);
        if let Some(s) = self
            .record
            .sessions
            .iter_mut()
            .find(|s| s.transaction_id.as_deref() == Some(id))
        {
            s.authorized = accepted;
        }
        if !accepted
            && let Some(i) = self
                .evses
                .iter()
                .position(|e| e.tx.as_ref().and_then(|t| t.id.as_deref()) == Some(id))
        {
            self.record.error(format!("token refused: {status:?}"));
            self.tick();
            self.stop_transaction(i, StopCause::DeAuthorized);
            self.unplug(i, true);
        }
    }
}
