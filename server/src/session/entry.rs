//! What the write-ahead log holds: one [`Entry`] per input that changes the
//! session layer or the router, applied by [`super::SessionLayer::apply`].
//!
//! Everything non-deterministic is decided before an entry is made
//! ([`super::SessionLayer::prepare`]): resume tokens are minted, wire
//! commands converted, connections looked up. Applying the same entries at
//! the same times to the same state therefore gives the same state and the
//! same outputs, which is what recovery (snapshot + replay) relies on.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::ConnId;
use switchboard_calendar::ClockAnchor;

use crate::content::Verdict;
use crate::router::input::{GroupHours, Input, Priority};
use crate::router::{AgentConfig, AgentId, GroupId, Rules, SessionId};
use crate::tickets::TicketEntry;

/// One logged input. Connection ids are those of the process that logged
/// it; [`Entry::Restarted`] ends them all.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Entry {
    /// A customer opens a new chat.
    CustomerJoin(Join),
    /// A customer's connection resumes a session (its token was checked).
    CustomerResume {
        conn: ConnId,
        session: SessionId,
        last_seq: u64,
    },
    CustomerCommand {
        conn: ConnId,
        command: Command,
    },
    /// An agent of the roster connects (`last_seq`: resuming, with the last `seq` seen).
    AgentOpen {
        conn: ConnId,
        agent: AgentId,
        last_seq: Option<u64>,
    },
    AgentCommand {
        conn: ConnId,
        command: Command,
    },
    /// A connection ended (client closed, network error, idle).
    Closed {
        conn: ConnId,
    },
    /// A connection's outbound queue was full: it was cut off.
    SlowConsumer {
        conn: ConnId,
    },
    /// Timers due at this time fire.
    Tick,
    /// The process started (again): every connection of a previous run is
    /// gone, and from here business time sits on the calendar where `clock`
    /// says (chosen at each start: docs/durability.md, "Business time on the
    /// calendar"), so that a replay maps business time as the live run did.
    Restarted {
        clock: ClockAnchor,
    },
    /// The rules or the session layer's limits changed at a restart or a reload.
    Configure {
        rules: Box<Rules>,
        session: SessionConfig,
    },
    /// The roster changed at a restart or a reload: the whole new list
    /// (the router matches agents by id).
    Roster {
        agents: Vec<AgentConfig>,
    },
    /// Groups opened or closed by their service hours (or their hours
    /// changed), as the driver read the calendar: only those that differ
    /// from what the router holds. Logged so that a replay sees the same
    /// opening and closing at the same business times.
    GroupHours {
        groups: Vec<(GroupId, GroupHours)>,
    },
    /// A change to the ticket desk (docs/tickets.md).
    Ticket(TicketEntry),
    /// An agent's chat reply that matched content rules (docs/content-rules.md),
    /// with the verdict: flagged, then sent unless a rule blocked it.
    CheckedReply {
        conn: ConnId,
        command: Command,
        verdict: Verdict,
    },
}

impl Entry {
    /// A short name for operators' tools and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Entry::CustomerJoin(_) => "customer_join",
            Entry::CustomerResume { .. } => "customer_resume",
            Entry::CustomerCommand { .. } => "customer_command",
            Entry::AgentOpen { .. } => "agent_open",
            Entry::AgentCommand { .. } => "agent_command",
            Entry::Closed { .. } => "closed",
            Entry::SlowConsumer { .. } => "slow_consumer",
            Entry::Tick => "tick",
            Entry::Restarted { .. } => "restarted",
            Entry::Configure { .. } => "configure",
            Entry::Roster { .. } => "roster",
            Entry::GroupHours { .. } => "group_hours",
            Entry::Ticket(_) => "ticket",
            Entry::CheckedReply { .. } => "checked_reply",
        }
    }
}

/// A customer opening a new chat, as session `session` (the next number).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Join {
    pub conn: ConnId,
    pub session: SessionId,
    pub token: Token,
    pub group: GroupId,
    pub customer_name: Option<Arc<str>>,
    /// The host site's id for a verified customer, checked before the entry
    /// was made (the log holds the outcome, never the hash or the secret, so a
    /// replay needs neither); `None`: unverified.
    pub customer_id: Option<Arc<str>>,
    pub priority: Priority,
    /// The customer's IANA time zone, checked before the entry was made: a
    /// closed group's next opening is also given in it.
    pub time_zone: Option<Box<str>>,
}

/// A client's command that may change state: its id (for retries), a
/// stable hash of the whole command (a reused id with another command is a
/// new command) and the router input it became.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Command {
    pub id: Box<str>,
    pub hash: u64,
    pub input: Input,
}

/// The session layer's limits, logged when they change so that a replay
/// keeps the buffers the live run kept.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionConfig {
    /// Numbered frames kept per stream for replay on resume.
    pub replay_buffer: usize,
    /// Accepted command ids remembered per stream.
    pub recent_command_ids: usize,
}

/// A customer's resume token: 128 random bits, hex. A secret: never printed.
/// Whoever holds it *is* the customer (it resumes the chat, history
/// included), so it must be unguessable: 128 bits from a CSPRNG (rand's
/// `ThreadRng`: ChaCha12 seeded and reseeded from the operating system).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Token(pub Box<str>);

impl Token {
    /// A fresh random token.
    pub fn mint() -> Token {
        let bits: u128 = rand::random();
        Token(format!("{bits:032x}").into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key of the session layer's token table.
    pub fn digest(&self) -> TokenDigest {
        TokenDigest::of(&self.0)
    }

    /// Is `presented` this token? In constant time for tokens of equal length
    /// (the length is no secret: every token has 32 characters).
    pub fn matches(&self, presented: &str) -> bool {
        self.0.as_bytes().ct_eq(presented.as_bytes()).into()
    }
}

/// SHA-256 of a resume token (or a ticket's token: the ticket desk logs
/// and saves only the digest).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TokenDigest([u8; 32]);

impl TokenDigest {
    pub fn of(token: &str) -> TokenDigest {
        TokenDigest(Sha256::digest(token.as_bytes()).into())
    }
}

/// A digest is as good as a token for a lookup: never printed either.
impl std::fmt::Debug for TokenDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenDigest(..)")
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(..)")
    }
}
