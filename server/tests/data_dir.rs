//! The real binary on a real `data_dir`: what start-up does with a directory
//! it cannot use, a torn write at the end of the log, and a damaged record in
//! the middle of it; where business time starts on the calendar.

mod common;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{http_get, sample, Client, Side};
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

fn default_config() -> String {
    format!("{}/../config/default.toml", env!("CARGO_MANIFEST_DIR"))
}

fn temp_dir() -> tempfile::TempDir {
    tempfile::Builder::new().prefix("data-dir-").tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap()
}

/// The binary with the default config on ephemeral ports and `data_dir`.
fn switchboard(data_dir: &Path) -> Command {
    let mut command = Command::new(BIN);
    command
        .args(["--config", &default_config(), "--data-dir"])
        .arg(data_dir)
        .env("SWITCHBOARD_LISTEN", "127.0.0.1:0")
        .env("SWITCHBOARD_ADMIN_LISTEN", "127.0.0.1:0")
        .env("SWITCHBOARD_LOG__FORMAT", "json")
        .env("SWITCHBOARD_STORAGE__SNAPSHOT_EVERY", "1000000")
        // The default config's groups have service hours: a Wednesday morning keeps them open
        // whatever the hour the test runs at.
        .env("SWITCHBOARD_CLOCK__START", "2026-03-04T10:00:00")
        .env("SWITCHBOARD_AUTH__SECRET", common::TEST_SECRET)
        .env("RUST_LOG", "info");
    command
}

/// Runs the binary expecting it to refuse to start; returns its stderr.
fn refused_start(data_dir: &Path) -> String {
    let out = switchboard(data_dir).output().expect("the binary runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "exit code 2 (a set-up problem); stderr: {stderr}");
    stderr
}

/// A running server; killed (not gracefully) when dropped.
struct Server {
    child: Child,
    public: SocketAddr,
    admin: SocketAddr,
    /// The JSON log lines it printed before listening.
    start_log: Vec<serde_json::Value>,
}

impl Server {
    fn start(data_dir: &Path) -> Server {
        Server::spawn(switchboard(data_dir))
    }

    fn spawn(mut command: Command) -> Server {
        let mut child = command.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = Vec::new();
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else { continue };
                let listening = v["fields"]["public_addr"].as_str().map(str::to_owned);
                lines.push(v.clone());
                if let Some(public) = listening {
                    let admin = v["fields"]["admin_addr"].as_str().unwrap().to_owned();
                    let _ = tx.send((public, admin, std::mem::take(&mut lines)));
                }
            }
        });
        let (public, admin, start_log) = rx.recv_timeout(Duration::from_secs(20)).expect("the server starts");
        Server { child, public: public.parse().unwrap(), admin: admin.parse().unwrap(), start_log }
    }

    /// SIGKILL: no shutdown, no final snapshot.
    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A customer who said `n` things (each acknowledged); returns its token.
async fn customer_saying(addr: SocketAddr, n: usize) -> String {
    let (mut c, welcome) = Client::customer(addr, "general").await;
    for i in 0..n {
        c.ok(json!({"type": "message", "text": format!("message {i}")})).await;
    }
    welcome["token"].as_str().unwrap().to_owned()
}

/// The log's segment files, oldest first.
fn segments(data_dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(data_dir.join("log")).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files
}

#[test]
fn a_data_dir_that_cannot_be_used_stops_start_up_naming_it() {
    let dir = temp_dir();
    let missing_parent = dir.path().join("no/such/parent");
    let stderr = refused_start(&missing_parent);
    assert!(stderr.contains(&missing_parent.display().to_string()), "{stderr}");

    let file = dir.path().join("a-file");
    std::fs::write(&file, "not a directory").unwrap();
    let stderr = refused_start(&file);
    assert!(stderr.contains("is not a directory") && stderr.contains("a-file"), "{stderr}");

    // Root writes into a chmod-555 directory anyway; sysfs refuses even root.
    let read_only = if is_root() { PathBuf::from("/sys/kernel") } else { read_only_dir(dir.path()) };
    let stderr = refused_start(&read_only);
    assert!(stderr.contains("is not writable") && stderr.contains(&read_only.display().to_string()), "{stderr}");
}

/// `clock.start` places business time on the calendar (start-up says where
/// it resumes), and a calendar that cannot be stops start-up naming its key.
#[test]
fn the_binary_starts_on_the_configured_date_and_refuses_a_bad_calendar() {
    let dir = temp_dir();
    let mut command = switchboard(dir.path());
    command.env("SWITCHBOARD_CALENDAR__TIME_ZONE", "Mars/Olympus");
    let out = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("config key `calendar.time_zone`: `Mars/Olympus` is not a time zone"), "{stderr}");

    let mut command = switchboard(dir.path());
    command.env("SWITCHBOARD_CLOCK__START", "2026-03-06T17:55:00").env("SWITCHBOARD_CLOCK__SCALE", "600");
    let server = Server::spawn(command);
    let recovered = server.start_log.iter().find(|l| l["fields"]["message"] == "state recovered").expect("logged");
    assert_eq!(recovered["fields"]["calendar_time"], "2026-03-06T09:55:00Z", "17:55 in Shanghai: {recovered}");
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0"))
}

fn read_only_dir(parent: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let dir = parent.join("read-only");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o555)).unwrap();
    dir
}

#[tokio::test]
async fn a_second_server_on_the_same_data_dir_is_refused() {
    let dir = temp_dir();
    let _first = Server::start(dir.path());
    let stderr = refused_start(dir.path());
    assert!(stderr.contains("in use by another process"), "{stderr}");
}

#[tokio::test]
async fn a_torn_write_at_the_end_of_the_log_is_cut_off_and_reported() {
    let dir = temp_dir();
    let server = Server::start(dir.path());
    let token = customer_saying(server.public, 3).await;
    server.kill();

    // The last record loses its last bytes, as if the machine died mid-write.
    let last = segments(dir.path()).pop().unwrap();
    let len = std::fs::metadata(&last).unwrap().len();
    std::fs::OpenOptions::new().write(true).open(&last).unwrap().set_len(len - 5).unwrap();

    let server = Server::start(dir.path());
    let warning = server
        .start_log
        .iter()
        .find(|l| l["fields"]["message"] == "the log ended in a torn write: cut back to the last whole record");
    let warning = warning.unwrap_or_else(|| panic!("no torn-write warning in {:#?}", server.start_log));
    assert_eq!(warning["fields"]["path"], last.display().to_string());
    let (offset, bytes) = (warning["fields"]["offset"].as_u64().unwrap(), warning["fields"]["bytes"].as_u64().unwrap());
    assert_eq!(offset + bytes, len - 5, "cut from the end of the last whole record to the end of the file");
    assert!(bytes > 0 && bytes < 1000, "only the torn record: {bytes} bytes");
    let (_, metrics) = http_get(server.admin, "/metrics").await;
    assert_eq!(sample(&metrics, "switchboard_recovery_torn_tail_bytes"), Some(bytes as f64), "{metrics}");
    // Everything before the torn record is there: the customer resumes.
    let mut c =
        Client::connect(server.public, &format!("/v1/ws/customer?token={token}&last_seq=0"), Side::Customer).await;
    let welcome = c.expect("welcome").await;
    assert_eq!(welcome["resumed"], true, "{welcome}");
}

#[tokio::test]
async fn a_damaged_record_in_the_middle_of_the_log_stops_start_up_naming_file_and_offset() {
    let dir = temp_dir();
    let server = Server::start(dir.path());
    customer_saying(server.public, 20).await;
    server.kill();

    let segment = segments(dir.path()).pop().unwrap();
    let mut bytes = std::fs::read(&segment).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    std::fs::write(&segment, &bytes).unwrap();

    let stderr = refused_start(dir.path());
    assert!(stderr.contains(&segment.display().to_string()), "names the file: {stderr}");
    assert!(stderr.contains("offset"), "names the offset: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// Runs a `switchboard log ...` tool; returns (exit code, stdout, stderr).
fn log_tool(args: &[&str], data_dir: &Path) -> (Option<i32>, String, String) {
    let out = Command::new(BIN).arg("log").args(args).arg("--data-dir").arg(data_dir).output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn the_log_tools_list_the_inputs_and_tell_a_sessions_story_without_its_words() {
    let dir = temp_dir();
    let server = Server::start(dir.path());
    let mut chat = common::assigned_chat(server.public, "alice", "general").await;
    chat.customer.ok(json!({"type": "message", "text": "my secret order number 4711"})).await;
    chat.agent.ok(json!({"type": "reply", "session": chat.session, "text": "checking it"})).await;
    let session = chat.session.to_string();

    // Beside the running server: read-only, so it takes no lock.
    let (code, out, err) = log_tool(&["inspect"], dir.path());
    assert_eq!(code, Some(0), "{err}");
    for expected in [
        "snapshots (newest first)",
        "segments:",
        "customer_join",
        &format!("session {session} joins general"),
        "set_availability available",
        "message (27 chars)",
        "reply (11 chars)",
        "the server started: every earlier connection ended; business time 0:00:00.000 is",
    ] {
        assert!(out.contains(expected), "`{expected}` missing from:\n{out}");
    }
    assert!(!out.contains("4711") && !out.contains("checking it"), "message bodies are never printed:\n{out}");
    let (_, only_alice, _) = log_tool(&["inspect", "--agent", "alice"], dir.path());
    assert!(only_alice.contains("agent alice") && !only_alice.contains("customer_join"), "{only_alice}");

    server.kill();
    let (code, story, err) = log_tool(&["replay", "--session", &session], dir.path());
    assert_eq!(code, Some(0), "{err}");
    for expected in ["assigned to alice in general", "LeastLoaded", "reply timer running since", "alice replied"] {
        assert!(story.contains(expected), "`{expected}` missing from:\n{story}");
    }
    let (_, early, _) = log_tool(&["replay", "--session", &session, "--until", "lsn:3"], dir.path());
    assert!(!early.contains("alice replied"), "--until stops the replay early:\n{early}");

    let (code, _, err) = log_tool(&["replay", "--session", "999"], dir.path());
    assert_eq!(code, Some(2));
    assert!(err.contains("session 999 does not appear"), "{err}");
    let (code, _, err) = log_tool(&["replay", "--session", "1", "--until", "yesterday"], dir.path());
    assert_eq!(code, Some(2), "a bad --until is a usage error");
    assert!(err.contains("lsn:N"), "{err}");
}

/// A `data_dir` written by an older release (here snapshot format 1, before
/// verified customers) is refused at start-up, naming the snapshot and both
/// versions, rather than misread (docs/durability.md).
#[test]
fn a_data_dir_of_an_older_format_is_refused_with_the_versions() {
    use switchboard_server::journal::codec::SNAPSHOT_FORMAT;
    use switchboard_storage::{OpenMode, Store};
    let dir = temp_dir();
    {
        let store = Store::open(dir.path(), OpenMode::ReadWrite).unwrap();
        // Format 1's version byte, then a body this release never reads.
        store.write_snapshot(0, &[1, 0, 0, 0]).unwrap();
    }
    assert_eq!(SNAPSHOT_FORMAT, 7, "update this test and docs/durability.md with the format");
    let stderr = refused_start(dir.path());
    assert!(stderr.contains("has format 1") && stderr.contains("reads format 7"), "{stderr}");
    assert!(stderr.contains(".snap"), "the snapshot is named: {stderr}");
}
