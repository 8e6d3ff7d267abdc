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
//! Files: `prepare.rs` (before logging), `apply.rs` (the logged part),
//! `route.rs` (router outputs into streams), `stream.rs`, `entry.rs` (what
//! the log holds), `image.rs` (snapshots), `convert.rs` (router <-> wire).
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

mod apply;
pub mod convert;
pub mod entry;
mod image;
mod prepare;
mod route;
mod stream;
mod tickets;

use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};

use rustc_hash::{FxHashMap, FxHasher};
use serde::Serialize;
use switchboard_calendar::ClockAnchor;
use switchboard_protocol::agent::AgentCommand;
use switchboard_protocol::customer::{CustomerCommand, ServerToCustomer};
use switchboard_protocol::encode;

use crate::content::ContentRules;
pub use crate::gateway::identity::{CustomerIdentity, PriorityClaim};
use crate::router::config::Role;
use crate::router::output::{AgentState, CloseReason, Event, SessionView};
use crate::router::{AgentId, GroupId, Millis, Router, SessionId};
use crate::tickets::{DeskEvent, TicketDesk, TicketRefusal};
pub use entry::{Command, Entry, Join, SessionConfig, Token, TokenDigest};
use stream::Stream;
use switchboard_tickets::TicketId;

/// Identifies one WebSocket connection. Ids keep rising across restarts
/// ([`SessionLayer::last_conn`]), so a log never reuses one.
pub type ConnId = u64;

/// One encoded WebSocket text frame, reference-counted: the frame kept for
/// replay and the frame sent are one allocation.
pub type Frame = axum::extract::ws::Utf8Bytes;

/// How a customer connection starts.
pub enum CustomerOpen {
    New {
        group: Option<String>,
        name: Option<String>,
        priority: PriorityClaim,
        identity: CustomerIdentity,
        /// The IANA time zone the widget says the customer is in (checked in `prepare`).
        time_zone: Option<String>,
    },
    Resume {
        token: String,
        last_seq: u64,
    },
}

/// Never prints the resume token (a secret).
impl std::fmt::Debug for CustomerOpen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CustomerOpen::New { group, priority, identity, .. } => f
                .debug_struct("New")
                .field("group", group)
                .field("priority", priority)
                .field("verified", &matches!(identity, CustomerIdentity::Verified(_)))
                .finish_non_exhaustive(),
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
    /// Something the router reported (for the metrics and the records store).
    Event(Event),
    /// A session closed: what the records store keeps of it. Follows its
    /// `SessionClosed` event (boxed: the transcript is big next to the other actions).
    ChatClosed(Box<ClosedChat>),
    /// Something the ticket desk reported (for the metrics).
    Ticket(DeskEvent),
}

/// A closed session as the router still knew it when it closed: its
/// transcript, handoff notes and who closed it. The router forgets the
/// session after its rating window, so this is taken at the close.
#[derive(Debug, Clone)]
pub struct ClosedChat {
    pub view: SessionView,
    /// Who served it last.
    pub agent: Option<AgentId>,
    pub reason: CloseReason,
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
            Action::Refused { .. }
            | Action::SlowConsumer
            | Action::Event(_)
            | Action::ChatClosed(_)
            | Action::Ticket(_) => None,
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
#[derive(Clone)]
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
    // Keyed by SHA-256 of the token, not the token: a table lookup compares
    // keys with early-exit equality, and timing it could reveal how much of a
    // guessed key matched. Comparing digests leaks only digest prefixes, which
    // say nothing about the token; the stored token is then compared in
    // constant time ([`Token::matches`]). SipHash, not Fx: keys come from clients.
    tokens: HashMap<TokenDigest, SessionId>,
    agents: FxHashMap<AgentId, Stream>,
    supervisors: Vec<AgentId>,
    next_session: u64,
    last_conn: ConnId,
    /// Business time of the entry being applied.
    now: Millis,
    /// Where business time sits on the calendar since the last start
    /// ([`Entry::Restarted`]; none before the first).
    clock_anchor: Option<ClockAnchor>,
    /// Tickets: changed only by [`Entry::Ticket`], and following the
    /// router's agents on duty after every entry.
    desk: TicketDesk,
    /// Content rules for agents' replies: configuration, not state (a
    /// verdict is logged with the reply it concerns, so replays need none).
    content: ContentRules,
    /// Agents whose state the router reported changed while applying the
    /// current entry: the desk follows them once it is applied.
    duty_changes: Vec<(AgentId, AgentState)>,
    /// What the last [`Entry::Ticket`] came to, for the driver's answer.
    ticket_outcome: Option<Result<TicketId, TicketRefusal>>,
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
    /// Agents' replies are checked against `rules` from now on (at a start,
    /// and at a reload: configuration, not state).
    pub fn set_content_rules(&mut self, rules: ContentRules) {
        self.content = rules;
    }

    pub fn with_content_rules(mut self, rules: ContentRules) -> SessionLayer {
        self.set_content_rules(rules);
        self
    }

    /// The content rules in force.
    pub fn content_rules(&self) -> &ContentRules {
        &self.content
    }

    pub fn new(router: Router, config: SessionConfig, clock_scale: f64) -> SessionLayer {
        let supervisors = supervisors_of(&router);
        let desk = TicketDesk::new(&router);
        SessionLayer {
            desk,
            content: ContentRules::defaults(),
            duty_changes: Vec::new(),
            ticket_outcome: None,
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
            clock_anchor: None,
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

    /// Where business time sits on the calendar, as the last start logged it.
    pub fn clock_anchor(&self) -> Option<ClockAnchor> {
        self.clock_anchor
    }

    /// The highest connection id seen: a restarted process numbers its connections after it.
    pub fn last_conn(&self) -> ConnId {
        self.last_conn
    }

    /// The connections in the table (each speaks for a customer or an agent).
    pub fn connections(&self) -> impl Iterator<Item = ConnId> + '_ {
        self.conns.keys().copied()
    }

    /// When timers (the router's, the ticket desk's) are next due (then apply [`Entry::Tick`]).
    pub fn poll_timeout(&self) -> Option<Millis> {
        let desk = self.desk.poll_timeout(self.clock());
        match (self.router.poll_timeout(), desk) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The next action, in the order produced.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
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
    router.roster().filter(|a| a.role == Role::Supervisor).map(|a| a.id.clone()).collect()
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
