//! Connecting simulated clients: loopback-only targets, the server's socket
//! settings, and spreading client sockets over several 127.x.y.z source addresses.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use anyhow::{bail, Context as _};
use futures_util::{SinkExt as _, StreamExt as _};
use switchboard_protocol as protocol;
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::http::header::SEC_WEBSOCKET_PROTOCOL;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

pub type Ws = WebSocketStream<TcpStream>;

/// Most connections one harness process opens: the process gets about 20,000
/// open files and cannot raise that (see docs/performance.md).
pub const MAX_CONNECTIONS_PER_PROCESS: usize = 18_000;
/// Ephemeral ports per (source address, destination) on this kernel: about 28,000.
pub const EPHEMERAL_PORTS_PER_SOURCE: usize = 28_000;

/// The server's buffer sizes (4 KiB) for the simulated clients. The server's
/// 64 KiB limit is for what clients send; what the server sends may be bigger
/// (an agent's `welcome` lists the roster), so clients accept up to 16 MiB, as
/// a browser would accept far more.
pub fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(4 * 1024)
        .max_write_buffer_size(4 * 1024 * 1024)
        .max_message_size(Some(16 * 1024 * 1024))
        .max_frame_size(Some(16 * 1024 * 1024))
}

/// A parsed `ws://host:port` base URL that points at this machine.
#[derive(Clone, Debug)]
pub struct Endpoint {
    /// `ws://host:port` without a trailing slash.
    pub base: String,
    pub addr: SocketAddr,
}

impl Endpoint {
    /// Parses `ws://HOST:PORT[/...]`; refuses anything that is not loopback.
    pub fn parse(url: &str) -> anyhow::Result<Self> {
        let rest = match url.strip_prefix("ws://") {
            Some(rest) => rest,
            None if url.starts_with("wss://") => bail!("{url}: TLS targets are not supported (loopback only)"),
            None => bail!("{url}: expected ws://HOST:PORT"),
        };
        let authority = rest.split('/').next().unwrap_or_default();
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) => (host, port.parse::<u16>().with_context(|| format!("{url}: bad port"))?),
            None => (authority, 80),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let ip: IpAddr = if host.eq_ignore_ascii_case("localhost") {
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        } else {
            host.parse().with_context(|| format!("{url}: the host must be an IP address or localhost"))?
        };
        if !ip.is_loopback() {
            bail!(
                "{url}: refusing a non-loopback target. The harness only loads servers on this machine \
                 (127.0.0.0/8 or ::1); run it on the deployment's host to load a deployment."
            );
        }
        let addr = SocketAddr::new(ip, port);
        Ok(Endpoint { base: format!("ws://{authority}"), addr })
    }
}

/// Source addresses for client sockets: 127.0.0.1 alone, or 127.0.1.1.. when spreading.
#[derive(Clone, Debug)]
pub struct Sources {
    count: u32,
    first: u32,
}

impl Sources {
    /// `count` addresses starting at number `first` (0 is 127.0.1.1, 250 is 127.0.2.1...).
    /// One address and `first` 0 means: let the kernel pick (127.0.0.1).
    pub fn new(count: u32, first: u32) -> Self {
        Sources { count: count.max(1), first }
    }

    fn pick(&self, index: usize) -> Option<Ipv4Addr> {
        if self.count <= 1 && self.first == 0 {
            return None;
        }
        let n = self.first + (index as u32) % self.count;
        Some(Ipv4Addr::new(127, 0, 1 + (n / 250) as u8, 1 + (n % 250) as u8))
    }
}

/// Opens a WebSocket to `endpoint` + `path_and_query`, client socket number `index`.
pub async fn connect(endpoint: &Endpoint, path_and_query: &str, index: usize, sources: &Sources) -> anyhow::Result<Ws> {
    connect_with_token(endpoint, path_and_query, None, index, sources).await
}

/// [`connect`] offering `token` the way the agent console does
/// (`Sec-WebSocket-Protocol: switchboard, bearer.<token>`).
pub async fn connect_with_token(
    endpoint: &Endpoint,
    path_and_query: &str,
    token: Option<&str>,
    index: usize,
    sources: &Sources,
) -> anyhow::Result<Ws> {
    let socket = if endpoint.addr.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
    if let (Some(source), true) = (sources.pick(index), endpoint.addr.is_ipv4()) {
        socket.bind(SocketAddr::new(IpAddr::V4(source), 0)).with_context(|| format!("binding to {source}"))?;
    }
    let stream = tokio::time::timeout(Duration::from_secs(10), socket.connect(endpoint.addr))
        .await
        .context("TCP connect timed out after 10 s")?
        .with_context(|| format!("connecting to {}", endpoint.addr))?;
    stream.set_nodelay(true)?;
    let url = format!("{}{}", endpoint.base, path_and_query);
    let mut request = url.as_str().into_client_request()?;
    if let Some(token) = token {
        let offer = format!("{}, {}{token}", protocol::SUBPROTOCOL, protocol::BEARER_SUBPROTOCOL_PREFIX);
        request.headers_mut().insert(SEC_WEBSOCKET_PROTOCOL, HeaderValue::from_str(&offer)?);
    }
    let (ws, _) = tokio::time::timeout(
        Duration::from_secs(10),
        tokio_tungstenite::client_async_with_config(request, stream, Some(ws_config())),
    )
    .await
    .context("WebSocket handshake timed out after 10 s")?
    .with_context(|| format!("WebSocket handshake with {url}"))?;
    Ok(ws)
}

/// Closes from the client side first (so the server keeps no TIME_WAIT) and reads
/// until the close handshake completes, for at most a second.
pub async fn close(mut ws: Ws) {
    let _ = ws.send(Message::Close(None)).await;
    let _ = tokio::time::timeout(Duration::from_secs(1), async { while let Some(Ok(_)) = ws.next().await {} }).await;
}

/// Refuses a run that needs more connections than one process can hold, and says
/// how it would scale instead.
pub fn check_connection_budget(needed: usize, sources: &Sources) -> anyhow::Result<()> {
    if needed > MAX_CONNECTIONS_PER_PROCESS {
        let processes = needed.div_ceil(MAX_CONNECTIONS_PER_PROCESS);
        let source_ips = needed.div_ceil(EPHEMERAL_PORTS_PER_SOURCE);
        let ports = if source_ips > 1 {
            format!(
                " Loopback allows about {EPHEMERAL_PORTS_PER_SOURCE} ephemeral ports per source address and \
                 destination, so {needed} connections to one server port also need at least {source_ips} source \
                 addresses: give each process its own addresses with --source-ips N --source-first K (K = 0, N, 2N...)."
            )
        } else {
            String::new()
        };
        let servers = needed.div_ceil(19_000);
        bail!(
            "this run needs {needed} connections; one harness process holds at most {MAX_CONNECTIONS_PER_PROCESS} \
             (about 20,000 open files per process, which cannot be raised here).\n\
             To go further, run {processes} harness processes side by side, each with at most \
             {MAX_CONNECTIONS_PER_PROCESS} connections (scale the sizes and rates of each accordingly).{ports}\n\
             The server is bounded the same way: one server process holds about 19,000 connections \
             (gateway.max_connections), so {needed} connections need {servers} server node(s) in cluster mode \
             behind a load balancer."
        );
    }
    if sources.count == 1 && needed > EPHEMERAL_PORTS_PER_SOURCE {
        bail!("{needed} connections from one source address exceed ~{EPHEMERAL_PORTS_PER_SOURCE} ephemeral ports");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_targets_are_accepted_and_others_refused() {
        assert_eq!(Endpoint::parse("ws://127.0.0.1:8080").unwrap().addr.port(), 8080);
        assert_eq!(Endpoint::parse("ws://localhost:9000/x").unwrap().base, "ws://localhost:9000");
        assert!(Endpoint::parse("ws://[::1]:8080").unwrap().addr.ip().is_loopback());
        assert!(Endpoint::parse("ws://10.0.0.5:8080").is_err());
        assert!(Endpoint::parse("ws://example.com:8080").is_err());
        assert!(Endpoint::parse("wss://127.0.0.1:8443").is_err());
    }

    #[test]
    fn too_many_connections_explain_how_to_scale() {
        let error = check_connection_budget(40_000, &Sources::new(1, 0)).unwrap_err().to_string();
        assert!(error.contains("3 harness processes"), "{error}");
        assert!(check_connection_budget(18_000, &Sources::new(1, 0)).is_ok());
    }

    #[test]
    fn sources_spread_over_loopback_addresses() {
        let sources = Sources::new(300, 0);
        assert_eq!(sources.pick(0), Some(Ipv4Addr::new(127, 0, 1, 1)));
        assert_eq!(sources.pick(251), Some(Ipv4Addr::new(127, 0, 2, 2)));
        assert_eq!(Sources::new(1, 0).pick(5), None);
        assert_eq!(Sources::new(2, 250).pick(1), Some(Ipv4Addr::new(127, 0, 2, 2)));
    }
}
