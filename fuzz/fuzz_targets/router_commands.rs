//! Arbitrary bytes, read (with `arbitrary`) as a sequence of steps into the
//! router core on simulated time: customer joins and commands, agent
//! connects, availability and commands, time advances and timeouts. Many
//! are invalid on purpose (unknown sessions and agents, closed sessions,
//! notes too short, transfers to self...), as a hostile client would send.
//!
//! The config is small and fixed (three groups, one overflowing to another,
//! four agents of capacity 1-2, a supervisor) so that short inputs reach
//! full agents, queues, transfers and timers.
//!
//! Checked after every step, besides "never panics" (the model-based
//! property tests in `router/tests/router_properties.rs` check the rules
//! themselves; these are the invariants that need no model):
//! - a refused input (`Err`) changes nothing: no output, the same snapshot
//!   and the same `poll_timeout`;
//! - `poll_timeout` is never in the past;
//! - no session has two owners, no agent is over capacity, and the
//!   snapshot's load is the number of sessions the agent holds;
//! - every session joined still has a status and a view until the router
//!   says it forgot it (`SessionForgotten`, once the rating window has
//!   passed after its close), and none after;
//! - every output round-trips through serde_json (the server journals and
//!   encodes them);
//! - at the end (for one input in eight), the router saves (postcard), restores, and saves the same
//!   bytes again, and the restored router reports the same snapshot.
#![no_main]

use std::collections::HashSet;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use switchboard_router::{
    AgentCloseReason, AgentConfig, AgentId, Availability, Event, GroupConfig, GroupId, Input, Membership, Millis,
    Output, Priority, Rating, Role, Router, RouterConfig, Rules, SessionId, TransferTarget,
};

const GROUPS: &[&str] = &["general", "refunds", "logistics"];
/// (id, capacity, groups); the last one is the supervisor.
const AGENTS: &[(&str, u32, &[usize])] =
    &[("ann", 2, &[0]), ("ben", 1, &[0, 1]), ("rita", 2, &[1]), ("leo", 1, &[2]), ("sue", 1, &[])];
const TEXTS: &[&str] =
    &["Hello, I need help", "where is my refund?", "I want a phone call now", "you are useless", "", "  "];
const NOTES: &[&str] = &["", "short", "0123456789", "Customer asks about a refund; order checked, please approve."];

#[derive(Arbitrary, Debug)]
enum Op {
    /// Milliseconds (times 16, so a few steps cross the reply and grace timers).
    Advance(u16),
    /// Onto the next deadline, plus -1, 0 or +1 ms.
    ToDeadline(u8),
    Join {
        group: u8,
        priority: u8,
        named: bool,
        reuse: Option<u8>,
    },
    Message {
        session: u8,
        text: u8,
    },
    Typing {
        session: u8,
    },
    CustomerDisconnect {
        session: u8,
    },
    CustomerReconnect {
        session: u8,
    },
    Leave {
        session: u8,
    },
    Consent {
        session: u8,
        accept: bool,
    },
    ConfirmResolved {
        session: u8,
        resolved: bool,
    },
    Rate {
        session: u8,
        satisfied: bool,
    },
    AgentConnect {
        agent: u8,
    },
    AgentDisconnect {
        agent: u8,
    },
    SetAvailability {
        agent: u8,
        kind: u8,
    },
    Reply {
        agent: u8,
        session: u8,
        text: u8,
    },
    AgentTyping {
        agent: u8,
        session: u8,
    },
    AskResolved {
        agent: u8,
        session: u8,
    },
    Transfer {
        agent: u8,
        session: u8,
        target: u8,
        note: u8,
        skip_consent: bool,
    },
    Close {
        agent: u8,
        session: u8,
        reason: u8,
    },
}

#[derive(Arbitrary, Debug)]
struct Step {
    /// Stamp the input this much before the router's clock (it must not run backwards).
    early: Option<u8>,
    op: Op,
}

fn config() -> RouterConfig {
    let rules = Rules { rating_window: Duration::from_secs(100 * 24 * 3600), ..Rules::default() };
    let groups = GROUPS
        .iter()
        .enumerate()
        .map(|(i, g)| GroupConfig {
            id: GroupId::new(g),
            name: None,
            max_queue: 3,
            overflow_to: if i == 0 { vec![GroupId::new(GROUPS[1])] } else { Vec::new() },
            overflow_after: Duration::from_secs(20),
            service_hours: None,
        })
        .collect();
    let agents = AGENTS
        .iter()
        .enumerate()
        .map(|(i, (id, capacity, groups))| AgentConfig {
            id: AgentId::new(id),
            name: None,
            role: if i == AGENTS.len() - 1 { Role::Supervisor } else { Role::Agent },
            capacity: *capacity,
            groups: groups.iter().map(|&g| Membership { group: GroupId::new(GROUPS[g]), level: 1 }).collect(),
        })
        .collect();
    RouterConfig { rules, groups, agents }
}

struct Harness {
    router: Router,
    now: u64,
    joined: Vec<SessionId>,
    next_session: u64,
}

impl Harness {
    /// One of the joined sessions, or (one time in eight) an unknown one.
    fn session(&self, sel: u8) -> SessionId {
        if self.joined.is_empty() || sel % 8 == 7 {
            return SessionId(10_000 + u64::from(sel));
        }
        self.joined[usize::from(sel) % self.joined.len()]
    }

    /// A roster agent, or (one time in eight) an unknown one.
    fn agent(sel: u8) -> AgentId {
        if sel % 8 == 7 {
            return AgentId::new("mallory");
        }
        AgentId::new(AGENTS[usize::from(sel) % AGENTS.len()].0)
    }

    fn input(&mut self, op: &Op) -> Option<Input> {
        let text = |i: u8| -> Arc<str> { Arc::from(TEXTS[usize::from(i) % TEXTS.len()]) };
        Some(match *op {
            Op::Advance(_) | Op::ToDeadline(_) => return None,
            Op::Join { group, priority, named, reuse } => {
                let session = match reuse {
                    Some(r) if !self.joined.is_empty() => self.joined[usize::from(r) % self.joined.len()],
                    _ => {
                        self.next_session += 1;
                        SessionId(self.next_session)
                    }
                };
                let group = match group % 4 {
                    3 => GroupId::new("nope"),
                    g => GroupId::new(GROUPS[usize::from(g)]),
                };
                let priority = [Priority::Normal, Priority::High, Priority::Urgent][usize::from(priority % 3)];
                Input::CustomerJoin {
                    session,
                    group,
                    priority,
                    customer_name: named.then(|| Arc::from("Wei")),
                    customer_id: None,
                }
            }
            Op::Message { session, text: t } => {
                Input::CustomerMessage { session: self.session(session), text: text(t) }
            }
            Op::Typing { session } => Input::CustomerTyping { session: self.session(session) },
            Op::CustomerDisconnect { session } => Input::CustomerDisconnected { session: self.session(session) },
            Op::CustomerReconnect { session } => Input::CustomerReconnected { session: self.session(session) },
            Op::Leave { session } => Input::CustomerLeave { session: self.session(session) },
            Op::Consent { session, accept } => Input::CustomerConsent { session: self.session(session), accept },
            Op::ConfirmResolved { session, resolved } => {
                Input::CustomerConfirmResolved { session: self.session(session), resolved }
            }
            Op::Rate { session, satisfied } => Input::CustomerRate {
                session: self.session(session),
                rating: if satisfied { Rating::Satisfied } else { Rating::Dissatisfied },
            },
            Op::AgentConnect { agent } => Input::AgentConnected { agent: Self::agent(agent) },
            Op::AgentDisconnect { agent } => Input::AgentDisconnected { agent: Self::agent(agent) },
            Op::SetAvailability { agent, kind } => Input::AgentSetAvailability {
                agent: Self::agent(agent),
                availability: match kind % 3 {
                    0 => Availability::Available,
                    1 => Availability::Break { reason: Arc::from("lunch") },
                    _ => Availability::Offline,
                },
            },
            Op::Reply { agent, session, text: t } => {
                Input::AgentReply { agent: Self::agent(agent), session: self.session(session), text: text(t) }
            }
            Op::AgentTyping { agent, session } => {
                Input::AgentTyping { agent: Self::agent(agent), session: self.session(session) }
            }
            Op::AskResolved { agent, session } => {
                Input::AgentAskResolved { agent: Self::agent(agent), session: self.session(session) }
            }
            Op::Transfer { agent, session, target, note, skip_consent } => Input::AgentTransfer {
                agent: Self::agent(agent),
                session: self.session(session),
                target: match target % 9 {
                    t @ 0..=4 => TransferTarget::Agent(Self::agent(t)),
                    5 => TransferTarget::Group(GroupId::new("nope")),
                    t => TransferTarget::Group(GroupId::new(GROUPS[usize::from(t - 6)])),
                },
                note: Arc::from(NOTES[usize::from(note) % NOTES.len()]),
                skip_consent,
            },
            Op::Close { agent, session, reason } => Input::AgentClose {
                agent: Self::agent(agent),
                session: self.session(session),
                reason: [
                    AgentCloseReason::Resolved,
                    AgentCloseReason::CustomerUnresponsive,
                    AgentCloseReason::Duplicate,
                    AgentCloseReason::Abusive,
                    AgentCloseReason::Other,
                ][usize::from(reason % 5)],
            },
        })
    }

    fn step(&mut self, step: &Step) {
        match step.op {
            Op::Advance(ms) => {
                self.now += u64::from(ms) * 16;
                self.router.handle_timeout(Millis(self.now));
            }
            Op::ToDeadline(offset) => {
                if let Some(at) = self.router.poll_timeout() {
                    self.now = self.now.max((at.0 + u64::from(offset % 3)).saturating_sub(1));
                }
                self.router.handle_timeout(Millis(self.now));
            }
            _ => {
                let input = self.input(&step.op).expect("not a time step");
                let joining = match &input {
                    Input::CustomerJoin { session, .. } => Some(*session),
                    _ => None,
                };
                let at = Millis(self.now.saturating_sub(step.early.map_or(0, u64::from)));
                let before = (self.router.snapshot(Millis(self.now)), self.router.poll_timeout());
                let result = self.router.handle(at, input.clone());
                match result {
                    Ok(()) => {
                        if let Some(s) = joining {
                            if !self.joined.contains(&s) {
                                self.joined.push(s);
                            }
                        }
                    }
                    Err(e) => {
                        let outputs = drain(&mut self.router);
                        assert!(outputs.is_empty(), "{input:?} refused ({e:?}) but produced {outputs:?}");
                        let after = (self.router.snapshot(Millis(self.now)), self.router.poll_timeout());
                        assert_eq!(before, after, "{input:?} refused ({e:?}) but changed the router");
                    }
                }
            }
        }
        for output in drain(&mut self.router) {
            let json = serde_json::to_string(&output).expect("an output serialises");
            let back: Output = serde_json::from_str(&json).expect("an output deserialises");
            assert_eq!(back, output, "output round trip through {json}");
            // Past the rating window a closed session is forgotten: it leaves the checks.
            if let Output::Event { event: Event::SessionForgotten { session } } = output {
                assert!(self.joined.contains(&session), "forgot {session:?}, which never joined");
                self.joined.retain(|s| *s != session);
                assert!(self.router.session_status(session).is_none(), "{session:?} forgotten, yet has a status");
            }
        }
        self.check();
    }

    fn check(&self) {
        let now = Millis(self.now);
        if let Some(at) = self.router.poll_timeout() {
            assert!(
                at >= self.router.now(),
                "poll_timeout {at:?} is before the router's clock {:?}",
                self.router.now()
            );
        }
        let snapshot = self.router.snapshot(now);
        let mut owners = HashSet::new();
        for (id, _, _) in AGENTS {
            let agent = AgentId::new(id);
            let sessions = self.router.agent_sessions(&agent).expect("a roster agent has a session list");
            for s in sessions {
                assert!(owners.insert(*s), "{s:?} has two owners (one is {id})");
                assert!(self.joined.contains(s), "{id} holds {s:?}, which never joined");
            }
            let a = snapshot.agents.iter().find(|a| a.id == agent).expect("every roster agent is in the snapshot");
            assert!(a.load <= a.capacity, "{id} over capacity: {} > {}", a.load, a.capacity);
            assert_eq!(a.load as usize, sessions.len(), "{id}: snapshot load differs from the sessions held");
        }
        for s in &self.joined {
            assert!(self.router.session_status(*s).is_some(), "{s:?} joined and is lost: no status");
            assert!(self.router.session_view(*s).is_some(), "{s:?} joined and is lost: no view");
        }
    }

    fn check_restore(&self) {
        let bytes = postcard::to_allocvec(&self.router).expect("a drained router saves");
        let restored: Router = postcard::from_bytes(&bytes).expect("a saved router restores");
        let again = postcard::to_allocvec(&restored).expect("a restored router saves");
        assert_eq!(bytes, again, "saving a restored router gives other bytes");
        let now = Millis(self.now);
        assert_eq!(restored.snapshot(now), self.router.snapshot(now), "the restored router reports another state");
        assert_eq!(restored.poll_timeout(), self.router.poll_timeout());
    }
}

fn drain(router: &mut Router) -> Vec<Output> {
    std::iter::from_fn(|| router.poll_output()).collect()
}

/// Built once: a router's construction (the complaint word automaton) costs
/// more than a short run, and a clone is cheap.
static FRESH: LazyLock<Router> = LazyLock::new(|| Router::new(config()).expect("the fuzz config is valid"));

fuzz_target!(|steps: Vec<Step>| {
    let router = FRESH.clone();
    let mut harness = Harness { router, now: 0, joined: Vec::new(), next_session: 0 };
    for step in steps.iter().take(400) {
        harness.step(step);
    }
    // A restore rebuilds the complaint word automaton (milliseconds under
    // ASan, thirty times a short run): checked for one input in eight.
    if steps.len().is_multiple_of(8) {
        harness.check_restore();
    }
});
