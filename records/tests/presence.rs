//! Agents' state changes read back for discipline (absence), on both databases.

use switchboard_records::testing::PgSchema;
use switchboard_records::{signed_in_during, EventRow, Record, Span, Store, Target};

#[allow(dead_code)]
enum Keep {
    Dir(tempfile::TempDir),
    Schema(PgSchema),
}

fn sqlite() -> (Store, Keep) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("records.sqlite3");
    (Store::new(&Target::Sqlite(path.to_string_lossy().into_owned()), "o1").unwrap(), Keep::Dir(dir))
}

async fn postgres() -> (Store, Keep) {
    let schema = PgSchema::create().await;
    (Store::new(&Target::Postgres(schema.url()), "o1").unwrap(), Keep::Schema(schema))
}

#[tokio::test]
async fn state_changes_on_sqlite() {
    let (store, _keep) = sqlite();
    state_changes_in_a_span_and_the_last_before(store).await;
}

#[tokio::test]
async fn state_changes_on_postgres() {
    let (store, _keep) = postgres().await;
    state_changes_in_a_span_and_the_last_before(store).await;
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
