//! Helpers shared by the end-to-end tests: start the app in-process on port 0 with a given
//! store, and open charger WebSockets.

use std::sync::Arc;

use chargegrid::{App, Config, Role};
use chargegrid_core::SystemClock;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// A config listening on free loopback ports with the given store URL.
pub fn test_config(store_url: &str) -> Config {
    let mut config = Config::default();
    config.ocpp.listen = "127.0.0.1:0".parse().unwrap();
    config.api.listen = "127.0.0.1:0".parse().unwrap();
    config.metrics.listen = "127.0.0.1:0".parse().unwrap();
    config.store.url = store_url.to_string();
    config
}

/// Starts the whole app in-process.
pub async fn start_app(config: &Config) -> App {
    App::start(config, Role::All, Arc::new(SystemClock))
        .await
        .unwrap()
}

/// Opens a charger WebSocket offering `protocols`; the handshake result.
pub async fn connect_charger(
    app: &App,
    charger: &str,
    protocols: &str,
) -> Result<
    (
        tokio_tungstenite::WebSocketStream<
            tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
        >,
        tokio_tungstenite::tungstenite::handshake::client::Response,
    ),
    tokio_tungstenite::tungstenite::Error,
> {
    let url = format!("ws://{}/ocpp/{charger}", app.ocpp_addr.unwrap());
    let mut request = url.into_client_request().unwrap();
    if !protocols.is_empty() {
        request
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", protocols.parse().unwrap());
    }
    tokio_tungstenite::connect_async(request).await
}
