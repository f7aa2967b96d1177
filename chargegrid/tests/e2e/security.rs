//! OCPP security profiles 2 and 3 end to end with a real independent client (the Python `ocpp`
//! package over `websockets` with TLS): certificates are generated in the test (rcgen), the
//! gateway serves `wss://` with rustls; profile 2 = TLS + Basic password, profile 3 = TLS +
//! client certificate whose common name is the charger id.

use std::sync::Arc;

use chargegrid_core::{ChargerId, NodeId, SystemClock};
use chargegrid_ocpp_gateway::{Gateway, GatewayConfig, GatewayMetrics, TlsSettings, serve_tls};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
};
use serde_json::Value;

use crate::harness::{start_app, test_config};
use crate::peer::python;

struct Pki {
    dir: std::path::PathBuf,
}

impl Pki {
    fn new() -> (Pki, Vec<u8>, Vec<u8>, Vec<u8>) {
        let dir = std::env::temp_dir().join(format!("cg-pki-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "chargegrid test CA");
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);
        let server_key = KeyPair::generate().unwrap();
        let mut server =
            CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).unwrap();
        server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let server_cert = server.signed_by(&server_key, &issuer).unwrap();
        std::fs::write(dir.join("ca.pem"), ca_cert.pem()).unwrap();
        for name in ["QD-HD-AC01", "QD-HD-AC02"] {
            let key = KeyPair::generate().unwrap();
            let mut client = CertificateParams::new(Vec::<String>::new()).unwrap();
            client.distinguished_name.push(DnType::CommonName, name);
            client.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
            let cert = client.signed_by(&key, &issuer).unwrap();
            std::fs::write(dir.join(format!("{name}.pem")), cert.pem()).unwrap();
            std::fs::write(dir.join(format!("{name}.key")), key.serialize_pem()).unwrap();
        }
        (
            Pki { dir },
            server_cert.pem().into_bytes(),
            server_key.serialize_pem().into_bytes(),
            ca_cert.pem().into_bytes(),
        )
    }

    fn path(&self, file: &str) -> String {
        self.dir.join(file).to_string_lossy().to_string()
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn client(args: &[&str]) -> Value {
    let script =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/e2e/peers/tls_cp.py");
    let out = tokio::process::Command::new(python())
        .arg(script)
        .args(args)
        .output()
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(text.lines().last().unwrap_or("null")).unwrap_or_else(|_| {
        panic!(
            "tls client printed {text:?}, stderr {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn security_profiles_2_and_3_with_a_real_tls_client() {
    let app = start_app(&test_config("memory://")).await;
    let (pki, server_pem, server_key, ca_pem) = Pki::new();
    // Passwords for profile 2; QD-HD-AC01 has one too, to show a matching certificate replaces it.
    for (id, password) in [
        ("QD-HD-AC01", "first-charger-password"),
        ("QD-HD-AC03", "third-charger-password"),
    ] {
        let id = ChargerId::new(id).unwrap();
        let mut c = app.store.get_charger(&id).await.unwrap().unwrap();
        c.password_hash = Some(chargegrid_ocpp_gateway::hash_password(password).unwrap());
        app.store.put_charger(&c).await.unwrap();
    }
    let registry = prometheus::Registry::new();
    let mut gw_config = GatewayConfig::new(NodeId::new("tls-node").unwrap());
    gw_config.schemas = None;
    let gateway = Gateway::new(
        gw_config,
        app.store.clone(),
        Arc::new(SystemClock),
        GatewayMetrics::new(&registry).unwrap(),
    );
    let tls = TlsSettings::from_pem(&server_pem, &server_key, Some(&ca_pem), false).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "wss://127.0.0.1:{}/ocpp",
        listener.local_addr().unwrap().port()
    );
    let stop = tokio_util::sync::CancellationToken::new();
    let server = tokio::spawn(serve_tls(
        listener,
        gateway,
        tls,
        stop.clone().cancelled_owned(),
    ));
    let ca = pki.path("ca.pem");

    // Profile 2: TLS + Basic.
    let ok = client(&[
        &url,
        "QD-HD-AC03",
        &ca,
        "--password",
        "third-charger-password",
    ])
    .await;
    assert_eq!(ok["event"], "boot", "{ok}");
    assert_eq!(ok["status"], "Accepted");
    assert!(ok["tls"].as_str().unwrap().starts_with("TLSv1."));
    let wrong = client(&[&url, "QD-HD-AC03", &ca, "--password", "not-the-password"]).await;
    assert_eq!(
        wrong,
        serde_json::json!({"event": "refused", "status": 401})
    );
    let none = client(&[&url, "QD-HD-AC03", &ca]).await;
    assert_eq!(none["status"], 401);

    // Profile 3: the client certificate names the charger; no password needed.
    let (cert, key) = (pki.path("QD-HD-AC01.pem"), pki.path("QD-HD-AC01.key"));
    let mtls = client(&[&url, "QD-HD-AC01", &ca, "--cert", &cert, "--key", &key]).await;
    assert_eq!(mtls["event"], "boot", "{mtls}");
    assert_eq!(mtls["status"], "Accepted");
    // Another charger's certificate cannot be used to be QD-HD-AC01.
    let (cert2, key2) = (pki.path("QD-HD-AC02.pem"), pki.path("QD-HD-AC02.key"));
    let stolen = client(&[&url, "QD-HD-AC01", &ca, "--cert", &cert2, "--key", &key2]).await;
    assert_eq!(
        stolen,
        serde_json::json!({"event": "refused", "status": 403})
    );
    let refused = registry
        .gather()
        .into_iter()
        .find(|f| f.name() == "chargegrid_ocpp_handshakes_refused_total")
        .unwrap();
    assert!(refused.get_metric().iter().any(|m| {
        m.get_label()
            .iter()
            .any(|l| l.value() == "certificate_mismatch")
    }));

    stop.cancel();
    server.await.unwrap().unwrap();
    app.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_per_address_and_messages_per_charger_are_limited() {
    use futures::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;

    let app = start_app(&test_config("memory://")).await;
    let registry = prometheus::Registry::new();
    let mut gw_config = GatewayConfig::new(NodeId::new("limits-node").unwrap());
    gw_config.max_connections_per_ip = 2;
    gw_config.max_messages_per_second = 20;
    let gateway = Gateway::new(
        gw_config,
        app.store.clone(),
        Arc::new(SystemClock),
        GatewayMetrics::new(&registry).unwrap(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = tokio_util::sync::CancellationToken::new();
    let server = tokio::spawn(chargegrid_ocpp_gateway::serve(
        listener,
        gateway,
        stop.clone().cancelled_owned(),
    ));
    let connect = |id: &str| {
        let mut req = format!("ws://{addr}/ocpp/{id}")
            .into_client_request()
            .unwrap();
        req.headers_mut()
            .insert("Sec-WebSocket-Protocol", "ocpp1.6".parse().unwrap());
        tokio_tungstenite::connect_async(req)
    };
    // Six handshakes at once from one address: the limit holds for simultaneous ones too.
    let ids = [
        "QD-HD-AC01",
        "QD-HD-AC02",
        "QD-HD-AC03",
        "QD-HD-AC04",
        "QD-HD-AC05",
        "QD-HD-AC06",
    ];
    let attempts = futures::future::join_all(ids.iter().map(|id| connect(id))).await;
    let mut open = Vec::new();
    for attempt in attempts {
        match attempt {
            Ok((socket, _)) => open.push(socket),
            Err(e) => assert!(e.to_string().contains("429"), "{e}"),
        }
    }
    assert_eq!(open.len(), 2, "two of six simultaneous handshakes accepted");
    let third = connect("QD-HD-AC07").await.unwrap_err();
    assert!(third.to_string().contains("429"), "{third}");
    let mut first = open.swap_remove(0);

    // 300 frames at once from one charger: all answered, the excess slowed down and counted.
    for i in 0..300 {
        let frame = serde_json::json!([2, format!("h{i}"), "Heartbeat", {}]).to_string();
        first.send(Message::Text(frame.into())).await.unwrap();
    }
    let mut answered = 0;
    while answered < 300 {
        match first.next().await {
            Some(Ok(Message::Text(t))) => {
                let v: Value = serde_json::from_str(&t).unwrap();
                assert_eq!(v[0], 3, "{v}");
                answered += 1;
            }
            Some(Ok(_)) => {}
            other => panic!("{other:?}"),
        }
    }
    let limited = registry
        .gather()
        .into_iter()
        .find(|f| f.name() == "chargegrid_ocpp_frames_rejected_total")
        .and_then(|f| {
            f.get_metric()
                .iter()
                .find(|m| m.get_label().iter().any(|l| l.value() == "rate_limited"))
                .map(|m| m.get_counter().value())
        })
        .unwrap_or(0.0);
    assert!(
        limited >= 50.0,
        "frames over the burst were slowed: {limited}"
    );
    let refused = registry
        .gather()
        .into_iter()
        .find(|f| f.name() == "chargegrid_ocpp_handshakes_refused_total")
        .unwrap();
    assert!(refused.get_metric().iter().any(|m| {
        m.get_label()
            .iter()
            .any(|l| l.value() == "too_many_connections")
    }));
    stop.cancel();
    drop(first);
    server.await.unwrap().unwrap();
    app.shutdown().await.unwrap();
}
