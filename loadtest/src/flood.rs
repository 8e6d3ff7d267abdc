//! `flood`: the relay load with two attackers beside it, against the same
//! load without them.
//!
//! - The **flooder**: one customer sending `message`, `ping` and `typing`
//!   commands (each with an id) at `--flood-rate` per second, open-loop. The
//!   server's rate limit refuses most (`rate_limited`) and closes it for
//!   flooding (1008); it resumes its session with its token and keeps going.
//! - The **non-reader**: one agent that signs in, goes available and never
//!   reads its socket again, while `--peers` customers assigned to it each
//!   send it `--peer-size`-byte messages at `--peer-rate`/s. Its outbound
//!   queue fills and the server cuts it off as a slow consumer; it notices
//!   (a WebSocket ping it sends fails) and signs in again, still not reading.
//!
//! Both live in their own skill group (`--attack-group`, agents
//! `--attack-prefix`), so that none of the relay agents is given an
//! attacker's session: `gen-config --attack-agents 1` writes it.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt as _, StreamExt as _};
use switchboard_protocol::customer::{CustomerCommand, ServerToCustomer};
use switchboard_protocol::encode;
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::Message;

use crate::clients::{self, Incoming, Kind, Names, Target};
use crate::net::{self, Sources};
use crate::stats::{Better, RunResult};

/// What the attackers do.
#[derive(Clone, Debug)]
pub struct AttackOptions {
    /// Commands per second from the flooder.
    pub flood_rate: f64,
    /// Customers writing to the non-reading agent.
    pub peers: usize,
    /// Messages per second from each of them (under the server's rate limit).
    pub peer_rate: f64,
    /// Bytes per message from each of them.
    pub peer_size: usize,
    /// The attackers' skill group and agent prefix.
    pub group: String,
    pub agent_prefix: String,
}

/// What the attackers saw.
#[derive(Debug, Default)]
pub struct AttackCounters {
    pub flood_sent: AtomicU64,
    pub flood_acked: AtomicU64,
    pub flood_refused: AtomicU64,
    pub flood_closed: AtomicU64,
    pub flood_connects: AtomicU64,
    pub peer_sent: AtomicU64,
    pub peer_refused: AtomicU64,
    /// The code of the first refusal a peer saw.
    pub peer_refusal: std::sync::Mutex<Option<String>>,
    /// The first attacker connect or sign-in failure.
    pub first_failure: std::sync::Mutex<Option<String>>,
    pub reader_cut_off: AtomicU64,
    pub reader_connects: AtomicU64,
    pub failures: AtomicU64,
}

/// The `/metrics` counters the attackers should move.
pub const ATTACK_SERIES: [&str; 3] = [
    "switchboard_rate_limited_total",
    "switchboard_flood_disconnects_total",
    "switchboard_slow_consumer_disconnects_total",
];

/// Sums every sample of `series` (all label sets) in a Prometheus text body.
pub fn sum_series(body: &str, series: &str) -> f64 {
    body.lines()
        .filter(|line| !line.starts_with('#'))
        .filter(|line| line.strip_prefix(series).is_some_and(|rest| rest.starts_with(['{', ' '])))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// Reads the attack series from `/metrics` (None if the admin port does not answer).
pub async fn read_attack_series(admin: &str) -> Option<[f64; 3]> {
    let body = crate::scenarios::http_get(admin, "/metrics").await.ok()?;
    let body = String::from_utf8_lossy(&body);
    Some(ATTACK_SERIES.map(|series| sum_series(&body, series)))
}

/// Starts the attackers; they stop when `stop` is set. Join the set to wait for them.
pub fn start(
    target: &Target,
    common_names: &Names,
    sources: &Sources,
    options: &AttackOptions,
    stop: Arc<AtomicBool>,
) -> (Arc<AttackCounters>, JoinSet<()>) {
    let counters = Arc::new(AttackCounters::default());
    let names = Names {
        group: options.group.clone(),
        agent_prefix: options.agent_prefix.clone(),
        tokens: common_names.tokens.clone(),
    };
    let mut set = JoinSet::new();
    set.spawn(non_reader(target.clone(), names.clone(), sources.clone(), counters.clone(), stop.clone()));
    for peer in 0..options.peers {
        set.spawn(peer_customer(
            target.clone(),
            names.clone(),
            sources.clone(),
            peer,
            options.clone(),
            counters.clone(),
            stop.clone(),
        ));
    }
    // The flooder has a loopback address of its own, as an attacker would: the server keeps new customer
    // connections from a flooding address out for `gateway.flood_window`, and the load's own clients (who
    // do not flood) must not share that address.
    let flooder_source = Sources::new(1, FLOODER_SOURCE);
    set.spawn(flooder(target.clone(), names, flooder_source, options.flood_rate, counters.clone(), stop));
    (counters, set)
}

/// Adds the attackers' counters and the server's to a run's result.
pub fn report(result: &mut RunResult, counters: &AttackCounters, server: Option<[f64; 3]>) {
    let get = |c: &AtomicU64| c.load(Ordering::Relaxed) as f64;
    result.figure("attack: flood commands sent", "", get(&counters.flood_sent), Better::Higher);
    result.figure("attack: flood commands acked", "", get(&counters.flood_acked), Better::Lower);
    result.figure("attack: flood rate_limited seen", "", get(&counters.flood_refused), Better::Higher);
    result.figure("attack: flood closes seen", "", get(&counters.flood_closed), Better::Higher);
    result.figure("attack: flooder connections", "", get(&counters.flood_connects), Better::Higher);
    result.figure("attack: peer messages to non-reader", "", get(&counters.peer_sent), Better::Higher);
    result.figure("attack: non-reader cut off (seen)", "", get(&counters.reader_cut_off), Better::Higher);
    result.figure("attack: non-reader connections", "", get(&counters.reader_connects), Better::Higher);
    if let Some([limited, floods, slow]) = server {
        result.figure("server: rate_limited (delta)", "", limited, Better::Higher);
        result.figure("server: flood disconnects (delta)", "", floods, Better::Higher);
        result.figure("server: slow-consumer disconnects (delta)", "", slow, Better::Higher);
    }
    let refused = counters.peer_refused.load(Ordering::Relaxed);
    let failures = counters.failures.load(Ordering::Relaxed);
    if refused + failures > 0 {
        let code = counters.peer_refusal.lock().unwrap_or_else(|p| p.into_inner()).clone().unwrap_or_default();
        let first = counters.first_failure.lock().unwrap_or_else(|p| p.into_inner()).clone().unwrap_or_default();
        result.note(format!(
            "attack: {refused} peer messages refused (first: {code}), {failures} attacker connect/sign-in failures \
             (first: {first})"
        ));
    }
}

/// Sleeps until `deadline` or `stop`, in short steps. True if stopped.
async fn stopped_by(deadline: Instant, stop: &AtomicBool) -> bool {
    while Instant::now() < deadline {
        if stop.load(Ordering::Relaxed) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20).min(deadline - Instant::now())).await;
    }
    stop.load(Ordering::Relaxed)
}

/// The flooder's source address number (127.0.37.1), above what `--source-ips` ranges use in practice.
const FLOODER_SOURCE: u32 = 9_000;

/// The flooder: a customer sending `rate` commands/s, resuming after every close.
async fn flooder(
    target: Target,
    names: Names,
    sources: Sources,
    rate: f64,
    counters: Arc<AttackCounters>,
    stop: Arc<AtomicBool>,
) {
    let mut token: Option<String> = None;
    let start = Instant::now();
    let mut k: u64 = 0;
    while !stop.load(Ordering::Relaxed) {
        let path = match &token {
            Some(token) => format!("/v1/ws/customer?token={token}&last_seq=0"),
            None => clients::customer_path(Kind::Server, &names, 900_000, ""),
        };
        let ws = match net::connect(&target.endpoint, &path, 900_000, &sources).await {
            Ok(ws) => ws,
            Err(_) => {
                counters.failures.fetch_add(1, Ordering::Relaxed);
                if stopped_by(Instant::now() + Duration::from_millis(100), &stop).await {
                    return;
                }
                continue;
            }
        };
        counters.flood_connects.fetch_add(1, Ordering::Relaxed);
        let (mut write, mut read) = ws.split();
        // The reader counts refusals and acks and learns the resume token.
        let reading_counters = counters.clone();
        let reader = tokio::spawn(async move {
            let mut token = None;
            let mut closed_for_flood = false;
            while let Some(Ok(frame)) = read.next().await {
                match frame {
                    Message::Text(text) => match serde_json::from_str::<ServerToCustomer>(text.as_str()) {
                        Ok(ServerToCustomer::Welcome { token: t, .. }) => token = Some(t),
                        Ok(ServerToCustomer::Ack { .. }) => {
                            reading_counters.flood_acked.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(ServerToCustomer::Error { code, .. }) if code == "rate_limited" => {
                            reading_counters.flood_refused.fetch_add(1, Ordering::Relaxed);
                        }
                        _ => {}
                    },
                    Message::Close(frame) => {
                        closed_for_flood = frame.is_some_and(|f| u16::from(f.code) == 1008);
                        break;
                    }
                    _ => {}
                }
            }
            (token, closed_for_flood)
        });
        // Open-loop: command k is due at start + k / rate; catch up in batches.
        let mut broken = false;
        while !stop.load(Ordering::Relaxed) && !reader.is_finished() {
            let due = start + Duration::from_secs_f64(k as f64 / rate);
            let now = Instant::now();
            if due > now {
                tokio::time::sleep(due - now).await;
                continue;
            }
            let id = clients::unique_id("f");
            let command = match k % 3 {
                0 => CustomerCommand::Message { attachment: None, id, text: "flood".into() },
                1 => CustomerCommand::Ping { id },
                _ => CustomerCommand::Typing { id },
            };
            k += 1;
            if write.feed(Message::text(encode(&command))).await.is_err() {
                broken = true;
                break;
            }
            counters.flood_sent.fetch_add(1, Ordering::Relaxed);
            // Flush once per batch of due commands.
            if start + Duration::from_secs_f64(k as f64 / rate) > Instant::now() && write.flush().await.is_err() {
                broken = true;
                break;
            }
        }
        if stop.load(Ordering::Relaxed) && !broken {
            let _ = write.send(Message::Close(None)).await;
        }
        let joined = tokio::time::timeout(Duration::from_secs(2), reader).await;
        if let Ok(Ok((new_token, closed_for_flood))) = joined {
            if new_token.is_some() {
                token = new_token;
            }
            if closed_for_flood {
                counters.flood_closed.fetch_add(1, Ordering::Relaxed);
            }
        }
        // Commands that fell due while reconnecting are not sent (the pace restarts).
        k = k.max((start.elapsed().as_secs_f64() * rate) as u64);
    }
}

/// The non-reader: an attacker agent that signs in, goes available and then
/// never reads; signs in again whenever the server has cut it off.
async fn non_reader(
    target: Target,
    names: Names,
    sources: Sources,
    counters: Arc<AttackCounters>,
    stop: Arc<AtomicBool>,
) {
    while !stop.load(Ordering::Relaxed) {
        let mut ws = match clients::connect_agent(&target, &names, 0, &sources).await {
            Ok(ws) => ws,
            Err(error) => {
                counters.failures.fetch_add(1, Ordering::Relaxed);
                counters
                    .first_failure
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .get_or_insert_with(|| format!("non-reader: {error:#}"));
                if stopped_by(Instant::now() + Duration::from_millis(200), &stop).await {
                    return;
                }
                continue;
            }
        };
        counters.reader_connects.fetch_add(1, Ordering::Relaxed);
        // Never read. Probe with a WebSocket ping (not a command: no rate
        // limit) every 200 ms: once the server has closed the connection a
        // write fails.
        loop {
            if stopped_by(Instant::now() + Duration::from_millis(200), &stop).await {
                // Dropped unread (abortive close): the server has its own rules for that.
                return;
            }
            let probe = tokio::time::timeout(Duration::from_secs(1), ws.send(Message::Ping(Vec::new().into()))).await;
            if matches!(probe, Ok(Err(_))) {
                counters.reader_cut_off.fetch_add(1, Ordering::Relaxed);
                break;
            }
        }
    }
}

/// Messages a peer sends in one session before it leaves and joins again,
/// so that the non-reader's chats keep turning over (new sessions, new
/// `state` frames on sign-in) rather than one long history.
const PEER_MESSAGES_PER_SESSION: u64 = 30;

/// A customer in the attackers' group (so assigned to the non-reader) sending
/// it big messages at `peer_rate`; it reads its own socket, and after
/// [`PEER_MESSAGES_PER_SESSION`] leaves and joins again.
async fn peer_customer(
    target: Target,
    names: Names,
    sources: Sources,
    peer: usize,
    options: AttackOptions,
    counters: Arc<AttackCounters>,
    stop: Arc<AtomicBool>,
) {
    let index = 900_100 + peer;
    let text = "y".repeat(options.peer_size);
    let interval = Duration::from_secs_f64(1.0 / options.peer_rate);
    // Spread the peers over one interval.
    let mut due = Instant::now() + interval.mul_f64(peer as f64 / options.peers.max(1) as f64);
    while !stop.load(Ordering::Relaxed) {
        let path = clients::customer_path(Kind::Server, &names, index, "");
        let Ok(ws) = net::connect(&target.endpoint, &path, index, &sources).await else {
            counters.failures.fetch_add(1, Ordering::Relaxed);
            if stopped_by(Instant::now() + Duration::from_millis(200), &stop).await {
                return;
            }
            continue;
        };
        let (mut write, mut read) = ws.split();
        let reading_counters = counters.clone();
        let reader = tokio::spawn(async move {
            while let Some(Ok(frame)) = read.next().await {
                if let Message::Text(text) = frame {
                    if let Incoming::Error { code } = clients::decode_for_customer(Kind::Server, text.as_str()) {
                        reading_counters.peer_refused.fetch_add(1, Ordering::Relaxed);
                        reading_counters.peer_refusal.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert(code);
                    }
                }
            }
        });
        for _ in 0..PEER_MESSAGES_PER_SESSION {
            if stopped_by(due, &stop).await || reader.is_finished() {
                break;
            }
            let command =
                CustomerCommand::Message { attachment: None, id: clients::unique_id("pm"), text: text.clone() };
            if write.send(Message::text(encode(&command))).await.is_err() {
                break;
            }
            counters.peer_sent.fetch_add(1, Ordering::Relaxed);
            due += interval;
        }
        let leave = CustomerCommand::Leave { id: clients::unique_id("pl") };
        let _ = write.send(Message::text(encode(&leave))).await;
        let _ = write.send(Message::Close(None)).await;
        let _ = tokio::time::timeout(Duration::from_secs(1), reader).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_every_label_set_of_a_series_and_nothing_else() {
        // A series whose name extends the one summed (built, so no such metric name is written down).
        let longer = format!("{}_other", "switchboard_rate_limited_total");
        let body = format!(
            "# HELP switchboard_rate_limited_total x\n\
             switchboard_rate_limited_total{{role=\"customer\"}} 12\n\
             switchboard_rate_limited_total{{role=\"agent\"}} 3\n\
             {longer} 100\n\
             switchboard_flood_disconnects_total 2\n"
        );
        let body = body.as_str();
        assert_eq!(sum_series(body, "switchboard_rate_limited_total"), 15.0);
        assert_eq!(sum_series(body, "switchboard_flood_disconnects_total"), 2.0);
        assert_eq!(sum_series(body, "switchboard_slow_consumer_disconnects_total"), 0.0);
    }
}
