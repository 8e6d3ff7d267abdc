//! The router's outputs into streams: each notice becomes a frame, numbered
//! and kept for replay when it belongs to the session, and sent to the
//! owner's connection if it has one.

use switchboard_protocol::agent::ServerToAgent;
use switchboard_protocol::customer::ServerToCustomer;
use tracing::debug;

use super::stream::Kept;
use super::{convert, frame, Action, ClosedChat, SessionLayer};
use crate::router::output::{CustomerNotice, Event, Output};
use crate::router::{AgentId, SessionId};

impl SessionLayer {
    pub(super) fn route_outputs(&mut self) {
        while let Some(output) = self.router.poll_output() {
            self.route(output);
        }
    }

    fn route(&mut self, output: Output) {
        match output {
            Output::ToCustomer { session, notice } => {
                if matches!(notice, CustomerNotice::Closed { .. }) {
                    debug!(session = session.0, "session closed");
                }
                self.push_customer(session, convert::customer_notice(notice));
            }
            Output::ToAgent { agent, notice } => self.push_agent(&agent, &mut convert::agent_notice(notice)),
            Output::ToSupervisors { notice } => self.tell_supervisors(&mut convert::supervisor_notice(&notice)),
            Output::Event { event } => {
                match &event {
                    Event::SessionForgotten { session } => self.drop_stream_if_gone(*session),
                    Event::AgentStateChanged { agent, to, .. } => self.duty_changes.push((agent.clone(), *to)),
                    _ => {}
                }
                let closed = self.closed_chat(&event);
                self.actions.push_back(Action::Event(event));
                if let Some(closed) = closed {
                    self.actions.push_back(Action::ChatClosed(Box::new(closed)));
                }
            }
        }
    }

    /// For a `SessionClosed`, the session as it closed. The router keeps a
    /// closed session until its rating window ends (longer than the input
    /// that closed it), so its view is always there at this point.
    fn closed_chat(&self, event: &Event) -> Option<ClosedChat> {
        let Event::SessionClosed { session, agent, reason, .. } = event else { return None };
        let view = self.router.session_view(*session)?;
        Some(ClosedChat { view, agent: agent.clone(), reason: *reason })
    }

    pub(super) fn push_customer(&mut self, session: SessionId, mut message: ServerToCustomer) {
        let keep = self.config.replay_buffer;
        let Some(c) = self.customers.get_mut(&session) else { return };
        let kept = if matches!(message, ServerToCustomer::Queued { .. }) { Kept::Position } else { Kept::Plain };
        let numbered = c.stream.number(message.seq_mut());
        let f = frame(&message);
        if numbered {
            c.stream.keep_for_replay(f.clone(), keep, kept);
        }
        if let Some(conn) = c.stream.conn {
            self.actions.push_back(Action::Send { conn, frame: f });
        }
    }

    /// Every connected supervisor's stream gets `message`.
    pub(super) fn tell_supervisors(&mut self, message: &mut ServerToAgent) {
        for i in 0..self.supervisors.len() {
            let s = self.supervisors[i].clone();
            if self.agents.get(&s).is_some_and(|st| st.conn.is_some()) {
                self.push_agent(&s, message);
            }
        }
    }

    pub(super) fn push_agent(&mut self, agent: &AgentId, message: &mut ServerToAgent) {
        let keep = self.config.replay_buffer;
        let Some(stream) = self.agents.get_mut(agent) else { return };
        let numbered = stream.number(message.seq_mut());
        let f = frame(&message);
        if numbered {
            stream.keep_for_replay(f.clone(), keep, Kept::Plain);
        }
        if let Some(conn) = stream.conn {
            self.actions.push_back(Action::Send { conn, frame: f });
        }
    }
}
