//! The session layer's snapshot: everything [`SessionLayer::apply`] reads,
//! the router included, in a canonical order (maps sorted by key), so that
//! the same state always gives the same bytes.

use std::collections::HashMap;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use switchboard_calendar::ClockAnchor;

use super::stream::Stream;
use super::{supervisors_of, ConnId, CustomerStream, Owner, SessionConfig, SessionLayer, Token};
use crate::content::ContentRules;
use crate::journal::codec;
use crate::router::{AgentId, GroupId, Router, SavedRouter, SessionId};
use crate::tickets::{SavedDesk, TicketDesk};

/// Borrowed, for writing.
#[derive(Serialize)]
struct ImageRef<'a> {
    router: SavedRouter<'a>,
    config: &'a SessionConfig,
    next_session: u64,
    last_conn: ConnId,
    clock_anchor: Option<ClockAnchor>,
    conns: Vec<(ConnId, &'a Owner)>,
    customers: Vec<CustomerRef<'a>>,
    agents: Vec<(&'a AgentId, &'a Stream)>,
    tickets: SavedDesk,
}

#[derive(Serialize)]
struct CustomerRef<'a> {
    session: SessionId,
    token: &'a Token,
    group: &'a GroupId,
    stream: &'a Stream,
}

/// Owned, for reading. The router is restored explicitly so that a refusal
/// keeps its reason (postcard drops the text of serde's custom errors).
#[derive(Deserialize)]
struct Image {
    router: SavedRouter<'static>,
    config: SessionConfig,
    next_session: u64,
    last_conn: ConnId,
    clock_anchor: Option<ClockAnchor>,
    conns: Vec<(ConnId, Owner)>,
    customers: Vec<CustomerImage>,
    agents: Vec<(AgentId, Stream)>,
    tickets: SavedDesk,
}

#[derive(Deserialize)]
struct CustomerImage {
    session: SessionId,
    token: Token,
    group: GroupId,
    stream: Stream,
}

impl SessionLayer {
    /// The whole state, encoded for a snapshot. Call between entries (with
    /// every action drained): pending outputs are not part of an image.
    pub fn image(&self) -> Result<Vec<u8>, String> {
        let mut conns: Vec<_> = self.conns.iter().map(|(c, o)| (*c, o)).collect();
        conns.sort_unstable_by_key(|(c, _)| *c);
        let mut customers: Vec<_> = self
            .customers
            .iter()
            .map(|(s, c)| CustomerRef { session: *s, token: &c.token, group: &c.group, stream: &c.stream })
            .collect();
        customers.sort_unstable_by_key(|c| c.session);
        let mut agents: Vec<_> = self.agents.iter().collect();
        agents.sort_unstable_by(|a, b| a.0.cmp(b.0));
        let router = self.router.save().map_err(|e| e.to_string())?;
        codec::encode_snapshot(&ImageRef {
            router,
            config: &self.config,
            next_session: self.next_session,
            last_conn: self.last_conn,
            clock_anchor: self.clock_anchor,
            conns,
            customers,
            agents,
            tickets: self.desk.save(),
        })
    }

    /// A copy of the state to take an [`image`](Self::image) of elsewhere,
    /// so that the driver waits only for the copy, not for the encoding
    /// (frames are shared, not copied). Call between entries.
    pub fn copy_for_image(&self) -> SessionLayer {
        SessionLayer {
            router: self.router.clone(),
            config: self.config.clone(),
            clock_scale: self.clock_scale,
            conns: self.conns.clone(),
            customers: self.customers.clone(),
            tokens: self.tokens.clone(),
            agents: self.agents.clone(),
            supervisors: self.supervisors.clone(),
            next_session: self.next_session,
            last_conn: self.last_conn,
            now: self.now,
            clock_anchor: self.clock_anchor,
            desk: self.desk.clone(),
            content: self.content.clone(),
            duty_changes: Vec::new(),
            ticket_outcome: None,
            actions: Default::default(),
        }
    }

    /// A layer from a snapshot; `clock_scale` is this run's (it is not state),
    /// as is the calendar ([`SessionLayer::with_calendar`]).
    pub fn from_image(bytes: &[u8], clock_scale: f64) -> Result<SessionLayer, String> {
        let image: Image = codec::decode_snapshot(bytes)?;
        let router = Router::restore(image.router).map_err(|e| format!("the router's state: {e}"))?;
        let mut tokens = HashMap::with_capacity(image.customers.len());
        let mut customers = FxHashMap::default();
        for c in image.customers {
            tokens.insert(c.token.digest(), c.session);
            customers.insert(c.session, CustomerStream { stream: c.stream, token: c.token, group: c.group });
        }
        let supervisors = supervisors_of(&router);
        let now = router.now();
        let desk = TicketDesk::restore(image.tickets)?;
        Ok(SessionLayer {
            router,
            config: image.config,
            clock_scale,
            conns: image.conns.into_iter().collect(),
            customers,
            tokens,
            agents: image.agents.into_iter().collect(),
            supervisors,
            next_session: image.next_session,
            last_conn: image.last_conn,
            now,
            clock_anchor: image.clock_anchor,
            desk,
            content: ContentRules::defaults(),
            duty_changes: Vec::new(),
            ticket_outcome: None,
            actions: Default::default(),
        })
    }
}
