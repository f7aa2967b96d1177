//! The charger's task: one loop per charger that owns its socket and state and reacts to
//! whatever comes first — a frame from the CSMS, the next physics step, a heartbeat, a call
//! timing out, a reconnect being due, or a request from the scenario. At most one CALL is
//! outstanding; transaction messages wait in an ordered queue that survives disconnections
//! and is replayed in order after the next accepted boot.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::Duration;

use chargegrid_core::network::OcppVersion;
use chargegrid_ocpp::messages::data::Empty;
use chargegrid_ocpp::messages::payload;
use chargegrid_ocpp::v16::requests as v16;
use chargegrid_ocpp::v201::requests as v201;
use chargegrid_ocpp::{Call, Frame};
use chrono::{DateTime, Utc};
use futures::{SinkExt, StreamExt};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

use super::control::{ChargerControl, ChargerEvent};
use super::link::{self, Ws};
use super::profiles::ProfileSet;
use super::record::ChargerRecord;
use super::state::EvseState;
use super::{ChargerSettings, ChargerSpec};
use crate::clock::SimClock;

/// A message waiting to be sent.
#[derive(Debug, Clone)]
pub(super) struct Pending {
    pub action: &'static str,
    pub payload: Value,
    /// Transaction data: kept across disconnections and replayed.
    pub durable: bool,
    /// 1.6: fill `transactionId` from this local transaction at send time.
    pub tx_local: Option<u64>,
    /// Queued while offline.
    pub offline: bool,
}

pub(super) struct Outstanding {
    pub id: String,
    pub pending: Pending,
    pub sent_at: Instant,
}

/// A simulated charger's whole state.
pub(super) struct SimCharger {
    pub index: usize,
    pub spec: ChargerSpec,
    pub settings: ChargerSettings,
    pub clock: SimClock,
    pub base_url: String,
    pub evses: Vec<EvseState>,
    pub profiles: ProfileSet,
    pub outbox: VecDeque<Pending>,
    pub outstanding: Option<Outstanding>,
    pub ws: Option<Ws>,
    pub booted: bool,
    pub boot_retry_at: Instant,
    pub heartbeat: Duration,
    pub next_heartbeat: Instant,
    pub reconnect_at: Option<Instant>,
    pub backoff_ms: u64,
    pub first_attempt: Option<Instant>,
    pub next_msg: u64,
    pub next_local_tx: u64,
    pub tx_ids: HashMap<u64, String>,
    pub last_tick: DateTime<Utc>,
    pub config: BTreeMap<String, String>,
    pub record: ChargerRecord,
    pub events: mpsc::UnboundedSender<ChargerEvent>,
    pub rng: StdRng,
    pub meter_interval_s: u32,
}

async fn at(t: Option<Instant>) {
    match t {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}

async fn next_frame(ws: &mut Option<Ws>) -> Option<Result<Message, String>> {
    match ws {
        Some(ws) => ws.next().await.map(|r| r.map_err(|e| e.to_string())),
        None => std::future::pending().await,
    }
}

impl SimCharger {
    /// A charger that first connects at `start`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        index: usize,
        spec: ChargerSpec,
        settings: ChargerSettings,
        clock: SimClock,
        base_url: String,
        events: mpsc::UnboundedSender<ChargerEvent>,
        seed: u64,
        start: Instant,
    ) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let now = clock.now();
        let evses = spec
            .evses
            .iter()
            .map(|e| {
                EvseState::new(
                    e.clone(),
                    rng.random_range(10_000.0..5_000_000.0f64).floor(),
                    now,
                )
            })
            .collect();
        let record = ChargerRecord::new(spec.id.clone(), spec.site.clone());
        let meter_interval_s = settings.meter_interval_s.max(1);
        let config = [
            ("HeartbeatInterval", "300"),
            ("MeterValueSampleInterval", &meter_interval_s.to_string()),
            (
                "MeterValuesSampledData",
                "Energy.Active.Import.Register,Power.Active.Import,Current.Import,Voltage,SoC",
            ),
            ("NumberOfConnectors", &spec.evses.len().to_string()),
            ("ChargeProfileMaxStackLevel", "10"),
            ("ChargingScheduleAllowedChargingRateUnit", "Current,Power"),
            ("ChargingScheduleMaxPeriods", "48"),
            ("MaxChargingProfilesInstalled", "20"),
            ("ConnectionTimeOut", "60"),
            ("AuthorizeRemoteTxRequests", "false"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        Self {
            index,
            settings,
            clock,
            base_url,
            evses,
            profiles: ProfileSet::default(),
            outbox: VecDeque::new(),
            outstanding: None,
            ws: None,
            booted: false,
            boot_retry_at: start,
            heartbeat: Duration::from_secs(300),
            next_heartbeat: start,
            reconnect_at: Some(start),
            backoff_ms: 0,
            first_attempt: None,
            next_msg: 0,
            next_local_tx: 0,
            tx_ids: HashMap::new(),
            last_tick: now,
            config,
            record,
            events,
            rng,
            meter_interval_s,
            spec,
        }
    }

    /// The version spoken.
    pub fn v16(&self) -> bool {
        self.spec.version == OcppVersion::V16
    }

    /// Whether messages can go out now.
    pub fn online(&self) -> bool {
        self.ws.is_some() && self.booted
    }

    /// Runs until told to finish; returns what was recorded.
    pub async fn run(
        mut self,
        mut control: mpsc::UnboundedReceiver<ChargerControl>,
    ) -> ChargerRecord {
        loop {
            let tick_at = self.clock.wall_at(self.next_tick());
            let call_deadline = self
                .outstanding
                .as_ref()
                .map(|o| o.sent_at + Duration::from_millis(self.settings.call_timeout_ms));
            let heartbeat_at = self.online().then_some(self.next_heartbeat);
            let boot_at = (self.ws.is_some() && !self.booted && self.outstanding.is_none())
                .then_some(self.boot_retry_at);
            let reconnect_at = if self.ws.is_none() {
                self.reconnect_at
            } else {
                None
            };
            tokio::select! {
                c = control.recv() => match c {
                    Some(ChargerControl::Finish) | None => {
                        self.finish().await;
                        break;
                    }
                    Some(c) => self.on_control(c).await,
                },
                frame = next_frame(&mut self.ws) => self.on_frame(frame).await,
                _ = tokio::time::sleep_until(tick_at) => self.tick(),
                _ = at(reconnect_at) => self.connect().await,
                _ = at(call_deadline) => self.on_call_timeout().await,
                _ = at(heartbeat_at) => {
                    self.next_heartbeat = Instant::now() + self.heartbeat;
                    self.push(Pending { action: "Heartbeat", payload: payload(Empty {}), durable: false, tx_local: None, offline: false });
                }
                _ = at(boot_at) => self.send_boot().await,
            }
            self.pump().await;
        }
        self.record
    }

    async fn on_control(&mut self, c: ChargerControl) {
        match c {
            ChargerControl::Plug { evse, ev } => self.plug(evse, *ev),
            ChargerControl::Outage(d) => {
                self.disconnect("network outage").await;
                self.reconnect_at = Some(Instant::now() + d);
            }
            ChargerControl::Finish => {}
        }
    }

    /// Queues a message (non-durable ones are dropped while offline).
    pub fn push(&mut self, mut p: Pending) {
        if !p.durable && !self.online() {
            return;
        }
        p.offline = !self.online();
        self.outbox.push_back(p);
    }

    async fn connect(&mut self) {
        self.reconnect_at = None;
        let first = *self.first_attempt.get_or_insert_with(Instant::now);
        let _ = first;
        match link::connect(&self.base_url, &self.spec, Duration::from_secs(10)).await {
            Ok(ws) => {
                self.ws = Some(ws);
                self.record.stats.connects += 1;
                self.booted = false;
                self.boot_retry_at = Instant::now();
            }
            Err(e) => {
                self.record.stats.connect_failures += 1;
                if self.record.stats.connect_failures <= 3 {
                    self.record.error(format!("connect: {e}"));
                }
                self.schedule_reconnect();
            }
        }
    }

    fn schedule_reconnect(&mut self) {
        self.backoff_ms = if self.backoff_ms == 0 {
            self.settings.reconnect_base_ms
        } else {
            (self.backoff_ms * 2).min(self.settings.reconnect_max_ms)
        };
        let jitter = self.rng.random_range(0.5..1.5);
        let delay = Duration::from_millis((self.backoff_ms as f64 * jitter) as u64);
        self.reconnect_at = Some(Instant::now() + delay);
    }

    /// Drops the socket; the outstanding durable message goes back to the queue head.
    pub async fn disconnect(&mut self, why: &str) {
        if let Some(mut ws) = self.ws.take() {
            let _ = tokio::time::timeout(Duration::from_millis(200), ws.close(None)).await;
            tracing::debug!(charger = %self.spec.id, why, "disconnected");
        }
        self.booted = false;
        if let Some(o) = self.outstanding.take()
            && o.pending.durable
        {
            self.outbox.push_front(o.pending);
        }
        self.outbox.retain(|p| p.durable);
        for p in &mut self.outbox {
            p.offline = true;
        }
        for e in &mut self.evses {
            e.reported = None;
        }
        self.schedule_reconnect();
    }

    async fn send_boot(&mut self) {
        let serial = format!("SIM-{}", self.index);
        let payload = if self.v16() {
            payload(v16::BootNotification {
                charge_point_vendor: self.spec.vendor.clone(),
                charge_point_model: self.spec.model.clone(),
                charge_point_serial_number: Some(serial),
                charge_box_serial_number: None,
                firmware_version: Some("sim-1.0".into()),
                iccid: None,
                imsi: None,
                meter_type: None,
                meter_serial_number: None,
            })
        } else {
            payload(v201::BootNotification {
                charging_station: v201::ChargingStation {
                    model: self.spec.model.clone(),
                    vendor_name: self.spec.vendor.clone(),
                    serial_number: Some(serial),
                    firmware_version: Some("sim-1.0".into()),
                },
                reason: "PowerUp".into(),
            })
        };
        let p = Pending {
            action: "BootNotification",
            payload,
            durable: false,
            tx_local: None,
            offline: false,
        };
        self.send(p).await;
    }

    /// Sends the next queued message when nothing is outstanding.
    async fn pump(&mut self) {
        while self.online() && self.outstanding.is_none() {
            let Some(mut p) = self.outbox.pop_front() else {
                break;
            };
            if let Some(local) = p.tx_local
                && self.v16()
                && p.action != "StartTransaction"
            {
                let id = self
                    .tx_ids
                    .get(&local)
                    .and_then(|s| s.parse::<i64>().ok())
                    .unwrap_or(-1);
                p.payload["transactionId"] = Value::from(id);
            }
            self.send(p).await;
        }
    }

    async fn send(&mut self, p: Pending) {
        let Some(ws) = self.ws.as_mut() else {
            if p.durable {
                self.outbox.push_front(p);
            }
            return;
        };
        self.next_msg += 1;
        let id = self.next_msg.to_string();
        let frame = Frame::Call(Call {
            id: id.clone(),
            action: p.action.to_string(),
            payload: p.payload.clone(),
        });
        let text = frame.to_text(self.spec.version);
        if let Err(e) = ws.send(Message::Text(text.into())).await {
            self.record.error(format!("send {}: {e}", p.action));
            if p.durable {
                self.outbox.push_front(p);
            }
            self.disconnect("send failed").await;
            return;
        }
        self.record.stats.sent(p.action);
        if p.offline {
            self.record.stats.replayed += 1;
        }
        self.outstanding = Some(Outstanding {
            id,
            pending: p,
            sent_at: Instant::now(),
        });
    }

    async fn on_call_timeout(&mut self) {
        if let Some(o) = self.outstanding.take() {
            self.record.stats.timeout(o.pending.action);
            self.record
                .error(format!("{} got no answer in time", o.pending.action));
            if o.pending.durable {
                self.outbox.push_front(o.pending);
            }
            // A silent server: drop the socket and start again, as chargers do.
            self.disconnect("call timeout").await;
        }
    }

    async fn on_frame(&mut self, frame: Option<Result<Message, String>>) {
        let text = match frame {
            Some(Ok(Message::Text(t))) => t,
            Some(Ok(Message::Close(_))) | None => {
                self.disconnect("closed by server").await;
                return;
            }
            Some(Ok(_)) => return,
            Some(Err(e)) => {
                self.record.error(format!("socket: {e}"));
                self.disconnect("socket error").await;
                return;
            }
        };
        match Frame::parse(&text) {
            Ok(Frame::Call(call)) => self.on_call(call).await,
            Ok(Frame::CallResult(r)) => {
                let Some(o) = self.outstanding.take_if(|o| o.id == r.id) else {
                    self.record
                        .error(format!("answer to unknown call {}", r.id));
                    return;
                };
                self.record
                    .stats
                    .answered(o.pending.action, o.sent_at.elapsed());
                self.on_result(o.pending, r.payload).await;
            }
            Ok(Frame::CallError(e)) => {
                let Some(o) = self.outstanding.take_if(|o| o.id == e.id) else {
                    self.record
                        .error(format!("error for unknown call {}", e.id));
                    return;
                };
                let code = e.code.as_str(self.spec.version);
                self.record
                    .stats
                    .error(o.pending.action, code, o.sent_at.elapsed());
                if o.pending.offline {
                    self.record.stats.replay_errors += 1;
                }
                self.record.error(format!(
                    "{} answered {code}: {}",
                    o.pending.action, e.description
                ));
            }
            Err(e) => {
                self.record.stats.bad_frames += 1;
                self.record.error(format!("bad frame: {}", e.description));
            }
        }
    }

    async fn on_call(&mut self, call: Call) {
        self.record.stats.received(&call.action);
        let answer = self.answer(&call);
        if self.spec.quirks.answer_delay_ms > 0 {
            tokio::time::sleep(Duration::from_millis(self.spec.quirks.answer_delay_ms)).await;
        }
        let frame = match answer {
            Ok(payload) => Frame::CallResult(chargegrid_ocpp::CallResult {
                id: call.id.clone(),
                payload,
            }),
            Err((code, description)) => Frame::CallError(chargegrid_ocpp::CallError {
                id: call.id.clone(),
                code,
                description,
                details: Value::Object(Default::default()),
            }),
        };
        let text = frame.to_text(self.spec.version);
        if let Some(ws) = self.ws.as_mut()
            && ws.send(Message::Text(text.into())).await.is_err()
        {
            self.disconnect("send failed").await;
            return;
        }
        self.after_answer(&call).await;
    }

    async fn on_result(&mut self, p: Pending, payload: Value) {
        match p.action {
            "BootNotification" => {
                let interval = payload["interval"].as_u64().unwrap_or(300).max(1);
                match payload["status"].as_str() {
                    Some("Accepted") => {
                        self.booted = true;
                        self.backoff_ms = 0;
                        if !self.record.booted {
                            self.record.booted = true;
                            self.record.boot_ms = self
                                .first_attempt
                                .map(|t| t.elapsed().as_secs_f64() * 1000.0);
                        }
                        self.heartbeat = Duration::from_secs(
                            self.settings.heartbeat_wall_s.unwrap_or(interval).max(1),
                        );
                        self.next_heartbeat = Instant::now() + self.heartbeat;
                        self.config.insert(
                            "HeartbeatInterval".into(),
                            self.heartbeat.as_secs().to_string(),
                        );
                        self.report_all_statuses(true);
                        let _ = self.events.send(ChargerEvent::Booted {
                            charger: self.index,
                        });
                    }
                    other => {
                        self.record
                            .error(format!("boot answered {other:?}; retrying"));
                        self.boot_retry_at = Instant::now() + Duration::from_secs(interval.min(5));
                    }
                }
            }
            "StartTransaction" => self.on_start_result(&p, &payload),
            "TransactionEvent" => self.on_transaction_event_result(&p, &payload),
            _ => {}
        }
    }

    /// Reports each connector's status (all of them after a boot, else only changes).
    pub fn report_all_statuses(&mut self, after_boot: bool) {
        let now = self.clock.now();
        let mut front = Vec::new();
        if after_boot && self.v16() {
            front.push(Pending {
                action: "StatusNotification",
                payload: payload(status_16(0, "Available", now)),
                durable: false,
                tx_local: None,
                offline: false,
            });
        }
        for i in 0..self.evses.len() {
            if let Some(p) = self.status_message(i, now) {
                front.push(p);
            }
        }
        if after_boot {
            for p in front.into_iter().rev() {
                self.outbox.push_front(p);
            }
        } else {
            for p in front {
                self.push(p);
            }
        }
    }

    /// A StatusNotification for EVSE `i` if its status changed since last reported.
    pub fn status_message(&mut self, i: usize, now: DateTime<Utc>) -> Option<Pending> {
        let v16 = self.v16();
        let e = &mut self.evses[i];
        let status = if v16 {
            e.status_v16(now)
        } else {
            e.status_v201()
        };
        if e.reported == Some(status) {
            return None;
        }
        e.reported = Some(status);
        let payload = if v16 {
            payload(status_16(e.spec.connector.0, status, now))
        } else {
            payload(v201::StatusNotification {
                timestamp: now,
                connector_status: status.into(),
                evse_id: e.spec.id.0,
                connector_id: 1,
            })
        };
        Some(Pending {
            action: "StatusNotification",
            payload,
            durable: false,
            tx_local: None,
            offline: false,
        })
    }

    /// Sends changed statuses.
    pub fn refresh_statuses(&mut self) {
        if !self.online() {
            return;
        }
        let now = self.clock.now();
        for i in 0..self.evses.len() {
            if let Some(p) = self.status_message(i, now) {
                self.push(p);
            }
        }
    }

    /// End of the run: stop transactions, deliver the queue (up to 20 s wall), close.
    async fn finish(&mut self) {
        self.tick();
        for i in 0..self.evses.len() {
            if self.evses[i].tx.is_some() {
                self.stop_transaction(i, StopCause::Local);
            }
            self.unplug(i, false);
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        while (!self.outbox.is_empty() || self.outstanding.is_some()) && Instant::now() < deadline {
            if self.ws.is_none() {
                let wait = self.reconnect_at.unwrap_or_else(Instant::now);
                if wait > deadline {
                    break;
                }
                tokio::time::sleep_until(wait).await;
                self.connect().await;
                continue;
            }
            if !self.booted && self.outstanding.is_none() {
                self.send_boot().await;
            }
            self.pump().await;
            tokio::select! {
                frame = next_frame(&mut self.ws) => self.on_frame(frame).await,
                _ = tokio::time::sleep_until(deadline) => break,
            }
        }
        let left = self.outbox.iter().filter(|p| p.durable).count();
        if left > 0 {
            self.record.error(format!(
                "{left} transaction messages still queued at the end"
            ));
        }
        if let Some(mut ws) = self.ws.take() {
            let _ = tokio::time::timeout(Duration::from_millis(500), ws.close(None)).await;
        }
    }
}

/// Why a transaction stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum StopCause {
    /// The car left.
    EvLeft,
    /// The CSMS asked.
    Remote,
    /// A reset.
    Reset {
        /// Hard (immediate).
        hard: bool,
    },
    /// The server refused the token.
    DeAuthorized,
    /// End of the run.
    Local,
}

impl StopCause {
    /// 1.6 reason.
    pub fn v16(self) -> &'static str {
        match self {
            StopCause::EvLeft => "EVDisconnected",
            StopCause::Remote => "Remote",
            StopCause::Reset { hard: true } => "HardReset",
            StopCause::Reset { hard: false } => "SoftReset",
            StopCause::DeAuthorized => "DeAuthorized",
            StopCause::Local => "Local",
        }
    }

    /// 2.0.1 (trigger reason, stopped reason).
    pub fn v201(self) -> (&'static str, &'static str) {
        match self {
            StopCause::EvLeft => ("EVDeparted", "EVDisconnected"),
            StopCause::Remote => ("RemoteStop", "Remote"),
            StopCause::Reset { hard: true } => ("ResetCommand", "ImmediateReset"),
            StopCause::Reset { hard: false } => ("ResetCommand", "SoftReset"),
            StopCause::DeAuthorized => ("Deauthorized", "DeAuthorized"),
            StopCause::Local => ("StopAuthorized", "Local"),
        }
    }
}

/// A 1.6 StatusNotification without an error.
fn status_16(connector: u32, status: &str, at: DateTime<Utc>) -> v16::StatusNotification {
    v16::StatusNotification {
        connector_id: connector,
        error_code: "NoError".into(),
        status: status.into(),
        info: None,
        timestamp: Some(at),
        vendor_id: None,
        vendor_error_code: None,
    }
}
