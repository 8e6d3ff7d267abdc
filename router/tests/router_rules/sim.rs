//! A simulated clock and a recorder around the router core, so each rule's
//! test reads as a short story in business time.

use std::sync::Arc;
use std::time::Duration;

use switchboard_router::*;

pub const MS: Duration = Duration::from_millis(1);

pub fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// A roster: groups as (id, overflow_to), agents as (id, groups, capacity).
pub fn config(groups: &[(&str, &[&str])], agents: &[(&str, &[&str], u32)]) -> RouterConfig {
    RouterConfig {
        rules: Rules::default(),
        groups: groups
            .iter()
            .map(|(id, overflow)| GroupConfig {
                id: GroupId::new(id),
                name: None,
                max_queue: 10_000,
                overflow_to: overflow.iter().map(|g| GroupId::new(g)).collect(),
                overflow_after: secs(120),
                service_hours: Some("Mon-Fri 09:00-18:00".into()),
            })
            .collect(),
        agents: agents
            .iter()
            .map(|(id, groups, capacity)| AgentConfig {
                id: AgentId::new(id),
                name: Some(format!("Agent {id}")),
                role: Role::Agent,
                capacity: *capacity,
                groups: groups.iter().map(|g| Membership { group: GroupId::new(g), level: 1 }).collect(),
            })
            .collect(),
    }
}

/// Two groups, `general` and `refunds`; alice and bob in general, carol in refunds.
pub fn small() -> RouterConfig {
    config(
        &[("general", &[]), ("refunds", &[])],
        &[("alice", &["general"], 2), ("bob", &["general"], 2), ("carol", &["refunds"], 2)],
    )
}

pub struct Sim {
    pub router: Router,
    pub now: Millis,
    /// Every output since the last `take`.
    pub out: Vec<Output>,
}

impl Sim {
    pub fn new(config: RouterConfig) -> Sim {
        Sim { router: Router::new(config).expect("valid config"), now: Millis::ZERO, out: Vec::new() }
    }

    fn drain(&mut self) {
        while let Some(o) = self.router.poll_output() {
            self.out.push(o);
        }
    }

    pub fn input(&mut self, input: Input) -> Result<(), RuleError> {
        let r = self.router.handle(self.now, input);
        self.drain();
        r
    }

    /// Moves the clock on, firing each timer at its exact deadline as the
    /// real driver does.
    pub fn advance(&mut self, d: Duration) {
        let target = self.now + d;
        while let Some(at) = self.router.poll_timeout().filter(|&at| at <= target) {
            assert!(at >= self.now, "a deadline in the past: {at:?} < {:?}", self.now);
            self.now = at;
            self.router.handle_timeout(at);
            self.drain();
        }
        self.now = target;
    }

    pub fn take(&mut self) -> Vec<Output> {
        std::mem::take(&mut self.out)
    }

    // ---- inputs, by name ----

    pub fn join(&mut self, session: u64, group: &str) {
        self.join_with(session, group, Priority::Normal);
    }

    pub fn join_with(&mut self, session: u64, group: &str, priority: Priority) {
        self.input(Input::CustomerJoin {
            session: SessionId(session),
            group: GroupId::new(group),
            priority,
            customer_name: Some(format!("customer {session}").into()),
            customer_id: None,
        })
        .expect("join");
    }

    pub fn say(&mut self, session: u64, text: &str) -> Result<(), RuleError> {
        self.input(Input::CustomerMessage { session: SessionId(session), text: text.into() })
    }

    pub fn online(&mut self, agent: &str) {
        self.input(Input::AgentConnected { agent: AgentId::new(agent) }).expect("connect");
        self.set(agent, Availability::Available).expect("available");
    }

    pub fn set(&mut self, agent: &str, availability: Availability) -> Result<(), RuleError> {
        self.input(Input::AgentSetAvailability { agent: AgentId::new(agent), availability })
    }

    pub fn take_break(&mut self, agent: &str) -> Result<(), RuleError> {
        self.set(agent, Availability::Break { reason: "lunch".into() })
    }

    pub fn reply(&mut self, agent: &str, session: u64, text: &str) -> Result<(), RuleError> {
        self.input(Input::AgentReply { agent: AgentId::new(agent), session: SessionId(session), text: text.into() })
    }

    pub fn transfer(&mut self, agent: &str, session: u64, target: TransferTarget, note: &str) -> Result<(), RuleError> {
        self.transfer_with(agent, session, target, note, false)
    }

    pub fn transfer_with(
        &mut self,
        agent: &str,
        session: u64,
        target: TransferTarget,
        note: &str,
        skip_consent: bool,
    ) -> Result<(), RuleError> {
        self.input(Input::AgentTransfer {
            agent: AgentId::new(agent),
            session: SessionId(session),
            target,
            note: Arc::from(note),
            skip_consent,
        })
    }

    pub fn close(&mut self, agent: &str, session: u64) -> Result<(), RuleError> {
        self.close_as(agent, session, AgentCloseReason::Resolved)
    }

    pub fn close_as(&mut self, agent: &str, session: u64, reason: AgentCloseReason) -> Result<(), RuleError> {
        self.input(Input::AgentClose { agent: AgentId::new(agent), session: SessionId(session), reason })
    }

    /// The agent asks "is your problem resolved?" and the customer answers.
    pub fn confirm(&mut self, agent: &str, session: u64, resolved: bool) {
        self.input(Input::AgentAskResolved { agent: AgentId::new(agent), session: SessionId(session) }).unwrap();
        self.input(Input::CustomerConfirmResolved { session: SessionId(session), resolved }).unwrap();
    }

    pub fn customer(&mut self, input: Input) -> Result<(), RuleError> {
        self.input(input)
    }

    // ---- what happened ----

    pub fn owner(&self, session: u64) -> Option<String> {
        match self.router.session_status(SessionId(session))? {
            SessionStatus::Assigned { agent, .. } => Some(agent.to_string()),
            _ => None,
        }
    }

    pub fn status(&self, session: u64) -> Option<SessionStatus> {
        self.router.session_status(SessionId(session))
    }

    pub fn sessions_of(&self, agent: &str) -> Vec<u64> {
        self.router.agent_sessions(&AgentId::new(agent)).unwrap().iter().map(|s| s.0).collect()
    }

    pub fn record(&self, agent: &str) -> AgentRecord {
        self.router.agent_record(&AgentId::new(agent)).unwrap().clone()
    }

    pub fn events(&self) -> Vec<Event> {
        self.out
            .iter()
            .filter_map(|o| if let Output::Event { event } = o { Some(event.clone()) } else { None })
            .collect()
    }

    pub fn to_agent(&self, agent: &str) -> Vec<AgentNotice> {
        self.out
            .iter()
            .filter_map(|o| match o {
                Output::ToAgent { agent: a, notice } if a.as_str() == agent => Some(notice.clone()),
                _ => None,
            })
            .collect()
    }

    pub fn to_customer(&self, session: u64) -> Vec<CustomerNotice> {
        self.out
            .iter()
            .filter_map(|o| match o {
                Output::ToCustomer { session: s, notice } if s.0 == session => Some(notice.clone()),
                _ => None,
            })
            .collect()
    }

    pub fn to_supervisors(&self) -> Vec<SupervisorNotice> {
        self.out
            .iter()
            .filter_map(|o| if let Output::ToSupervisors { notice } = o { Some(notice.clone()) } else { None })
            .collect()
    }

    /// Conduct flags raised (in events) since the last `take`.
    pub fn flags(&self) -> Vec<(String, ConductKind)> {
        self.events()
            .into_iter()
            .filter_map(|e| match e {
                Event::ConductFlagged { flag } => Some((flag.agent.to_string(), flag.kind)),
                _ => None,
            })
            .collect()
    }

    pub fn positions(&self, session: u64) -> Vec<u32> {
        self.to_customer(session)
            .into_iter()
            .filter_map(|n| if let CustomerNotice::Queued { position, .. } = n { Some(position) } else { None })
            .collect()
    }
}

pub fn to_agent(id: &str) -> TransferTarget {
    TransferTarget::Agent(AgentId::new(id))
}

pub fn to_group(id: &str) -> TransferTarget {
    TransferTarget::Group(GroupId::new(id))
}

pub const NOTE: &str = "Customer wants a refund for order 42; checked payment, needs the refunds desk.";
