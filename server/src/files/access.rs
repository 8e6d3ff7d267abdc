//! Who may send a file to a chat and who may see it, decided by the driver
//! (which owns the chats) for the HTTP handlers.
//!
//! Sending: the chat's customer (by its resume token) or the agent serving
//! it. Seeing: the customer, the agent serving it, agents who served it
//! before (they wrote in it or handed it on), and supervisors. A chat the
//! server no longer holds is seen by supervisors only.

use tokio::sync::oneshot;

use super::code;
use super::store::Sender;
use crate::router::output::Speaker;
use crate::router::{AgentId, SessionId};
use crate::session::SessionLayer;

/// Who is asking.
#[derive(Debug)]
pub enum Caller {
    /// A resume token, as presented (not yet known to be one).
    Customer(String),
    Agent {
        agent: AgentId,
        supervisor: bool,
    },
}

/// What the caller wants to do with the chat's files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    Send,
    Read,
}

/// A question for the driver.
#[derive(Debug)]
pub struct FileCall {
    pub caller: Caller,
    pub session: SessionId,
    pub purpose: Purpose,
    /// Who the caller is to the chat, or the code of the refusal.
    pub reply: oneshot::Sender<Result<Sender, &'static str>>,
}

/// Answers a [`FileCall`].
pub fn answer(layer: &SessionLayer, call: FileCall) {
    let verdict = check(layer, &call.caller, call.session, call.purpose);
    let _ = call.reply.send(verdict);
}

fn check(layer: &SessionLayer, caller: &Caller, session: SessionId, purpose: Purpose) -> Result<Sender, &'static str> {
    match caller {
        Caller::Customer(token) => match layer.session_for_token(token) {
            Some(own) if own == session => Ok(Sender::Customer),
            Some(_) => Err(code::FILE_FORBIDDEN),
            None => Err(switchboard_protocol::code::TOKEN_INVALID),
        },
        Caller::Agent { agent, supervisor } => agent_check(layer, agent, *supervisor, session, purpose),
    }
}

fn agent_check(
    layer: &SessionLayer,
    agent: &AgentId,
    supervisor: bool,
    session: SessionId,
    purpose: Purpose,
) -> Result<Sender, &'static str> {
    let router = layer.router();
    let serving = router.agent_sessions(agent).is_some_and(|s| s.contains(&session));
    let allowed = match purpose {
        Purpose::Send if router.session_open(session) != Some(true) => return Err(code::SESSION_UNKNOWN),
        Purpose::Send => serving,
        Purpose::Read => serving || supervisor || served_before(layer, agent, session),
    };
    if allowed {
        Ok(Sender::Agent(agent.to_string()))
    } else {
        Err(code::FILE_FORBIDDEN)
    }
}

/// Whether the agent wrote in the chat or handed it on.
fn served_before(layer: &SessionLayer, agent: &AgentId, session: SessionId) -> bool {
    let Some(view) = layer.router().session_view(session) else { return false };
    view.history.iter().any(|h| matches!(&h.from, Speaker::Agent(a) if a == agent))
        || view.notes.iter().any(|n| &n.from == agent)
}
