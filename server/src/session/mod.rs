//! The session layer: everything between the sockets and the router core
//! that makes a chat survive reconnects, as a plain state machine.
//!
//! Sans-IO, like the core it owns: it takes requests from connections and
//! emits [`Action`]s (send a frame, close or cut off a connection, count a
//! metric) for the driver to carry out. It keeps, for every customer session
//! and every agent, a stream ([`stream`]): `seq` numbering, a bounded replay
//! buffer and the ids of recently accepted commands; and the connection
//! table (which connection speaks for whom).
//!
//! Two steps per request, so that state can be made durable:
//! [`SessionLayer::prepare`] answers what changes nothing (pings, retries,
//! refusals, a supervisor's snapshot) and turns the rest into an [`Entry`],
//! deciding everything that is not deterministic (resume tokens); the driver
//! logs the entry and then [`SessionLayer::apply`]s it. Applying the same
//! entries at the same times gives the same state and the same actions, so
//! a restart replays the log and carries on.
//!
//! Invariants:
//! - a stream's `seq` increases by one per session-level message and never repeats;
//! - a connection receives its stream's frames in `seq` order, without gaps
//!   (replay first, then live), unless the replay buffer overflowed, which the
//!   `welcome` says (`replay_complete: false`);
//! - every command gets exactly one `ack` or `error`, in frame order; a retry
//!   (same id, same command) is acknowledged as a duplicate, never applied twice;
//! - a connection whose outbound queue is full is cut off
//!   ([`Entry::SlowConsumer`]) and its owner follows the normal disconnect
//!   rules; nobody else waits.

pub mod convert;
pub mod entry;
mod image;
mod stream;

use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHasher};
use serde::Serialize;
use switchboard_protocol::agent::{AgentCommand, ServerToAgent};
use switchboard_protocol::common::ClockScale;
use switchboard_protocol::customer::{CustomerCommand, ServerToCustomer};
use switchboard_protocol::{close_code, code, encode};
use tracing::{debug, info, warn};

use crate::router::config::Role;
use crate::router::input::{Input, Priority};
use crate::router::output::{CustomerNotice, Event, Output};
use crate::router::{AgentId, GroupId, Millis, Router, RuleError, SessionId};
pub use entry::{Command, Entry, Join, SessionConfig, Token};
use stream::{Kept, Stream};

/// Identifies one WebSocket connection. Ids keep rising across restarts
/// ([`SessionLayer::last_conn`]), so a log never reuses one.
pub type ConnId = u64;

/// One encoded WebSocket text frame, reference-counted: the frame kept for
/// replay and the frame sent are one allocation.
pub type Frame = axum::extract::ws::Utf8Bytes;

/// Longest customer name kept (longer names are cut).
const MAX_NAME_CHARS: usize = 100;

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

/// What a connection asks of the session layer.
#[derive(Debug)]
pub enum Request {
    CustomerOpen {
        conn: ConnId,
        open: CustomerOpen,
    },
    CustomerCommand {
        conn: ConnId,
        command: CustomerCommand,
    },
    AgentOpen {
        conn: ConnId,
        agent: Option<String>,
        last_seq: Option<u64>,
    },
    AgentCommand {
        conn: ConnId,
        command: AgentCommand,
    },
    /// A frame the reader could not decode: answered here so that replies keep the order of the frames.
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
    /// The connection's outbound queue was full when the driver sent to it.
    SlowConsumer {
        conn: ConnId,
    },
}

/// What the driver must do.
#[derive(Debug)]
pub enum Action {
    Send {
        conn: ConnId,
        frame: Frame,
    },
    /// A frame that depends on no state (a ping's ack, a frame error): it
    /// need not wait for the log, only for earlier frames of its connection.
    Answer {
        conn: ConnId,
        frame: Frame,
    },
    /// Several frames in order, taking one place in the outbound queue (a
    /// welcome and its replay: a whole replay buffer must not overflow the
    /// queue of a connection that just opened).
    SendBatch {
        conn: ConnId,
        frames: Vec<Frame>,
    },
    /// Send `last`, then a close frame with `code` and `reason`; the
    /// connection is no longer in the table.
    Close {
        conn: ConnId,
        last: Frame,
        code: u16,
        reason: &'static str,
    },
    /// Stop the connection at once (slow reader); no longer in the table.
    Kill {
        conn: ConnId,
    },
    /// A request was refused with this error code (for the metrics).
    Refused {
        code: &'static str,
    },
    /// A slow reader was cut off (for the metrics).
    SlowConsumer,
    /// Something the router reported (for the metrics).
    Event(Event),
}

impl Action {
    /// The connection it is for, if any.
    pub fn conn(&self) -> Option<ConnId> {
        match self {
            Action::Send { conn, .. }
            | Action::Answer { conn, .. }
            | Action::SendBatch { conn, .. }
            | Action::Close { conn, .. }
            | Action::Kill { conn } => Some(*conn),
            Action::Refused { .. } | Action::SlowConsumer | Action::Event(_) => None,
        }
    }
}

/// Who a connection speaks for.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
enum Owner {
    Customer(SessionId),
    Agent(AgentId),
}

/// A customer session's stream and resume token: deliberately not `Debug`.
struct CustomerStream {
    stream: Stream,
    token: Token,
    group: GroupId,
}

/// See the module docs.
pub struct SessionLayer {
    router: Router,
    config: SessionConfig,
    /// Business seconds per real second, told to agents in `welcome`.
    clock_scale: f64,
    conns: FxHashMap<ConnId, Owner>,
    customers: FxHashMap<SessionId, CustomerStream>,
    // Resume tokens come from clients: SipHash, not Fx.
    tokens: HashMap<Token, SessionId>,
    agents: FxHashMap<AgentId, Stream>,
    supervisors: Vec<AgentId>,
    next_session: u64,
    last_conn: ConnId,
    /// Business time of the entry being applied.
    now: Millis,
    actions: VecDeque<Action>,
}

/// Counts only: the streams hold resume tokens.
impl std::fmt::Debug for SessionLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionLayer")
            .field("connections", &self.conns.len())
            .field("customer_streams", &self.customers.len())
            .field("agent_streams", &self.agents.len())
            .finish_non_exhaustive()
    }
}

impl SessionLayer {
    pub fn new(router: Router, config: SessionConfig, clock_scale: f64) -> SessionLayer {
        let supervisors = supervisors_of(&router);
        SessionLayer {
            router,
            config,
            clock_scale,
            conns: FxHashMap::default(),
            customers: FxHashMap::default(),
            tokens: HashMap::new(),
            agents: FxHashMap::default(),
            supervisors,
            next_session: 1,
            last_conn: 0,
            now: Millis::ZERO,
            actions: VecDeque::new(),
        }
    }

    pub fn router(&self) -> &Router {
        &self.router
    }

    /// The limits in force (changed only by [`Entry::Configure`]).
    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    /// The highest connection id seen: a restarted process numbers its connections after it.
    pub fn last_conn(&self) -> ConnId {
        self.last_conn
    }

    /// The connections in the table (each speaks for a customer or an agent).
    pub fn connections(&self) -> impl Iterator<Item = ConnId> + '_ {
        self.conns.keys().copied()
    }

    /// When timers are next due (then apply [`Entry::Tick`]).
    pub fn poll_timeout(&self) -> Option<Millis> {
        self.router.poll_timeout()
    }

    /// The next action, in the order produced.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    // ---- prepare: answer what changes nothing, turn the rest into an entry ----

    /// Answers a request that changes no state (its actions are queued) or
    /// returns the entry to log and [`SessionLayer::apply`].
    pub fn prepare(&mut self, now: Millis, request: Request) -> Option<Entry> {
        match request {
            Request::CustomerOpen { conn, open } => self.prepare_customer_open(conn, open),
            Request::CustomerCommand { conn, command } => self.prepare_customer_command(conn, command),
            Request::AgentOpen { conn, agent, last_seq } => self.prepare_agent_open(conn, agent, last_seq),
            Request::AgentCommand { conn, command } => self.prepare_agent_command(now, conn, command),
            Request::FrameError { conn, id, code, message } => {
                self.answer(conn, error_frame(id, code, message));
                None
            }
            Request::Closed { conn } => self.conns.contains_key(&conn).then_some(Entry::Closed { conn }),
            Request::SlowConsumer { conn } => self.conns.contains_key(&conn).then_some(Entry::SlowConsumer { conn }),
        }
    }

    /// Refuses what an entry asked for instead of applying it, with `code`;
    /// hands the entry back if it cannot be refused (a connection that
    /// closed, timers, a restart: those happen whatever the log does).
    pub fn refuse_entry(&mut self, entry: Entry, error_code: &'static str, message: &str) -> Option<Entry> {
        match entry {
            Entry::CustomerJoin(Join { conn, .. })
            | Entry::CustomerResume { conn, .. }
            | Entry::AgentOpen { conn, .. } => {
                self.actions.push_back(Action::Refused { code: error_code });
                let last = error_frame(None, error_code, message);
                let code = close_code::TRY_AGAIN_LATER;
                self.actions.push_back(Action::Close { conn, last, code, reason: error_code });
                None
            }
            Entry::CustomerCommand { conn, command } | Entry::AgentCommand { conn, command } => {
                self.refuse_command(conn, &command.id, error_code, message);
                None
            }
            entry @ (Entry::Closed { .. }
            | Entry::SlowConsumer { .. }
            | Entry::Tick
            | Entry::Restarted
            | Entry::Configure { .. }) => Some(entry),
        }
    }

    fn refuse_command(&mut self, conn: ConnId, id: &str, error_code: &'static str, message: &str) {
        self.actions.push_back(Action::Refused { code: error_code });
        self.send(conn, error_frame(Some(id.to_owned()), error_code, message));
    }

    fn prepare_customer_open(&mut self, conn: ConnId, open: CustomerOpen) -> Option<Entry> {
        match open {
            CustomerOpen::New { group, name, priority } => {
                let Some(group) = group.filter(|g| !g.is_empty()) else {
                    self.refuse_open(conn, code::MISSING_GROUP, "give the skill group: /v1/ws/customer?group=...");
                    return None;
                };
                let customer_name = name
                    .map(|n| n.trim().chars().take(MAX_NAME_CHARS).collect::<String>())
                    .filter(|n| !n.is_empty())
                    .map(|n| Arc::from(n.as_str()));
                let (group, session, token) = (GroupId::new(&group), SessionId(self.next_session), Token::mint());
                Some(Entry::CustomerJoin(Join { conn, session, token, group, customer_name, priority }))
            }
            CustomerOpen::Resume { token, last_seq } => match self.tokens.get(&Token(token.into())) {
                Some(&session) => Some(Entry::CustomerResume { conn, session, last_seq }),
                None => {
                    self.refuse_open(conn, code::INVALID_TOKEN, "unknown resume token, or the session is gone");
                    None
                }
            },
        }
    }

    fn prepare_customer_command(&mut self, conn: ConnId, command: CustomerCommand) -> Option<Entry> {
        let Some(&Owner::Customer(session)) = self.conns.get(&conn) else { return None };
        let stream = &self.customers.get(&session)?.stream;
        let (id, hash) = (command.id(), stable_hash(&command));
        let Some(input) = convert::customer_input(session, &command) else {
            // A ping changes nothing: acknowledged, not remembered.
            self.answer(conn, ack_frame(id.to_owned(), false));
            return None;
        };
        if stream.was_accepted(id, hash) {
            self.send(conn, ack_frame(id.to_owned(), true));
            return None;
        }
        Some(Entry::CustomerCommand { conn, command: Command { id: id.into(), hash, input } })
    }

    fn prepare_agent_open(&mut self, conn: ConnId, agent: Option<String>, last_seq: Option<u64>) -> Option<Entry> {
        let Some(agent) = agent.filter(|a| !a.is_empty()) else {
            self.refuse_open(conn, code::MISSING_AGENT, "give the agent id: /v1/ws/agent?agent=...");
            return None;
        };
        let agent = AgentId::new(&agent);
        if !self.router.config().agents.iter().any(|a| a.id == agent) {
            self.refuse_open(conn, RuleError::UnknownAgent(agent).code(), "no such agent in the roster");
            return None;
        }
        Some(Entry::AgentOpen { conn, agent, last_seq })
    }

    fn prepare_agent_command(&mut self, now: Millis, conn: ConnId, command: AgentCommand) -> Option<Entry> {
        let Some(Owner::Agent(agent)) = self.conns.get(&conn) else { return None };
        let agent = agent.clone();
        let (id, hash) = (command.id(), stable_hash(&command));
        if let AgentCommand::Snapshot { .. } = command {
            self.supervisor_snapshot(now, conn, &agent, id.to_owned());
            return None;
        }
        let Some(input) = convert::agent_input(&agent, &command) else {
            self.answer(conn, ack_frame(id.to_owned(), false));
            return None;
        };
        if self.agents.get(&agent).is_some_and(|s| s.was_accepted(id, hash)) {
            self.send(conn, ack_frame(id.to_owned(), true));
            return None;
        }
        Some(Entry::AgentCommand { conn, command: Command { id: id.into(), hash, input } })
    }

    /// A supervisor's `snapshot`: the answer, then the ack. Read-only, so never remembered as a retry.
    fn supervisor_snapshot(&mut self, now: Millis, conn: ConnId, agent: &AgentId, id: String) {
        if !self.supervisors.contains(agent) {
            self.actions.push_back(Action::Refused { code: code::SUPERVISORS_ONLY });
            let message = "the snapshot is for supervisors";
            return self.send(conn, error_frame(Some(id), code::SUPERVISORS_ONLY, message));
        }
        let snapshot = convert::snapshot_to_wire(id.clone(), &self.router, now.max(self.router.now()));
        self.send(conn, frame(&snapshot));
        self.send(conn, ack_frame(id, false));
    }

    /// Refuses a connection: an error frame, then close 1008 with the code as reason.
    fn refuse_open(&mut self, conn: ConnId, error_code: &'static str, message: &str) {
        debug!(conn, code = error_code, "connection refused");
        self.actions.push_back(Action::Close {
            conn,
            last: error_frame(None, error_code, message),
            code: close_code::POLICY_VIOLATION,
            reason: error_code,
        });
    }

    // ---- apply: the deterministic part, replayed from the log ----

    /// Applies a logged entry at business time `now`.
    pub fn apply(&mut self, now: Millis, entry: Entry) {
        self.now = now;
        match entry {
            Entry::CustomerJoin(join) => {
                self.see_conn(join.conn);
                self.customer_join(join);
            }
            Entry::CustomerResume { conn, session, last_seq } => {
                self.see_conn(conn);
                self.customer_resume(conn, session, last_seq);
            }
            Entry::CustomerCommand { conn, command } | Entry::AgentCommand { conn, command } => {
                self.apply_command(conn, command);
            }
            Entry::AgentOpen { conn, agent, last_seq } => {
                self.see_conn(conn);
                self.agent_open(conn, agent, last_seq);
            }
            Entry::Closed { conn } => self.closed(conn),
            Entry::SlowConsumer { conn } => self.slow_consumer(conn),
            Entry::Tick => self.router.handle_timeout(now),
            Entry::Restarted => self.restarted(),
            Entry::Configure { rules, session } => self.configure(*rules, session),
        }
        self.route_outputs();
    }

    fn see_conn(&mut self, conn: ConnId) {
        self.last_conn = self.last_conn.max(conn);
    }

    fn customer_join(&mut self, join: Join) {
        let Join { conn, session, token, group, customer_name, priority } = join;
        self.next_session = self.next_session.max(session.0 + 1);
        let input = Input::CustomerJoin { session, group: group.clone(), priority, customer_name };
        if let Err(e) = self.router.handle(self.now, input) {
            self.actions.push_back(Action::Refused { code: e.code() });
            return self.refuse_open(conn, e.code(), &e.to_string());
        }
        self.tokens.insert(token.clone(), session);
        self.customers.insert(session, CustomerStream { stream: Stream::connected_to(conn), token, group });
        self.conns.insert(conn, Owner::Customer(session));
        debug!(conn, session = session.0, "customer joined");
        let welcome = self.customer_welcome(session, Resumed::No, true);
        self.send(conn, frame(&welcome));
    }

    fn customer_resume(&mut self, conn: ConnId, session: SessionId, last_seq: u64) {
        let Some(c) = self.customers.get_mut(&session) else { return };
        let previous = c.stream.conn.replace(conn);
        let complete = c.stream.can_replay_from(last_seq);
        let replay = c.stream.frames_after(last_seq);
        if let Some(old) = previous {
            self.replace(old);
        }
        self.conns.insert(conn, Owner::Customer(session));
        debug!(conn, session = session.0, last_seq, replayed = replay.len(), "customer resumed");
        let welcome = self.customer_welcome(session, Resumed::Yes, complete);
        let frames = std::iter::once(frame(&welcome)).chain(replay).collect();
        self.actions.push_back(Action::SendBatch { conn, frames });
        if previous.is_none() && self.router.session_open(session) == Some(true) {
            if let Err(e) = self.router.handle(self.now, Input::CustomerReconnected { session }) {
                debug!(session = session.0, code = e.code(), "reconnect not applied");
            }
        }
    }

    fn customer_welcome(&self, session: SessionId, resumed: Resumed, replay_complete: bool) -> ServerToCustomer {
        let c = &self.customers[&session];
        ServerToCustomer::Welcome {
            session: session.0,
            token: c.token.as_str().to_owned(),
            group: c.group.to_string(),
            resumed: resumed == Resumed::Yes,
            last_seq: c.stream.seq,
            replay_complete,
            status: self.router.session_status(session).as_ref().map(convert::status_to_wire),
        }
    }

    fn agent_open(&mut self, conn: ConnId, agent: AgentId, last_seq: Option<u64>) {
        let Some(roster) = self.router.config().agents.iter().find(|a| a.id == agent) else { return };
        let (name, role) = (roster.name.clone().unwrap_or_else(|| agent.to_string()), roster.role);
        let resumed = self.agents.contains_key(&agent);
        let stream = self.agents.entry(agent.clone()).or_default();
        let previous = stream.conn.replace(conn);
        if last_seq.is_none() {
            stream.forget_accepted();
        }
        let last_seq_seen = stream.seq;
        let (complete, replay) = match last_seq {
            Some(last) => (stream.can_replay_from(last), stream.frames_after(last)),
            None => (true, Vec::new()),
        };
        if let Some(old) = previous {
            self.replace(old);
        }
        self.conns.insert(conn, Owner::Agent(agent.clone()));
        info!(conn, agent = %agent, resumed, "agent connected");
        let rules = &self.router.config().rules;
        let (transfer_groups, transfer_agents) = convert::transfer_targets(self.router.config(), &agent);
        let welcome = ServerToAgent::Welcome {
            agent: agent.to_string(),
            name,
            role: convert::role_to_wire(role),
            resumed,
            last_seq: last_seq_seen,
            replay_complete: complete,
            now_ms: Some(self.now.0),
            scale: Some(ClockScale(self.clock_scale)),
            reply_warning_ms: Some(convert::ms(rules.reply_warning)),
            reply_violation_ms: Some(convert::ms(rules.reply_violation)),
            handoff_note_min_chars: Some(rules.handoff_note_min_chars as u64),
            transfer_groups,
            transfer_agents,
        };
        let frames = std::iter::once(frame(&welcome)).chain(replay).collect();
        self.actions.push_back(Action::SendBatch { conn, frames });
        if let Err(e) = self.router.handle(self.now, Input::AgentConnected { agent: agent.clone() }) {
            warn!(agent = %agent, code = e.code(), "agent connect refused by the router");
            self.refuse_open(conn, e.code(), &e.to_string());
            self.conns.remove(&conn);
            if let Some(s) = self.agents.get_mut(&agent) {
                s.conn = None;
            }
        }
    }

    /// Applies a client's command once: a command the router refuses is
    /// answered with the rule's code; an accepted one is remembered, so that
    /// a retry is acknowledged as a duplicate.
    fn apply_command(&mut self, conn: ConnId, command: Command) {
        let Some(owner) = self.conns.get(&conn).cloned() else { return };
        let Command { id, hash, input } = command;
        match self.router.handle(self.now, input) {
            Ok(()) => {
                let keep = self.config.recent_command_ids;
                if let Some(s) = self.stream_mut(&owner) {
                    s.remember(&id, hash, keep);
                }
                self.send(conn, ack_frame(id.into(), false));
            }
            Err(e) => {
                self.actions.push_back(Action::Refused { code: e.code() });
                debug!(conn, ?owner, code = e.code(), "command refused");
                self.send(conn, error_frame(Some(id.into()), e.code(), e.to_string()));
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

    /// The connection's reader ended.
    fn closed(&mut self, conn: ConnId) {
        if let Some(owner) = self.conns.remove(&conn) {
            debug!(conn, "connection closed");
            self.disconnect(conn, owner);
        }
    }

    /// A full outbound queue means a slow reader: cut it off; its owner follows the normal disconnect rules.
    fn slow_consumer(&mut self, conn: ConnId) {
        let Some(owner) = self.conns.remove(&conn) else { return };
        warn!(conn, "slow reader: outbound queue full, disconnecting");
        self.actions.push_back(Action::SlowConsumer);
        self.actions.push_back(Action::Refused { code: code::SLOW_CONSUMER });
        self.actions.push_back(Action::Kill { conn });
        self.disconnect(conn, owner);
    }

    /// Every connection of the previous run is gone: their owners follow the
    /// normal disconnect rules (grace periods, resume).
    fn restarted(&mut self) {
        let mut gone: Vec<(ConnId, Owner)> = self.conns.drain().collect();
        // In connection order: the router sees the same sequence on every replay.
        gone.sort_unstable_by_key(|(conn, _)| *conn);
        info!(connections = gone.len(), "previous connections gone: waiting for clients to resume");
        for (conn, owner) in gone {
            self.disconnect(conn, owner);
        }
    }

    /// The rules were validated with the config they came in; a log whose
    /// rules no longer validate (written by another release) keeps the old ones.
    fn configure(&mut self, rules: crate::router::Rules, session: SessionConfig) {
        if let Err(e) = self.router.set_rules(rules) {
            warn!(key = %e.key, problem = %e.problem, "logged rules refused: keeping the rules in force");
        }
        self.config = session;
    }

    /// Tells the router that the owner's connection is gone (if it was the current one).
    fn disconnect(&mut self, conn: ConnId, owner: Owner) {
        let now = self.now;
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
        if self.conns.remove(&old).is_some() {
            info!(conn = old, "connection replaced by a newer one");
            let last = error_frame(None, code::REPLACED, "a newer connection took over");
            let (code, reason) = (close_code::POLICY_VIOLATION, code::REPLACED);
            self.actions.push_back(Action::Close { conn: old, last, code, reason });
        }
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

    // ---- router outputs to streams ----

    fn route_outputs(&mut self) {
        while let Some(output) = self.router.poll_output() {
            self.route(output);
        }
    }

    fn route(&mut self, output: Output) {
        match output {
            Output::ToCustomer { session, notice } => {
                if matches!(notice, CustomerNotice::Closed { .. }) {
                    debug!(session = session.0, "session closed");
                }
                self.push_customer(session, convert::customer_notice(notice));
            }
            Output::ToAgent { agent, notice } => self.push_agent(&agent, &mut convert::agent_notice(notice)),
            Output::ToSupervisors { notice } => {
                let mut message = convert::supervisor_notice(&notice);
                for i in 0..self.supervisors.len() {
                    let s = self.supervisors[i].clone();
                    if self.agents.get(&s).is_some_and(|st| st.conn.is_some()) {
                        self.push_agent(&s, &mut message);
                    }
                }
            }
            Output::Event { event } => {
                if let Event::SessionForgotten { session } = event {
                    self.drop_stream_if_gone(session);
                }
                self.actions.push_back(Action::Event(event));
            }
        }
    }

    fn push_customer(&mut self, session: SessionId, mut message: ServerToCustomer) {
        let keep = self.config.replay_buffer;
        let Some(c) = self.customers.get_mut(&session) else { return };
        let kept = if matches!(message, ServerToCustomer::Queued { .. }) { Kept::Position } else { Kept::Plain };
        let numbered = c.stream.number(message.seq_mut());
        let f = frame(&message);
        if numbered {
            c.stream.keep_for_replay(f.clone(), keep, kept);
        }
        if let Some(conn) = c.stream.conn {
            self.actions.push_back(Action::Send { conn, frame: f });
        }
    }

    fn push_agent(&mut self, agent: &AgentId, message: &mut ServerToAgent) {
        let keep = self.config.replay_buffer;
        let Some(stream) = self.agents.get_mut(agent) else { return };
        let numbered = stream.number(message.seq_mut());
        let f = frame(&message);
        if numbered {
            stream.keep_for_replay(f.clone(), keep, Kept::Plain);
        }
        if let Some(conn) = stream.conn {
            self.actions.push_back(Action::Send { conn, frame: f });
        }
    }

    fn send(&mut self, conn: ConnId, frame: Frame) {
        self.actions.push_back(Action::Send { conn, frame });
    }

    fn answer(&mut self, conn: ConnId, frame: Frame) {
        self.actions.push_back(Action::Answer { conn, frame });
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Resumed {
    Yes,
    No,
}

fn supervisors_of(router: &Router) -> Vec<AgentId> {
    router.config().agents.iter().filter(|a| a.role == Role::Supervisor).map(|a| a.id.clone()).collect()
}

/// An `error` frame; its JSON is the same on both endpoints.
pub fn error_frame(id: Option<String>, code: &str, message: impl Into<String>) -> Frame {
    frame(&ServerToCustomer::Error { id, code: code.to_owned(), message: message.into() })
}

/// An `ack` frame; its JSON is the same on both endpoints.
fn ack_frame(id: String, duplicate: bool) -> Frame {
    frame(&ServerToCustomer::Ack { id, duplicate })
}

/// The `shutdown` frame; the same JSON on both endpoints.
pub fn shutdown_frame() -> Frame {
    frame(&ServerToCustomer::Shutdown { reason: "server shutting down".to_owned() })
}

fn frame<T: Serialize>(message: &T) -> Frame {
    Frame::from(encode(message))
}

/// A hash of a command that is the same in every process (Fx has no random
/// seed), so that the retry memory kept in snapshots still recognises a
/// retry after a restart.
fn stable_hash<T: Hash>(command: &T) -> u64 {
    let mut h = FxHasher::default();
    command.hash(&mut h);
    h.finish()
}

#[cfg(test)]
mod tests;
