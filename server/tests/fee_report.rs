//! `switchboard report fees` end to end: shifts and router events written
//! into a real store (a SQLite file, and PostgreSQL), the binary run on it,
//! the handbook's worked examples read back in each format.

use std::path::Path;
use std::process::Command;

use serde_json::{json, Value};
use switchboard_records::testing::PgSchema;
use switchboard_records::{ComplaintRow, EventRow, LeaveRow, Record, Review, ShiftRow, Store, Target};

const MIN: i64 = 60_000;
const DAY: i64 = 24 * 60 * MIN;

/// 2026-11-02 at `hh:mm` in Asia/Shanghai (the default calendar), wall-clock ms.
fn at(hh: i64, mm: i64) -> i64 {
    let midnight: i64 = "2026-11-01T16:00:00Z".parse::<jiff::Timestamp>().unwrap().as_millisecond();
    midnight + (hh * 60 + mm) * MIN
}

fn shift(id: &str, agent: &str, level: &str) -> ShiftRow {
    ShiftRow {
        shift: id.into(),
        agent: agent.into(),
        day: "2026-11-02".into(),
        starts_at: at(10, 0),
        ends_at: at(12, 0),
        groups: vec!["general".into()],
        level: level.into(),
        source: "api".into(),
        created_by: Some("sam".into()),
        created_at: 1,
        cancelled_at: None,
    }
}

fn state(lsn: u64, agent: &str, at: i64, from: &str, to: &str) -> Record {
    Record::Event(EventRow {
        lsn,
        ordinal: 0,
        at,
        kind: "agent_state_changed".into(),
        session: None,
        agent: Some(agent.into()),
        group: None,
        detail: json!({"agent": agent, "from": from, "to": to}).to_string(),
        flag: None,
    })
}

/// 小王 signs in 5 minutes late to a 2 h shift (1.8 h); 小林 is on time but
/// on a break for 37 minutes: 83 of 120 minutes in service, 69% (1.5 h).
async fn handbook_month(store: &Store) {
    assert!(store.add_shift(&shift("s-wang", "xiao_wang", "beginner")).await.unwrap());
    assert!(store.add_shift(&shift("s-lin", "xiao_lin", "rising")).await.unwrap());
    store
        .write(&[
            state(1, "xiao_wang", at(10, 5), "offline", "available"),
            state(2, "xiao_lin", at(9, 59), "offline", "available"),
            state(3, "xiao_lin", at(10, 30), "available", "on_break"),
            state(4, "xiao_lin", at(11, 7), "on_break", "available"),
            state(5, "xiao_wang", at(12, 0), "available", "offline"),
            state(6, "xiao_lin", at(12, 1), "available", "offline"),
        ])
        .await
        .unwrap();
}

fn report(config: &Path, month: &str, format: &str) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(["report", "fees", "--month", month, "--format", format, "--config"])
        .arg(config)
        .output()
        .unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

/// The shipped config (its roster and groups) with this test's data_dir and records URL.
fn config_file(dir: &Path, url: &str) -> std::path::PathBuf {
    let shipped = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../config/default.toml")).unwrap();
    let mut table: toml::Table = shipped.parse().unwrap();
    let data_dir = dir.join("data").to_string_lossy().into_owned();
    table["storage"].as_table_mut().unwrap().insert("data_dir".into(), data_dir.into());
    table["records"].as_table_mut().unwrap().insert("url".into(), url.into());
    std::fs::create_dir_all(dir.join("data")).unwrap();
    let path = dir.join("switchboard.toml");
    std::fs::write(&path, table.to_string()).unwrap();
    path
}

fn check_every_format(config: &Path) {
    let (code, out, err) = report(config, "2026-11", "json");
    assert_eq!(code, 0, "{err}");
    let body: Value = serde_json::from_str(&out).unwrap();
    let agents = body["agents"].as_array().unwrap();
    let agent = |name: &str| agents.iter().find(|a| a["agent"] == name).unwrap_or_else(|| panic!("{name}: {out}"));
    let wang = agent("xiao_wang");
    assert_eq!(wang["billable_hours"], 1.8, "{wang}");
    assert_eq!((wang["late_or_early"].as_u64(), wang["fee_fen"].as_u64()), (Some(1), Some(1440)), "1.8 h × 8");
    assert_eq!(wang["fee_yuan"], "14.40");
    let lin = agent("xiao_lin");
    assert_eq!(lin["billable_hours"], 1.5, "{lin}");
    assert_eq!(lin["service_ratio_bp"], 6916);
    assert_eq!((lin["fee_fen"].as_u64(), lin["payout_percent"].as_u64()), (Some(1500), Some(100)), "1.5 h × 10");
    assert_eq!(body["total_fen"], 2940);
    assert_eq!(lin["discipline"]["warnings_in_month"], 0, "{lin}");

    let (code, csv, _) = report(config, "2026-11", "csv");
    assert_eq!(code, 0);
    let rows: Vec<Vec<&str>> = csv.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 3, "{csv}");
    assert!(rows.iter().all(|r| r.len() == rows[0].len()), "{csv}");
    let fee = rows[0].iter().position(|c| *c == "fee_yuan").unwrap();
    let wang = rows.iter().find(|r| r[0] == "xiao_wang").unwrap();
    assert_eq!(wang[fee], "14.40");

    let (code, table, _) = report(config, "2026-11", "table");
    assert_eq!(code, 0);
    let header = table.lines().nth(1).unwrap();
    assert!(header.starts_with("agent") && header.contains("fee_yuan") && header.contains("discipline"), "{table}");
    assert!(table.contains("total: 29.40 yuan, 2 agents"), "{table}");

    let (code, empty, _) = report(config, "2026-10", "json");
    assert_eq!(code, 0);
    assert_eq!(serde_json::from_str::<Value>(&empty).unwrap()["agents"], json!([]));
}

#[tokio::test]
async fn the_handbooks_examples_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_file(dir.path(), "");
    let path = dir.path().join("data/records.sqlite3");
    let store = Store::new(&Target::Sqlite(path.to_string_lossy().into_owned()), "o1").unwrap();
    handbook_month(&store).await;
    tokio::task::spawn_blocking(move || check_every_format(&config)).await.unwrap();
}

#[tokio::test]
async fn the_handbooks_examples_on_postgres() {
    let schema = PgSchema::create().await;
    let dir = tempfile::tempdir().unwrap();
    let config = config_file(dir.path(), &schema.url());
    let store = Store::new(&Target::Postgres(schema.url()), "o1").unwrap();
    handbook_month(&store).await;
    tokio::task::spawn_blocking(move || check_every_format(&config)).await.unwrap();
}

#[test]
fn a_bad_month_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_file(dir.path(), "");
    for month in ["2026-13", "November", "2026-11-01"] {
        let (code, _, err) = report(&config, month, "table");
        assert_eq!(code, 2, "{month}: {err}");
        assert!(err.contains("YYYY-MM"), "{err}");
    }
}

fn upheld(store_id: &str, agent: &str, reviewed_at: i64) -> (ComplaintRow, Review) {
    let complaint = ComplaintRow {
        complaint: store_id.into(),
        origin: "o1".into(),
        subject_kind: "chat".into(),
        subject_id: 1,
        agent: Some(agent.into()),
        group: "general".into(),
        reason: "insulted me".into(),
        created_at: reviewed_at - MIN,
        state: "open".into(),
        category: None,
        reviewed_by: None,
        reviewed_at: None,
        review_comment: None,
    };
    let review = Review {
        state: "upheld".into(),
        category: "non_business".into(),
        by: "sam".into(),
        at: reviewed_at,
        comment: "rude".into(),
    };
    (complaint, review)
}

/// 小赵 works a full shift but has an upheld non-business complaint: payout
/// 70% and one warning. 小钱 has no shift this month and three such
/// complaints: listed in the discipline section as suspended.
#[tokio::test]
async fn discipline_and_upheld_complaints_are_in_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_file(dir.path(), "");
    let path = dir.path().join("data/records.sqlite3");
    let store = Store::new(&Target::Sqlite(path.to_string_lossy().into_owned()), "o1").unwrap();
    assert!(store.add_shift(&shift("s-zhao", "xiao_zhao", "beginner")).await.unwrap());
    // A shift the next day with leave asked in time: excused, neither billed nor absent.
    let mut excused = shift("s-zhao-leave", "xiao_zhao", "beginner");
    (excused.starts_at, excused.ends_at) = (excused.starts_at + DAY, excused.ends_at + DAY);
    assert!(store.add_shift(&excused).await.unwrap());
    let leave = LeaveRow {
        shift: excused.shift.clone(),
        agent: "xiao_zhao".into(),
        requested_at: at(8, 0),
        reason: "exam".into(),
        late: false,
    };
    assert!(store.add_leave(&leave).await.unwrap());
    store
        .write(&[
            state(1, "xiao_zhao", at(9, 50), "offline", "available"),
            state(2, "xiao_zhao", at(12, 5), "available", "offline"),
        ])
        .await
        .unwrap();
    let mut complaints = vec![upheld("c-zhao", "xiao_zhao", at(14, 0))];
    complaints.extend((0..3).map(|i| upheld(&format!("c-qian-{i}"), "xiao_qian", at(15 + i, 0))));
    for (c, review) in &complaints {
        assert!(store.add_complaint(c).await.unwrap());
        assert!(store.review_complaint(&c.complaint, review).await.unwrap());
    }
    let (code, out, err) = tokio::task::spawn_blocking(move || report(&config, "2026-11", "json")).await.unwrap();
    assert_eq!(code, 0, "{err}");
    let body: Value = serde_json::from_str(&out).unwrap();
    let zhao = &body["agents"][0];
    assert_eq!(zhao["agent"], "xiao_zhao", "{out}");
    assert_eq!((zhao["shifts"].as_u64(), zhao["absent"].as_u64()), (Some(1), Some(0)), "the excused shift: {zhao}");
    assert_eq!((zhao["payout_percent"].as_u64(), zhao["fee_fen"].as_u64()), (Some(70), Some(1120)), "2 h × 8 × 70%");
    assert_eq!(zhao["discipline"]["warnings_in_month"], 1, "{zhao}");
    assert!(zhao["discipline"]["suspended_until"].is_null());
    let qian = body["discipline"].as_array().unwrap().iter().find(|d| d["agent"] == "xiao_qian").expect("listed");
    let suspended_until = qian["discipline"]["suspended_until"].as_i64().expect("suspended");
    assert!(suspended_until > at(17, 0), "a month from the third warning: {qian}");
    assert!(qian["discipline"]["summary"].as_str().unwrap().contains("suspended until 2026-12-"), "{qian}");
}
