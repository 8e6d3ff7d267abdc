//! Saving and restoring the whole router, so that a restart resumes exactly
//! where the live run was: the newest saved router, then the logged inputs
//! after it, must give the live run's state and future outputs.
//!
//! [`SavedRouter`] is the saved form: what cannot be worked out again is
//! written (the config, the clock, the counters, each agent's presence,
//! sessions, timers and record, each group's measured pace and queue tick,
//! every session with its phase, history, notes, transfers and timers, and a
//! waiting one's last told position and estimate); what is derived is
//! rebuilt on restore and never written (the id indexes, the queues and the
//! overflow lists from the waiting sessions, the eligible sets and free seats
//! from each agent's listing, the on-duty, serving and active counts, the
//! timer table from the deadlines its owners hold, the complaint word
//! automaton).
//!
//! The form is canonical: two routers in the same logical state write the
//! same bytes, whatever their history. Sessions are written in id order
//! (the map's order depends on its history); queues are rebuilt, so their
//! tombstones are never written; the timer table is rebuilt from the slots,
//! so its stale entries and heap layout are never written; group sets are
//! written in ascending order; every other list (an agent's sessions, a
//! history, flags) is in an order that is itself part of the state.

use std::borrow::Cow;
use std::cmp::Reverse;
use std::collections::VecDeque;
use std::sync::Arc;

use rustc_hash::FxHashMap;
use serde::de::Error as _;
use serde::ser::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::config::{ConfigError, RouterConfig};
use super::ids::{AgentId, GroupId, SessionId};
use super::input::{Priority, TransferTarget};
use super::output::{AgentState, CloseReason, HandoffNote, HistoryEntry, Speaker};
use super::pace::Pace;
use super::queue::Told;
use super::snapshot::AgentRecord;
use super::state::{
    AgentIdx, ComplaintState, GroupIdx, PendingConsent, Phase, Presence, QueueKey, Session, Shift, TransferRecord,
};
use super::time::Millis;
use super::timers::{Timers, MAX_AT};
use super::Router;

/// The layout version of [`SavedRouter`]: bump it on any change to the
/// saved structs below, so an old build refuses a newer snapshot (and the
/// reverse) instead of misreading it.
const FORMAT: u32 = 3;

/// Written first and checked as soon as it is read, before anything of
/// another layout is misread.
#[derive(Clone, Copy, Debug)]
struct Format;

impl Serialize for Format {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        FORMAT.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Format {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Format, D::Error> {
        match u32::deserialize(deserializer)? {
            FORMAT => Ok(Format),
            found => Err(D::Error::custom(format!("saved router format {found}, this build reads format {FORMAT}"))),
        }
    }
}

/// A whole router as saved: [`Router::save`] borrows it from a live router,
/// deserializing gives an owned one for [`Router::restore`]. `Router` itself
/// is `Serialize` and `Deserialize` through this form; use these two when
/// the reason for a refusal matters (postcard drops the message of a custom
/// serde error).
#[derive(Debug, Serialize, Deserialize)]
pub struct SavedRouter<'a> {
    format: Format,
    config: Cow<'a, RouterConfig>,
    now: Millis,
    next_order: i64,
    front_order: i64,
    assign_seq: u64,
    /// Ascending group indexes (both sets are empty between inputs).
    dirty_groups: Vec<GroupIdx>,
    queue_changed: Vec<GroupIdx>,
    /// In roster order.
    agents: Vec<SavedAgent<'a>>,
    /// In config order.
    groups: Vec<SavedGroup<'a>>,
    /// In session id order.
    sessions: Vec<SavedSession<'a>>,
}

impl SavedRouter<'_> {
    /// The config the router was saved with: compare it with the new one
    /// ([`RouterConfig::same_groups`]) before resuming.
    pub fn config(&self) -> &RouterConfig {
        &self.config
    }
}

/// An agent's state; who the agent is comes from the config.
#[derive(Debug, Serialize, Deserialize)]
struct SavedAgent<'a> {
    connected: bool,
    presence: Presence,
    sessions: Cow<'a, [SessionId]>,
    last_assign_seq: u64,
    last_assigned_at: Option<Millis>,
    listed: Option<(u32, u64)>,
    grace_timer: Option<Millis>,
    break_timer: Option<Millis>,
    shift: Shift,
    sheds: Cow<'a, VecDeque<Millis>>,
    record: Cow<'a, AgentRecord>,
    reported_state: AgentState,
    counted_on_duty: bool,
    retired: bool,
}

/// A group's state; what the group is comes from the config.
#[derive(Debug, Serialize, Deserialize)]
struct SavedGroup<'a> {
    pace: Cow<'a, Pace>,
    queue_tick: Option<Millis>,
    /// Open by its service hours, and until when (the hours' text is in the config).
    open: bool,
    next_change: Option<Millis>,
}

#[derive(Debug, Serialize, Deserialize)]
struct SavedSession<'a> {
    id: SessionId,
    group: GroupIdx,
    priority: Priority,
    customer_name: Option<Arc<str>>,
    customer_id: Option<Arc<str>>,
    phase: SavedPhase,
    history: Cow<'a, VecDeque<HistoryEntry>>,
    notes: Cow<'a, [HandoffNote]>,
    unanswered_since: Option<Millis>,
    reply_clock_since: Option<Millis>,
    warned: bool,
    reply_timer: Option<Millis>,
    last_agent_reply: Option<Millis>,
    idle_timer: Option<Millis>,
    grace_timer: Option<Millis>,
    forget_timer: Option<Millis>,
    consent: Option<Cow<'a, PendingConsent>>,
    resolve_asked: bool,
    resolve_confirmed: bool,
    transfers: Cow<'a, [TransferRecord]>,
    excluded_agent: Option<AgentIdx>,
    complaint: Option<Cow<'a, ComplaintState>>,
}

/// [`Phase`], with a waiting session's place in its queue: the queue key is
/// its priority, `order` and id, and the queue keeps what it was told.
#[derive(Debug, Serialize, Deserialize)]
enum SavedPhase {
    Waiting { order: i64, since: Millis, overflowed: bool, overflow_timer: Option<Millis>, told: Told },
    Assigned { agent: AgentIdx, since: Millis },
    Closed { reason: CloseReason, agent: Option<AgentIdx>, can_rate: bool, rated: bool },
}

/// Why a router cannot be saved now.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SaveError {
    /// Outputs are not part of the saved state: saving now would lose them.
    #[error("{count} outputs were not drained with poll_output: saving now would lose them")]
    PendingOutputs { count: usize },
}

/// Why saved bytes are not a router this build can resume.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RestoreError {
    #[error("the saved config is refused: {0}")]
    Config(#[from] ConfigError),
    #[error("the saved router is inconsistent: {0}")]
    Inconsistent(String),
}

fn inconsistent<T>(problem: String) -> Result<T, RestoreError> {
    Err(RestoreError::Inconsistent(problem))
}

impl Serialize for Router {
    /// Fails (as the serializer's custom error) while outputs are undrained.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.save().map_err(S::Error::custom)?.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Router {
    /// Refuses (as the deserializer's custom error) what [`Router::restore`] refuses.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Router, D::Error> {
        Router::restore(SavedRouter::deserialize(deserializer)?).map_err(D::Error::custom)
    }
}

impl Router {
    /// The router's whole state, borrowed, ready to serialize (the crate
    /// docs, "Saving and restoring", say what it holds). Refused while outputs
    /// wait to be drained: they are not part of the state, and a restart
    /// would never send them.
    pub fn save(&self) -> Result<SavedRouter<'_>, SaveError> {
        if !self.outputs.is_empty() {
            return Err(SaveError::PendingOutputs { count: self.outputs.len() });
        }
        let told: FxHashMap<SessionId, Told> =
            self.groups.iter().flat_map(|g| g.queue.iter_told()).map(|(key, told)| (key.session, told)).collect();
        let mut sessions: Vec<&Session> = self.sessions.values().collect();
        sessions.sort_unstable_by_key(|s| s.id);
        Ok(SavedRouter {
            format: Format,
            config: Cow::Borrowed(&self.config),
            now: self.now,
            next_order: self.next_order,
            front_order: self.front_order,
            assign_seq: self.assign_seq,
            dirty_groups: self.dirty_groups.iter().collect(),
            queue_changed: self.queue_changed.iter().collect(),
            agents: self.agents.iter().map(save_agent).collect(),
            groups: self
                .groups
                .iter()
                .map(|g| SavedGroup {
                    pace: Cow::Borrowed(&g.pace),
                    queue_tick: g.queue_tick,
                    open: g.hours.open,
                    next_change: g.hours.next_change,
                })
                .collect(),
            sessions: sessions.into_iter().map(|s| save_session(s, &told)).collect(),
        })
    }

    /// Rebuilds a router from its saved form: the same state, and so the
    /// same outputs and deadlines as the saved router for any continuation.
    /// Refuses a config that no longer validates and a state that refers to
    /// agents, groups or sessions that do not exist, or whose records
    /// disagree (an agent's sessions and the sessions' owners, queue orders).
    /// Ids in histories, notes and flags share the roster's strings again.
    pub fn restore(saved: SavedRouter<'_>) -> Result<Router, RestoreError> {
        let SavedRouter {
            format: Format,
            config,
            now,
            next_order,
            front_order,
            assign_seq,
            dirty_groups,
            queue_changed,
            agents,
            groups,
            sessions,
        } = saved;
        let mut router = Router::new(config.into_owned())?;
        if agents.len() != router.agents.len() || groups.len() != router.groups.len() {
            return inconsistent(format!(
                "{} agents and {} groups saved for a roster of {} and {}",
                agents.len(),
                groups.len(),
                router.agents.len(),
                router.groups.len()
            ));
        }
        if next_order < 0 || front_order > 0 {
            return inconsistent(format!("queue orders {front_order}..{next_order} do not straddle zero"));
        }
        router.now = now;
        router.next_order = next_order;
        router.front_order = front_order;
        router.assign_seq = assign_seq;
        for (g, (group, saved)) in router.groups.iter_mut().zip(groups).enumerate() {
            if saved.queue_tick.is_some_and(|at| at.0 > MAX_AT) {
                return inconsistent(format!("group {g}: a deadline past the timer range"));
            }
            group.pace = saved.pace.into_owned();
            group.queue_tick = saved.queue_tick;
            group.hours.open = saved.open;
            group.hours.next_change = saved.next_change;
        }
        for (a, saved) in agents.into_iter().enumerate() {
            router.restore_agent(a as AgentIdx, saved)?;
        }
        router.restore_sessions(sessions)?;
        router.check_agent_sessions()?;
        for (saved, set) in [(dirty_groups, &mut router.dirty_groups), (queue_changed, &mut router.queue_changed)] {
            for g in saved {
                if g as usize >= router.groups.len() {
                    return inconsistent(format!("group index {g} in a group set is not in the config"));
                }
                set.insert(g);
            }
        }
        router.rebuild_derived();
        Ok(router)
    }

    fn restore_agent(&mut self, a: AgentIdx, saved: SavedAgent<'_>) -> Result<(), RestoreError> {
        if [saved.grace_timer, saved.break_timer].into_iter().flatten().any(|at| at.0 > MAX_AT) {
            return inconsistent(format!("agent {a}: a deadline past the timer range"));
        }
        if saved.last_assign_seq > self.assign_seq {
            return inconsistent(format!("agent {a}: assignment {} after the last one", saved.last_assign_seq));
        }
        let mut record = saved.record.into_owned();
        for flag in &mut record.recent_flags {
            flag.agent = self.shared_agent_id(&flag.agent);
        }
        let agent = &mut self.agents[a as usize];
        agent.connected = saved.connected;
        agent.presence = saved.presence;
        agent.sessions.extend_from_slice(&saved.sessions);
        agent.last_assign_seq = saved.last_assign_seq;
        agent.last_assigned_at = saved.last_assigned_at;
        agent.listed = saved.listed;
        agent.grace_timer = saved.grace_timer;
        agent.break_timer = saved.break_timer;
        agent.shift = saved.shift;
        agent.sheds = saved.sheds.into_owned();
        agent.record = record;
        agent.reported_state = saved.reported_state;
        agent.counted_on_duty = saved.counted_on_duty;
        if saved.retired {
            if agent.connected || !agent.sessions.is_empty() || agent.listed.is_some() || agent.counted_on_duty {
                return inconsistent(format!("agent {a}: retired, but connected, listed or serving"));
            }
            self.leave_groups(a);
            self.agents[a as usize].retired = true;
        }
        Ok(())
    }

    /// Restores the sessions (in strictly increasing id order) and queues
    /// the waiting ones.
    fn restore_sessions(&mut self, saved: Vec<SavedSession<'_>>) -> Result<(), RestoreError> {
        self.sessions.reserve(saved.len());
        let mut waiting: Vec<(QueueKey, Told)> = Vec::new();
        let mut last = None;
        for s in saved {
            if last.is_some_and(|last| last >= s.id) {
                return inconsistent(format!("session {} is out of id order", s.id));
            }
            last = Some(s.id);
            self.check_session(&s)?;
            let session = self.restore_session(s, &mut waiting);
            self.sessions.insert(session.id, session);
        }
        // Every order is unique (two global counters), which the queue's
        // removal relies on to find an entry.
        waiting.sort_unstable_by_key(|(key, _)| key.order);
        if let Some(pair) = waiting.windows(2).find(|pair| pair[0].0.order == pair[1].0.order) {
            return inconsistent(format!(
                "sessions {} and {} share a queue order",
                pair[0].0.session, pair[1].0.session
            ));
        }
        // In queue order, each push is an append: no insertion in the middle.
        waiting.sort_unstable_by_key(|(key, _)| *key);
        for (key, told) in waiting {
            let g = self.sessions[&key.session].group;
            self.groups[g as usize].queue.push(key, told);
        }
        Ok(())
    }

    /// Refuses a saved session that refers to an agent, group or queue
    /// order that does not exist, keeps more history than the rules allow,
    /// or holds a deadline past the timer table's range.
    fn check_session(&self, s: &SavedSession<'_>) -> Result<(), RestoreError> {
        let id = s.id;
        let bad_agent = |a: &AgentIdx| *a as usize >= self.agents.len();
        let bad_group = |g: &GroupIdx| *g as usize >= self.groups.len();
        if bad_group(&s.group) {
            return inconsistent(format!("session {id}: group index {} is not in the config", s.group));
        }
        // (owner, agent named by the phase, overflow deadline)
        let (owner, agent, overflow_timer) = match s.phase {
            SavedPhase::Waiting { order, overflow_timer, .. } => {
                if order == 0 || order > self.next_order || order < self.front_order {
                    return inconsistent(format!("session {id}: queue order {order} was never handed out"));
                }
                (None, None, overflow_timer)
            }
            SavedPhase::Assigned { agent, .. } => (Some(agent), Some(agent), None),
            SavedPhase::Closed { agent, .. } => (None, agent, None),
        };
        // A pending transfer belongs to the session's owner, who carries it out.
        let bad_consent = s
            .consent
            .as_deref()
            .is_some_and(|c| Some(c.from) != owner || bad_group(&c.to_group) || !self.knows_target(&c.target));
        if agent.iter().chain(&s.excluded_agent).any(bad_agent)
            || s.transfers.iter().any(|t| bad_agent(&t.from) || bad_group(&t.from_group))
            || bad_consent
        {
            return inconsistent(format!("session {id}: an agent, group or pending transfer that does not exist"));
        }
        let bytes: usize = s.history.iter().map(|e| e.text.len()).sum();
        if s.history.len() > self.config.rules.max_history || bytes > self.config.rules.max_history_bytes {
            return inconsistent(format!("session {id}: {} history entries of {bytes} bytes kept", s.history.len()));
        }
        let consent_timer = s.consent.as_deref().and_then(|c| c.timer);
        let deadlines = [s.reply_timer, s.idle_timer, s.grace_timer, s.forget_timer, consent_timer, overflow_timer];
        if deadlines.into_iter().flatten().any(|at| at.0 > MAX_AT) {
            return inconsistent(format!("session {id}: a deadline past the timer range"));
        }
        Ok(())
    }

    /// A checked saved session, with its ids pointing at the roster's strings;
    /// a waiting one's queue key and told position go to `waiting`.
    fn restore_session(&self, s: SavedSession<'_>, waiting: &mut Vec<(QueueKey, Told)>) -> Session {
        let id = s.id;
        let phase = match s.phase {
            SavedPhase::Waiting { order, since, overflowed, overflow_timer, told } => {
                let key = QueueKey { priority: Reverse(s.priority), order, session: id };
                waiting.push((key, told));
                Phase::Waiting { key, since, overflowed, overflow_timer }
            }
            SavedPhase::Assigned { agent, since } => Phase::Assigned { agent, since },
            SavedPhase::Closed { reason, agent, can_rate, rated } => Phase::Closed { reason, agent, can_rate, rated },
        };
        let mut history = s.history.into_owned();
        for entry in &mut history {
            if let Speaker::Agent(agent) = &entry.from {
                entry.from = Speaker::Agent(self.shared_agent_id(agent));
            }
        }
        let mut notes = s.notes.into_owned();
        for note in &mut notes {
            note.from = self.shared_agent_id(&note.from);
            note.target = self.shared_target(&note.target);
        }
        Session {
            id,
            group: s.group,
            priority: s.priority,
            customer_name: s.customer_name,
            customer_id: s.customer_id,
            phase,
            history_bytes: history.iter().map(|e| e.text.len()).sum(),
            history,
            notes,
            unanswered_since: s.unanswered_since,
            reply_clock_since: s.reply_clock_since,
            warned: s.warned,
            reply_timer: s.reply_timer,
            last_agent_reply: s.last_agent_reply,
            idle_timer: s.idle_timer,
            grace_timer: s.grace_timer,
            forget_timer: s.forget_timer,
            consent: s.consent.map(|c| {
                let mut c = c.into_owned();
                c.target = self.shared_target(&c.target);
                Box::new(c)
            }),
            resolve_asked: s.resolve_asked,
            resolve_confirmed: s.resolve_confirmed,
            transfers: s.transfers.into_owned(),
            excluded_agent: s.excluded_agent,
            complaint: s.complaint.map(|c| Box::new(c.into_owned())),
        }
    }

    /// Each agent lists exactly the sessions assigned to them, once each.
    fn check_agent_sessions(&self) -> Result<(), RestoreError> {
        let mut listed = 0;
        for (a, agent) in self.agents.iter().enumerate() {
            for (i, id) in agent.sessions.iter().enumerate() {
                let owner = self.sessions.get(id).and_then(Session::agent);
                if owner != Some(a as AgentIdx) || agent.sessions[..i].contains(id) {
                    return inconsistent(format!("agent `{}` lists session {id}, which is not theirs", agent.id));
                }
            }
            listed += agent.sessions.len();
        }
        let assigned = self.sessions.values().filter(|s| s.agent().is_some()).count();
        if listed != assigned {
            return inconsistent(format!("{assigned} sessions are assigned, but agents list {listed}"));
        }
        Ok(())
    }

    /// Works out again everything the saved form leaves out, from what it holds.
    fn rebuild_derived(&mut self) {
        for s in self.sessions.values() {
            let g = s.group as usize;
            match s.phase {
                Phase::Assigned { .. } => self.groups[g].active += 1,
                Phase::Waiting { key, overflowed, .. } => {
                    if s.excluded_agent.is_some() {
                        self.waiting_excluded += 1;
                    }
                    if overflowed {
                        for i in 0..self.groups[g].overflow_to.len() {
                            let h = self.groups[g].overflow_to[i] as usize;
                            self.groups[h].overflow_in.insert(key);
                        }
                    }
                }
                Phase::Closed { .. } => {}
            }
        }
        for a in 0..self.agents.len() {
            if self.agents[a].counted_on_duty {
                for i in 0..self.agents[a].memberships.len() {
                    let g = self.agents[a].memberships[i].0;
                    self.groups[g as usize].on_duty += 1;
                }
            }
            if self.agents[a].is_serving() {
                self.count_serving(a as AgentIdx, true);
            }
        }
        self.rebuild_eligible();
        self.timers = Timers::with_live(self.armed_timers());
    }

    /// The roster's own string for an agent id, so a restored id costs no
    /// allocation of its own (unknown ids are kept as they are).
    fn shared_agent_id(&self, id: &AgentId) -> AgentId {
        self.agent_index.get_key_value(id).map_or_else(|| id.clone(), |(shared, _)| shared.clone())
    }

    fn shared_group_id(&self, id: &GroupId) -> GroupId {
        self.group_index.get_key_value(id).map_or_else(|| id.clone(), |(shared, _)| shared.clone())
    }

    fn shared_target(&self, target: &TransferTarget) -> TransferTarget {
        match target {
            TransferTarget::Agent(id) => TransferTarget::Agent(self.shared_agent_id(id)),
            TransferTarget::Group(id) => TransferTarget::Group(self.shared_group_id(id)),
        }
    }

    /// A pending transfer's target must still exist: carrying it out looks it up.
    fn knows_target(&self, target: &TransferTarget) -> bool {
        match target {
            TransferTarget::Agent(id) => self.agent_index.contains_key(id),
            TransferTarget::Group(id) => self.group_index.contains_key(id),
        }
    }
}

fn save_agent(a: &super::state::Agent) -> SavedAgent<'_> {
    SavedAgent {
        connected: a.connected,
        presence: a.presence.clone(),
        sessions: Cow::Borrowed(&a.sessions),
        last_assign_seq: a.last_assign_seq,
        last_assigned_at: a.last_assigned_at,
        listed: a.listed,
        grace_timer: a.grace_timer,
        break_timer: a.break_timer,
        shift: a.shift.clone(),
        sheds: Cow::Borrowed(&a.sheds),
        record: Cow::Borrowed(&a.record),
        reported_state: a.reported_state,
        counted_on_duty: a.counted_on_duty,
        retired: a.retired,
    }
}

fn save_session<'a>(s: &'a Session, told: &FxHashMap<SessionId, Told>) -> SavedSession<'a> {
    let phase = match s.phase {
        Phase::Waiting { key, since, overflowed, overflow_timer } => SavedPhase::Waiting {
            order: key.order,
            since,
            overflowed,
            overflow_timer,
            told: told.get(&s.id).copied().unwrap_or_default(),
        },
        Phase::Assigned { agent, since } => SavedPhase::Assigned { agent, since },
        Phase::Closed { reason, agent, can_rate, rated } => SavedPhase::Closed { reason, agent, can_rate, rated },
    };
    SavedSession {
        id: s.id,
        group: s.group,
        priority: s.priority,
        customer_name: s.customer_name.clone(),
        customer_id: s.customer_id.clone(),
        phase,
        history: Cow::Borrowed(&s.history),
        notes: Cow::Borrowed(&s.notes),
        unanswered_since: s.unanswered_since,
        reply_clock_since: s.reply_clock_since,
        warned: s.warned,
        reply_timer: s.reply_timer,
        last_agent_reply: s.last_agent_reply,
        idle_timer: s.idle_timer,
        grace_timer: s.grace_timer,
        forget_timer: s.forget_timer,
        consent: s.consent.as_deref().map(Cow::Borrowed),
        resolve_asked: s.resolve_asked,
        resolve_confirmed: s.resolve_confirmed,
        transfers: Cow::Borrowed(&s.transfers),
        excluded_agent: s.excluded_agent,
        complaint: s.complaint.as_deref().map(Cow::Borrowed),
    }
}
