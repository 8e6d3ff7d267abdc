//! The writer: batches, the backlog while the database is down (a proxy in
//! front of PostgreSQL is cut), the spill file across a restart, and drops
//! that are counted.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use metrics::Counter;
use switchboard_records::testing::{CuttableProxy, PgSchema};
use switchboard_records::{
    Backlog, ChatQuery, ChatRow, DropReason, RatingRow, Record, RecordSender, Spool, Store, Target, WriterMetrics,
    WriterOptions,
};

fn chat(session: u64, customer_name: &str) -> Record {
    Record::Chat(Box::new(ChatRow {
        session,
        group: "general".into(),
        customer_name: Some(customer_name.into()),
        customer_id: None,
        agent: Some("ann".into()),
        agents: vec!["ann".into()],
        priority: "normal".into(),
        closed_at: 1000 + session as i64,
        close_reason: "agent_resolved".into(),
        transcript: Vec::new(),
        handoff_notes: Vec::new(),
    }))
}

fn rating(session: u64) -> Record {
    Record::Rating(RatingRow { session, rating: "satisfied".into() })
}

fn options() -> WriterOptions {
    WriterOptions {
        batch_size: 16,
        queue: 1000,
        retry_min: Duration::from_millis(20),
        retry_max: Duration::from_millis(200),
        ..WriterOptions::default()
    }
}

/// Metrics whose drop counters can be read.
fn counting() -> (WriterMetrics, Vec<Arc<AtomicU64>>) {
    let mut metrics = WriterMetrics::noop();
    let cells: Vec<Arc<AtomicU64>> = DropReason::ALL.iter().map(|_| Arc::new(AtomicU64::new(0))).collect();
    for (slot, cell) in metrics.dropped.iter_mut().zip(&cells) {
        *slot = Counter::from_arc(cell.clone());
    }
    (metrics, cells)
}

fn dropped(cells: &[Arc<AtomicU64>], reason: DropReason) -> u64 {
    cells[DropReason::ALL.iter().position(|r| *r == reason).unwrap()].load(Ordering::Relaxed)
}

async fn all_chats(store: &Store) -> Vec<(u64, Option<String>)> {
    let q = ChatQuery { limit: switchboard_records::MAX_LIMIT, ..ChatQuery::default() };
    let mut chats: Vec<_> = store.find_chats(&q).await.unwrap().into_iter().map(|c| (c.session, c.rating)).collect();
    chats.sort();
    chats
}

fn send_all(sender: &RecordSender, sessions: std::ops::Range<u64>) {
    for s in sessions {
        assert!(sender.send(chat(s, "c")));
        assert!(sender.send(rating(s)));
    }
}

/// Waits (real time, bounded) until `done` holds.
async fn until(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..500 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("still not {what} after 10 s");
}

#[tokio::test]
async fn records_arrive_in_batches_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(&Target::Sqlite(dir.path().join("r.sqlite3").to_string_lossy().into_owned()), "o").unwrap();
    let (sender, task) =
        switchboard_records::writer::start(store.clone(), Backlog::memory(100), options(), WriterMetrics::noop());
    send_all(&sender, 0..200);
    drop(sender);
    task.await.unwrap();
    let chats = all_chats(&store).await;
    assert_eq!(chats.len(), 200);
    assert!(chats.iter().all(|(_, r)| r.as_deref() == Some("satisfied")), "each rating came after its chat");
}

#[tokio::test]
async fn while_postgres_is_down_records_spill_to_the_file_and_arrive_after_it_returns() {
    let schema = PgSchema::create().await;
    let proxy = CuttableProxy::to_postgres().await;
    let store = Store::new(&Target::Postgres(schema.url_via(proxy.addr)), "o").unwrap();
    store.migrate().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let spill_path = dir.path().join("records-spill.jsonl");
    let spool = Spool::open(&spill_path, 1 << 20).unwrap();
    let (sender, task) =
        switchboard_records::writer::start(store.clone(), Backlog::File(spool), options(), WriterMetrics::noop());
    send_all(&sender, 0..10);
    let direct = Store::new(&Target::Postgres(schema.url()), "o").unwrap();
    for _ in 0..500 {
        if all_chats(&direct).await.len() == 10 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(all_chats(&direct).await.len(), 10, "written while the database is up");

    proxy.cut();
    send_all(&sender, 10..100);
    let spilled = || std::fs::metadata(&spill_path).map(|m| m.len()).unwrap_or(0) > 0;
    until("spilled", spilled).await;
    assert!(all_chats(&direct).await.len() < 100, "nothing gets through the cut proxy");

    proxy.restore();
    drop(sender);
    task.await.unwrap();
    let chats = all_chats(&direct).await;
    assert_eq!(chats.len(), 100);
    assert!(chats.iter().all(|(_, r)| r.is_some()), "order kept through the spill file: {chats:?}");
    assert_eq!(std::fs::metadata(&spill_path).unwrap().len(), 0, "the spill file is emptied once written");
}

#[tokio::test]
async fn a_spill_file_left_by_an_earlier_run_is_written_at_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let spill_path = dir.path().join("records-spill.jsonl");
    {
        let mut backlog = Backlog::File(Spool::open(&spill_path, 1 << 20).unwrap());
        assert_eq!(backlog.append((0..5).flat_map(|s| [chat(s, "c"), rating(s)]).collect()), None);
    }
    // The process died in the middle of a write: a torn last line.
    let mut file = std::fs::OpenOptions::new().append(true).open(&spill_path).unwrap();
    std::io::Write::write_all(&mut file, b"{\"chat\":{\"sess").unwrap();
    let spool = Spool::open(&spill_path, 1 << 20).unwrap();
    assert_eq!(spool.records(), 10);
    let store = Store::new(&Target::Sqlite(dir.path().join("r.sqlite3").to_string_lossy().into_owned()), "o").unwrap();
    let (sender, task) =
        switchboard_records::writer::start(store.clone(), Backlog::File(spool), options(), WriterMetrics::noop());
    drop(sender);
    task.await.unwrap();
    assert_eq!(all_chats(&store).await.len(), 5);
    assert_eq!(std::fs::metadata(&spill_path).unwrap().len(), 0);
}

#[tokio::test]
async fn beyond_the_memory_backlog_records_are_dropped_and_counted() {
    let schema = PgSchema::create().await;
    let proxy = CuttableProxy::to_postgres().await;
    proxy.cut();
    let store = Store::new(&Target::Postgres(schema.url_via(proxy.addr)), "o").unwrap();
    let (metrics, cells) = counting();
    let options = WriterOptions { queue: 10, ..options() };
    let (sender, task) = switchboard_records::writer::start(store, Backlog::memory(10), options, metrics);
    let mut refused = 0u64;
    for s in 0..100 {
        if !sender.send(chat(s, "c")) {
            refused += 1;
        }
        tokio::task::yield_now().await;
    }
    drop(sender);
    task.await.unwrap();
    let counted = dropped(&cells, DropReason::QueueFull) + dropped(&cells, DropReason::SpillFull);
    assert_eq!(dropped(&cells, DropReason::QueueFull), refused);
    assert_eq!(counted + dropped(&cells, DropReason::Shutdown), 100, "every record is written or counted");
    assert!(counted > 0);
}

#[tokio::test]
async fn a_row_postgres_refuses_is_dropped_and_counted_and_the_rest_of_its_batch_written() {
    let schema = PgSchema::create().await;
    let store = Store::new(&Target::Postgres(schema.url()), "o").unwrap();
    let (metrics, cells) = counting();
    let (sender, task) = switchboard_records::writer::start(store.clone(), Backlog::memory(100), options(), metrics);
    assert!(sender.send(chat(1, "fine")));
    // PostgreSQL text cannot hold a NUL byte.
    assert!(sender.send(chat(2, "nul\0byte")));
    assert!(sender.send(chat(3, "fine")));
    drop(sender);
    task.await.unwrap();
    assert_eq!(all_chats(&store).await.iter().map(|c| c.0).collect::<Vec<_>>(), [1, 3]);
    assert_eq!(dropped(&cells, DropReason::Rejected), 1);
}

#[tokio::test]
async fn retention_deletes_old_chats_while_the_writer_runs() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(&Target::Sqlite(dir.path().join("r.sqlite3").to_string_lossy().into_owned()), "o").unwrap();
    let options = WriterOptions {
        retention: Some(Duration::from_secs(86_400)),
        retention_every: Duration::from_millis(20),
        ..options()
    };
    let (sender, task) =
        switchboard_records::writer::start(store.clone(), Backlog::memory(100), options, WriterMetrics::noop());
    // Session 0 closed in 1970 (`chat` closes at 1000 ms + session); session 1 closes now.
    assert!(sender.send(chat(0, "old")));
    let Record::Chat(mut recent) = chat(1, "recent") else { unreachable!() };
    recent.closed_at = switchboard_records::now_ms();
    assert!(sender.send(Record::Chat(recent)));
    for _ in 0..500 {
        if all_chats(&store).await.iter().map(|c| c.0).collect::<Vec<_>>() == [1] {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        all_chats(&store).await.iter().map(|c| c.0).collect::<Vec<_>>(),
        [1],
        "the old chat is deleted, the recent one kept"
    );
    drop(sender);
    task.await.unwrap();
}
