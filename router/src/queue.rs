//! A skill group's own queue of waiting sessions, in priority-then-arrival
//! order, with the position and wait estimate each customer was last told.
//!
//! One deque per priority, sorted by arrival order. Joining appends (orders
//! only grow), putting a session back at the front prepends (front orders only
//! shrink), and the dispatcher takes a head: all O(1), where a B-tree paid a
//! search and a rebalance on every decision. A removal from the middle (a
//! customer leaving, a priority raised) leaves a tombstone, skipped when
//! walking the queue, dropped when it reaches a head, and swept out once
//! tombstones outnumber the living.

use std::cmp::Reverse;
use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use super::ids::SessionId;
use super::input::Priority;
use super::state::QueueKey;

/// Priorities from the first served to the last.
const SERVED_FIRST: [Priority; 3] = [Priority::Urgent, Priority::High, Priority::Normal];

/// What a waiting customer was last told.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Told {
    /// The position (0: none yet).
    pub(crate) position: u32,
    /// The estimate, in whole seconds, or `pace::UNKNOWN_WAIT`: nobody can
    /// serve (the customer was told `NoAgentOnline`).
    pub(crate) wait: u32,
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    order: i64,
    session: SessionId,
    told: Told,
    live: bool,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct Queue {
    /// Indexed by `Priority as usize`; each sorted by `order`.
    by_priority: [VecDeque<Entry>; 3],
    /// Live entries per priority.
    live: [usize; 3],
    dead: usize,
}

impl Queue {
    /// Waiting sessions.
    pub(crate) fn len(&self) -> usize {
        self.live.iter().sum()
    }

    /// The position a session of `priority` gets by joining: behind everyone
    /// of its priority or higher, or, put back at the `front`, ahead of its
    /// own priority. O(1), where walking the queue would be O(length).
    pub(crate) fn position_on_joining(&self, priority: Priority, front: bool) -> usize {
        let p = priority as usize;
        let higher: usize = self.live[p + 1..].iter().sum();
        if front {
            higher + 1
        } else {
            higher + self.live[p] + 1
        }
    }

    /// Adds a session, remembering what it was told.
    pub(crate) fn push(&mut self, key: QueueKey, told: Told) {
        let deque = &mut self.by_priority[key.priority.0 as usize];
        let entry = Entry { order: key.order, session: key.session, told, live: true };
        match (deque.front(), deque.back()) {
            (_, None) => deque.push_back(entry),
            (_, Some(back)) if key.order > back.order => deque.push_back(entry),
            (Some(front), _) if key.order < front.order => deque.push_front(entry),
            _ => {
                let at = deque.partition_point(|e| e.order < key.order);
                deque.insert(at, entry);
            }
        }
        self.live[key.priority.0 as usize] += 1;
    }

    /// Removes a session; returns what it was last told.
    pub(crate) fn remove(&mut self, key: &QueueKey) -> Option<Told> {
        let deque = &mut self.by_priority[key.priority.0 as usize];
        // Usually the head (the dispatcher's pick): no search.
        let at = match deque.front() {
            Some(front) if front.order == key.order => 0,
            _ => deque.partition_point(|e| e.order < key.order),
        };
        let entry = deque.get_mut(at).filter(|e| e.live && e.order == key.order && e.session == key.session)?;
        let told = entry.told;
        entry.live = false;
        self.live[key.priority.0 as usize] -= 1;
        self.dead += 1;
        // Tombstones never stay at either end.
        while deque.front().is_some_and(|e| !e.live) {
            deque.pop_front();
            self.dead -= 1;
        }
        while deque.back().is_some_and(|e| !e.live) {
            deque.pop_back();
            self.dead -= 1;
        }
        if self.dead > 64 && self.dead > self.len() {
            for deque in &mut self.by_priority {
                deque.retain(|e| e.live);
            }
            self.dead = 0;
        }
        Some(told)
    }

    /// The waiting sessions, first served first.
    pub(crate) fn iter(&self) -> impl Iterator<Item = QueueKey> + '_ {
        self.iter_told().map(|(key, _)| key)
    }

    /// The waiting sessions, first served first, with what each was last told.
    pub(crate) fn iter_told(&self) -> impl Iterator<Item = (QueueKey, Told)> + '_ {
        SERVED_FIRST
            .into_iter()
            .flat_map(move |p| self.by_priority[p as usize].iter().filter(|e| e.live).map(move |e| (key(p, e), e.told)))
    }

    /// The waiting sessions, first served first, with what each was last told.
    pub(crate) fn iter_told_mut(&mut self) -> impl Iterator<Item = (QueueKey, &mut Told)> + '_ {
        let [normal, high, urgent] = &mut self.by_priority;
        [(Priority::Urgent, urgent), (Priority::High, high), (Priority::Normal, normal)]
            .into_iter()
            .flat_map(|(p, deque)| deque.iter_mut().filter(|e| e.live).map(move |e| (key(p, e), &mut e.told)))
    }

    /// A waiting session's position (1 = next).
    pub(crate) fn position(&self, key: &QueueKey) -> Option<usize> {
        self.iter().position(|k| k == *key).map(|i| i + 1)
    }
}

fn key(priority: Priority, e: &Entry) -> QueueKey {
    QueueKey { priority: Reverse(priority), order: e.order, session: e.session }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn told(n: u32) -> Told {
        Told { position: n, wait: n / 2 }
    }

    fn k(priority: Priority, order: i64) -> QueueKey {
        QueueKey { priority: Reverse(priority), order, session: SessionId(order.unsigned_abs() * 10 + priority as u64) }
    }

    /// The queue against a B-tree map of the same keys, over a fixed
    /// pseudo-random mix of joins, returns to the front, removals and raises.
    #[test]
    fn walks_and_removes_exactly_like_an_ordered_map() {
        let mut queue = Queue::default();
        let mut model: BTreeMap<QueueKey, Told> = BTreeMap::new();
        let (mut back, mut front) = (0i64, 0i64);
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: u64| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng % n
        };
        for step in 0..20_000u32 {
            let priority = SERVED_FIRST[next(3) as usize];
            match next(10) {
                0..=3 => {
                    back += 1;
                    let position = queue.position_on_joining(priority, false);
                    queue.push(k(priority, back), told(step));
                    model.insert(k(priority, back), told(step));
                    assert_eq!(position, model.range(..=k(priority, back)).count());
                }
                4 => {
                    front -= 1;
                    let position = queue.position_on_joining(priority, true);
                    queue.push(k(priority, front), told(step));
                    model.insert(k(priority, front), told(step));
                    assert_eq!(position, model.range(..=k(priority, front)).count());
                }
                5..=7 if !model.is_empty() => {
                    let victim = if next(2) == 0 {
                        *model.keys().next().unwrap()
                    } else {
                        *model.keys().nth(next(model.len() as u64) as usize).unwrap()
                    };
                    assert_eq!(queue.remove(&victim), model.remove(&victim));
                }
                8 if !model.is_empty() => {
                    // A priority raise: out of one deque, into another, told position kept.
                    let old = *model.keys().nth(next(model.len() as u64) as usize).unwrap();
                    let new = QueueKey { priority: Reverse(Priority::Urgent), ..old };
                    let told = queue.remove(&old).unwrap();
                    queue.push(new, told);
                    let told = model.remove(&old).unwrap();
                    model.insert(new, told);
                }
                _ => {
                    for (_, told) in queue.iter_told_mut().take(3) {
                        told.position += 1;
                    }
                    for told in model.values_mut().take(3) {
                        told.position += 1;
                    }
                }
            }
            assert_eq!(queue.len(), model.len());
            if step % 97 == 0 {
                let walked: Vec<(QueueKey, Told)> = queue.iter_told_mut().map(|(k, t)| (k, *t)).collect();
                let expected: Vec<(QueueKey, Told)> = model.iter().map(|(k, t)| (*k, *t)).collect();
                assert_eq!(walked, expected, "step {step}");
                assert_eq!(queue.iter().collect::<Vec<_>>(), model.keys().copied().collect::<Vec<_>>());
                if let Some(some) = model.keys().nth(model.len() / 2) {
                    assert_eq!(queue.position(some), Some(model.range(..=*some).count()));
                }
            }
        }
        assert!(queue.dead <= 64 || queue.dead <= queue.len(), "tombstones are swept");
    }

    #[test]
    fn removing_an_absent_key_changes_nothing() {
        let mut queue = Queue::default();
        queue.push(k(Priority::Normal, 1), told(1));
        assert_eq!(queue.remove(&k(Priority::Normal, 2)), None);
        assert_eq!(queue.remove(&k(Priority::High, 1)), None);
        assert_eq!(queue.len(), 1);
        assert_eq!(queue.remove(&k(Priority::Normal, 1)), Some(told(1)));
        assert_eq!(queue.remove(&k(Priority::Normal, 1)), None, "removed once only");
        assert_eq!(queue.len(), 0);
    }
}
