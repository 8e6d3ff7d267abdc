//! Tickets in SQL: a done ticket (`tickets`) with its messages and notes,
//! and what happened to tickets (`ticket_events`); the statements that write
//! them and the lookups of one ticket. Idempotent like the rest: a ticket is
//! keyed by its id (and origin), an event by its input and place.

use crate::query::{int, text};
use crate::record::{TicketEventRow, TicketRow};
use crate::sql::{Op, Value};
use crate::store::decode_json;

const INSERT_TICKET: &str = "INSERT INTO tickets (origin, ticket_id, group_id, customer_name, ticket_origin, state, \
     priority, owner_id, created_at, done_at, expected_resolution, messages, notes) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT (origin, ticket_id) DO NOTHING";

const INSERT_EVENT: &str = "INSERT INTO ticket_events (origin, lsn, ordinal, at, ticket_id, kind, agent_id, group_id, \
     detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (origin, lsn, ordinal) DO NOTHING";

pub fn ticket_op(origin: &str, t: &TicketRow) -> Op {
    Op::statement(
        INSERT_TICKET,
        vec![
            Value::text(origin),
            Value::Int(t.ticket as i64),
            Value::text(&t.group),
            Value::opt_text(t.customer_name.as_deref()),
            Value::text(&t.origin),
            Value::text(&t.state),
            Value::text(&t.priority),
            Value::opt_text(t.owner.as_deref()),
            Value::Int(t.created_at),
            Value::Int(t.done_at),
            t.expected_resolution.map_or(Value::Null, Value::Int),
            json(&t.messages),
            json(&t.notes),
        ],
    )
}

pub fn event_op(origin: &str, e: &TicketEventRow) -> Op {
    Op::statement(
        INSERT_EVENT,
        vec![
            Value::text(origin),
            Value::Int(e.lsn as i64),
            Value::Int(i64::from(e.ordinal)),
            Value::Int(e.at),
            Value::Int(e.ticket as i64),
            Value::text(&e.kind),
            Value::opt_text(e.agent.as_deref()),
            Value::text(&e.group),
            Value::text(&e.detail),
        ],
    )
}

/// Retention: ticket events that happened, and tickets done, before the cutoff.
pub fn retention_ops(cutoff: i64) -> Vec<Op> {
    vec![
        Op::statement("DELETE FROM ticket_events WHERE at < $1", vec![Value::Int(cutoff)]),
        Op::statement("DELETE FROM tickets WHERE done_at < $1", vec![Value::Int(cutoff)]),
    ]
}

pub const TICKET_SQL: &str = "SELECT ticket_id, group_id, customer_name, ticket_origin, state, priority, owner_id, \
     created_at, done_at, expected_resolution, messages, notes FROM tickets WHERE origin = $1 AND ticket_id = $2";

pub const EVENTS_SQL: &str = "SELECT lsn, ordinal, at, ticket_id, kind, agent_id, group_id, detail FROM ticket_events \
     WHERE origin = $1 AND ticket_id = $2 ORDER BY lsn, ordinal";

/// A row of [`TICKET_SQL`]; damaged message or note columns read as empty.
pub fn ticket_from(mut row: Vec<Value>) -> Option<TicketRow> {
    Some(TicketRow {
        ticket: int(&row, 0)? as u64,
        group: text(&mut row, 1)?,
        customer_name: text(&mut row, 2),
        origin: text(&mut row, 3)?,
        state: text(&mut row, 4)?,
        priority: text(&mut row, 5)?,
        owner: text(&mut row, 6),
        created_at: int(&row, 7)?,
        done_at: int(&row, 8)?,
        expected_resolution: int(&row, 9),
        messages: decode_json(text(&mut row, 10)),
        notes: decode_json(text(&mut row, 11)),
    })
}

/// A row of [`EVENTS_SQL`].
pub fn event_from(mut row: Vec<Value>) -> Option<TicketEventRow> {
    Some(TicketEventRow {
        lsn: int(&row, 0)? as u64,
        ordinal: int(&row, 1)? as u32,
        at: int(&row, 2)?,
        ticket: int(&row, 3)? as u64,
        kind: text(&mut row, 4)?,
        agent: text(&mut row, 5),
        group: text(&mut row, 6)?,
        detail: text(&mut row, 7)?,
    })
}

/// Plain data as a JSON column.
fn json<T: serde::Serialize>(value: &T) -> Value {
    Value::Text(serde_json::to_string(value).expect("plain data encodes"))
}
