//! The customer side: `/v1/ws/customer`.

use serde::{Deserialize, Serialize};

use crate::attachment::Attachment;
use crate::common::{ClientId, CloseReason, EstimateBasis, GroupInfo, Priority, Rating, SessionId, SessionStatus};

/// Query parameters of `GET /v1/ws/customer`.
///
/// A new chat gives `group` (and optionally `name`); a resume gives `token`
/// (from the first `welcome`) and `last_seq` (the highest `seq` the client
/// has seen, 0 if none). `priority` counts only when the host site signed it
/// (`priority_hash`, for a verified customer); unsigned, it is ignored.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerConnectParams {
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub priority: Option<Priority>,
    #[serde(default)]
    pub token: Option<String>,
    #[serde(default)]
    pub last_seq: Option<u64>,
    /// A verified customer's id on the host site...
    #[serde(default)]
    pub identifier: Option<String>,
    /// ...and hex HMAC-SHA256 of it with the site's identity secret.
    #[serde(default)]
    pub identifier_hash: Option<String>,
    /// Hex HMAC-SHA256, with the same secret, of `identifier` + `"\n"` +
    /// `"priority="` + `priority`: the host site vouches for the priority.
    #[serde(default)]
    pub priority_hash: Option<String>,
    /// The customer's IANA time zone (`Intl.DateTimeFormat().resolvedOptions().timeZone`),
    /// so that a closed group's next opening is also given in their local time.
    #[serde(default)]
    pub time_zone: Option<String>,
}

/// What a customer sends. Every command has an `id` and is answered by one `ack` or `error`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CustomerCommand {
    /// A chat message to the agent (or, while waiting, kept for the agent who takes the session).
    Message {
        id: ClientId,
        text: String,
        /// A file uploaded before (`POST /v1/files`, docs/files.md); `text` may then be empty.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        attachment: Option<Attachment>,
    },
    /// The customer is typing (shown to the agent).
    Typing { id: ClientId },
    /// The answer to a `consent_request`.
    Consent { id: ClientId, accept: bool },
    /// The answer to a `resolve_request`.
    ConfirmResolved { id: ClientId, resolved: bool },
    /// Rate the session after it closed (`closed.can_rate` was true).
    Rate { id: ClientId, rating: Rating },
    /// End the chat.
    Leave { id: ClientId },
    /// Keep-alive / round-trip probe; always acked.
    Ping { id: ClientId },
}

impl CustomerCommand {
    /// Every `type` this endpoint accepts.
    pub const TYPES: &'static [&'static str] =
        &["message", "typing", "consent", "confirm_resolved", "rate", "leave", "ping"];

    pub fn id(&self) -> &str {
        match self {
            CustomerCommand::Message { id, .. }
            | CustomerCommand::Typing { id }
            | CustomerCommand::Consent { id, .. }
            | CustomerCommand::ConfirmResolved { id, .. }
            | CustomerCommand::Rate { id, .. }
            | CustomerCommand::Leave { id }
            | CustomerCommand::Ping { id } => id,
        }
    }
}

/// What the server sends to a customer.
///
/// `welcome`, `ack`, `error`, `shutdown` and `agent_typing` belong to the
/// connection and carry no `seq`; every other message belongs to the session
/// and carries `seq` (1, 2, 3... per session, kept across resumes).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerToCustomer {
    /// First message on every connection: the session and its resume token.
    Welcome {
        session: SessionId,
        /// Secret: resume with `?token=...&last_seq=...`. Never share or log it.
        token: String,
        group: String,
        /// True when this connection resumed an existing session.
        resumed: bool,
        /// The highest `seq` sent so far in this session (before this connection's replay).
        last_seq: u64,
        /// False when some messages after the client's `last_seq` are no longer
        /// kept: the client missed something and should rely on `status`.
        replay_complete: bool,
        #[serde(default)]
        status: Option<SessionStatus>,
    },
    /// The command with this `id` was accepted. `duplicate` is true when the
    /// same `id` was already accepted before (a retry after a resume): it was not applied twice.
    Ack {
        id: ClientId,
        #[serde(default)]
        duplicate: bool,
    },
    /// The command with this `id` (or, when `id` is null, the frame or connection) was refused.
    Error { id: Option<ClientId>, code: String, message: String },
    /// The group is closed (outside its service hours) and takes no new
    /// customers: nothing was queued; an `error` `group_closed` and a close
    /// follow. `opens_at`: unix milliseconds of the next opening (`null`:
    /// none known); `opens_at_local`: the same in the `time_zone` the
    /// customer gave (RFC 9557, `2026-11-30T09:00:00+08:00[Asia/Shanghai]`).
    GroupClosed {
        group: String,
        group_name: String,
        #[serde(default)]
        opens_at: Option<u64>,
        #[serde(default)]
        opens_at_local: Option<String>,
        #[serde(default)]
        service_hours: Option<String>,
    },
    /// The server is shutting down; the connection closes with 1001 next. Resume later.
    Shutdown { reason: String },
    /// Waiting in the queue: position 1 is next. `estimated_wait_ms` is
    /// `null` when nobody can serve now (`estimate_basis` `unknown`).
    Queued {
        seq: u64,
        group: String,
        position: u32,
        #[serde(default)]
        estimated_wait_ms: Option<u64>,
        #[serde(default)]
        estimate_basis: EstimateBasis,
    },
    /// Nobody can take the customer now: no agent of the group (or of its
    /// overflow groups) is connected and available.
    NoAgentOnline {
        seq: u64,
        group: String,
        #[serde(default)]
        service_hours: Option<String>,
    },
    /// The counterpart of `no_agent_online`: someone can take the customer again.
    AgentOnline { seq: u64, group: String },
    /// The customer waited the group's `overflow_after`: agents of these
    /// groups may now take the chat too.
    Overflowed { seq: u64, group: String, to_groups: Vec<GroupInfo> },
    /// An agent took the session (also after a transfer).
    Assigned { seq: u64, agent_name: String },
    /// A message from the agent.
    AgentMessage {
        seq: u64,
        agent_name: String,
        text: String,
        /// The file the agent sent (docs/files.md).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        attachment: Option<Attachment>,
    },
    /// The agent is typing (ephemeral: no `seq`, not replayed).
    AgentTyping {},
    /// The agent wants to move the chat to another skill group: answer with `consent`.
    ConsentRequest { seq: u64, to_group: String, to_group_name: String, timeout_ms: u64 },
    /// The agent asks whether the problem is resolved: answer with `confirm_resolved`.
    ResolveRequest { seq: u64 },
    /// The session ended. `can_rate`: a `rate` command is accepted now.
    Closed { seq: u64, reason: CloseReason, can_rate: bool },
    /// The agent turned the chat into a ticket to answer later: `token` (a
    /// secret, like the resume token) reads it and answers it over HTTP
    /// (`GET /v1/ticket`, docs/tickets.md).
    TicketCreated { seq: u64, ticket: u64, token: String },
}

impl ServerToCustomer {
    /// The message's `seq`, for messages that belong to the session; `None`
    /// for connection-level and ephemeral messages.
    pub fn seq_mut(&mut self) -> Option<&mut u64> {
        match self {
            ServerToCustomer::Queued { seq, .. }
            | ServerToCustomer::NoAgentOnline { seq, .. }
            | ServerToCustomer::AgentOnline { seq, .. }
            | ServerToCustomer::Overflowed { seq, .. }
            | ServerToCustomer::Assigned { seq, .. }
            | ServerToCustomer::AgentMessage { seq, .. }
            | ServerToCustomer::ConsentRequest { seq, .. }
            | ServerToCustomer::ResolveRequest { seq }
            | ServerToCustomer::Closed { seq, .. }
            | ServerToCustomer::TicketCreated { seq, .. } => Some(seq),
            ServerToCustomer::Welcome { .. }
            | ServerToCustomer::Ack { .. }
            | ServerToCustomer::Error { .. }
            | ServerToCustomer::Shutdown { .. }
            | ServerToCustomer::GroupClosed { .. }
            | ServerToCustomer::AgentTyping {} => None,
        }
    }
}
