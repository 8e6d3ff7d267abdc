//! The closed set of inputs the router core accepts.
//!
//! Everything that can change the router's state is one of these, given to
//! [`super::Router::handle`] with the time it happened. The enum is
//! serialisable so that an input log can journal it and a restart (or a
//! standby) can replay it. Like every type of the core, it uses serde's
//! default, externally tagged enums: a compact format that does not describe
//! itself (postcard, the log's format) cannot read internally tagged ones.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::ids::{AgentId, GroupId, SessionId};
use super::time::Millis;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Input {
    /// A customer opens a chat in a skill group.
    CustomerJoin {
        session: SessionId,
        group: GroupId,
        priority: Priority,
        customer_name: Option<Arc<str>>,
        /// The customer's id on the host site, when the site vouched for it
        /// (a verified customer); `None`: unverified, the name is only what
        /// the customer typed.
        customer_id: Option<Arc<str>>,
    },
    CustomerMessage {
        session: SessionId,
        text: Arc<str>,
    },
    CustomerTyping {
        session: SessionId,
    },
    /// The customer's connection dropped; the session waits `customer_grace` for a resume.
    CustomerDisconnected {
        session: SessionId,
    },
    CustomerReconnected {
        session: SessionId,
    },
    /// The customer ended the chat.
    CustomerLeave {
        session: SessionId,
    },
    /// The customer's answer to a cross-group transfer prompt.
    CustomerConsent {
        session: SessionId,
        accept: bool,
    },
    /// The customer's answer to the agent's "is your problem resolved?".
    CustomerConfirmResolved {
        session: SessionId,
        resolved: bool,
    },
    CustomerRate {
        session: SessionId,
        rating: Rating,
    },

    /// An agent's connection identified itself (first time or a reconnect).
    AgentConnected {
        agent: AgentId,
    },
    /// An agent's connection dropped; their sessions wait `agent_grace`.
    AgentDisconnected {
        agent: AgentId,
    },
    AgentSetAvailability {
        agent: AgentId,
        availability: Availability,
    },
    AgentReply {
        agent: AgentId,
        session: SessionId,
        text: Arc<str>,
    },
    AgentTyping {
        agent: AgentId,
        session: SessionId,
    },
    /// Ask the customer to confirm the problem is resolved, before closing.
    AgentAskResolved {
        agent: AgentId,
        session: SessionId,
    },
    AgentTransfer {
        agent: AgentId,
        session: SessionId,
        target: TransferTarget,
        note: Arc<str>,
        skip_consent: bool,
    },
    AgentClose {
        agent: AgentId,
        session: SessionId,
        reason: AgentCloseReason,
    },

    /// Where groups stand on the business calendar, as the driver read it
    /// (the router has no calendar): only the groups that changed are listed.
    SetGroupHours {
        groups: Vec<(GroupId, GroupHours)>,
    },

    // Added after the first release: new inputs go last (the log numbers
    // variants in declaration order).
    /// An agent's text matched content rules (the server checked it before
    /// logging, so a replay flags the same rules whatever the config says by
    /// then): one `content_rule` conduct flag per rule. `session`: the chat
    /// the reply was for (its owner only); `None`: a ticket reply.
    ContentFlagged {
        agent: AgentId,
        session: Option<SessionId>,
        rules: Vec<Arc<str>>,
    },
}

/// A skill group's service hours as last read on the calendar: whether it
/// is open, when that next changes, and the hours' text (shown to
/// customers, and changeable across restarts: hours are calendar config,
/// not routing identity).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupHours {
    pub open: bool,
    /// When the group next opens (closed) or closes (open); `None`: never.
    pub next_change: Option<Millis>,
    pub service_hours: Option<Arc<str>>,
}

impl GroupHours {
    /// A group without service hours: always open.
    pub const ALWAYS_OPEN: GroupHours = GroupHours { open: true, next_change: None, service_hours: None };
}

/// Queue priority: higher is served first. Complaint tendency raises
/// `Normal` to `High`; `Urgent` is for business-stopping problems.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    #[default]
    Normal,
    High,
    Urgent,
}

/// What an agent asks to be.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Availability {
    Available,
    Break {
        reason: Arc<str>,
    },
    /// Leaving: refused while the agent still has open sessions.
    Offline,
}

/// Where a transfer goes.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferTarget {
    Agent(AgentId),
    Group(GroupId),
}

/// Why an agent closes a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentCloseReason {
    Resolved,
    CustomerUnresponsive,
    Duplicate,
    Abusive,
    Other,
}

/// A customer's rating of a closed session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rating {
    Satisfied,
    Dissatisfied,
}

impl Rating {
    pub fn label(self) -> &'static str {
        match self {
            Rating::Satisfied => "satisfied",
            Rating::Dissatisfied => "dissatisfied",
        }
    }
}
