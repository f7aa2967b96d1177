//! A minimal OCPP-J charger (1.6 or 2.0.1) for load runs: connect (from a chosen loopback
//! source address so one machine can open more than one port range of sockets), call and wait
//! for the answer, answer the server's own calls with NotSupported.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::{TcpSocket, lookup_host};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use chargegrid_core::network::OcppVersion;

use super::frames::is_empty_result;
use crate::charger::Ws;

/// Sockets per loopback source address. Linux gives `connect()` ports of one parity first
/// (the other half is left for `bind()`), so one source address reaches one server address
/// through about 14,000 ports of the default range (32768–60999) before every further connect
/// scans the whole half: with 20,000 per source, 16,700 chargers per gateway took 47 % of the
/// machine in the kernel's `__inet_check_established` and handshakes timed out past ~85,000
/// connections on six gateways (#20, session 27). 10,000 leaves room for TIME_WAIT ports too.
const PER_SOURCE: usize = 10_000;

/// The third octet of this run's loopback source addresses (127.0.X.1).
fn run_octet() -> u32 {
    static OCTET: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *OCTET.get_or_init(|| 1 + (std::process::id() % 200))
}

/// A connected load charger.
pub struct Client {
    ws: Ws,
    next: u64,
}

/// The answer to a call.
#[derive(Debug)]
pub enum Answer {
    /// CALLRESULT.
    Result(Value),
    /// CALLERROR code.
    Error(String),
    /// No answer in time.
    Timeout,
}

impl Client {
    /// Connects as charger `id` speaking `version`; `n` picks the loopback source address.
    pub async fn connect(
        base: &str,
        id: &str,
        n: usize,
        version: OcppVersion,
    ) -> Result<Client, String> {
        let url = format!("{}/{id}", base.trim_end_matches('/'));
        let mut request = url
            .as_str()
            .into_client_request()
            .map_err(|e| e.to_string())?;
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            version
                .subprotocol()
                .parse()
                .map_err(|_| "header".to_string())?,
        );
        let host = request.uri().host().unwrap_or("127.0.0.1").to_string();
        let port = request.uri().port_u16().unwrap_or(80);
        let addr: SocketAddr = lookup_host((host.as_str(), port))
            .await
            .map_err(|e| e.to_string())?
            .find(SocketAddr::is_ipv4)
            .ok_or("no IPv4 address")?;
        let socket = TcpSocket::new_v4().map_err(|e| e.to_string())?;
        if addr.ip().is_loopback() {
            // A different source range per run, so the last run's TIME_WAIT ports do not collide.
            let k = ((n / PER_SOURCE) as u32 + run_octet()) as u8;
            socket.set_reuseaddr(true).map_err(|e| e.to_string())?;
            // The port is chosen at connect, where only the 4-tuple must be unique. Without it,
            // bind(address, 0) searches the port range for a port no bound socket uses, and that
            // search grew with every socket on the machine: at ~50,000 it took the generators'
            // cores and delayed handshakes by seconds (#20, session 13).
            #[cfg(target_os = "linux")]
            nix::sys::socket::setsockopt(
                &socket,
                nix::sys::socket::sockopt::IpBindAddressNoPort,
                &true,
            )
            .map_err(|e| format!("IP_BIND_ADDRESS_NO_PORT: {e}"))?;
            socket
                .bind(SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, 0, k, 1)), 0))
                .map_err(|e| format!("bind: {e}"))?;
        }
        let stream = tokio::time::timeout(Duration::from_secs(10), socket.connect(addr))
            .await
            .map_err(|_| "connect timed out".to_string())?
            .map_err(|e| e.to_string())?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        let (ws, _) = tokio::time::timeout(
            Duration::from_secs(10),
            tokio_tungstenite::client_async_with_config(
                request,
                tokio_tungstenite::MaybeTlsStream::Plain(stream),
                None,
            ),
        )
        .await
        .map_err(|_| "handshake timed out".to_string())?
        .map_err(|e| e.to_string())?;
        Ok(Client { ws, next: 0 })
    }

    /// Sends a CALL and waits for its answer; returns it with the round-trip time.
    pub async fn call(
        &mut self,
        action: &str,
        payload: Value,
        timeout: Duration,
    ) -> (Answer, Duration) {
        let id = self.next_id();
        let text = json!([2, id, action, payload]).to_string();
        self.exchange(text, &id, timeout).await
    }

    /// A fresh message id.
    pub fn next_id(&mut self) -> String {
        self.next += 1;
        self.next.to_string()
    }

    /// Sends `text`, a CALL rendered with message id `id`, and waits for its answer; returns it
    /// with the round-trip time. An empty CALLRESULT to `id` is recognised from its bytes
    /// without parsing (most answers under load); anything else is parsed as JSON.
    pub async fn exchange(
        &mut self,
        text: String,
        id: &str,
        timeout: Duration,
    ) -> (Answer, Duration) {
        let sent = Instant::now();
        if self.ws.send(Message::Text(text.into())).await.is_err() {
            return (Answer::Error("send failed".into()), sent.elapsed());
        }
        let deadline = sent + timeout;
        loop {
            let frame = tokio::time::timeout_at(deadline, self.ws.next()).await;
            let Ok(frame) = frame else {
                return (Answer::Timeout, sent.elapsed());
            };
            match frame {
                Some(Ok(Message::Text(t))) => {
                    if is_empty_result(&t, id) {
                        return (
                            Answer::Result(Value::Object(Default::default())),
                            sent.elapsed(),
                        );
                    }
                    let Ok(Value::Array(v)) = serde_json::from_str::<Value>(&t) else {
                        continue;
                    };
                    match (
                        v.first().and_then(Value::as_u64),
                        v.get(1).and_then(Value::as_str),
                    ) {
                        (Some(3), Some(i)) if i == id => {
                            return (
                                Answer::Result(v.get(2).cloned().unwrap_or_default()),
                                sent.elapsed(),
                            );
                        }
                        (Some(4), Some(i)) if i == id => {
                            let code = v.get(2).and_then(Value::as_str).unwrap_or("?").to_string();
                            return (Answer::Error(code), sent.elapsed());
                        }
                        (Some(2), Some(i)) => {
                            let reply =
                                json!([4, i, "NotSupported", "load charger", {}]).to_string();
                            let _ = self.ws.send(Message::Text(reply.into())).await;
                        }
                        _ => {}
                    }
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => {
                    return (Answer::Error("connection closed".into()), sent.elapsed());
                }
                Some(Ok(_)) => {}
            }
        }
    }

    /// Waits for the next frame (keeps pings answered); `false` once the connection is gone.
    pub async fn idle(&mut self) -> bool {
        match self.ws.next().await {
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => false,
            Some(Ok(Message::Text(t))) => {
                if let Ok(Value::Array(v)) = serde_json::from_str::<Value>(&t)
                    && v.first().and_then(Value::as_u64) == Some(2)
                    && let Some(i) = v.get(1).and_then(Value::as_str)
                {
                    let reply = json!([4, i, "NotSupported", "load charger", {}]).to_string();
                    let _ = self.ws.send(Message::Text(reply.into())).await;
                }
                true
            }
            Some(Ok(_)) => true,
        }
    }

    /// Closes the socket.
    pub async fn close(mut self) {
        let _ = tokio::time::timeout(Duration::from_millis(200), self.ws.close(None)).await;
    }
}

/// A BootNotification payload.
pub fn boot(version: OcppVersion) -> Value {
    match version {
        OcppVersion::V16 => json!({"chargePointVendor": "SimLoad", "chargePointModel": "L1"}),
        OcppVersion::V201 => json!({"reason": "PowerUp",
            "chargingStation": {"vendorName": "SimLoad", "model": "L1"}}),
    }
}

/// A StatusNotification payload: connector 1 available.
pub fn available(version: OcppVersion) -> Value {
    match version {
        OcppVersion::V16 => {
            json!({"connectorId": 1, "errorCode": "NoError", "status": "Available"})
        }
        OcppVersion::V201 => {
            json!({"timestamp": chargegrid_ocpp::timestamp::format(chrono::Utc::now()),
            "connectorStatus": "Available", "evseId": 1, "connectorId": 1})
        }
    }
}
