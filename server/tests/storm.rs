//! Reconnect storm: 1,000 customers and 100 agents in live chats, every
//! connection dropped at once while messages are in flight, everyone back;
//! then the same again with the server restarting (graceful shutdown, a new
//! server on the same `data_dir`, new port) under the chats.
//!
//! The clients do what the protocol asks after any drop (as in
//! `durability.rs`): reconnect at once, resume (customers with `token` +
//! `last_seq`, agents with `last_seq`), drop replayed frames whose `seq` they
//! have already seen, and resend every command whose ack they never saw with
//! its original id. Then, checked for every client:
//!
//! - back (resumed `welcome`) within 10 s of the drop (for the restart: of
//!   the start of the shutdown, the restart included);
//! - every message either side sent and got an ack for (by its unique text)
//!   arrived at the other side exactly once, in the right session; after the
//!   resends every command is acked, so that is every message sent;
//! - each stream's `seq`s are contiguous (nothing skipped, nothing repeated);
//! - every session is still with its agent: the agent's `state` after the
//!   resume lists exactly its sessions, and no customer is assigned again.
//!
//! `STORM_CUSTOMERS` / `STORM_AGENTS` change the size (default 1,000 / 100,
//! as the issue asks; customers must be a multiple of agents).

mod common;

use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use common::{config, start, with_token};
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{json, Value};
use switchboard_protocol::agent::ServerToAgent;
use switchboard_protocol::customer::ServerToCustomer;
use tokio::net::TcpStream;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;
use tokio::time::{sleep, timeout, Instant};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Everyone must be back this soon after the drop.
const BACK_WITHIN: Duration = Duration::from_secs(10);
/// Chat before the drop (the drop lands among the messages), and messages each client sends after it.
const BEFORE: Duration = Duration::from_millis(1500);
const AFTER: usize = 2;
/// Between one customer's messages, and between one agent's replies (to its sessions in turn).
const CUSTOMER_GAP: Duration = Duration::from_millis(600);
const AGENT_GAP: Duration = Duration::from_millis(100);
/// How long any single wait may take before the test fails.
const WAIT: Duration = Duration::from_secs(20);

fn size() -> (usize, usize) {
    let read = |name: &str, default: usize| {
        std::env::var(name)
            .ok()
            .map(|v| v.parse().unwrap_or_else(|_| panic!("{name}={v}: not a number")))
            .unwrap_or(default)
    };
    let (customers, agents) = (read("STORM_CUSTOMERS", 1000), read("STORM_AGENTS", 100));
    assert!(agents > 0 && customers % agents == 0, "customers must be a multiple of agents");
    (customers, agents)
}

fn storm_config(agents: usize, capacity: usize) -> switchboard_server::config::Config {
    let mut extra = String::from(
        "[router.rules]\nagent_grace = \"60s\"\ncustomer_grace = \"120s\"\n\
         [[router.groups]]\nid = \"storm\"\nname = \"Storm\"\nmax_queue = 5000\n",
    );
    for a in 0..agents {
        extra.push_str(&format!(
            "[[router.agents]]\nid = \"s{a:03}\"\nname = \"S{a:03}\"\ncapacity = {capacity}\ngroups = [{{ group = \"storm\" }}]\n"
        ));
    }
    config(1.0, &extra)
}

/// One client, customer or agent, and everything it has seen and sent.
struct Peer {
    agent: Option<String>,
    ws: Option<Ws>,
    /// Customer: its session's resume token and id.
    token: String,
    session: u64,
    /// Agent: its sessions.
    sessions: BTreeSet<u64>,
    /// Highest `seq` processed, and every `seq` accepted, in order.
    last_seq: u64,
    seqs: Vec<u64>,
    /// Chat texts received: (session, text); a customer's session is its own.
    received: Vec<(u64, String)>,
    /// Commands sent: id -> (session, text) and whether acked.
    sent: Vec<(String, u64, String)>,
    acked: BTreeSet<String>,
    next: usize,
    /// Customer: `assigned` frames after the resume (a change of agent).
    reassigned: usize,
    resumed: bool,
    /// Agent: its `state` after the resume.
    state_sessions: Option<BTreeSet<u64>>,
    /// When the resumed `welcome` arrived, after the drop.
    back_after: Option<Duration>,
}

impl Peer {
    fn new(agent: Option<String>) -> Peer {
        Peer {
            agent,
            ws: None,
            token: String::new(),
            session: 0,
            sessions: BTreeSet::new(),
            last_seq: 0,
            seqs: Vec::new(),
            received: Vec::new(),
            sent: Vec::new(),
            acked: BTreeSet::new(),
            next: 0,
            reassigned: 0,
            resumed: false,
            state_sessions: None,
            back_after: None,
        }
    }

    fn name(&self) -> String {
        match &self.agent {
            Some(agent) => format!("agent {agent}"),
            None => format!("customer of session {}", self.session),
        }
    }

    /// Handles one frame: checks it against the protocol, drops replays already seen.
    fn apply(&mut self, text: &str) {
        match &self.agent {
            Some(_) => {
                serde_json::from_str::<ServerToAgent>(text)
                    .unwrap_or_else(|e| panic!("not an agent frame: {e}: {text}"));
            }
            None => {
                serde_json::from_str::<ServerToCustomer>(text)
                    .unwrap_or_else(|e| panic!("not a customer frame: {e}: {text}"));
            }
        }
        let v: Value = serde_json::from_str(text).unwrap();
        if let Some(seq) = v["seq"].as_u64() {
            if seq <= self.last_seq {
                return; // a replay of what was already processed
            }
            self.last_seq = seq;
            self.seqs.push(seq);
        }
        match v["type"].as_str().unwrap_or_default() {
            "welcome" if self.agent.is_none() => {
                self.token = v["token"].as_str().unwrap().to_owned();
                self.session = v["session"].as_u64().unwrap();
            }
            "ack" => {
                self.acked.insert(v["id"].as_str().unwrap().to_owned());
            }
            "error" => panic!("{}: {v}", self.name()),
            "assigned" if self.resumed => self.reassigned += 1,
            "session_assigned" => {
                self.sessions.insert(v["session"]["session"].as_u64().unwrap());
            }
            "agent_message" => self.received.push((self.session, v["text"].as_str().unwrap().to_owned())),
            "customer_message" => {
                self.received.push((v["session"].as_u64().unwrap(), v["text"].as_str().unwrap().to_owned()))
            }
            "state" => {
                let listed = v["sessions"].as_array().unwrap().iter().map(|s| s["session"].as_u64().unwrap());
                self.state_sessions = Some(listed.collect());
            }
            _ => {}
        }
    }

    /// Sends on the open connection. A send that fails (the connection is
    /// going down) leaves the command unacknowledged: it is resent after the
    /// resume like any other, so nothing is excused by ignoring the error.
    async fn send(&mut self, command: Value) {
        if let Some(ws) = self.ws.as_mut() {
            let _ = ws.send(Message::text(command.to_string())).await;
        }
    }

    /// Sends the next chat message (an agent's goes to its sessions in turn).
    async fn chat(&mut self) {
        let who = self.agent.clone().unwrap_or_else(|| format!("c{}", self.session));
        let (id, n) = (format!("{who}-{}", self.next), self.next);
        self.next += 1;
        let (session, command) = match &self.agent {
            Some(_) => {
                let session = *self.sessions.iter().nth(n % self.sessions.len()).unwrap();
                let text = format!("{who} to {session}: {n}");
                (session, json!({"type": "reply", "id": id, "session": session, "text": text}))
            }
            None => (self.session, json!({"type": "message", "id": id, "text": format!("{who}: {n}")})),
        };
        self.sent.push((id, session, command["text"].as_str().unwrap().to_owned()));
        self.send(command).await;
    }

    /// Reads one frame, or None on timeout / close.
    async fn read_one(&mut self, within: Duration) -> Option<()> {
        let Some(ws) = self.ws.as_mut() else {
            sleep(within).await;
            return None;
        };
        match timeout(within, ws.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => {
                self.apply(text.as_str());
                Some(())
            }
            Ok(Some(Ok(_))) => Some(()),
            // The connection ended (the server went down): wait for the resume.
            Ok(_) => {
                self.ws = None;
                None
            }
            Err(_) => None,
        }
    }

    /// Reads until `done` holds (panics after WAIT).
    async fn read_until(&mut self, done: impl Fn(&Peer) -> bool) {
        assert!(self.read_for(WAIT, done).await, "{}: waited {WAIT:?}", self.name());
    }

    /// Reads until `done` holds or `within` passes; says whether it holds.
    async fn read_for(&mut self, within: Duration, done: impl Fn(&Peer) -> bool) -> bool {
        let deadline = Instant::now() + within;
        while !done(self) {
            if Instant::now() >= deadline {
                return false;
            }
            self.read_one(Duration::from_millis(200)).await;
        }
        true
    }

    /// Sends `count` messages `GAP` apart while reading; stops at once, dropping
    /// the socket without a close (an abrupt drop), if `drop` fires.
    async fn talk(&mut self, count: usize, mut drop: Option<watch::Receiver<bool>>) {
        let gap = if self.agent.is_some() { AGENT_GAP } else { CUSTOMER_GAP };
        let mut due = Instant::now();
        let mut left = count;
        loop {
            if let Some(drop) = &drop {
                if self.ws.is_none() {
                    return; // the server closed it
                }
                if *drop.borrow() {
                    // One last message goes out, and the socket closes under it: no
                    // close frame, its ack and whatever else was on the way lost.
                    self.chat().await;
                    self.ws = None;
                    return;
                }
            }
            if left == 0 && drop.is_none() {
                return;
            }
            if left > 0 && Instant::now() >= due {
                self.chat().await;
                left -= 1;
                due += gap;
            }
            let wait = if left > 0 { due.saturating_duration_since(Instant::now()) } else { Duration::from_millis(50) };
            match &mut drop {
                Some(drop) => {
                    tokio::select! {
                        _ = drop.changed() => {}
                        _ = self.read_one(wait.max(Duration::from_millis(1))) => {}
                    }
                }
                None => {
                    self.read_one(wait.max(Duration::from_millis(1))).await;
                }
            }
        }
    }

    /// Reconnects and resumes; returns when the replay is in (agents: their
    /// `state`), then resends every command without an ack, with its id.
    async fn resume(&mut self, addr: SocketAddr, dropped_at: Instant) {
        let url = match &self.agent {
            Some(agent) => format!("ws://{addr}/v1/ws/agent?agent={agent}&last_seq={}", self.last_seq),
            None => format!("ws://{addr}/v1/ws/customer?token={}&last_seq={}", self.token, self.last_seq),
        };
        let mut attempt = 0;
        let ws = loop {
            match timeout(Duration::from_secs(5), tokio_tungstenite::connect_async(with_token(&url))).await {
                Ok(Ok((ws, _))) => break ws,
                failed => {
                    attempt += 1;
                    assert!(attempt < 5, "{}: reconnect failed: {failed:?}", self.name());
                    sleep(Duration::from_millis(100)).await;
                }
            }
        };
        self.ws = Some(ws);
        let deadline = Instant::now() + WAIT;
        let welcome: Value = loop {
            let frame = timeout(deadline - Instant::now(), self.ws.as_mut().unwrap().next()).await;
            match frame {
                Ok(Some(Ok(Message::Text(text)))) => break serde_json::from_str(text.as_str()).unwrap(),
                Ok(Some(Ok(_))) => {}
                other => panic!("{}: no welcome on resume: {other:?}", self.name()),
            }
        };
        assert_eq!(welcome["type"], "welcome", "{}: {welcome}", self.name());
        assert_eq!(welcome["resumed"], true, "{}: {welcome}", self.name());
        assert_eq!(welcome["replay_complete"], true, "{}: {welcome}", self.name());
        self.back_after = Some(dropped_at.elapsed());
        self.resumed = true;
        if self.agent.is_some() {
            self.state_sessions = None;
            self.read_until(|p| p.state_sessions.is_some()).await;
        }
        let unacked: Vec<(String, u64, String)> =
            self.sent.iter().filter(|(id, ..)| !self.acked.contains(id)).cloned().collect();
        for (id, session, text) in unacked {
            let command = match &self.agent {
                Some(_) => json!({"type": "reply", "id": id, "session": session, "text": text}),
                None => json!({"type": "message", "id": id, "text": text}),
            };
            self.send(command).await;
        }
    }

    fn all_acked(&self) -> bool {
        self.sent.iter().all(|(id, ..)| self.acked.contains(id))
    }
}

/// Runs `f` on every peer at once (each in its own task) and gives them back in order.
async fn each<F, Fut>(peers: Vec<Peer>, f: F) -> Vec<Peer>
where
    F: Fn(Peer) -> Fut,
    Fut: std::future::Future<Output = Peer> + Send + 'static,
{
    let count = peers.len();
    let mut set = JoinSet::new();
    for (i, peer) in peers.into_iter().enumerate() {
        let future = f(peer);
        set.spawn(async move { (i, future.await) });
    }
    let mut slots: Vec<Option<Peer>> = (0..count).map(|_| None).collect();
    while let Some(joined) = set.join_next().await {
        let (i, peer) = joined.expect("a client task failed (see its panic above)");
        slots[i] = Some(peer);
    }
    slots.into_iter().map(Option::unwrap).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_customers_and_a_hundred_agents_dropped_at_once_all_resume_with_nothing_lost() {
    let (customers, agents) = size();
    let capacity = customers / agents;
    // Its own data_dir, kept across the restart (a TestServer's own is removed with it).
    let data_dir = tempfile::Builder::new().prefix("storm-").tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let config_on = |dir: &tempfile::TempDir| {
        let mut config = storm_config(agents, capacity);
        config.storage.data_dir = dir.path().to_owned();
        config
    };
    let server = start(config_on(&data_dir)).await;
    let addr = server.public_addr;
    let started = Instant::now();

    // Agents online and available, then customers, each assigned at once.
    let connecting = Arc::new(Semaphore::new(128));
    let agent_peers: Vec<Peer> = (0..agents).map(|a| Peer::new(Some(format!("s{a:03}")))).collect();
    let agent_peers = each(agent_peers, |mut p| {
        let connecting = connecting.clone();
        async move {
            let url = format!("ws://{addr}/v1/ws/agent?agent={}", p.agent.as_ref().unwrap());
            let permit = connecting.acquire().await.unwrap();
            p.ws = Some(tokio_tungstenite::connect_async(with_token(&url)).await.expect("agent connects").0);
            drop(permit);
            p.read_until(|p| p.state_sessions.is_some()).await;
            p.send(json!({"type": "set_availability", "id": "avail", "state": "available"})).await;
            p.read_until(|p| p.acked.contains("avail")).await;
            p
        }
    })
    .await;
    let customer_peers: Vec<Peer> = (0..customers).map(|_| Peer::new(None)).collect();
    let customer_peers = each(customer_peers, |mut p| {
        let connecting = connecting.clone();
        async move {
            let url = format!("ws://{addr}/v1/ws/customer?group=storm");
            let permit = connecting.acquire().await.unwrap();
            p.ws = Some(tokio_tungstenite::connect_async(with_token(&url)).await.expect("customer connects").0);
            drop(permit);
            p.read_until(|p| p.session != 0).await;
            p
        }
    })
    .await;
    let agent_peers = each(agent_peers, |mut p| async move {
        p.read_until(|p| p.sessions.len() == capacity).await;
        p
    })
    .await;
    let owner: HashMap<u64, usize> =
        agent_peers.iter().enumerate().flat_map(|(a, p)| p.sessions.iter().map(move |s| (*s, a))).collect();
    assert_eq!(owner.len(), customers, "every session reached an agent, each exactly once");
    let setup = started.elapsed();

    let mut all: Vec<Peer> = agent_peers.into_iter().chain(customer_peers).collect();
    eprintln!("storm: {customers} customers and {agents} agents in chats after {setup:?}");

    // 1. Every client drops its connection at once, mid-chat.
    let (drop_tx, talking, dropped_at) = chat_until_the_drop(all).await;
    let _ = drop_tx.send(true); // (after a restart every client may have stopped already)
    all = talking.await.unwrap();
    all = resume_all_and_check(all, addr, dropped_at, &owner, "client-side drop", customers).await;

    // 2. The server restarts (graceful shutdown, same data_dir) under the same chats.
    let (drop_tx, talking, dropped_at) = chat_until_the_drop(all).await;
    server.shutdown().await.unwrap();
    let server = start(config_on(&data_dir)).await;
    let _ = drop_tx.send(true); // (after a restart every client may have stopped already)
    all = talking.await.unwrap();
    // (How many commands are cut off in flight depends on how the shutdown races the chat: no minimum.)
    all = resume_all_and_check(all, server.public_addr, dropped_at, &owner, "server restart", 0).await;

    eprintln!("storm: total {:?}", started.elapsed());
    drop(all);
    server.shutdown().await.unwrap();
}

/// Starts everyone chatting (both ways); after [`BEFORE`] returns the drop
/// signal, the chat (which ends at the signal or when the server closes the
/// connection) and when it was cut.
async fn chat_until_the_drop(all: Vec<Peer>) -> (watch::Sender<bool>, tokio::task::JoinHandle<Vec<Peer>>, Instant) {
    let (drop_tx, drop_rx) = watch::channel(false);
    let talking = tokio::spawn(each(all, move |mut p| {
        let drop = drop_rx.clone();
        async move {
            p.talk(usize::MAX, Some(drop)).await;
            p
        }
    }));
    sleep(BEFORE).await;
    (drop_tx, talking, Instant::now())
}

/// Everyone reconnects at once to `addr` and resumes; then more chat, every
/// command acknowledged, and the checks (see the top of the file) over
/// everything sent since the start.
async fn resume_all_and_check(
    all: Vec<Peer>,
    addr: SocketAddr,
    dropped_at: Instant,
    owner: &HashMap<u64, usize>,
    what: &str,
    min_in_flight: usize,
) -> Vec<Peer> {
    let in_flight: usize = all.iter().map(|p| p.sent.iter().filter(|(id, ..)| !p.acked.contains(id)).count()).sum();
    let all = each(all, move |mut p| async move {
        p.resume(addr, dropped_at).await;
        p
    })
    .await;
    let slowest = all.iter().filter_map(|p| p.back_after).max().unwrap();
    let all = each(all, |mut p| async move {
        p.talk(AFTER, None).await;
        p.read_until(Peer::all_acked).await;
        p
    })
    .await;

    // Expected deliveries: every customer's messages at its session's agent, every reply at its customer.
    let customer_of: HashMap<u64, usize> =
        all.iter().enumerate().filter(|(_, p)| p.agent.is_none()).map(|(i, p)| (p.session, i)).collect();
    let mut expected: Vec<Vec<(u64, String)>> = vec![Vec::new(); all.len()];
    for p in &all {
        for (_, session, text) in &p.sent {
            let to = match p.agent {
                Some(_) => customer_of[session],
                None => owner[session],
            };
            expected[to].push((*session, text.clone()));
        }
    }
    let expected = Arc::new(expected);
    let mut set = JoinSet::new();
    for (i, mut p) in all.into_iter().enumerate() {
        let expected = expected.clone();
        set.spawn(async move {
            // On a loss this times out and the checks below name what is missing.
            let want = expected[i].len();
            p.read_for(WAIT, |p| p.received.len() >= want).await;
            // A duplicate would come right behind: listen a little longer.
            while p.read_one(Duration::from_millis(300)).await.is_some() {}
            (i, p)
        });
    }
    let mut slots: Vec<Option<Peer>> = (0..expected.len()).map(|_| None).collect();
    while let Some(joined) = set.join_next().await {
        let (i, p) = joined.expect("a client task failed (see its panic above)");
        slots[i] = Some(p);
    }
    let all: Vec<Peer> = slots.into_iter().map(Option::unwrap).collect();

    let mut messages = 0;
    for (i, p) in all.iter().enumerate() {
        let mut got = p.received.clone();
        let mut want = expected[i].clone();
        got.sort();
        want.sort();
        let mut seen = BTreeSet::new();
        let duplicates: Vec<_> = got.iter().filter(|m| !seen.insert(*m)).collect();
        assert!(duplicates.is_empty(), "{what}: {}: duplicated {duplicates:?}", p.name());
        let lost: Vec<_> = want.iter().filter(|m| got.binary_search(m).is_err()).collect();
        assert!(lost.is_empty(), "{what}: {}: lost {lost:?}", p.name());
        assert_eq!(got, want, "{what}: {}: received something nobody sent", p.name());
        messages += got.len();
        let first = p.seqs[0];
        let contiguous: Vec<u64> = (first..first + p.seqs.len() as u64).collect();
        assert_eq!(p.seqs, contiguous, "{what}: {}: seqs must be contiguous", p.name());
        match &p.agent {
            Some(_) => assert_eq!(
                p.state_sessions.as_ref(),
                Some(&p.sessions),
                "{what}: {}: after the resume the state lists exactly its sessions",
                p.name()
            ),
            None => assert_eq!(p.reassigned, 0, "{what}: {}: was assigned again", p.name()),
        }
        let back = p.back_after.unwrap();
        assert!(back < BACK_WITHIN, "{what}: {}: back {back:?} after the drop", p.name());
    }
    assert!(in_flight >= min_in_flight, "{what}: the drop lands while commands are unacknowledged: {in_flight}");
    eprintln!(
        "storm, {what}: {in_flight} commands unacked at the drop; slowest back after {slowest:?}; \
         {messages} messages so far, each delivered exactly once"
    );
    all
}
