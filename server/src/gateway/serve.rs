//! The accept loop of both listeners: HTTP/1.1 by hyper with a deadline on
//! the request head, and the peer's address handed to the handlers.
//!
//! `axum::serve` sets no timer on hyper, so a client could open a TCP
//! connection, send half a request line and hold it (and its memory and
//! file descriptor) forever: a few thousand such sockets starve the server
//! (slowloris). Here every connection must send its complete request head,
//! the WebSocket handshake included, within `gateway.handshake_timeout`; an
//! idle keep-alive connection gets the same time for its next request. After
//! a WebSocket upgrade the connection is no longer hyper's and its own idle
//! rules apply. The peer address (`ConnectInfo<SocketAddr>`) feeds the
//! per-IP connection cap.

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tracing::{debug, warn};

/// Serves `router` on `listener` until `stop` turns true, then stops
/// accepting, lets every HTTP connection finish its request, and returns.
pub async fn serve(
    listener: TcpListener,
    router: axum::Router,
    handshake_timeout: Duration,
    mut stop: watch::Receiver<bool>,
) {
    // Each connection task holds a receiver; all of them gone = all finished.
    let (finished_tx, finished_rx) = watch::channel(());
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.wait_for(|s| *s) => break,
        };
        let (tcp, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                accept_error(e).await;
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let connection = serve_connection(tcp, peer, router.clone(), handshake_timeout, stop.clone());
        let finished = finished_rx.clone();
        tokio::spawn(async move {
            connection.await;
            drop(finished);
        });
    }
    drop(finished_rx);
    finished_tx.closed().await;
}

/// One TCP connection: requests until it closes, upgrades, times out or the server stops.
async fn serve_connection(
    tcp: TcpStream,
    peer: SocketAddr,
    router: axum::Router,
    handshake_timeout: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let mut request = request.map(axum::body::Body::new);
        request.extensions_mut().insert(ConnectInfo(peer));
        tower::ServiceExt::oneshot(router.clone(), request)
    });
    let connection = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(handshake_timeout)
        .serve_connection(TokioIo::new(tcp), service)
        .with_upgrades();
    tokio::pin!(connection);
    let mut stopping = false;
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(e) = result {
                    // A header timeout lands here too: the socket is closed.
                    debug!(%peer, error = %e, "http connection ended");
                }
                return;
            }
            _ = stop.wait_for(|s| *s), if !stopping => {
                stopping = true;
                connection.as_mut().graceful_shutdown();
            }
        }
    }
}

/// Out of file descriptors and the like: wait a little rather than spin.
/// Errors of one connection (reset before accept) need no pause.
async fn accept_error(e: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(e.kind(), ConnectionAborted | ConnectionRefused | ConnectionReset) {
        return;
    }
    warn!(error = %e, "accept failed: pausing 1 s");
    tokio::time::sleep(Duration::from_secs(1)).await;
}
