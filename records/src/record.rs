//! What is written: rows as the store sees them, plain strings and numbers.
//! The server turns the router's events into these (it alone knows the
//! router's types); this crate knows SQL, not routing.
//!
//! Times are milliseconds since the Unix epoch (UTC), as `i64`: one column
//! type that SQLite and PostgreSQL agree on.

use serde::{Deserialize, Serialize};

/// One thing to write. Each is idempotent: written twice (a replay after a
/// restart, a spill file read again), the second write changes nothing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Record {
    /// A router event, keyed by the input that caused it (`lsn`) and its place among that input's events.
    Event(EventRow),
    /// A chat that ended, with its transcript. Keyed by the session id.
    Chat(Box<ChatRow>),
    /// The customer rated a closed chat (after its `Chat`).
    Rating(RatingRow),
    /// A ticket that is done (resolved or closed), with its messages. Keyed by the ticket id.
    Ticket(Box<TicketRow>),
    /// Something that happened to a ticket, keyed like an event by its input and place.
    TicketEvent(TicketEventRow),
}

impl Record {
    /// The label of the `switchboard_records_written_total` series it counts in.
    pub fn kind(&self) -> RecordKind {
        match self {
            Record::Event(_) => RecordKind::Event,
            Record::Chat(_) => RecordKind::Chat,
            Record::Rating(_) => RecordKind::Rating,
            Record::Ticket(_) => RecordKind::Ticket,
            Record::TicketEvent(_) => RecordKind::TicketEvent,
        }
    }
}

/// The kinds of [`Record`], for metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RecordKind {
    Event,
    Chat,
    Rating,
    Ticket,
    TicketEvent,
}

impl RecordKind {
    pub const ALL: [RecordKind; 5] =
        [RecordKind::Event, RecordKind::Chat, RecordKind::Rating, RecordKind::Ticket, RecordKind::TicketEvent];

    pub fn label(self) -> &'static str {
        match self {
            RecordKind::Event => "event",
            RecordKind::Chat => "chat",
            RecordKind::Rating => "rating",
            RecordKind::Ticket => "ticket",
            RecordKind::TicketEvent => "ticket_event",
        }
    }
}

/// A router event (`router_events`), and the conduct flag it raised on a chat, if any (`chat_flags`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRow {
    /// The input log position of the input that caused it.
    pub lsn: u64,
    /// Its place among the events of that input, from 0.
    pub ordinal: u32,
    pub at: i64,
    /// The event's name, e.g. `session_assigned` (`docs/records.md` lists them).
    pub kind: String,
    pub session: Option<u64>,
    pub agent: Option<String>,
    pub group: Option<String>,
    /// The event's fields as a JSON object.
    pub detail: String,
    /// Set for a conduct flag raised on a session.
    pub flag: Option<FlagRow>,
}

/// A conduct flag raised on a chat: its kind and the handbook's category.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlagRow {
    pub kind: String,
    pub category: String,
}

/// A closed chat (`closed_chats`, with its agents in `chat_agents`).
///
/// Opened and assigned times are not carried: the store takes them from the
/// chat's `session_queued` and `session_assigned` events, written before it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatRow {
    pub session: u64,
    pub group: String,
    pub customer_name: Option<String>,
    pub customer_id: Option<String>,
    /// The agent who served it last (`None`: it closed while waiting).
    pub agent: Option<String>,
    /// Every agent who wrote in it or left a handoff note in it, `agent` included.
    pub agents: Vec<String>,
    pub priority: String,
    pub closed_at: i64,
    pub close_reason: String,
    pub transcript: Vec<TranscriptLine>,
    pub handoff_notes: Vec<NoteLine>,
}

/// One message of a transcript.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TranscriptLine {
    pub at: i64,
    /// `customer` or `agent`.
    pub from: String,
    /// The agent who wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    pub text: String,
    /// The file the message carried (docs/files.md); `text` is then its caption or `[name]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment: Option<TranscriptFile>,
}

/// A file sent in a chat, as the transcript keeps it: the bytes stay in the
/// server's file store under `id` (their SHA-256).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TranscriptFile {
    pub id: String,
    pub name: String,
    pub content_type: String,
    pub size: u64,
}

/// A handoff note left on a transfer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoteLine {
    pub at: i64,
    pub from: String,
    /// Where the chat went: `group:ID` or `agent:ID`.
    pub target: String,
    pub text: String,
}

/// A customer's rating of a closed chat.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RatingRow {
    pub session: u64,
    /// `satisfied` or `dissatisfied`.
    pub rating: String,
}

/// A done ticket (`tickets`): resolved by its customer or closed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketRow {
    pub ticket: u64,
    pub group: String,
    pub customer_name: Option<String>,
    /// Why it exists: `group_closed`, `nobody_available`, `customer_choice` or `from_chat`.
    pub origin: String,
    /// `resolved` or `closed`.
    pub state: String,
    pub priority: String,
    /// Its last owner.
    pub owner: Option<String>,
    pub created_at: i64,
    pub done_at: i64,
    pub expected_resolution: Option<i64>,
    /// `from` is `customer`, `agent` or `system`.
    pub messages: Vec<TranscriptLine>,
    /// Handoff notes; `target` is `agent:ID` for a transfer, `chat:SESSION` for the note of a chat turned into it.
    pub notes: Vec<NoteLine>,
}

/// Something that happened to a ticket (`ticket_events`): `created`,
/// `assigned`, `waiting`, `transferred`, `state_changed`, `breach`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketEventRow {
    pub lsn: u64,
    pub ordinal: u32,
    pub at: i64,
    pub ticket: u64,
    pub kind: String,
    pub agent: Option<String>,
    pub group: String,
    /// The event's fields as a JSON object.
    pub detail: String,
}
