//! Spot checks and complaints in SQL (`spot_checks`, `complaints`, migration 3):
//! the quality side of an agent's month. Written at once, like shifts: a
//! supervisor's verdict or a customer's complaint is answered only when the
//! row is there.

use serde::{Deserialize, Serialize};

use crate::query::{int, text};
use crate::shifts::Span;
use crate::sql::{Op, Value};
use crate::{Store, StoreError};

/// A supervisor's verdict on one closed chat.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpotCheckRow {
    pub origin: String,
    pub session: u64,
    /// The agent checked: who served the chat last.
    pub agent: String,
    /// `pass` or `fail`.
    pub result: String,
    pub comment: String,
    pub checked_by: String,
    pub checked_at: i64,
}

/// A customer's complaint about a chat or a ticket, and its review.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComplaintRow {
    pub complaint: String,
    pub origin: String,
    /// `chat` or `ticket`.
    pub subject_kind: String,
    pub subject_id: u64,
    /// The agent complained about (`None` when nobody served it).
    pub agent: Option<String>,
    pub group: String,
    pub reason: String,
    pub created_at: i64,
    /// `open`, `upheld` or `rejected`.
    pub state: String,
    /// `business` or `non_business`, set by the review.
    pub category: Option<String>,
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<i64>,
    pub review_comment: Option<String>,
}

/// A supervisor's decision on an open complaint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    /// `upheld` or `rejected`.
    pub state: String,
    pub category: String,
    pub by: String,
    pub at: i64,
    pub comment: String,
}

const SPOT_COLUMNS: &str = "origin, session_id, agent_id, result, comment, checked_by, checked_at";

const COMPLAINT_COLUMNS: &str = "complaint_id, origin, subject_kind, subject_id, agent_id, group_id, reason, \
     created_at, state, category, reviewed_by, reviewed_at, review_comment";

fn spot_from(mut row: Vec<Value>) -> Option<SpotCheckRow> {
    Some(SpotCheckRow {
        origin: text(&mut row, 0)?,
        session: int(&row, 1)? as u64,
        agent: text(&mut row, 2)?,
        result: text(&mut row, 3)?,
        comment: text(&mut row, 4)?,
        checked_by: text(&mut row, 5)?,
        checked_at: int(&row, 6)?,
    })
}

fn complaint_from(mut row: Vec<Value>) -> Option<ComplaintRow> {
    Some(ComplaintRow {
        complaint: text(&mut row, 0)?,
        origin: text(&mut row, 1)?,
        subject_kind: text(&mut row, 2)?,
        subject_id: int(&row, 3)? as u64,
        agent: text(&mut row, 4),
        group: text(&mut row, 5)?,
        reason: text(&mut row, 6)?,
        created_at: int(&row, 7)?,
        state: text(&mut row, 8)?,
        category: text(&mut row, 9),
        reviewed_by: text(&mut row, 10),
        reviewed_at: int(&row, 11),
        review_comment: text(&mut row, 12),
    })
}

fn complaint_params(c: &ComplaintRow) -> Vec<Value> {
    vec![
        Value::text(&c.complaint),
        Value::text(&c.origin),
        Value::text(&c.subject_kind),
        Value::Int(c.subject_id as i64),
        Value::opt_text(c.agent.as_deref()),
        Value::text(&c.group),
        Value::text(&c.reason),
        Value::Int(c.created_at),
        Value::text(&c.state),
        Value::opt_text(c.category.as_deref()),
        Value::opt_text(c.reviewed_by.as_deref()),
        c.reviewed_at.map_or(Value::Null, Value::Int),
        Value::opt_text(c.review_comment.as_deref()),
    ]
}

/// `SELECT ... WHERE <time> >= $1 AND <time> < $2 [AND agent_id = $3] [AND extra]`, oldest first.
fn in_span(columns: &str, table: &str, time: &str, agent: Option<&str>, span: Span) -> (String, Vec<Value>) {
    let mut params = vec![Value::Int(span.from), Value::Int(span.to)];
    let mut sql = format!("SELECT {columns} FROM {table} WHERE {time} >= $1 AND {time} < $2");
    if let Some(a) = agent {
        params.push(Value::text(a));
        sql.push_str(" AND agent_id = $3");
    }
    (sql, params)
}

impl Store {
    /// Records (or replaces: a supervisor may correct it) the spot check of a chat.
    pub async fn put_spot_check(&self, check: &SpotCheckRow) -> Result<(), StoreError> {
        self.ready().await?;
        let sql = format!(
            "INSERT INTO spot_checks ({SPOT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (origin, session_id) DO UPDATE SET agent_id = excluded.agent_id, result = excluded.result, \
             comment = excluded.comment, checked_by = excluded.checked_by, checked_at = excluded.checked_at"
        );
        let params = vec![
            Value::text(&check.origin),
            Value::Int(check.session as i64),
            Value::text(&check.agent),
            Value::text(&check.result),
            Value::text(&check.comment),
            Value::text(&check.checked_by),
            Value::Int(check.checked_at),
        ];
        self.run(vec![Op::statement(&sql, params)]).await.map(drop)
    }

    /// The spot check of one chat, if it was checked.
    pub async fn spot_check(&self, origin: &str, session: u64) -> Result<Option<SpotCheckRow>, StoreError> {
        self.ready().await?;
        let sql = format!("SELECT {SPOT_COLUMNS} FROM spot_checks WHERE origin = $1 AND session_id = $2");
        let key = vec![Value::text(origin), Value::Int(session as i64)];
        Ok(self.query(sql, key).await?.into_iter().next().and_then(spot_from))
    }

    /// Spot checks made in `span`, of one agent or all, oldest first.
    pub async fn spot_checks(&self, agent: Option<&str>, span: Span) -> Result<Vec<SpotCheckRow>, StoreError> {
        self.ready().await?;
        let (sql, params) = in_span(SPOT_COLUMNS, "spot_checks", "checked_at", agent, span);
        let sql = format!("{sql} ORDER BY checked_at, session_id");
        Ok(self.query(sql, params).await?.into_iter().filter_map(spot_from).collect())
    }

    /// Files a complaint; `false` if one with its id exists already.
    pub async fn add_complaint(&self, complaint: &ComplaintRow) -> Result<bool, StoreError> {
        self.ready().await?;
        let sql = format!(
            "INSERT INTO complaints ({COMPLAINT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, \
             $13) ON CONFLICT (complaint_id) DO NOTHING"
        );
        Ok(self.run(vec![Op::statement(&sql, complaint_params(complaint))]).await?.iter().sum::<u64>() > 0)
    }

    pub async fn complaint(&self, complaint: &str) -> Result<Option<ComplaintRow>, StoreError> {
        self.ready().await?;
        let sql = format!("SELECT {COMPLAINT_COLUMNS} FROM complaints WHERE complaint_id = $1");
        Ok(self.query(sql, vec![Value::text(complaint)]).await?.into_iter().next().and_then(complaint_from))
    }

    /// The complaints about one chat or ticket, oldest first.
    pub async fn complaints_about(
        &self,
        origin: &str,
        subject_kind: &str,
        subject_id: u64,
    ) -> Result<Vec<ComplaintRow>, StoreError> {
        self.ready().await?;
        let sql = format!(
            "SELECT {COMPLAINT_COLUMNS} FROM complaints WHERE origin = $1 AND subject_kind = $2 AND subject_id = $3 \
             ORDER BY created_at, complaint_id"
        );
        let key = vec![Value::text(origin), Value::text(subject_kind), Value::Int(subject_id as i64)];
        Ok(self.query(sql, key).await?.into_iter().filter_map(complaint_from).collect())
    }

    /// Complaints filed in `span`, of one agent or all, oldest first.
    pub async fn complaints_filed(&self, agent: Option<&str>, span: Span) -> Result<Vec<ComplaintRow>, StoreError> {
        self.ready().await?;
        let (sql, params) = in_span(COMPLAINT_COLUMNS, "complaints", "created_at", agent, span);
        let sql = format!("{sql} ORDER BY created_at, complaint_id");
        Ok(self.query(sql, params).await?.into_iter().filter_map(complaint_from).collect())
    }

    /// Complaints upheld in `span` (a complaint counts in the month it was upheld), of one agent or all.
    pub async fn complaints_upheld(&self, agent: Option<&str>, span: Span) -> Result<Vec<ComplaintRow>, StoreError> {
        self.ready().await?;
        let (sql, params) = in_span(COMPLAINT_COLUMNS, "complaints", "reviewed_at", agent, span);
        let sql = format!("{sql} AND state = 'upheld' ORDER BY reviewed_at, complaint_id");
        Ok(self.query(sql, params).await?.into_iter().filter_map(complaint_from).collect())
    }

    /// Decides an open complaint; `false` if there is none open with that id.
    pub async fn review_complaint(&self, complaint: &str, review: &Review) -> Result<bool, StoreError> {
        self.ready().await?;
        let sql = "UPDATE complaints SET state = $2, category = $3, reviewed_by = $4, reviewed_at = $5, \
                   review_comment = $6 WHERE complaint_id = $1 AND state = 'open'";
        let params = vec![
            Value::text(complaint),
            Value::text(&review.state),
            Value::text(&review.category),
            Value::text(&review.by),
            Value::Int(review.at),
            Value::text(&review.comment),
        ];
        Ok(self.run(vec![Op::statement(sql, params)]).await?.iter().sum::<u64>() > 0)
    }
}
