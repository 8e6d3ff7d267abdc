//! Queues and assignment: who waits in which order, which agent is chosen,
//! and what waiting customers are told: their position, the wait estimate
//! (`pace.rs`), and whether anyone can serve them at all.

use std::cmp::Reverse;
use std::collections::BTreeSet;
use std::time::Duration;

use super::config::AssignmentStrategy;
use super::ids::SessionId;
use super::input::Priority;
use super::output::{AgentNotice, CustomerNotice, Event, Output, QueueReason, WaitEstimate};
use super::pace::{self, Rate, Serving, WaitModel};
use super::queue::Told;
use super::state::{AgentIdx, AgentKey, Group, GroupIdx, Phase, QueueKey, Session};
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
            group.free_seats = 0;
        }
        for a in 0..self.agents.len() {
            let Some((load, seq)) = self.agents[a].listed else { continue };
            let free = self.agents[a].free_seats(Some((load, seq)));
            for i in 0..self.agents[a].memberships.len() {
                let (g, level) = self.agents[a].memberships[i];
                let key = self.agent_key(a as AgentIdx, level, load, seq);
                self.groups[g as usize].eligible.insert(key);
                self.groups[g as usize].free_seats += free;
            }
        }
    }

    /// Keeps group `g`'s free seats in step with a member's new listing
    /// (free seats before, after).
    pub(super) fn relist_seats(&mut self, g: GroupIdx, (old, new): (u32, u32)) {
        if old != new {
            let group = &mut self.groups[g as usize];
            group.free_seats = group.free_seats - old + new;
            self.touch_pace(g);
        }
    }

    /// Counts an agent in or out of its groups' serving agents and seats
    /// when that changed; their waiting customers hear of it (estimates,
    /// and `NoAgentOnline` / `AgentOnline` when nobody or somebody is left).
    pub(super) fn recount_serving(&mut self, a: AgentIdx) {
        let serving = self.agents[a as usize].is_serving();
        if serving == self.agents[a as usize].counted_serving {
            return;
        }
        for i in 0..self.agents[a as usize].memberships.len() {
            let g = self.agents[a as usize].memberships[i].0;
            self.touch_pace(g);
            self.estimates_changed(g);
        }
        self.count_serving(a, serving);
    }

    /// Counts agent `a` in (or out of) its groups' serving agents and seats.
    pub(super) fn count_serving(&mut self, a: AgentIdx, serving: bool) {
        let agent = &mut self.agents[a as usize];
        agent.counted_serving = serving;
        let capacity = agent.capacity;
        for &(g, _) in &agent.memberships {
            let group = &mut self.groups[g as usize];
            if serving {
                group.serving_agents += 1;
                group.serving_seats += capacity;
            } else {
                group.serving_agents -= 1;
                group.serving_seats -= capacity;
            }
        }
    }

    /// Group `g`'s queue or seats are about to change: the saturated
    /// stretch so far is counted, and saturation is checked again at the
    /// end of the input (`restart_paces`).
    fn touch_pace(&mut self, g: GroupIdx) {
        self.groups[g as usize].pace.close_stretch(self.now);
        self.pace_touched.insert(g);
    }

    /// Starts or ends the saturated stretch of every group whose queue or
    /// seats changed: saturated while customers wait and no seat of someone
    /// who can serve is free.
    pub(super) fn restart_paces(&mut self) {
        let now = self.now;
        while let Some(g) = self.pace_touched.pop_first() {
            let group = &mut self.groups[g as usize];
            let saturated = group.queue.len() > 0 && group.serving_seats > 0 && group.free_seats == 0;
            group.pace.restart(now, saturated.then_some(group.serving_seats));
        }
        // A seat freed in this input and not taken now is just a free seat.
        self.departed.clear();
    }

    /// Estimates changed for the customers of `g` and of the groups that
    /// overflow to it: tell them (coalesced, like positions).
    pub(super) fn estimates_changed(&mut self, g: GroupIdx) {
        self.queue_changed.insert(g);
        for i in 0..self.groups[g as usize].overflow_from.len() {
            let from = self.groups[g as usize].overflow_from[i];
            self.queue_changed.insert(from);
        }
    }

    /// The wait estimate for each position of group `g`'s queue: from its
    /// own agents who can serve; with none, from its overflow groups' (after
    /// `overflow_after`); with none there either, unknown.
    pub(super) fn wait_model(&self, g: GroupIdx) -> WaitModel {
        let group = &self.groups[g as usize];
        if let Some(rate) = self.rate(group) {
            return WaitModel::Known { rate, free: group.free_seats, overflow_after: None };
        }
        // Overflow goes only to open groups.
        let overflow = || group.overflow_to.iter().map(|&h| &self.groups[h as usize]).filter(|h| h.hours.open);
        match Rate::sum(overflow().filter_map(|h| self.rate(h))) {
            Some(rate) => {
                let free = overflow().map(|h| h.free_seats).sum();
                WaitModel::Known { rate, free, overflow_after: Some(group.overflow_after) }
            }
            None => WaitModel::Unknown,
        }
    }

    fn rate(&self, group: &Group) -> Option<Rate> {
        let serving = Serving { agents: group.serving_agents, seats: group.serving_seats, pace: &group.pace };
        Rate::of(serving, self.now, self.config.rules.default_wait_per_position)
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
        let position = self.groups[g as usize].queue.position_on_joining(priority, front) as u32;
        let estimate = self.wait_model(g).at(position, false);
        self.touch_pace(g);
        let group = &mut self.groups[g as usize];
        group.queue.push(key, Told { position, wait: pace::told_wait(estimate) });
        let overflow_at = (!group.overflow_to.is_empty()).then(|| now + group.overflow_after);
        let group_id = group.id.clone();
        let mut overflow_timer = None;
        if let Some(at) = overflow_at {
            self.timers.arm(&mut overflow_timer, at, Timer::Overflow(session));
        }
        let s = self.sessions.get_mut(&session).expect("present");
        s.phase = Phase::Waiting { key, since: now, overflowed: false, overflow_timer };
        self.event(Event::SessionQueued { session, group: group_id.clone(), priority, reason });
        self.notify_customer(session, CustomerNotice::Queued { group: group_id, position, estimated_wait: estimate });
        if estimate == WaitEstimate::Unknown {
            self.notify_customer(session, self.no_agent_online(g));
        }
        self.dirty_groups.insert(g);
        self.queue_changed.insert(g);
    }

    fn no_agent_online(&self, g: GroupIdx) -> CustomerNotice {
        let group = &self.groups[g as usize];
        CustomerNotice::NoAgentOnline { group: group.id.clone(), service_hours: group.hours.service_hours.clone() }
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
        self.touch_pace(g);
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
        let told = group.queue.remove(&old_key).unwrap_or_default();
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
    /// groups may now serve it too, and the customer is told which.
    pub(super) fn fire_overflow(&mut self, session: SessionId) {
        let Some(s) = self.sessions.get_mut(&session) else { return };
        let Phase::Waiting { key, overflowed, .. } = &mut s.phase else { return };
        *overflowed = true;
        let key = *key;
        let g = s.group;
        self.in_overflow_groups(g, |overflow_in| {
            overflow_in.insert(key);
        });
        let group = &self.groups[g as usize];
        let to_groups: Vec<_> = group
            .overflow_to
            .iter()
            .map(|&h| &self.groups[h as usize])
            .filter(|h| h.hours.open)
            .map(|h| (h.id.clone(), h.name.clone()))
            .collect();
        // Telling a customer about groups that are closed would promise help nobody gives now.
        if !to_groups.is_empty() {
            self.notify_customer(session, CustomerNotice::Overflowed { group: group.id.clone(), to_groups });
        }
        // Its estimate no longer waits for `overflow_after`.
        self.queue_changed.insert(g);
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
        // A closed group's agents finish their own queue but take no overflow.
        let open = group.hours.open;
        let mut overflow = group.overflow_in.iter().copied().filter(|_| open).peekable();
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
        self.count_seat_taken(g, agent, overflow);
        let group = &mut self.groups[g as usize];
        group.active += 1;
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

    /// A seat of `agent` went to a session of group `g`: if a chat had just
    /// freed it and the agent serves `g` as a member (not through overflow),
    /// it is a sample of `g`'s pace.
    fn count_seat_taken(&mut self, g: GroupIdx, agent: AgentIdx, overflow: bool) {
        let freed = self.departed.iter().position(|&a| a == agent).map(|i| self.departed.swap_remove(i));
        self.touch_pace(g);
        if freed.is_some() && !overflow {
            self.groups[g as usize].pace.record_freed_seat_taken(self.now);
        }
    }

    /// Tells the front of every changed queue its new positions at once; the
    /// rest of the queue hears at most once per `queue_update_interval`.
    pub(super) fn flush_queue_positions(&mut self) {
        let front = self.config.rules.queue_update_front;
        while let Some(g) = self.queue_changed.pop_first() {
            self.tell_positions(g, front);
            // The back of the queue hears at the tick; while saturated,
            // everyone's estimate drifts with time (`fire_queue_tick`).
            let group = &self.groups[g as usize];
            if group.queue.len() > front || group.pace.is_saturated() {
                self.arm_queue_tick(g);
            }
        }
    }

    fn arm_queue_tick(&mut self, g: GroupIdx) {
        let at = self.now + self.config.rules.queue_update_interval;
        let group = &mut self.groups[g as usize];
        if group.queue_tick.is_none() {
            self.timers.arm(&mut group.queue_tick, at, Timer::QueueTick(g));
        }
    }

    /// Everyone in the queue hears what changed since they were last told.
    /// While the group is saturated, estimates drift with time (a stretch
    /// without anyone served slows the pace): the tick goes on.
    pub(super) fn fire_queue_tick(&mut self, g: GroupIdx) {
        self.tell_positions(g, usize::MAX);
        let group = &self.groups[g as usize];
        if group.pace.is_saturated() && group.queue.len() > 0 {
            self.arm_queue_tick(g);
        }
    }

    /// Sends an update to each of the first `limit` customers of a group's
    /// queue whose position or estimate differs from what they were last
    /// told (an estimate only when it changed by a quarter,
    /// [`pace::worth_telling`]); and `NoAgentOnline` or `AgentOnline` to
    /// those whose estimate became unknown or known.
    pub(super) fn tell_positions(&mut self, g: GroupIdx, limit: usize) {
        let model = self.wait_model(g);
        let needs_overflow = model.needs_overflow_state();
        let no_agent = self.no_agent_online(g);
        let Router { groups, outputs, sessions, .. } = self;
        let Group { id, queue, .. } = &mut groups[g as usize];
        for (i, (key, told)) in queue.iter_told_mut().take(limit).enumerate() {
            let position = i as u32 + 1;
            let overflowed = needs_overflow && is_overflowed(&sessions[&key.session]);
            let estimate = model.at(position, overflowed);
            let wait = pace::told_wait(estimate);
            if told.position == position && !pace::worth_telling(told.wait, wait) {
                continue;
            }
            let availability = match (told.wait == pace::UNKNOWN_WAIT, wait == pace::UNKNOWN_WAIT) {
                (false, true) => Some(no_agent.clone()),
                (true, false) => Some(CustomerNotice::AgentOnline { group: id.clone() }),
                _ => None,
            };
            *told = Told { position, wait };
            let notice = CustomerNotice::Queued { group: id.clone(), position, estimated_wait: estimate };
            outputs.push_back(Output::ToCustomer { session: key.session, notice });
            if let Some(notice) = availability {
                outputs.push_back(Output::ToCustomer { session: key.session, notice });
            }
        }
    }
}

fn is_overflowed(s: &Session) -> bool {
    matches!(s.phase, Phase::Waiting { overflowed: true, .. })
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
