//! The `switchboard` binary itself: config file + environment overrides, a bad
//! config naming its key, and a graceful shutdown on SIGTERM.

mod common;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Client, Side};

const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

fn default_config() -> String {
    format!("{}/../config/default.toml", env!("CARGO_MANIFEST_DIR"))
}

/// A Wednesday morning in the default config's time zone: its groups have service hours, and a
/// fixed calendar keeps them open whatever the hour the test runs at.
const OPEN_HOURS: &str = "2026-03-04T10:00:00";

#[test]
fn a_bad_config_stops_start_up_naming_the_key() {
    let out = Command::new(BIN)
        .args(["--config", &default_config()])
        .env("SWITCHBOARD_ROUTER__RULES__REPLY_WARNING", "5m")
        .output()
        .expect("the binary runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("config key `router.rules.reply_warning`"), "{stderr}");

    let out = Command::new(BIN).args(["--config", "/nonexistent/switchboard.toml"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/switchboard.toml"));
}

/// Kills the server if the test fails half-way, so no process outlives the test.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn sigterm_tells_clients_and_exits_cleanly() {
    let data_dir = tempfile::Builder::new().prefix("binary-").tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let child = Command::new(BIN)
        .args(["--config", &default_config()])
        .env("SWITCHBOARD_STORAGE__DATA_DIR", data_dir.path())
        .env("SWITCHBOARD_LISTEN", "127.0.0.1:0")
        .env("SWITCHBOARD_ADMIN_LISTEN", "127.0.0.1:0")
        .env("SWITCHBOARD_LOG__FORMAT", "json")
        .env("SWITCHBOARD_SHUTDOWN_TIMEOUT", "3s")
        .env("SWITCHBOARD_CLOCK__START", OPEN_HOURS)
        .env("SWITCHBOARD_AUTH__SECRET", common::TEST_SECRET)
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let mut server = Server(child);
    let child = &mut server.0;
    // The JSON log line "switchboard listening" carries the bound address.
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<SocketAddr>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else { continue };
            if let Some(addr) = v["fields"]["public_addr"].as_str() {
                let _ = tx.send(addr.parse().unwrap());
            }
        }
    });
    let addr = rx.recv_timeout(Duration::from_secs(20)).expect("the server logs its address");

    let (mut customer, welcome) = Client::customer(addr, "general").await;
    assert_eq!(welcome["group"], "general");
    let mut alice = Client::connect(addr, "/v1/ws/agent?agent=alice", Side::Agent).await;
    alice.expect("state").await;

    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let started = Instant::now();
    customer.expect("shutdown").await;
    assert_eq!(customer.expect_close().await, Some(1001));
    alice.expect("shutdown").await;
    assert_eq!(alice.expect_close().await, Some(1001));
    drop((customer, alice));

    let exit = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(started.elapsed() < Duration::from_secs(6), "still running {:?} after SIGTERM", started.elapsed());
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(exit.success(), "{exit:?}");
}

#[test]
fn hash_password_prints_an_argon2id_hash_of_the_line_it_reads() {
    use std::io::Write;
    let mut child =
        Command::new(BIN).arg("hash-password").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(b"s3cret pass\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let hash = String::from_utf8(out.stdout).unwrap();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    let stored = switchboard_server::config::Secret(hash.trim().to_owned());
    assert!(switchboard_server::auth::password::verify(Some(&stored), "s3cret pass"));
    assert!(!switchboard_server::auth::password::verify(Some(&stored), "s3cret pass\n"));
}
