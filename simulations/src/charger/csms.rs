//! Answers to every call a CSMS can make, in 1.6 and 2.0.1: remote start/stop, charging
//! profiles (installed, cleared, reported as a composite schedule of the effective limit),
//! reset, availability, reservations, configuration / variables, trigger, unlock, local list,
//! firmware and logs (politely refused), data transfer (unknown vendor). Unknown actions get
//! NotImplemented. Side effects that need the socket (reset, triggered messages) run after
//! the answer has been sent, as a real charger does.

use chargegrid_core::IdTag;
use chargegrid_core::command::RateUnit;
use chargegrid_ocpp::messages::charging::{
    ChargingProfilePurpose, ChargingSchedule, ChargingSchedulePeriod, ClearChargingProfile16,
    ClearChargingProfile201, GetCompositeSchedule, GetCompositeScheduleResponse,
    SetChargingProfile16, SetChargingProfile201,
};
use chargegrid_ocpp::messages::configuration::{
    ChangeConfiguration, GetConfiguration, GetConfigurationResponse, GetVariableResult,
    GetVariables, GetVariablesResponse, KeyValue, SetVariableResult, SetVariables,
    SetVariablesResponse,
};
use chargegrid_ocpp::messages::operations::{
    Availability, CancelReservation, ChangeAvailability16, ChangeAvailability201, ReserveNow16,
    ReserveNow201, Reset, TriggerMessage, UnlockConnector,
};
use chargegrid_ocpp::messages::remote::{
    RemoteStartTransaction, RemoteStopTransaction, RequestStartTransaction, RequestStopTransaction,
};
use chargegrid_ocpp::messages::{data::StatusResponse, payload};
use chargegrid_ocpp::{Call, ErrorCode};
use chrono::Duration;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::profiles::{ClearCriteria, Profile, ProfileError, Purpose};
use super::record::ProfileReceipt;
use super::task::{Pending, SimCharger, StopCause};
use crate::ev::AC_VOLTS_NOMINAL;

type Answer = Result<Value, (ErrorCode, String)>;

fn status(s: &str) -> Answer {
    Ok(payload(StatusResponse::of(s)))
}

/// The typed request in `p`, or the CALLERROR a charger answers a malformed one with.
fn request<T: DeserializeOwned>(p: &Value) -> Result<T, (ErrorCode, String)> {
    chargegrid_ocpp::decode::decode(p).map_err(|e| (e.code, e.message))
}

impl SimCharger {
    fn evse_index(&self, evse: u32) -> Option<usize> {
        if self.v16() {
            self.evses.iter().position(|e| e.spec.connector.0 == evse)
        } else {
            self.evses.iter().position(|e| e.spec.id.0 == evse)
        }
    }

    fn tx_index(&self, id: &str) -> Option<usize> {
        self.evses
            .iter()
            .position(|e| e.tx.as_ref().and_then(|t| t.id.as_deref()) == Some(id))
    }

    /// The answer to a CSMS call (without side effects that need the socket).
    pub fn answer(&mut self, call: &Call) -> Answer {
        let p = &call.payload;
        match call.action.as_str() {
            "RemoteStartTransaction" | "RequestStartTransaction" => self.remote_start(call),
            "RemoteStopTransaction" | "RequestStopTransaction" => {
                let id = self.stop_target(p)?;
                status(if self.tx_index(&id).is_some() {
                    "Accepted"
                } else {
                    "Rejected"
                })
            }
            "SetChargingProfile" => self.set_profile(call),
            "ClearChargingProfile" => self.clear_profile(p),
            "GetCompositeSchedule" => self.composite(p),
            "Reset" => {
                let reset: Reset = request(p)?;
                let busy = self.evses.iter().any(|e| e.tx.is_some());
                match reset.kind.as_str() {
                    "OnIdle" if busy => status("Scheduled"),
                    _ => status("Accepted"),
                }
            }
            "ChangeAvailability" => self.change_availability(p),
            "ReserveNow" => self.reserve(p),
            "CancelReservation" => {
                let id = i64::from(request::<CancelReservation>(p)?.reservation_id);
                let found = self
                    .evses
                    .iter_mut()
                    .find(|e| e.reservation.is_some_and(|r| r.0 == id));
                match found {
                    Some(e) => {
                        e.reservation = None;
                        status("Accepted")
                    }
                    None => status("Rejected"),
                }
            }
            "TriggerMessage" => {
                let known: &[&str] = if self.v16() {
                    &[
                        "BootNotification",
                        "Heartbeat",
                        "MeterValues",
                        "StatusNotification",
                    ]
                } else {
                    &[
                        "BootNotification",
                        "Heartbeat",
                        "MeterValues",
                        "StatusNotification",
                        "TransactionEvent",
                    ]
                };
                let trigger: TriggerMessage = request(p)?;
                status(if known.contains(&trigger.requested_message.as_str()) {
                    "Accepted"
                } else {
                    "NotImplemented"
                })
            }
            "UnlockConnector" => {
                let unlock: UnlockConnector = request(p)?;
                let evse = if self.v16() {
                    unlock.connector_id
                } else {
                    unlock.evse_id.unwrap_or(0)
                };
                match self.evse_index(evse) {
                    Some(_) if self.v16() => status("Unlocked"),
                    Some(i) if self.evses[i].tx.is_some() => status("OngoingAuthorizedTransaction"),
                    Some(_) => status("Unlocked"),
                    None if self.v16() => status("NotSupported"),
                    None => status("UnknownConnector"),
                }
            }
            "ChangeConfiguration" => {
                let ChangeConfiguration { key, value } = request(p)?;
                if !self.config.contains_key(&key) {
                    return status("NotSupported");
                }
                if key == "MeterValueSampleInterval"
                    && let Ok(s) = value.parse::<u32>()
                {
                    self.meter_interval_s = s.max(1);
                }
                self.config.insert(key, value);
                status("Accepted")
            }
            "GetConfiguration" => {
                let wanted = request::<GetConfiguration>(p)?.key.unwrap_or_default();
                let key_value = |(key, value): (&String, &String)| KeyValue {
                    key: key.clone(),
                    readonly: false,
                    value: Some(value.clone()),
                };
                let mut out = GetConfigurationResponse::default();
                if wanted.is_empty() {
                    out.configuration_key = self.config.iter().map(key_value).collect();
                } else {
                    for k in wanted {
                        match self.config.get_key_value(&k) {
                            Some(kv) => out.configuration_key.push(key_value(kv)),
                            None => out.unknown_key.push(k),
                        }
                    }
                }
                Ok(payload(out))
            }
            "GetVariables" => {
                let req: GetVariables = request(p)?;
                let get_variable_result = req
                    .get_variable_data
                    .into_iter()
                    .map(|d| {
                        let value = self.variable(&d.component.name, &d.variable.name);
                        GetVariableResult {
                            attribute_status: if value.is_some() {
                                "Accepted"
                            } else {
                                "UnknownVariable"
                            }
                            .into(),
                            attribute_value: value,
                            component: d.component,
                            variable: d.variable,
                        }
                    })
                    .collect();
                Ok(payload(GetVariablesResponse {
                    get_variable_result,
                }))
            }
            "SetVariables" => {
                let req: SetVariables = request(p)?;
                let set_variable_result = req
                    .set_variable_data
                    .into_iter()
                    .map(|d| {
                        let name = d.variable.name.as_str();
                        let known = self.variable(&d.component.name, name).is_some();
                        if known
                            && name == "TxUpdatedInterval"
                            && let Ok(s) = d.attribute_value.parse::<u32>()
                        {
                            self.meter_interval_s = s.max(1);
                        }
                        SetVariableResult {
                            attribute_status: if known { "Accepted" } else { "UnknownVariable" }
                                .into(),
                            component: d.component,
                            variable: d.variable,
                        }
                    })
                    .collect();
                Ok(payload(SetVariablesResponse {
                    set_variable_result,
                }))
            }
            "GetBaseReport" | "GetReport" => status("EmptyResultSet"),
            "ClearCache" => status("Accepted"),
            "SendLocalList" => status("Accepted"),
            "GetLocalListVersion" if self.v16() => Ok(json!({"listVersion": 0})),
            "GetLocalListVersion" => Ok(json!({"versionNumber": 0})),
            "UpdateFirmware" if self.v16() => Ok(json!({})),
            "UpdateFirmware" => status("Rejected"),
            "GetDiagnostics" => Ok(json!({})),
            "GetLog" => status("Rejected"),
            "DataTransfer" => status("UnknownVendorId"),
            "GetTransactionStatus" => {
                let queued = self.outbox.iter().any(|m| m.durable);
                let mut out = json!({"messagesInQueue": queued});
                if let Some(id) = p["transactionId"].as_str() {
                    out["ongoingIndicator"] = json!(self.tx_index(id).is_some());
                }
                Ok(out)
            }
            "GetChargingProfiles" => status("NoProfiles"),
            other => Err((
                ErrorCode::NotImplemented,
                format!("{other} is not implemented by this simulated charger"),
            )),
        }
    }

    fn variable(&self, component: &str, variable: &str) -> Option<String> {
        match (component, variable) {
            ("OCPPCommCtrlr", "HeartbeatInterval") => Some(self.heartbeat.as_secs().to_string()),
            ("SampledDataCtrlr", "TxUpdatedInterval") => Some(self.meter_interval_s.to_string()),
            ("SmartChargingCtrlr", "Enabled") => Some("true".into()),
            ("SmartChargingCtrlr", "RateUnit") => Some("A,W".into()),
            ("ChargingStation", "Model") => Some(self.spec.model.clone()),
            ("ChargingStation", "VendorName") => Some(self.spec.vendor.clone()),
            _ => None,
        }
    }

    fn remote_start(&mut self, call: &Call) -> Answer {
        let p = &call.payload;
        let (tag, evse, remote_id, profile) = if self.v16() {
            let r: RemoteStartTransaction = request(p)?;
            (r.id_tag, r.connector_id, None, r.charging_profile)
        } else {
            let r: RequestStartTransaction = request(p)?;
            let id = Some(i64::from(r.remote_start_id));
            (r.id_token.id_token, r.evse_id, id, r.charging_profile)
        };
        let Ok(tag) = IdTag::new(&tag) else {
            return status("Rejected");
        };
        let i = match evse {
            Some(e) => self.evse_index(e),
            None => self
                .evses
                .iter()
                .position(|e| e.tx.is_none() && e.operative),
        };
        let Some(i) = i.filter(|&i| self.evses[i].tx.is_none() && self.evses[i].operative) else {
            return status("Rejected");
        };
        if let Some(profile) = profile {
            let now = self.clock.now();
            let evse_no = self.evses[i].spec.id.0;
            let parsed = Profile::from_message(&profile, self.v16(), evse_no, now);
            let accepted = parsed.as_ref().is_ok_and(|p| p.purpose == Purpose::Tx);
            self.record.profiles.push(ProfileReceipt {
                at: now,
                action: call.action.clone(),
                evse: evse_no,
                accepted,
                profile: parsed.as_ref().ok().cloned(),
                problem: parsed.as_ref().err().map(ToString::to_string),
            });
            match parsed {
                Ok(pr) if accepted => self.profiles.install(pr),
                _ => return status("Rejected"),
            }
        }
        self.evses[i].remote_start = Some((tag, remote_id));
        status("Accepted")
    }

    fn set_profile(&mut self, call: &Call) -> Answer {
        let p = &call.payload;
        let now = self.clock.now();
        let (evse, parsed) = if self.v16() {
            let set: SetChargingProfile16 = request(p)?;
            let c = set.connector_id;
            let evse = if c == 0 {
                Some(0)
            } else {
                self.evse_index(c).map(|i| self.evses[i].spec.id.0)
            };
            (
                evse.unwrap_or(c),
                evse.ok_or(ProfileError::NoEvse(c))
                    .and_then(|e| Profile::from_message(&set.cs_charging_profiles, true, e, now)),
            )
        } else {
            let set: SetChargingProfile201 = request(p)?;
            let e = set.evse_id;
            let known = e == 0 || self.evse_index(e).is_some();
            (
                e,
                if known {
                    Profile::from_message(&set.charging_profile, false, e, now)
                } else {
                    Err(ProfileError::NoEvse(e))
                },
            )
        };
        let verdict = match &parsed {
            Err(e) => Err(e.to_string()),
            Ok(_) if self.spec.quirks.reject_profiles => Err("quirk: rejects profiles".into()),
            Ok(pr) if pr.purpose == Purpose::Tx => {
                let running = self
                    .evses
                    .iter()
                    .find(|e| e.spec.id.0 == pr.evse)
                    .and_then(|e| e.tx.as_ref());
                match running {
                    None => Err("TxProfile without a transaction".into()),
                    Some(tx)
                        if pr
                            .transaction_id
                            .as_ref()
                            .is_some_and(|id| Some(id) != tx.id.as_ref()) =>
                    {
                        Err("TxProfile for another transaction".into())
                    }
                    Some(_) => Ok(()),
                }
            }
            Ok(pr) if pr.purpose == Purpose::ChargerMax && pr.evse != 0 => {
                Err("ChargePointMax must address EVSE 0".into())
            }
            Ok(_) => Ok(()),
        };
        self.record.profiles.push(ProfileReceipt {
            at: now,
            action: call.action.clone(),
            evse,
            accepted: verdict.is_ok(),
            profile: parsed.as_ref().ok().cloned(),
            problem: verdict.as_ref().err().cloned(),
        });
        match (verdict, parsed) {
            (Ok(()), Ok(pr)) => {
                // Close the current step under the old limit, then obey the new one at once.
                self.tick();
                self.profiles.install(pr);
                self.decide_offers(now);
                status("Accepted")
            }
            _ => status("Rejected"),
        }
    }

    fn clear_profile(&mut self, p: &Value) -> Answer {
        let purpose = |p: Option<ChargingProfilePurpose>| {
            p.map(|p| match p {
                ChargingProfilePurpose::ChargePointMaxProfile
                | ChargingProfilePurpose::ChargingStationMaxProfile
                | ChargingProfilePurpose::ChargingStationExternalConstraints => Purpose::ChargerMax,
                ChargingProfilePurpose::TxDefaultProfile => Purpose::TxDefault,
                ChargingProfilePurpose::TxProfile => Purpose::Tx,
            })
        };
        let criteria = if self.v16() {
            let clear: ClearChargingProfile16 = request(p)?;
            ClearCriteria {
                id: clear.id.map(i64::from),
                evse: clear.connector_id.map(|c| {
                    if c == 0 {
                        0
                    } else {
                        self.evse_index(c).map_or(c, |i| self.evses[i].spec.id.0)
                    }
                }),
                purpose: purpose(clear.charging_profile_purpose),
                stack_level: clear.stack_level,
            }
        } else {
            let clear: ClearChargingProfile201 = request(p)?;
            let c = clear.charging_profile_criteria;
            ClearCriteria {
                id: clear.charging_profile_id.map(i64::from),
                evse: c.as_ref().and_then(|c| c.evse_id),
                purpose: purpose(c.as_ref().and_then(|c| c.charging_profile_purpose)),
                stack_level: c.as_ref().and_then(|c| c.stack_level),
            }
        };
        self.tick();
        let cleared = self.profiles.clear(&criteria);
        self.decide_offers(self.clock.now());
        status(if cleared { "Accepted" } else { "Unknown" })
    }

    /// The effective limit (W) on EVSE index `i`, or the charger with `None`, at `t`.
    fn effective_w(&self, i: Option<usize>, t: chrono::DateTime<chrono::Utc>) -> f64 {
        match i {
            Some(i) => {
                let hw = self.evses[i].spec.max_power.min(self.spec.max_power);
                self.evse_profile_limit(i, t).map_or(hw, |l| l.min(hw)).0
            }
            None => {
                let cap = self.profiles.charger_limit(t).map(|(v, u, ph)| match u {
                    RateUnit::W => v,
                    RateUnit::A if self.spec.has_dc() => v * 400.0,
                    RateUnit::A => v * AC_VOLTS_NOMINAL * f64::from(ph.unwrap_or(self.spec.phases)),
                });
                cap.map_or(self.spec.max_power.0, |c| c.min(self.spec.max_power.0))
            }
        }
    }

    fn composite(&mut self, p: &Value) -> Answer {
        let now = self.clock.now();
        let req: GetCompositeSchedule = request(p)?;
        let duration = req.duration;
        let evse = req.connector_id.or(req.evse_id).unwrap_or(0);
        let i = if evse == 0 {
            None
        } else {
            match self.evse_index(evse) {
                Some(i) => Some(i),
                None => return status("Rejected"),
            }
        };
        let unit = match req.charging_rate_unit {
            Some(u) => u.into(),
            None if self.spec.has_dc() => RateUnit::W,
            None => RateUnit::A,
        };
        let per_amp = if self.spec.has_dc() {
            400.0
        } else {
            AC_VOLTS_NOMINAL * f64::from(self.spec.phases)
        };
        let end = now + Duration::seconds(i64::from(duration));
        let tx_start = i.and_then(|i| self.evses[i].tx.as_ref().map(|t| t.started_at));
        let mut points = vec![now];
        points.extend(self.profiles.change_points(now, end, tx_start));
        let mut periods = Vec::new();
        let mut last: Option<f64> = None;
        for t in points {
            let w = self.effective_w(i, t);
            let v = match unit {
                RateUnit::W => w,
                RateUnit::A => w / per_amp,
            };
            let v = ((v * 10.0) + 1e-9).floor() / 10.0;
            if last != Some(v) {
                let offset = (t - now).num_seconds().clamp(0, i64::from(u32::MAX));
                periods.push(ChargingSchedulePeriod {
                    start_period: offset as u32,
                    limit: v,
                    number_phases: None,
                });
                last = Some(v);
            }
        }
        let v16 = self.v16();
        let schedule = ChargingSchedule {
            id: None,
            evse_id: (!v16).then_some(evse),
            duration: Some(duration),
            start_schedule: v16.then_some(now),
            schedule_start: (!v16).then_some(now),
            charging_rate_unit: unit.into(),
            charging_schedule_period: periods,
        };
        Ok(payload(GetCompositeScheduleResponse {
            status: "Accepted".into(),
            connector_id: v16.then_some(evse),
            schedule_start: v16.then_some(now),
            charging_schedule: v16.then(|| schedule.clone()),
            schedule: (!v16).then_some(schedule),
        }))
    }

    fn change_availability(&mut self, p: &Value) -> Answer {
        let (availability, evse) = if self.v16() {
            let c: ChangeAvailability16 = request(p)?;
            (c.kind, c.connector_id)
        } else {
            let c: ChangeAvailability201 = request(p)?;
            (c.operational_status, c.evse.map_or(0, |e| e.id))
        };
        let operative = availability == Availability::Operative;
        let targets: Vec<usize> = if evse == 0 {
            (0..self.evses.len()).collect()
        } else {
            match self.evse_index(evse) {
                Some(i) => vec![i],
                None => return status("Rejected"),
            }
        };
        let mut scheduled = false;
        for i in targets {
            let e = &mut self.evses[i];
            if !operative && e.tx.is_some() {
                e.inoperative_after_tx = true;
                scheduled = true;
            } else {
                let was = e.operative;
                e.operative = operative;
                e.inoperative_after_tx = false;
                if operative && !was && e.ev.is_none() {
                    let _ = self.events.send(super::control::ChargerEvent::EvseFree {
                        charger: self.index,
                        evse: e.spec.id,
                        ev: None,
                    });
                }
            }
        }
        self.refresh_statuses();
        status(if scheduled { "Scheduled" } else { "Accepted" })
    }

    fn reserve(&mut self, p: &Value) -> Answer {
        let (id, evse, expiry) = if self.v16() {
            let r: ReserveNow16 = request(p)?;
            (r.reservation_id, Some(r.connector_id), r.expiry_date)
        } else {
            let r: ReserveNow201 = request(p)?;
            (r.id, r.evse_id, r.expiry_date_time)
        };
        let id = i64::from(id);
        let i = match evse.filter(|e| *e != 0) {
            Some(e) => self.evse_index(e),
            None => self
                .evses
                .iter()
                .position(|e| e.is_free() && e.reservation.is_none()),
        };
        match i {
            Some(i) if !self.evses[i].operative => status("Unavailable"),
            Some(i) if self.evses[i].ev.is_some() || self.evses[i].reservation.is_some() => {
                status("Occupied")
            }
            Some(i) => {
                self.evses[i].reservation = Some((id, expiry));
                self.refresh_statuses();
                status("Accepted")
            }
            None => status("Rejected"),
        }
    }

    /// Side effects after the answer went out.
    pub async fn after_answer(&mut self, call: &Call) {
        let p = &call.payload;
        match call.action.as_str() {
            "RemoteStopTransaction" | "RequestStopTransaction" => {
                let Ok(id) = self.stop_target(p) else {
                    return;
                };
                if let Some(i) = self.tx_index(&id) {
                    self.tick();
                    self.stop_transaction(i, StopCause::Remote);
                    self.unplug(i, true);
                }
            }
            "Reset" => {
                let Ok(reset) = request::<Reset>(p) else {
                    return;
                };
                let hard = matches!(reset.kind.as_str(), "Hard" | "Immediate");
                if reset.kind == "OnIdle" && self.evses.iter().any(|e| e.tx.is_some()) {
                    return;
                }
                self.tick();
                for i in 0..self.evses.len() {
                    if self.evses[i].tx.is_some() {
                        self.stop_transaction(i, StopCause::Reset { hard });
                        self.unplug(i, true);
                    }
                }
                self.disconnect("reset").await;
            }
            "TriggerMessage" => {
                let Ok(trigger) = request::<TriggerMessage>(p) else {
                    return;
                };
                let evse = trigger.connector_id.or(trigger.evse.map(|e| e.id));
                match trigger.requested_message.as_str() {
                    "BootNotification" => self.booted_again_later(),
                    "Heartbeat" => self.push(Pending {
                        action: "Heartbeat",
                        payload: json!({}),
                        durable: false,
                        tx_local: None,
                        offline: false,
                    }),
                    "StatusNotification" => {
                        for e in &mut self.evses {
                            e.reported = None;
                        }
                        self.refresh_statuses();
                    }
                    "MeterValues" | "TransactionEvent" => self.triggered_meter_values(evse),
                    _ => {}
                }
            }
            _ => {}
        }
    }

    /// The transaction a remote stop names (1.6 integer, 2.0.1 text), as text.
    fn stop_target(&self, p: &Value) -> Result<String, (ErrorCode, String)> {
        Ok(if self.v16() {
            request::<RemoteStopTransaction>(p)?
                .transaction_id
                .to_string()
        } else {
            request::<RequestStopTransaction>(p)?.transaction_id
        })
    }

    fn booted_again_later(&mut self) {
        // A triggered boot: send BootNotification again as the next message.
        self.booted = false;
        self.boot_retry_at = tokio::time::Instant::now();
    }
}
