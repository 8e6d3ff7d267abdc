//! Baseline relay: the floor the Switchboard server is measured against.
//!
//! Same WebSocket library (tokio-tungstenite) and the same socket settings as the
//! server (4 KiB read/write buffers, 64 KiB message and frame limits, a listen
//! backlog of 4096, `TCP_NODELAY`), but no JSON, no routing and no metrics: two
//! connections that ask for the same pair key (`?pair=KEY` in the request URL)
//! are paired, each is sent one text frame `{"type":"paired"}`, and from then on
//! every text or binary frame one sends is forwarded verbatim to the other.
//!
//! A connection without a pair key is held open and its frames are dropped (the
//! `idle` scenario). The harness starts this binary itself with `--baseline auto`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use clap::Parser;
use futures_util::{SinkExt as _, StreamExt as _};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

/// Outbound frames queued per connection before the reader waits (backpressure).
const OUTBOUND_QUEUE: usize = 1024;

#[derive(Debug, Parser)]
#[command(name = "baseline-relay", about = "Bare WebSocket relay used as the load harness's baseline")]
struct Args {
    /// Address to listen on (loopback). Port 0 picks a free port; the chosen
    /// address is printed on stdout as `listening on ADDR`.
    #[arg(long, default_value = "127.0.0.1:8081")]
    listen: SocketAddr,
    /// Worker threads for the tokio runtime (default: the number of CPUs).
    #[arg(long)]
    workers: Option<usize>,
    /// Exit when stdin reaches end of file: the harness starts the relay with a
    /// pipe, so the relay never outlives it (even when the harness is killed).
    #[arg(long)]
    exit_with_stdin: bool,
}

/// The socket settings shared with the server (see docs/performance.md).
fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(4 * 1024)
        .max_write_buffer_size(4 * 1024 * 1024)
        .max_message_size(Some(64 * 1024))
        .max_frame_size(Some(64 * 1024))
}

/// A connection waiting for its peer: where to send it frames, and how to hand it
/// the peer's sender once the peer arrives.
struct Waiting {
    tx: mpsc::Sender<Message>,
    peer: oneshot::Sender<mpsc::Sender<Message>>,
}

type Registry = Arc<Mutex<HashMap<String, Waiting>>>;

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.exit_with_stdin {
        std::thread::spawn(|| {
            let mut sink = Vec::new();
            let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut sink);
            std::process::exit(0);
        });
    }
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.enable_all();
    if let Some(workers) = args.workers {
        builder.worker_threads(workers.max(1));
    }
    builder.build()?.block_on(serve(args.listen))
}

async fn serve(listen: SocketAddr) -> anyhow::Result<()> {
    let socket = if listen.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
    socket.set_reuseaddr(true)?;
    socket.bind(listen).with_context(|| format!("binding {listen}"))?;
    let listener = socket.listen(4096)?;
    println!("listening on {}", listener.local_addr()?);
    let registry: Registry = Arc::default();
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                // EMFILE and friends: back off instead of spinning.
                eprintln!("accept failed: {error}");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        let registry = registry.clone();
        tokio::spawn(async move {
            if let Err(error) = handle(stream, registry).await {
                if !matches!(error, WsError::ConnectionClosed | WsError::AlreadyClosed) {
                    eprintln!("connection ended with error: {error}");
                }
            }
        });
    }
}

fn pair_key(request: &Request) -> Option<String> {
    request.uri().query()?.split('&').find_map(|kv| kv.strip_prefix("pair=")).map(str::to_owned)
}

async fn handle(stream: TcpStream, registry: Registry) -> Result<(), WsError> {
    stream.set_nodelay(true)?;
    let mut key = None;
    // The error type is tungstenite's handshake callback contract, not ours.
    #[allow(clippy::result_large_err)]
    let callback = |request: &Request, response: Response| {
        key = pair_key(request);
        Ok(response)
    };
    let ws = tokio_tungstenite::accept_hdr_async_with_config(stream, callback, Some(ws_config())).await?;
    let (mut sink, mut stream) = ws.split();

    let (own_tx, mut own_rx) = mpsc::channel::<Message>(OUTBOUND_QUEUE);
    // Writer: drain the queue, batching whatever is already waiting into one flush.
    let writer = tokio::spawn(async move {
        while let Some(message) = own_rx.recv().await {
            let closing = message.is_close();
            sink.feed(message).await?;
            while let Ok(more) = own_rx.try_recv() {
                sink.feed(more).await?;
            }
            sink.flush().await?;
            if closing {
                break;
            }
        }
        Ok::<_, WsError>(())
    });

    // Pairing: the first connection with a key waits, the second completes the pair.
    let mut peer_rx = None;
    let mut peer: Option<mpsc::Sender<Message>> = None;
    let mut waiting_key = None;
    if let Some(key) = key {
        match join(&registry, &key, &own_tx) {
            Ok(tx) => peer = Some(tx),
            Err(rx) => {
                peer_rx = Some(rx);
                waiting_key = Some(key);
            }
        }
        if peer.is_some() {
            let paired = Message::text(r#"{"type":"paired"}"#);
            let _ = own_tx.send(paired.clone()).await;
            if let Some(peer) = &peer {
                let _ = peer.send(paired).await;
            }
        }
    }

    // Reader: forward data frames to the peer; keep reading until the close
    // handshake completes so closes stay clean.
    loop {
        let message = tokio::select! {
            biased;
            paired = wait_for_peer(&mut peer_rx) => {
                peer_rx = None;
                peer = paired;
                continue;
            }
            message = stream.next() => message,
        };
        match message {
            Some(Ok(message @ (Message::Text(_) | Message::Binary(_)))) => {
                if let Some(tx) = &peer {
                    if tx.send(message).await.is_err() {
                        peer = None;
                    }
                }
            }
            Some(Ok(Message::Close(_))) => {
                // tungstenite queues the close reply itself; flushing it needs a write.
                let _ = own_tx.send(Message::Close(None)).await;
            }
            Some(Ok(_)) => {}
            Some(Err(WsError::Capacity(_))) => {
                let frame = CloseFrame { code: CloseCode::Size, reason: "message too big".into() };
                let _ = own_tx.send(Message::Close(Some(frame))).await;
            }
            Some(Err(error)) => {
                leave(&registry, waiting_key.filter(|_| peer_rx.is_some()), &own_tx);
                writer.abort();
                return Err(error);
            }
            None => break,
        }
    }
    leave(&registry, waiting_key.filter(|_| peer_rx.is_some()), &own_tx);
    // The peer may still hold a sender to our queue: stop the writer explicitly.
    writer.abort();
    Ok(())
}

/// Pairs with a waiting connection (`Ok(its sender)`), or registers us as waiting.
fn join(
    registry: &Registry,
    key: &str,
    own_tx: &mpsc::Sender<Message>,
) -> Result<mpsc::Sender<Message>, oneshot::Receiver<mpsc::Sender<Message>>> {
    let mut map = registry.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(waiting) = map.remove(key) {
        if waiting.peer.send(own_tx.clone()).is_ok() {
            return Ok(waiting.tx);
        }
    }
    let (peer_tx, rx) = oneshot::channel();
    map.insert(key.to_owned(), Waiting { tx: own_tx.clone(), peer: peer_tx });
    Err(rx)
}

/// Resolves when the peer arrives; pending forever when there is nothing to wait for.
async fn wait_for_peer(
    peer_rx: &mut Option<oneshot::Receiver<mpsc::Sender<Message>>>,
) -> Option<mpsc::Sender<Message>> {
    match peer_rx {
        Some(rx) => rx.await.ok(),
        None => std::future::pending().await,
    }
}

/// Removes our waiting entry (if it is still ours) when we leave unpaired.
fn leave(registry: &Registry, key: Option<String>, own_tx: &mpsc::Sender<Message>) {
    let Some(key) = key else { return };
    let mut map = registry.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if map.get(&key).is_some_and(|waiting| waiting.tx.same_channel(own_tx)) {
        map.remove(&key);
    }
}
