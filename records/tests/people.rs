//! Shifts, leave, spot checks and complaints (migration 3) against both
//! databases: written at once, read back by agent and time span.

use switchboard_records::testing::PgSchema;
use switchboard_records::{ComplaintRow, LeaveRow, Review, ShiftRow, Span, SpotCheckRow, Store, Target};

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

macro_rules! on_both {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                let (store, _keep) = super::sqlite();
                super::$name(store).await;
            }
            #[tokio::test]
            async fn postgres() {
                let (store, _keep) = super::postgres().await;
                super::$name(store).await;
            }
        }
    )*};
}

on_both!(shifts_and_leave_round_trip, spot_checks_and_complaints_round_trip);

const H: i64 = 3_600_000;

fn shift(id: &str, agent: &str, start_h: i64, hours: i64) -> ShiftRow {
    ShiftRow {
        shift: id.into(),
        agent: agent.into(),
        day: "2026-11-02".into(),
        starts_at: start_h * H,
        ends_at: (start_h + hours) * H,
        groups: vec!["general".into()],
        level: "beginner".into(),
        source: "api".into(),
        created_by: Some("sam".into()),
        created_at: 1,
        cancelled_at: None,
    }
}

async fn shifts_and_leave_round_trip(store: Store) {
    assert!(store.add_shift(&shift("s1", "alice", 10, 2)).await.unwrap());
    assert!(!store.add_shift(&shift("s1", "bob", 10, 2)).await.unwrap(), "an id is added once");
    assert!(store.add_shift(&shift("s2", "bob", 11, 2)).await.unwrap());
    let mut config = shift("config:alice:2026-11-02:1400", "alice", 14, 2);
    config.source = "config".into();
    store.put_config_shifts(&[config.clone()]).await.unwrap();
    config.ends_at += H;
    store.put_config_shifts(&[config.clone()]).await.unwrap();
    assert_eq!(store.shift(&config.shift).await.unwrap().unwrap().ends_at, 17 * H, "config shifts are replaced");

    let all = store.shifts(None, Span { from: 0, to: 24 * H }).await.unwrap();
    assert_eq!(all.iter().map(|s| s.shift.as_str()).collect::<Vec<_>>(), ["s1", "s2", &config.shift]);
    let alice = store.shifts(Some("alice"), Span { from: 11 * H, to: 12 * H }).await.unwrap();
    assert_eq!(alice, vec![shift("s1", "alice", 10, 2)], "overlap, one agent");
    assert!(store.shifts(None, Span { from: 12 * H, to: 13 * H }).await.unwrap().iter().all(|s| s.shift == "s2"));

    assert!(store.cancel_shift("s2", 5).await.unwrap());
    assert!(!store.cancel_shift("s2", 6).await.unwrap(), "cancelled once");
    assert_eq!(store.shift("s2").await.unwrap().unwrap().cancelled_at, Some(5));

    let leave =
        LeaveRow { shift: "s1".into(), agent: "alice".into(), requested_at: 9 * H, reason: "exam".into(), late: true };
    assert!(store.add_leave(&leave).await.unwrap());
    assert!(!store.add_leave(&leave).await.unwrap(), "leave is asked once per shift");
    assert_eq!(store.leave_requests(Some("alice"), Span { from: 0, to: 24 * H }).await.unwrap(), vec![leave]);
    assert!(store.leave_requests(Some("bob"), Span { from: 0, to: 24 * H }).await.unwrap().is_empty());
    assert!(store.leave_requests(None, Span { from: 12 * H, to: 24 * H }).await.unwrap().is_empty());
}

fn complaint(id: &str, agent: &str, at: i64) -> ComplaintRow {
    ComplaintRow {
        complaint: id.into(),
        origin: "o1".into(),
        subject_kind: "chat".into(),
        subject_id: 7,
        agent: Some(agent.into()),
        group: "general".into(),
        reason: "rude".into(),
        created_at: at,
        state: "open".into(),
        category: None,
        reviewed_by: None,
        reviewed_at: None,
        review_comment: None,
    }
}

async fn spot_checks_and_complaints_round_trip(store: Store) {
    let mut check = SpotCheckRow {
        origin: "o1".into(),
        session: 7,
        agent: "alice".into(),
        result: "pass".into(),
        comment: "good".into(),
        checked_by: "sam".into(),
        checked_at: 100,
    };
    store.put_spot_check(&check).await.unwrap();
    check.result = "fail".into();
    check.checked_at = 200;
    store.put_spot_check(&check).await.unwrap();
    assert_eq!(store.spot_check("o1", 7).await.unwrap(), Some(check.clone()), "a check may be corrected");
    assert_eq!(store.spot_checks(Some("alice"), Span { from: 150, to: 250 }).await.unwrap(), vec![check]);
    assert!(store.spot_checks(Some("bob"), Span { from: 0, to: 1000 }).await.unwrap().is_empty());

    assert!(store.add_complaint(&complaint("c1", "alice", 300)).await.unwrap());
    assert!(!store.add_complaint(&complaint("c1", "alice", 300)).await.unwrap());
    assert!(store.add_complaint(&complaint("c2", "bob", 400)).await.unwrap());
    assert_eq!(store.complaints_about("o1", "chat", 7).await.unwrap().len(), 2);
    assert_eq!(store.complaints_filed(Some("bob"), Span { from: 0, to: 1000 }).await.unwrap().len(), 1);

    let review = |state: &str, at| Review {
        state: state.into(),
        category: "non_business".into(),
        by: "sam".into(),
        at,
        comment: "checked the transcript".into(),
    };
    assert!(store.review_complaint("c1", &review("upheld", 500)).await.unwrap());
    assert!(!store.review_complaint("c1", &review("rejected", 600)).await.unwrap(), "decided once");
    assert!(store.review_complaint("c2", &review("rejected", 600)).await.unwrap());
    let upheld = store.complaints_upheld(None, Span { from: 0, to: 1000 }).await.unwrap();
    assert_eq!(upheld.len(), 1);
    assert_eq!((upheld[0].complaint.as_str(), upheld[0].category.as_deref()), ("c1", Some("non_business")));
    assert!(store.complaints_upheld(None, Span { from: 501, to: 1000 }).await.unwrap().is_empty());
}

on_both!(a_complaint_filed_before_its_chat_row_is_attributed_once);

/// A complaint filed before its chat's row arrived (empty group, no agent)
/// gets the agent and group once, and never overwrites an attributed one.
async fn a_complaint_filed_before_its_chat_row_is_attributed_once(store: Store) {
    use switchboard_records::complaint_subjects::UNATTRIBUTED;
    let early = ComplaintRow { agent: None, group: UNATTRIBUTED.into(), ..complaint("c9", "x", 500) };
    assert!(store.add_complaint(&early).await.unwrap());
    assert!(store.attribute_complaint("c9", Some("alice"), "general").await.unwrap());
    let row = store.complaint("c9").await.unwrap().unwrap();
    assert_eq!((row.agent.as_deref(), row.group.as_str()), (Some("alice"), "general"));
    assert!(!store.attribute_complaint("c9", Some("bob"), "refunds").await.unwrap(), "attributed once");
    assert!(!store.attribute_complaint("nope", Some("bob"), "refunds").await.unwrap());
    assert_eq!(store.complaint("c9").await.unwrap().unwrap().agent.as_deref(), Some("alice"));
}
