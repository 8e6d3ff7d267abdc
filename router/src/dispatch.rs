//! Queues and assignment: who waits in which order, which agent is chosen,
//! and what waiting customers are told about their position.

use std::cmp::Reverse;
use std::collections::BTreeSet;
use std::time::Duration;

use super::config::AssignmentStrategy;
use super::ids::{GroupId, SessionId};
use super::input::Priority;
use super::output::{AgentNotice, CustomerNotice, Event, Output, QueueReason};
use super::state::{AgentIdx, AgentKey, Group, GroupIdx, Phase, QueueKey};
use super::timers::Timer;
use super::Router;

/// How far down a queue the dispatcher looks past a head that can only go
/// to the agent it was just transferred away from.
const LOOKAHEAD: usize = 4;

impl Router {
    /// An agent's place in one group's eligible set, per the strategy.
    pub(super) fn agent_key(&self, agent: AgentIdx, level: u8, load: u32, seq: u64) -> AgentKey {
        let (level, load) = match self.config.rules.assignment_strategy {
            AssignmentStrategy::LeastLoaded => (level, load),
            AssignmentStrategy::LongestIdle => (level, 0),
            AssignmentStrategy::RoundRobin => (0, 0),
        };
        AgentKey::new(level, load, seq, agent)
    }

    /// Lists every agent again in its groups' eligible sets, under the
    /// (load, seq) it is listed with and the current strategy's key: after a
    /// restore, or a change of strategy.
    pub(super) fn rebuild_eligible(&mut self) {
        for group in &mut self.groups {
            group.eligible.clear();
        }
        for a in 0..self.agents.len() {
            let Some((load, seq)) = self.agents[a].listed else { continue };
            for i in 0..self.agents[a].memberships.len() {
                let (g, level) = self.agents[a].memberships[i];
                let key = self.agent_key(a as AgentIdx, level, load, seq);
                self.groups[g as usize].eligible.insert(key);
            }
        }
    }

    /// Puts a session in its group's queue: at the back, or at the front for
    /// a customer who already waited their turn (transfer, lost agent).
    pub(super) fn enqueue(&mut self, session: SessionId, front: bool, reason: QueueReason) {
        let now = self.now;
        let s = self.sessions.get(&session).expect("present");
        let (g, priority) = (s.group, s.priority);
        if s.excluded_agent.is_some() {
            self.waiting_excluded += 1;
        }
        let order = if front {
            self.front_order -= 1;
            self.front_order
        } else {
            self.next_order += 1;
            self.next_order
        };
        let key = QueueKey { priority: Reverse(priority), order, session };
        let group = &mut self.groups[g as usize];
        let position = group.queue.position_on_joining(priority, front);
        group.queue.push(key, position as u32);
        let overflow_at = (!group.overflow_to.is_empty()).then(|| now + group.overflow_after);
        let group_id = group.id.clone();
        let mut overflow_timer = None;
        if let Some(at) = overflow_at {
            self.timers.arm(&mut overflow_timer, at, Timer::Overflow(session));
        }
        let s = self.sessions.get_mut(&session).expect("present");
        s.phase = Phase::Waiting { key, since: now, overflowed: false, overflow_timer };
        self.event(Event::SessionQueued { session, group: group_id.clone(), priority, reason });
        let notice = queued(group_id.clone(), position as u32, self.wait_per_position(g));
        self.notify_customer(session, notice);
        if !self.anyone_on_duty(g) {
            let service_hours = self.groups[g as usize].service_hours.clone();
            self.notify_customer(session, CustomerNotice::NoAgentOnline { group: group_id, service_hours });
        }
        self.dirty_groups.insert(g);
        self.queue_changed.insert(g);
    }

    /// Is anyone (of the group or its overflow groups) on duty?
    fn anyone_on_duty(&self, g: GroupIdx) -> bool {
        let group = &self.groups[g as usize];
        group.on_duty > 0 || group.overflow_to.iter().any(|&h| self.groups[h as usize].on_duty > 0)
    }

    /// Takes a waiting session out of every queue it is listed in; returns
    /// when it started waiting.
    pub(super) fn unqueue(&mut self, session: SessionId) -> super::Millis {
        let s = self.sessions.get_mut(&session).expect("present");
        let Phase::Waiting { key, since, overflowed, mut overflow_timer } = s.phase else {
            unreachable!("unqueue of a session that is not waiting")
        };
        self.timers.disarm(&mut overflow_timer);
        let g = s.group;
        if s.excluded_agent.is_some() {
            self.waiting_excluded -= 1;
        }
        let group = &mut self.groups[g as usize];
        group.queue.remove(&key);
        if overflowed {
            self.in_overflow_groups(g, |overflow_in| remove_from(overflow_in, &key));
        }
        // A session leaving can bring one that waited beyond the look-ahead
        // within reach of an idle agent: look again.
        self.dirty_groups.insert(g);
        self.queue_changed.insert(g);
        since
    }

    /// Changes a session's priority, moving it within its queue if waiting.
    pub(super) fn requeue_with_priority(&mut self, session: SessionId, priority: Priority) {
        let s = self.sessions.get_mut(&session).expect("present");
        s.priority = priority;
        let Phase::Waiting { key, overflowed, .. } = &mut s.phase else { return };
        let old_key = *key;
        let new_key = QueueKey { priority: Reverse(priority), ..old_key };
        *key = new_key;
        let overflowed = *overflowed;
        let g = s.group;
        let group = &mut self.groups[g as usize];
        let told = group.queue.remove(&old_key).unwrap_or(0);
        group.queue.push(new_key, told);
        if overflowed {
            self.in_overflow_groups(g, |overflow_in| {
                remove_from(overflow_in, &old_key);
                overflow_in.insert(new_key);
            });
        }
        self.dirty_groups.insert(g);
        self.queue_changed.insert(g);
    }

    /// A waiting session has waited `overflow_after`: its group's overflow
    /// groups may now serve it too.
    pub(super) fn fire_overflow(&mut self, session: SessionId) {
        let Some(s) = self.sessions.get_mut(&session) else { return };
        let Phase::Waiting { key, overflowed, .. } = &mut s.phase else { return };
        *overflowed = true;
        let key = *key;
        let g = s.group;
        self.in_overflow_groups(g, |overflow_in| {
            overflow_in.insert(key);
        });
    }

    /// Applies `change` to the `overflow_in` set of each of group `g`'s
    /// overflow groups, and marks them for dispatch.
    fn in_overflow_groups(&mut self, g: GroupIdx, mut change: impl FnMut(&mut BTreeSet<QueueKey>)) {
        let Router { groups, dirty_groups, .. } = self;
        // By index: `groups` is borrowed mutably for the other groups' sets.
        for i in 0..groups[g as usize].overflow_to.len() {
            let h = groups[g as usize].overflow_to[i];
            change(&mut groups[h as usize].overflow_in);
            dirty_groups.insert(h);
        }
    }

    /// Assigns every waiting session that can be assigned, always the first
    /// by priority and arrival among all groups where an assignment may have
    /// become possible: an agent shared by several groups serves whoever
    /// waited longest, not whichever group is listed first.
    pub(super) fn dispatch(&mut self) {
        loop {
            let mut best: Option<(QueueKey, AgentIdx)> = None;
            let mut done = std::mem::take(&mut self.scratch_groups);
            for g in self.dirty_groups.iter() {
                match self.pick(g) {
                    Some((key, agent)) => {
                        if best.is_none_or(|(b, _)| key < b) {
                            best = Some((key, agent));
                        }
                    }
                    None => done.push(g),
                }
            }
            for g in done.drain(..) {
                self.dirty_groups.remove(g);
            }
            self.scratch_groups = done;
            let Some((key, agent)) = best else { break };
            let since = self.unqueue(key.session);
            let waited = self.now.since(since);
            self.give_to_agent(key.session, agent, waited);
        }
    }

    /// The best (session, agent) pair for group `g`'s eligible agents: the
    /// first session in priority-then-arrival order among the group's own
    /// queue and the sessions that overflowed to it, and the first agent in
    /// strategy order (never the agent the session was just sent away from).
    fn pick(&self, g: GroupIdx) -> Option<(QueueKey, AgentIdx)> {
        let group = &self.groups[g as usize];
        let first_agent = group.eligible.first()?;
        let mut own = group.queue.iter().peekable();
        let mut overflow = group.overflow_in.iter().copied().peekable();
        for _ in 0..LOOKAHEAD {
            let key = match (own.peek(), overflow.peek()) {
                (Some(a), Some(b)) if b < a => overflow.next(),
                (Some(_), _) => own.next(),
                (None, Some(_)) => overflow.next(),
                (None, None) => None,
            }?;
            // Exclusions are rare: look the session up only when one is waiting.
            let excluded = (self.waiting_excluded > 0).then(|| self.sessions[&key.session].excluded_agent).flatten();
            if excluded != Some(first_agent.agent()) || !self.colleague_on_duty(key.session, first_agent.agent()) {
                return Some((key, first_agent.agent()));
            }
            if let Some(second) = group.eligible.iter().nth(1) {
                return Some((key, second.agent()));
            }
        }
        None
    }

    /// Is anyone but `sender` on duty in the session's group? Only then does
    /// a session that `sender` put back in the queue wait for someone else:
    /// with no colleague on duty it would wait beside an idle agent forever.
    fn colleague_on_duty(&self, session: SessionId, sender: AgentIdx) -> bool {
        let g = self.sessions[&session].group;
        let a = &self.agents[sender as usize];
        let sender_counted = a.counted_on_duty && a.level_in(g).is_some();
        self.groups[g as usize].on_duty > u32::from(sender_counted)
    }

    /// Makes `agent` the session's owner and tells both sides.
    pub(super) fn give_to_agent(&mut self, session: SessionId, agent: AgentIdx, waited: Duration) {
        let now = self.now;
        self.assign_seq += 1;
        let seq = self.assign_seq;
        let warning = self.config.rules.reply_warning;
        let s = self.sessions.get_mut(&session).expect("present");
        let g = s.group;
        s.phase = Phase::Assigned { agent, since: now };
        s.excluded_agent = None;
        // The reply clock never runs against an agent for time before they had the session.
        if s.unanswered_since.is_some() {
            s.reply_clock_since = Some(now);
            s.warned = false;
            self.timers.arm(&mut s.reply_timer, now + warning, Timer::Reply(session));
        }
        let a = &mut self.agents[agent as usize];
        a.sessions.push(session);
        a.last_assign_seq = seq;
        a.last_assigned_at = Some(now);
        a.record.sessions_assigned += 1;
        let overflow = a.level_in(g).is_none();
        let (agent_id, agent_name) = (a.id.clone(), a.name.clone());
        let group = &mut self.groups[g as usize];
        group.active += 1;
        if let Some(last) = group.last_assign_at {
            let gap = now.0.saturating_sub(last.0);
            group.assign_gap_ms = Some(match group.assign_gap_ms {
                Some(avg) => (avg * 7 + gap) / 8,
                None => gap,
            });
        }
        group.last_assign_at = Some(now);
        let group_id = group.id.clone();
        let view = Box::new(self.view(&self.sessions[&session]));
        self.notify_customer(session, CustomerNotice::Assigned { agent_name });
        self.notify_agent(agent, AgentNotice::SessionAssigned { session: view });
        self.event(Event::SessionAssigned { session, group: group_id, agent: agent_id, waited, overflow });
        self.refresh_agent(agent);
    }

    /// How long the longest-waiting customer of a group has waited. A scan of
    /// the queue: it is asked for by snapshots and break requests, never on
    /// the assignment path, which an index kept per decision would slow down.
    pub(super) fn oldest_wait(&self, g: GroupIdx) -> Option<Duration> {
        self.oldest_wait_at(&self.groups[g as usize], self.now)
    }

    pub(super) fn oldest_wait_at(&self, group: &Group, now: super::Millis) -> Option<Duration> {
        group
            .queue
            .iter()
            .map(|k| match self.sessions[&k.session].phase {
                Phase::Waiting { since, .. } => now.since(since),
                _ => unreachable!("a queued session is waiting"),
            })
            .max()
    }

    /// Estimated wait per queue position in a group.
    fn wait_per_position(&self, g: GroupIdx) -> Duration {
        match self.groups[g as usize].assign_gap_ms {
            Some(ms) => Duration::from_millis(ms),
            None => self.config.rules.default_wait_per_position,
        }
    }

    /// Tells the front of every changed queue its new positions at once; the
    /// rest of the queue hears at most once per `queue_update_interval`.
    pub(super) fn flush_queue_positions(&mut self) {
        let front = self.config.rules.queue_update_front;
        let interval = self.config.rules.queue_update_interval;
        while let Some(g) = self.queue_changed.pop_first() {
            self.tell_positions(g, front);
            let group = &mut self.groups[g as usize];
            if group.queue.len() > front && group.queue_tick.is_none() {
                self.timers.arm(&mut group.queue_tick, self.now + interval, Timer::QueueTick(g));
            }
        }
    }

    /// Sends a position update to each of the first `limit` customers of a
    /// group's queue whose position differs from what they were last told.
    pub(super) fn tell_positions(&mut self, g: GroupIdx, limit: usize) {
        let per_position = self.wait_per_position(g);
        let Router { groups, outputs, .. } = self;
        let Group { id, queue, .. } = &mut groups[g as usize];
        for (i, (key, told)) in queue.iter_told_mut().take(limit).enumerate() {
            let position = i as u32 + 1;
            if *told != position {
                *told = position;
                let notice = queued(id.clone(), position, per_position);
                outputs.push_back(Output::ToCustomer { session: key.session, notice });
            }
        }
    }
}

/// A customer's place in a queue, with the wait estimated from it.
fn queued(group: GroupId, position: u32, wait_per_position: Duration) -> CustomerNotice {
    CustomerNotice::Queued { group, position, estimated_wait: wait_per_position * position }
}

/// Removes `key` from `set`. The dispatcher mostly removes the first
/// element (a group's best agent, the head of an overflow queue), which
/// `pop_first` reaches along the left edge without a search from the root.
pub(super) fn remove_from<T: Ord>(set: &mut std::collections::BTreeSet<T>, key: &T) {
    if set.first() == Some(key) {
        set.pop_first();
    } else {
        set.remove(key);
    }
}
