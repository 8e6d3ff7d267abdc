//! Agents' state changes read back for discipline (absence), on both databases.

use switchboard_records::testing::PgSchema;
use switchboard_records::{signed_in_during, EventRow, Record, Span, Store, Target};

/// The same checks on a SQLite file and on a PostgreSQL schema of its own.
#[tokio::test]
async fn state_changes_on_both_databases() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("records.sqlite3").to_string_lossy().into_owned();
    state_changes_in_a_span_and_the_last_before(Store::new(&Target::Sqlite(file), "o1").unwrap()).await;
    let schema = PgSchema::create().await;
    state_changes_in_a_span_and_the_last_before(Store::new(&Target::Postgres(schema.url()), "o1").unwrap()).await;
}

fn change(lsn: u64, at: i64, agent: &str, from: &str, to: &str) -> Record {
    Record::Event(EventRow {
        lsn,
        ordinal: 0,
        at,
        kind: "agent_state_changed".into(),
        session: None,
        agent: Some(agent.into()),
        group: None,
        detail: format!(r#"{{"kind":"agent_state_changed","agent":"{agent}","from":"{from}","to":"{to}"}}"#),
        flag: None,
    })
}

async fn state_changes_in_a_span_and_the_last_before(store: Store) {
    store
        .write(&[
            change(1, 10, "ann", "offline", "available"),
            change(2, 20, "ann", "available", "busy"),
            change(3, 30, "ben", "offline", "available"),
            change(4, 40, "ben", "available", "offline"),
            change(5, 150, "ann", "busy", "offline"),
            change(6, 500, "ann", "offline", "available"),
        ])
        .await
        .unwrap();
    let changes = store.state_changes(Span { from: 100, to: 200 }).await.unwrap();
    let seen: Vec<_> = changes.iter().map(|c| (c.agent.as_str(), c.at, c.to.as_str())).collect();
    assert_eq!(seen, [("ann", 20, "busy"), ("ann", 150, "offline"), ("ben", 40, "offline")]);
    let ann: Vec<_> = changes.iter().filter(|c| c.agent == "ann").cloned().collect();
    let ben: Vec<_> = changes.iter().filter(|c| c.agent == "ben").cloned().collect();
    assert!(signed_in_during(&ann, 100, 200), "online since before the span");
    assert!(!signed_in_during(&ben, 100, 200), "offline since before the span");
}
