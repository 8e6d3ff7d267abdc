//! The driver: one tokio task owns the session layer (and through it the
//! router core), logs what changes them, and carries out what they decide.
//!
//! It `select!`s over its input channel (connections opening, commands,
//! connections closing), the log writer's progress, the router's next
//! deadline and a housekeeping tick. Each request goes to the
//! [`SessionLayer`]: what changes state comes back as an [`Entry`], which is
//! appended to the [`Journal`] and then applied. The actions it causes
//! (frames, closes, metrics) are *held* until the journal says the entry is
//! durable, so no client ever sees the effect of an input a crash could
//! lose. Everything with a rule in it lives in the session layer or the
//! router; this loop only moves things between them, the log and the
//! sockets. No locks: only this task touches the layer. Each action carried
//! out also goes to the records [`Feeder`] (closed chats, events), which
//! queues without waiting.

pub mod clock;
pub mod outbox;
pub mod snapshots;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rustc_hash::FxHashMap;
use switchboard_calendar::Calendar;
use switchboard_protocol::{close_code, code};
use switchboard_storage::Progress;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;
use tracing::{error, info, warn};

use crate::config::Config;
use crate::journal::recovery::{config_entries, Opened};
use crate::journal::{wall_ms, Journal, Lsn, Stamp};
use crate::metrics::{self, Metrics};
use crate::records::Feeder;
use crate::router::output::Event;
use crate::router::roster::RosterChange;
use crate::router::{GroupId, Millis};
use crate::session::{shutdown_frame, Action, ConnId, Entry, Frame, Request, SessionLayer};
use crate::tickets::requests::{self, Step, TicketAnswer, TicketCall};
use crate::tickets::TicketRefusal;
use clock::{BusinessCalendar, Clock};
use outbox::{Outbox, Refused};
use snapshots::Snapshots;

/// What the driver sends a connection's writer.
#[derive(Debug)]
pub enum Outbound {
    Frame(Frame),
    /// Several frames, in order, taking one place in the queue.
    Frames(Vec<Frame>),
    /// Send a close frame with this code and reason, then stop writing.
    Close {
        code: u16,
        reason: &'static str,
    },
}

/// The driver's handle on a connection.
#[derive(Debug, Clone)]
pub struct ConnHandle {
    pub id: ConnId,
    pub outbox: Arc<Outbox>,
}

/// Everything the driver is told.
#[derive(Debug)]
pub enum DriverInput {
    /// A new connection: its handle, and what it asks for.
    Open { conn: ConnHandle, request: Request },
    /// Anything else a connection says or does.
    Request(Request),
    /// Apply a reloaded config's rules and roster ([`crate::reload`]).
    Reconfigure { config: Box<Config>, reply: oneshot::Sender<Result<Reconfigured, NotReconfigured>> },
    /// A ticket request of the HTTP API ([`crate::tickets::http`]).
    Ticket(TicketCall),
    /// Who a caller of the files API is to a chat ([`crate::files::access`]).
    File(crate::files::access::FileCall),
}

/// Why a reloaded config was not applied (nothing changed).
#[derive(Debug)]
pub enum NotReconfigured {
    /// The skill groups differ (the message names each change).
    GroupsChanged(String),
    /// The log cannot be written: nothing is applied that a restart would lose.
    StorageDown,
}

/// What a reload changed in the running state.
#[derive(Debug)]
pub struct Reconfigured {
    pub roster: RosterChange,
    pub rules_changed: bool,
}

/// What `/readyz` reports, shared with the gateway.
#[derive(Debug)]
pub struct Health {
    /// False once shutdown began.
    pub accepting: AtomicBool,
    /// False while the input log cannot be written.
    pub storage: AtomicBool,
}

impl Default for Health {
    fn default() -> Self {
        Health { accepting: AtomicBool::new(true), storage: AtomicBool::new(true) }
    }
}

/// An action waiting for its entry to be durable.
#[derive(Debug)]
struct Held {
    lsn: Lsn,
    /// When the entry was applied (for the records store).
    stamp: Stamp,
    /// When the driver received the input that caused it.
    started: Instant,
    action: Action,
}

/// The task that owns the session layer. Built by [`crate::run`].
#[derive(Debug)]
pub struct Driver {
    layer: SessionLayer,
    journal: Journal,
    progress: Option<mpsc::UnboundedReceiver<Progress>>,
    snapshots: Snapshots,
    clock: Clock,
    /// Service hours and working time, in business time.
    calendar: BusinessCalendar,
    /// When a group next opens or closes: the calendar is read again then.
    hours_due: Option<Millis>,
    metrics: Metrics,
    health: Arc<Health>,
    outboxes: FxHashMap<ConnId, Arc<Outbox>>,
    held: VecDeque<Held>,
    /// Connections found slow while carrying out actions: cut off once the current actions are done.
    slow: Vec<ConnId>,
    /// The deadline the wake-up timer is set for.
    armed: Option<Millis>,
    /// Logged and applied before anything else (config changes, the restart).
    first_entries: Vec<Entry>,
    /// When the last entry was applied.
    stamp: Stamp,
    /// Where closed chats and events go (`None`: records are off).
    records: Option<Feeder>,
    /// Answers to ticket requests, each waiting for the log to be durable up to its lsn.
    ticket_answers: VecDeque<(Lsn, oneshot::Sender<TicketAnswer>, TicketAnswer)>,
}

/// How the driver is built: the recovered state and its surroundings.
#[derive(Debug)]
pub struct DriverParts {
    pub opened: Opened,
    pub scale: f64,
    /// The business calendar (`[calendar]`, the groups' `service_hours`).
    pub calendar: Arc<Calendar>,
    /// Each group's `service_hours` text, as configured (shown to customers).
    pub service_hours: FxHashMap<GroupId, Arc<str>>,
    pub snapshot_every: u64,
    pub snapshot_interval: Duration,
    pub metrics: Metrics,
    pub health: Arc<Health>,
    pub records: Option<Feeder>,
}

impl Driver {
    pub fn new(parts: DriverParts) -> Driver {
        let DriverParts {
            opened,
            scale,
            calendar,
            service_hours,
            snapshot_every,
            snapshot_interval,
            mut metrics,
            health,
            records,
        } = parts;
        let groups: Vec<&str> = opened.layer.router().config().groups.iter().map(|g| g.id.as_str()).collect();
        metrics.register_known_series(&groups);
        metrics.register_content_rules(opened.layer.content_rules().names());
        // The gauges say what the recovered state holds (closed groups included) from the start.
        metrics.record_groups(&opened.layer.router().group_snapshots(opened.resume_at));
        metrics.recovered(&opened.replay);
        // Counted from the snapshot recovered, not from the log's end: a long replayed tail makes the
        // next snapshot due soon, so the next start does not replay it again.
        let last_lsn = opened.replay.snapshot_lsn.unwrap_or(0);
        Driver {
            layer: opened.layer,
            journal: opened.journal,
            progress: opened.progress,
            snapshots: Snapshots::new(opened.store, snapshot_every, snapshot_interval, last_lsn),
            clock: Clock::new(opened.resume_at, scale),
            calendar: BusinessCalendar::new(calendar, opened.clock_anchor).with_texts(service_hours),
            hours_due: None,
            metrics,
            health,
            outboxes: FxHashMap::default(),
            held: VecDeque::new(),
            slow: Vec::new(),
            armed: None,
            first_entries: opened.first_entries,
            stamp: Stamp::default(),
            records,
            ticket_answers: VecDeque::new(),
        }
    }

    /// The first connection id this run may use: after every id in the log.
    pub fn first_conn_id(&self) -> ConnId {
        self.layer.last_conn() + 1
    }

    /// Runs until `shutdown` turns true (then makes everything durable, tells
    /// every client and returns) or every input sender is gone.
    pub async fn run(
        mut self,
        mut inputs: mpsc::Receiver<DriverInput>,
        mut shutdown: watch::Receiver<bool>,
        shutdown_timeout: Duration,
    ) {
        for entry in std::mem::take(&mut self.first_entries) {
            let now = self.clock.now();
            self.log_and_apply(now, entry, Instant::now());
        }
        self.check_hours();
        self.journal.flush();
        self.log_calendar();
        let mut housekeeping = tokio::time::interval(Duration::from_millis(250));
        housekeeping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // One timer, moved only when the router's next deadline changes (not re-created per input).
        let wake = tokio::time::sleep_until(far_future());
        tokio::pin!(wake);
        loop {
            let deadline = earliest(self.layer.poll_timeout(), self.hours_due);
            if deadline != self.armed {
                wake.as_mut().reset(deadline.and_then(|d| self.clock.instant_at(d)).unwrap_or_else(far_future));
                self.armed = deadline;
            }
            // The log's progress, timers and housekeeping come before inputs so that a busy input channel
            // cannot starve them (each is ready only now and then).
            tokio::select! {
                biased;
                _ = shutdown.wait_for(|s| *s) => break,
                Some(progress) = recv(&mut self.progress) => self.on_progresses(progress),
                Some(encoded) = self.snapshots.encoded.recv() => self.on_snapshot_encoded(encoded),
                Some(written) = self.snapshots.done.recv() => self.on_snapshot_written(written),
                _ = housekeeping.tick() => self.housekeeping(),
                _ = &mut wake, if self.armed.is_some() => {
                    self.armed = None;
                    self.fire_due_timers();
                    self.check_hours_if_due();
                }
                input = inputs.recv() => match input {
                    Some(input) => self.on_inputs(input, &mut inputs),
                    None => return,
                },
            }
            self.commit();
        }
        // Shutting down: finish the commands already received, make them durable, then tell every client.
        while let Ok(input) = inputs.try_recv() {
            self.on_input(input);
        }
        self.finish(Instant::now() + shutdown_timeout).await;
        self.shutdown();
    }

    /// Takes `first` and whatever else is already queued (up to a bound), so
    /// that the inputs that arrived together go to the log as one batch and
    /// their frames to each socket together: one writer wake-up and one
    /// progress report for the lot, not one per input.
    /// Tells the operator where business time stands on the calendar and which groups are open.
    fn log_calendar(&self) {
        let now = self.clock.now();
        let groups = self.layer.router().config().groups.iter().map(|g| g.id.as_str());
        let (open, closed): (Vec<_>, Vec<_>) = self.calendar.open_groups(groups, now).into_iter().partition(|g| g.1);
        info!(
            time_zone = self.calendar.calendar().zone().iana_name().unwrap_or("?"),
            calendar_time = %self.calendar.calendar().local(self.calendar.instant(now)),
            open = ?open.iter().map(|g| g.0).collect::<Vec<_>>(),
            closed = ?closed.iter().map(|g| g.0).collect::<Vec<_>>(),
            "business calendar"
        );
    }

    fn on_inputs(&mut self, first: DriverInput, inputs: &mut mpsc::Receiver<DriverInput>) {
        self.on_input(first);
        for _ in 1..INPUT_BATCH {
            let Ok(input) = inputs.try_recv() else { break };
            // Memory mode releases at once; so frames keep flowing within the batch.
            self.release();
            self.on_input(input);
        }
    }

    fn on_input(&mut self, input: DriverInput) {
        let started = Instant::now();
        let request = match input {
            DriverInput::Open { conn, request } => {
                self.outboxes.insert(conn.id, conn.outbox);
                request
            }
            DriverInput::Request(request) => request,
            DriverInput::Reconfigure { config, reply } => {
                let _ = reply.send(self.reconfigure(&config, started));
                return;
            }
            DriverInput::Ticket(call) => return self.on_ticket(call, started),
            DriverInput::File(call) => return crate::files::access::answer(&self.layer, call),
        };
        let closed = match request {
            Request::Closed { conn } => Some(conn),
            _ => None,
        };
        self.submit(request, started);
        if let Some(conn) = closed {
            self.outboxes.remove(&conn);
        }
    }

    /// Logs and applies what a reloaded config changes (rules, roster), or
    /// refuses it whole: skill groups cannot change while chats refer to
    /// them, and nothing is applied that the log cannot keep.
    fn reconfigure(&mut self, config: &Config, started: Instant) -> Result<Reconfigured, NotReconfigured> {
        self.layer.router().config().same_groups(&config.router).map_err(NotReconfigured::GroupsChanged)?;
        if !self.journal.is_healthy() {
            return Err(NotReconfigured::StorageDown);
        }
        let roster = self.layer.router().roster_change(&config.router.agents);
        let entries = config_entries(&self.layer, config);
        let rules_changed = entries.iter().any(|e| matches!(e, Entry::Configure { .. }));
        let now = self.clock.now();
        for entry in entries {
            self.log_and_apply(now, entry, started);
        }
        self.reread_calendar(config);
        match config.content_rules() {
            Ok(rules) => self.layer.set_content_rules(rules),
            // Cannot happen: a reloaded config was validated, its rules included.
            Err(e) => warn!(error = %e, "the reloaded content rules were refused: keeping the ones in force"),
        }
        Ok(Reconfigured { roster, rules_changed })
    }

    /// Takes a reloaded config's calendar and service hours (the time zone,
    /// holidays, each group's hours) and tells the router what that changes.
    fn reread_calendar(&mut self, config: &Config) {
        match config.business_calendar() {
            Ok(calendar) => {
                let anchor = self.calendar.anchor();
                self.layer.set_calendar(calendar.clone());
                self.calendar = BusinessCalendar::new(Arc::new(calendar), anchor).with_texts(config.service_hours());
                self.check_hours();
            }
            // Cannot happen: a reloaded config was validated, its calendar included.
            Err(e) => warn!(error = %e, "the reloaded calendar was refused: keeping the one in force"),
        }
    }

    /// A ticket request: a read is answered from the state, a change is
    /// logged and applied; either answer waits until what it shows is durable.
    fn on_ticket(&mut self, call: TicketCall, started: Instant) {
        let now = self.clock.now();
        let TicketCall { request, reply } = call;
        let answer = match requests::prepare(&self.layer, now, request) {
            Step::Answer(answer) => answer,
            Step::Log { .. } if !self.journal.is_healthy() => {
                Err(TicketRefusal::new(code::STORAGE_UNAVAILABLE, STORAGE_DOWN))
            }
            Step::Log { entry, then } => {
                self.log_and_apply(now, Entry::Ticket(entry), started);
                let refused = || TicketRefusal::new(code::INTERNAL, "the server could not log this");
                let outcome = self.layer.take_ticket_outcome().unwrap_or_else(|| Err(refused()));
                requests::answer(&self.layer, now, outcome, then)
            }
        };
        self.ticket_answers.push_back((self.journal.last(), reply, answer));
    }

    /// Hands a request to the session layer: answered at once if it changes
    /// nothing, else logged and applied (or refused while the log is failing).
    fn submit(&mut self, request: Request, started: Instant) {
        let now = self.clock.now();
        let Some(entry) = self.layer.prepare(now, request) else { return self.hold_actions(started) };
        if self.journal.is_healthy() {
            return self.log_and_apply(now, entry, started);
        }
        // Held actions wait for a disk that is failing; the refusal must not, or nobody would hear it.
        self.hold_actions(started);
        match self.layer.refuse_entry(entry, code::STORAGE_UNAVAILABLE, STORAGE_DOWN) {
            Some(entry) => self.log_and_apply(now, entry, started),
            None => {
                while let Some(action) = self.layer.poll_action() {
                    self.send_unless_waiting(action, started);
                }
            }
        }
    }

    /// Carries out an action at once, unless its connection still waits for
    /// earlier frames (each connection's frames keep their order). Only for
    /// what reveals nothing a crash could take back: refusals, pings' acks.
    fn send_unless_waiting(&mut self, action: Action, started: Instant) {
        let waiting = action.conn().is_some_and(|c| self.held.iter().any(|h| h.action.conn() == Some(c)));
        if waiting {
            self.held.push_back(Held { lsn: self.journal.last(), stamp: self.stamp, started, action });
        } else {
            self.carry_out(action, started);
        }
    }

    /// Appends an entry to the log, then applies it. An entry that cannot be
    /// encoded (a bug) is refused if it can be; if it cannot (a connection
    /// closing, timers), it is applied unlogged: a restart ends every
    /// connection and re-runs timers anyway.
    fn log_and_apply(&mut self, now: Millis, entry: Entry, started: Instant) {
        self.stamp = Stamp { business: now, wall_ms: wall_ms() };
        match self.journal.append(now, &entry) {
            Ok(_) => self.layer.apply(now, entry),
            Err(e) => {
                error!(error = %e, kind = entry.kind(), "an input could not be logged");
                if let Some(entry) = self.layer.refuse_entry(entry, code::INTERNAL, "the server could not log this") {
                    self.layer.apply(now, entry);
                }
            }
        }
        self.hold_actions(started);
        if self.snapshots.due(self.journal.last()) {
            self.take_snapshot();
        }
    }

    /// Queues the layer's new actions behind the last logged entry. While the
    /// log is failing, answers that depend on no state (pings' acks) go out
    /// at once unless their connection waits for earlier frames.
    fn hold_actions(&mut self, started: Instant) {
        let lsn = self.journal.last();
        while let Some(action) = self.layer.poll_action() {
            if let (Action::Answer { .. }, false) = (&action, self.journal.is_healthy()) {
                self.send_unless_waiting(action, started);
            } else {
                self.held.push_back(Held { lsn, stamp: self.stamp, started, action });
            }
        }
    }

    /// Submits what was logged (if the writer is free) and carries out what is durable.
    fn commit(&mut self) {
        self.journal.flush();
        self.release();
    }

    /// Carries out every held action whose entry is durable, then cuts off
    /// connections found slow meanwhile; repeats until nothing more is due.
    fn release(&mut self) {
        loop {
            while self.held.front().is_some_and(|h| h.lsn <= self.journal.released()) {
                let held = self.held.pop_front().expect("checked");
                if let Some(records) = &mut self.records {
                    records.send(held.lsn, held.stamp, &held.action);
                }
                self.carry_out(held.action, held.started);
            }
            while self.ticket_answers.front().is_some_and(|(lsn, ..)| *lsn <= self.journal.released()) {
                let (_, reply, answer) = self.ticket_answers.pop_front().expect("checked");
                let _ = reply.send(answer);
            }
            if self.slow.is_empty() {
                return;
            }
            for conn in std::mem::take(&mut self.slow) {
                self.submit(Request::SlowConsumer { conn }, Instant::now());
            }
            self.journal.flush();
        }
    }

    /// Fires the timers due by now, if any.
    fn fire_due_timers(&mut self) {
        let now = self.clock.now();
        if self.layer.poll_timeout().is_some_and(|at| at <= now) {
            self.log_and_apply(now, Entry::Tick, Instant::now());
        }
    }

    fn carry_out(&mut self, action: Action, started: Instant) {
        match action {
            Action::Send { conn, frame } | Action::Answer { conn, frame } => self.queue(conn, Outbound::Frame(frame)),
            Action::SendBatch { conn, frames } => self.queue(conn, Outbound::Frames(frames)),
            Action::Close { conn, last, code, reason } => {
                if let Some(outbox) = self.outboxes.remove(&conn) {
                    close_after(&outbox, last, code, reason);
                }
            }
            Action::Kill { conn } => {
                if let Some(outbox) = self.outboxes.remove(&conn) {
                    outbox.kill();
                }
            }
            Action::Refused { code } => self.metrics.protocol_error(code),
            Action::SlowConsumer => self.metrics.counter(metrics::SLOW_CONSUMERS, &[]).increment(1),
            Action::Event(event) => {
                if let Event::SessionAssigned { .. } = event {
                    self.metrics.assignment_latency(started.elapsed());
                }
                self.metrics.record_event(&event);
            }
            Action::ChatClosed(_) => {}
            Action::Ticket(event) => self.metrics.record_desk_event(&event),
        }
    }

    /// Queues an item for a connection; a full queue marks it slow (the session layer cuts it off).
    fn queue(&mut self, conn: ConnId, item: Outbound) {
        let Some(outbox) = self.outboxes.get(&conn) else { return };
        if let Err(Refused::Full) = outbox.try_send(item) {
            outbox.kill();
            self.slow.push(conn);
        }
    }

    // ---- the log ----

    /// Takes `first` and every report already queued behind it.
    fn on_progresses(&mut self, first: Progress) {
        self.on_progress(first);
        while let Some(progress) = self.progress.as_mut().and_then(|p| p.try_recv().ok()) {
            self.on_progress(progress);
        }
    }

    fn on_progress(&mut self, progress: Progress) {
        self.metrics.log_progress(&progress);
        let was_healthy = self.journal.is_healthy();
        self.journal.on_progress(&progress);
        match (was_healthy, self.journal.is_healthy()) {
            (true, false) => {
                let cause = progress.error.as_deref().unwrap_or("unknown");
                error!(error = cause, "cannot write the input log: refusing new work and stopping business time");
                self.clock.stop();
                self.health.storage.store(false, Ordering::Relaxed);
                self.armed = None;
            }
            (false, true) => {
                info!("the input log is writable again: business time runs again");
                self.clock.start();
                self.health.storage.store(true, Ordering::Relaxed);
                self.armed = None;
            }
            _ => {}
        }
        self.snapshots.write_when_synced(self.journal.synced());
    }

    /// Copies the state (the driver waits for that only) and has it encoded in the background.
    fn take_snapshot(&mut self) {
        let started = Instant::now();
        let copy = self.layer.copy_for_image();
        self.metrics.snapshot_copied(started.elapsed());
        self.snapshots.encode(self.journal.last(), copy);
    }

    fn on_snapshot_encoded(&mut self, encoded: snapshots::Encoded) {
        let image = match encoded.image {
            Ok(image) => {
                self.metrics.snapshot_encoded(encoded.took, image.len());
                Some(image)
            }
            Err(e) => {
                self.metrics.counter(metrics::SNAPSHOT_ERRORS, &[]).increment(1);
                error!(error = %e, "the state could not be encoded for a snapshot");
                None
            }
        };
        self.snapshots.on_encoded(encoded.lsn, image);
        self.snapshots.write_when_synced(self.journal.synced());
    }

    fn on_snapshot_written(&mut self, written: snapshots::Written) {
        self.snapshots.finished();
        match written {
            Ok(w) => {
                self.metrics.snapshot_written(&w);
                info!(
                    lsn = w.lsn,
                    bytes = w.bytes,
                    took_ms = w.duration.as_millis() as u64,
                    segments_deleted = w.segments_deleted.len(),
                    "snapshot written"
                );
            }
            Err(e) => {
                self.metrics.counter(metrics::SNAPSHOT_ERRORS, &[]).increment(1);
                warn!(error = %e, "a snapshot could not be written; the log keeps everything until the next one");
            }
        }
        self.snapshots.write_when_synced(self.journal.synced());
    }

    /// Reads the calendar again if a group's opening or closing is due.
    fn check_hours_if_due(&mut self) {
        if self.hours_due.is_some_and(|at| at <= self.clock.now()) {
            self.check_hours();
        }
    }

    /// Reads each group's hours on the calendar now, logs those that differ
    /// from what the router holds (so a replay opens and closes groups at
    /// the same business times), and notes when to look again.
    fn check_hours(&mut self) {
        let now = self.clock.now();
        let mut changed = Vec::new();
        let mut due = None;
        for (group, held) in self.layer.router().group_hours() {
            let hours = self.calendar.group_hours(group, now);
            due = earliest(due, hours.next_change);
            if hours != *held {
                changed.push((group.clone(), hours));
            }
        }
        self.hours_due = due;
        // While the log cannot be written business time stands still: looked at again once it runs.
        if !changed.is_empty() && self.journal.is_healthy() {
            self.log_and_apply(now, Entry::GroupHours { groups: changed }, Instant::now());
        }
    }

    /// Gauges, and timers (and group hours) whose wake-up raced with a new deadline.
    fn housekeeping(&mut self) {
        self.fire_due_timers();
        self.check_hours_if_due();
        let now = self.clock.now();
        self.metrics.record_groups(&self.layer.router().group_snapshots(now));
        let groups: Vec<&str> = self.layer.router().config().groups.iter().map(|g| g.id.as_str()).collect();
        self.metrics.record_tickets_open(&groups, &self.layer.desk().open_counts());
    }

    /// Makes everything logged durable and carries out its actions, then
    /// leaves a snapshot so that the next start has nothing to replay; gives
    /// up at `deadline` (a failing disk), leaving the log to a later replay.
    async fn finish(&mut self, deadline: Instant) {
        self.commit();
        while !self.journal.is_idle() {
            let Some(progress) = self.progress.as_mut() else { break };
            match tokio::time::timeout_at(deadline, progress.recv()).await {
                Ok(Some(p)) => self.on_progress(p),
                _ => {
                    warn!(held = self.held.len(), "shutdown: the input log did not catch up in time");
                    break;
                }
            }
            self.commit();
        }
        while self.snapshots.is_busy() {
            tokio::select! {
                Some(encoded) = self.snapshots.encoded.recv() => self.on_snapshot_encoded(encoded),
                Some(written) = self.snapshots.done.recv() => self.on_snapshot_written(written),
                _ = tokio::time::sleep_until(deadline) => break,
            }
        }
        let clean = self.journal.is_durable() && self.journal.is_healthy() && self.journal.is_idle();
        let last = self.journal.last();
        // Closing syncs everything written: only then may a snapshot stand for it. On a failing
        // disk closing would wait forever: the writer is let go instead (it keeps retrying until
        // the process exits; what it could not write was never acknowledged).
        let mut journal = std::mem::replace(&mut self.journal, Journal::in_memory(last));
        if clean {
            let _ = tokio::task::spawn_blocking(move || journal.close()).await;
        }
        if clean && last > self.snapshots.last_lsn() {
            match self.layer.image() {
                Ok(image) => {
                    if let Ok(Some(written)) =
                        tokio::time::timeout_at(deadline, self.snapshots.write_now(last, image)).await
                    {
                        self.on_snapshot_written(written);
                    }
                }
                Err(e) => error!(error = %e, "the state could not be encoded for a final snapshot"),
            }
        }
    }

    /// Tells every client that the server is going away: writers flush what is
    /// queued, send the close frame and end.
    fn shutdown(&mut self) {
        info!(connections = self.outboxes.len(), "shutting down: telling clients");
        for (_, outbox) in self.outboxes.drain() {
            close_after(&outbox, shutdown_frame(), close_code::GOING_AWAY, code::SHUTTING_DOWN);
        }
    }
}

/// At most this many queued inputs are taken in one go before the log, the
/// timers and shutdown get a look-in.
const INPUT_BATCH: usize = 256;

const STORAGE_DOWN: &str = "the server cannot save new work right now; try again shortly";

/// The next report of the log writer, if there is a writer.
async fn recv(progress: &mut Option<mpsc::UnboundedReceiver<Progress>>) -> Option<Progress> {
    match progress {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// A last frame, then a close frame; a connection that cannot take both is killed instead.
fn close_after(outbox: &Outbox, last: Frame, code: u16, reason: &'static str) {
    let ok =
        outbox.try_send(Outbound::Frame(last)).is_ok() && outbox.try_send(Outbound::Close { code, reason }).is_ok();
    if !ok {
        outbox.kill();
    }
}

/// The earlier of two optional deadlines.
fn earliest(a: Option<Millis>, b: Option<Millis>) -> Option<Millis> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(86_400 * 365)
}
