//! Router events and closed chats into the records store's rows: the only
//! place that knows both the router's types and the store's.

use std::collections::BTreeSet;

use serde_json::Value as Json;
use switchboard_protocol::attachment::Attachment;
use switchboard_records::{ChatRow, EventRow, FlagRow, NoteLine, RatingRow, Record, TranscriptFile, TranscriptLine};

use super::Stamp;
use crate::router::input::{Priority, TransferTarget};
use crate::router::output::{Event, HistoryEntry, Speaker};
use crate::router::{AgentId, GroupId, Millis, SessionId};
use crate::session::ClosedChat;

/// Business time to wall-clock time: `stamp` is one instant on both clocks,
/// `scale` business milliseconds per real one.
#[derive(Clone, Copy, Debug)]
pub struct WallClock {
    pub stamp: Stamp,
    pub scale: f64,
}

impl WallClock {
    pub fn at(&self, business: Millis) -> i64 {
        let behind = self.stamp.business.0.saturating_sub(business.0) as f64 / self.scale;
        self.stamp.wall_ms as i64 - behind as i64
    }
}

/// The event's row: `lsn` and `ordinal` are its key.
pub fn event_row(event: &Event, lsn: u64, ordinal: u32, clock: WallClock) -> EventRow {
    let (session, agent, group) = subject(event);
    let flag = match event {
        Event::ConductFlagged { flag } if flag.session.is_some() => {
            Some(FlagRow { kind: flag.kind.label().into(), category: flag.kind.category().into() })
        }
        _ => None,
    };
    EventRow {
        lsn,
        ordinal,
        at: clock.at(clock.stamp.business),
        kind: event.kind().into(),
        session: session.map(|s| s.0),
        agent: agent.map(|a| a.to_string()),
        group: group.map(|g| g.to_string()),
        detail: detail(event),
        flag,
    }
}

/// A rating, for the closed chat's row.
pub fn rating(event: &Event) -> Option<Record> {
    match event {
        Event::Rated { session, rating, .. } => {
            Some(Record::Rating(RatingRow { session: session.0, rating: rating.label().into() }))
        }
        _ => None,
    }
}

/// The event's fields as a JSON object (the router's own serde form, without the tag).
fn detail(event: &Event) -> String {
    match serde_json::to_value(event) {
        Ok(Json::Object(map)) => map.into_iter().next().map_or_else(|| "{}".into(), |(_, fields)| fields.to_string()),
        _ => "{}".into(),
    }
}

/// The session, agent and group an event is about, where it has them.
fn subject(event: &Event) -> (Option<SessionId>, Option<&AgentId>, Option<&GroupId>) {
    use Event::*;
    match event {
        SessionQueued { session, group, .. } | CustomerMessage { session, group } => {
            (Some(*session), None, Some(group))
        }
        SessionAssigned { session, group, agent, .. }
        | AgentReply { session, agent, group, .. }
        | ReplyWarning { session, agent, group }
        | SlowReply { session, agent, group } => (Some(*session), Some(agent), Some(group)),
        Transferred { session, from, .. } => (Some(*session), Some(from), None),
        ConsentRequested { session, to_group } => (Some(*session), None, Some(to_group)),
        ConsentAnswered { session, .. } | PriorityRaised { session, .. } | SessionForgotten { session } => {
            (Some(*session), None, None)
        }
        ConductFlagged { flag } => (flag.session, Some(&flag.agent), None),
        ComplaintTendency { session, group, .. } => (Some(*session), None, Some(group)),
        SessionClosed { session, group, agent, .. } => (Some(*session), agent.as_ref(), Some(group)),
        Rated { session, agent, .. } => (Some(*session), Some(agent), None),
        AgentStateChanged { agent, .. } | AvailabilityRequested { agent, .. } | SessionsShed { agent, .. } => {
            (None, Some(agent), None)
        }
        RosterChanged { .. } => (None, None, None),
    }
}

/// The closed chat's row.
pub fn chat_row(closed: &ClosedChat, clock: WallClock) -> ChatRow {
    let view = &closed.view;
    let mut agents: BTreeSet<String> = view.notes.iter().map(|n| n.from.to_string()).collect();
    agents.extend(view.history.iter().filter_map(|h| match &h.from {
        Speaker::Agent(a) => Some(a.to_string()),
        Speaker::Customer => None,
    }));
    agents.extend(closed.agent.as_ref().map(|a| a.to_string()));
    ChatRow {
        session: view.session.0,
        group: view.group.to_string(),
        customer_name: view.customer_name.as_deref().map(Into::into),
        customer_id: view.customer_id.as_deref().map(Into::into),
        agent: closed.agent.as_ref().map(|a| a.to_string()),
        agents: agents.into_iter().collect(),
        priority: priority(view.priority).into(),
        closed_at: clock.at(clock.stamp.business),
        close_reason: closed.reason.label().into(),
        transcript: view.history.iter().map(|h| line(h, clock)).collect(),
        handoff_notes: view
            .notes
            .iter()
            .map(|n| NoteLine {
                at: clock.at(n.at),
                from: n.from.to_string(),
                target: target(&n.target),
                text: n.text.to_string(),
            })
            .collect(),
    }
}

fn line(entry: &HistoryEntry, clock: WallClock) -> TranscriptLine {
    let (from, agent) = match &entry.from {
        Speaker::Customer => ("customer", None),
        Speaker::Agent(a) => ("agent", Some(a.to_string())),
    };
    // A file rides in the text inside the server (switchboard_protocol::attachment): the record keeps it apart.
    let (text, attachment) = match Attachment::split(&entry.text) {
        (Some(a), caption) => {
            let text = a.readable(caption);
            (text, Some(TranscriptFile { id: a.id, name: a.name, content_type: a.content_type, size: a.size }))
        }
        (None, text) => (text.to_owned(), None),
    };
    TranscriptLine { at: clock.at(entry.at), from: from.into(), agent, text, attachment }
}

fn target(target: &TransferTarget) -> String {
    match target {
        TransferTarget::Agent(a) => format!("agent:{a}"),
        TransferTarget::Group(g) => format!("group:{g}"),
    }
}

fn priority(priority: Priority) -> &'static str {
    match priority {
        Priority::Normal => "normal",
        Priority::High => "high",
        Priority::Urgent => "urgent",
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::router::input::{Availability, Rating};
    use crate::router::output::{
        AgentState, CloseReason, ComplaintSignal, ConductFlag, ConductKind, ConsentOutcome, QueueReason, TransferKind,
    };

    /// One event of every kind, in `Event::KINDS` order.
    fn one_of_each() -> Vec<Event> {
        let (s, a, g) = (SessionId(1), AgentId::from("ann"), GroupId::from("general"));
        let flag = ConductFlag {
            agent: a.clone(),
            session: Some(s),
            kind: ConductKind::CloseUnanswered,
            at: Millis(5),
            rule: None,
        };
        vec![
            Event::SessionQueued {
                session: s,
                group: g.clone(),
                priority: Priority::Normal,
                reason: QueueReason::Joined,
            },
            Event::SessionAssigned {
                session: s,
                group: g.clone(),
                agent: a.clone(),
                waited: Duration::ZERO,
                overflow: false,
            },
            Event::CustomerMessage { session: s, group: g.clone() },
            Event::AgentReply { session: s, agent: a.clone(), group: g.clone(), reply_delay: None },
            Event::ReplyWarning { session: s, agent: a.clone(), group: g.clone() },
            Event::SlowReply { session: s, agent: a.clone(), group: g.clone() },
            Event::Transferred {
                session: s,
                from: a.clone(),
                target: TransferTarget::Group(g.clone()),
                kind: TransferKind::ToGroup,
            },
            Event::ConsentRequested { session: s, to_group: g.clone() },
            Event::ConsentAnswered { session: s, outcome: ConsentOutcome::Accepted },
            Event::ConductFlagged { flag },
            Event::ComplaintTendency { session: s, group: g.clone(), signal: ComplaintSignal::PhoneRequest },
            Event::PriorityRaised { session: s, priority: Priority::High },
            Event::SessionClosed { session: s, group: g, agent: Some(a.clone()), reason: CloseReason::CustomerLeft },
            Event::Rated { session: s, agent: a.clone(), rating: Rating::Satisfied },
            Event::AgentStateChanged { agent: a.clone(), from: AgentState::Available, to: AgentState::Busy },
            Event::AvailabilityRequested { agent: a.clone(), availability: Availability::Available },
            Event::SessionForgotten { session: s },
            Event::SessionsShed { agent: a, count: 1 },
            Event::RosterChanged { added: 0, changed: 0, removed: 0 },
        ]
    }

    #[test]
    fn every_event_kind_is_its_serde_tag_and_listed_once() {
        let events = one_of_each();
        assert_eq!(events.len(), Event::KINDS.len());
        for (event, kind) in events.iter().zip(Event::KINDS) {
            assert_eq!(event.kind(), kind);
            let json = serde_json::to_value(event).unwrap();
            assert!(json.get(kind).is_some(), "{kind}: {json}");
        }
    }

    #[test]
    fn a_flag_on_a_session_is_a_chat_flag_and_times_are_placed_back_by_scale() {
        let clock =
            WallClock { stamp: crate::journal::Stamp { business: Millis(60_000), wall_ms: 1_000_000 }, scale: 60.0 };
        assert_eq!(clock.at(Millis(60_000)), 1_000_000);
        assert_eq!(clock.at(Millis(0)), 999_000, "a business minute at scale 60 is a real second");
        let events = one_of_each();
        let row = event_row(&events[9], 7, 2, clock);
        assert_eq!((row.lsn, row.ordinal, row.session, row.agent.as_deref()), (7, 2, Some(1), Some("ann")));
        let flag = row.flag.unwrap();
        assert_eq!((flag.kind.as_str(), flag.category.as_str()), ("close_unanswered", "agent_close"));
        assert!(row.detail.contains("close_unanswered") && !row.detail.contains("conduct_flagged"), "{}", row.detail);
        assert!(event_row(&events[0], 1, 0, clock).flag.is_none());
        assert!(rating(&events[13]).is_some() && rating(&events[12]).is_none());
    }
}
