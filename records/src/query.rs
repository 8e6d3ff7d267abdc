//! Looking up closed chats: by customer, agent, group, closing time and
//! conduct flag (each filter optional, all of them together), newest first.

use serde::Serialize;

use crate::record::{NoteLine, TranscriptLine};
use crate::sql::Value;

/// The most chats one lookup returns.
pub const MAX_LIMIT: u32 = 500;

/// Filters of a lookup. `None` leaves a filter out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChatQuery {
    /// The customer's verified id or display name (exact).
    pub customer: Option<String>,
    /// Any agent who served, wrote in or was assigned the chat.
    pub agent: Option<String>,
    pub group: Option<String>,
    /// Closed at or after (ms since the epoch).
    pub from: Option<i64>,
    /// Closed before (ms since the epoch).
    pub to: Option<i64>,
    /// A conduct flag raised on the chat: its kind (`close_unanswered`) or category (`agent_close`).
    pub flag: Option<String>,
    /// At most this many (at most [`MAX_LIMIT`]).
    pub limit: u32,
}

/// A closed chat in a list: everything but its text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChatSummary {
    /// Which live state (`data_dir`) the session id belongs to: ids start again in a new one.
    pub origin: String,
    pub session: u64,
    pub group: String,
    pub customer_name: Option<String>,
    pub customer_id: Option<String>,
    /// Who served it last.
    pub agent: Option<String>,
    /// Everyone who served it, sorted.
    pub agents: Vec<String>,
    pub priority: String,
    pub opened_at: Option<i64>,
    pub assigned_at: Option<i64>,
    pub closed_at: i64,
    pub close_reason: String,
    pub rating: Option<String>,
    /// Conduct flags raised on it (kinds, in the order raised).
    pub flags: Vec<String>,
}

/// One closed chat with its transcript, handoff notes and flags.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChatDetail {
    #[serde(flatten)]
    pub summary: ChatSummary,
    pub transcript: Vec<TranscriptLine>,
    pub handoff_notes: Vec<NoteLine>,
    pub flag_details: Vec<FlagDetail>,
}

/// A conduct flag raised on a chat.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FlagDetail {
    pub kind: String,
    pub category: String,
    pub agent: String,
    pub at: i64,
}

const COLUMNS: &str = "c.origin, c.session_id, c.group_id, c.customer_name, c.customer_id, c.agent_id, c.priority, \
     c.opened_at, c.assigned_at, c.closed_at, c.close_reason, c.rating";

/// The lookup's SQL and parameters.
pub fn find_sql(q: &ChatQuery) -> (String, Vec<Value>) {
    let mut sql = format!("SELECT {COLUMNS} FROM closed_chats c WHERE 1 = 1");
    let mut params = Vec::new();
    let next = |params: &mut Vec<Value>, value: Value| {
        params.push(value);
        params.len()
    };
    if let Some(customer) = &q.customer {
        let n = next(&mut params, Value::text(customer));
        sql.push_str(&format!(" AND (c.customer_id = ${n} OR c.customer_name = ${n})"));
    }
    if let Some(group) = &q.group {
        let n = next(&mut params, Value::text(group));
        sql.push_str(&format!(" AND c.group_id = ${n}"));
    }
    if let Some(from) = q.from {
        let n = next(&mut params, Value::Int(from));
        sql.push_str(&format!(" AND c.closed_at >= ${n}"));
    }
    if let Some(to) = q.to {
        let n = next(&mut params, Value::Int(to));
        sql.push_str(&format!(" AND c.closed_at < ${n}"));
    }
    if let Some(agent) = &q.agent {
        let n = next(&mut params, Value::text(agent));
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM chat_agents a WHERE a.origin = c.origin AND a.session_id = c.session_id \
             AND a.agent_id = ${n})"
        ));
    }
    if let Some(flag) = &q.flag {
        let n = next(&mut params, Value::text(flag));
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM chat_flags f WHERE f.origin = c.origin AND f.session_id = c.session_id \
             AND (f.kind = ${n} OR f.category = ${n}))"
        ));
    }
    let n = next(&mut params, Value::Int(i64::from(q.limit.clamp(1, MAX_LIMIT))));
    sql.push_str(&format!(" ORDER BY c.closed_at DESC, c.session_id DESC LIMIT ${n}"));
    (sql, params)
}

/// One chat by session id: the newest closed under that id, or the one of `origin`.
pub fn detail_sql(session: u64, origin: Option<&str>) -> (String, Vec<Value>) {
    let mut sql =
        format!("SELECT {COLUMNS}, c.transcript, c.handoff_notes FROM closed_chats c WHERE c.session_id = $1");
    let mut params = vec![Value::Int(session as i64)];
    if let Some(origin) = origin {
        sql.push_str(" AND c.origin = $2");
        params.push(Value::text(origin));
    }
    sql.push_str(" ORDER BY c.closed_at DESC LIMIT 1");
    (sql, params)
}

pub const AGENTS_SQL: &str = "SELECT agent_id FROM chat_agents WHERE origin = $1 AND session_id = $2 ORDER BY agent_id";

pub const FLAGS_SQL: &str =
    "SELECT kind, category, agent_id, at FROM chat_flags WHERE origin = $1 AND session_id = $2 \
     ORDER BY at, lsn, ordinal";

/// The column `i` of a row, taken out of it.
pub(crate) fn text(row: &mut [Value], i: usize) -> Option<String> {
    row.get_mut(i).and_then(|v| std::mem::replace(v, Value::Null).into_text())
}

pub(crate) fn int(row: &[Value], i: usize) -> Option<i64> {
    row.get(i).and_then(Value::as_int)
}

/// A row of [`COLUMNS`] (agents and flags are filled in apart).
pub fn summary_from(row: &mut [Value]) -> Option<ChatSummary> {
    Some(ChatSummary {
        origin: text(row, 0)?,
        session: int(row, 1)? as u64,
        group: text(row, 2)?,
        customer_name: text(row, 3),
        customer_id: text(row, 4),
        agent: text(row, 5),
        agents: Vec::new(),
        priority: text(row, 6)?,
        opened_at: int(row, 7),
        assigned_at: int(row, 8),
        closed_at: int(row, 9)?,
        close_reason: text(row, 10)?,
        rating: text(row, 11),
        flags: Vec::new(),
    })
}

/// The transcript and notes columns that follow [`COLUMNS`] in [`detail_sql`].
pub fn texts_from(row: &mut [Value]) -> (Option<String>, Option<String>) {
    (text(row, 12), text(row, 13))
}

pub fn flag_from(mut row: Vec<Value>) -> Option<FlagDetail> {
    Some(FlagDetail {
        kind: text(&mut row, 0)?,
        category: text(&mut row, 1)?,
        agent: text(&mut row, 2)?,
        at: int(&row, 3)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_filter_adds_one_numbered_parameter_and_the_limit_is_capped() {
        let q = ChatQuery {
            customer: Some("c".into()),
            agent: Some("a".into()),
            group: Some("g".into()),
            from: Some(1),
            to: Some(2),
            flag: Some("f".into()),
            limit: 10_000,
        };
        let (sql, params) = find_sql(&q);
        assert_eq!(params.len(), 7);
        assert!(sql.contains("$7") && !sql.contains("$8"), "{sql}");
        assert_eq!(params[6], Value::Int(i64::from(MAX_LIMIT)));
        let (sql, params) = find_sql(&ChatQuery::default());
        assert_eq!(params, vec![Value::Int(1)]);
        assert!(sql.ends_with("LIMIT $1"), "{sql}");
    }
}
