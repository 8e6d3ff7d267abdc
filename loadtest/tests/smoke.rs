//! A few seconds of the real binaries: the harness runs the relay scenario
//! against the baseline relay it starts itself, and its JSON report must show
//! every message delivered with latencies recorded. No server needed.

use std::process::Command;

#[test]
fn relay_against_the_baseline_delivers_everything() {
    let json = std::env::temp_dir().join(format!("switchboard-loadtest-smoke-{}.json", std::process::id()));
    let output = Command::new(env!("CARGO_BIN_EXE_switchboard-loadtest"))
        .args(["relay", "--baseline-only", "--pairs", "4", "--rate", "400", "--duration", "1", "--warmup", "0"])
        .args(["--pause", "0", "--quiet", "--json"])
        .arg(&json)
        .output()
        .expect("running the harness");
    assert!(output.status.success(), "harness failed: {}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("relay latency (both ways) p99"), "{stdout}");

    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let _ = std::fs::remove_file(&json);
    let summary = report["summary"].as_array().unwrap();
    let row = |name: &str| summary.iter().find(|r| r["name"] == name).unwrap_or_else(|| panic!("no row {name}"));
    assert_eq!(row("delivered / sent")["baseline"].as_f64(), Some(100.0));
    assert_eq!(row("relay latency (both ways) count")["baseline"].as_f64(), Some(400.0));
    assert!(row("relay latency (both ways) p50")["baseline"].as_f64().unwrap() > 0.0);
    assert!(row("server CPU")["baseline"].as_f64().is_some(), "the baseline's process was found and measured");
}

#[test]
fn non_loopback_targets_are_refused() {
    let output = Command::new(env!("CARGO_BIN_EXE_switchboard-loadtest"))
        .args(["relay", "--url", "ws://192.0.2.1:8080", "--baseline", "none", "--quiet"])
        .output()
        .expect("running the harness");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("non-loopback"));
}

#[test]
fn bad_arguments_fail_before_any_run() {
    let output = Command::new(env!("CARGO_BIN_EXE_switchboard-loadtest"))
        .args(["relay", "--baseline-only", "--rate", "0", "--quiet"])
        .output()
        .expect("running the harness");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "a bad --rate must fail the process: {stderr}");
    assert!(stderr.contains("--rate must be above 0"), "{stderr}");
    assert!(!stderr.contains("round 1"), "nothing may run with a bad argument: {stderr}");
    assert!(output.stdout.is_empty(), "no report: {}", String::from_utf8_lossy(&output.stdout));
}
