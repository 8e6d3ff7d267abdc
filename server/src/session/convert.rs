//! Conversions between the router core's types and the wire protocol's.
//!
//! The core has its own plain types; only `switchboard-protocol` knows the
//! wire. This file is the one place where the two meet.

use std::sync::Arc;
use std::time::Duration;

use switchboard_protocol::agent::{AgentCommand, AvailabilityRequest, ServerToAgent, SessionEndedWhy as WireEndedWhy};
use switchboard_protocol::attachment::{self, Attachment};
use switchboard_protocol::common as wire;
use switchboard_protocol::customer::ServerToCustomer;

use crate::router::config::Role;
use crate::router::input::{AgentCloseReason, Availability, Input, Priority, TransferTarget};
use crate::router::output::{
    AgentNotice, AgentState, CloseReason, ComplaintSignal, ConductFlag, ConductKind, ConsentOutcome, CustomerNotice,
    HandoffNote, HistoryEntry, SessionEndedWhy, SessionView, Speaker, SupervisorNotice, WaitEstimate,
};
use crate::router::snapshot::SessionStatus;
use crate::router::Router;
use crate::router::{AgentId, GroupId, SessionId};
use switchboard_calendar::ClockAnchor;

/// Longest break reason kept (longer reasons are cut).
const MAX_BREAK_REASON_CHARS: usize = 200;

pub fn ms(d: Duration) -> u64 {
    d.as_millis().min(u64::MAX as u128) as u64
}

pub fn priority_from_wire(p: wire::Priority) -> Priority {
    match p {
        wire::Priority::Normal => Priority::Normal,
        wire::Priority::High => Priority::High,
        wire::Priority::Urgent => Priority::Urgent,
    }
}

fn priority_to_wire(p: Priority) -> wire::Priority {
    match p {
        Priority::Normal => wire::Priority::Normal,
        Priority::High => wire::Priority::High,
        Priority::Urgent => wire::Priority::Urgent,
    }
}

pub fn rating_from_wire(r: wire::Rating) -> crate::router::Rating {
    match r {
        wire::Rating::Satisfied => crate::router::Rating::Satisfied,
        wire::Rating::Dissatisfied => crate::router::Rating::Dissatisfied,
    }
}

pub fn role_to_wire(r: Role) -> wire::Role {
    match r {
        Role::Agent => wire::Role::Agent,
        Role::Supervisor => wire::Role::Supervisor,
    }
}

fn state_to_wire(s: AgentState) -> wire::AgentState {
    match s {
        AgentState::Available => wire::AgentState::Available,
        AgentState::Busy => wire::AgentState::Busy,
        AgentState::OnBreak => wire::AgentState::OnBreak,
        AgentState::Disconnected => wire::AgentState::Disconnected,
        AgentState::Offline => wire::AgentState::Offline,
    }
}

fn close_reason_to_wire(r: CloseReason) -> wire::CloseReason {
    match r {
        CloseReason::Agent(AgentCloseReason::Resolved) => wire::CloseReason::AgentResolved,
        CloseReason::Agent(AgentCloseReason::CustomerUnresponsive) => wire::CloseReason::AgentCustomerUnresponsive,
        CloseReason::Agent(AgentCloseReason::Duplicate) => wire::CloseReason::AgentDuplicate,
        CloseReason::Agent(AgentCloseReason::Abusive) => wire::CloseReason::AgentAbusive,
        CloseReason::Agent(AgentCloseReason::Other) => wire::CloseReason::AgentOther,
        CloseReason::CustomerLeft => wire::CloseReason::CustomerLeft,
        CloseReason::CustomerIdle => wire::CloseReason::CustomerIdle,
        CloseReason::CustomerLost => wire::CloseReason::CustomerLost,
    }
}

fn close_reason_from_wire(r: wire::AgentCloseReason) -> AgentCloseReason {
    match r {
        wire::AgentCloseReason::Resolved => AgentCloseReason::Resolved,
        wire::AgentCloseReason::CustomerUnresponsive => AgentCloseReason::CustomerUnresponsive,
        wire::AgentCloseReason::Duplicate => AgentCloseReason::Duplicate,
        wire::AgentCloseReason::Abusive => AgentCloseReason::Abusive,
        wire::AgentCloseReason::Other => AgentCloseReason::Other,
    }
}

fn agent_close_reason_to_wire(r: AgentCloseReason) -> wire::AgentCloseReason {
    match r {
        AgentCloseReason::Resolved => wire::AgentCloseReason::Resolved,
        AgentCloseReason::CustomerUnresponsive => wire::AgentCloseReason::CustomerUnresponsive,
        AgentCloseReason::Duplicate => wire::AgentCloseReason::Duplicate,
        AgentCloseReason::Abusive => wire::AgentCloseReason::Abusive,
        AgentCloseReason::Other => wire::AgentCloseReason::Other,
    }
}

fn consent_to_wire(o: ConsentOutcome) -> wire::ConsentOutcome {
    match o {
        ConsentOutcome::Accepted => wire::ConsentOutcome::Accepted,
        ConsentOutcome::Declined => wire::ConsentOutcome::Declined,
        ConsentOutcome::TimedOut => wire::ConsentOutcome::TimedOut,
    }
}

fn target_to_wire(t: &TransferTarget) -> wire::TransferTarget {
    match t {
        TransferTarget::Agent(a) => wire::TransferTarget::Agent(a.to_string()),
        TransferTarget::Group(g) => wire::TransferTarget::Group(g.to_string()),
    }
}

fn target_from_wire(t: &wire::TransferTarget) -> TransferTarget {
    match t {
        wire::TransferTarget::Agent(a) => TransferTarget::Agent(AgentId::new(a)),
        wire::TransferTarget::Group(g) => TransferTarget::Group(GroupId::new(g)),
    }
}

pub(super) fn signal_to_wire(s: ComplaintSignal) -> wire::ComplaintSignal {
    match s {
        ComplaintSignal::PhoneRequest => wire::ComplaintSignal::PhoneRequest,
        ComplaintSignal::AbusiveLanguage => wire::ComplaintSignal::AbusiveLanguage,
        ComplaintSignal::RepeatedQuestion => wire::ComplaintSignal::RepeatedQuestion,
        ComplaintSignal::MessageBurst => wire::ComplaintSignal::MessageBurst,
    }
}

fn kind_to_wire(k: ConductKind) -> wire::ConductKind {
    use wire::ConductKind as W;
    match k {
        ConductKind::TransferWithoutConsent => W::TransferWithoutConsent,
        ConductKind::TransferPingPong => W::TransferPingPong,
        ConductKind::TransferDumpingLateSession => W::TransferDumpingLateSession,
        ConductKind::TransferTooMany => W::TransferTooMany,
        ConductKind::BreakWhileCustomersWait => W::BreakWhileCustomersWait,
        ConductKind::BreakAfterAssignment => W::BreakAfterAssignment,
        ConductKind::BreakTooMany => W::BreakTooMany,
        ConductKind::BreakTooLong => W::BreakTooLong,
        ConductKind::CloseUnanswered => W::CloseUnanswered,
        ConductKind::CloseUnconfirmed => W::CloseUnconfirmed,
        ConductKind::CloseUnresponsiveTooSoon => W::CloseUnresponsiveTooSoon,
        ConductKind::CloseWithoutCause => W::CloseWithoutCause,
        ConductKind::DisconnectShedding => W::DisconnectShedding,
        ConductKind::ContentRule => W::ContentRule,
    }
}

fn flag_to_wire(f: &ConductFlag) -> wire::ConductFlag {
    wire::ConductFlag {
        agent: f.agent.to_string(),
        session: f.session.map(|s| s.0),
        kind: kind_to_wire(f.kind),
        category: f.kind.category().to_string(),
        at_ms: f.at.0,
        rule: f.rule.as_deref().map(str::to_owned),
    }
}

fn history_to_wire(h: &HistoryEntry) -> wire::HistoryEntry {
    let (from, agent) = match &h.from {
        Speaker::Customer => (wire::Speaker::Customer, None),
        Speaker::Agent(a) => (wire::Speaker::Agent, Some(a.to_string())),
    };
    let (text, attachment) = shown_text(&h.text);
    wire::HistoryEntry { at_ms: h.at.0, from, agent, text, attachment }
}

fn note_to_wire(n: &HandoffNote) -> wire::HandoffNote {
    wire::HandoffNote {
        from: n.from.to_string(),
        target: target_to_wire(&n.target),
        at_ms: n.at.0,
        text: n.text.to_string(),
    }
}

pub fn view_to_wire(v: &SessionView) -> wire::SessionView {
    wire::SessionView {
        session: v.session.0,
        group: v.group.to_string(),
        customer_name: v.customer_name.as_deref().map(str::to_owned),
        customer_id: v.customer_id.as_deref().map(str::to_owned),
        verified: v.customer_id.is_some(),
        overflowed_from: v.overflowed_from.as_ref().map(|g| g.to_string()),
        priority: priority_to_wire(v.priority),
        history: v.history.iter().map(history_to_wire).collect(),
        notes: v.notes.iter().map(note_to_wire).collect(),
        unanswered_since_ms: v.unanswered_since.map(|m| m.0),
        reply_clock_since_ms: v.reply_clock_since.map(|m| m.0),
        assigned_at_ms: v.assigned_at.0,
    }
}

pub fn status_to_wire(s: &SessionStatus) -> wire::SessionStatus {
    match s {
        SessionStatus::Waiting { group, position } => {
            wire::SessionStatus::Waiting { group: group.to_string(), position: *position }
        }
        SessionStatus::Assigned { group, agent_name, consent_pending, .. } => wire::SessionStatus::Assigned {
            group: group.to_string(),
            agent_name: agent_name.to_string(),
            consent_pending: *consent_pending,
        },
        SessionStatus::Closed { reason, can_rate } => {
            wire::SessionStatus::Closed { reason: close_reason_to_wire(*reason), can_rate: *can_rate }
        }
    }
}

/// A customer notice as a wire message (with `seq` 0: the stream sets it).
pub fn customer_notice(n: CustomerNotice) -> ServerToCustomer {
    match n {
        CustomerNotice::Queued { group, position, estimated_wait } => ServerToCustomer::Queued {
            seq: 0,
            group: group.to_string(),
            position,
            estimated_wait_ms: estimated_wait.wait().map(ms),
            estimate_basis: match estimated_wait {
                WaitEstimate::Measured(_) => wire::EstimateBasis::Measured,
                WaitEstimate::Assumed(_) => wire::EstimateBasis::Assumed,
                WaitEstimate::Unknown => wire::EstimateBasis::Unknown,
            },
        },
        CustomerNotice::NoAgentOnline { group, service_hours } => ServerToCustomer::NoAgentOnline {
            seq: 0,
            group: group.to_string(),
            service_hours: service_hours.as_deref().map(str::to_owned),
        },
        CustomerNotice::AgentOnline { group } => ServerToCustomer::AgentOnline { seq: 0, group: group.to_string() },
        CustomerNotice::Overflowed { group, to_groups } => ServerToCustomer::Overflowed {
            seq: 0,
            group: group.to_string(),
            to_groups: to_groups
                .into_iter()
                .map(|(id, name)| wire::GroupInfo { id: id.to_string(), name: name.to_string() })
                .collect(),
        },
        CustomerNotice::Assigned { agent_name } => {
            ServerToCustomer::Assigned { seq: 0, agent_name: agent_name.to_string() }
        }
        CustomerNotice::AgentMessage { agent_name, text } => {
            let (text, attachment) = shown_text(&text);
            ServerToCustomer::AgentMessage { seq: 0, agent_name: agent_name.to_string(), text, attachment }
        }
        CustomerNotice::AgentTyping => ServerToCustomer::AgentTyping {},
        CustomerNotice::ConsentRequest { to_group, to_group_name, timeout } => ServerToCustomer::ConsentRequest {
            seq: 0,
            to_group: to_group.to_string(),
            to_group_name: to_group_name.to_string(),
            timeout_ms: ms(timeout),
        },
        CustomerNotice::ResolveRequest => ServerToCustomer::ResolveRequest { seq: 0 },
        CustomerNotice::Closed { reason, can_rate } => {
            ServerToCustomer::Closed { seq: 0, reason: close_reason_to_wire(reason), can_rate }
        }
    }
}

/// An agent notice as a wire message (with `seq` 0: the stream sets it).
pub fn agent_notice(n: AgentNotice) -> ServerToAgent {
    match n {
        AgentNotice::State { state, sessions } => ServerToAgent::State {
            seq: 0,
            state: state_to_wire(state),
            sessions: sessions.iter().map(view_to_wire).collect(),
        },
        AgentNotice::StateChanged { state } => ServerToAgent::StateChanged { seq: 0, state: state_to_wire(state) },
        AgentNotice::SessionAssigned { session } => {
            ServerToAgent::SessionAssigned { seq: 0, session: view_to_wire(&session) }
        }
        AgentNotice::CustomerMessage { session, text } => {
            let (text, attachment) = shown_text(&text);
            ServerToAgent::CustomerMessage { seq: 0, session: session.0, text, attachment }
        }
        AgentNotice::CustomerTyping { session } => ServerToAgent::CustomerTyping { session: session.0 },
        AgentNotice::ReplyWarning { session, waited } => {
            ServerToAgent::ReplyWarning { seq: 0, session: session.0, waited_ms: ms(waited) }
        }
        AgentNotice::SlowReply { session, waited } => {
            ServerToAgent::SlowReply { seq: 0, session: session.0, waited_ms: ms(waited) }
        }
        AgentNotice::ConsentOutcome { session, outcome } => {
            ServerToAgent::ConsentOutcome { seq: 0, session: session.0, outcome: consent_to_wire(outcome) }
        }
        AgentNotice::ResolveAnswer { session, resolved } => {
            ServerToAgent::ResolveAnswer { seq: 0, session: session.0, resolved }
        }
        AgentNotice::PriorityRaised { session, priority, signal } => ServerToAgent::PriorityRaised {
            seq: 0,
            session: session.0,
            priority: priority_to_wire(priority),
            signal: signal_to_wire(signal),
        },
        AgentNotice::SessionEnded { session, why } => ServerToAgent::SessionEnded {
            seq: 0,
            session: session.0,
            why: match why {
                SessionEndedWhy::Closed { reason } => WireEndedWhy::Closed { reason: close_reason_to_wire(reason) },
                SessionEndedWhy::Transferred { target } => {
                    WireEndedWhy::Transferred { target: target_to_wire(&target) }
                }
            },
        },
        AgentNotice::ConductFlagged { flag } => ServerToAgent::ConductFlagged { seq: 0, flag: flag_to_wire(&flag) },
    }
}

/// A supervisor notice as a wire message (with `seq` 0: the stream sets it).
pub fn supervisor_notice(n: &SupervisorNotice) -> ServerToAgent {
    match n {
        SupervisorNotice::ReplyWarning { agent, session, group } => ServerToAgent::AlertReplyWarning {
            seq: 0,
            agent: agent.to_string(),
            session: session.0,
            group: group.to_string(),
        },
        SupervisorNotice::SlowReply { agent, session, group } => ServerToAgent::AlertSlowReply {
            seq: 0,
            agent: agent.to_string(),
            session: session.0,
            group: group.to_string(),
        },
        SupervisorNotice::ConductFlagged { flag } => {
            ServerToAgent::AlertConductFlagged { seq: 0, flag: flag_to_wire(flag) }
        }
        SupervisorNotice::ComplaintTendency { session, group, agent, signal } => {
            ServerToAgent::AlertComplaintTendency {
                seq: 0,
                session: session.0,
                group: group.to_string(),
                agent: agent.as_ref().map(|a| a.to_string()),
                signal: signal_to_wire(*signal),
            }
        }
        SupervisorNotice::ClosedWithCause { agent, session, group, reason } => ServerToAgent::AlertClosedWithCause {
            seq: 0,
            agent: agent.to_string(),
            session: session.0,
            group: group.to_string(),
            reason: agent_close_reason_to_wire(*reason),
        },
    }
}

/// The router input for an agent's command; `None` for `ping` (answered by the gateway).
pub fn agent_input(agent: &AgentId, command: &AgentCommand) -> Option<Input> {
    let agent = agent.clone();
    Some(match command {
        AgentCommand::SetAvailability { state, reason, .. } => Input::AgentSetAvailability {
            agent,
            availability: match state {
                AvailabilityRequest::Available => Availability::Available,
                AvailabilityRequest::Break => {
                    let reason: String =
                        reason.as_deref().unwrap_or("break").chars().take(MAX_BREAK_REASON_CHARS).collect();
                    Availability::Break { reason: Arc::from(reason) }
                }
                AvailabilityRequest::Offline => Availability::Offline,
            },
        },
        AgentCommand::Reply { session, text, attachment, .. } => {
            Input::AgentReply { agent, session: SessionId(*session), text: carried_text(text, attachment.as_ref()) }
        }
        AgentCommand::Typing { session, .. } => Input::AgentTyping { agent, session: SessionId(*session) },
        AgentCommand::AskResolved { session, .. } => Input::AgentAskResolved { agent, session: SessionId(*session) },
        AgentCommand::Transfer { session, to, note, skip_consent, .. } => Input::AgentTransfer {
            agent,
            session: SessionId(*session),
            target: target_from_wire(to),
            note: Arc::from(note.as_str()),
            skip_consent: *skip_consent,
        },
        AgentCommand::Close { session, reason, .. } => {
            Input::AgentClose { agent, session: SessionId(*session), reason: close_reason_from_wire(*reason) }
        }
        AgentCommand::Ping { .. } | AgentCommand::Snapshot { .. } | AgentCommand::Token { .. } => return None,
    })
}

/// The one text the router carries for a message and its file (see
/// `switchboard_protocol::attachment`). A typed text may not pose as a file:
/// a leading marker is dropped. A file with an id that is not a file id is
/// dropped too (ids become paths when the file is served).
fn carried_text(text: &str, attachment: Option<&Attachment>) -> Arc<str> {
    let typed = text.trim_start_matches(attachment::MARKER);
    match attachment.filter(|a| Attachment::valid_id(&a.id)) {
        Some(a) => {
            let name: String = a.name.chars().take(attachment::MAX_NAME_CHARS).collect();
            Arc::from(Attachment { name, ..a.clone() }.embed(typed))
        }
        None => Arc::from(typed),
    }
}

/// The wire's text and file of a carried text: clients that know nothing of
/// files read the caption, or the file's name when there is none.
fn shown_text(carried: &str) -> (String, Option<Attachment>) {
    match Attachment::split(carried) {
        (Some(a), caption) => (a.readable(caption), Some(a)),
        (None, text) => (text.to_owned(), None),
    }
}

/// The router input for a customer's command; `None` for `ping`.
pub fn customer_input(session: SessionId, command: &switchboard_protocol::customer::CustomerCommand) -> Option<Input> {
    use switchboard_protocol::customer::CustomerCommand as C;
    Some(match command {
        C::Message { text, attachment, .. } => {
            Input::CustomerMessage { session, text: carried_text(text, attachment.as_ref()) }
        }
        C::Typing { .. } => Input::CustomerTyping { session },
        C::Consent { accept, .. } => Input::CustomerConsent { session, accept: *accept },
        C::ConfirmResolved { resolved, .. } => Input::CustomerConfirmResolved { session, resolved: *resolved },
        C::Rate { rating, .. } => Input::CustomerRate { session, rating: rating_from_wire(*rating) },
        C::Leave { .. } => Input::CustomerLeave { session },
        C::Ping { .. } => return None,
    })
}

/// The router's snapshot and agent records as a supervisor's `snapshot` message.
pub fn snapshot_to_wire(
    id: String,
    router: &crate::router::Router,
    now: crate::router::Millis,
    anchor: Option<ClockAnchor>,
) -> ServerToAgent {
    let snapshot = router.snapshot(now);
    let groups = snapshot
        .groups
        .iter()
        .map(|g| wire::GroupSnapshot {
            id: g.id.to_string(),
            name: g.name.to_string(),
            open: g.open,
            next_change_at: g.next_change.and_then(|at| unix_ms(anchor, at)),
            waiting: g.waiting as u64,
            active: g.active as u64,
            oldest_wait_ms: g.oldest_wait.map(ms),
            agents: g.agents.clone(),
        })
        .collect();
    let agents = snapshot
        .agents
        .iter()
        .map(|a| {
            let record = router.agent_record(&a.id).map(|r| wire::AgentRecord {
                sessions_assigned: r.sessions_assigned,
                sessions_closed: r.sessions_closed,
                reply_warnings: r.reply_warnings,
                slow_replies: r.slow_replies,
                satisfied: r.satisfied,
                dissatisfied: r.dissatisfied,
                flags: r.flag_counts.clone(),
            });
            wire::AgentSnapshot {
                id: a.id.to_string(),
                name: a.name.to_string(),
                role: role_to_wire(a.role),
                state: state_to_wire(a.state),
                load: a.load,
                capacity: a.capacity,
                groups: a.groups.iter().map(|g| g.to_string()).collect(),
                break_reason: a.break_reason.as_deref().map(str::to_owned),
                record: record.unwrap_or_default(),
            }
        })
        .collect();
    ServerToAgent::Snapshot { id, groups, agents }
}

/// At most this many colleagues are listed in an agent's `welcome`: with a
/// roster of thousands, every connection would otherwise carry the whole
/// roster (130 KB for 2,000 agents). Others can still be typed by id.
pub const TRANSFER_AGENTS_MAX: usize = 200;

/// Where `agent` may transfer a session: every skill group, and the other agents
/// of the roster (supervisors do not take sessions), with display names;
/// colleagues who share a skill group with `agent` first, at most
/// [`TRANSFER_AGENTS_MAX`].
pub fn transfer_targets(router: &Router, agent: &AgentId) -> (Vec<wire::GroupInfo>, Vec<wire::AgentInfo>) {
    let groups = router
        .config()
        .groups
        .iter()
        .map(|g| wire::GroupInfo { id: g.id.to_string(), name: g.name.clone().unwrap_or_else(|| g.id.to_string()) })
        .collect();
    let own: Vec<&GroupId> = router
        .roster()
        .find(|a| a.id == *agent)
        .map(|a| a.groups.iter().map(|m| &m.group).collect())
        .unwrap_or_default();
    let others = router.roster().filter(|a| a.role == Role::Agent && a.id != *agent);
    let (colleagues, rest): (Vec<_>, Vec<_>) = others.partition(|a| a.groups.iter().any(|m| own.contains(&&m.group)));
    let agents = colleagues
        .into_iter()
        .chain(rest)
        .take(TRANSFER_AGENTS_MAX)
        .map(|a| wire::AgentInfo {
            id: a.id.to_string(),
            name: a.name.clone().unwrap_or_else(|| a.id.to_string()),
            groups: a.groups.iter().map(|m| m.group.to_string()).collect(),
        })
        .collect();
    (groups, agents)
}

/// A business time as unix milliseconds, once a start has placed business
/// time on the calendar.
pub fn unix_ms(anchor: Option<ClockAnchor>, at: crate::router::Millis) -> Option<u64> {
    anchor.map(|a| a.instant(at.0).as_millisecond().max(0) as u64)
}

/// Each group's hours (only those in `only`, if given), in config order.
pub fn group_hours_to_wire(
    router: &Router,
    anchor: Option<ClockAnchor>,
    only: Option<&[GroupId]>,
) -> Vec<wire::GroupHours> {
    router
        .group_hours()
        .filter(|(id, _)| only.is_none_or(|only| only.contains(id)))
        .map(|(id, h)| wire::GroupHours {
            id: id.to_string(),
            open: h.open,
            next_change_at: h.next_change.and_then(|at| unix_ms(anchor, at)),
        })
        .collect()
}

/// What a customer refused by a closed group is told: when it opens (on
/// the calendar), in unix milliseconds and in the customer's own time zone
/// (if they gave one).
pub fn group_closed(
    router: &Router,
    group: &GroupId,
    opens_at: Option<jiff::Timestamp>,
    time_zone: Option<&str>,
) -> ServerToCustomer {
    let config = router.config().groups.iter().find(|g| g.id == *group);
    let zone = time_zone.and_then(|z| switchboard_calendar::time_zone(z).ok());
    ServerToCustomer::GroupClosed {
        group: group.to_string(),
        group_name: config.and_then(|g| g.name.clone()).unwrap_or_else(|| group.to_string()),
        opens_at: opens_at.map(|t| t.as_millisecond().max(0) as u64),
        opens_at_local: opens_at.zip(zone).map(|(t, zone)| t.to_zoned(zone).to_string()),
        service_hours: config.and_then(|g| g.service_hours.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::router::config::{AgentConfig, GroupConfig, Membership, RouterConfig};

    fn agent(id: &str, group: &str) -> AgentConfig {
        AgentConfig {
            id: AgentId::new(id),
            name: None,
            role: Role::Agent,
            capacity: 1,
            groups: vec![Membership { group: GroupId::new(group), level: 1 }],
        }
    }

    #[test]
    fn transfer_targets_list_colleagues_of_shared_groups_first_and_are_capped() {
        let group = |id: &str| GroupConfig {
            id: GroupId::new(id),
            name: None,
            max_queue: 10,
            overflow_to: vec![],
            overflow_after: Duration::from_secs(60),
            service_hours: None,
        };
        let mut agents: Vec<AgentConfig> = (0..300).map(|i| agent(&format!("other{i:03}"), "refunds")).collect();
        agents.push(agent("alice", "general"));
        agents.push(agent("bob", "general"));
        let config =
            RouterConfig { rules: Default::default(), groups: vec![group("general"), group("refunds")], agents };
        let (groups, listed) = transfer_targets(&Router::new(config).unwrap(), &AgentId::new("alice"));
        assert_eq!(groups.len(), 2);
        assert_eq!(listed.len(), TRANSFER_AGENTS_MAX);
        assert_eq!(listed[0].id, "bob", "the colleague of a shared group comes first");
        assert!(listed.iter().all(|a| a.id != "alice"), "never oneself");
    }
}
