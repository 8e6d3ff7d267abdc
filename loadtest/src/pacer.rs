//! The open-loop schedule: event `k` is due at `start + k / rate`, whatever
//! happened to the events before it (no coordinated omission).
//!
//! The pacer runs on its own OS thread and sleeps with `std::thread::sleep`
//! (tens of microseconds of precision, never less than [`MIN_SLEEP`]) rather
//! than tokio's 1 ms timer wheel; each event is handed to a connection task
//! with its intended time, and latency is measured from that time, so a late
//! send shows up as latency.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

/// The shortest sleep of the pacer: events due sooner than this after the
/// previous wake-up are sent together (up to 200 us late, counted as latency).
pub const MIN_SLEEP: Duration = Duration::from_micros(200);

/// A constant-rate schedule.
#[derive(Clone, Copy, Debug)]
pub struct Schedule {
    /// When event 0 is due.
    pub start: Instant,
    /// Events per second (> 0).
    pub rate: f64,
    /// How many events.
    pub count: u64,
}

impl Schedule {
    pub fn new(start: Instant, rate: f64, duration: Duration) -> Self {
        let count = (rate * duration.as_secs_f64()).round() as u64;
        Schedule { start, rate, count }
    }

    /// When event `k` is due.
    pub fn due(&self, k: u64) -> Instant {
        self.start + Duration::from_secs_f64(k as f64 / self.rate)
    }
}

/// Runs `dispatch(k, due_k)` for every event of the schedule, each no earlier than
/// it is due, on a dedicated thread. Stops early when `stop` is set. Returns the
/// number of events dispatched.
pub fn spawn(
    schedule: Schedule,
    stop: Arc<AtomicBool>,
    mut dispatch: impl FnMut(u64, Instant) + Send + 'static,
) -> thread::JoinHandle<u64> {
    thread::Builder::new()
        .name("pacer".into())
        .spawn(move || {
            for k in 0..schedule.count {
                if stop.load(Ordering::Relaxed) {
                    return k;
                }
                let due = schedule.due(k);
                let now = Instant::now();
                if due > now {
                    // Never sleep less than MIN_SLEEP: at high rates the pacer then
                    // wakes every MIN_SLEEP and sends what is due in one go, instead
                    // of paying a context switch (and a worker wake-up) per event.
                    // The event is late by at most MIN_SLEEP, and that lateness is
                    // part of the latency measured from its due time.
                    thread::sleep((due - now).max(MIN_SLEEP));
                }
                dispatch(k, due);
            }
            schedule.count
        })
        .expect("spawning the pacer thread")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_never_early_and_all_are_dispatched() {
        let schedule = Schedule::new(Instant::now(), 2_000.0, Duration::from_millis(50));
        assert_eq!(schedule.count, 100);
        let (tx, rx) = std::sync::mpsc::channel();
        let dispatched = spawn(schedule, Arc::default(), move |k, due| {
            tx.send((k, due, Instant::now())).unwrap();
        })
        .join()
        .unwrap();
        assert_eq!(dispatched, 100);
        let events: Vec<_> = rx.iter().collect();
        assert_eq!(events.len(), 100);
        for (k, due, at) in events {
            assert_eq!(due, schedule.due(k));
            assert!(at >= due);
        }
    }
}
