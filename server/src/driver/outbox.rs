//! A connection's outbound queue and life-cycle flag, in one small shared
//! allocation.
//!
//! The driver queues frames without waiting (a full queue means a slow
//! reader, which is cut off); the connection's writer takes them in batches;
//! the reader and writer watch the life-cycle flag. A tokio `mpsc` channel
//! plus a `watch` channel did the same for about 2 KiB per connection (the
//! channel allocates a block of 32 slots up front), a fifth of an idle
//! connection's memory. Here an idle connection holds a mutex, an empty
//! `VecDeque` and two `Notify`s.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};

use tokio::sync::Notify;

use super::Outbound;

/// Where a connection is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnState {
    /// Running normally.
    Open,
    /// The server sent a close frame; the reader waits a bounded time for the client's.
    CloseSent,
    /// Stop at once (slow reader, timeouts, write errors).
    Killed,
}

/// Why [`Outbox::try_send`] did not queue an item.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// `capacity` items are already waiting: the peer does not read.
    Full,
    /// The connection is ending; nothing more will be written.
    Closed,
}

#[derive(Debug)]
pub struct Outbox {
    inner: Mutex<Inner>,
    capacity: usize,
    /// Wakes the writer: items queued, no more items, or killed.
    to_writer: Notify,
    /// Wakes the reader: the state changed.
    to_reader: Notify,
}

#[derive(Debug)]
struct Inner {
    items: VecDeque<Outbound>,
    state: ConnState,
    /// No more items will be accepted; the writer ends once the queue is empty.
    finished: bool,
}

/// What the writer should do next.
#[derive(Debug)]
pub enum Next {
    /// Write these (at least one), in order.
    Items,
    /// Nothing more will come: close the socket.
    End,
    /// Stop at once.
    Killed,
}

impl Outbox {
    pub fn new(capacity: usize) -> Outbox {
        Outbox {
            inner: Mutex::new(Inner { items: VecDeque::new(), state: ConnState::Open, finished: false }),
            capacity,
            to_writer: Notify::new(),
            to_reader: Notify::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // The lock guards plain data that no panic can leave half-changed.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Queues an item for the writer, without waiting.
    pub fn try_send(&self, item: Outbound) -> Result<(), Refused> {
        let mut inner = self.lock();
        if inner.finished || inner.state == ConnState::Killed {
            return Err(Refused::Closed);
        }
        if inner.items.len() >= self.capacity {
            return Err(Refused::Full);
        }
        inner.items.push_back(item);
        drop(inner);
        self.to_writer.notify_one();
        Ok(())
    }

    /// Accepts no more items: the writer writes what is queued, then ends.
    pub fn finish(&self) {
        self.lock().finished = true;
        self.to_writer.notify_one();
    }

    pub fn state(&self) -> ConnState {
        self.lock().state
    }

    /// Stops the connection at once: the reader and writer end.
    pub fn kill(&self) {
        self.set_state(|_| Some(ConnState::Killed));
    }

    /// Records that the server's close frame went out, unless the
    /// connection is already being killed.
    pub fn close_sent(&self) {
        self.set_state(|s| (s == ConnState::Open).then_some(ConnState::CloseSent));
    }

    fn set_state(&self, change: impl FnOnce(ConnState) -> Option<ConnState>) {
        let mut inner = self.lock();
        let Some(to) = change(inner.state) else { return };
        if to == inner.state {
            return;
        }
        inner.state = to;
        drop(inner);
        self.to_reader.notify_one();
        self.to_writer.notify_one();
    }

    /// Waits until the state may have changed (the reader's side); check [`Outbox::state`] after.
    pub async fn state_changed(&self) {
        self.to_reader.notified().await;
    }

    /// Waits for work and moves up to `max` queued items into `batch` (the writer's side).
    pub async fn next(&self, batch: &mut Vec<Outbound>, max: usize) -> Next {
        loop {
            {
                let mut inner = self.lock();
                if inner.state == ConnState::Killed {
                    return Next::Killed;
                }
                if !inner.items.is_empty() {
                    let n = inner.items.len().min(max);
                    batch.extend(inner.items.drain(..n));
                    return Next::Items;
                }
                if inner.finished {
                    return Next::End;
                }
            }
            // A wake-up between the check and here is kept as a permit, never lost.
            self.to_writer.notified().await;
        }
    }

    /// Completes when the connection is killed (the writer races this against a stuck write).
    /// It consumes wake-ups meant for new items, which is harmless: the writer
    /// always looks at the queue before it waits.
    pub async fn killed(&self) {
        while self.state() != ConnState::Killed {
            self.to_writer.notified().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;

    fn frame(text: &str) -> Outbound {
        Outbound::Frame(text.into())
    }

    fn texts(batch: &[Outbound]) -> Vec<String> {
        batch
            .iter()
            .map(|item| match item {
                Outbound::Frame(text) => text.to_string(),
                other => format!("{other:?}"),
            })
            .collect()
    }

    #[tokio::test]
    async fn items_come_out_in_order_in_batches_and_a_full_queue_refuses() {
        let outbox = Outbox::new(3);
        for text in ["a", "b", "c"] {
            outbox.try_send(frame(text)).unwrap();
        }
        assert_eq!(outbox.try_send(frame("d")), Err(Refused::Full));
        let mut batch = Vec::new();
        assert!(matches!(outbox.next(&mut batch, 2).await, Next::Items));
        assert_eq!(texts(&batch), ["a", "b"]);
        batch.clear();
        assert!(matches!(outbox.next(&mut batch, 2).await, Next::Items));
        assert_eq!(texts(&batch), ["c"]);
        outbox.try_send(frame("e")).unwrap();
        outbox.finish();
        assert_eq!(outbox.try_send(frame("f")), Err(Refused::Closed), "finished: nothing more is accepted");
        batch.clear();
        assert!(matches!(outbox.next(&mut batch, 8).await, Next::Items), "what was queued is still written");
        assert_eq!(texts(&batch), ["e"]);
        assert!(matches!(outbox.next(&mut batch, 8).await, Next::End));
    }

    #[tokio::test]
    async fn a_waiting_writer_wakes_for_an_item_and_for_a_kill() {
        let outbox = Arc::new(Outbox::new(8));
        let (got_tx, mut got) = tokio::sync::mpsc::unbounded_channel();
        let writer = tokio::spawn({
            let outbox = outbox.clone();
            async move {
                loop {
                    let mut batch = Vec::new();
                    let next = outbox.next(&mut batch, 8).await;
                    let killed = matches!(next, Next::Killed);
                    got_tx.send((format!("{next:?}"), texts(&batch))).unwrap();
                    if killed {
                        return;
                    }
                }
            }
        });
        let wait = Duration::from_secs(5);
        tokio::time::sleep(Duration::from_millis(20)).await;
        outbox.try_send(frame("hello")).unwrap();
        let first = tokio::time::timeout(wait, got.recv()).await.unwrap().unwrap();
        assert_eq!(first, ("Items".to_owned(), vec!["hello".to_owned()]));
        outbox.kill();
        let second = tokio::time::timeout(wait, got.recv()).await.unwrap().unwrap();
        assert_eq!(second, ("Killed".to_owned(), vec![]));
        tokio::time::timeout(wait, writer).await.unwrap().unwrap();
        assert_eq!(outbox.try_send(frame("late")), Err(Refused::Closed));
    }

    #[tokio::test]
    async fn the_reader_hears_state_changes_and_a_kill_beats_a_close() {
        let outbox = Arc::new(Outbox::new(8));
        let (seen_tx, mut seen) = tokio::sync::mpsc::unbounded_channel();
        let reader = tokio::spawn({
            let outbox = outbox.clone();
            async move {
                loop {
                    outbox.state_changed().await;
                    let state = outbox.state();
                    seen_tx.send(state).unwrap();
                    if state == ConnState::Killed {
                        return;
                    }
                }
            }
        });
        let wait = Duration::from_secs(5);
        outbox.close_sent();
        assert_eq!(tokio::time::timeout(wait, seen.recv()).await.unwrap(), Some(ConnState::CloseSent));
        outbox.kill();
        outbox.close_sent();
        assert_eq!(tokio::time::timeout(wait, seen.recv()).await.unwrap(), Some(ConnState::Killed));
        tokio::time::timeout(wait, reader).await.unwrap().unwrap();
        assert_eq!(outbox.state(), ConnState::Killed, "a close after a kill changes nothing");
        tokio::time::timeout(wait, outbox.killed()).await.expect("killed() completes");
    }
}
