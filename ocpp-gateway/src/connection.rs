//! One charger connection's socket loop: reads frames and answers every CALL (through
//! [`crate::routing`]), sends commands from the bus as CALLs ([`crate::correlation`]: one
//! outstanding at a time, with a timeout), paces the charger ([`crate::rate_budget`]), pings
//! to find dead sockets and keeps the registry entry fresh ([`crate::liveness`]). Bad input gets
//! a CALLERROR and the connection stays up.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

use axum::extract::ws::{CloseFrame, Message, WebSocket, close_code};
use chargegrid_core::ChargerId;
use chargegrid_core::command::{ChargerCommand, CommandReply, ReplyDetails};
use chargegrid_core::network::OcppVersion;
use chargegrid_ocpp::{Call, CallError, CallResult, ErrorCode, Frame};
use chargegrid_store::IncomingCommand;
use serde_json::Value;
use tokio::sync::mpsc;

use crate::context::ConnectionContext;
use crate::correlation::Calls;
use crate::liveness::{Claim, Liveness, renew_claim};
use crate::local::Queued;
use crate::rate_budget::RateBudget;
use crate::{Gateway, routing};

/// Why a connection ended (a metric label).
#[derive(Debug, Clone, Copy)]
enum CloseReason {
    ChargerClosed,
    SocketError,
    PingTimeout,
    Replaced,
    Shutdown,
    TakenOver,
    /// An operator deleted the charger from the network.
    Removed,
}

impl CloseReason {
    fn label(self) -> &'static str {
        match self {
            CloseReason::ChargerClosed => "charger_closed",
            CloseReason::SocketError => "socket_error",
            CloseReason::PingTimeout => "ping_timeout",
            CloseReason::Replaced => "replaced",
            CloseReason::Shutdown => "shutdown",
            CloseReason::TakenOver => "taken_over",
            CloseReason::Removed => "removed",
        }
    }
}

pub(crate) async fn run(
    gateway: Gateway,
    charger: ChargerId,
    version: OcppVersion,
    config: Option<chargegrid_core::network::Charger>,
    security_profile: u8,
    socket: WebSocket,
) {
    let inner = gateway.inner.clone();
    let (tx, rx) = mpsc::channel(inner.config.settings.max_queued_commands.max(1));
    let handle = inner.local.insert(&charger, tx);
    if let Err(e) = inner
        .store
        .register_connection(&charger, &inner.config.node, inner.config.registry_ttl())
        .await
    {
        tracing::warn!(%charger, error = %e, "could not record connection in the store");
    }
    inner
        .metrics
        .opened
        .with_label_values(&[version.label()])
        .inc();
    inner
        .metrics
        .connected
        .with_label_values(&[version.label()])
        .inc();
    tracing::info!(%charger, version = version.label(), "charger connected");

    let mut conn = Connection {
        ctx: ConnectionContext {
            gateway: gateway.clone(),
            charger: charger.clone(),
            version,
            config,
            connected_at: inner.clock.now(),
            security_profile,
            seq_nos: Default::default(),
            live: Default::default(),
            statuses: Default::default(),
            status_written: Default::default(),
            pending_needs: Default::default(),
            follow_ups: Vec::new(),
        },
        socket,
        commands: rx,
        queue: VecDeque::new(),
        calls: Calls::default(),
    };
    crate::operations::changes::notify(&conn.ctx, chargegrid_store::ChangeKind::Charger).await;
    let reason = conn.serve(&handle.replaced).await;
    crate::operations::changes::notify(&conn.ctx, chargegrid_store::ChangeKind::Charger).await;
    let Connection {
        mut socket,
        mut queue,
        mut commands,
        mut calls,
        ctx,
        ..
    } = conn;
    // Commands still waiting in the inbox are answered too.
    commands.close();
    while let Ok(cmd) = commands.try_recv() {
        queue.push_back(cmd);
    }
    for label in ctx.statuses.values() {
        inner.metrics.connectors.with_label_values(&[label]).dec();
    }

    let (code, text) = match reason {
        CloseReason::Shutdown => (close_code::AWAY, "server shutting down"),
        CloseReason::Replaced | CloseReason::TakenOver => {
            (close_code::POLICY, "replaced by a newer connection")
        }
        CloseReason::PingTimeout => (close_code::AWAY, "no answer to ping"),
        _ => (close_code::NORMAL, ""),
    };
    let _ = socket
        .send(Message::Close(Some(CloseFrame {
            code,
            reason: text.into(),
        })))
        .await;
    for cmd in calls
        .give_up()
        .map(|o| o.command)
        .into_iter()
        .chain(queue.drain(..).map(|boxed| *boxed))
    {
        cmd.reply(CommandReply::Offline).await;
    }
    if inner.local.remove(&charger, handle.generation)
        && let Err(e) = inner
            .store
            .unregister_connection(&charger, &inner.config.node)
            .await
    {
        tracing::warn!(%charger, error = %e, "could not clear connection in the store");
    }
    // Operators see when a charger that is offline was last seen (not for a removed one).
    if !matches!(reason, CloseReason::Removed)
        && let Err(e) = inner
            .store
            .record_last_seen(&charger, inner.clock.now())
            .await
    {
        tracing::warn!(%charger, error = %e, "could not record when the charger was last seen");
    }
    inner
        .metrics
        .connected
        .with_label_values(&[version.label()])
        .dec();
    inner
        .metrics
        .closed
        .with_label_values(&[reason.label()])
        .inc();
    tracing::info!(%charger, reason = reason.label(), "charger disconnected");
}

struct Connection {
    ctx: ConnectionContext,
    socket: WebSocket,
    /// Boxed in the inbox and the queue ([`Queued`]).
    commands: mpsc::Receiver<Queued>,
    queue: VecDeque<Queued>,
    calls: Calls,
}

impl Connection {
    /// Everything a message needs beyond reading it (handling a CALL, sending a command,
    /// renewing the claim) is boxed while it runs, so an idle connection's future holds only
    /// this loop's own state (about 1 KiB instead of 10 KiB: #20's memory per charger).
    async fn serve(&mut self, replaced: &tokio_util::sync::CancellationToken) -> CloseReason {
        let inner = self.ctx.gateway.inner.clone();
        let ping_every = inner.config.settings.ping_interval;
        let mut ping =
            tokio::time::interval_at(tokio::time::Instant::now() + ping_every, ping_every);
        let mut liveness = Liveness::new(ping_every, Instant::now());
        let mut budget = RateBudget::new(
            inner.config.settings.max_messages_per_second,
            Instant::now(),
        );
        loop {
            if self.calls.is_idle()
                && let Some(cmd) = self.queue.pop_front()
                && let Err(reason) = Box::pin(self.send_command(*cmd)).await
            {
                return reason;
            }
            let deadline = self.calls.deadline();
            tokio::select! {
                () = inner.shutdown.cancelled() => return CloseReason::Shutdown,
                () = replaced.cancelled() => return CloseReason::Replaced,
                _ = ping.tick() => {
                    if liveness.is_dead(Instant::now()) {
                        return CloseReason::PingTimeout;
                    }
                    if self.socket.send(Message::Ping(Vec::new().into())).await.is_err() {
                        return CloseReason::SocketError;
                    }
                    if Box::pin(renew_claim(&self.ctx)).await == Claim::TakenOver {
                        return CloseReason::TakenOver;
                    }
                }
                () = sleep_until(deadline) => {
                    if let Some(o) = self.calls.give_up() {
                        tracing::warn!(charger = %self.ctx.charger, id = %o.id, "charger did not answer in time");
                        inner.metrics.outstanding.dec();
                        inner
                            .metrics
                            .calls_sent
                            .with_label_values(&[self.ctx.version.label(), o.action, "timeout"])
                            .inc();
                        Box::pin(o.command.reply(CommandReply::Timeout)).await;
                    }
                }
                // Commands wait in the bounded inbox (`max_queued_commands`) while a CALL is
                // outstanding, so a full inbox refuses the excess at once.
                Some(cmd) = self.commands.recv(), if self.calls.is_idle() && self.queue.is_empty() => {
                    self.queue.push_back(cmd);
                }
                msg = self.socket.recv() => {
                    let Some(Ok(msg)) = msg else {
                        return if msg.is_none() { CloseReason::ChargerClosed } else { CloseReason::SocketError };
                    };
                    let now = Instant::now();
                    liveness.heard(now);
                    if let Some(wait) = budget.spend(now) {
                        inner.metrics.frames_rejected.with_label_values(&["rate_limited"]).inc();
                        tokio::time::sleep(wait).await;
                    }
                    match msg {
                        Message::Text(text) => {
                            if let Err(reason) = Box::pin(self.on_text(text.as_str())).await {
                                return reason;
                            }
                        }
                        Message::Binary(_) => {
                            inner.metrics.frames_rejected.with_label_values(&["binary"]).inc();
                            let err = CallError {
                                id: "-1".into(),
                                code: ErrorCode::RpcFrameworkError,
                                description: "binary frames are not OCPP-J; send text".into(),
                                details: Value::Object(Default::default()),
                            };
                            if let Err(reason) = Box::pin(self.send_error(err)).await {
                                return reason;
                            }
                        }
                        Message::Close(_) => return CloseReason::ChargerClosed,
                        Message::Ping(_) | Message::Pong(_) => {}
                    }
                }
            }
        }
    }

    async fn on_text(&mut self, text: &str) -> Result<(), CloseReason> {
        let inner = self.ctx.gateway.inner.clone();
        if text.len() > inner.config.settings.max_frame_bytes {
            inner
                .metrics
                .frames_rejected
                .with_label_values(&["too_large"])
                .inc();
            let err = CallError {
                id: sniff_id(text).unwrap_or_else(|| "-1".into()),
                code: ErrorCode::FormatViolation,
                description: format!(
                    "frame of {} bytes exceeds the limit of {} bytes",
                    text.len(),
                    inner.config.settings.max_frame_bytes
                ),
                details: Value::Object(Default::default()),
            };
            return self.send_error(err).await;
        }
        match Frame::parse(text) {
            Err(e) => {
                inner
                    .metrics
                    .frames_rejected
                    .with_label_values(&["malformed"])
                    .inc();
                if e.was_call {
                    self.send_error(e.to_call_error()).await
                } else {
                    tracing::warn!(charger = %self.ctx.charger, error = %e.description, "malformed answer from charger dropped");
                    Ok(())
                }
            }
            Ok(Frame::Call(call)) => self.on_call(call).await,
            Ok(Frame::CallResult(result)) => {
                self.on_answer(&result.id, Ok(result.payload)).await;
                Ok(())
            }
            Ok(Frame::CallError(err)) => {
                let reply = CommandReply::CallError {
                    code: err.code.as_str(self.ctx.version).to_string(),
                    description: err.description,
                };
                self.on_answer(&err.id, Err(reply)).await;
                Ok(())
            }
        }
    }

    async fn on_call(&mut self, call: Call) -> Result<(), CloseReason> {
        let inner = self.ctx.gateway.inner.clone();
        let version = self.ctx.version;
        let label = action_label(&call.action);
        let key = crate::retransmissions::Key::of(&call);
        if let Some(key) = &key
            && let Some(answer) = inner.retransmissions.get(&self.ctx.charger, key)
        {
            inner
                .metrics
                .calls_received
                .with_label_values(&[version.label(), label, "duplicate"])
                .inc();
            return self.send_text(answer).await;
        }
        let started = Instant::now();
        let result = routing::handle_call(&mut self.ctx, &call).await;
        inner
            .metrics
            .handle_seconds
            .with_label_values(&[label])
            .observe(started.elapsed().as_secs_f64());
        let (frame, outcome) = match result {
            Ok(payload) => (
                Frame::CallResult(CallResult {
                    id: call.id.clone(),
                    payload,
                }),
                "ok",
            ),
            Err(err) => {
                inner
                    .metrics
                    .call_errors
                    .with_label_values(&[version.label(), err.code.as_str(version)])
                    .inc();
                (Frame::CallError(err), "error")
            }
        };
        inner
            .metrics
            .calls_received
            .with_label_values(&[version.label(), label, outcome])
            .inc();
        let text = frame.to_text(version);
        // An internal error (the store was down, say) is not an answer to repeat: the
        // charger's retry must be handled afresh.
        if let Some(key) = key
            && !matches!(&frame, Frame::CallError(e) if e.code == ErrorCode::InternalError)
        {
            inner.retransmissions.put(&self.ctx.charger, key, &text);
        }
        self.send_text(text).await?;
        self.queue_follow_ups();
        Ok(())
    }

    /// Queues the CALLs handlers asked for. They go ahead of commands still waiting in the
    /// inbox: those are taken only once this queue is empty.
    fn queue_follow_ups(&mut self) {
        let inner = &self.ctx.gateway.inner;
        // Taken, not drained: the emptied list would keep its buffer for the connection's life.
        for command in std::mem::take(&mut self.ctx.follow_ups) {
            let action = match &command {
                chargegrid_core::command::ChargerCommand::Raw { action, .. } => action.clone(),
                other => other.name().to_string(),
            };
            let envelope = chargegrid_store::CommandEnvelope::new(
                self.ctx.charger.clone(),
                command,
                inner.config.node.clone(),
                inner.config.settings.call_timeout,
            );
            let sink = crate::operations::security::FollowUpReply {
                charger: self.ctx.charger.clone(),
                action,
                metrics: inner.metrics.clone(),
            };
            self.queue
                .push_back(Box::new(IncomingCommand::new(envelope, Box::new(sink))));
        }
    }

    /// Takes the charger's answer to the outstanding CALL: its CALLRESULT payload (decoded for
    /// the command here), or the reply a CALLERROR makes.
    async fn on_answer(&mut self, id: &str, answer: Result<Value, CommandReply>) {
        match self.calls.answered(id) {
            Some(o) => {
                let inner = &self.ctx.gateway.inner;
                inner.metrics.outstanding.dec();
                let reply = match answer {
                    Ok(payload) => {
                        let schemas = inner
                            .config
                            .schemas
                            .as_ref()
                            .and_then(|s| s.for_version(self.ctx.version));
                        if let Some(v) = schemas
                            .and_then(|s| s.check_response(o.action, &payload))
                            .and_then(|v| v.into_iter().next())
                        {
                            inner
                                .metrics
                                .frames_rejected
                                .with_label_values(&["invalid_answer"])
                                .inc();
                            tracing::warn!(charger = %self.ctx.charger, action = o.action, violation = %v.message, "charger's answer breaks its schema");
                        }
                        chargegrid_ocpp::messages::reply::decode(
                            &o.command.envelope.command,
                            payload,
                        )
                    }
                    Err(reply) => reply,
                };
                // Whatever asked (an operator, the read at boot), settings read are kept.
                if let CommandReply::Result {
                    details: Some(ReplyDetails::Configuration(report)),
                    ..
                } = &reply
                {
                    let settings =
                        crate::operations::device::settings_of(report, inner.clock.now());
                    if let Err(e) = inner
                        .store
                        .record_settings(&self.ctx.charger, &settings)
                        .await
                    {
                        tracing::warn!(charger = %self.ctx.charger, error = %e, "settings read from the charger not kept");
                    }
                }
                let outcome = match &reply {
                    CommandReply::Result { .. } if reply.is_accepted() => "accepted",
                    CommandReply::Result { .. } => "rejected",
                    _ => "call_error",
                };
                inner
                    .metrics
                    .calls_sent
                    .with_label_values(&[self.ctx.version.label(), o.action, outcome])
                    .inc();
                o.command.reply(reply).await;
            }
            None => {
                tracing::warn!(charger = %self.ctx.charger, %id, "answer to no outstanding call dropped");
            }
        }
    }

    async fn send_command(&mut self, cmd: IncomingCommand) -> Result<(), CloseReason> {
        // Commands for this node rather than the charger.
        match cmd.envelope.command {
            ChargerCommand::Disconnect => {
                tracing::info!(charger = %self.ctx.charger, "charger removed from the network: closing its connection");
                cmd.reply(accepted()).await;
                return Err(CloseReason::Removed);
            }
            ChargerCommand::ReloadConfiguration => {
                let store = self.ctx.gateway.inner.store.clone();
                return match store.get_charger(&self.ctx.charger).await {
                    Ok(Some(config)) => {
                        self.ctx.config = Some(config);
                        cmd.reply(accepted()).await;
                        Ok(())
                    }
                    Ok(None) => {
                        cmd.reply(accepted()).await;
                        Err(CloseReason::Removed)
                    }
                    Err(e) => {
                        cmd.reply(CommandReply::Unsupported {
                            reason: format!("the store could not be read: {e}"),
                        })
                        .await;
                        Ok(())
                    }
                };
            }
            _ => {}
        }
        let rendered = chargegrid_ocpp::commands::render(self.ctx.version, &cmd.envelope.command);
        let inner = self.ctx.gateway.inner.clone();
        let version = self.ctx.version;
        let (action, payload) = match rendered {
            Ok(r) => r,
            Err(e) => {
                let reason = e.to_string();
                cmd.reply(CommandReply::Unsupported { reason }).await;
                return Ok(());
            }
        };
        let label = action_label(&action);
        // Our own CALLs are checked against the official schema before they leave.
        let schemas = inner
            .config
            .schemas
            .as_ref()
            .and_then(|s| s.for_version(version));
        if let Some(v) = schemas
            .and_then(|s| s.check_request(&action, &payload))
            .and_then(|v| v.into_iter().next())
        {
            inner
                .metrics
                .calls_sent
                .with_label_values(&[version.label(), label, "invalid"])
                .inc();
            let reason = format!(
                "the {action} payload breaks the OCPP {} schema: {} at {:?}",
                version.label(),
                v.message,
                v.path
            );
            cmd.reply(CommandReply::Unsupported { reason }).await;
            return Ok(());
        }
        let timeout = Duration::from_millis(cmd.envelope.timeout_ms)
            .min(self.ctx.gateway.inner.config.settings.call_timeout);
        let id = self.calls.begin(label, cmd, Instant::now() + timeout);
        let text = Frame::Call(Call {
            id,
            action,
            payload,
        })
        .to_text(self.ctx.version);
        inner.metrics.outstanding.inc();
        self.send_text(text).await
    }

    async fn send_error(&mut self, err: CallError) -> Result<(), CloseReason> {
        let version = self.ctx.version;
        self.ctx
            .gateway
            .inner
            .metrics
            .call_errors
            .with_label_values(&[version.label(), err.code.as_str(version)])
            .inc();
        self.send_text(Frame::CallError(err).to_text(version)).await
    }

    async fn send_text(&mut self, text: String) -> Result<(), CloseReason> {
        self.socket
            .send(Message::Text(text.into()))
            .await
            .map_err(|_| CloseReason::SocketError)
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// Actions we know, so a charger cannot grow the metric's label set without bound.
fn action_label(action: &str) -> &'static str {
    chargegrid_ocpp::actions::known(action).unwrap_or("unknown")
}

/// Reads the message id from the start of an oversized frame without parsing all of it.
fn sniff_id(text: &str) -> Option<String> {
    let head: String = text.chars().take(64).collect();
    let rest = head.trim_start().strip_prefix('[')?.trim_start();
    let rest = rest
        .strip_prefix('2')?
        .trim_start()
        .strip_prefix(',')?
        .trim_start();
    let rest = rest.strip_prefix('"')?;
    let end = rest.find('"')?;
    let id = &rest[..end];
    (!id.is_empty() && id.len() <= chargegrid_ocpp::frame::MAX_ID_LEN).then(|| id.to_string())
}

/// The answer to a command the gateway carried out itself.
fn accepted() -> CommandReply {
    CommandReply::Result {
        status: Some("Accepted".to_string()),
        details: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_idle_connections_inbox_stays_small() {
        // tokio allocates a channel's first block of 32 slots when the channel is made.
        let block = 32 * std::mem::size_of::<Queued>();
        assert!(block <= 512, "{block} bytes per idle connection");
        assert!(
            std::mem::size_of::<IncomingCommand>() > 64,
            "boxing is worth it"
        );
    }

    #[test]
    fn sniffs_ids_of_oversized_calls() {
        assert_eq!(
            sniff_id(r#"[2,"abc","DataTransfer",{"data":"xxxx"#).as_deref(),
            Some("abc")
        );
        assert_eq!(sniff_id(r#" [ 2 , "id-1" , "X""#).as_deref(), Some("id-1"));
        assert_eq!(sniff_id(r#"[3,"abc",{}]"#), None);
        assert_eq!(sniff_id("garbage"), None);
    }
}
