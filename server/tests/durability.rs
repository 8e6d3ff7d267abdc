//! Durability of the real `switchboard` binary: a `kill -9` in the middle of
//! busy traffic and a restart on the same `data_dir` must look to every client
//! like a short network drop.
//!
//! The clients do what the protocol asks of them after any drop: reconnect,
//! resume (customers with `token` + `last_seq`, agents with `agent` +
//! `last_seq`), drop replayed frames they have already seen and resend every
//! command whose ack they never saw, with the same id. Then nothing
//! acknowledged may be lost or duplicated, no session changes agent, the queue
//! keeps its order, and reply timers neither forget a message nor count the
//! time the server was down.
//!
//! - [`a_kill_9_loses_nothing_acknowledged`]: 50 agents, 200 chats and 20
//!   waiting customers on one running population; three kills at random points.
//! - [`without_a_kill_the_same_harness_passes`]: the same scenario, but the
//!   clients drop their connections and the server keeps running. It passes
//!   with or without durability, so when the kill test fails, the server lost
//!   something, not the harness.
//! - [`a_sigterm_and_restart_resume_the_same_session`]: a clean shutdown and
//!   restart resume a chat with its token, history and agent.
//! - [`a_kill_9_keeps_every_acknowledged_ticket_change`]: tickets (the HTTP
//!   API) after a `kill -9`: rebuilt from the log alone (no snapshot since
//!   the first), with their messages, owner, state and deadlines.
//!
//! A failure names what was lost or duplicated (session, text, seq) and prints
//! the random seed: `DURABILITY_SEED=<seed>` replays the same choices.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fs::OpenOptions;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Client, Side};
use futures_util::{SinkExt, StreamExt};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use serde_json::json;
use switchboard_protocol::agent::{AgentCommand, AvailabilityRequest, ServerToAgent};
use switchboard_protocol::common::{AgentState, SessionStatus, SessionView, Speaker};
use switchboard_protocol::customer::{CustomerCommand, ServerToCustomer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::{sleep, sleep_until, timeout, Instant};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

// ------------------------------------------------------------------ the scenario

const BIN: &str = env!("CARGO_BIN_EXE_switchboard");
/// Agents `a00`..`a49` with four chats each: the first 200 customers are
/// served, the next 20 wait, and nothing moves in the queue unless the server
/// loses or reorders it.
const AGENTS: usize = 50;
const CAPACITY: usize = 4;
const SERVED: usize = AGENTS * CAPACITY;
const WAITING: usize = 20;
const DISRUPTIONS: u32 = 3;
/// Quiet customers per cycle whose unanswered message waits across the kill
/// (their agents never answer them); one more writes after the restart.
const QUIET_ACROSS: usize = 3;
const QUIET_PER_CYCLE: usize = QUIET_ACROSS + 1;
/// Business time runs ten times faster: the 20 s reply warning comes 2 s after the message.
const SCALE: f64 = 10.0;
const WARNING_MS: u64 = 20_000;
const VIOLATION_MS: u64 = 40_000;
/// How much more than due (business ms) a reply timer may say it waited: the
/// time the server was down must not count, a little timer lag may.
const TIMER_SLACK_MS: u64 = 5_000;
/// How late (real time, after subtracting the time the server was down) a
/// reply timer may arrive: catches a restarted clock that runs behind.
const TIMER_LATE: Duration = Duration::from_secs(1);
/// The quiet messages go out this long before the kill, so that their timers
/// are due after the restart.
const PROBE_LEAD: Duration = Duration::from_millis(400);
/// Traffic goes on this long after everyone resumed.
const TRAFFIC_AFTER: Duration = Duration::from_secs(1);
/// No frame to anyone for this long (and every command answered) is "quiet".
const QUIET: Duration = Duration::from_millis(300);
const BACKOFF: Duration = Duration::from_millis(50);
const GIVE_UP: Duration = Duration::from_secs(20);
/// The longest wait for one expected frame or handshake.
const FRAME_WAIT: Duration = Duration::from_secs(5);

/// The two population tests each load both cores with 270 clients and a
/// server; run one at a time so that timer lag stays far below the bounds.
static ONE_POPULATION_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

// --------------------------------------------------- files and the server process

/// A fresh directory under the target dir with the config, data and log of one
/// test; left in place afterwards for a look at a failure.
#[derive(Debug)]
struct Setup {
    dir: PathBuf,
    config: PathBuf,
    log: PathBuf,
    addr: SocketAddr,
}

impl Setup {
    fn new(name: &str, agents: usize) -> Setup {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
        if dir.exists() {
            std::fs::remove_dir_all(&dir).expect("remove the old test directory");
        }
        std::fs::create_dir_all(&dir).expect("create the test directory");
        let (addr, admin) = free_ports();
        let config = dir.join("switchboard.toml");
        std::fs::write(&config, config_toml(addr, admin, &dir.join("data"), agents)).unwrap();
        Setup { log: dir.join("server.log"), dir, config, addr }
    }
}

/// Two free loopback ports (bound to port 0, read, released): fixed, because a
/// restarted server must listen where the clients reconnect.
fn free_ports() -> (SocketAddr, SocketAddr) {
    let public = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let admin = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    (public.local_addr().unwrap(), admin.local_addr().unwrap())
}

/// File storage with fsync before any effect; grace periods nobody reaches
/// while the server is down; short reply timers; a history long enough that
/// no message of the test is dropped from it.
fn config_toml(addr: SocketAddr, admin: SocketAddr, data_dir: &Path, agents: usize) -> String {
    let data_dir = toml::Value::String(data_dir.display().to_string());
    let mut text = format!(
        r#"listen = "{addr}"
admin_listen = "{admin}"
shutdown_timeout = "3s"

[clock]
scale = {SCALE:?}

[storage]
mode = "file"
data_dir = {data_dir}
sync = "always"

[log]
filter = "warn"

# Hundreds of clients on 127.0.0.1, sending as fast as the test goes: this
# test is about durability, not the per-IP cap or the rate limit.
[gateway]
allowed_origins = ["http://{addr}"]
max_connections_per_ip = 0
message_rate = 0

[auth]
secret = "{secret}"

[router.rules]
agent_grace = "10m"
customer_grace = "30m"
customer_idle = "10h"
rating_window = "1h"
reply_warning = "{}s"
reply_violation = "{}s"
max_history = 1000

[[router.groups]]
id = "general"
name = "General"
"#,
        WARNING_MS / 1000,
        VIOLATION_MS / 1000,
        secret = common::TEST_SECRET,
    );
    for i in 0..agents {
        text += &format!(
            "\n[[router.agents]]\nid = \"a{i:02}\"\nname = \"Agent {i:02}\"\ncapacity = {CAPACITY}\ngroups = [{{ group = \"general\" }}]\n"
        );
    }
    text
}

/// The `switchboard` binary on the test's config. Killed when dropped, so no
/// server outlives a failed test.
#[derive(Debug)]
struct ServerProcess {
    child: Option<Child>,
    setup: Arc<Setup>,
}

impl ServerProcess {
    async fn start(setup: Arc<Setup>) -> ServerProcess {
        let mut server = ServerProcess { child: None, setup };
        server.launch().await;
        server
    }

    /// Starts the binary (again, on the same config and data) and waits until it is ready.
    async fn launch(&mut self) {
        let log = OpenOptions::new().create(true).append(true).open(&self.setup.log).unwrap();
        let mut command = Command::new(BIN);
        command.arg("--config").arg(&self.setup.config).env_remove("RUST_LOG");
        // The config file alone decides: no SWITCHBOARD_* override from the caller's shell.
        for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("SWITCHBOARD_")) {
            command.env_remove(name);
        }
        command.stdin(Stdio::null()).stdout(log.try_clone().unwrap()).stderr(log);
        self.child = Some(command.spawn().expect("the binary starts"));
        self.wait_ready().await;
    }

    async fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("the server exited while starting ({status}); its log:\n{}", self.log_tail());
            }
            if readyz(self.setup.addr).await {
                return;
            }
            assert!(Instant::now() < deadline, "the server was not ready within 20 s; its log:\n{}", self.log_tail());
            sleep(Duration::from_millis(10)).await;
        }
    }

    /// SIGKILL: no shutdown code runs, as in a crash or a power cut of the process.
    fn kill9(&mut self) {
        let mut child = self.child.take().expect("the server runs");
        child.kill().expect("SIGKILL");
        child.wait().unwrap();
    }

    /// SIGTERM: starts the graceful shutdown (see [`ServerProcess::exited`]).
    fn sigterm(&self) {
        let pid = self.child.as_ref().expect("the server runs").id().to_string();
        let status = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(status.success(), "kill -TERM failed");
    }

    /// Waits for the process to end; returns how it exited.
    async fn exited(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("the server runs");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "still running 10 s after SIGTERM");
            sleep(Duration::from_millis(20)).await;
        }
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.setup.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Does `GET /readyz` answer 200?
async fn readyz(addr: SocketAddr) -> bool {
    let probe = async {
        let mut tcp = TcpStream::connect(addr).await.ok()?;
        let request = format!("GET /readyz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        tcp.write_all(request.as_bytes()).await.ok()?;
        let mut response = Vec::new();
        tcp.read_to_end(&mut response).await.ok()?;
        Some(response.starts_with(b"HTTP/1.1 200"))
    };
    matches!(timeout(Duration::from_secs(1), probe).await, Ok(Some(true)))
}

// ------------------------------------------------------- what every client records

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;
type Shared<T> = Arc<Mutex<T>>;

/// Runs `f` on the locked log (never held across an await).
fn with<T, R>(log: &Mutex<T>, f: impl FnOnce(&mut T) -> R) -> R {
    f(&mut log.lock().unwrap_or_else(|poisoned| poisoned.into_inner()))
}

/// One command as the client sent it, and what became of it.
#[derive(Clone, Debug)]
struct Sent {
    id: String,
    session: u64,
    text: String,
    /// The exact frame: a retry sends it unchanged.
    frame: String,
    /// 1, plus one per resend after a resume.
    sends: u32,
    first_sent_at: Instant,
    outcome: Outcome,
}

#[derive(Clone, Debug)]
enum Outcome {
    Pending,
    /// `epoch`: disruptions before the ack arrived, so "acked before kill k" is `epoch < k`.
    Acked {
        duplicate: bool,
        epoch: u32,
        at: Instant,
    },
    Refused(String),
}

/// Every command a client sent, in order, with its ack or error.
#[derive(Clone, Debug, Default)]
struct Outbox {
    sent: Vec<Sent>,
    by_id: HashMap<String, usize>,
    /// Answers that make no sense (unknown id, two answers, a false duplicate).
    problems: Vec<String>,
}

impl Outbox {
    /// Records a new command; returns the frame to send.
    fn add(&mut self, id: String, session: u64, text: String, frame: String) -> String {
        self.by_id.insert(id.clone(), self.sent.len());
        self.sent.push(Sent {
            id,
            session,
            text,
            frame: frame.clone(),
            sends: 1,
            first_sent_at: Instant::now(),
            outcome: Outcome::Pending,
        });
        frame
    }

    /// The unanswered commands, in the order first sent: a resumed client resends them.
    fn resend(&mut self) -> Vec<String> {
        let mut frames = Vec::new();
        for sent in self.sent.iter_mut().filter(|s| matches!(s.outcome, Outcome::Pending)) {
            sent.sends += 1;
            frames.push(sent.frame.clone());
        }
        frames
    }

    fn acked(&mut self, id: &str, duplicate: bool, epoch: u32) {
        let Some(sent) = self.answer(id) else { return };
        if duplicate && sent.sends == 1 {
            let problem = format!("`{id}` ({}) was sent once but acked as a duplicate", sent.text);
            self.problems.push(problem);
            return;
        }
        sent.outcome = Outcome::Acked { duplicate, epoch, at: Instant::now() };
    }

    fn refused(&mut self, id: &str, code: String) {
        if let Some(sent) = self.answer(id) {
            sent.outcome = Outcome::Refused(code);
        }
    }

    /// The pending command `id`, or a problem noted.
    fn answer(&mut self, id: &str) -> Option<&mut Sent> {
        let Some(&i) = self.by_id.get(id) else {
            self.problems.push(format!("an answer for `{id}`, which was never sent"));
            return None;
        };
        if !matches!(self.sent[i].outcome, Outcome::Pending) {
            self.problems.push(format!("a second answer for `{id}` (first: {:?})", self.sent[i].outcome));
            return None;
        }
        Some(&mut self.sent[i])
    }

    fn unanswered(&self) -> usize {
        self.sent.iter().filter(|s| matches!(s.outcome, Outcome::Pending)).count()
    }

    /// Commands acked before disruption `epoch` (1-based), in the order sent.
    fn acked_before(&self, epoch: u32) -> impl Iterator<Item = &Sent> {
        self.sent.iter().filter(move |s| matches!(s.outcome, Outcome::Acked { epoch: e, .. } if e < epoch))
    }
}

/// The protocol's replay rule: a frame whose `seq` is not above the highest
/// seen was seen before (a replay) and is dropped; a skipped `seq` is a loss,
/// unless the server said `replay_complete: false` or it is a `queued` message
/// replaced by a later one in a replay.
#[derive(Clone, Debug, Default)]
struct SeqLog {
    highest: u64,
    /// The server's `last_seq` in the latest resume `welcome`: frames up to it are the replay.
    replay_end: u64,
    /// The latest resume `welcome` said `replay_complete: false`: the next frame may skip.
    incomplete: bool,
    gaps: Vec<String>,
    /// Frames dropped because their `seq` was not above the highest seen.
    replays_dropped: usize,
}

impl SeqLog {
    fn resumed(&mut self, server_last_seq: u64, replay_complete: bool) {
        self.replay_end = server_last_seq;
        self.incomplete = !replay_complete;
    }

    /// Is this frame new? Notes a gap before it.
    fn accept(&mut self, seq: u64, coalesced: bool, what: impl FnOnce() -> String) -> bool {
        if seq <= self.highest {
            self.replays_dropped += 1;
            return false;
        }
        let excused = self.incomplete || (coalesced && seq <= self.replay_end);
        if seq > self.highest + 1 && !excused {
            self.gaps.push(format!(
                "seqs {}..={} never arrived before seq {seq} ({})",
                self.highest + 1,
                seq - 1,
                what()
            ));
        }
        self.incomplete = false;
        self.highest = seq;
        true
    }
}

/// The `type` of a message, for reports.
fn kind(frame: &impl Serialize) -> String {
    serde_json::to_value(frame).ok().and_then(|v| v["type"].as_str().map(str::to_owned)).unwrap_or_default()
}

/// What the test tells every client at once.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Control {
    /// Chatty customers send messages.
    traffic: bool,
    /// Bumped to make every client drop its connection (the harness check without a kill).
    drops: u32,
    stop: bool,
}

/// What the test and every client task share.
#[derive(Debug)]
struct World {
    addr: SocketAddr,
    control: watch::Sender<Control>,
    /// Disruptions so far: every ack and every drop is stamped with it.
    epoch: AtomicU32,
    started: Instant,
    /// When any client last received a frame, in ms since `started`.
    last_frame_ms: AtomicU64,
}

impl World {
    fn new(addr: SocketAddr) -> Arc<World> {
        let control = watch::Sender::new(Control::default());
        Arc::new(World { addr, control, epoch: AtomicU32::new(0), started: Instant::now(), last_frame_ms: 0.into() })
    }

    fn epoch(&self) -> u32 {
        self.epoch.load(Ordering::SeqCst)
    }

    fn set(&self, change: impl FnOnce(&mut Control)) {
        self.control.send_modify(change);
    }

    fn touch(&self) {
        self.last_frame_ms.store(self.started.elapsed().as_millis() as u64, Ordering::Relaxed);
    }

    fn silent_for(&self) -> Duration {
        let last = Duration::from_millis(self.last_frame_ms.load(Ordering::Relaxed));
        self.started.elapsed().saturating_sub(last)
    }
}

/// Why a connection loop returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ended {
    /// The server went away, or the test asked for a drop: resume.
    Dropped,
    Stop,
}

async fn open(url: &str) -> Result<Ws, String> {
    match timeout(FRAME_WAIT, tokio_tungstenite::connect_async(common::with_token(url))).await {
        Ok(Ok((ws, _))) => Ok(ws),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("the WebSocket handshake timed out".into()),
    }
}

/// The next text frame; `None` when the connection ended.
async fn next_text(ws: &mut Ws) -> Option<String> {
    loop {
        match ws.next().await? {
            Ok(Message::Text(text)) => return Some(text.to_string()),
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

/// The first frame of a new connection, decoded; `None` if the connection ended first.
async fn first_frame<T: serde::de::DeserializeOwned>(ws: &mut Ws) -> Result<Option<T>, String> {
    match timeout(FRAME_WAIT, next_text(ws)).await {
        Err(_) => Ok(None),
        Ok(None) => Ok(None),
        Ok(Some(text)) => serde_json::from_str(&text).map(Some).map_err(|e| format!("undecodable frame ({e}): {text}")),
    }
}

async fn send(ws: &mut Ws, frame: String) -> Result<(), ()> {
    ws.send(Message::Text(frame.into())).await.map_err(|_| ())
}

/// After a resume: every command whose ack never came, again, unchanged and
/// in order. If the connection dies meanwhile, the next read notices and the
/// client resumes (and resends) again.
async fn resend(mut ws: Ws, frames: Vec<String>) -> Ws {
    for frame in frames {
        if send(&mut ws, frame).await.is_err() {
            break;
        }
    }
    ws
}

/// Has the test asked for a stop or a drop since `drops_seen`?
fn asked(control: &watch::Receiver<Control>, drops_seen: &mut u32) -> Option<Ended> {
    let now = *control.borrow();
    if now.stop {
        return Some(Ended::Stop);
    }
    if now.drops != *drops_seen {
        *drops_seen = now.drops;
        return Some(Ended::Dropped);
    }
    None
}

// -------------------------------------------------------------------- customers

/// Chatty customers write every 100-300 ms; quiet ones only when told to, and
/// their agents never answer them (they exercise the reply timers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Chat {
    Chatty,
    Quiet,
}

/// Everything one customer saw and did.
#[derive(Clone, Debug)]
struct CustomerLog {
    name: String,
    session: u64,
    token: String,
    chat: Chat,
    /// Set once assigned (`welcome` status or `assigned`).
    agent_name: Option<String>,
    /// The latest queue position heard while waiting.
    position: Option<u32>,
    outbox: Outbox,
    seqs: SeqLog,
    /// Session messages by `seq`, replays dropped.
    frames: BTreeMap<u64, ServerToCustomer>,
    resumes: Vec<CustomerResume>,
    problems: Vec<String>,
    /// Why the customer could not resume and gave up.
    lost: Option<String>,
    next_id: u64,
}

/// One drop and the resume after it.
#[derive(Clone, Debug)]
struct CustomerResume {
    epoch: u32,
    /// Where the customer stood when the connection dropped.
    agent_name: Option<String>,
    position: Option<u32>,
    /// The resume `welcome`'s status, once it arrived.
    welcome: Option<Option<SessionStatus>>,
}

impl CustomerLog {
    fn new(index: usize, chat: Chat, session: u64, token: String, status: Option<SessionStatus>) -> CustomerLog {
        let mut log = CustomerLog {
            name: format!("c{index:03}"),
            session,
            token,
            chat,
            agent_name: None,
            position: None,
            outbox: Outbox::default(),
            seqs: SeqLog::default(),
            frames: BTreeMap::new(),
            resumes: Vec::new(),
            problems: Vec::new(),
            lost: None,
            next_id: 1,
        };
        log.apply_status(status.as_ref());
        log
    }

    fn apply_status(&mut self, status: Option<&SessionStatus>) {
        match status {
            Some(SessionStatus::Waiting { position, .. }) => self.position = Some(*position),
            Some(SessionStatus::Assigned { agent_name, .. }) => self.agent_name = Some(agent_name.clone()),
            _ => {}
        }
    }

    fn chatting(&self, control: &Control) -> bool {
        control.traffic && self.chat == Chat::Chatty && self.agent_name.is_some()
    }

    /// A new message `{prefix}{session}-{n}`: `c` for chat, `q` for a quiet one.
    fn message(&mut self, prefix: char) -> String {
        let n = self.next_id;
        self.next_id += 1;
        let (id, text) = (format!("m{n}"), format!("{prefix}{}-{n}", self.session));
        let frame =
            serde_json::to_string(&CustomerCommand::Message { id: id.clone(), text: text.clone(), attachment: None })
                .unwrap();
        self.outbox.add(id, self.session, text, frame)
    }

    fn on_frame(&mut self, text: &str, epoch: u32) {
        let frame = match serde_json::from_str::<ServerToCustomer>(text) {
            Ok(frame) => frame,
            Err(e) => return self.problems.push(format!("undecodable frame ({e}): {text}")),
        };
        match frame {
            ServerToCustomer::Ack { id, duplicate } => self.outbox.acked(&id, duplicate, epoch),
            ServerToCustomer::Error { id: Some(id), code, .. } => self.outbox.refused(&id, code),
            ServerToCustomer::Error { id: None, code, message } => {
                self.problems.push(format!("connection error {code}: {message}"))
            }
            ServerToCustomer::Welcome { .. } => self.problems.push("a second `welcome` on one connection".into()),
            ServerToCustomer::Shutdown { .. } | ServerToCustomer::AgentTyping {} => {}
            frame => self.on_session_frame(frame),
        }
    }

    fn on_session_frame(&mut self, mut frame: ServerToCustomer) {
        let Some(seq) = frame.seq_mut().map(|seq| *seq) else { return };
        let coalesced = matches!(frame, ServerToCustomer::Queued { .. });
        if !self.seqs.accept(seq, coalesced, || kind(&frame)) {
            return;
        }
        match &frame {
            ServerToCustomer::Queued { position, .. } => self.position = Some(*position),
            ServerToCustomer::Assigned { agent_name, .. } => self.agent_name = Some(agent_name.clone()),
            _ => {}
        }
        self.frames.insert(seq, frame);
    }

    fn dropped(&mut self, epoch: u32) {
        let (agent_name, position) = (self.agent_name.clone(), self.position.filter(|_| self.agent_name.is_none()));
        self.resumes.push(CustomerResume { epoch, agent_name, position, welcome: None });
    }

    /// Checks the resume `welcome`; `Err` says why the session cannot go on.
    fn welcome(&mut self, frame: ServerToCustomer) -> Result<(), String> {
        let (session, resumed, last_seq, replay_complete, status) = match frame {
            ServerToCustomer::Welcome { session, resumed, last_seq, replay_complete, status, .. } => {
                (session, resumed, last_seq, replay_complete, status)
            }
            ServerToCustomer::Error { code, message, .. } => return Err(format!("resume refused: {code} ({message})")),
            other => return Err(format!("a resume answered with {other:?} instead of `welcome`")),
        };
        if session != self.session || !resumed {
            return Err(format!("resumed as session {session} (resumed: {resumed}), not session {}", self.session));
        }
        if last_seq < self.seqs.highest {
            let seen = self.seqs.highest;
            return Err(format!("the server's last_seq {last_seq} is below the {seen} already seen: messages lost"));
        }
        self.seqs.resumed(last_seq, replay_complete);
        self.apply_status(status.as_ref());
        self.resumes.last_mut().expect("a drop came first").welcome = Some(status);
        Ok(())
    }

    fn resumed_after(&self, epoch: u32) -> bool {
        self.resumes.iter().any(|r| r.epoch == epoch && r.welcome.is_some())
    }
}

/// A customer with its own task; `say` makes a quiet customer write once.
#[derive(Debug)]
struct CustomerClient {
    log: Shared<CustomerLog>,
    say: mpsc::UnboundedSender<()>,
    task: JoinHandle<()>,
}

impl CustomerClient {
    /// Opens a chat in `general`; returns once the `welcome` is in.
    async fn join(world: &Arc<World>, index: usize, chat: Chat, seed: u64) -> CustomerClient {
        let url = format!("ws://{}/v1/ws/customer?group=general&name=c{index:03}", world.addr);
        let mut ws = open(&url).await.unwrap_or_else(|e| panic!("customer c{index:03} cannot connect: {e}"));
        let welcome = first_frame::<ServerToCustomer>(&mut ws).await.unwrap();
        let Some(ServerToCustomer::Welcome { session, token, status, .. }) = welcome else {
            panic!("customer c{index:03}: expected `welcome`, got {welcome:?}");
        };
        let log = Arc::new(Mutex::new(CustomerLog::new(index, chat, session, token, status)));
        let (say, said) = mpsc::unbounded_channel();
        let rng = StdRng::seed_from_u64(seed);
        let task = tokio::spawn(customer_task(ws, log.clone(), said, world.clone(), rng));
        CustomerClient { log, say, task }
    }
}

/// Connection after connection, until stopped or lost.
async fn customer_task(
    mut ws: Ws,
    me: Shared<CustomerLog>,
    mut said: mpsc::UnboundedReceiver<()>,
    world: Arc<World>,
    mut rng: StdRng,
) {
    let mut control = world.control.subscribe();
    let mut drops_seen = control.borrow().drops;
    loop {
        let connected = CustomerConnection { me: &me, world: &world, said: &mut said, control: &mut control };
        if connected.serve(&mut ws, &mut rng, &mut drops_seen).await == Ended::Stop {
            return;
        }
        with(&me, |l| l.dropped(world.epoch()));
        match resume_customer(&me, &world).await {
            Ok(resumed) => ws = resumed,
            Err(reason) => return with(&me, |l| l.lost = Some(reason)),
        }
    }
}

/// What a connected customer listens to.
struct CustomerConnection<'a> {
    me: &'a Mutex<CustomerLog>,
    world: &'a World,
    said: &'a mut mpsc::UnboundedReceiver<()>,
    control: &'a mut watch::Receiver<Control>,
}

impl CustomerConnection<'_> {
    /// Reads, chats and obeys the test until the connection ends.
    async fn serve(self, ws: &mut Ws, rng: &mut StdRng, drops_seen: &mut u32) -> Ended {
        let mut next_message = Instant::now() + pause(rng);
        loop {
            if let Some(ended) = asked(self.control, drops_seen) {
                return ended;
            }
            let chatting = with(self.me, |l| l.chatting(&self.control.borrow()));
            let out = tokio::select! {
                text = next_text(ws) => match text {
                    Some(text) => {
                        self.world.touch();
                        with(self.me, |l| l.on_frame(&text, self.world.epoch()));
                        None
                    }
                    None => return Ended::Dropped,
                },
                _ = sleep_until(next_message), if chatting => {
                    next_message = Instant::now() + pause(rng);
                    Some(with(self.me, |l| l.message('c')))
                }
                Some(()) = self.said.recv() => Some(with(self.me, |l| l.message('q'))),
                changed = self.control.changed() => match changed {
                    Ok(()) => None,
                    Err(_) => return Ended::Stop,
                },
            };
            if let Some(frame) = out {
                if send(ws, frame).await.is_err() {
                    return Ended::Dropped;
                }
            }
        }
    }
}

/// 100-300 ms between a chatty customer's messages.
fn pause(rng: &mut StdRng) -> Duration {
    Duration::from_millis(rng.random_range(100..=300))
}

/// Reconnects with `token` + `last_seq` until the server answers or `GIVE_UP` passes.
async fn resume_customer(me: &Mutex<CustomerLog>, world: &World) -> Result<Ws, String> {
    let (token, last_seq) = with(me, |l| (l.token.clone(), l.seqs.highest));
    let url = format!("ws://{}/v1/ws/customer?token={token}&last_seq={last_seq}", world.addr);
    let deadline = Instant::now() + GIVE_UP;
    let mut last_error;
    loop {
        match open(&url).await {
            Ok(mut ws) => match first_frame::<ServerToCustomer>(&mut ws).await? {
                Some(welcome) => {
                    with(me, |l| l.welcome(welcome))?;
                    return Ok(resend(ws, with(me, |l| l.outbox.resend())).await);
                }
                None => last_error = "the connection ended before `welcome`".to_owned(),
            },
            Err(e) => last_error = e,
        }
        if Instant::now() > deadline {
            return Err(format!("could not resume within {GIVE_UP:?}: {last_error}"));
        }
        sleep(BACKOFF).await;
    }
}

// ----------------------------------------------------------------------- agents

/// Everything one agent saw and did.
#[derive(Clone, Debug)]
struct AgentLog {
    id: String,
    outbox: Outbox,
    seqs: SeqLog,
    /// Stream messages by `seq`, replays dropped.
    frames: BTreeMap<u64, ServerToAgent>,
    /// When each `reply_warning` and `slow_reply` arrived, by `seq`.
    timers_at: HashMap<u64, Instant>,
    /// The sessions held, from `state`, `session_assigned` and `session_ended`.
    sessions: BTreeSet<u64>,
    resumes: Vec<AgentResume>,
    problems: Vec<String>,
    lost: Option<String>,
    next_id: u64,
}

/// One drop and the resume after it.
#[derive(Clone, Debug)]
struct AgentResume {
    epoch: u32,
    /// The sessions held when the connection dropped.
    sessions: BTreeSet<u64>,
    /// The `state` that completes the resume, once it arrived.
    state: Option<(AgentState, Vec<SessionView>)>,
}

impl AgentLog {
    fn new(id: String) -> AgentLog {
        AgentLog {
            id,
            outbox: Outbox::default(),
            seqs: SeqLog::default(),
            frames: BTreeMap::new(),
            timers_at: HashMap::new(),
            sessions: BTreeSet::new(),
            resumes: Vec::new(),
            problems: Vec::new(),
            lost: None,
            next_id: 1,
        }
    }

    fn command(&mut self, session: u64, text: String, command: impl FnOnce(String) -> AgentCommand) -> String {
        let id = format!("r{}", self.next_id);
        self.next_id += 1;
        let frame = serde_json::to_string(&command(id.clone())).unwrap();
        self.outbox.add(id, session, text, frame)
    }

    fn available(&mut self) -> String {
        let state = AvailabilityRequest::Available;
        self.command(0, "available".into(), |id| AgentCommand::SetAvailability { id, state, reason: None })
    }

    /// The reply `a{agent}-{session}-{n}`.
    fn reply(&mut self, session: u64) -> String {
        let text = format!("{}-{session}-{}", self.id, self.next_id);
        self.command(session, text.clone(), |id| AgentCommand::Reply { id, session, text, attachment: None })
    }

    /// Handles a frame; returns a reply to send.
    fn on_frame(&mut self, text: &str, epoch: u32) -> Option<String> {
        let frame = match serde_json::from_str::<ServerToAgent>(text) {
            Ok(frame) => frame,
            Err(e) => {
                self.problems.push(format!("undecodable frame ({e}): {text}"));
                return None;
            }
        };
        match frame {
            ServerToAgent::Ack { id, duplicate } => self.outbox.acked(&id, duplicate, epoch),
            ServerToAgent::Error { id: Some(id), code, .. } => self.outbox.refused(&id, code),
            ServerToAgent::Error { id: None, code, message } => {
                self.problems.push(format!("connection error {code}: {message}"))
            }
            ServerToAgent::Welcome { .. } => self.problems.push("a second `welcome` on one connection".into()),
            ServerToAgent::Shutdown { .. } | ServerToAgent::Snapshot { .. } | ServerToAgent::CustomerTyping { .. } => {}
            frame => return self.on_stream_frame(frame),
        }
        None
    }

    fn on_stream_frame(&mut self, mut frame: ServerToAgent) -> Option<String> {
        let seq = *frame.seq_mut()?;
        if !self.seqs.accept(seq, false, || kind(&frame)) {
            return None;
        }
        if matches!(frame, ServerToAgent::ReplyWarning { .. } | ServerToAgent::SlowReply { .. }) {
            self.timers_at.insert(seq, Instant::now());
        }
        let reply = self.apply(&frame);
        self.frames.insert(seq, frame);
        reply
    }

    /// Keeps the session list; answers every chat message (`c...`), never a quiet one (`q...`).
    fn apply(&mut self, frame: &ServerToAgent) -> Option<String> {
        match frame {
            ServerToAgent::State { state, sessions, .. } => self.state(*state, sessions),
            ServerToAgent::SessionAssigned { session, .. } => {
                self.sessions.insert(session.session);
            }
            ServerToAgent::SessionEnded { session, .. } => {
                self.sessions.remove(session);
            }
            ServerToAgent::CustomerMessage { session, text, .. } if text.starts_with('c') => {
                return Some(self.reply(*session))
            }
            _ => {}
        }
        None
    }

    /// A `state` lists the sessions held; after a resume it completes the resume.
    fn state(&mut self, state: AgentState, sessions: &[SessionView]) {
        self.sessions = sessions.iter().map(|view| view.session).collect();
        if let Some(resume) = self.resumes.last_mut().filter(|r| r.state.is_none()) {
            resume.state = Some((state, sessions.to_vec()));
        }
    }

    fn dropped(&mut self, epoch: u32) {
        self.resumes.push(AgentResume { epoch, sessions: self.sessions.clone(), state: None });
    }

    /// Checks the resume `welcome`; `Err` says why the stream cannot go on.
    fn welcome(&mut self, frame: ServerToAgent) -> Result<(), String> {
        let (last_seq, replay_complete) = match frame {
            ServerToAgent::Welcome { last_seq, replay_complete, .. } => (last_seq, replay_complete),
            ServerToAgent::Error { code, message, .. } => return Err(format!("resume refused: {code} ({message})")),
            other => return Err(format!("a resume answered with {other:?} instead of `welcome`")),
        };
        if last_seq < self.seqs.highest {
            let seen = self.seqs.highest;
            return Err(format!("the server's last_seq {last_seq} is below the {seen} already seen: stream restarted"));
        }
        self.seqs.resumed(last_seq, replay_complete);
        Ok(())
    }

    fn resumed_after(&self, epoch: u32) -> bool {
        self.resumes.iter().any(|r| r.epoch == epoch && r.state.is_some())
    }
}

/// An agent with its own task.
#[derive(Debug)]
struct AgentClient {
    log: Shared<AgentLog>,
    task: JoinHandle<()>,
}

impl AgentClient {
    /// Connects afresh and sets itself available.
    async fn sign_in(world: &Arc<World>, index: usize) -> AgentClient {
        let id = format!("a{index:02}");
        let url = format!("ws://{}/v1/ws/agent?agent={id}", world.addr);
        let mut ws = open(&url).await.unwrap_or_else(|e| panic!("agent {id} cannot connect: {e}"));
        let welcome = first_frame::<ServerToAgent>(&mut ws).await.unwrap();
        assert!(matches!(welcome, Some(ServerToAgent::Welcome { .. })), "agent {id}: {welcome:?}");
        let mut log = AgentLog::new(id);
        send(&mut ws, log.available()).await.expect("set_availability goes out");
        let log = Arc::new(Mutex::new(log));
        let task = tokio::spawn(agent_task(ws, log.clone(), world.clone()));
        AgentClient { log, task }
    }
}

async fn agent_task(mut ws: Ws, me: Shared<AgentLog>, world: Arc<World>) {
    let mut control = world.control.subscribe();
    let mut drops_seen = control.borrow().drops;
    loop {
        if serve_agent(&mut ws, &me, &world, &mut control, &mut drops_seen).await == Ended::Stop {
            return;
        }
        with(&me, |l| l.dropped(world.epoch()));
        match resume_agent(&me, &world).await {
            Ok(resumed) => ws = resumed,
            Err(reason) => return with(&me, |l| l.lost = Some(reason)),
        }
    }
}

/// Reads and replies until the connection ends.
async fn serve_agent(
    ws: &mut Ws,
    me: &Mutex<AgentLog>,
    world: &World,
    control: &mut watch::Receiver<Control>,
    drops_seen: &mut u32,
) -> Ended {
    loop {
        if let Some(ended) = asked(control, drops_seen) {
            return ended;
        }
        let reply = tokio::select! {
            text = next_text(ws) => match text {
                Some(text) => {
                    world.touch();
                    with(me, |l| l.on_frame(&text, world.epoch()))
                }
                None => return Ended::Dropped,
            },
            changed = control.changed() => match changed {
                Ok(()) => None,
                Err(_) => return Ended::Stop,
            },
        };
        if let Some(frame) = reply {
            if send(ws, frame).await.is_err() {
                return Ended::Dropped;
            }
        }
    }
}

/// Reconnects with `agent` + `last_seq` until the server answers or `GIVE_UP` passes.
async fn resume_agent(me: &Mutex<AgentLog>, world: &World) -> Result<Ws, String> {
    let (id, last_seq) = with(me, |l| (l.id.clone(), l.seqs.highest));
    let url = format!("ws://{}/v1/ws/agent?agent={id}&last_seq={last_seq}", world.addr);
    let deadline = Instant::now() + GIVE_UP;
    let mut last_error;
    loop {
        match open(&url).await {
            Ok(mut ws) => match first_frame::<ServerToAgent>(&mut ws).await? {
                Some(welcome) => return after_agent_welcome(ws, me, welcome).await,
                None => last_error = "the connection ended before `welcome`".to_owned(),
            },
            Err(e) => last_error = e,
        }
        if Instant::now() > deadline {
            return Err(format!("could not resume within {GIVE_UP:?}: {last_error}"));
        }
        sleep(BACKOFF).await;
    }
}

/// A good `welcome` hands the connection to [`serve_agent`]. A bad one still
/// reads the `state` that follows, so that the report can show what the
/// server forgot.
async fn after_agent_welcome(mut ws: Ws, me: &Mutex<AgentLog>, welcome: ServerToAgent) -> Result<Ws, String> {
    let reason = match with(me, |l| l.welcome(welcome)) {
        Ok(()) => return Ok(resend(ws, with(me, |l| l.outbox.resend())).await),
        Err(reason) => reason,
    };
    let read_state = async {
        while let Some(text) = next_text(&mut ws).await {
            if let Ok(ServerToAgent::State { state, sessions, .. }) = serde_json::from_str(&text) {
                return with(me, |l| l.resumes.last_mut().unwrap().state = Some((state, sessions)));
            }
        }
    };
    let _ = timeout(FRAME_WAIT, read_state).await;
    Err(reason)
}

// ------------------------------------------------------ the population and a cycle

/// 50 agents and 220 customers, each with its own task.
#[derive(Debug)]
struct Population {
    world: Arc<World>,
    agents: Vec<AgentClient>,
    customers: Vec<CustomerClient>,
}

impl Population {
    /// Agents available first, then customers one by one: the first 200 are
    /// served, the last 20 wait at positions 1..=20.
    async fn start(addr: SocketAddr, rng: &mut StdRng) -> Population {
        let world = World::new(addr);
        let mut agents = Vec::new();
        for i in 0..AGENTS {
            agents.push(AgentClient::sign_in(&world, i).await);
        }
        let mut pop = Population { world, agents, customers: Vec::new() };
        pop.wait("every agent available", FRAME_WAIT, |p| p.agents_all(|a| a.outbox.unanswered() == 0)).await;
        for i in 0..SERVED + WAITING {
            let chat = if i < DISRUPTIONS as usize * QUIET_PER_CYCLE { Chat::Quiet } else { Chat::Chatty };
            pop.customers.push(CustomerClient::join(&pop.world, i, chat, rng.random()).await);
        }
        pop.wait("200 chats assigned and 20 customers queued", FRAME_WAIT, Population::settled).await;
        pop.assert_queue_order();
        pop
    }

    fn settled(&self) -> bool {
        let served = self.customers[..SERVED].iter().all(|c| with(&c.log, |l| l.agent_name.is_some()));
        let waiting = self.customers[SERVED..].iter().all(|c| with(&c.log, |l| l.position.is_some()));
        served && waiting && self.agents_all(|a| a.sessions.len() == CAPACITY)
    }

    fn assert_queue_order(&self) {
        let positions: Vec<Option<u32>> =
            self.customers[SERVED..].iter().map(|c| with(&c.log, |l| l.position)).collect();
        let expected: Vec<Option<u32>> = (1..=WAITING as u32).map(Some).collect();
        assert_eq!(positions, expected, "the waiting customers' positions, in the order they joined");
    }

    fn agents_all(&self, f: impl Fn(&AgentLog) -> bool) -> bool {
        self.agents.iter().all(|a| with(&a.log, |l| f(l)))
    }

    fn customers_all(&self, f: impl Fn(&CustomerLog) -> bool) -> bool {
        self.customers.iter().all(|c| with(&c.log, |l| f(l)))
    }

    /// Polls `done` until it holds; panics after `limit`, naming `what`.
    async fn wait(&self, what: &str, limit: Duration, done: impl Fn(&Population) -> bool) {
        assert!(self.wait_for(limit, done).await, "not within {limit:?}: {what}");
    }

    async fn wait_for(&self, limit: Duration, done: impl Fn(&Population) -> bool) -> bool {
        let deadline = Instant::now() + limit;
        while !done(self) {
            if Instant::now() > deadline {
                return false;
            }
            sleep(Duration::from_millis(20)).await;
        }
        true
    }

    /// Every client resumed after disruption `epoch`, or gave up.
    fn everyone_back(&self, epoch: u32) -> bool {
        self.customers_all(|c| c.lost.is_some() || c.resumed_after(epoch))
            && self.agents_all(|a| a.lost.is_some() || a.resumed_after(epoch))
    }

    fn anyone_lost(&self) -> bool {
        !(self.customers_all(|c| c.lost.is_none()) && self.agents_all(|a| a.lost.is_none()))
    }

    /// Every command answered and no frame for a while.
    fn drained(&self) -> bool {
        self.world.silent_for() >= QUIET
            && self.customers_all(|c| c.outbox.unanswered() == 0)
            && self.agents_all(|a| a.outbox.unanswered() == 0)
    }

    fn snapshot(&self) -> Snapshot {
        let customers = self.customers.iter().map(|c| with(&c.log, |l| l.clone())).collect();
        let agents = self.agents.iter().map(|a| with(&a.log, |l| l.clone())).collect();
        Snapshot::new(customers, agents)
    }

    async fn stop(self) {
        self.world.set(|c| c.stop = true);
        let tasks = self.agents.into_iter().map(|a| a.task).chain(self.customers.into_iter().map(|c| c.task));
        for task in tasks {
            match timeout(FRAME_WAIT, task).await {
                Ok(result) => result.expect("a client task panicked"),
                Err(_) => panic!("a client task did not stop"),
            }
        }
    }
}

/// How the clients lose their connections in a cycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Disruption {
    /// `kill -9` of the server and an immediate restart on the same data.
    Kill,
    /// Every client drops its connection; the server keeps running (the harness check).
    NetworkDrop,
}

/// A customer whose agent never answers, and whose one message must earn the
/// agent a `reply_warning` (and, if sent before the disruption, a `slow_reply`).
#[derive(Clone, Copy, Debug)]
struct Probe {
    customer: usize,
    before_disruption: bool,
}

/// What happened in one cycle, for the checks and the report.
#[derive(Clone, Debug)]
struct Cycle {
    /// 1-based: the epoch after the disruption.
    number: u32,
    how: Disruption,
    into_traffic: Duration,
    /// From the kill until the restarted server was ready.
    down: Duration,
    probes: Vec<Probe>,
    /// Everyone resumed, and the traffic, the drain and the timer wait ran.
    /// If not, the report leads with who could not resume, and the timers
    /// (not yet due) are not checked.
    completed: bool,
}

impl Cycle {
    /// Traffic, quiet messages, the disruption at a random moment, the resume;
    /// then traffic, quiet, and the reply timers.
    async fn run(
        number: u32,
        how: Disruption,
        pop: &Population,
        server: &mut ServerProcess,
        rng: &mut StdRng,
    ) -> Cycle {
        let into_traffic = Duration::from_millis(rng.random_range(500..=2500));
        let mut cycle = Cycle { number, how, into_traffic, down: Duration::ZERO, probes: Vec::new(), completed: false };
        pop.world.set(|c| c.traffic = true);
        sleep(into_traffic - PROBE_LEAD).await;
        cycle.send_probes(pop, true);
        sleep(PROBE_LEAD).await;
        cycle.down = disrupt(how, pop, server).await;
        let back = pop.wait_for(GIVE_UP + FRAME_WAIT, |p| p.everyone_back(number)).await;
        if back && !pop.anyone_lost() {
            cycle.carry_on(pop).await;
            cycle.completed = true;
        }
        pop.world.set(|c| c.traffic = false);
        cycle
    }

    async fn carry_on(&mut self, pop: &Population) {
        self.send_probes(pop, false);
        sleep(TRAFFIC_AFTER).await;
        pop.world.set(|c| c.traffic = false);
        pop.wait_for(Duration::from_secs(10), Population::drained).await;
        let timer_wait = Duration::from_millis((VIOLATION_MS as f64 / SCALE) as u64) + Duration::from_secs(3);
        pop.wait_for(timer_wait, |p| self.timers_in(p)).await;
    }

    /// This cycle's quiet customers write once: three before the disruption, one after.
    fn send_probes(&mut self, pop: &Population, before_disruption: bool) {
        let first = (self.number as usize - 1) * QUIET_PER_CYCLE;
        let range =
            if before_disruption { first..first + QUIET_ACROSS } else { first + QUIET_ACROSS..first + QUIET_PER_CYCLE };
        for customer in range {
            pop.customers[customer].say.send(()).expect("the customer task runs");
            self.probes.push(Probe { customer, before_disruption });
        }
    }

    /// Have the probes' agents got every timer frame expected? (Reads the
    /// logs in place: a snapshot of everything is too dear to poll.)
    fn timers_in(&self, pop: &Population) -> bool {
        self.probes.iter().all(|probe| {
            let session = with(&pop.customers[probe.customer].log, |l| l.session);
            let Some(agent) = pop.agents.iter().find(|a| with(&a.log, |l| l.sessions.contains(&session))) else {
                return true;
            };
            with(&agent.log, |l| {
                let got = |kind: TimerKind| !timer_frames(l, session, kind).is_empty();
                got(TimerKind::Warning) && (!probe.before_disruption || got(TimerKind::Violation))
            })
        })
    }
}

/// Kills and restarts the server, or makes the clients drop; returns how long the server was down.
async fn disrupt(how: Disruption, pop: &Population, server: &mut ServerProcess) -> Duration {
    pop.world.epoch.fetch_add(1, Ordering::SeqCst);
    let started = Instant::now();
    match how {
        Disruption::Kill => {
            server.kill9();
            server.launch().await;
            started.elapsed()
        }
        Disruption::NetworkDrop => {
            pop.world.set(|c| c.drops += 1);
            Duration::ZERO
        }
    }
}

/// The whole population scenario: start, then `DISRUPTIONS` cycles, each verified.
async fn population_scenario(name: &str, how: Disruption) {
    let _turn = ONE_POPULATION_AT_A_TIME.lock().await;
    let started = Instant::now();
    let seed = std::env::var("DURABILITY_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(rand::random);
    eprintln!("{name}: DURABILITY_SEED={seed}");
    let mut rng = StdRng::seed_from_u64(seed);
    let setup = Arc::new(Setup::new(name, AGENTS));
    let mut server = ServerProcess::start(setup.clone()).await;
    let pop = Population::start(setup.addr, &mut rng).await;
    for number in 1..=DISRUPTIONS {
        let cycle = Cycle::run(number, how, &pop, &mut server, &mut rng).await;
        let snapshot = pop.snapshot();
        let findings = verify(&snapshot, &cycle);
        if !findings.is_empty() {
            panic!("{}", findings.render(&cycle, seed, &setup));
        }
        eprintln!("{name}: {}; checked {}", snapshot.summary(&cycle), findings.coverage());
    }
    pop.stop().await;
    eprintln!("{name}: passed in {:.1?}", started.elapsed());
}

// ------------------------------------------------------------------- verification

/// Every client's log at one moment, with the session → agent and session → customer maps.
#[derive(Debug)]
struct Snapshot {
    customers: Vec<CustomerLog>,
    agents: Vec<AgentLog>,
    owner: HashMap<u64, usize>,
    customer_of: HashMap<u64, usize>,
}

impl Snapshot {
    fn new(customers: Vec<CustomerLog>, agents: Vec<AgentLog>) -> Snapshot {
        let owner = agents.iter().enumerate().flat_map(|(i, a)| a.sessions.iter().map(move |&s| (s, i))).collect();
        let customer_of = customers.iter().enumerate().map(|(i, c)| (c.session, i)).collect();
        Snapshot { customers, agents, owner, customer_of }
    }

    fn owner_of(&self, session: u64) -> Option<&AgentLog> {
        self.owner.get(&session).map(|&a| &self.agents[a])
    }

    fn customer_with(&self, session: u64) -> Option<&CustomerLog> {
        self.customer_of.get(&session).map(|&c| &self.customers[c])
    }

    fn summary(&self, cycle: &Cycle) -> String {
        let all = || self.customers.iter().map(|c| &c.outbox).chain(self.agents.iter().map(|a| &a.outbox));
        let sent: usize = all().map(|o| o.sent.len()).sum();
        let resent: usize = all().map(|o| o.sent.iter().filter(|s| s.sends > 1).count()).sum();
        let duplicates: usize = all()
            .map(|o| o.sent.iter().filter(|s| matches!(s.outcome, Outcome::Acked { duplicate: true, .. })).count())
            .sum();
        let seqs = self.customers.iter().map(|c| &c.seqs).chain(self.agents.iter().map(|a| &a.seqs));
        let replays: usize = seqs.map(|s| s.replays_dropped).sum();
        let (number, how, into_traffic, down) = (cycle.number, cycle.how, cycle.into_traffic, cycle.down);
        format!(
            "disruption {number} ({how:?}) {into_traffic:.2?} into the traffic, server down {down:.2?}: ok \
             ({sent} commands so far, {resent} resent, {duplicates} acked as duplicates, {replays} replayed frames dropped)"
        )
    }
}

/// Problems by kind, for a failure message that says what went wrong where;
/// and how much each check looked at, so that a check with nothing to look
/// at cannot pass unnoticed.
#[derive(Debug, Default)]
struct Findings {
    sections: Vec<(&'static str, Vec<String>)>,
    checked: Vec<(&'static str, usize)>,
}

impl Findings {
    fn checked(&mut self, what: &'static str, n: usize) {
        match self.checked.iter_mut().find(|(name, _)| *name == what) {
            Some((_, count)) => *count += n,
            None => self.checked.push((what, n)),
        }
    }

    fn count(&self, what: &str) -> usize {
        self.checked.iter().find(|(name, _)| *name == what).map_or(0, |(_, n)| *n)
    }

    /// Once everyone is back, every agent's `state`, every served session's
    /// history and every waiting customer's position must have been compared.
    fn require_coverage(&mut self) {
        let expected = [(AGENT_STATES, AGENTS), (HISTORIES, SERVED), (POSITIONS, WAITING)];
        for (what, at_least) in expected {
            if self.is_empty() && self.count(what) < at_least {
                let problem = format!("{what}: {} compared, expected at least {at_least}", self.count(what));
                self.add("checks with too little to check", problem);
            }
        }
    }

    fn coverage(&self) -> String {
        self.checked.iter().map(|(what, n)| format!("{n} {what}")).collect::<Vec<_>>().join(", ")
    }

    fn add(&mut self, section: &'static str, problem: String) {
        match self.sections.iter_mut().find(|(name, _)| *name == section) {
            Some((_, problems)) => problems.push(problem),
            None => self.sections.push((section, vec![problem])),
        }
    }

    fn is_empty(&self) -> bool {
        self.sections.is_empty()
    }

    fn render(&self, cycle: &Cycle, seed: u64, setup: &Setup) -> String {
        let mut text = format!(
            "after disruption {} of {DISRUPTIONS} ({:?}, {:.2?} into the traffic, server down {:.2?}):\n",
            cycle.number, cycle.how, cycle.into_traffic, cycle.down
        );
        for (section, problems) in &self.sections {
            text += &format!("- {section} ({}):\n", problems.len());
            for problem in problems.iter().take(12) {
                text += &format!("    {problem}\n");
            }
            if problems.len() > 12 {
                text += &format!("    ... and {} more\n", problems.len() - 12);
            }
        }
        text + &format!("DURABILITY_SEED={seed} replays this run; files in {}", setup.dir.display())
    }
}

/// Every check, in the order a reader wants the answers.
fn verify(s: &Snapshot, cycle: &Cycle) -> Findings {
    let mut f = Findings::default();
    check_clients(s, cycle, &mut f);
    check_commands(s, &mut f);
    check_customer_messages(s, &mut f);
    check_agent_replies(s, &mut f);
    check_unsent(s, &mut f);
    check_owners(s, cycle.number, &mut f);
    check_histories(s, cycle.number, &mut f);
    check_queue(s, cycle.number, &mut f);
    check_timers(s, cycle, &mut f);
    f.require_coverage();
    f
}

const AGENT_STATES: &str = "agent states after the resume";
const HISTORIES: &str = "session histories";
const POSITIONS: &str = "queue positions";

/// Who gave up, who never came back, protocol oddities and seq gaps.
fn check_clients(s: &Snapshot, cycle: &Cycle, f: &mut Findings) {
    for c in &s.customers {
        if let Some(reason) = &c.lost {
            f.add("customers who could not resume", format!("{} (session {}): {reason}", c.name, c.session));
        }
    }
    for a in s.agents.iter().filter_map(|a| Some((&a.id, a.lost.as_ref()?))) {
        f.add("agents who could not resume", format!("{}: {}", a.0, a.1));
    }
    for c in s.customers.iter().filter(|c| c.lost.is_none() && !c.resumed_after(cycle.number)) {
        f.add("clients that did not resume in time", format!("customer {} (session {})", c.name, c.session));
    }
    for a in s.agents.iter().filter(|a| a.lost.is_none() && !a.resumed_after(cycle.number)) {
        f.add("clients that did not resume in time", format!("agent {}: no `state` after the resume", a.id));
    }
    let customers = s.customers.iter().map(|c| (&c.name, &c.problems, &c.outbox, &c.seqs));
    for (who, problems, outbox, seqs) in
        customers.chain(s.agents.iter().map(|a| (&a.id, &a.problems, &a.outbox, &a.seqs)))
    {
        for problem in problems.iter().chain(&outbox.problems) {
            f.add("protocol problems", format!("{who}: {problem}"));
        }
        for gap in &seqs.gaps {
            f.add("seq gaps where the server said replay_complete: true", format!("{who}: {gap}"));
        }
    }
}

/// Every command answered, none refused.
fn check_commands(s: &Snapshot, f: &mut Findings) {
    let customers = s.customers.iter().map(|c| (&c.name, &c.outbox));
    for (who, outbox) in customers.chain(s.agents.iter().map(|a| (&a.id, &a.outbox))) {
        for sent in &outbox.sent {
            let what = format!("{who}: `{}` (id {}, {})", sent.text, sent.id, times_sent(sent));
            match &sent.outcome {
                Outcome::Pending => f.add("commands never answered", what),
                Outcome::Refused(code) => f.add("commands refused", format!("{what}: {code}")),
                Outcome::Acked { .. } => {}
            }
        }
    }
}

/// (session, text) → the seqs at which it arrived, for one kind of message.
type Arrivals<'a> = HashMap<(u64, &'a str), Vec<u64>>;

fn agent_arrivals(agent: &AgentLog) -> Arrivals<'_> {
    let mut arrivals = Arrivals::new();
    for (&seq, frame) in &agent.frames {
        if let ServerToAgent::CustomerMessage { session, text, .. } = frame {
            arrivals.entry((*session, text.as_str())).or_default().push(seq);
        }
    }
    arrivals
}

fn customer_arrivals(customer: &CustomerLog) -> Arrivals<'_> {
    let mut arrivals = Arrivals::new();
    for (&seq, frame) in &customer.frames {
        if let ServerToCustomer::AgentMessage { text, .. } = frame {
            arrivals.entry((customer.session, text.as_str())).or_default().push(seq);
        }
    }
    arrivals
}

fn times_sent(sent: &Sent) -> String {
    match sent.sends {
        1 => "sent once".into(),
        n => format!("sent {n} times"),
    }
}

/// What became of a command, for reports.
fn acked_label(sent: &Sent) -> String {
    match &sent.outcome {
        Outcome::Acked { duplicate, epoch, .. } => {
            let duplicate = if *duplicate { " as a duplicate" } else { "" };
            let when = match epoch {
                0 => "before the first disruption".to_owned(),
                n => format!("after disruption {n}"),
            };
            format!("acked{duplicate} {when}, {}", times_sent(sent))
        }
        Outcome::Pending => format!("never answered, {}", times_sent(sent)),
        Outcome::Refused(code) => format!("refused: {code}"),
    }
}

/// An acked message reached `whom` exactly once; any other (never answered,
/// refused) at most once: a command applied twice is a duplicate however its
/// acks went.
fn check_delivered(section: &'static str, who: &str, whom: &str, sent: &Sent, arrivals: &Arrivals, f: &mut Findings) {
    let seqs = arrivals.get(&(sent.session, sent.text.as_str())).map(Vec::as_slice).unwrap_or_default();
    let acked = matches!(sent.outcome, Outcome::Acked { .. });
    if seqs.len() > 1 || (acked && seqs.is_empty()) {
        let (times, id, label) = (seqs.len(), &sent.id, acked_label(sent));
        let problem = format!(
            "session {}: `{}` from {who} (id {id}, {label}) reached {whom} {times} times (seqs {seqs:?})",
            sent.session, sent.text
        );
        f.add(section, problem);
    }
}

fn check_customer_messages(s: &Snapshot, f: &mut Findings) {
    let section = "customer messages lost or duplicated";
    let arrivals: Vec<Arrivals> = s.agents.iter().map(agent_arrivals).collect();
    for c in s.customers.iter().filter(|c| !c.outbox.sent.is_empty()) {
        let Some(&owner) = s.owner.get(&c.session) else {
            f.add(section, format!("session {} ({}): no agent holds it", c.session, c.name));
            continue;
        };
        let whom = format!("agent {}", s.agents[owner].id);
        for message in &c.outbox.sent {
            f.checked("customer messages", 1);
            check_delivered(section, &c.name, &whom, message, &arrivals[owner], f);
        }
    }
}

fn check_agent_replies(s: &Snapshot, f: &mut Findings) {
    let section = "agent replies lost or duplicated";
    let arrivals: Vec<Arrivals> = s.customers.iter().map(customer_arrivals).collect();
    for a in &s.agents {
        // Session 0: `set_availability`, not a message.
        for reply in a.outbox.sent.iter().filter(|r| r.session != 0) {
            let Some(&c) = s.customer_of.get(&reply.session) else { continue };
            let whom = format!("customer {}", s.customers[c].name);
            f.checked("agent replies", 1);
            check_delivered(section, &a.id, &whom, reply, &arrivals[c], f);
        }
    }
}

/// No chat message arrives that its sender never sent.
fn check_unsent(s: &Snapshot, f: &mut Findings) {
    let sent_by_customers: HashSet<(u64, &str)> =
        s.customers.iter().flat_map(|c| c.outbox.sent.iter().map(|m| (m.session, m.text.as_str()))).collect();
    let sent_by_agents: HashSet<(u64, &str)> =
        s.agents.iter().flat_map(|a| a.outbox.sent.iter().map(|m| (m.session, m.text.as_str()))).collect();
    for a in &s.agents {
        for ((session, text), seqs) in agent_arrivals(a) {
            if !sent_by_customers.contains(&(session, text)) {
                f.add("messages nobody sent", format!("agent {}: `{text}` in session {session} (seqs {seqs:?})", a.id));
            }
        }
    }
    for c in &s.customers {
        for ((session, text), seqs) in customer_arrivals(c) {
            if !sent_by_agents.contains(&(session, text)) {
                f.add(
                    "messages nobody sent",
                    format!("customer {}: `{text}` in session {session} (seqs {seqs:?})", c.name),
                );
            }
        }
    }
}

/// After disruption `epoch`, every agent's `state` lists the sessions it held
/// before, and every served customer is still with the same agent.
fn check_owners(s: &Snapshot, epoch: u32, f: &mut Findings) {
    let section = "sessions with another owner after the restart";
    check_one_owner_each(s, f);
    for a in &s.agents {
        for resume in a.resumes.iter().filter(|r| r.epoch == epoch) {
            let Some((_, views)) = &resume.state else { continue };
            f.checked(AGENT_STATES, 1);
            let after: BTreeSet<u64> = views.iter().map(|v| v.session).collect();
            if after != resume.sessions {
                let before = &resume.sessions;
                f.add(
                    section,
                    format!("agent {}: held sessions {before:?} before, its `state` after lists {after:?}", a.id),
                );
            }
        }
    }
    for c in &s.customers {
        for resume in c.resumes.iter().filter(|r| r.epoch == epoch && r.agent_name.is_some()) {
            let Some(status) = &resume.welcome else { continue };
            let now = match status {
                Some(SessionStatus::Assigned { agent_name, .. }) => Some(agent_name),
                _ => None,
            };
            if now != resume.agent_name.as_ref() {
                let before = resume.agent_name.as_deref().unwrap_or_default();
                f.add(
                    section,
                    format!("customer {} (session {}): was with {before}, resumed as {status:?}", c.name, c.session),
                );
            }
        }
    }
}

/// Every served customer's session is held by exactly one agent.
fn check_one_owner_each(s: &Snapshot, f: &mut Findings) {
    let mut holders: HashMap<u64, Vec<&str>> = HashMap::new();
    for a in &s.agents {
        for &session in &a.sessions {
            holders.entry(session).or_default().push(&a.id);
        }
    }
    for c in s.customers.iter().filter(|c| c.agent_name.is_some()) {
        let held_by = holders.get(&c.session).map(Vec::as_slice).unwrap_or_default();
        if held_by.len() != 1 {
            let problem = format!("session {} ({}) is held by {held_by:?}, expected one agent", c.session, c.name);
            f.add("sessions with another owner after the restart", problem);
        }
    }
}

/// After disruption `epoch`, each session's history (in the agent's `state`)
/// holds every message acked before it, once each, each side in the order sent.
fn check_histories(s: &Snapshot, epoch: u32, f: &mut Findings) {
    for a in &s.agents {
        let states = a.resumes.iter().filter(|r| r.epoch == epoch).filter_map(|r| r.state.as_ref());
        for view in states.flat_map(|(_, views)| views) {
            let Some(customer) = s.customer_with(view.session) else { continue };
            f.checked(HISTORIES, 1);
            let from_customer = customer.outbox.acked_before(epoch).map(|m| m.text.as_str()).collect();
            let from_agent = a.outbox.acked_before(epoch).filter(|r| r.session == view.session);
            check_history(&a.id, view, Speaker::Customer, from_customer, f);
            check_history(&a.id, view, Speaker::Agent, from_agent.map(|r| r.text.as_str()).collect(), f);
        }
    }
}

fn check_history(agent: &str, view: &SessionView, speaker: Speaker, acked: Vec<&str>, f: &mut Findings) {
    let section = "acked messages missing, repeated or out of order in the history after the restart";
    let said: Vec<&str> = view.history.iter().filter(|h| h.from == speaker).map(|h| h.text.as_str()).collect();
    let wanted: HashSet<&str> = acked.iter().copied().collect();
    let kept: Vec<&str> = said.iter().copied().filter(|t| wanted.contains(t)).collect();
    let session = view.session;
    let missing: Vec<&str> = acked.iter().copied().filter(|t| !kept.contains(t)).collect();
    if !missing.is_empty() {
        f.add(
            section,
            format!(
                "session {session} (agent {agent}): {} acked {speaker:?} messages missing: {missing:?}",
                missing.len()
            ),
        );
    }
    let mut seen = HashSet::new();
    let repeated: Vec<&str> = said.iter().copied().filter(|t| !seen.insert(*t)).collect();
    if !repeated.is_empty() {
        f.add(section, format!("session {session} (agent {agent}): {speaker:?} messages repeated: {repeated:?}"));
    }
    if missing.is_empty() && repeated.is_empty() && kept != acked {
        f.add(
            section,
            format!("session {session} (agent {agent}): {speaker:?} messages in the order {kept:?}, sent as {acked:?}"),
        );
    }
}

/// After disruption `epoch`, every waiting customer resumes at the position it had.
fn check_queue(s: &Snapshot, epoch: u32, f: &mut Findings) {
    for c in &s.customers {
        for resume in c.resumes.iter().filter(|r| r.epoch == epoch && r.position.is_some()) {
            let Some(status) = &resume.welcome else { continue };
            f.checked(POSITIONS, 1);
            let now = match status {
                Some(SessionStatus::Waiting { position, .. }) => Some(*position),
                _ => None,
            };
            if now != resume.position {
                let before = resume.position.unwrap_or_default();
                let problem = format!(
                    "customer {} (session {}): position {before} before, resumed as {status:?}",
                    c.name, c.session
                );
                f.add("waiting customers whose queue position changed", problem);
            }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TimerKind {
    Warning,
    Violation,
}

impl TimerKind {
    fn name(self) -> &'static str {
        match self {
            TimerKind::Warning => "reply_warning",
            TimerKind::Violation => "slow_reply",
        }
    }

    fn due_ms(self) -> u64 {
        match self {
            TimerKind::Warning => WARNING_MS,
            TimerKind::Violation => VIOLATION_MS,
        }
    }

    /// Business milliseconds in real time.
    fn due_real(self) -> Duration {
        Duration::from_millis((self.due_ms() as f64 / SCALE) as u64)
    }
}

/// (seq, waited_ms) of the agent's `reply_warning` or `slow_reply` frames for `session`.
fn timer_frames(agent: &AgentLog, session: u64, kind: TimerKind) -> Vec<(u64, u64)> {
    let frames = agent.frames.iter().filter_map(|(&seq, frame)| match (frame, kind) {
        (ServerToAgent::ReplyWarning { session: s, waited_ms, .. }, TimerKind::Warning)
        | (ServerToAgent::SlowReply { session: s, waited_ms, .. }, TimerKind::Violation) => {
            (*s == session).then_some((seq, *waited_ms))
        }
        _ => None,
    });
    frames.collect()
}

/// Each quiet message earns its agent exactly one `reply_warning` (and one
/// `slow_reply` if it waited across the disruption), saying it waited about
/// the rule's time in business time, arriving that long after the message in
/// real time, not counting the time the server was down.
fn check_timers(s: &Snapshot, cycle: &Cycle, f: &mut Findings) {
    if !cycle.completed {
        return;
    }
    for probe in &cycle.probes {
        let c = &s.customers[probe.customer];
        let Some(quiet) = c.outbox.sent.iter().find(|m| m.text.starts_with('q')) else {
            if c.lost.is_none() {
                f.add("reply timers", format!("customer {}: the quiet message was never sent", c.name));
            }
            continue;
        };
        let (Outcome::Acked { at, .. }, Some(agent)) = (&quiet.outcome, s.owner_of(c.session)) else { continue };
        // Sent before the kill: the downtime lies between the message and its timer.
        let down = if probe.before_disruption { cycle.down } else { Duration::ZERO };
        let timing = Timing { sent_at: quiet.first_sent_at, acked_at: *at, down };
        let label = format!("session {} (agent {}, `{}`)", c.session, agent.id, quiet.text);
        check_timer(agent, c.session, TimerKind::Warning, timing, &label, f);
        if probe.before_disruption {
            check_timer(agent, c.session, TimerKind::Violation, timing, &label, f);
        }
    }
}

/// When a quiet message went out and was acked: its timer cannot fire before
/// `sent_at` + due (the server saw it after that), nor much after `acked_at` +
/// due + `down` (the server had seen it by then).
#[derive(Clone, Copy, Debug)]
struct Timing {
    sent_at: Instant,
    acked_at: Instant,
    /// Server downtime between the ack and the timer.
    down: Duration,
}

fn check_timer(agent: &AgentLog, session: u64, kind: TimerKind, timing: Timing, label: &str, f: &mut Findings) {
    let section = "reply timers";
    f.checked("reply timers", 1);
    let frames = timer_frames(agent, session, kind);
    let [(seq, waited_ms)] = frames[..] else {
        let (n, name) = (frames.len(), kind.name());
        return f.add(section, format!("{label}: {n} `{name}` frames (seq, waited_ms): {frames:?}, expected one"));
    };
    let (due, limit) = (kind.due_ms(), kind.due_ms() + TIMER_SLACK_MS);
    if !(due..limit).contains(&waited_ms) {
        let name = kind.name();
        f.add(section, format!("{label}: `{name}` (seq {seq}) says waited_ms {waited_ms}, expected {due}..{limit}"));
    }
    let arrived = agent.timers_at[&seq];
    let (since_sent, since_ack) = (arrived - timing.sent_at, arrived.saturating_duration_since(timing.acked_at));
    let (due_real, down) = (kind.due_real(), timing.down);
    // 20 ms: the business clock's rounding at the ends.
    let early = since_sent + Duration::from_millis(20) < due_real;
    let late = since_ack.saturating_sub(down) > due_real + TIMER_LATE;
    if early || late {
        let when = format!("{since_sent:.2?} after the message was sent, {since_ack:.2?} after its ack");
        let name = kind.name();
        f.add(section, format!("{label}: `{name}` (seq {seq}) came {when}; due {due_real:?} (+ {down:.2?} down)"));
    }
}

// ------------------------------------------------------------------------ tests

/// Three `kill -9`s at random points of busy traffic, each followed by an
/// immediate restart on the same data: every client must carry on as after a
/// network drop, and nothing acknowledged may be lost or duplicated.
#[tokio::test(flavor = "multi_thread")]
async fn a_kill_9_loses_nothing_acknowledged() {
    population_scenario("durability-kill", Disruption::Kill).await;
}

/// The same harness and checks with no kill: the clients drop their
/// connections while the server keeps running. This passes with the in-memory
/// server too, so a failure of the kill test is the server's, not the harness's.
#[tokio::test(flavor = "multi_thread")]
async fn without_a_kill_the_same_harness_passes() {
    population_scenario("durability-no-kill", Disruption::NetworkDrop).await;
}

/// A clean shutdown (SIGTERM) and a restart on the same data: the customer
/// resumes with their token, the agent gets the session back with its
/// history, and the chat carries on between the same two people.
#[tokio::test(flavor = "multi_thread")]
async fn a_sigterm_and_restart_resume_the_same_session() {
    let setup = Arc::new(Setup::new("durability-sigterm", 1));
    let addr = setup.addr;
    let mut server = ServerProcess::start(setup.clone()).await;
    let mut agent = Client::available_agent(addr, "a00").await;
    let (mut customer, welcome) = Client::customer(addr, "general").await;
    let (session, token) = (welcome["session"].as_u64().unwrap(), welcome["token"].as_str().unwrap().to_owned());
    customer.expect("assigned").await;
    agent.expect("session_assigned").await;
    let history = ["Where is my parcel?", "It left the depot this morning."];
    customer.ok(json!({"type": "message", "text": history[0]})).await;
    assert_eq!(agent.expect("customer_message").await["text"], history[0]);
    agent.ok(json!({"type": "reply", "session": session, "text": history[1]})).await;
    assert_eq!(customer.expect("agent_message").await["text"], history[1]);

    server.sigterm();
    for client in [&mut customer, &mut agent] {
        client.expect("shutdown").await;
        assert_eq!(client.expect_close().await, Some(1001));
    }
    let exit = server.exited().await;
    assert!(exit.success(), "SIGTERM: {exit}");
    let (customer_seq, agent_seq) = (*customer.seqs.last().unwrap(), *agent.seqs.last().unwrap());
    server.launch().await;

    let mut customer = resume_after_sigterm(addr, session, &token, customer_seq).await;
    let mut agent = Client::connect(addr, &format!("/v1/ws/agent?agent=a00&last_seq={agent_seq}"), Side::Agent).await;
    let welcome = agent.expect("welcome").await;
    assert!(welcome["last_seq"].as_u64() >= Some(agent_seq), "the agent's stream restarted: {welcome}");
    let state = agent.expect("state").await;
    let sessions = state["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 1, "the session is a00's again after the restart: {state}");
    assert_eq!(sessions[0]["session"], session, "{state}");
    let texts: Vec<&str> =
        sessions[0]["history"].as_array().unwrap().iter().filter_map(|h| h["text"].as_str()).collect();
    assert_eq!(texts, history, "the history after the restart");

    customer.send(&json!({"type": "message", "id": "after-restart-1", "text": "Thanks!"})).await;
    assert_eq!(customer.reply_to("after-restart-1").await["type"], "ack");
    assert_eq!(agent.expect("customer_message").await["text"], "Thanks!");
    server.sigterm();
    assert!(server.exited().await.success());
}

/// Resumes the customer's session after the restart; asserts it is the same session, still with Agent 00.
async fn resume_after_sigterm(addr: SocketAddr, session: u64, token: &str, last_seq: u64) -> Client {
    let path = format!("/v1/ws/customer?token={token}&last_seq={last_seq}");
    let mut customer = Client::connect(addr, &path, Side::Customer).await;
    let welcome = customer.next().await;
    assert_eq!(welcome["type"], "welcome", "the session did not survive the restart: its resume got {welcome}");
    assert_eq!((welcome["session"].as_u64(), welcome["resumed"].as_bool()), (Some(session), Some(true)), "{welcome}");
    assert!(welcome["last_seq"].as_u64() >= Some(last_seq), "the session's messages were lost: {welcome}");
    assert_eq!(welcome["status"]["state"], "assigned", "{welcome}");
    assert_eq!(welcome["status"]["agent_name"], "Agent 00", "{welcome}");
    customer
}

#[tokio::test]
async fn a_kill_9_keeps_every_acknowledged_ticket_change() {
    let setup = Arc::new(Setup::new("durability-tickets", 1));
    let addr = setup.addr;
    let mut server = ServerProcess::start(setup.clone()).await;
    let _agent = Client::available_agent(addr, "a00").await;
    let left = json!({"group": "general", "text": "My invoice is wrong", "reason": "nobody_available"});
    let left = common::http_post(addr, "/v1/tickets", None, &left.to_string()).await;
    assert_eq!(left.status, 201, "{}", left.body);
    let (id, token) =
        (left.json()["ticket"]["id"].as_u64().unwrap(), left.json()["token"].as_str().unwrap().to_owned());
    let reply = json!({"text": "Which invoice number?", "state": "awaiting_feedback"});
    let agent_token = common::token_for("a00");
    let replied =
        common::http_post(addr, &format!("/v1/tickets/{id}/reply"), Some(&agent_token), &reply.to_string()).await;
    assert_eq!(replied.status, 200, "{}", replied.body);
    let wrote = json!({"text": "INV-2231"}).to_string();
    let wrote = common::http_post(addr, "/v1/ticket/messages", Some(&token), &wrote).await;
    assert_eq!(wrote.status, 200, "{}", wrote.body);
    let before = common::http_get_as(addr, &format!("/v1/tickets/{id}"), Some(&agent_token)).await.json();

    server.kill9();
    server.launch().await;
    let after = common::http_get_as(addr, &format!("/v1/tickets/{id}"), Some(&agent_token)).await.json();
    for key in ["state", "owner", "messages", "deadlines", "created_at"] {
        assert_eq!(after["ticket"][key], before["ticket"][key], "{key} after the kill");
    }
    assert_eq!(after["ticket"]["state"], "customer_replied");
    let seen = common::http_get_as(addr, "/v1/ticket", Some(&token)).await;
    assert_eq!((seen.status, seen.json()["ticket"]["id"].as_u64()), (200, Some(id)), "the token still opens it");
    server.sigterm();
    assert!(server.exited().await.success());
}
