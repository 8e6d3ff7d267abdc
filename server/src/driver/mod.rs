//! The driver: one tokio task owns the router core.
//!
//! It `select!`s over its input channel (connections opening, commands,
//! connections closing), the router's next deadline (`poll_timeout`) and a
//! housekeeping tick, and routes the router's outputs to connections.
//!
//! It also owns the per-stream state that makes resume work: for every
//! customer session and every agent, a sequence counter, a bounded replay
//! buffer of the frames sent (by `seq`), the ids of recently accepted commands
//! (so a retried command is acknowledged, not applied twice) and the current
//! connection, if any. Everything here is touched by this task only: no locks.
//!
//! Invariants:
//! - a stream's `seq` increases by one per session-level message and never repeats;
//! - a connection receives its stream's frames in `seq` order, without gaps
//!   (replay first, then live), unless the replay buffer overflowed, which the
//!   `welcome` says (`replay_complete: false`);
//! - an outbound queue that is full means a slow reader: the connection is cut
//!   off and its owner follows the normal disconnect rules; nobody else waits.

pub mod clock;
pub mod convert;

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use rustc_hash::FxHashMap;
use serde::Serialize;
use switchboard_protocol::agent::{AgentCommand, ServerToAgent};
use switchboard_protocol::common::ClockScale;
use switchboard_protocol::customer::{CustomerCommand, ServerToCustomer};
use switchboard_protocol::{close_code, code, encode};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tracing::{debug, info, warn};

use crate::config::GatewayConfig;
use crate::gateway::outbox::{Outbox, Refused};
use crate::metrics::Metrics;
use crate::router::config::Role;
use crate::router::input::{Input, Priority};
use crate::router::output::{CustomerNotice, Event, Output};
use crate::router::{AgentId, GroupId, Router, RuleError, SessionId};
use clock::Clock;

/// Longest customer name kept (longer names are cut).
const MAX_NAME_CHARS: usize = 100;

/// Identifies one WebSocket connection for the life of the process.
pub type ConnId = u64;

/// What the driver sends a connection's writer.
#[derive(Debug)]
pub enum Outbound {
    Frame(Utf8Bytes),
    /// Several frames, in order, taking one place in the queue.
    Frames(Vec<Utf8Bytes>),
    /// Send a close frame with this code and reason, then stop writing.
    Close {
        code: u16,
        reason: &'static str,
    },
}

/// The driver's handle on a connection.
#[derive(Debug, Clone)]
pub struct ConnHandle {
    pub id: ConnId,
    pub outbox: Arc<Outbox>,
}

impl ConnHandle {
    fn kill(&self) {
        self.outbox.kill();
    }
}

/// How a customer connection starts.
pub enum CustomerOpen {
    New { group: Option<String>, name: Option<String>, priority: Priority },
    Resume { token: String, last_seq: u64 },
}

/// Never prints the resume token (a secret).
impl std::fmt::Debug for CustomerOpen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CustomerOpen::New { group, priority, .. } => {
                f.debug_struct("New").field("group", group).field("priority", priority).finish_non_exhaustive()
            }
            CustomerOpen::Resume { last_seq, .. } => {
                f.debug_struct("Resume").field("last_seq", last_seq).finish_non_exhaustive()
            }
        }
    }
}

/// Everything the driver is told.
#[derive(Debug)]
pub enum DriverInput {
    CustomerOpen {
        conn: ConnHandle,
        open: CustomerOpen,
    },
    CustomerCommand {
        conn: ConnId,
        command: CustomerCommand,
    },
    AgentOpen {
        conn: ConnHandle,
        agent: Option<String>,
        last_seq: Option<u64>,
    },
    AgentCommand {
        conn: ConnId,
        command: AgentCommand,
    },
    /// A frame the reader could not decode: the driver sends the error, so that
    /// replies keep the order of the frames.
    FrameError {
        conn: ConnId,
        id: Option<String>,
        code: &'static str,
        message: String,
    },
    /// The connection's reader ended (client closed, network error, killed).
    Closed {
        conn: ConnId,
    },
}

#[derive(Debug, Clone)]
enum Owner {
    Customer(SessionId),
    Agent(AgentId),
}

#[derive(Debug)]
struct Conn {
    handle: ConnHandle,
    owner: Owner,
}

/// Sequencing, replay and retry memory of one customer session or one agent.
#[derive(Debug, Default)]
struct Stream {
    seq: u64,
    replay: VecDeque<Replayable>,
    /// Ids (and a hash of the command) of recently accepted commands.
    accepted: VecDeque<(String, u64)>,
    conn: Option<ConnId>,
}

impl Stream {
    /// A retry is the same command with the same id: a reused id with a different command is a new command.
    /// The hash is compared first: a miss (almost every command) then costs no string comparison.
    fn was_accepted(&self, id: &str, hash: u64) -> bool {
        self.accepted.iter().any(|(a, h)| *h == hash && a == id)
    }

    fn remember(&mut self, id: &str, hash: u64, keep: usize) {
        if self.accepted.len() >= keep {
            self.accepted.pop_front();
        }
        self.accepted.push_back((id.to_owned(), hash));
    }

    /// Is every message after `last_seq` still in the buffer (or replaced by a later one)?
    fn can_replay_from(&self, last_seq: u64) -> bool {
        last_seq >= self.seq || self.replay.front().is_some_and(|r| r.from <= last_seq + 1)
    }

    /// The buffered frames a client that saw up to `last_seq` has not seen.
    fn frames_after(&self, last_seq: u64) -> Vec<Utf8Bytes> {
        self.replay.iter().filter(|r| r.seq > last_seq).map(|r| r.frame.clone()).collect()
    }

    /// Keeps a sent frame for resumes: at most `keep`. A queue position
    /// replaces the position sent just before it, so a customer waiting in a
    /// moving queue keeps one frame, not `keep` stale positions.
    fn keep_for_replay(&mut self, frame: Utf8Bytes, keep: usize, position: bool) {
        let mut from = self.seq;
        if position && self.replay.back().is_some_and(|r| r.position) {
            from = self.replay.pop_back().expect("checked").from;
        }
        if self.replay.len() >= keep {
            self.replay.pop_front();
        }
        self.replay.push_back(Replayable { from, seq: self.seq, frame, position });
    }

    /// Gives a message of this stream the next `seq`. Ephemeral messages
    /// (typing) have no `seq` field and are not numbered; says whether it was.
    fn number(&mut self, seq: Option<&mut u64>) -> bool {
        let Some(seq) = seq else { return false };
        self.seq += 1;
        *seq = self.seq;
        true
    }

    /// Keeps a numbered message's frame for replay; returns the frame with the
    /// live connection it goes to, if there is one.
    fn deliver(
        &mut self,
        frame: Utf8Bytes,
        numbered: bool,
        keep: usize,
        position: bool,
    ) -> Option<(ConnId, Utf8Bytes)> {
        if numbered {
            self.keep_for_replay(frame.clone(), keep, position);
        }
        self.conn.map(|conn| (conn, frame))
    }
}

/// A frame kept for replay on resume.
#[derive(Debug)]
struct Replayable {
    /// The first seq this frame stands for: earlier than `seq` when it
    /// replaced superseded queue positions.
    from: u64,
    seq: u64,
    frame: Utf8Bytes,
    /// A queue position (`queued`), which the next position supersedes.
    position: bool,
}

/// Holds the resume token: deliberately not `Debug`.
struct CustomerStream {
    stream: Stream,
    token: String,
    group: GroupId,
}

/// The task that owns the router. Built by [`crate::run`].
pub struct Driver {
    router: Router,
    clock: Clock,
    gateway: GatewayConfig,
    metrics: Metrics,
    // Fx hashing for keys the server chooses (looked up several times per
    // message); resume tokens come from clients and keep SipHash.
    conns: FxHashMap<ConnId, Conn>,
    customers: FxHashMap<SessionId, CustomerStream>,
    tokens: HashMap<String, SessionId>,
    agents: FxHashMap<AgentId, Stream>,
    supervisors: Vec<AgentId>,
    next_session: u64,
    /// Connections found slow while routing, to disconnect once the current output is routed.
    cut_off: Vec<(ConnId, Owner)>,
    assignments: usize,
}

/// Counts only: the streams hold resume tokens.
impl std::fmt::Debug for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver")
            .field("connections", &self.conns.len())
            .field("customer_streams", &self.customers.len())
            .field("agent_streams", &self.agents.len())
            .finish_non_exhaustive()
    }
}

impl Driver {
    pub fn new(router: Router, clock: Clock, gateway: GatewayConfig, mut metrics: Metrics) -> Driver {
        let supervisors =
            router.config().agents.iter().filter(|a| a.role == Role::Supervisor).map(|a| a.id.clone()).collect();
        let groups: Vec<&str> = router.config().groups.iter().map(|g| g.id.as_str()).collect();
        metrics.register_known_series(&groups);
        Driver {
            router,
            clock,
            gateway,
            metrics,
            conns: FxHashMap::default(),
            customers: FxHashMap::default(),
            tokens: HashMap::new(),
            agents: FxHashMap::default(),
            supervisors,
            next_session: 1,
            cut_off: Vec::new(),
            assignments: 0,
        }
    }

    /// Runs until `shutdown` turns true (then tells every client and returns) or every input sender is gone.
    pub async fn run(mut self, mut inputs: mpsc::Receiver<DriverInput>, mut shutdown: watch::Receiver<bool>) {
        let mut housekeeping = tokio::time::interval(Duration::from_millis(250));
        housekeeping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // One timer, moved only when the router's next deadline changes (not re-created per input).
        let wake = tokio::time::sleep_until(far_future());
        tokio::pin!(wake);
        let mut armed: Option<crate::router::Millis> = None;
        loop {
            let deadline = self.router.poll_timeout();
            if deadline != armed {
                wake.as_mut().reset(deadline.map_or_else(far_future, |d| self.clock.instant_at(d)));
                armed = deadline;
            }
            // Timers and housekeeping come before inputs so that a busy input channel cannot starve them
            // (each is ready only now and then).
            tokio::select! {
                biased;
                _ = shutdown.wait_for(|s| *s) => break,
                _ = housekeeping.tick() => self.housekeeping(),
                _ = &mut wake, if armed.is_some() => {
                    let now = self.clock.now().max(armed.unwrap_or_default());
                    armed = None;
                    self.router.handle_timeout(now);
                    self.drain(Instant::now());
                }
                input = inputs.recv() => match input {
                    Some(input) => self.on_input(input),
                    None => return,
                },
            }
        }
        // Shutting down: let the commands already received finish, then tell every client.
        while let Ok(input) = inputs.try_recv() {
            self.on_input(input);
        }
        self.shutdown();
    }

    fn on_input(&mut self, input: DriverInput) {
        let started = Instant::now();
        match input {
            DriverInput::CustomerOpen { conn, open } => self.customer_open(conn, open),
            DriverInput::CustomerCommand { conn, command } => self.customer_command(conn, command),
            DriverInput::AgentOpen { conn, agent, last_seq } => self.agent_open(conn, agent, last_seq),
            DriverInput::AgentCommand { conn, command } => self.agent_command(conn, command),
            DriverInput::FrameError { conn, id, code, message } => {
                self.send(conn, error_frame(id, code, message));
            }
            DriverInput::Closed { conn } => self.closed(conn),
        }
        self.drain(started);
    }

    fn now(&self) -> crate::router::Millis {
        self.clock.now()
    }

    // ---- customers ----

    fn customer_open(&mut self, conn: ConnHandle, open: CustomerOpen) {
        match open {
            CustomerOpen::New { group, name, priority } => {
                let Some(group) = group.filter(|g| !g.is_empty()) else {
                    return self.refuse(&conn, code::MISSING_GROUP, "give the skill group: /v1/ws/customer?group=...");
                };
                let session = SessionId(self.next_session);
                self.next_session += 1;
                let input = Input::CustomerJoin {
                    session,
                    group: GroupId::new(&group),
                    priority,
                    customer_name: name
                        .map(|n| n.trim().chars().take(MAX_NAME_CHARS).collect::<String>())
                        .filter(|n| !n.is_empty())
                        .map(|n| Arc::from(n.as_str())),
                };
                if let Err(e) = self.router.handle(self.now(), input) {
                    self.metrics.protocol_error(e.code());
                    return self.refuse(&conn, e.code(), &e.to_string());
                }
                let token = new_token();
                let group = GroupId::new(&group);
                self.tokens.insert(token.clone(), session);
                self.customers.insert(
                    session,
                    CustomerStream {
                        stream: Stream { conn: Some(conn.id), ..Stream::default() },
                        token: token.clone(),
                        group,
                    },
                );
                self.conns.insert(conn.id, Conn { handle: conn.clone(), owner: Owner::Customer(session) });
                debug!(conn = conn.id, session = session.0, "customer joined");
                let welcome = self.customer_welcome(session, false, true);
                self.send(conn.id, frame(&welcome));
            }
            CustomerOpen::Resume { token, last_seq } => {
                let Some(&session) = self.tokens.get(&token) else {
                    return self.refuse(&conn, code::INVALID_TOKEN, "unknown resume token, or the session is gone");
                };
                let stream = &mut self.customers.get_mut(&session).expect("a token names a live stream").stream;
                let previous = stream.conn.replace(conn.id);
                let complete = stream.can_replay_from(last_seq);
                let replay = stream.frames_after(last_seq);
                if let Some(old) = previous {
                    self.replace(old);
                }
                self.conns.insert(conn.id, Conn { handle: conn.clone(), owner: Owner::Customer(session) });
                debug!(conn = conn.id, session = session.0, last_seq, replayed = replay.len(), "customer resumed");
                let welcome = self.customer_welcome(session, true, complete);
                self.send_batch(conn.id, std::iter::once(frame(&welcome)).chain(replay).collect());
                if previous.is_none() && self.router.session_open(session) == Some(true) {
                    if let Err(e) = self.router.handle(self.now(), Input::CustomerReconnected { session }) {
                        debug!(session = session.0, code = e.code(), "reconnect not applied");
                    }
                }
            }
        }
    }

    fn customer_welcome(&self, session: SessionId, resumed: bool, replay_complete: bool) -> ServerToCustomer {
        let c = &self.customers[&session];
        ServerToCustomer::Welcome {
            session: session.0,
            token: c.token.clone(),
            group: c.group.to_string(),
            resumed,
            last_seq: c.stream.seq,
            replay_complete,
            status: self.router.session_status(session).as_ref().map(convert::status_to_wire),
        }
    }

    fn customer_command(&mut self, conn: ConnId, command: CustomerCommand) {
        let Some(Conn { owner: owner @ Owner::Customer(session), .. }) = self.conns.get(&conn) else { return };
        let (owner, session) = (owner.clone(), *session);
        if !self.customers.contains_key(&session) {
            return;
        }
        let input = convert::customer_input(session, &command);
        self.apply_command(conn, &owner, command.id().to_owned(), command_hash(&command), input);
    }

    /// Applies a client's command once: a retry of an id already accepted is
    /// acknowledged as a duplicate and not applied again; a command the router
    /// refuses is answered with the rule's code.
    fn apply_command(&mut self, conn: ConnId, owner: &Owner, id: String, hash: u64, input: Option<Input>) {
        if self.stream_mut(owner).is_some_and(|s| s.was_accepted(&id, hash)) {
            return self.send(conn, ack_frame(id, true));
        }
        let result = match input {
            Some(input) => self.router.handle(self.now(), input),
            None => Ok(()),
        };
        match result {
            Ok(()) => {
                let keep = self.gateway.recent_command_ids;
                if let Some(s) = self.stream_mut(owner) {
                    s.remember(&id, hash, keep);
                }
                self.send(conn, ack_frame(id, false));
            }
            Err(e) => {
                self.metrics.protocol_error(e.code());
                debug!(conn, ?owner, code = e.code(), "command refused");
                self.send(conn, error_frame(Some(id), e.code(), e.to_string()));
            }
        }
    }

    /// The stream (numbering, replay, retry memory) of a connection's owner.
    fn stream_mut(&mut self, owner: &Owner) -> Option<&mut Stream> {
        match owner {
            Owner::Customer(session) => self.customers.get_mut(session).map(|c| &mut c.stream),
            Owner::Agent(agent) => self.agents.get_mut(agent),
        }
    }

    fn push_customer(&mut self, session: SessionId, mut message: ServerToCustomer) {
        let keep = self.gateway.replay_buffer;
        let Some(c) = self.customers.get_mut(&session) else { return };
        let position = matches!(message, ServerToCustomer::Queued { .. });
        let numbered = c.stream.number(message.seq_mut());
        if let Some((conn, f)) = c.stream.deliver(frame(&message), numbered, keep, position) {
            self.send(conn, f);
        }
    }

    // ---- agents ----

    fn agent_open(&mut self, conn: ConnHandle, agent: Option<String>, last_seq: Option<u64>) {
        let Some(agent) = agent.filter(|a| !a.is_empty()) else {
            return self.refuse(&conn, code::MISSING_AGENT, "give the agent id: /v1/ws/agent?agent=...");
        };
        let agent = AgentId::new(&agent);
        let Some(roster) = self.router.config().agents.iter().find(|a| a.id == agent) else {
            return self.refuse(&conn, RuleError::UnknownAgent(agent).code(), "no such agent in the roster");
        };
        let (name, role) = (roster.name.clone().unwrap_or_else(|| agent.to_string()), roster.role);
        let resumed = self.agents.contains_key(&agent);
        let stream = self.agents.entry(agent.clone()).or_default();
        let previous = stream.conn.replace(conn.id);
        if last_seq.is_none() {
            // A fresh start (not a resume): the client's ids start over too.
            stream.accepted.clear();
        }
        let last_seq_seen = stream.seq;
        let (complete, replay) = match last_seq {
            Some(last) => (stream.can_replay_from(last), stream.frames_after(last)),
            None => (true, Vec::new()),
        };
        if let Some(old) = previous {
            self.replace(old);
        }
        self.conns.insert(conn.id, Conn { handle: conn.clone(), owner: Owner::Agent(agent.clone()) });
        info!(conn = conn.id, agent = %agent, resumed, "agent connected");
        let rules = &self.router.config().rules;
        let (transfer_groups, transfer_agents) = convert::transfer_targets(self.router.config(), &agent);
        let welcome = ServerToAgent::Welcome {
            agent: agent.to_string(),
            name,
            role: convert::role_to_wire(role),
            resumed,
            last_seq: last_seq_seen,
            replay_complete: complete,
            now_ms: Some(self.now().0),
            scale: Some(ClockScale(self.clock.scale())),
            reply_warning_ms: Some(convert::ms(rules.reply_warning)),
            reply_violation_ms: Some(convert::ms(rules.reply_violation)),
            handoff_note_min_chars: Some(rules.handoff_note_min_chars as u64),
            transfer_groups,
            transfer_agents,
        };
        self.send_batch(conn.id, std::iter::once(frame(&welcome)).chain(replay).collect());
        if let Err(e) = self.router.handle(self.now(), Input::AgentConnected { agent: agent.clone() }) {
            warn!(agent = %agent, code = e.code(), "agent connect refused by the router");
            self.refuse(&conn, e.code(), &e.to_string());
            self.conns.remove(&conn.id);
            if let Some(s) = self.agents.get_mut(&agent) {
                s.conn = None;
            }
        }
    }

    fn agent_command(&mut self, conn: ConnId, command: AgentCommand) {
        let Some(Conn { owner: owner @ Owner::Agent(agent), .. }) = self.conns.get(&conn) else { return };
        let (owner, agent) = (owner.clone(), agent.clone());
        let id = command.id().to_owned();
        if let AgentCommand::Snapshot { .. } = command {
            return self.supervisor_snapshot(conn, &agent, id);
        }
        let input = convert::agent_input(&agent, &command);
        self.apply_command(conn, &owner, id, command_hash(&command), input);
    }

    /// A supervisor's `snapshot`: the answer, then the ack. Read-only, so never remembered as a retry.
    fn supervisor_snapshot(&mut self, conn: ConnId, agent: &AgentId, id: String) {
        if !self.supervisors.contains(agent) {
            self.metrics.protocol_error(code::SUPERVISORS_ONLY);
            let message = "the snapshot is for supervisors";
            return self.send(conn, error_frame(Some(id), code::SUPERVISORS_ONLY, message));
        }
        let snapshot = convert::snapshot_to_wire(id.clone(), &self.router, self.now());
        self.send(conn, frame(&snapshot));
        self.send(conn, ack_frame(id, false));
    }

    fn push_agent(&mut self, agent: &AgentId, message: &mut ServerToAgent) {
        let keep = self.gateway.replay_buffer;
        let Some(stream) = self.agents.get_mut(agent) else { return };
        let numbered = stream.number(message.seq_mut());
        if let Some((conn, f)) = stream.deliver(frame(&message), numbered, keep, false) {
            self.send(conn, f);
        }
    }

    // ---- connections ----

    /// The connection's reader ended.
    fn closed(&mut self, conn: ConnId) {
        if let Some(c) = self.conns.remove(&conn) {
            debug!(conn, "connection closed");
            self.disconnect(conn, c.owner);
        }
    }

    /// Tells the router that the owner's connection is gone (if it was the current one).
    fn disconnect(&mut self, conn: ConnId, owner: Owner) {
        let now = self.now();
        match owner {
            Owner::Customer(session) => {
                let Some(c) = self.customers.get_mut(&session) else { return };
                if c.stream.conn != Some(conn) {
                    return;
                }
                c.stream.conn = None;
                match self.router.session_open(session) {
                    None => return self.drop_stream_if_gone(session),
                    Some(false) => return,
                    Some(true) => {}
                }
                if let Err(e) = self.router.handle(now, Input::CustomerDisconnected { session }) {
                    debug!(session = session.0, code = e.code(), "customer disconnect not applied");
                }
            }
            Owner::Agent(agent) => {
                let Some(s) = self.agents.get_mut(&agent) else { return };
                if s.conn != Some(conn) {
                    return;
                }
                s.conn = None;
                info!(agent = %agent, "agent disconnected");
                if let Err(e) = self.router.handle(now, Input::AgentDisconnected { agent: agent.clone() }) {
                    debug!(agent = %agent, code = e.code(), "agent disconnect not applied");
                }
            }
        }
    }

    /// A newer connection took over: close the old one without telling the router anything.
    fn replace(&mut self, old: ConnId) {
        if let Some(c) = self.conns.remove(&old) {
            info!(conn = old, "connection replaced by a newer one");
            let error = error_frame(None, code::REPLACED, "a newer connection took over");
            close_after(&c.handle, error, close_code::POLICY_VIOLATION, code::REPLACED);
        }
    }

    /// Refuses a connection: an error frame, then close 1008 with the code as reason.
    fn refuse(&mut self, conn: &ConnHandle, error_code: &'static str, message: &str) {
        debug!(conn = conn.id, code = error_code, "connection refused");
        close_after(conn, error_frame(None, error_code, message), close_code::POLICY_VIOLATION, error_code);
    }

    /// Queues a frame for a connection; a full queue cuts the connection off.
    fn send(&mut self, conn: ConnId, f: Utf8Bytes) {
        self.queue(conn, Outbound::Frame(f));
    }

    /// Queues frames as one item (a welcome and its replay: a whole replay
    /// buffer must not overflow the queue of a connection that just opened).
    fn send_batch(&mut self, conn: ConnId, frames: Vec<Utf8Bytes>) {
        self.queue(conn, Outbound::Frames(frames));
    }

    fn queue(&mut self, conn: ConnId, item: Outbound) {
        let Some(c) = self.conns.get(&conn) else { return };
        match c.handle.outbox.try_send(item) {
            Ok(()) => {}
            Err(Refused::Closed) => {}
            Err(Refused::Full) => {
                let c = self.conns.remove(&conn).expect("looked up above");
                warn!(conn, "slow reader: outbound queue full, disconnecting");
                self.metrics.counter(crate::metrics::SLOW_CONSUMERS, &[]).increment(1);
                self.metrics.protocol_error(code::SLOW_CONSUMER);
                c.handle.kill();
                self.cut_off.push((conn, c.owner));
            }
        }
    }

    /// Routes every pending output, then handles connections cut off meanwhile; repeats until quiet.
    fn drain(&mut self, started: Instant) {
        loop {
            while let Some(output) = self.router.poll_output() {
                self.route(output);
            }
            if self.cut_off.is_empty() {
                break;
            }
            for (conn, owner) in std::mem::take(&mut self.cut_off) {
                self.disconnect(conn, owner);
            }
        }
        for _ in 0..std::mem::take(&mut self.assignments) {
            self.metrics.assignment_latency(started.elapsed());
        }
    }

    fn route(&mut self, output: Output) {
        match output {
            Output::ToCustomer { session, notice } => {
                let closed = matches!(notice, CustomerNotice::Closed { .. });
                self.push_customer(session, convert::customer_notice(notice));
                if closed {
                    debug!(session = session.0, "session closed");
                }
            }
            Output::ToAgent { agent, notice } => self.push_agent(&agent, &mut convert::agent_notice(notice)),
            Output::ToSupervisors { notice } => {
                let mut message = convert::supervisor_notice(&notice);
                let connected: Vec<AgentId> = self
                    .supervisors
                    .iter()
                    .filter(|s| self.agents.get(*s).is_some_and(|st| st.conn.is_some()))
                    .cloned()
                    .collect();
                for s in connected {
                    self.push_agent(&s, &mut message);
                }
            }
            Output::Event { event } => {
                match event {
                    Event::SessionAssigned { .. } => self.assignments += 1,
                    Event::SessionForgotten { session } => self.drop_stream_if_gone(session),
                    _ => {}
                }
                self.metrics.record_event(&event);
            }
        }
    }

    /// Gauges.
    fn housekeeping(&mut self) {
        let now = self.now();
        // Let due timers fire even if the wake-up raced with a new deadline.
        self.router.handle_timeout(now);
        self.drain(Instant::now());
        self.metrics.record_groups(&self.router.group_snapshots(now));
    }

    /// Drops a customer's stream (replay buffer, resume token) once the router
    /// has forgotten its session and the customer is no longer connected:
    /// called when the router forgets it and when the customer disconnects.
    fn drop_stream_if_gone(&mut self, session: SessionId) {
        let connected = self.customers.get(&session).is_some_and(|c| c.stream.conn.is_some());
        if connected || self.router.session_open(session).is_some() {
            return;
        }
        if let Some(c) = self.customers.remove(&session) {
            self.tokens.remove(&c.token);
        }
    }

    /// Tells every client that the server is going away: writers flush what is
    /// queued, send the close frame and end.
    fn shutdown(&mut self) {
        info!(connections = self.conns.len(), "shutting down: telling clients");
        for (_, c) in self.conns.drain() {
            // The same JSON on both endpoints.
            let f = frame(&ServerToCustomer::Shutdown { reason: "server shutting down".to_owned() });
            close_after(&c.handle, f, close_code::GOING_AWAY, code::SHUTTING_DOWN);
        }
    }
}

/// A last frame, then a close frame; a connection that cannot take both is killed instead.
fn close_after(conn: &ConnHandle, last: Utf8Bytes, code: u16, reason: &'static str) {
    let ok = conn.outbox.try_send(Outbound::Frame(last)).is_ok()
        && conn.outbox.try_send(Outbound::Close { code, reason }).is_ok();
    if !ok {
        conn.kill();
    }
}

/// An `error` frame; its JSON is the same on both endpoints.
pub(crate) fn error_frame(id: Option<String>, code: &str, message: impl Into<String>) -> Utf8Bytes {
    frame(&ServerToCustomer::Error { id, code: code.to_owned(), message: message.into() })
}

/// An `ack` frame; its JSON is the same on both endpoints.
fn ack_frame(id: String, duplicate: bool) -> Utf8Bytes {
    frame(&ServerToCustomer::Ack { id, duplicate })
}

fn frame<T: Serialize>(message: &T) -> Utf8Bytes {
    Utf8Bytes::from(encode(message))
}

fn command_hash<T: std::hash::Hash>(command: &T) -> u64 {
    use std::hash::Hasher;
    let mut h = std::collections::hash_map::DefaultHasher::new();
    command.hash(&mut h);
    h.finish()
}

/// A resume token: 128 random bits, hex.
fn new_token() -> String {
    let bits: u128 = rand::random();
    format!("{bits:032x}")
}

fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(86_400 * 365)
}
