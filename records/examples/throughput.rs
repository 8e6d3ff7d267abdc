//! Records written per second, SQLite against PostgreSQL, through the real
//! writer (queue, batches of `--batch`, one transaction each).
//!
//! ```sh
//! cargo run --release -p switchboard-records --example throughput -- [--records N] [--runs R] [--batch B]
//! ```
//!
//! Each run writes N records into a fresh database (a SQLite file in a
//! temporary directory with `synchronous = FULL`, as the server uses it; a
//! PostgreSQL schema of its own) in the mix a chat produces: per chat, ten
//! events, the chat with a four-line transcript, and a rating. The runs
//! alternate between the backends; each prints its rate and the CPU steal
//! (from `/proc/stat`) during it; the medians and their ratio come last.
//! The machine is shared: compare the ratio, not the absolute rates.

use std::time::{Duration, Instant};

use switchboard_records::testing::PgSchema;
use switchboard_records::{
    Backlog, ChatRow, EventRow, RatingRow, Record, Store, Target, TranscriptLine, WriterMetrics, WriterOptions,
};

const EVENTS: [&str; 10] = [
    "session_queued",
    "session_assigned",
    "agent_state_changed",
    "reply_warning",
    "complaint_tendency",
    "priority_raised",
    "agent_state_changed",
    "session_closed",
    "rated",
    "session_forgotten",
];

fn chat_records(session: u64, lsn: &mut u64) -> Vec<Record> {
    let at = 1_764_000_000_000 + session as i64 * 1000;
    let mut records: Vec<Record> = EVENTS
        .iter()
        .map(|kind| {
            *lsn += 1;
            Record::Event(EventRow {
                lsn: *lsn,
                ordinal: 0,
                at,
                kind: (*kind).into(),
                session: Some(session),
                agent: Some("agent-7".into()),
                group: Some("general".into()),
                detail: r#"{"session":1,"group":"general","agent":"agent-7"}"#.into(),
                flag: None,
            })
        })
        .collect();
    let line = |i: i64, from: &str| TranscriptLine {
        at: at + i,
        from: from.into(),
        agent: (from == "agent").then(|| "agent-7".into()),
        text: "My parcel never arrived, can you check where it is?".into(),
        attachment: None,
    };
    records.push(Record::Chat(Box::new(ChatRow {
        session,
        group: "general".into(),
        customer_name: Some("Carla".into()),
        customer_id: Some(format!("customer-{}", session % 1000)),
        agent: Some("agent-7".into()),
        agents: vec!["agent-7".into()],
        priority: "normal".into(),
        closed_at: at,
        close_reason: "agent_resolved".into(),
        transcript: vec![line(1, "customer"), line(2, "agent"), line(3, "customer"), line(4, "agent")],
        handoff_notes: Vec::new(),
    })));
    records.push(Record::Rating(RatingRow { session, rating: "satisfied".into() }));
    records
}

/// Total and steal jiffies of all CPUs.
fn cpu() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let fields: Vec<u64> =
        stat.lines().next().unwrap_or("").split_whitespace().skip(1).filter_map(|f| f.parse().ok()).collect();
    (fields.iter().sum(), fields.get(7).copied().unwrap_or(0))
}

/// One run: records per second and the steal share during it.
async fn run(store: Store, records: usize, batch: usize) -> (f64, f64) {
    let chats = records / (EVENTS.len() + 2);
    let mut lsn = 0;
    let all: Vec<Record> = (0..chats as u64).flat_map(|s| chat_records(s, &mut lsn)).collect();
    store.migrate().await.expect("the database answers");
    let options = WriterOptions { batch_size: batch, queue: all.len() + 1, ..WriterOptions::default() };
    let (cpu0, started) = (cpu(), Instant::now());
    let (sender, writer) =
        switchboard_records::writer::start(store, Backlog::memory(1), options, WriterMetrics::noop());
    let n = all.len();
    for record in all {
        assert!(sender.send(record), "the queue holds them all");
    }
    drop(sender);
    writer.await.expect("the writer ends");
    let took = started.elapsed().max(Duration::from_micros(1));
    let cpu1 = cpu();
    let steal = (cpu1.1 - cpu0.1) as f64 / (cpu1.0 - cpu0.0).max(1) as f64;
    (n as f64 / took.as_secs_f64(), steal)
}

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

#[tokio::main]
async fn main() {
    let (records, runs, batch) = (arg("--records", 60_000), arg("--runs", 5), arg("--batch", 500));
    println!("{records} records per run, batches of {batch}, {runs} runs per backend (alternating)");
    let (mut sqlite, mut postgres) = (Vec::new(), Vec::new());
    for i in 0..runs {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("records.sqlite3").to_string_lossy().into_owned();
        let (rate, steal) = run(Store::new(&Target::Sqlite(path), "bench").unwrap(), records, batch).await;
        println!("run {i} sqlite     {rate:>9.0} records/s  steal {:.1}%", steal * 100.0);
        sqlite.push(rate);
        let schema = PgSchema::create().await;
        let (rate, steal) = run(Store::new(&Target::Postgres(schema.url()), "bench").unwrap(), records, batch).await;
        println!("run {i} postgresql {rate:>9.0} records/s  steal {:.1}%", steal * 100.0);
        postgres.push(rate);
    }
    let (s, p) = (median(sqlite), median(postgres));
    println!("median: sqlite {s:.0} records/s, postgresql {p:.0} records/s, postgresql/sqlite {:.2}", p / s);
}
