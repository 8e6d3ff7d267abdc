//! Property: whatever clients do, replaying the log gives exactly what the
//! live run gave. Random requests (joins, resumes, commands of both sides,
//! connections closing or cut off, restarts, groups opening and closing,
//! time passing) go through the
//! session layer as the driver sends them: `prepare`, then the entry is
//! encoded as the log holds it and applied. A fresh layer then applies the
//! decoded entries at their logged times, and must produce the same actions
//! and end in the same state; so must a layer restored from a snapshot taken
//! at a random point, replaying the rest. Ticket entries (what the ticket
//! API logs) are mixed in, so the ticket desk is held to the same.

use std::sync::Arc;

use proptest::prelude::*;
use serde_json::json;
use switchboard_calendar::ClockAnchor;
use switchboard_protocol::agent::AgentCommand;
use switchboard_protocol::customer::CustomerCommand;
use switchboard_server::journal::codec;
use switchboard_server::router::input::Priority;
use switchboard_server::router::{GroupHours, GroupId, Millis, Router, RouterConfig};
use switchboard_server::session::{
    Action, CustomerIdentity, CustomerOpen, Entry, Request, SessionConfig, SessionLayer,
};

const ROSTER: &str = r#"
[rules]
reply_warning = "1m"
reply_violation = "3m"
agent_grace = "30s"
customer_grace = "2m"
rating_window = "5m"
consent_timeout = "1m"
handoff_note_min_chars = 3

[[groups]]
id = "general"
overflow_to = ["refunds"]
overflow_after = "2m"

[[groups]]
id = "refunds"

[[agents]]
id = "ann"
capacity = 2
groups = [{ group = "general" }]

[[agents]]
id = "bob"
capacity = 1
groups = [{ group = "general" }, { group = "refunds" }]

[[agents]]
id = "sue"
role = "supervisor"
groups = []
"#;

const AGENTS: [&str; 3] = ["ann", "bob", "sue"];

fn fresh_layer() -> SessionLayer {
    let config: RouterConfig = toml::from_str(ROSTER).unwrap();
    // A small replay buffer and retry memory, so that their limits are exercised too.
    SessionLayer::new(Router::new(config).unwrap(), SessionConfig { replay_buffer: 6, recent_command_ids: 3 }, 1.0)
}

/// One thing a client (or the clock, or the process) does.
#[derive(Clone, Debug)]
enum Op {
    Join {
        group: u8,
        priority: u8,
    },
    Resume {
        customer: u8,
        last_seq: u8,
    },
    CustomerSays {
        customer: u8,
        command: u8,
        id: u8,
    },
    AgentOpens {
        agent: u8,
        resume: bool,
    },
    AgentDoes {
        agent: u8,
        command: u8,
        session: u8,
        id: u8,
    },
    Close {
        conn: u8,
    },
    SlowConsumer {
        conn: u8,
    },
    Wait {
        ms: u32,
    },
    Restart,
    /// A group opens or closes by its service hours (as the driver logs it).
    Hours {
        group: u8,
        open: bool,
    },
    /// A ticket entry as the ticket API logs it (`kind` picks which).
    Ticket {
        kind: u8,
        ticket: u8,
        agent: u8,
        pick: u8,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => (0..2u8, 0..3u8).prop_map(|(group, priority)| Op::Join { group, priority }),
        1 => (any::<u8>(), 0..8u8).prop_map(|(customer, last_seq)| Op::Resume { customer, last_seq }),
        4 => (any::<u8>(), 0..7u8, 0..4u8).prop_map(|(customer, command, id)| Op::CustomerSays { customer, command, id }),
        2 => (0..3u8, any::<bool>()).prop_map(|(agent, resume)| Op::AgentOpens { agent, resume }),
        5 => (0..3u8, 0..8u8, any::<u8>(), 0..4u8)
            .prop_map(|(agent, command, session, id)| Op::AgentDoes { agent, command, session, id }),
        1 => any::<u8>().prop_map(|conn| Op::Close { conn }),
        1 => any::<u8>().prop_map(|conn| Op::SlowConsumer { conn }),
        3 => (1..200_000u32).prop_map(|ms| Op::Wait { ms }),
        1 => Just(Op::Restart),
        1 => (0..2u8, any::<bool>()).prop_map(|(group, open)| Op::Hours { group, open }),
        3 => (0..8u8, 0..4u8, 0..2u8, any::<u8>())
            .prop_map(|(kind, ticket, agent, pick)| Op::Ticket { kind, ticket, agent, pick }),
    ]
}

/// A ticket entry: tickets are numbered from 1 in creation order, so small ids hit real ones.
fn ticket_entry(kind: u8, ticket: u8, agent: u8, pick: u8, sessions: &[u64]) -> Entry {
    use switchboard_server::router::{AgentId, GroupId, SessionId};
    use switchboard_server::session::Token;
    use switchboard_server::tickets::{AgentReply, FromChat, LeftBecause, NewTicket, TicketEntry};
    use switchboard_tickets::{Priority, TicketId, TicketState};
    let ticket = TicketId(1 + ticket as u64);
    let agent = AgentId::new(["ann", "bob"][agent as usize]);
    let states = [TicketState::Processing, TicketState::AwaitingFeedback, TicketState::PendingConfirmation];
    let state = states[pick as usize % states.len()];
    Entry::Ticket(match kind {
        0 | 1 => TicketEntry::Create(NewTicket {
            group: GroupId::new(["general", "refunds"][pick as usize % 2]),
            text: "my parcel".into(),
            customer_name: None,
            reason: LeftBecause::NobodyAvailable,
            customer: Token(format!("{pick:032x}").into()).digest(),
        }),
        2 => TicketEntry::CustomerMessage { ticket, text: "any news?".into() },
        3 => TicketEntry::AgentReply {
            ticket,
            agent,
            reply: AgentReply {
                text: "checking".into(),
                state,
                expected_resolution: None,
                content: Default::default(),
            },
        },
        4 => TicketEntry::Transfer { ticket, from: agent, to: AgentId::new("bob"), note: "over to you".into() },
        5 => TicketEntry::CustomerConfirm { ticket },
        6 => TicketEntry::SetPriority { ticket, priority: Priority::Urgent },
        _ => TicketEntry::FromChat(FromChat {
            agent,
            session: SessionId(pick.checked_rem(sessions.len() as u8).map_or(1, |i| sessions[i as usize])),
            note: "follow up".into(),
            token: Token(format!("{pick:032x}").into()),
        }),
    })
}

/// The live run: who is connected where, and what was logged.
#[derive(Default)]
struct Live {
    now: u64,
    next_conn: u64,
    /// Customers seen: (current conn, token, session).
    customers: Vec<(u64, String, u64)>,
    /// Agents' current connections.
    agents: [Option<u64>; 3],
    /// Every entry applied, as the log holds it: (time, encoded entry).
    log: Vec<(u64, Vec<u8>)>,
    /// What each applied entry produced.
    applied: Vec<Vec<String>>,
}

impl Live {
    fn conn(&mut self) -> u64 {
        self.next_conn += 1;
        self.next_conn
    }

    fn request(&mut self, op: &Op) -> Option<Request> {
        Some(match op {
            Op::Join { group, priority } => {
                let conn = self.conn();
                let group = Some(["general", "refunds"][*group as usize].to_owned());
                let priority = [Priority::Normal, Priority::High, Priority::Urgent][*priority as usize];
                // Every other join is a verified customer: the outcome is logged, so a replay keeps it.
                let identity = match conn % 2 {
                    0 => CustomerIdentity::Verified(Arc::from(format!("user-{conn}"))),
                    _ => CustomerIdentity::Anonymous,
                };
                let open = CustomerOpen::New {
                    group,
                    name: Some("Wei".into()),
                    priority: Ok(priority),
                    identity,
                    time_zone: None,
                };
                Request::CustomerOpen { conn, open }
            }
            Op::Resume { customer, last_seq } => {
                let i = pick(*customer, self.customers.len())?;
                let conn = self.conn();
                let token = self.customers[i].1.clone();
                self.customers[i].0 = conn;
                Request::CustomerOpen { conn, open: CustomerOpen::Resume { token, last_seq: *last_seq as u64 } }
            }
            Op::CustomerSays { customer, command, id } => {
                let i = pick(*customer, self.customers.len())?;
                Request::CustomerCommand { conn: self.customers[i].0, command: customer_command(*command, *id) }
            }
            Op::AgentOpens { agent, resume } => {
                let conn = self.conn();
                self.agents[*agent as usize] = Some(conn);
                let last_seq = resume.then_some(2);
                Request::AgentOpen { conn, agent: Some(AGENTS[*agent as usize].into()), last_seq }
            }
            Op::AgentDoes { agent, command, session, id } => {
                let conn = self.agents[*agent as usize]?;
                let session = match pick(*session, self.customers.len()) {
                    Some(i) => self.customers[i].2,
                    None => 1,
                };
                Request::AgentCommand { conn, command: agent_command(*command, session, *id) }
            }
            Op::Close { conn } => Request::Closed { conn: 1 + *conn as u64 % self.next_conn.max(1) },
            Op::SlowConsumer { conn } => Request::SlowConsumer { conn: 1 + *conn as u64 % self.next_conn.max(1) },
            Op::Wait { .. } | Op::Restart | Op::Hours { .. } | Op::Ticket { .. } => return None,
        })
    }

    /// Logs an entry as the driver does (encoded, with its time), applies it,
    /// and keeps what it produced.
    fn log_and_apply(&mut self, layer: &mut SessionLayer, entry: Entry) {
        self.log.push((self.now, codec::encode_entry(&entry, Vec::new()).unwrap()));
        layer.apply(Millis(self.now), entry);
        let actions: Vec<Action> = std::iter::from_fn(|| layer.poll_action()).collect();
        self.learn_tokens(&actions);
        self.applied.push(actions.iter().map(|a| format!("{a:?}")).collect());
    }

    /// A new customer's token, from its `welcome`, for later resumes.
    fn learn_tokens(&mut self, actions: &[Action]) {
        for action in actions {
            let Action::Send { conn, frame } = action else { continue };
            let v: serde_json::Value = serde_json::from_str(frame.as_str()).unwrap();
            let (Some(session), Some(token)) = (v["session"].as_u64(), v["token"].as_str()) else { continue };
            if !self.customers.iter().any(|c| c.2 == session) {
                self.customers.push((*conn, token.to_owned(), session));
            }
        }
    }

    fn run(&mut self, layer: &mut SessionLayer, op: &Op) {
        match op {
            Op::Wait { ms } => {
                self.now += *ms as u64;
                if layer.poll_timeout().is_some_and(|at| at.0 <= self.now) {
                    self.log_and_apply(layer, Entry::Tick);
                }
            }
            Op::Ticket { kind, ticket, agent, pick } => {
                self.now += 1;
                let sessions: Vec<u64> = self.customers.iter().map(|c| c.2).collect();
                self.log_and_apply(layer, ticket_entry(*kind, *ticket, *agent, *pick, &sessions));
            }
            Op::Restart => {
                // Each start places business time on the calendar anew (a snapshot must keep it).
                let clock = ClockAnchor { business_ms: self.now, unix_ms: 1_772_762_100_000 + 7 * self.now as i64 };
                self.log_and_apply(layer, Entry::Restarted { clock })
            }
            Op::Hours { group, open } => {
                let hours = GroupHours {
                    open: *open,
                    next_change: Some(Millis(self.now + 3_600_000)),
                    service_hours: Some("Mon-Fri 09:00-18:00".into()),
                };
                let group = GroupId::new(["general", "refunds"][*group as usize]);
                self.log_and_apply(layer, Entry::GroupHours { groups: vec![(group, hours)] })
            }
            _ => {
                let Some(request) = self.request(op) else { return };
                self.now += 1;
                let prepared = layer.prepare(Millis(self.now), request);
                // Answers that change nothing are not logged, and not replayed.
                drop(drain(layer));
                if let Some(entry) = prepared {
                    self.log_and_apply(layer, entry);
                }
            }
        }
    }
}

fn pick(n: u8, len: usize) -> Option<usize> {
    (len > 0).then(|| n as usize % len)
}

fn customer_command(kind: u8, id: u8) -> CustomerCommand {
    let id = format!("c{id}");
    let v = match kind {
        0 => json!({"type": "message", "id": id, "text": "where is my parcel"}),
        1 => json!({"type": "message", "id": id, "text": "call me on the phone now"}),
        2 => json!({"type": "typing", "id": id}),
        3 => json!({"type": "consent", "id": id, "accept": id.len() % 2 == 0}),
        4 => json!({"type": "confirm_resolved", "id": id, "resolved": true}),
        5 => json!({"type": "rate", "id": id, "rating": "satisfied"}),
        _ => json!({"type": "leave", "id": id}),
    };
    serde_json::from_value(v).unwrap()
}

fn agent_command(kind: u8, session: u64, id: u8) -> AgentCommand {
    let id = format!("a{id}");
    let v = match kind {
        0 => json!({"type": "set_availability", "id": id, "state": "available"}),
        1 => json!({"type": "set_availability", "id": id, "state": "break", "reason": "tea"}),
        2 => json!({"type": "reply", "id": id, "session": session, "text": "let me check"}),
        3 => json!({"type": "ask_resolved", "id": id, "session": session}),
        4 => json!({"type": "close", "id": id, "session": session, "reason": "resolved"}),
        5 => {
            json!({"type": "transfer", "id": id, "session": session, "to": {"kind": "group", "id": "refunds"}, "note": "refund needed"})
        }
        6 => {
            json!({"type": "transfer", "id": id, "session": session, "to": {"kind": "agent", "id": "ann"}, "note": "over to ann", "skip_consent": true})
        }
        _ => json!({"type": "set_availability", "id": id, "state": "offline"}),
    };
    serde_json::from_value(v).unwrap()
}

/// Every pending action, as comparable text (frames included).
fn drain(layer: &mut SessionLayer) -> Vec<String> {
    std::iter::from_fn(|| layer.poll_action()).map(|a: Action| format!("{a:?}")).collect()
}

/// Applies logged entries to `layer`; returns what each produced.
fn replay(layer: &mut SessionLayer, log: &[(u64, Vec<u8>)]) -> Vec<Vec<String>> {
    log.iter()
        .map(|(at, bytes)| {
            layer.apply(Millis(*at), codec::decode_entry(bytes).unwrap());
            drain(layer)
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn a_replay_of_the_log_gives_what_the_live_run_gave(ops in prop::collection::vec(op(), 1..160), cut in any::<prop::sample::Index>()) {
        let mut live = Live::default();
        let mut layer = fresh_layer();
        let mut images = Vec::new();
        for op in &ops {
            live.run(&mut layer, op);
            images.push((live.log.len(), layer.image().unwrap()));
        }
        let end = layer.image().unwrap();

        // From the start: the same actions, entry by entry, and the same state.
        let mut replayed = fresh_layer();
        let actions = replay(&mut replayed, &live.log);
        for (i, (a, b)) in live.applied.iter().zip(&actions).enumerate() {
            prop_assert_eq!(a, b, "entry {} ({:?}) gave other actions on replay", i, codec::decode_entry(&live.log[i].1).map(|e| e.kind()));
        }
        prop_assert!(replayed.image().unwrap() == end, "replaying the whole log ends in another state");

        // From a snapshot taken between two entries, replaying the rest.
        let (logged, image) = &images[cut.index(images.len())];
        let mut restored = SessionLayer::from_image(image, 1.0).unwrap();
        let rest = replay(&mut restored, &live.log[*logged..]);
        prop_assert_eq!(&live.applied[*logged..], &rest[..], "a replay from the snapshot after entry {} differs", logged);
        prop_assert!(restored.image().unwrap() == end, "snapshot + replay ends in another state");
    }
}

#[test]
fn the_generators_reach_the_interesting_parts() {
    // A fixed sequence through assignment, a message, a transfer and a restart,
    // so that a broken generator cannot make the property above vacuous.
    let ops = [
        Op::AgentOpens { agent: 0, resume: false },
        Op::AgentDoes { agent: 0, command: 0, session: 0, id: 0 },
        Op::Join { group: 0, priority: 0 },
        Op::CustomerSays { customer: 0, command: 0, id: 1 },
        Op::AgentDoes { agent: 0, command: 2, session: 0, id: 1 },
        Op::Wait { ms: 90_000 },
        Op::Restart,
        Op::Resume { customer: 0, last_seq: 0 },
    ];
    let mut live = Live::default();
    let mut layer = fresh_layer();
    for op in &ops {
        live.run(&mut layer, op);
    }
    let kinds: Vec<&str> = live.log.iter().map(|(_, b)| codec::decode_entry(b).unwrap().kind()).collect();
    assert_eq!(
        kinds,
        [
            "agent_open",
            "agent_command",
            "customer_join",
            "customer_command",
            "agent_command",
            "restarted",
            "customer_resume"
        ],
        "the reply stopped the reply clock, so the 90 s wait fired nothing"
    );
    assert_eq!(live.customers.len(), 1, "the customer's token was learnt from its welcome");
    let all: String = live.applied.concat().concat();
    assert!(all.contains("session_assigned") && all.contains("agent_message"), "{all}");
    let _ = Arc::new(());
}

#[test]
fn the_ticket_generator_makes_tickets_that_agents_answer() {
    let ops = [
        Op::AgentOpens { agent: 0, resume: false },
        Op::AgentDoes { agent: 0, command: 0, session: 0, id: 0 },
        Op::Ticket { kind: 0, ticket: 0, agent: 0, pick: 0 },
        Op::Ticket { kind: 3, ticket: 0, agent: 0, pick: 0 },
        Op::Wait { ms: 200_000 },
    ];
    let mut live = Live::default();
    let mut layer = fresh_layer();
    for op in &ops {
        live.run(&mut layer, op);
    }
    let (ticket, file) = layer.desk().ticket(switchboard_tickets::TicketId(1)).expect("ticket 1 was made");
    assert_eq!(ticket.owner.as_ref().map(|o| o.0.as_str()), Some("ann"), "ann was on duty");
    assert_eq!(ticket.state, switchboard_tickets::TicketState::Processing, "and answered it");
    assert_eq!(file.messages.len(), 2);
}
