//! What the HTTP API asks of the desk, decided on the driver's task against
//! the session layer: who may see what, reads answered at once, changes
//! turned into a [`TicketEntry`] to log and apply, and the answer built
//! from the state after it. Read-only: nothing here changes the layer.

use serde_json::{json, Value};
use switchboard_tickets::{Priority, TicketId, TicketState};
use tokio::sync::oneshot;

use super::view::{self, Audience};
use super::{AgentReply, FromChat, LeftBecause, NewTicket, TicketEntry, TicketRefusal};
use crate::router::{AgentId, GroupId, Millis, SessionId};
use crate::session::{SessionLayer, Token, TokenDigest};

/// Codes of the HTTP API (beside the core's and the desk's), in docs/tickets.md.
pub mod api_code {
    pub const UNKNOWN_GROUP: &str = "unknown_group";
    pub const BAD_REASON: &str = "bad_reason";
    pub const TOKEN_INVALID: &str = "ticket_token_invalid";
    pub const BAD_SCOPE: &str = "bad_scope";
    pub const SUPERVISORS_ONLY: &str = "supervisors_only";
    pub const NOT_VISIBLE: &str = "ticket_not_visible";
    pub const BAD_STATE: &str = "bad_state";
}

/// A request and where its answer goes (answered once its entry is durable).
#[derive(Debug)]
pub struct TicketCall {
    pub request: TicketRequest,
    pub reply: oneshot::Sender<TicketAnswer>,
}

pub type TicketAnswer = Result<Answered, TicketRefusal>;

/// A successful answer: its body, and whether it created a ticket (201).
#[derive(Debug)]
pub struct Answered {
    pub created: bool,
    pub body: Value,
}

#[derive(Debug)]
pub enum TicketRequest {
    /// A customer leaves a message; `token` is minted by the handler and
    /// returned once, only its digest is kept.
    Leave {
        new: Leave,
        token: Token,
    },
    Customer {
        token: String,
        act: CustomerAct,
    },
    Agent {
        viewer: Viewer,
        act: AgentAct,
    },
}

#[derive(Debug)]
pub struct Leave {
    pub group: String,
    pub text: String,
    pub name: Option<String>,
    pub reason: LeftBecause,
}

#[derive(Debug)]
pub enum CustomerAct {
    Read,
    Message(String),
    Confirm,
    Close,
}

/// A signed-in agent, supervisor or admin.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub agent: AgentId,
    /// Supervisors and admins see every group.
    pub supervisor: bool,
}

#[derive(Debug)]
pub enum AgentAct {
    List {
        scope: Scope,
        state: Option<TicketState>,
    },
    Read(TicketId),
    Reply(TicketId, AgentReply),
    Transfer {
        ticket: TicketId,
        to: AgentId,
        note: String,
    },
    Priority(TicketId, Priority),
    /// `token` is minted by the handler: the customer gets it in the chat.
    FromChat {
        session: SessionId,
        note: String,
        token: Token,
    },
    Breaches {
        since: i64,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Mine,
    Groups,
    All,
}

/// What to do with a request.
#[derive(Debug)]
pub enum Step {
    Answer(TicketAnswer),
    /// Log and apply `entry`, then answer with the ticket as `then` says.
    Log {
        entry: TicketEntry,
        then: Then,
    },
}

/// How to answer once the entry is applied.
#[derive(Debug)]
pub enum Then {
    Customer { token: Option<Token> },
    Agent { viewer: Viewer, created: bool },
}

fn refuse(code: &'static str, message: impl Into<String>) -> TicketRefusal {
    TicketRefusal::new(code, message)
}

/// The calendar time of business time `now`, unix ms: every answer's `now`.
fn calendar_now(layer: &SessionLayer, now: Millis) -> i64 {
    layer.clock().instant(now.0).as_millisecond()
}

/// Decides a request at business time `now`.
pub fn prepare(layer: &SessionLayer, now: Millis, request: TicketRequest) -> Step {
    match request {
        TicketRequest::Leave { new, token } => leave(layer, new, token),
        TicketRequest::Customer { token, act } => match customer_ticket(layer, &token) {
            Err(e) => Step::Answer(Err(e)),
            Ok(ticket) => {
                let entry = match act {
                    CustomerAct::Read => return Step::Answer(customer_answer(layer, now, ticket, None)),
                    CustomerAct::Message(text) => match super::check_text(layer.router(), &text) {
                        Ok(()) => TicketEntry::CustomerMessage { ticket, text },
                        Err(e) => return Step::Answer(Err(e)),
                    },
                    CustomerAct::Confirm => TicketEntry::CustomerConfirm { ticket },
                    CustomerAct::Close => TicketEntry::CustomerClose { ticket },
                };
                Step::Log { entry, then: Then::Customer { token: None } }
            }
        },
        TicketRequest::Agent { viewer, act } => {
            agent_step(layer, now, viewer, act).unwrap_or_else(|e| Step::Answer(Err(e)))
        }
    }
}

fn leave(layer: &SessionLayer, new: Leave, token: Token) -> Step {
    let known = layer.router().config().groups.iter().any(|g| g.id.as_str() == new.group);
    if !known {
        return Step::Answer(Err(refuse(api_code::UNKNOWN_GROUP, format!("no skill group `{}`", new.group))));
    }
    if let Err(e) = super::check_text(layer.router(), &new.text) {
        return Step::Answer(Err(e));
    }
    let entry = TicketEntry::Create(NewTicket {
        group: GroupId::new(&new.group),
        text: new.text,
        customer_name: new.name.filter(|n| !n.trim().is_empty()),
        reason: new.reason,
        customer: token.digest(),
    });
    Step::Log { entry, then: Then::Customer { token: Some(token) } }
}

fn customer_ticket(layer: &SessionLayer, token: &str) -> Result<TicketId, TicketRefusal> {
    layer
        .desk()
        .ticket_of(&TokenDigest::of(token))
        .ok_or_else(|| refuse(api_code::TOKEN_INVALID, "no ticket has this token"))
}

fn agent_step(layer: &SessionLayer, now: Millis, viewer: Viewer, act: AgentAct) -> Result<Step, TicketRefusal> {
    let entry = match act {
        AgentAct::List { scope, state } => return Ok(Step::Answer(list(layer, now, &viewer, scope, state))),
        AgentAct::Breaches { since } => return Ok(Step::Answer(breaches(layer, now, &viewer, since))),
        AgentAct::Read(ticket) => {
            visible(layer, &viewer, ticket)?;
            return Ok(Step::Answer(agent_answer(layer, now, ticket, &viewer, false)));
        }
        AgentAct::FromChat { session, note, token } => {
            TicketEntry::FromChat(FromChat { agent: viewer.agent.clone(), session, note, token })
        }
        AgentAct::Reply(ticket, mut reply) => {
            visible(layer, &viewer, ticket)?;
            super::check_text(layer.router(), &reply.text)?;
            reply.content = layer.content_rules().check(&reply.text);
            TicketEntry::AgentReply { ticket, agent: viewer.agent.clone(), reply }
        }
        AgentAct::Transfer { ticket, to, note } => {
            visible(layer, &viewer, ticket)?;
            TicketEntry::Transfer { ticket, from: viewer.agent.clone(), to, note }
        }
        AgentAct::Priority(ticket, priority) => {
            visible(layer, &viewer, ticket)?;
            TicketEntry::SetPriority { ticket, priority }
        }
    };
    let created = matches!(entry, TicketEntry::FromChat(_));
    Ok(Step::Log { entry, then: Then::Agent { viewer, created } })
}

/// The groups an agent of the roster belongs to.
fn groups_of(layer: &SessionLayer, agent: &AgentId) -> Vec<GroupId> {
    let entry = layer.router().roster().find(|a| a.id == *agent);
    entry.map(|a| a.groups.iter().map(|m| m.group.clone()).collect()).unwrap_or_default()
}

/// Its owner, a member of its group, or a supervisor may see a ticket.
fn visible(layer: &SessionLayer, viewer: &Viewer, id: TicketId) -> Result<(), TicketRefusal> {
    let (ticket, _) = layer.desk().ticket(id).ok_or_else(|| refuse("ticket_unknown", format!("no ticket {}", id.0)))?;
    let owner = ticket.owner.as_ref().is_some_and(|o| o.0 == viewer.agent.as_str());
    let member = groups_of(layer, &viewer.agent).iter().any(|g| g.as_str() == ticket.group.0);
    if viewer.supervisor || owner || member {
        Ok(())
    } else {
        Err(refuse(api_code::NOT_VISIBLE, "the ticket is not yours nor of your skill groups"))
    }
}

fn list(layer: &SessionLayer, now: Millis, viewer: &Viewer, scope: Scope, state: Option<TicketState>) -> TicketAnswer {
    if scope == Scope::All && !viewer.supervisor {
        return Err(refuse(api_code::SUPERVISORS_ONLY, "scope=all is for supervisors and admins"));
    }
    let groups: Vec<String> = groups_of(layer, &viewer.agent).iter().map(|g| g.to_string()).collect();
    let mut tickets: Vec<_> = layer
        .desk()
        .tickets()
        .filter(|(t, _)| !t.state.is_done() && state.is_none_or(|s| t.state == s))
        .filter(|(t, _)| match scope {
            Scope::Mine => t.owner.as_ref().is_some_and(|o| o.0 == viewer.agent.as_str()),
            Scope::Groups => viewer.supervisor || groups.contains(&t.group.0),
            Scope::All => true,
        })
        .collect();
    tickets.sort_by_cached_key(|(t, f)| view::urgency(t, f));
    let tickets: Vec<Value> = tickets.into_iter().map(|(t, f)| view::summary(t, f)).collect();
    Ok(Answered { created: false, body: json!({"tickets": tickets, "now": calendar_now(layer, now)}) })
}

fn breaches(layer: &SessionLayer, now: Millis, viewer: &Viewer, since: i64) -> TicketAnswer {
    if !viewer.supervisor {
        return Err(refuse(api_code::SUPERVISORS_ONLY, "breaches are for supervisors and admins"));
    }
    let breaches: Vec<Value> = layer.desk().breaches().filter(|b| b.deadline >= since).map(view::breach).collect();
    Ok(Answered { created: false, body: json!({"breaches": breaches, "now": calendar_now(layer, now)}) })
}

/// The answer once an entry is applied: the ticket it concerned, as the caller sees it.
pub fn answer(layer: &SessionLayer, now: Millis, outcome: Result<TicketId, TicketRefusal>, then: Then) -> TicketAnswer {
    let ticket = outcome?;
    match then {
        Then::Customer { token } => customer_answer(layer, now, ticket, token),
        Then::Agent { viewer, created } => agent_answer(layer, now, ticket, &viewer, created),
    }
}

fn customer_answer(layer: &SessionLayer, now: Millis, id: TicketId, token: Option<Token>) -> TicketAnswer {
    let (ticket, file) = layer.desk().ticket(id).ok_or_else(|| refuse(api_code::TOKEN_INVALID, "no such ticket"))?;
    let max = layer.desk().config().max_messages;
    let mut body = json!({
        "ticket": view::ticket_view(ticket, file, Audience::Customer, max),
        "now": calendar_now(layer, now),
    });
    let created = token.is_some();
    if let Some(token) = token {
        body["token"] = Value::String(token.as_str().to_owned());
    }
    Ok(Answered { created, body })
}

fn agent_answer(layer: &SessionLayer, now: Millis, id: TicketId, viewer: &Viewer, created: bool) -> TicketAnswer {
    let (ticket, file) =
        layer.desk().ticket(id).ok_or_else(|| refuse("ticket_unknown", format!("no ticket {}", id.0)))?;
    let max = layer.desk().config().max_messages;
    let body = json!({
        "ticket": view::ticket_view(ticket, file, Audience::Agent(&viewer.agent), max),
        "now": calendar_now(layer, now),
    });
    Ok(Answered { created, body })
}
