//! The JSON of the HTTP API (docs/tickets.md, "HTTP API"): a ticket as its
//! customer or an agent sees it, a summary for lists, a breach. Times are
//! calendar unix milliseconds.

use serde_json::{json, Map, Value};
use switchboard_tickets::{BreachKind, Limit, Origin, Priority, Ticket, TicketState};

use super::{Author, Breach, TicketFile};
use crate::router::AgentId;

/// Who is looking: customers get no deadlines and no notes.
#[derive(Clone, Copy, Debug)]
pub enum Audience<'a> {
    Customer,
    Agent(&'a AgentId),
}

/// The whole ticket, messages included; `max_messages` says whether it has room for another.
pub fn ticket_view(ticket: &Ticket, file: &TicketFile, audience: Audience, max_messages: u32) -> Value {
    let room = file.messages.len() < max_messages as usize;
    let mut view = common(ticket, file);
    let messages: Vec<Value> = file.messages.iter().map(message).collect();
    view.insert("messages".into(), Value::Array(messages));
    let open = !ticket.state.is_done();
    let (can_reply, can_confirm) = match audience {
        Audience::Customer => (open && room, ticket.state == TicketState::PendingConfirmation),
        Audience::Agent(agent) => (open && room && ticket.owner.as_ref().is_some_and(|o| o.0 == agent.as_str()), false),
    };
    view.insert("can_reply".into(), can_reply.into());
    view.insert("can_confirm".into(), can_confirm.into());
    if let Audience::Agent(_) = audience {
        view.insert("deadlines".into(), deadlines(ticket));
        let notes: Vec<Value> = file
            .notes
            .iter()
            .map(|n| json!({"from": n.from.as_str(), "to": n.to.as_ref().map(AgentId::as_str), "text": n.text, "at": n.at}))
            .collect();
        view.insert("notes".into(), Value::Array(notes));
        view.insert("complaint_signals".into(), signals(file));
        view.insert("overdue".into(), overdue(file));
    }
    Value::Object(view)
}

/// A ticket in a list: no messages, with the last message's time and the earliest deadline.
pub fn summary(ticket: &Ticket, file: &TicketFile) -> Value {
    let mut view = common(ticket, file);
    view.insert("deadlines".into(), deadlines(ticket));
    view.insert("last_message_at".into(), file.messages.back().map(|m| m.at).into());
    view.insert("due".into(), due(ticket, file).into());
    view.insert("complaint_signals".into(), signals(file));
    view.insert("overdue".into(), overdue(file));
    Value::Object(view)
}

pub fn breach(b: &Breach) -> Value {
    json!({
        "ticket": b.ticket.0,
        "group": b.group.as_str(),
        "kind": b.kind.name(),
        "agent": b.agent.as_ref().map(AgentId::as_str),
        "deadline": b.deadline,
    })
}

/// The earliest deadline owed: running, or passed and still owed (overdue), calendar ms.
pub fn due(ticket: &Ticket, file: &TicketFile) -> Option<i64> {
    let running = ticket.deadlines.values().map(|t| t.as_millisecond());
    running.chain(file.overdue.iter().map(|(_, deadline)| *deadline)).min()
}

/// Most urgent first: urgent, then the earliest deadline owed (overdue
/// ones are the earliest; none last), then the oldest, then the lowest id.
pub fn urgency(ticket: &Ticket, file: &TicketFile) -> impl Ord {
    let due = due(ticket, file).map_or((1, 0), |d| (0, d));
    (std::cmp::Reverse(ticket.priority), due, ticket.created_at, ticket.id)
}

/// The limits passed and still owed, oldest first (agents only).
fn overdue(file: &TicketFile) -> Value {
    file.overdue.iter().map(|(kind, deadline)| json!({"limit": kind.name(), "deadline": deadline})).collect()
}

fn common(ticket: &Ticket, file: &TicketFile) -> Map<String, Value> {
    let view = json!({
        "id": ticket.id.0,
        "group": ticket.group.0,
        "state": ticket.state.name(),
        "priority": priority_name(ticket.priority),
        "owner": ticket.owner.as_ref().map(|o| o.0.as_str()),
        "customer_name": file.customer_name,
        "origin": origin_name(&ticket.origin),
        "created_at": ticket.created_at.as_millisecond(),
        "expected_resolution": file.expected_resolution,
    });
    match view {
        Value::Object(map) => map,
        _ => unreachable!("json! of an object"),
    }
}

/// The complaint-tendency signals raised on the ticket, in the order raised (agents only).
fn signals(file: &TicketFile) -> Value {
    file.signals.iter().map(|s| Value::from(s.label())).collect()
}

fn deadlines(ticket: &Ticket) -> Value {
    let map: Map<String, Value> = ticket
        .deadlines
        .iter()
        .map(|(limit, at)| (limit_name(*limit).to_owned(), at.as_millisecond().into()))
        .collect();
    Value::Object(map)
}

fn message(m: &super::TicketMessage) -> Value {
    let (from, agent) = match &m.from {
        Author::Customer => ("customer", None),
        Author::Agent(a) => ("agent", Some(a.as_str())),
        Author::System => ("system", None),
    };
    json!({"from": from, "agent": agent, "text": m.text, "at": m.at})
}

pub fn limit_name(limit: Limit) -> &'static str {
    match limit {
        Limit::FirstResponse => BreachKind::FirstResponse.name(),
        Limit::ExpectedTime => BreachKind::ExpectedTime.name(),
        Limit::NoReply => BreachKind::NoReply.name(),
        Limit::FeedbackWait => "feedback_wait",
        Limit::ConfirmationWait => "confirmation_wait",
    }
}

pub fn priority_name(priority: Priority) -> &'static str {
    match priority {
        Priority::Normal => "normal",
        Priority::Urgent => "urgent",
    }
}

pub fn origin_name(origin: &Origin) -> &'static str {
    match origin {
        Origin::GroupClosed => "group_closed",
        Origin::NobodyAvailable => "nobody_available",
        Origin::CustomerChoice => "customer_choice",
        Origin::FromChat { .. } => "from_chat",
    }
}
