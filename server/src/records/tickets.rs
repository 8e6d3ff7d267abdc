//! What the ticket desk reports, as records: an event row per thing that
//! happened to a ticket, and the whole ticket once it is done. Ticket times
//! are already calendar time (unix ms: the wall clock with `clock.scale = 1`
//! and no `clock.start`), so they are written as they are.

use serde_json::json;
use switchboard_records::{NoteLine, Record, TicketEventRow, TicketRow, TranscriptLine};

use crate::router::{AgentId, GroupId};
use crate::tickets::view::{origin_name, priority_name};
use crate::tickets::{Author, DeskEvent, DoneTicket};

/// The record of one desk event; `lsn` and `ordinal` key an event row.
pub fn record(event: &DeskEvent, lsn: u64, ordinal: u32) -> Record {
    let row = |ticket: u64, group: &GroupId, kind: &str, agent: Option<&AgentId>, at, detail: &serde_json::Value| {
        Record::TicketEvent(TicketEventRow {
            lsn,
            ordinal,
            at,
            ticket,
            kind: kind.into(),
            agent: agent.map(AgentId::to_string),
            group: group.to_string(),
            detail: detail.to_string(),
        })
    };
    match event {
        DeskEvent::Created { ticket, group, origin, at } => {
            row(ticket.0, group, "created", None, *at, &json!({"origin": origin}))
        }
        DeskEvent::Breach(b) => {
            let detail = json!({"kind": b.kind.name(), "deadline": b.deadline});
            row(b.ticket.0, &b.group, "breach", b.agent.as_ref(), b.deadline, &detail)
        }
        DeskEvent::ComplaintTendency { ticket, group, agent, signal, at } => {
            row(ticket.0, group, "complaint_tendency", agent.as_ref(), *at, &json!({"signal": signal.label()}))
        }
        DeskEvent::Happened(f) => row(f.ticket.0, &f.group, f.kind, f.agent.as_ref(), f.at, &f.detail),
        DeskEvent::Done(done) => Record::Ticket(Box::new(ticket_row(done))),
    }
}

fn ticket_row(done: &DoneTicket) -> TicketRow {
    let (ticket, file) = (&done.ticket, &done.file);
    let messages = file
        .messages
        .iter()
        .map(|m| {
            let (from, agent) = match &m.from {
                Author::Customer => ("customer", None),
                Author::Agent(a) => ("agent", Some(a.to_string())),
                Author::System => ("system", None),
            };
            TranscriptLine { at: m.at, from: from.into(), agent, text: m.text.clone(), attachment: None }
        })
        .collect();
    let notes = file
        .notes
        .iter()
        .map(|n| {
            let target = match (&n.to, file.session) {
                (Some(to), _) => format!("agent:{to}"),
                (None, Some(session)) => format!("chat:{}", session.0),
                (None, None) => "chat".to_owned(),
            };
            NoteLine { at: n.at, from: n.from.to_string(), target, text: n.text.clone() }
        })
        .collect();
    TicketRow {
        ticket: ticket.id.0,
        group: ticket.group.0.clone(),
        customer_name: file.customer_name.clone(),
        origin: origin_name(&ticket.origin).into(),
        state: ticket.state.name().into(),
        priority: priority_name(ticket.priority).into(),
        owner: ticket.owner.as_ref().map(|o| o.0.clone()),
        created_at: ticket.created_at.as_millisecond(),
        done_at: done.at,
        expected_resolution: file.expected_resolution,
        messages,
        notes,
    }
}
