//! Operators' tools on a `data_dir`: `switchboard log inspect` lists the
//! log, `switchboard log replay` replays it into a fresh core and tells one
//! session's story (why it went where, which flags, which timers).
//!
//! Both open the directory read-only: they take no lock, cut nothing and
//! write nothing, so they are safe on a copy of a production `data_dir` or
//! beside a running server. Message bodies are never printed (only their
//! length): the log holds customers' words.

use std::collections::HashMap;
use std::io::{self, Write};
use std::path::PathBuf;
use std::time::Duration;

use switchboard_storage::{OpenMode, Record, SegmentStatus, SnapshotStatus, StorageError, Store};

use super::{codec, Lsn};
use crate::router::input::{Availability, Input, TransferTarget};
use crate::router::output::Event;
use crate::router::{AgentId, Millis, SessionId};
use crate::session::{Action, ConnId, Entry, Join, SessionLayer};

/// `switchboard log inspect`.
#[derive(Debug, Default)]
pub struct InspectOptions {
    pub data_dir: PathBuf,
    /// Only entries about this session.
    pub session: Option<u64>,
    /// Only entries about this agent.
    pub agent: Option<String>,
    /// Start at this lsn (default: the oldest record kept).
    pub from: Option<Lsn>,
    /// At most this many records.
    pub limit: Option<usize>,
}

/// `switchboard log replay`.
#[derive(Debug)]
pub struct ReplayOptions {
    pub data_dir: PathBuf,
    pub session: u64,
    pub until: Until,
}

/// Where a replay stops.
#[derive(Debug, Clone, Copy)]
pub enum Until {
    End,
    /// After the last record logged at or before this wall-clock time.
    Wall(jiff::Timestamp),
    /// After this record.
    Lsn(Lsn),
}

impl std::str::FromStr for Until {
    type Err = String;

    /// `lsn:N`, or an RFC 3339 time such as `2026-11-26T10:15:00Z`.
    fn from_str(s: &str) -> Result<Until, String> {
        if let Some(lsn) = s.strip_prefix("lsn:") {
            return lsn.parse().map(Until::Lsn).map_err(|_| format!("`{s}`: lsn:N takes a number"));
        }
        s.parse::<jiff::Timestamp>()
            .map(Until::Wall)
            .map_err(|e| format!("`{s}` is neither lsn:N nor an RFC 3339 time such as 2026-11-26T10:15:00Z ({e})"))
    }
}

impl Until {
    fn passed_by(self, record: &Record) -> bool {
        match self {
            Until::End => false,
            Until::Lsn(lsn) => record.lsn > lsn,
            Until::Wall(at) => record.wall_ms as i128 > at.as_millisecond() as i128,
        }
    }
}

/// Why a tool could not do its job.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    #[error("storage: {0}")]
    Storage(#[from] StorageError),
    #[error("log record {lsn}: {problem}")]
    Record { lsn: Lsn, problem: String },
    #[error("snapshot at lsn {lsn}: {problem}")]
    Snapshot { lsn: Lsn, problem: String },
    #[error("{0}")]
    Nothing(String),
    #[error("writing the output: {0}")]
    Output(#[from] io::Error),
}

// ---- inspect ----

/// Lists the snapshots, the segments and the records of a `data_dir`.
pub fn inspect(options: &InspectOptions, out: &mut dyn Write) -> Result<(), ToolError> {
    let store = Store::open(&options.data_dir, OpenMode::ReadOnly)?;
    writeln!(out, "data_dir {}", options.data_dir.display())?;
    list_files(&store, out)?;
    let records = match options.from {
        Some(lsn) => store.read_from(lsn)?,
        None => store.read_all()?,
    };
    writeln!(out, "\n{:>8}  {:<24}  {:>12}  {:<16}  DETAIL", "LSN", "WALL TIME (UTC)", "BUSINESS", "KIND")?;
    let mut owners = Owners::default();
    let mut shown = 0;
    for record in records {
        let record = record?;
        let entry = decode(&record)?;
        owners.learn(&entry);
        let detail = describe(&entry, &owners);
        if !options.matches(&entry, &owners) {
            continue;
        }
        let (wall, business) = (wall_time(record.wall_ms), business_time(Millis(record.time_ms)));
        writeln!(out, "{:>8}  {:<24}  {:>12}  {:<16}  {detail}", record.lsn, wall, business, entry.kind())?;
        shown += 1;
        if options.limit.is_some_and(|limit| shown >= limit) {
            break;
        }
    }
    Ok(())
}

fn list_files(store: &Store, out: &mut dyn Write) -> Result<(), ToolError> {
    writeln!(out, "snapshots (newest first):")?;
    for s in store.snapshots()? {
        let status = match &s.status {
            SnapshotStatus::Valid => "valid".to_owned(),
            SnapshotStatus::Invalid(why) => format!("DAMAGED: {why}"),
        };
        writeln!(out, "  lsn {:<10} {:>12} bytes  {status}  {}", s.lsn, s.bytes, s.path.display())?;
    }
    writeln!(out, "segments:")?;
    for s in store.segments()? {
        let status = match &s.status {
            SegmentStatus::Ok => "ok".to_owned(),
            SegmentStatus::Damaged { offset, reason } => format!("DAMAGED at byte {offset}: {reason}"),
        };
        writeln!(
            out,
            "  lsn {}-{} ({} records) {:>12} bytes  {status}  {}",
            s.first_lsn,
            s.last_lsn,
            s.records,
            s.bytes,
            s.path.display()
        )?;
    }
    Ok(())
}

impl InspectOptions {
    fn matches(&self, entry: &Entry, owners: &Owners) -> bool {
        let session_ok = self.session.is_none_or(|s| owners.session_of(entry) == Some(SessionId(s)));
        let agent_ok = self.agent.as_deref().is_none_or(|a| owners.agent_of(entry).is_some_and(|x| x.as_str() == a));
        session_ok && agent_ok
    }
}

/// Who each connection spoke for, as far as the records read so far tell.
#[derive(Default)]
struct Owners {
    sessions: HashMap<ConnId, SessionId>,
    agents: HashMap<ConnId, AgentId>,
}

impl Owners {
    fn learn(&mut self, entry: &Entry) {
        match entry {
            Entry::CustomerJoin(Join { conn, session, .. }) | Entry::CustomerResume { conn, session, .. } => {
                self.sessions.insert(*conn, *session);
            }
            Entry::AgentOpen { conn, agent, .. } => {
                self.agents.insert(*conn, agent.clone());
            }
            _ => {}
        }
    }

    fn session_of(&self, entry: &Entry) -> Option<SessionId> {
        match entry {
            Entry::CustomerJoin(Join { session, .. }) | Entry::CustomerResume { session, .. } => Some(*session),
            Entry::CustomerCommand { command, .. }
            | Entry::AgentCommand { command, .. }
            | Entry::CheckedReply { command, .. } => input_session(&command.input),
            Entry::Closed { conn } | Entry::SlowConsumer { conn } => self.sessions.get(conn).copied(),
            _ => None,
        }
    }

    fn agent_of<'a>(&'a self, entry: &'a Entry) -> Option<&'a AgentId> {
        match entry {
            Entry::AgentOpen { agent, .. } => Some(agent),
            Entry::AgentCommand { command, .. } | Entry::CheckedReply { command, .. } => input_agent(&command.input),
            Entry::Closed { conn } | Entry::SlowConsumer { conn } => self.agents.get(conn),
            _ => None,
        }
    }
}

fn input_session(input: &Input) -> Option<SessionId> {
    match input {
        Input::CustomerJoin { session, .. }
        | Input::CustomerMessage { session, .. }
        | Input::CustomerTyping { session }
        | Input::CustomerDisconnected { session }
        | Input::CustomerReconnected { session }
        | Input::CustomerLeave { session }
        | Input::CustomerConsent { session, .. }
        | Input::CustomerConfirmResolved { session, .. }
        | Input::CustomerRate { session, .. }
        | Input::AgentReply { session, .. }
        | Input::AgentTyping { session, .. }
        | Input::AgentAskResolved { session, .. }
        | Input::AgentTransfer { session, .. }
        | Input::AgentClose { session, .. } => Some(*session),
        Input::ContentFlagged { session, .. } => *session,
        Input::AgentConnected { .. }
        | Input::AgentDisconnected { .. }
        | Input::AgentSetAvailability { .. }
        | Input::SetGroupHours { .. } => None,
    }
}

fn input_agent(input: &Input) -> Option<&AgentId> {
    match input {
        Input::AgentConnected { agent }
        | Input::AgentDisconnected { agent }
        | Input::AgentSetAvailability { agent, .. }
        | Input::AgentReply { agent, .. }
        | Input::AgentTyping { agent, .. }
        | Input::AgentAskResolved { agent, .. }
        | Input::AgentTransfer { agent, .. }
        | Input::AgentClose { agent, .. }
        | Input::ContentFlagged { agent, .. } => Some(agent),
        _ => None,
    }
}

/// One line about an entry, without message bodies or tokens.
fn describe(entry: &Entry, owners: &Owners) -> String {
    match entry {
        Entry::CustomerJoin(j) => {
            let named = if j.customer_name.is_some() { ", named" } else { "" };
            // Verified, not the id itself: the tools print no personal data.
            let named = if j.customer_id.is_some() { format!("{named}, verified") } else { named.to_owned() };
            format!("conn {}: session {} joins {} ({:?} priority{named})", j.conn, j.session, j.group, j.priority)
        }
        Entry::CustomerResume { conn, session, last_seq } => {
            format!("conn {conn}: session {session} resumes after seq {last_seq}")
        }
        Entry::AgentOpen { conn, agent, last_seq } => match last_seq {
            Some(seq) => format!("conn {conn}: agent {agent} resumes after seq {seq}"),
            None => format!("conn {conn}: agent {agent} connects"),
        },
        Entry::CustomerCommand { conn, command } | Entry::AgentCommand { conn, command } => {
            format!("conn {conn}: command {}: {}", command.id, describe_input(&command.input))
        }
        Entry::Closed { conn } => format!("conn {conn} ({}) closed", owners.name(*conn)),
        Entry::SlowConsumer { conn } => format!("conn {conn} ({}) cut off: it did not read", owners.name(*conn)),
        Entry::Tick => "timers due".to_owned(),
        Entry::Restarted { clock } => format!(
            "the server started: every earlier connection ended; business time {} is {} on the calendar",
            business_time(Millis(clock.business_ms)),
            clock.instant(clock.business_ms)
        ),
        Entry::Configure { .. } => "rules or session limits changed (restart or reload)".to_owned(),
        Entry::Roster { agents } => format!("the roster changed (restart or reload): {} agents", agents.len()),
        Entry::GroupHours { groups } => {
            let said: Vec<String> =
                groups.iter().map(|(g, h)| format!("{g} {}", if h.open { "open" } else { "closed" })).collect();
            format!("service hours: {}", said.join(", "))
        }
        Entry::Ticket(t) => format!("ticket desk: {}", t.kind()),
        Entry::CheckedReply { conn, command, verdict } => format!(
            "conn {conn}: command {}: {} (content rules {}: {})",
            command.id,
            describe_input(&command.input),
            verdict.matched.join(", "),
            verdict.blocked_by.as_ref().map_or("flagged, sent".to_owned(), |r| format!("blocked by {r}"))
        ),
    }
}

impl Owners {
    fn name(&self, conn: ConnId) -> String {
        match (self.sessions.get(&conn), self.agents.get(&conn)) {
            (Some(s), _) => format!("session {s}"),
            (_, Some(a)) => format!("agent {a}"),
            _ => "opened before this listing".to_owned(),
        }
    }
}

fn describe_input(input: &Input) -> String {
    let chars = |text: &str| text.chars().count();
    match input {
        Input::CustomerMessage { session, text } => format!("session {session}: message ({} chars)", chars(text)),
        Input::CustomerTyping { session } => format!("session {session}: typing"),
        Input::CustomerLeave { session } => format!("session {session}: leave"),
        Input::CustomerConsent { session, accept } => format!("session {session}: consent, accept={accept}"),
        Input::CustomerConfirmResolved { session, resolved } => {
            format!("session {session}: confirm_resolved, resolved={resolved}")
        }
        Input::CustomerRate { session, rating } => format!("session {session}: rate {}", rating.label()),
        Input::AgentSetAvailability { agent, availability } => {
            format!("agent {agent}: set_availability {}", availability_label(availability))
        }
        Input::AgentReply { agent, session, text } => {
            format!("agent {agent}, session {session}: reply ({} chars)", chars(text))
        }
        Input::AgentTyping { agent, session } => format!("agent {agent}, session {session}: typing"),
        Input::AgentAskResolved { agent, session } => format!("agent {agent}, session {session}: ask_resolved"),
        Input::AgentTransfer { agent, session, target, note, skip_consent } => format!(
            "agent {agent}, session {session}: transfer to {} (note {} chars, skip_consent={skip_consent})",
            target_label(target),
            chars(note)
        ),
        Input::AgentClose { agent, session, reason } => format!("agent {agent}, session {session}: close ({reason:?})"),
        other => format!("{other:?}"),
    }
}

fn availability_label(a: &Availability) -> &'static str {
    match a {
        Availability::Available => "available",
        Availability::Break { .. } => "break",
        Availability::Offline => "offline",
    }
}

fn target_label(t: &TransferTarget) -> String {
    match t {
        TransferTarget::Agent(a) => format!("agent {a}"),
        TransferTarget::Group(g) => format!("group {g}"),
    }
}

// ---- replay ----

/// Replays the log into a fresh core (from the oldest snapshot the log
/// still continues) and prints one session's story up to `until`.
pub fn replay(options: &ReplayOptions, out: &mut dyn Write) -> Result<(), ToolError> {
    let store = Store::open(&options.data_dir, OpenMode::ReadOnly)?;
    let start = oldest_usable_snapshot(&store)?;
    let snapshot = store.read_snapshot(start)?;
    let mut layer = SessionLayer::from_image(&snapshot.bytes, 1.0)
        .map_err(|problem| ToolError::Snapshot { lsn: start, problem })?;
    let session = SessionId(options.session);
    let mut story = Story::new(session, out);
    story.opening(&layer, start)?;
    let mut last = start;
    for record in store.read_from(start + 1)? {
        let record = record?;
        if options.until.passed_by(&record) {
            break;
        }
        let entry = decode(&record)?;
        let about = story.is_about(&entry);
        layer.apply(Millis(record.time_ms), entry.clone());
        let actions: Vec<Action> = std::iter::from_fn(|| layer.poll_action()).collect();
        story.step(&layer, &record, &entry, about, &actions)?;
        last = record.lsn;
    }
    story.closing(&layer, last)
}

/// The oldest snapshot from which the log still runs without a gap.
fn oldest_usable_snapshot(store: &Store) -> Result<Lsn, ToolError> {
    let first_kept = store.segments()?.first().map(|s| s.first_lsn);
    let mut usable: Vec<Lsn> = store
        .snapshots()?
        .into_iter()
        .filter(|s| s.status == SnapshotStatus::Valid)
        .map(|s| s.lsn)
        .filter(|lsn| first_kept.is_none_or(|first| *lsn + 1 >= first))
        .collect();
    usable.sort_unstable();
    usable.first().copied().ok_or_else(|| ToolError::Nothing("no valid snapshot that the log continues".into()))
}

/// One session's decisions, told as they are replayed.
struct Story<'a> {
    session: SessionId,
    out: &'a mut dyn Write,
    /// Its connections (to attribute closes).
    conns: Vec<ConnId>,
    /// The reply clock last told.
    reply_clock: Option<Millis>,
    lines: usize,
}

impl<'a> Story<'a> {
    fn new(session: SessionId, out: &'a mut dyn Write) -> Story<'a> {
        Story { session, out, conns: Vec::new(), reply_clock: None, lines: 0 }
    }

    fn opening(&mut self, layer: &SessionLayer, lsn: Lsn) -> Result<(), ToolError> {
        writeln!(self.out, "session {}: replaying from the snapshot at lsn {lsn}", self.session)?;
        if let Some(view) = layer.router().session_view(self.session) {
            let status = layer.router().session_status(self.session);
            writeln!(
                self.out,
                "  already known at lsn {lsn}: group {}, {} history entries, {status:?}",
                view.group,
                view.history.len()
            )?;
        }
        Ok(())
    }

    fn is_about(&mut self, entry: &Entry) -> bool {
        match entry {
            Entry::CustomerJoin(Join { conn, session, .. }) | Entry::CustomerResume { conn, session, .. }
                if *session == self.session =>
            {
                self.conns.push(*conn);
                true
            }
            Entry::CustomerCommand { command, .. }
            | Entry::AgentCommand { command, .. }
            | Entry::CheckedReply { command, .. } => input_session(&command.input) == Some(self.session),
            Entry::Closed { conn } | Entry::SlowConsumer { conn } => self.conns.contains(conn),
            _ => false,
        }
    }

    fn step(
        &mut self,
        layer: &SessionLayer,
        record: &Record,
        entry: &Entry,
        about: bool,
        actions: &[Action],
    ) -> Result<(), ToolError> {
        let at = format!(
            "lsn {:>7}  {}  {:>12}",
            record.lsn,
            wall_time(record.wall_ms),
            business_time(Millis(record.time_ms))
        );
        if about {
            let refused = actions.iter().find_map(|a| match a {
                Action::Refused { code } => Some(*code),
                _ => None,
            });
            let outcome = refused.map_or(String::new(), |code| format!(": REFUSED ({code})"));
            writeln!(self.out, "{at}  {}{outcome}", describe_for_story(entry))?;
            self.lines += 1;
        }
        for action in actions {
            if let Action::Event(event) = action {
                if let Some(line) = self.event_line(layer, event) {
                    writeln!(self.out, "{at}    -> {line}")?;
                    self.lines += 1;
                }
            }
        }
        self.tell_reply_clock(layer, &at)
    }

    fn event_line(&self, layer: &SessionLayer, event: &Event) -> Option<String> {
        let s = self.session;
        Some(match event {
            Event::SessionQueued { session, group, priority, reason } if *session == s => {
                let position = match layer.router().session_status(s) {
                    Some(crate::router::SessionStatus::Waiting { position, .. }) => format!(", position {position}"),
                    _ => String::new(),
                };
                format!("queued in {group} ({reason:?}, {priority:?} priority{position})")
            }
            Event::SessionAssigned { session, group, agent, waited, overflow } if *session == s => {
                let via = if *overflow { " through overflow" } else { "" };
                format!(
                    "assigned to {agent} in {group}{via} after waiting {}: {}",
                    seconds(*waited),
                    why_assigned(layer, group, agent)
                )
            }
            Event::CustomerMessage { session, .. } if *session == s => "customer message".to_owned(),
            Event::AgentReply { session, agent, reply_delay, .. } if *session == s => match reply_delay {
                Some(d) => format!("{agent} replied, {} after the first unanswered message", seconds(*d)),
                None => format!("{agent} wrote (nothing was unanswered)"),
            },
            Event::ReplyWarning { session, agent, .. } if *session == s => format!("reply warning to {agent}"),
            Event::SlowReply { session, agent, .. } if *session == s => {
                format!("SLOW REPLY: a violation recorded against {agent}")
            }
            Event::Transferred { session, from, target, kind } if *session == s => {
                format!("transferred by {from} to {} ({kind:?})", target_label(target))
            }
            Event::ConsentRequested { session, to_group } if *session == s => {
                format!("customer asked to consent to a move to {to_group}")
            }
            Event::ConsentAnswered { session, outcome } if *session == s => format!("consent: {outcome:?}"),
            Event::ConductFlagged { flag } if flag.session == Some(s) => {
                format!("CONDUCT FLAG {} ({}) against {}", flag.kind.label(), flag.kind.category(), flag.agent)
            }
            Event::ComplaintTendency { session, signal, .. } if *session == s => {
                format!("complaint tendency: {}", signal.label())
            }
            Event::PriorityRaised { session, priority } if *session == s => format!("priority raised to {priority:?}"),
            Event::SessionClosed { session, agent, reason, .. } if *session == s => match agent {
                Some(a) => format!("closed ({}), last served by {a}", reason.label()),
                None => format!("closed ({}) before anyone served it", reason.label()),
            },
            Event::Rated { session, agent, rating } if *session == s => format!("rated {} for {agent}", rating.label()),
            Event::SessionForgotten { session } if *session == s => "rating window over: forgotten".to_owned(),
            _ => return None,
        })
    }

    /// Tells when the session's reply clock starts, moves or stops.
    fn tell_reply_clock(&mut self, layer: &SessionLayer, at: &str) -> Result<(), ToolError> {
        let since = layer.router().session_view(self.session).and_then(|v| v.reply_clock_since);
        if since == self.reply_clock {
            return Ok(());
        }
        self.reply_clock = since;
        let rules = &layer.router().config().rules;
        let line = match since {
            Some(t) => format!(
                "reply timer running since {}: warning due at {}, violation at {}",
                business_time(t),
                business_time(t + rules.reply_warning),
                business_time(t + rules.reply_violation)
            ),
            None => "reply timer stopped".to_owned(),
        };
        writeln!(self.out, "{at}    .. {line}")?;
        Ok(())
    }

    fn closing(&mut self, layer: &SessionLayer, lsn: Lsn) -> Result<(), ToolError> {
        if self.lines == 0 && layer.router().session_view(self.session).is_none() {
            return Err(ToolError::Nothing(format!(
                "session {} does not appear in the log kept up to lsn {lsn} (never existed, or forgotten before the oldest snapshot)",
                self.session
            )));
        }
        let status = layer.router().session_status(self.session);
        writeln!(self.out, "at lsn {lsn}: {}", status.map_or("forgotten".to_owned(), |s| format!("{s:?}")))?;
        Ok(())
    }
}

fn describe_for_story(entry: &Entry) -> String {
    match entry {
        Entry::CustomerCommand { command, .. } | Entry::AgentCommand { command, .. } => describe_input(&command.input),
        other => describe(other, &Owners::default()),
    }
}

/// Why the dispatcher chose `agent`: the strategy, and where every member
/// of the group stood right after the choice.
fn why_assigned(layer: &SessionLayer, group: &crate::router::GroupId, agent: &AgentId) -> String {
    let router = layer.router();
    let strategy = router.config().rules.assignment_strategy;
    let level = |a: &AgentId| {
        router
            .config()
            .agents
            .iter()
            .find(|c| &c.id == a)
            .and_then(|c| c.groups.iter().find(|m| &m.group == group))
            .map_or(0, |m| m.level)
    };
    let snapshot = router.snapshot(router.now());
    let members: Vec<String> = snapshot
        .agents
        .iter()
        .filter(|a| a.groups.contains(group))
        .map(|a| {
            let mark = if &a.id == agent { "*" } else { "" };
            format!("{mark}{} level {} {} {}/{}", a.id, level(&a.id), a.state.label(), a.load, a.capacity)
        })
        .collect();
    format!("{strategy:?}; members after the choice: {}", members.join(", "))
}

fn decode(record: &Record) -> Result<Entry, ToolError> {
    codec::decode_entry(&record.payload).map_err(|problem| ToolError::Record { lsn: record.lsn, problem })
}

fn wall_time(ms: u64) -> String {
    jiff::Timestamp::from_millisecond(ms as i64).map_or_else(|_| format!("{ms} ms"), |t| format!("{t:.3}"))
}

/// Business time as h:mm:ss.mmm since the router's epoch.
fn business_time(t: Millis) -> String {
    let ms = t.0;
    format!("{}:{:02}:{:02}.{:03}", ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000)
}

fn seconds(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}
