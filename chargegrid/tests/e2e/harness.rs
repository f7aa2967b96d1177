//! Helpers shared by the end-to-end tests: start the app in-process on port 0 with a given
//! store, and open charger WebSockets.

use std::sync::Arc;

use chargegrid::{App, Config, Role};
use chargegrid_core::SystemClock;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// Tests whose outcome depends on timing (scenarios in scaled time, control-loop latencies) hold
/// this for reading; the mass-reconnect storm holds it for writing, so it never runs beside
/// them on the CI machine's two cores.
pub static QUIET: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());

/// `network` (TOML) with `security_profile = 0` on every charger: most tests speak OCPP, not
/// Basic auth, and chargegrid refuses a charger without credentials unless its network entry
/// relaxes it this way. The security tests set passwords themselves.
pub fn open_network(network: &str) -> String {
    network.replace("[[chargers]]\n", "[[chargers]]\nsecurity_profile = 0\n")
}

/// The built-in sample network as a file, opened with [`open_network`].
pub fn open_sample_network() -> std::path::PathBuf {
    static FILE: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    FILE.get_or_init(|| {
        let file =
            std::env::temp_dir().join(format!("chargegrid-e2e-sample-{}.toml", std::process::id()));
        std::fs::write(&file, open_network(chargegrid::network::SAMPLE_NETWORK)).unwrap();
        file
    })
    .clone()
}

/// A config listening on free loopback ports with the given store URL, validating against the
/// official schemas, on the sample network with chargers that need no credentials.
pub fn test_config(store_url: &str) -> Config {
    let mut config = Config::default();
    config.network.file = Some(open_sample_network());
    config.ocpp.schemas_dir = Some(crate::peer::schemas_dir());
    // Tests that speak raw OCPP do not expect the scheduler's profiles; the smart-charging and
    // dashboard tests turn it on.
    config.scheduler.enabled = false;
    // Nor the settings read after each boot (the device-state test turns it on).
    config.ocpp.gateway.read_settings_at_boot = false;
    config.ocpp.listen = "127.0.0.1:0".parse().unwrap();
    config.api.listen = "127.0.0.1:0".parse().unwrap();
    config.metrics.listen = "127.0.0.1:0".parse().unwrap();
    config.store.url = store_url.to_string();
    // One private in-memory records database per app (tests of records set a shared one).
    config.records.url = "sqlite::memory:".to_string();
    config
}

/// Starts the whole app in-process.
pub async fn start_app(config: &Config) -> App {
    App::start(config, Role::All, Arc::new(SystemClock))
        .await
        .unwrap()
}

/// The outcome of a charger's WebSocket handshake.
pub type Handshake = Result<
    (
        tokio_tungstenite::WebSocketStream<
            tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
        >,
        tokio_tungstenite::tungstenite::handshake::client::Response,
    ),
    tokio_tungstenite::tungstenite::Error,
>;

/// Opens a charger WebSocket offering `protocols`; the handshake result.
pub async fn connect_charger(app: &App, charger: &str, protocols: &str) -> Handshake {
    connect_charger_as(app, charger, protocols, None).await
}

/// Like [`connect_charger`], sending `charger:password` as Basic credentials when given.
pub async fn connect_charger_as(
    app: &App,
    charger: &str,
    protocols: &str,
    password: Option<&str>,
) -> Handshake {
    use base64::Engine;
    let url = format!("ws://{}/ocpp/{charger}", app.ocpp_addr.unwrap());
    let mut request = url.into_client_request().unwrap();
    if !protocols.is_empty() {
        request
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", protocols.parse().unwrap());
    }
    if let Some(password) = password {
        let basic =
            base64::engine::general_purpose::STANDARD.encode(format!("{charger}:{password}"));
        request
            .headers_mut()
            .insert("Authorization", format!("Basic {basic}").parse().unwrap());
    }
    tokio_tungstenite::connect_async(request).await
}

/// Stores a Basic-auth password for `charger` (security profiles 1 and 2).
pub async fn set_charger_password(app: &App, charger: &str, password: &str) {
    let id = chargegrid_core::ChargerId::new(charger).unwrap();
    let mut c = app.store.get_charger(&id).await.unwrap().unwrap();
    c.password_hash = Some(chargegrid_ocpp_gateway::hash_password(password).unwrap());
    app.store.put_charger(&c).await.unwrap();
}

/// A raw OCPP client for protocol-level tests: send text, read the next text answer.
pub struct RawCharger {
    pub ws: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
}

impl RawCharger {
    /// Connects as `charger` speaking `protocol`.
    pub async fn connect(app: &App, charger: &str, protocol: &str) -> RawCharger {
        let (ws, _) = connect_charger(app, charger, protocol).await.unwrap();
        RawCharger { ws }
    }

    /// Connects as `charger` speaking `protocol` (`ocpp1.6` or `ocpp2.0.1`) and boots it
    /// (a BootNotification answered Accepted).
    pub async fn booted(app: &App, charger: &str, protocol: &str) -> RawCharger {
        let mut cp = RawCharger::connect(app, charger, protocol).await;
        let boot = if protocol == "ocpp2.0.1" {
            serde_json::json!({"chargingStation": {"vendorName": "V", "model": "M"}, "reason": "PowerUp"})
        } else {
            serde_json::json!({"chargePointVendor": "V", "chargePointModel": "M"})
        };
        let answer = cp.call("boot", "BootNotification", boot).await;
        assert_eq!(answer[2]["status"], "Accepted", "{answer}");
        cp
    }

    /// Connects as `charger` over TLS (`wss://`, trusting the CA in `ca_pem`) with its Basic
    /// password: security profile 2.
    pub async fn connect_tls(
        app: &App,
        charger: &str,
        protocol: &str,
        ca_pem: &std::path::Path,
        password: &str,
    ) -> RawCharger {
        use base64::Engine;
        let mut roots = rustls::RootCertStore::empty();
        let pem = std::fs::read(ca_pem).unwrap();
        for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
            roots.add(cert.unwrap()).unwrap();
        }
        let tls = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        let url = format!(
            "wss://localhost:{}/ocpp/{charger}",
            app.ocpp_tls_addr.unwrap().port()
        );
        let mut request = url.into_client_request().unwrap();
        request
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", protocol.parse().unwrap());
        let basic =
            base64::engine::general_purpose::STANDARD.encode(format!("{charger}:{password}"));
        request
            .headers_mut()
            .insert("Authorization", format!("Basic {basic}").parse().unwrap());
        let (ws, _) = tokio_tungstenite::connect_async_tls_with_config(
            request,
            None,
            false,
            Some(tokio_tungstenite::Connector::Rustls(std::sync::Arc::new(
                tls,
            ))),
        )
        .await
        .unwrap();
        RawCharger { ws }
    }

    /// Sends a text frame.
    pub async fn send_text(&mut self, text: &str) {
        use futures::SinkExt;
        self.ws
            .send(tokio_tungstenite::tungstenite::Message::Text(text.into()))
            .await
            .unwrap();
    }

    /// The next text frame from the server, parsed (pings are answered by the client).
    pub async fn recv(&mut self) -> serde_json::Value {
        use futures::StreamExt;
        let wait = async {
            loop {
                match self.ws.next().await {
                    Some(Ok(tokio_tungstenite::tungstenite::Message::Text(t))) => {
                        return serde_json::from_str(&t).unwrap();
                    }
                    Some(Ok(tokio_tungstenite::tungstenite::Message::Close(f))) => {
                        panic!("connection closed: {f:?}")
                    }
                    Some(Ok(_)) => {}
                    other => panic!("connection ended: {other:?}"),
                }
            }
        };
        tokio::time::timeout(std::time::Duration::from_secs(30), wait)
            .await
            .expect("an answer (the timeout only catches hangs)")
    }

    /// Sends a CALL and returns the answer frame.
    pub async fn call(
        &mut self,
        id: &str,
        action: &str,
        payload: serde_json::Value,
    ) -> serde_json::Value {
        self.send_text(&serde_json::json!([2, id, action, payload]).to_string())
            .await;
        self.recv().await
    }
}

/// Adds an accepted id tag to the store.
pub async fn add_tag(app: &App, tag: &str) {
    use chargegrid_core::driver::{IdTagRecord, IdTagStatus};
    app.store
        .put_id_tag(&IdTagRecord {
            tag: chargegrid_core::IdTag::new(tag).unwrap(),
            driver: None,
            vehicle: None,
            fleet: None,
            status: IdTagStatus::Accepted,
            expires_at: None,
            parent: None,
            allow_concurrent: false,
        })
        .await
        .unwrap();
}

/// An RFC 3339 UTC timestamp `offset_s` from now.
pub fn ts(offset_s: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::seconds(offset_s))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Starts the whole app in-process on a clock the test moves.
pub async fn start_app_with_clock(config: &Config, clock: chargegrid_core::ManualClock) -> App {
    App::start(config, Role::All, Arc::new(clock))
        .await
        .unwrap()
}

/// A registry's metrics in the text format.
pub fn registry_text(registry: &prometheus::Registry) -> String {
    use prometheus::Encoder;
    let mut out = Vec::new();
    prometheus::TextEncoder::new()
        .encode(&registry.gather(), &mut out)
        .unwrap();
    String::from_utf8(out).unwrap()
}

/// The app's `/metrics` page, as Prometheus scrapes it.
pub async fn metrics_text(app: &App) -> String {
    reqwest::get(format!("http://{}/metrics", app.metrics_addr))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// The Python peers answer GetCompositeSchedule with 16 A from offset 0 (both versions): the
/// OCPP layer must have decoded it into a typed schedule.
pub fn assert_peers_composite_schedule(reply: &chargegrid_core::command::CommandReply) {
    use chargegrid_core::command::{RateUnit, ReplyDetails};
    let Some(ReplyDetails::CompositeSchedule(schedule)) = reply.details() else {
        panic!("no composite schedule in {reply:?}");
    };
    assert_eq!(schedule.unit, RateUnit::A);
    assert_eq!(schedule.periods[0].limit, 16.0);
    assert!(schedule.start.is_some());
}
