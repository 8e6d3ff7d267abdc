//! Read-only views of the router's state, for supervisors, metrics and resumes.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::config::Role;
use super::ids::{AgentId, GroupId};
use super::output::{AgentState, CloseReason, ConductFlag, ConductKind};
use super::time::Millis;

/// The whole router at a glance: what a supervisor dashboard and the gauges show.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub groups: Vec<GroupSnapshot>,
    pub agents: Vec<AgentSnapshot>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupSnapshot {
    pub id: GroupId,
    pub name: Arc<str>,
    /// Open by its service hours (a closed group takes no new customers).
    pub open: bool,
    /// When it next opens (closed) or closes (open); `None`: never.
    pub next_change: Option<Millis>,
    /// Sessions in this group's queue.
    pub waiting: usize,
    /// Sessions of this group being served.
    pub active: usize,
    /// How long the longest-waiting customer has waited.
    pub oldest_wait: Option<Duration>,
    /// Members of the group per state (every state present, zeros included).
    pub agents: BTreeMap<String, u32>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgentSnapshot {
    pub id: AgentId,
    pub name: Arc<str>,
    pub role: Role,
    pub state: AgentState,
    pub load: u32,
    pub capacity: u32,
    pub groups: Vec<GroupId>,
    pub break_reason: Option<Arc<str>>,
}

/// Where a session is, for a customer who resumes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    Waiting { group: GroupId, position: u32 },
    Assigned { group: GroupId, agent: AgentId, agent_name: Arc<str>, consent_pending: bool },
    Closed { reason: CloseReason, can_rate: bool },
}

/// What is kept per agent: the figures and conduct flags the handbook asks for.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentRecord {
    pub sessions_assigned: u64,
    pub sessions_closed: u64,
    pub reply_warnings: u64,
    pub slow_replies: u64,
    pub satisfied: u64,
    pub dissatisfied: u64,
    pub flag_counts: BTreeMap<String, u64>,
    /// The most recent flags, newest last (bounded).
    pub recent_flags: Vec<ConductFlag>,
}

impl AgentRecord {
    pub(crate) const RECENT_FLAGS: usize = 50;

    pub fn flags_of(&self, kind: ConductKind) -> u64 {
        self.flag_counts.get(kind.label()).copied().unwrap_or(0)
    }
}
