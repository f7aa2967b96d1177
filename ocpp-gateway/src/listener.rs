//! The accept loop shared by the plain (`ws://`) and TLS (`wss://`) listeners. Each socket must
//! finish its handshake — TLS, then the HTTP upgrade request — within the configured handshake
//! timeout, or it is dropped: a client that opens sockets and sends its request a byte at a
//! time (slowloris) or nothing at all holds a socket for seconds, not forever. After the
//! upgrade the connection task owns the socket and pings find dead ones. A connection from a
//! trusted proxy (`ocpp.trusted_proxies`) starts with a PROXY protocol header naming the
//! charger's address, which then stands for the peer everywhere (per-address limits, back-off,
//! refused-handshake records).

use std::future::Future;
use std::net::SocketAddr;

use axum::Extension;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::Gateway;
use crate::tls::ClientCertificate;

/// Accepts sockets on `listener` until `shutdown` resolves or the gateway is stopped, then
/// waits for every connection task (each closes its charger socket with "going away").
pub(crate) async fn accept_loop(
    mut listener: TcpListener,
    gateway: Gateway,
    tls: Option<TlsAcceptor>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let token = gateway.inner.shutdown.clone();
    let router = gateway.router();
    tokio::pin!(shutdown);
    loop {
        // axum's accept logs and retries errors, pausing a second when out of file descriptors.
        let (mut tcp, peer) = tokio::select! {
            () = &mut shutdown => break,
            () = token.cancelled() => break,
            accepted = axum::serve::Listener::accept(&mut listener) => accepted,
        };
        let _ = tcp.set_nodelay(true);
        let gateway_for_task = gateway.clone();
        let router = router.clone();
        let tls = tls.clone();
        gateway.inner.tasks.spawn(async move {
            let gateway = gateway_for_task;
            let limit = gateway.inner.config.settings.handshake_timeout;
            let handshake = async {
                // Behind a trusted load balancer, the charger's address is in the PROXY header
                // it sends first; from anyone else no such header is read.
                let mut peer = peer;
                if gateway.inner.config.settings.trusted_proxies.contains(peer.ip()) {
                    match crate::proxy_header::read(&mut tcp).await {
                        Ok(Some(client)) => peer = client,
                        Ok(None) => {}
                        Err(e) => {
                            gateway
                                .inner
                                .metrics
                                .handshakes_refused
                                .with_label_values(&["proxy_header"])
                                .inc();
                            tracing::info!(%peer, error = %e, "connection from a trusted proxy dropped");
                            return;
                        }
                    }
                }
                match tls {
                    Some(acceptor) => match acceptor.accept(tcp).await {
                        Ok(stream) => {
                            let identity = ClientCertificate::of(&stream);
                            serve_http(router, stream, peer, Some(identity)).await;
                        }
                        Err(e) => {
                            gateway
                                .inner
                                .metrics
                                .handshakes_refused
                                .with_label_values(&["tls"])
                                .inc();
                            tracing::info!(%peer, error = %e, "TLS handshake failed");
                        }
                    },
                    None => serve_http(router, tcp, peer, None).await,
                }
            };
            if tokio::time::timeout(limit, handshake).await.is_err() {
                gateway
                    .inner
                    .metrics
                    .handshakes_refused
                    .with_label_values(&["timeout"])
                    .inc();
                tracing::info!(%peer, "handshake not finished in time; socket dropped");
            }
        });
    }
    gateway.inner.shutdown.cancel();
    gateway.inner.tasks.close();
    gateway.inner.tasks.wait().await;
}

/// Serves the HTTP side of one socket until it upgrades to a WebSocket (the future then ends and
/// the connection task carries on) or closes.
async fn serve_http<S>(
    router: axum::Router,
    stream: S,
    peer: SocketAddr,
    identity: Option<ClientCertificate>,
) where
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let router = router.layer(Extension(axum::extract::ConnectInfo(peer)));
    let router = match identity {
        Some(identity) => router.layer(Extension(identity)),
        None => router,
    };
    let served = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(stream), TowerToHyperService::new(router))
        .with_upgrades()
        .await;
    if let Err(e) = served {
        tracing::debug!(%peer, error = %e, "HTTP connection ended with an error");
    }
}
