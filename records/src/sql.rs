//! The SQL both backends run, written once with PostgreSQL's `$N`
//! placeholders (SQLite gets them as `?N`, the same numbered parameters),
//! and the two primitives a backend offers: run statements in one
//! transaction, and run a query that returns rows of plain [`Value`]s.

use crate::record::{ChatRow, EventRow, RatingRow, Record};

/// A parameter or a column: the three types the schema uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Null,
    Int(i64),
    Text(String),
}

impl Value {
    pub fn text(s: &str) -> Value {
        Value::Text(s.to_owned())
    }

    pub fn opt_text(s: Option<&str>) -> Value {
        s.map_or(Value::Null, Value::text)
    }

    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    pub fn into_text(self) -> Option<String> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }
}

/// One statement with its parameters, or a script of several statements without any (migrations).
#[derive(Clone, Debug)]
pub enum Op {
    Statement(String, Vec<Value>),
    Script(&'static str),
}

impl Op {
    pub fn statement(sql: &str, params: Vec<Value>) -> Op {
        Op::Statement(sql.to_owned(), params)
    }
}

/// `$N` placeholders as SQLite's `?N` (no statement here has a `$` anywhere else: data only travels as parameters).
pub fn for_sqlite(sql: &str) -> String {
    sql.replace('$', "?")
}

const INSERT_EVENT: &str =
    "INSERT INTO router_events (origin, lsn, ordinal, at, kind, session_id, agent_id, group_id, detail) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (origin, lsn, ordinal) DO NOTHING";

const INSERT_FLAG: &str = "INSERT INTO chat_flags (origin, lsn, ordinal, session_id, agent_id, kind, category, at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (origin, lsn, ordinal) DO NOTHING";

/// Opened and assigned times come from the chat's own events, already written (records keep their order).
const INSERT_CHAT: &str = "INSERT INTO closed_chats (origin, session_id, group_id, customer_name, customer_id, agent_id, \
     priority, opened_at, assigned_at, closed_at, close_reason, rating, transcript, handoff_notes) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, \
     (SELECT MIN(e.at) FROM router_events e WHERE e.origin = $1 AND e.session_id = $2 AND e.kind = 'session_queued'), \
     (SELECT MIN(e.at) FROM router_events e WHERE e.origin = $1 AND e.session_id = $2 AND e.kind = 'session_assigned'), \
     $8, $9, NULL, $10, $11) ON CONFLICT (origin, session_id) DO NOTHING";

const INSERT_CHAT_AGENT: &str = "INSERT INTO chat_agents (origin, session_id, agent_id) VALUES ($1, $2, $3) \
     ON CONFLICT (origin, session_id, agent_id) DO NOTHING";

/// Agents who were assigned the chat but neither wrote in it nor served it last.
const INSERT_ASSIGNED_AGENTS: &str = "INSERT INTO chat_agents (origin, session_id, agent_id) \
     SELECT DISTINCT e.origin, e.session_id, e.agent_id FROM router_events e \
     WHERE e.origin = $1 AND e.session_id = $2 AND e.kind = 'session_assigned' AND e.agent_id IS NOT NULL \
     ON CONFLICT (origin, session_id, agent_id) DO NOTHING";

const UPDATE_RATING: &str = "UPDATE closed_chats SET rating = $3 WHERE origin = $1 AND session_id = $2";

/// The statements that write one record.
pub fn ops_for(origin: &str, record: &Record) -> Vec<Op> {
    match record {
        Record::Event(event) => event_ops(origin, event),
        Record::Chat(chat) => chat_ops(origin, chat),
        Record::Rating(rating) => vec![rating_op(origin, rating)],
        Record::Ticket(ticket) => vec![crate::tickets::ticket_op(origin, ticket)],
        Record::TicketEvent(event) => vec![crate::tickets::event_op(origin, event)],
    }
}

fn event_ops(origin: &str, e: &EventRow) -> Vec<Op> {
    let key = [Value::text(origin), Value::Int(e.lsn as i64), Value::Int(i64::from(e.ordinal))];
    let session = e.session.map_or(Value::Null, |s| Value::Int(s as i64));
    let mut params = key.to_vec();
    params.extend([
        Value::Int(e.at),
        Value::text(&e.kind),
        session.clone(),
        Value::opt_text(e.agent.as_deref()),
        Value::opt_text(e.group.as_deref()),
        Value::text(&e.detail),
    ]);
    let mut ops = vec![Op::statement(INSERT_EVENT, params)];
    if let (Some(flag), Value::Int(_), Some(agent)) = (&e.flag, &session, &e.agent) {
        let mut params = key.to_vec();
        params.extend([
            session,
            Value::text(agent),
            Value::text(&flag.kind),
            Value::text(&flag.category),
            Value::Int(e.at),
        ]);
        ops.push(Op::statement(INSERT_FLAG, params));
    }
    ops
}

fn chat_ops(origin: &str, c: &ChatRow) -> Vec<Op> {
    let key = || vec![Value::text(origin), Value::Int(c.session as i64)];
    let transcript = serde_json::to_string(&c.transcript).expect("plain data encodes");
    let notes = serde_json::to_string(&c.handoff_notes).expect("plain data encodes");
    let mut params = key();
    params.extend([
        Value::text(&c.group),
        Value::opt_text(c.customer_name.as_deref()),
        Value::opt_text(c.customer_id.as_deref()),
        Value::opt_text(c.agent.as_deref()),
        Value::text(&c.priority),
        Value::Int(c.closed_at),
        Value::text(&c.close_reason),
        Value::Text(transcript),
        Value::Text(notes),
    ]);
    let mut ops = vec![Op::statement(INSERT_CHAT, params)];
    for agent in &c.agents {
        let mut params = key();
        params.push(Value::text(agent));
        ops.push(Op::statement(INSERT_CHAT_AGENT, params));
    }
    ops.push(Op::statement(INSERT_ASSIGNED_AGENTS, key()));
    ops
}

fn rating_op(origin: &str, r: &RatingRow) -> Op {
    Op::statement(UPDATE_RATING, vec![Value::text(origin), Value::Int(r.session as i64), Value::text(&r.rating)])
}

/// Retention: everything that happened before a cutoff, oldest tables' dependants first.
pub fn retention_ops(cutoff: i64) -> Vec<Op> {
    let at = || vec![Value::Int(cutoff)];
    let mut ops = vec![
        Op::statement("DELETE FROM router_events WHERE at < $1", at()),
        Op::statement("DELETE FROM chat_flags WHERE at < $1", at()),
        Op::statement(
            "DELETE FROM chat_agents WHERE EXISTS (SELECT 1 FROM closed_chats c WHERE c.origin = chat_agents.origin \
             AND c.session_id = chat_agents.session_id AND c.closed_at < $1)",
            at(),
        ),
        Op::statement("DELETE FROM closed_chats WHERE closed_at < $1", at()),
    ];
    ops.extend(crate::tickets::retention_ops(cutoff));
    ops
}

pub const SELECT_VERSION: &str = "SELECT COALESCE(MAX(version), 0) FROM schema_version";

pub const INSERT_VERSION: &str = "INSERT INTO schema_version (version, description, applied_at) VALUES ($1, $2, $3)";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_gets_the_same_numbered_parameters() {
        assert_eq!(for_sqlite("SELECT $1, $2, $1"), "SELECT ?1, ?2, ?1");
    }

    #[test]
    fn a_flag_without_a_session_writes_only_the_event() {
        let mut event = EventRow {
            lsn: 7,
            ordinal: 0,
            at: 1,
            kind: "conduct_flagged".into(),
            session: None,
            agent: Some("ann".into()),
            group: None,
            detail: "{}".into(),
            flag: Some(crate::record::FlagRow { kind: "break_too_many".into(), category: "abusive_break".into() }),
        };
        assert_eq!(event_ops("o", &event).len(), 1);
        event.session = Some(3);
        assert_eq!(event_ops("o", &event).len(), 2);
    }
}
