//! Serving a gateway node: on a bound listener, plain or TLS, until a shutdown future resolves
//! (sockets are closed with "going away" first).

use std::future::Future;

use tokio::net::TcpListener;

use axum::Router;
use axum::routing::get;

use crate::{Gateway, TlsSettings, handshake};

impl Gateway {
    /// The axum router (`/ocpp/{charger_id}`), for tests that drive it without a listener.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/ocpp/{charger_id}", get(handshake::upgrade))
            .with_state(self.clone())
    }
}

/// Serves chargers on `listener` until `shutdown` resolves, then closes every charger socket
/// with "going away" and waits for the connection tasks to finish their writes.
pub async fn serve(
    listener: TcpListener,
    gateway: Gateway,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let commands = gateway
        .inner
        .store
        .subscribe_commands(&gateway.inner.config.node)
        .await
        .map_err(std::io::Error::other)?;
    let router_task = tokio::spawn(crate::local::route_commands(gateway.clone(), commands));
    crate::listener::accept_loop(listener, gateway, None, shutdown).await;
    router_task.abort();
    Ok(())
}

/// Serves chargers over TLS on `listener` until `shutdown` resolves (then, like
/// [`crate::serve`], every charger socket is closed with "going away").
pub async fn serve_tls(
    listener: TcpListener,
    gateway: Gateway,
    tls: TlsSettings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let acceptor = tokio_rustls::TlsAcceptor::from(tls.acceptor_config());
    crate::listener::accept_loop(listener, gateway, Some(acceptor), shutdown).await;
    Ok(())
}
