//! Opening a charger's WebSocket: `{base}/{charger_id}` with the version's subprotocol and, for
//! security profile 1, HTTP Basic credentials.

use std::time::Duration;

use base64::Engine;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::ChargerSpec;

/// A charger's socket.
pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Connects `spec` to `base` (e.g. `ws://127.0.0.1:9000/ocpp`) within `timeout`.
pub async fn connect(base: &str, spec: &ChargerSpec, timeout: Duration) -> Result<Ws, String> {
    let url = format!("{}/{}", base.trim_end_matches('/'), spec.id);
    let mut request = url
        .as_str()
        .into_client_request()
        .map_err(|e| format!("bad url {url}: {e}"))?;
    let headers = request.headers_mut();
    headers.insert(
        "Sec-WebSocket-Protocol",
        spec.version
            .subprotocol()
            .parse()
            .map_err(|e| format!("{e}"))?,
    );
    if let Some(password) = &spec.password {
        let token =
            base64::engine::general_purpose::STANDARD.encode(format!("{}:{password}", spec.id));
        headers.insert(
            "Authorization",
            format!("Basic {token}")
                .parse()
                .map_err(|e| format!("{e}"))?,
        );
    }
    let attempt = tokio_tungstenite::connect_async_with_config(request, None, true);
    let (ws, response) = tokio::time::timeout(timeout, attempt)
        .await
        .map_err(|_| "connect timed out".to_string())?
        .map_err(|e| e.to_string())?;
    let chosen = response
        .headers()
        .get("Sec-WebSocket-Protocol")
        .and_then(|v| v.to_str().ok());
    if chosen != Some(spec.version.subprotocol()) {
        return Err(format!("server chose subprotocol {chosen:?}"));
    }
    Ok(ws)
}
