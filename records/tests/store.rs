//! The store against both databases: every test runs on SQLite (a file in a
//! temporary directory) and on PostgreSQL (a schema of its own, dropped at
//! the end). PostgreSQL must be reachable (`testing::postgres_url`).

use switchboard_records::testing::PgSchema;
use switchboard_records::{
    ChatQuery, ChatRow, EventRow, FlagRow, NoteLine, RatingRow, Record, Store, StoreError, Target, TicketEventRow,
    TicketRow, TranscriptLine,
};

/// What keeps a test's database alive: its directory or its schema.
#[allow(dead_code)]
enum Keep {
    Dir(tempfile::TempDir),
    Schema(PgSchema),
}

fn sqlite(origin: &str) -> (Store, Keep) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("records.sqlite3");
    let store = Store::new(&Target::Sqlite(path.to_string_lossy().into_owned()), origin).unwrap();
    (store, Keep::Dir(dir))
}

async fn postgres(origin: &str) -> (Store, Keep) {
    let schema = PgSchema::create().await;
    let store = Store::new(&Target::Postgres(schema.url()), origin).unwrap();
    (store, Keep::Schema(schema))
}

/// Each test on both backends: `mod NAME { fn sqlite; fn postgres }`.
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                let (store, _keep) = super::sqlite("o1");
                super::$name(store).await;
            }
            #[tokio::test]
            async fn postgres() {
                let (store, _keep) = super::postgres("o1").await;
                super::$name(store).await;
            }
        }
    )*};
}

on_both!(
    migrations_run_once_and_are_remembered,
    a_newer_schema_is_refused,
    a_chat_is_written_once_with_its_times_agents_flags_and_rating,
    lookups_filter_by_customer_agent_group_date_and_flag,
    retention_deletes_only_what_is_older,
    the_same_session_id_from_another_origin_is_another_chat,
    a_done_ticket_and_its_events_are_written_once_and_retention_takes_them,
);

fn event(lsn: u64, ordinal: u32, at: i64, kind: &str, session: u64, agent: Option<&str>) -> Record {
    Record::Event(EventRow {
        lsn,
        ordinal,
        at,
        kind: kind.into(),
        session: Some(session),
        agent: agent.map(Into::into),
        group: Some("general".into()),
        detail: format!(r#"{{"kind":"{kind}"}}"#),
        flag: None,
    })
}

fn flag(lsn: u64, at: i64, session: u64, agent: &str, kind: &str, category: &str) -> Record {
    let Record::Event(mut row) = event(lsn, 0, at, "conduct_flagged", session, Some(agent)) else { unreachable!() };
    row.flag = Some(FlagRow { kind: kind.into(), category: category.into() });
    Record::Event(row)
}

struct Chat<'a> {
    session: u64,
    group: &'a str,
    customer: &'a str,
    agents: &'a [&'a str],
    closed_at: i64,
}

fn chat(c: Chat<'_>) -> Record {
    let last = c.agents.last().map(|a| a.to_string());
    Record::Chat(Box::new(ChatRow {
        session: c.session,
        group: c.group.into(),
        customer_name: Some(format!("{} name", c.customer)),
        customer_id: Some(c.customer.into()),
        agent: last.clone(),
        agents: c.agents.iter().map(|a| a.to_string()).collect(),
        priority: "normal".into(),
        closed_at: c.closed_at,
        close_reason: "agent_resolved".into(),
        transcript: vec![
            TranscriptLine {
                at: c.closed_at - 2000,
                from: "customer".into(),
                agent: None,
                text: "hello".into(),
                attachment: None,
            },
            TranscriptLine {
                at: c.closed_at - 1000,
                from: "agent".into(),
                agent: last,
                text: "hi there".into(),
                attachment: None,
            },
        ],
        handoff_notes: c
            .agents
            .first()
            .map(|first| NoteLine {
                at: c.closed_at - 1500,
                from: first.to_string(),
                target: "agent:bob".into(),
                text: "wants a refund".into(),
            })
            .into_iter()
            .collect(),
    }))
}

/// Session 1 of `general`: queued at 1000, assigned to ann at 2000 and to bob
/// at 3000 (a transfer), flagged at 5000, closed at 5000, rated.
fn story() -> Vec<Record> {
    vec![
        event(1, 0, 1000, "session_queued", 1, None),
        event(2, 0, 2000, "session_assigned", 1, Some("ann")),
        event(3, 0, 3000, "session_assigned", 1, Some("bob")),
        flag(5, 5000, 1, "bob", "close_unanswered", "agent_close"),
        event(5, 1, 5000, "session_closed", 1, Some("bob")),
        chat(Chat { session: 1, group: "general", customer: "cust-1", agents: &["bob"], closed_at: 5000 }),
        Record::Rating(RatingRow { session: 1, rating: "dissatisfied".into() }),
    ]
}

async fn migrations_run_once_and_are_remembered(store: Store) {
    assert_eq!(store.migrate().await.unwrap(), switchboard_records::schema::latest());
    assert_eq!(store.migrate().await.unwrap(), switchboard_records::schema::latest());
    assert_eq!(store.schema_version().await.unwrap(), switchboard_records::schema::latest());
    // Writing works on the migrated schema.
    store.write(&story()).await.unwrap();
}

async fn a_newer_schema_is_refused(store: Store) {
    store.migrate().await.unwrap();
    store.write(&story()).await.unwrap();
    // A later release migrated the database further.
    bump_version(&store).await;
    let again = Store::new(&target_of(&store), "o1").unwrap();
    let err = again.migrate().await.unwrap_err();
    assert!(matches!(err, StoreError::SchemaTooNew { .. }), "{err}");
    assert!(err.is_transient(), "records wait (spill) rather than be dropped");
    let err = again.write(&story()).await.unwrap_err();
    assert!(err.to_string().contains("newer than this build"), "{err}");
}

async fn a_chat_is_written_once_with_its_times_agents_flags_and_rating(store: Store) {
    store.write(&story()).await.unwrap();
    // A replay after a restart writes the same records again: nothing changes.
    store.write(&story()).await.unwrap();
    let chats = store.find_chats(&ChatQuery { limit: 50, ..ChatQuery::default() }).await.unwrap();
    assert_eq!(chats.len(), 1, "{chats:?}");
    let c = &chats[0];
    assert_eq!((c.origin.as_str(), c.session, c.group.as_str()), ("o1", 1, "general"));
    assert_eq!((c.opened_at, c.assigned_at, c.closed_at), (Some(1000), Some(2000), 5000));
    assert_eq!(c.agents, ["ann", "bob"], "the assigned agent who never wrote is listed too");
    assert_eq!(c.agent.as_deref(), Some("bob"));
    assert_eq!(c.rating.as_deref(), Some("dissatisfied"));
    assert_eq!(c.flags, ["close_unanswered"]);
    let detail = store.chat(1, None).await.unwrap().expect("the chat");
    assert_eq!(detail.summary, *c);
    let texts: Vec<&str> = detail.transcript.iter().map(|l| l.text.as_str()).collect();
    assert_eq!(texts, ["hello", "hi there"]);
    assert_eq!(detail.handoff_notes[0].text, "wants a refund");
    assert_eq!(detail.flag_details[0].category, "agent_close");
    assert_eq!(detail.flag_details[0].at, 5000);
    assert!(store.chat(2, None).await.unwrap().is_none());
}

async fn lookups_filter_by_customer_agent_group_date_and_flag(store: Store) {
    let mut records = story();
    records.extend([
        event(10, 0, 10_000, "session_queued", 2, None),
        event(11, 0, 11_000, "session_assigned", 2, Some("ann")),
        chat(Chat { session: 2, group: "refunds", customer: "cust-2", agents: &["ann"], closed_at: 20_000 }),
        event(30, 0, 30_000, "session_queued", 3, None),
        chat(Chat { session: 3, group: "general", customer: "cust-1", agents: &[], closed_at: 40_000 }),
    ]);
    store.write(&records).await.unwrap();
    let find = |q: ChatQuery| {
        let store = store.clone();
        async move {
            let q = ChatQuery { limit: if q.limit == 0 { 50 } else { q.limit }, ..q };
            store.find_chats(&q).await.unwrap().into_iter().map(|c| c.session).collect::<Vec<_>>()
        }
    };
    assert_eq!(find(ChatQuery::default()).await, [3, 2, 1], "newest first");
    assert_eq!(find(ChatQuery { customer: Some("cust-1".into()), ..Default::default() }).await, [3, 1]);
    assert_eq!(find(ChatQuery { customer: Some("cust-2 name".into()), ..Default::default() }).await, [2]);
    assert_eq!(find(ChatQuery { agent: Some("ann".into()), ..Default::default() }).await, [2, 1]);
    assert_eq!(find(ChatQuery { agent: Some("bob".into()), ..Default::default() }).await, [1]);
    assert_eq!(find(ChatQuery { group: Some("general".into()), ..Default::default() }).await, [3, 1]);
    assert_eq!(find(ChatQuery { from: Some(5000), to: Some(40_000), ..Default::default() }).await, [2, 1]);
    assert_eq!(find(ChatQuery { flag: Some("agent_close".into()), ..Default::default() }).await, [1]);
    assert_eq!(find(ChatQuery { flag: Some("close_unanswered".into()), ..Default::default() }).await, [1]);
    assert!(find(ChatQuery { flag: Some("break_too_many".into()), ..Default::default() }).await.is_empty());
    let both = ChatQuery {
        customer: Some("cust-1".into()),
        group: Some("general".into()),
        to: Some(10_000),
        ..Default::default()
    };
    assert_eq!(find(both).await, [1]);
    assert_eq!(find(ChatQuery { limit: 1, ..Default::default() }).await.len(), 1);
    let unassigned = store.chat(3, None).await.unwrap().unwrap();
    assert_eq!((unassigned.summary.opened_at, unassigned.summary.assigned_at), (Some(30_000), None));
}

async fn retention_deletes_only_what_is_older(store: Store) {
    let mut records = story();
    records.extend([
        event(10, 0, 10_000, "session_queued", 2, None),
        chat(Chat { session: 2, group: "refunds", customer: "cust-2", agents: &["ann"], closed_at: 20_000 }),
    ]);
    store.write(&records).await.unwrap();
    let deleted = store.delete_before(6000).await.unwrap();
    // Session 1: 5 events, 1 flag, 2 agents, 1 chat.
    assert_eq!(deleted, 9);
    let left = store.find_chats(&ChatQuery { limit: 50, ..ChatQuery::default() }).await.unwrap();
    assert_eq!(left.iter().map(|c| c.session).collect::<Vec<_>>(), [2]);
    assert_eq!(left[0].agents, ["ann"]);
    assert_eq!(store.delete_before(6000).await.unwrap(), 0);
}

async fn the_same_session_id_from_another_origin_is_another_chat(store: Store) {
    store.write(&story()).await.unwrap();
    // A new data_dir numbers its sessions from 1 again.
    let other = Store::new(&target_of(&store), "o2").unwrap();
    other
        .write(&[chat(Chat { session: 1, group: "refunds", customer: "cust-9", agents: &["ann"], closed_at: 9000 })])
        .await
        .unwrap();
    let chats = store.find_chats(&ChatQuery { limit: 50, ..ChatQuery::default() }).await.unwrap();
    assert_eq!(chats.iter().map(|c| (c.origin.as_str(), c.session)).collect::<Vec<_>>(), [("o2", 1), ("o1", 1)]);
    assert_eq!(store.chat(1, None).await.unwrap().unwrap().summary.origin, "o2", "the newest");
    assert_eq!(store.chat(1, Some("o1")).await.unwrap().unwrap().summary.group, "general");
}

fn ticket_event(lsn: u64, at: i64, kind: &str, agent: Option<&str>) -> Record {
    Record::TicketEvent(TicketEventRow {
        lsn,
        ordinal: 0,
        at,
        ticket: 7,
        kind: kind.into(),
        agent: agent.map(Into::into),
        group: "general".into(),
        detail: format!(r#"{{"kind":"{kind}"}}"#),
    })
}

/// Ticket 7: left at 1000, assigned to ann, answered, confirmed at 9000.
fn ticket_story() -> Vec<Record> {
    let line = |at, from: &str, agent: Option<&str>, text: &str| TranscriptLine {
        at,
        from: from.into(),
        agent: agent.map(Into::into),
        text: text.into(),
        attachment: None,
    };
    vec![
        ticket_event(1, 1000, "created", None),
        ticket_event(2, 1000, "assigned", Some("ann")),
        ticket_event(3, 2000, "state_changed", Some("ann")),
        ticket_event(4, 9000, "state_changed", None),
        Record::Ticket(Box::new(TicketRow {
            ticket: 7,
            group: "general".into(),
            customer_name: Some("Zoe".into()),
            origin: "nobody_available".into(),
            state: "resolved".into(),
            priority: "normal".into(),
            owner: Some("ann".into()),
            created_at: 1000,
            done_at: 9000,
            expected_resolution: Some(5000),
            messages: vec![
                line(1000, "customer", None, "my parcel is late"),
                line(2000, "agent", Some("ann"), "it comes tomorrow"),
            ],
            notes: vec![NoteLine {
                at: 1500,
                from: "ben".into(),
                target: "agent:ann".into(),
                text: "knows the carrier".into(),
            }],
        })),
    ]
}

async fn a_done_ticket_and_its_events_are_written_once_and_retention_takes_them(store: Store) {
    store.write(&ticket_story()).await.unwrap();
    store.write(&ticket_story()).await.unwrap();
    let ticket = store.ticket(7).await.unwrap().expect("the ticket");
    let Record::Ticket(written) = &ticket_story()[4] else { unreachable!() };
    assert_eq!(ticket, **written, "read back as written");
    let kinds: Vec<String> = store.ticket_events(7).await.unwrap().into_iter().map(|e| e.kind).collect();
    assert_eq!(kinds, ["created", "assigned", "state_changed", "state_changed"], "written once, in order");
    let other = Store::new(&target_of(&store), "o2").unwrap();
    assert!(other.ticket(7).await.unwrap().is_none(), "another data_dir's ticket 7 is another ticket");

    // Retention by the time things happened: the events before 2000, then everything.
    assert_eq!(store.delete_before(2000).await.unwrap(), 2);
    assert_eq!(store.ticket_events(7).await.unwrap().len(), 2);
    assert!(store.ticket(7).await.unwrap().is_some(), "done at 9000: kept");
    assert_eq!(store.delete_before(10_000).await.unwrap(), 3);
    assert!(store.ticket(7).await.unwrap().is_none());
}

// ---- plumbing ----

fn target_of(store: &Store) -> Target {
    store.target().clone()
}

async fn bump_version(store: &Store) {
    let sql = "INSERT INTO schema_version (version, description, applied_at) VALUES (99, 'a later release', 0)";
    match store.target() {
        Target::Sqlite(path) => rusqlite::Connection::open(path).unwrap().execute_batch(sql).unwrap(),
        Target::Postgres(url) => {
            let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap();
            tokio::spawn(connection);
            client.batch_execute(sql).await.unwrap();
        }
    }
}
