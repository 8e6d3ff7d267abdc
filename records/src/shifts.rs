//! Shifts and leave requests in SQL (`shifts`, `leave_requests`, migration 3).
//!
//! Unlike router records these are written at once, not through the
//! writer's queue: an admin who adds a shift, or an agent who asks for
//! leave, is answered only when the row is there. A shift is never deleted:
//! cancelling it sets `cancelled_at`, so the month's report still shows it.

use serde::{Deserialize, Serialize};

use crate::query::{int, text};
use crate::sql::{Op, Value};
use crate::store::decode_json;
use crate::{Store, StoreError};

/// A half-open span of time, `[from, to)`, in ms since the epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    pub from: i64,
    pub to: i64,
}

impl Span {
    /// Does `[start, end)` overlap this span?
    pub fn overlaps(&self, start: i64, end: i64) -> bool {
        start < self.to && end > self.from
    }
}

/// One scheduled block of an agent's working time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShiftRow {
    /// `config:AGENT:DATE:HHMM` for a shift from the config, generated for one from the API.
    pub shift: String,
    pub agent: String,
    /// The local date (`YYYY-MM-DD`) in the calendar's time zone.
    pub day: String,
    pub starts_at: i64,
    pub ends_at: i64,
    /// The skill groups the agent works in this shift.
    pub groups: Vec<String>,
    /// `beginner` or `rising` (the base rate of the labor fee).
    pub level: String,
    /// `config` or `api`.
    pub source: String,
    pub created_by: Option<String>,
    pub created_at: i64,
    pub cancelled_at: Option<i64>,
}

/// Leave asked for one shift.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaveRow {
    pub shift: String,
    pub agent: String,
    pub requested_at: i64,
    pub reason: String,
    /// Asked less than the notice before the shift: it breaks the leave rule (a warning).
    pub late: bool,
}

const SHIFT_COLUMNS: &str =
    "shift_id, agent_id, day, starts_at, ends_at, groups, level, source, created_by, created_at, cancelled_at";

const INSERT_SHIFT: &str = "INSERT INTO shifts (shift_id, agent_id, day, starts_at, ends_at, groups, level, source, \
     created_by, created_at, cancelled_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";

const INSERT_LEAVE: &str = "INSERT INTO leave_requests (shift_id, agent_id, requested_at, reason, late) \
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (shift_id) DO NOTHING";

const LEAVE_COLUMNS: &str = "l.shift_id, l.agent_id, l.requested_at, l.reason, l.late";

fn shift_params(s: &ShiftRow) -> Vec<Value> {
    vec![
        Value::text(&s.shift),
        Value::text(&s.agent),
        Value::text(&s.day),
        Value::Int(s.starts_at),
        Value::Int(s.ends_at),
        Value::Text(serde_json::to_string(&s.groups).expect("strings encode")),
        Value::text(&s.level),
        Value::text(&s.source),
        Value::opt_text(s.created_by.as_deref()),
        Value::Int(s.created_at),
        s.cancelled_at.map_or(Value::Null, Value::Int),
    ]
}

fn shift_from(mut row: Vec<Value>) -> Option<ShiftRow> {
    Some(ShiftRow {
        shift: text(&mut row, 0)?,
        agent: text(&mut row, 1)?,
        day: text(&mut row, 2)?,
        starts_at: int(&row, 3)?,
        ends_at: int(&row, 4)?,
        groups: decode_json(text(&mut row, 5)),
        level: text(&mut row, 6)?,
        source: text(&mut row, 7)?,
        created_by: text(&mut row, 8),
        created_at: int(&row, 9)?,
        cancelled_at: int(&row, 10),
    })
}

fn leave_from(mut row: Vec<Value>) -> Option<LeaveRow> {
    Some(LeaveRow {
        shift: text(&mut row, 0)?,
        agent: text(&mut row, 1)?,
        requested_at: int(&row, 2)?,
        reason: text(&mut row, 3)?,
        late: int(&row, 4)? != 0,
    })
}

/// `AND <column> = $N` when `agent` is given, with its parameter.
fn agent_filter(column: &str, agent: Option<&str>, params: &mut Vec<Value>) -> String {
    match agent {
        Some(a) => {
            params.push(Value::text(a));
            format!(" AND {column} = ${}", params.len())
        }
        None => String::new(),
    }
}

impl Store {
    /// Adds a shift; `false` if one with its id exists already.
    pub async fn add_shift(&self, shift: &ShiftRow) -> Result<bool, StoreError> {
        self.ready().await?;
        let sql = format!("{INSERT_SHIFT} ON CONFLICT (shift_id) DO NOTHING");
        Ok(self.run(vec![Op::statement(&sql, shift_params(shift))]).await?.iter().sum::<u64>() > 0)
    }

    /// Adds or replaces the config's shifts (their ids are stable), in one transaction.
    pub async fn put_config_shifts(&self, shifts: &[ShiftRow]) -> Result<(), StoreError> {
        self.ready().await?;
        let sql = format!(
            "{INSERT_SHIFT} ON CONFLICT (shift_id) DO UPDATE SET agent_id = excluded.agent_id, day = excluded.day, \
             starts_at = excluded.starts_at, ends_at = excluded.ends_at, groups = excluded.groups, \
             level = excluded.level, cancelled_at = excluded.cancelled_at"
        );
        let ops = shifts.iter().map(|s| Op::statement(&sql, shift_params(s))).collect();
        self.run(ops).await.map(drop)
    }

    /// Cancels a shift (the row stays); `false` if there is no such shift or it was cancelled already.
    pub async fn cancel_shift(&self, shift: &str, at: i64) -> Result<bool, StoreError> {
        self.ready().await?;
        let sql = "UPDATE shifts SET cancelled_at = $2 WHERE shift_id = $1 AND cancelled_at IS NULL";
        let changed = self.run(vec![Op::statement(sql, vec![Value::text(shift), Value::Int(at)])]).await?;
        Ok(changed.iter().sum::<u64>() > 0)
    }

    pub async fn shift(&self, shift: &str) -> Result<Option<ShiftRow>, StoreError> {
        self.ready().await?;
        let sql = format!("SELECT {SHIFT_COLUMNS} FROM shifts WHERE shift_id = $1");
        Ok(self.query(sql, vec![Value::text(shift)]).await?.into_iter().next().and_then(shift_from))
    }

    /// Shifts overlapping `span` (cancelled ones included), of one agent or all, by start.
    pub async fn shifts(&self, agent: Option<&str>, span: Span) -> Result<Vec<ShiftRow>, StoreError> {
        self.ready().await?;
        let mut params = vec![Value::Int(span.to), Value::Int(span.from)];
        let filter = agent_filter("agent_id", agent, &mut params);
        let sql = format!(
            "SELECT {SHIFT_COLUMNS} FROM shifts WHERE starts_at < $1 AND ends_at > $2{filter} \
             ORDER BY starts_at, agent_id, shift_id"
        );
        Ok(self.query(sql, params).await?.into_iter().filter_map(shift_from).collect())
    }

    /// Records leave for a shift; `false` if leave was asked for it already.
    pub async fn add_leave(&self, leave: &LeaveRow) -> Result<bool, StoreError> {
        self.ready().await?;
        let params = vec![
            Value::text(&leave.shift),
            Value::text(&leave.agent),
            Value::Int(leave.requested_at),
            Value::text(&leave.reason),
            Value::Int(i64::from(leave.late)),
        ];
        Ok(self.run(vec![Op::statement(INSERT_LEAVE, params)]).await?.iter().sum::<u64>() > 0)
    }

    /// Leave asked for shifts overlapping `span`, of one agent or all.
    pub async fn leave_requests(&self, agent: Option<&str>, span: Span) -> Result<Vec<LeaveRow>, StoreError> {
        self.ready().await?;
        let mut params = vec![Value::Int(span.to), Value::Int(span.from)];
        let filter = agent_filter("l.agent_id", agent, &mut params);
        let sql = format!(
            "SELECT {LEAVE_COLUMNS} FROM leave_requests l JOIN shifts s ON s.shift_id = l.shift_id \
             WHERE s.starts_at < $1 AND s.ends_at > $2{filter} ORDER BY s.starts_at, l.shift_id"
        );
        Ok(self.query(sql, params).await?.into_iter().filter_map(leave_from).collect())
    }
}
