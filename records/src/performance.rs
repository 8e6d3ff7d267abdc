//! The reads an agent's performance figures need (`docs/performance-figures.md`):
//! router events and ticket events by kind, agent and time. Only reads: the
//! figures are computed from what the router already records.

use std::collections::BTreeMap;

use crate::query::{int, text};
use crate::record::{EventRow, TicketEventRow};
use crate::shifts::Span;
use crate::sql::Value;
use crate::{Store, StoreError};

const EVENT_COLUMNS: &str = "lsn, ordinal, at, kind, session_id, agent_id, group_id, detail";

const TICKET_EVENT_COLUMNS: &str = "lsn, ordinal, at, ticket_id, kind, agent_id, group_id, detail";

fn event_from(mut row: Vec<Value>) -> Option<EventRow> {
    Some(EventRow {
        lsn: int(&row, 0)? as u64,
        ordinal: int(&row, 1)? as u32,
        at: int(&row, 2)?,
        kind: text(&mut row, 3)?,
        session: int(&row, 4).map(|s| s as u64),
        agent: text(&mut row, 5),
        group: text(&mut row, 6),
        detail: text(&mut row, 7)?,
        flag: None,
    })
}

/// `WHERE at >= $1 AND at < $2 AND kind IN (...) [AND agent_id = $N] AND agent_id IS NOT NULL`.
fn filter(kinds: &[&str], agent: Option<&str>, span: Span) -> (String, Vec<Value>) {
    let mut params = vec![Value::Int(span.from), Value::Int(span.to)];
    let mut marks = Vec::new();
    for kind in kinds {
        params.push(Value::text(kind));
        marks.push(format!("${}", params.len()));
    }
    let mut sql = format!("WHERE at >= $1 AND at < $2 AND kind IN ({}) AND agent_id IS NOT NULL", marks.join(", "));
    if let Some(agent) = agent {
        params.push(Value::text(agent));
        sql.push_str(&format!(" AND agent_id = ${}", params.len()));
    }
    (sql, params)
}

impl Store {
    /// Router events of these kinds about an agent (one or all) in `span`, oldest first.
    pub async fn agent_events(
        &self,
        agent: Option<&str>,
        kinds: &[&str],
        span: Span,
    ) -> Result<Vec<EventRow>, StoreError> {
        self.ready().await?;
        if kinds.is_empty() {
            return Ok(Vec::new());
        }
        let (filter, params) = filter(kinds, agent, span);
        let sql = format!("SELECT {EVENT_COLUMNS} FROM router_events {filter} ORDER BY at, lsn, ordinal");
        Ok(self.query(sql, params).await?.into_iter().filter_map(event_from).collect())
    }

    /// The agent's last router event of `kind` before `at` (e.g. their state at a shift's start).
    pub async fn last_agent_event_before(
        &self,
        agent: &str,
        kind: &str,
        at: i64,
    ) -> Result<Option<EventRow>, StoreError> {
        self.ready().await?;
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM router_events WHERE agent_id = $1 AND kind = $2 AND at < $3 \
             ORDER BY at DESC, lsn DESC, ordinal DESC LIMIT 1"
        );
        let params = vec![Value::text(agent), Value::text(kind), Value::Int(at)];
        Ok(self.query(sql, params).await?.into_iter().next().and_then(event_from))
    }

    /// Ticket events of these kinds with an agent (one or all) in `span`, oldest first.
    pub async fn agent_ticket_events(
        &self,
        agent: Option<&str>,
        kinds: &[&str],
        span: Span,
    ) -> Result<Vec<TicketEventRow>, StoreError> {
        self.ready().await?;
        if kinds.is_empty() {
            return Ok(Vec::new());
        }
        let (filter, params) = filter(kinds, agent, span);
        let sql = format!("SELECT {TICKET_EVENT_COLUMNS} FROM ticket_events {filter} ORDER BY at, lsn, ordinal");
        Ok(self.query(sql, params).await?.into_iter().filter_map(crate::tickets::event_from).collect())
    }

    /// Ratings of the chats closed in `span`, per skill group: (satisfied, dissatisfied).
    /// Groups without a rated chat are left out.
    pub async fn group_ratings(&self, span: Span) -> Result<BTreeMap<String, (u64, u64)>, StoreError> {
        self.ready().await?;
        let sql = "SELECT group_id, rating, COUNT(*) FROM closed_chats \
                   WHERE closed_at >= $1 AND closed_at < $2 AND rating IS NOT NULL GROUP BY group_id, rating";
        let mut out: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        for mut row in self.query(sql.into(), vec![Value::Int(span.from), Value::Int(span.to)]).await? {
            let count = int(&row, 2).unwrap_or(0).max(0) as u64;
            let (Some(group), Some(rating)) = (text(&mut row, 0), text(&mut row, 1)) else { continue };
            let sums = out.entry(group).or_default();
            match rating.as_str() {
                "satisfied" => sums.0 += count,
                "dissatisfied" => sums.1 += count,
                _ => {}
            }
        }
        Ok(out)
    }
}
