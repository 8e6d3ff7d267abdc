//! What the input log holds for the ticket desk: one [`TicketEntry`] per
//! change, inside `Entry::Ticket`. Checked by the driver before it is
//! logged (tokens, who may see what); the core's own rules are checked when
//! it is applied, the same way on every replay.

use serde::{Deserialize, Serialize};
use switchboard_tickets::{Priority, TicketId, TicketState};

use crate::config::TicketsConfig;
use crate::content::Verdict;
use crate::router::{AgentId, GroupId, SessionId};
use crate::session::{Token, TokenDigest};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum TicketEntry {
    /// The `[tickets]` config and ticket capacities changed (a start or a reload).
    Configure(Box<TicketsConfig>),
    /// A customer leaves a message; `customer` is the digest of the ticket's
    /// token (the token itself is never logged).
    Create(NewTicket),
    /// The agent serving a chat turns it into a ticket.
    FromChat(FromChat),
    CustomerMessage {
        ticket: TicketId,
        text: String,
    },
    CustomerConfirm {
        ticket: TicketId,
    },
    CustomerClose {
        ticket: TicketId,
    },
    AgentReply {
        ticket: TicketId,
        agent: AgentId,
        reply: AgentReply,
    },
    Transfer {
        ticket: TicketId,
        from: AgentId,
        to: AgentId,
        note: String,
    },
    SetPriority {
        ticket: TicketId,
        priority: Priority,
    },
}

impl TicketEntry {
    /// A short name for operators' tools.
    pub fn kind(&self) -> &'static str {
        match self {
            TicketEntry::Configure(_) => "configure",
            TicketEntry::Create(_) => "create",
            TicketEntry::FromChat(_) => "from_chat",
            TicketEntry::CustomerMessage { .. } => "customer_message",
            TicketEntry::CustomerConfirm { .. } => "customer_confirm",
            TicketEntry::CustomerClose { .. } => "customer_close",
            TicketEntry::AgentReply { .. } => "agent_reply",
            TicketEntry::Transfer { .. } => "transfer",
            TicketEntry::SetPriority { .. } => "set_priority",
        }
    }
}

/// A chat turned into a ticket by the agent serving `session`. The
/// customer is sent `token` in the chat (so it is logged, like a chat's
/// resume token); the desk keeps only its digest.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FromChat {
    pub agent: AgentId,
    pub session: SessionId,
    pub note: String,
    pub token: Token,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NewTicket {
    pub group: GroupId,
    pub text: String,
    pub customer_name: Option<String>,
    pub reason: LeftBecause,
    pub customer: TokenDigest,
}

/// Why a customer left a message (the widget says which).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeftBecause {
    GroupClosed,
    NobodyAvailable,
    CustomerChoice,
}

/// An agent's reply: its text, the state it leaves the ticket in and,
/// optionally, when the problem should be solved (calendar unix ms).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AgentReply {
    pub text: String,
    pub state: TicketState,
    pub expected_resolution: Option<i64>,
    /// What the content rules found in `text` (docs/content-rules.md),
    /// decided before logging: a replay flags and blocks the same.
    pub content: Verdict,
}
