//! Switchboard's wire protocol, version 1: the only crate that knows the wire format.
//!
//! Customers and agents talk to the server over WebSockets with JSON text frames.
//! Every frame is one JSON object with a `type` field (snake_case). Clients send
//! commands ([`customer::CustomerCommand`], [`agent::AgentCommand`]); every command
//! carries a client-chosen `id` and is answered by exactly one `ack` or `error`
//! with that `id`. The server sends messages ([`customer::ServerToCustomer`],
//! [`agent::ServerToAgent`]); those that belong to a customer's session or an
//! agent's stream carry a `seq` (1, 2, 3... per stream) so that a client can
//! resume after a reconnect without losing or duplicating anything.
//!
//! `docs/protocol.md` at the repository root is the full reference with an example
//! of every message; this crate's tests check that every example there decodes.
//!
//! The server converts between these types and the router core's own types;
//! nothing else in the workspace derives serde for the wire.

pub mod agent;
pub mod attachment;
pub mod common;
pub mod customer;
pub mod decode;

pub use decode::{decode_agent_command, decode_customer_command, encode, DecodeError};

/// The protocol version, the first segment of every endpoint path.
pub const VERSION: &str = "v1";
/// The customer WebSocket endpoint (query: `group`, `name`, `identifier` + `identifier_hash`,
/// `priority` + `priority_hash`, or `token` + `last_seq` to resume).
pub const CUSTOMER_WS_PATH: &str = "/v1/ws/customer";
/// The agent WebSocket endpoint (query: `agent`, optional `token`, optional `last_seq`).
pub const AGENT_WS_PATH: &str = "/v1/ws/agent";
/// Liveness: 200 while the process runs.
pub const HEALTHZ_PATH: &str = "/healthz";
/// Readiness: 200 while the server accepts connections, 503 while shutting down.
pub const READYZ_PATH: &str = "/readyz";

/// Largest frame (and message) the server accepts, in bytes. A bigger one closes
/// the connection with close code [`close_code::MESSAGE_TOO_BIG`].
pub const MAX_FRAME_BYTES: usize = 64 * 1024;
/// Longest client command id, in characters.
pub const MAX_CLIENT_ID_CHARS: usize = 64;

/// WebSocket close codes the server uses.
pub mod close_code {
    /// Normal closure (the session ended and the client left, or the client closed).
    pub const NORMAL: u16 = 1000;
    /// The server is shutting down; reconnect later (resume with your token / `last_seq`).
    pub const GOING_AWAY: u16 = 1001;
    /// The connection broke a rule that ends it; the close reason is an error code
    /// (`unknown_agent`, `invalid_token`, `missing_group`, `slow_consumer`, `replaced`...).
    pub const POLICY_VIOLATION: u16 = 1008;
    /// A frame or message was larger than [`super::MAX_FRAME_BYTES`].
    pub const MESSAGE_TOO_BIG: u16 = 1009;
    /// The server failed unexpectedly.
    pub const INTERNAL_ERROR: u16 = 1011;
    /// Too many connections: try again later.
    pub const TRY_AGAIN_LATER: u16 = 1013;
}

/// Stable error codes sent in `error` frames (and as close reasons).
///
/// Besides these, the router's rule errors are passed through with their own
/// stable codes (`not_your_session`, `handoff_note_missing`, `queue_full`...);
/// see `docs/protocol.md` for the full list.
pub mod code {
    /// The text frame was not valid JSON.
    pub const INVALID_JSON: &str = "invalid_json";
    /// The `type` field named no command this endpoint knows.
    pub const UNKNOWN_TYPE: &str = "unknown_type";
    /// A field was missing or had the wrong type (including `id` and `type`).
    pub const INVALID_COMMAND: &str = "invalid_command";
    /// Binary frames are not part of the protocol.
    pub const BINARY_NOT_SUPPORTED: &str = "binary_not_supported";
    /// A frame over 64 KiB (the connection is closed with 1009).
    pub const MESSAGE_TOO_BIG: &str = "message_too_big";
    /// The client did not read fast enough; its outbound queue overflowed.
    pub const SLOW_CONSUMER: &str = "slow_consumer";
    /// A customer connected without `group` (and without `token`).
    pub const MISSING_GROUP: &str = "missing_group";
    /// An agent connected without `agent`.
    pub const MISSING_AGENT: &str = "missing_agent";
    /// The resume token is unknown or its session is gone.
    pub const INVALID_TOKEN: &str = "invalid_token";
    /// A newer connection of the same agent (or the same customer session) took over.
    pub const REPLACED: &str = "replaced";
    /// The server is shutting down and takes no new commands.
    pub const SHUTTING_DOWN: &str = "shutting_down";
    /// Too many connections.
    pub const OVERLOADED: &str = "overloaded";
    /// Nothing (not even a pong) was heard from the client for the idle timeout: the connection was dropped.
    pub const IDLE_TIMEOUT: &str = "idle_timeout";
    /// The command is for supervisors only.
    pub const SUPERVISORS_ONLY: &str = "supervisors_only";
    /// The server failed unexpectedly.
    pub const INTERNAL: &str = "internal";
    /// The server cannot write its input log (disk full, I/O error): the
    /// command or connection was refused and changed nothing; retry shortly.
    pub const STORAGE_UNAVAILABLE: &str = "storage_unavailable";
    /// The command was over the connection's rate limit and was not executed
    /// (`gateway.message_rate`); a connection that keeps sending is closed with 1008.
    pub const RATE_LIMITED: &str = "rate_limited";
    /// A customer's `identifier` / `identifier_hash` did not verify: the join
    /// is refused and the connection closed (1008).
    pub const IDENTITY_INVALID: &str = "identity_invalid";
    /// A customer's `priority_hash` did not verify (or came without a
    /// verified `identifier`, or without `priority`): the join is refused
    /// and the connection closed (1008). An unsigned `priority` is ignored.
    pub const PRIORITY_INVALID: &str = "priority_invalid";
    /// A customer's `time_zone` is not an IANA time zone name: the join is
    /// refused and the connection closed (1008).
    pub const TIME_ZONE_INVALID: &str = "time_zone_invalid";
    /// The group is closed (outside its service hours): a `group_closed`
    /// frame says when it opens, then this error and close 1008. Final.
    pub const GROUP_CLOSED: &str = "group_closed";
    /// HTTP 403 before the upgrade: the page's `Origin` is not in `gateway.allowed_origins`.
    pub const ORIGIN_NOT_ALLOWED: &str = "origin_not_allowed";
    /// HTTP 429 before the upgrade: too many open connections from this IP address.
    pub const TOO_MANY_CONNECTIONS: &str = "too_many_connections";
    /// The agent is not in the roster (at the handshake, from the token's `sub`).
    pub const UNKNOWN_AGENT: &str = "unknown_agent";
    /// An agent or supervisor connected without a token (see `docs/security.md`).
    pub const TOKEN_MISSING: &str = "token_missing";
    /// The token is malformed, badly signed, of another algorithm, or names no role.
    pub const TOKEN_INVALID: &str = "token_invalid";
    /// The token has expired (at the handshake, or on a live connection not renewed in time).
    pub const TOKEN_EXPIRED: &str = "token_expired";
    /// The token is not valid yet (`nbf` or `iat` in the future).
    pub const TOKEN_NOT_YET_VALID: &str = "token_not_yet_valid";
    /// The agent has been disabled by an admin.
    pub const AGENT_DISABLED: &str = "agent_disabled";
    /// The agent is suspended (discipline: warnings); the message says until when (docs/shifts.md).
    pub const AGENT_SUSPENDED: &str = "agent_suspended";
    /// The agent is disqualified (discipline: suspensions) until an admin reinstates them (docs/shifts.md).
    pub const AGENT_DISQUALIFIED: &str = "agent_disqualified";
    /// The token's role may not do this (an agent asking for the snapshot, a
    /// token for another agent than `?agent=`, or a renewal for someone else).
    pub const FORBIDDEN: &str = "forbidden";
    /// An agent's reply matched a content rule whose action is `block`
    /// (docs/content-rules.md): nothing was sent to the customer; the message
    /// names the rule. Also HTTP 422 on a ticket reply.
    pub const CONTENT_BLOCKED: &str = "content_blocked";
}

/// The WebSocket subprotocol agents and supervisors offer, beside `bearer.<token>`.
pub const SUBPROTOCOL: &str = "switchboard";
/// The prefix of the subprotocol value that carries the token.
pub const BEARER_SUBPROTOCOL_PREFIX: &str = "bearer.";
/// `POST`: agent id and password for a token.
pub const LOGIN_PATH: &str = "/v1/login";
/// `POST` with `Authorization: Bearer`: a fresh token.
pub const RENEW_PATH: &str = "/v1/token/renew";
