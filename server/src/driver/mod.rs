//! The driver: one tokio task owns the session layer (and through it the
//! router core) and carries out what they decide.
//!
//! It `select!`s over its input channel (connections opening, commands,
//! connections closing), the router's next deadline and a housekeeping tick,
//! hands each request to the [`SessionLayer`], and carries out the actions it
//! emits: frames into connections' outboxes, closes, metrics. Everything
//! with a rule in it lives in the session layer or the router; this loop only
//! moves things between them and the sockets. No locks: only this task
//! touches the layer.

pub mod clock;
pub mod outbox;

use std::sync::Arc;
use std::time::Duration;

use rustc_hash::FxHashMap;
use switchboard_protocol::{close_code, code};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tracing::info;

use crate::metrics::Metrics;
use crate::router::output::Event;
use crate::router::Millis;
use crate::session::{shutdown_frame, Action, ConnId, Entry, Frame, Request, SessionLayer};
use clock::Clock;
use outbox::{Outbox, Refused};

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
}

/// The task that owns the session layer. Built by [`crate::run`].
#[derive(Debug)]
pub struct Driver {
    layer: SessionLayer,
    clock: Clock,
    metrics: Metrics,
    outboxes: FxHashMap<ConnId, Arc<Outbox>>,
    /// Connections found slow while carrying out actions: cut off once the current actions are done.
    slow: Vec<ConnId>,
    assignments: usize,
}

impl Driver {
    pub fn new(layer: SessionLayer, clock: Clock, mut metrics: Metrics) -> Driver {
        let groups: Vec<&str> = layer.router().config().groups.iter().map(|g| g.id.as_str()).collect();
        metrics.register_known_series(&groups);
        Driver { layer, clock, metrics, outboxes: FxHashMap::default(), slow: Vec::new(), assignments: 0 }
    }

    /// Runs until `shutdown` turns true (then tells every client and returns) or every input sender is gone.
    pub async fn run(mut self, mut inputs: mpsc::Receiver<DriverInput>, mut shutdown: watch::Receiver<bool>) {
        let mut housekeeping = tokio::time::interval(Duration::from_millis(250));
        housekeeping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // One timer, moved only when the router's next deadline changes (not re-created per input).
        let wake = tokio::time::sleep_until(far_future());
        tokio::pin!(wake);
        let mut armed: Option<Millis> = None;
        loop {
            let deadline = self.layer.poll_timeout();
            if deadline != armed {
                wake.as_mut().reset(deadline.and_then(|d| self.clock.instant_at(d)).unwrap_or_else(far_future));
                armed = deadline;
            }
            // Timers and housekeeping come before inputs so that a busy input channel cannot starve them
            // (each is ready only now and then).
            tokio::select! {
                biased;
                _ = shutdown.wait_for(|s| *s) => break,
                _ = housekeeping.tick() => self.housekeeping(),
                _ = &mut wake, if armed.is_some() => {
                    armed = None;
                    self.fire_due_timers();
                }
                input = inputs.recv() => match input {
                    Some(input) => self.on_input(input),
                    None => return,
                },
            }
        }
        // Shutting down: let the commands already received finish, then tell every client.
        while let Ok(input) = inputs.try_recv() {
            self.on_input(input);
        }
        self.shutdown();
    }

    fn on_input(&mut self, input: DriverInput) {
        let started = Instant::now();
        let request = match input {
            DriverInput::Open { conn, request } => {
                self.outboxes.insert(conn.id, conn.outbox);
                request
            }
            DriverInput::Request(request) => request,
        };
        let closed = match request {
            Request::Closed { conn } => Some(conn),
            _ => None,
        };
        self.submit(request);
        if let Some(conn) = closed {
            self.outboxes.remove(&conn);
        }
        self.carry_out_actions(started);
    }

    /// Hands a request to the session layer: applied at once if it changes state.
    fn submit(&mut self, request: Request) {
        let now = self.clock.now();
        if let Some(entry) = self.layer.prepare(now, request) {
            self.layer.apply(now, entry);
        }
    }

    /// Fires the timers due by now, if any.
    fn fire_due_timers(&mut self) {
        let now = self.clock.now();
        if self.layer.poll_timeout().is_some_and(|at| at <= now) {
            self.layer.apply(now, Entry::Tick);
            self.carry_out_actions(Instant::now());
        }
    }

    /// Carries out every pending action, then cuts off connections found slow meanwhile; repeats until quiet.
    fn carry_out_actions(&mut self, started: Instant) {
        loop {
            while let Some(action) = self.layer.poll_action() {
                self.carry_out(action);
            }
            if self.slow.is_empty() {
                break;
            }
            for conn in std::mem::take(&mut self.slow) {
                self.submit(Request::SlowConsumer { conn });
            }
        }
        for _ in 0..std::mem::take(&mut self.assignments) {
            self.metrics.assignment_latency(started.elapsed());
        }
    }

    fn carry_out(&mut self, action: Action) {
        match action {
            Action::Send { conn, frame } => self.queue(conn, Outbound::Frame(frame)),
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
            Action::SlowConsumer => self.metrics.counter(crate::metrics::SLOW_CONSUMERS, &[]).increment(1),
            Action::Event(event) => {
                if let Event::SessionAssigned { .. } = event {
                    self.assignments += 1;
                }
                self.metrics.record_event(&event);
            }
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

    /// Gauges, and timers whose wake-up raced with a new deadline.
    fn housekeeping(&mut self) {
        self.fire_due_timers();
        let now = self.clock.now();
        self.metrics.record_groups(&self.layer.router().group_snapshots(now));
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

/// A last frame, then a close frame; a connection that cannot take both is killed instead.
fn close_after(outbox: &Outbox, last: Frame, code: u16, reason: &'static str) {
    let ok =
        outbox.try_send(Outbound::Frame(last)).is_ok() && outbox.try_send(Outbound::Close { code, reason }).is_ok();
    if !ok {
        outbox.kill();
    }
}

fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(86_400 * 365)
}
