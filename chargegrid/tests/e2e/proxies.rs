//! Behind a real load balancer (HAProxy from Debian): the OCPP listener takes the charger's
//! address from the PROXY protocol v2 header of a trusted proxy, and the API takes the client's
//! from `X-Forwarded-For`, so per-address limits and the refused-handshake records name the
//! client, not the proxy; from an untrusted peer such claims are ignored. Clients use distinct
//! loopback addresses (127.0.0.2, .3, ...) so each is told apart from the proxy (127.0.0.1).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use chargegrid_core::proxies::TrustedProxies;
use chargegrid_test_support::{ChildProcess, free_port};
use serde_json::json;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::api_client::Api;
use crate::harness::{start_app, test_config};

const OPERATOR: &str = "ops@example.com";
const PASSWORD: &str = "correct horse battery staple";

/// Waits until something listens on `addr` (HAProxy starting; the wait only ends a hang).
async fn listening(addr: SocketAddr) {
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("nothing listens on {addr}");
}

/// A WebSocket handshake for `charger` to `to`, from the local address `from`.
async fn handshake_from(from: IpAddr, to: SocketAddr, charger: &str) -> bool {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::new(from, 0)).unwrap();
    let tcp = socket.connect(to).await.unwrap();
    let mut request = format!("ws://{to}/ocpp/{charger}")
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", "ocpp1.6".parse().unwrap());
    tokio_tungstenite::client_async(request, tcp).await.is_ok()
}

/// A GET of `/health` from the local address `from`, with an optional `X-Forwarded-For`.
async fn health_from(from: IpAddr, base: &str, forwarded: Option<&str>) -> u16 {
    let client = reqwest::Client::builder()
        .local_address(from)
        .build()
        .unwrap();
    let mut req = client.get(format!("{base}/health"));
    if let Some(f) = forwarded {
        req = req.header("X-Forwarded-For", f);
    }
    req.send().await.unwrap().status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_haproxy_limits_and_records_name_the_client_not_the_proxy() {
    let mut config = test_config("memory://");
    config.admin.email = Some(OPERATOR.into());
    config.admin.password = Some(PASSWORD.into());
    config.ocpp.gateway.trusted_proxies = TrustedProxies::parse(&["127.0.0.1"]).unwrap();
    config.api.trusted_proxies = TrustedProxies::parse(&["127.0.0.1"]).unwrap();
    // 10 a minute per account, 50 per address: a burst of 5.
    config.api.rate_limit_per_minute = 10;
    let app = start_app(&config).await;
    let (ocpp_port, api_port) = (free_port(), free_port());
    let dir = std::env::temp_dir().join(format!("chargegrid-haproxy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("haproxy.cfg");
    std::fs::write(
        &cfg,
        format!(
            "global\n  maxconn 256\n\
             defaults\n  timeout connect 5s\n  timeout client 30s\n  timeout server 30s\n\
             frontend ocpp\n  bind 127.0.0.1:{ocpp_port}\n  mode tcp\n  default_backend gateway\n\
             backend gateway\n  mode tcp\n  server gw {gw} send-proxy-v2\n\
             frontend api\n  bind 127.0.0.1:{api_port}\n  mode http\n  option forwardfor\n  default_backend api\n\
             backend api\n  mode http\n  server api {api}\n",
            gw = app.ocpp_addr.unwrap(),
            api = app.api_addr.unwrap(),
        ),
    )
    .unwrap();
    let _haproxy = ChildProcess::spawn(
        std::path::Path::new("haproxy"),
        &["-f", cfg.to_str().unwrap(), "-db"],
        &[],
    )
    .expect("haproxy (Debian package) is installed by scripts/test");
    let ocpp_front = SocketAddr::from(([127, 0, 0, 1], ocpp_port));
    let api_front = SocketAddr::from(([127, 0, 0, 1], api_port));
    listening(ocpp_front).await;
    listening(api_front).await;
    let ip = |last: u8| IpAddr::from([127, 0, 0, last]);

    // OCPP: a refused charger behind the proxy is recorded with its own address.
    assert!(!handshake_from(ip(2), ocpp_front, "NOT-IN-THE-NETWORK").await);
    // A direct client (untrusted) is its own peer; it sends no PROXY header and needs none.
    assert!(!handshake_from(ip(3), app.ocpp_addr.unwrap(), "ALSO-UNKNOWN").await);
    // A charger in the network connects through the proxy as usual.
    assert!(handshake_from(ip(4), ocpp_front, "QD-HD-AC01").await);
    let mut op = Api::new(app.api_addr.unwrap());
    let login = op
        .post(
            "/auth/login",
            json!({"email": OPERATOR, "password": PASSWORD}),
        )
        .await;
    op.token = login.body["access_token"].as_str().map(String::from);
    let refusals = op.get("/chargers/refused-handshakes?limit=10").await.body;
    let remote_of = |charger: &str| {
        refusals
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["charger"] == charger)
            .unwrap_or_else(|| panic!("{charger} not in {refusals}"))["remote"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(remote_of("NOT-IN-THE-NETWORK"), "127.0.0.2", "{refusals}");
    assert_eq!(remote_of("ALSO-UNKNOWN"), "127.0.0.3", "{refusals}");

    // API: each client behind the proxy has its own per-address bucket.
    let base = format!("http://{api_front}/api/v1");
    let mut limited = false;
    for _ in 0..8 {
        limited |= health_from(ip(5), &base, None).await == 429;
    }
    assert!(limited, "the client at .5 was never limited");
    assert_eq!(
        health_from(ip(6), &base, None).await,
        200,
        "another client behind the same proxy shares the first one's bucket"
    );
    // A client talking to the API directly cannot choose its address with the header: it
    // exhausts its own bucket, not the one it names.
    let direct = format!("http://{}/api/v1", app.api_addr.unwrap());
    let mut limited = false;
    for _ in 0..8 {
        limited |= health_from(ip(7), &direct, Some("127.0.0.8")).await == 429;
    }
    assert!(limited, "the direct client at .7 was never limited");
    assert_eq!(health_from(ip(8), &base, None).await, 200);
    app.shutdown().await.unwrap();
}
