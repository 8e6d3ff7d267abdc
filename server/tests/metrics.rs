//! `/metrics` on the admin listener reflects what happened, and passes `promtool check metrics`.

mod common;

use std::time::Duration;

use common::{config, http_get, sample, start, wait_for_sample, Client};
use serde_json::json;
use switchboard_server::metrics::{self, Kind};

#[tokio::test]
async fn metrics_reflect_what_happened() {
    // 600x so that a reply warning and a violation happen within the test.
    let server = start(config(
        600.0,
        "[router.rules]\ncustomer_idle = \"10h\"\nagent_grace = \"10h\"\ncustomer_grace = \"10h\"\n",
    ))
    .await;
    let (addr, admin) = (server.public_addr, server.admin_addr);

    let (status, before) = http_get(admin, "/metrics").await;
    assert_eq!(status, 200);
    // Fixed series exist from the start, at zero.
    assert_eq!(sample(&before, "switchboard_slow_replies_total{group=\"general\"}"), Some(0.0), "{before}");
    assert_eq!(
        sample(
            &before,
            "switchboard_conduct_flags_total{kind=\"transfer_without_consent\",category=\"malicious_transfer\"}"
        ),
        Some(0.0)
    );

    let mut ann = Client::available_agent(addr, "ann").await;
    let mut rita = Client::available_agent(addr, "rita").await;
    let (mut c1, w1) = Client::customer(addr, "general").await;
    let s1 = w1["session"].as_u64().unwrap();
    c1.expect("assigned").await;
    ann.expect("session_assigned").await;

    // A message left unanswered: a warning, then a violation.
    c1.ok(json!({"type": "message", "text": "hello"})).await;
    ann.expect("slow_reply").await;
    ann.ok(json!({"type": "reply", "session": s1, "text": "sorry"})).await;
    c1.expect("agent_message").await;

    // A cross-group transfer without consent: a transfer and a conduct flag.
    let note = "Customer asks about a refund for order 5; please check it.";
    ann.ok(json!({"type": "transfer", "session": s1, "to": {"kind": "group", "id": "refunds"}, "note": note, "skip_consent": true}))
        .await;
    ann.expect("conduct_flagged").await;
    rita.expect("session_assigned").await;
    c1.expect("assigned").await;

    // Closed (resolved after asking), rated.
    rita.ok(json!({"type": "ask_resolved", "session": s1})).await;
    c1.expect("resolve_request").await;
    c1.ok(json!({"type": "confirm_resolved", "resolved": true})).await;
    rita.expect("resolve_answer").await;
    rita.ok(json!({"type": "close", "session": s1, "reason": "resolved"})).await;
    c1.expect("closed").await;
    c1.ok(json!({"type": "rate", "rating": "dissatisfied"})).await;

    // A protocol error, and a waiting customer in logistics.
    c1.send_raw(tokio_tungstenite::tungstenite::Message::Text("nope".into())).await;
    c1.expect("error").await;
    let (_waiting, _) = Client::customer(addr, "logistics").await;

    let body = wait_for_sample(admin, "switchboard_sessions_waiting{group=\"logistics\"}", 1.0).await;
    let expect = |series: &str, value: f64| {
        assert_eq!(sample(&body, series), Some(value), "{series}\n{body}");
    };
    expect("switchboard_reply_warnings_total{group=\"general\"}", 1.0);
    expect("switchboard_slow_replies_total{group=\"general\"}", 1.0);
    expect("switchboard_transfers_total{kind=\"cross_group\"}", 1.0);
    expect("switchboard_conduct_flags_total{kind=\"transfer_without_consent\",category=\"malicious_transfer\"}", 1.0);
    expect("switchboard_sessions_closed_total{reason=\"agent_resolved\"}", 1.0);
    expect("switchboard_ratings_total{rating=\"dissatisfied\"}", 1.0);
    expect("switchboard_ratings_total{rating=\"satisfied\"}", 0.0);
    expect("switchboard_messages_relayed_total{direction=\"customer_to_agent\"}", 1.0);
    expect("switchboard_messages_relayed_total{direction=\"agent_to_customer\"}", 1.0);
    expect("switchboard_protocol_errors_total{code=\"invalid_json\"}", 1.0);
    expect("switchboard_connections_open{role=\"customer\"}", 2.0);
    expect("switchboard_connections_open{role=\"agent\"}", 2.0);
    expect("switchboard_sessions_active{group=\"general\"}", 0.0);
    expect("switchboard_agents{group=\"general\",state=\"available\"}", 1.0);
    expect("switchboard_agents{group=\"refunds\",state=\"available\"}", 1.0);
    expect("switchboard_agents{group=\"logistics\",state=\"offline\"}", 1.0);
    assert!(sample(&body, "switchboard_oldest_wait_seconds{group=\"logistics\"}").is_some_and(|v| v >= 0.0));
    // Histograms with explicit buckets: two assignments (join, then the transfer).
    expect("switchboard_wait_seconds_count{group=\"general\"}", 1.0);
    expect("switchboard_wait_seconds_count{group=\"refunds\"}", 1.0);
    expect("switchboard_wait_seconds_bucket{group=\"general\",le=\"60\"}", 1.0);
    expect("switchboard_assignment_latency_seconds_count", 2.0);
    assert!(body.contains("switchboard_assignment_latency_seconds_bucket{le=\"0.001\"}"), "{body}");
    assert!(body.contains("# TYPE switchboard_wait_seconds histogram"), "{body}");
    // Every input went through the log first (the test servers log with sync = none).
    assert!(sample(&body, "switchboard_log_records_total").is_some_and(|n| n >= 10.0), "{body}");
    assert!(sample(&body, "switchboard_log_batch_records_count").is_some_and(|n| n >= 1.0), "{body}");
    expect("switchboard_storage_healthy", 1.0);
    expect("switchboard_log_write_errors_total", 0.0);
    // Every `# HELP` line names a metric of the documented list.
    for name in body.lines().filter_map(|l| l.strip_prefix("# HELP ")).map(|l| l.split(' ').next().unwrap()) {
        assert!(metrics::ALL.iter().any(|(n, ..)| *n == name), "{name} is not in metrics::ALL (and docs/metrics.md)");
    }
    // Labels are small fixed sets: never a session, customer or agent id.
    let allowed = [
        "group",
        "state",
        "kind",
        "category",
        "reason",
        "rating",
        "direction",
        "role",
        "code",
        "signal",
        "phase",
        "outcome",
        "operation",
        "origin",
        "cause",
        // Content rules' names: from the config, a bounded set (docs/content-rules.md).
        "rule",
        "le",
    ];
    for line in body.lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
        if let Some((_, labels)) = line.split_once('{') {
            let labels = labels.split_once('}').unwrap().0;
            for pair in labels.split(',') {
                let key = pair.split_once('=').unwrap().0;
                assert!(allowed.contains(&key), "unexpected label `{key}`: {line}");
            }
        }
        for id in ["\"ann\"", "\"rita\""] {
            assert!(!line.contains(id), "per-agent or per-session label: {line}");
        }
    }

    promtool_check(&body).await;
    server.shutdown().await.unwrap();
}

/// `promtool check metrics` on the body. promtool is `$PROMTOOL`, else the
/// one on PATH (`scripts/test.sh` fetches it from Debian's prometheus package
/// and sets `PROMTOOL`). Without it the check fails under CI (`CI` set), so a
/// CI run can never pass without the format check; a local run skips it, loudly.
async fn promtool_check(body: &str) {
    let Some(out) = run_promtool(body).await else { return };
    assert!(
        out.status.success(),
        "promtool check metrics failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The check above can fail: promtool refuses a broken exposition.
#[tokio::test]
async fn promtool_refuses_a_broken_exposition() {
    // Not one of the server's metrics (no `switchboard_` prefix): only the syntax matters.
    let broken = "# TYPE broken_exposition_total counter\nbroken_exposition_total{group=\"general\" 1\n";
    let Some(out) = run_promtool(broken).await else { return };
    assert!(!out.status.success(), "promtool accepted a sample with an unclosed label set");
}

/// `promtool check metrics` with `body` on stdin; `None` when promtool is
/// missing on a local run (a failure under CI).
async fn run_promtool(body: &str) -> Option<std::process::Output> {
    use tokio::io::AsyncWriteExt;
    let program = std::env::var_os("PROMTOOL").unwrap_or_else(|| "promtool".into());
    let child = tokio::process::Command::new(&program)
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let missing = format!(
                "promtool not found ({}): `promtool check metrics` did not run. \
                 `./scripts/test.sh` fetches it from Debian's prometheus package, or set PROMTOOL=/path/to/promtool",
                program.to_string_lossy()
            );
            assert!(!running_under_ci(), "{missing} (required under CI)");
            // Straight to stderr: the test harness captures eprintln! of passing tests.
            let loud = format!("\n!!!!! SKIPPED: {missing} !!!!!\n");
            std::io::Write::write_all(&mut std::io::stderr(), loud.as_bytes()).unwrap();
            return None;
        }
        Err(e) => panic!("cannot run promtool ({}): {e}", program.to_string_lossy()),
    };
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(body.as_bytes()).await.unwrap();
    drop(stdin);
    Some(tokio::time::timeout(Duration::from_secs(30), child.wait_with_output()).await.unwrap().unwrap())
}

/// CI sets `CI` (to `true`); an empty value or `false` is a local run.
fn running_under_ci() -> bool {
    std::env::var("CI").is_ok_and(|value| !value.is_empty() && value != "false" && value != "0")
}

/// `docs/metrics.md` defines exactly the metrics the server exports, each
/// with its type: what the docs do not define does not exist for operators.
#[test]
fn the_metrics_page_documents_every_metric_with_its_type() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/metrics.md")).unwrap();
    let documented: Vec<(String, String)> = doc
        .lines()
        .filter_map(|l| l.strip_prefix("| `switchboard_"))
        .map(|rest| {
            let (name, rest) = rest.split_once('`').unwrap();
            let kind = rest.trim_start_matches(" |").split('|').next().unwrap().trim();
            (format!("switchboard_{name}"), kind.to_owned())
        })
        .collect();
    let exported: Vec<(String, String)> = metrics::ALL
        .iter()
        .map(|(name, kind, _)| {
            let kind = match kind {
                Kind::Counter => "counter",
                Kind::Gauge => "gauge",
                Kind::Histogram => "histogram",
            };
            (name.to_string(), kind.to_owned())
        })
        .collect();
    let mut a = documented.clone();
    let mut b = exported.clone();
    a.sort();
    b.sort();
    assert_eq!(a, b, "docs/metrics.md and metrics::ALL differ");
}

/// Every label the server exports, and every value of the fixed ones, is
/// named in `docs/metrics.md` on its metric's row (`group` values are the
/// config's skill groups; `code` values are the error codes, each defined
/// in `docs/protocol.md`): a label value the docs do not define does not
/// exist for operators.
#[tokio::test]
async fn the_metrics_page_names_every_label_and_value_the_server_exports() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/metrics.md")).unwrap();
    let protocol = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/protocol.md")).unwrap();
    let server = start(config(1.0, "")).await;
    let (_, body) = http_get(server.admin_addr, "/metrics").await;
    server.shutdown().await.unwrap();
    let mut checked = 0;
    for line in body.lines().filter(|l| !l.starts_with('#')) {
        let Some((series, labels)) = line.split_once('{') else { continue };
        let metric = ["_bucket", "_sum", "_count"].iter().fold(series, |m, suffix| m.strip_suffix(suffix).unwrap_or(m));
        let row = doc
            .lines()
            .find(|l| l.starts_with(&format!("| `{metric}` |")))
            .unwrap_or_else(|| panic!("no row for {metric} in docs/metrics.md"));
        for pair in labels.split_once('}').unwrap().0.split(',') {
            let (key, value) = pair.split_once('=').unwrap();
            let value = value.trim_matches('"');
            match key {
                "le" | "group" => {}
                "code" => {
                    assert!(protocol.contains(&format!("`{value}`")), "error code `{value}` is not in docs/protocol.md")
                }
                _ => {
                    assert!(row.contains(&format!("`{key}`")), "{metric}: label `{key}` is not on its row");
                    assert!(row.contains(&format!("`{value}`")), "{metric}: `{key}` value `{value}` is not on its row");
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 50, "only {checked} label values seen: the zero series are missing");
}

/// One spelling per agent state: the wire (`state`, `state_changed`,
/// `snapshot`), the metric's `state` label, `docs/protocol.md`'s table and
/// the pages all use the router's one list.
#[tokio::test]
async fn agent_states_are_spelled_alike_on_the_wire_in_metrics_docs_and_pages() {
    use switchboard_server::router::output::AgentState;
    let protocol = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/protocol.md")).unwrap();
    let web_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../web");
    let pages: String = std::fs::read_dir(web_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "js"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    let server = start(config(1.0, "")).await;
    let (_, body) = http_get(server.admin_addr, "/metrics").await;
    server.shutdown().await.unwrap();
    for state in AgentState::ALL {
        let label = state.label();
        assert_eq!(serde_json::to_value(state).unwrap(), json!(label), "the wire spells {state:?} as its label");
        assert!(body.contains(&format!("state=\"{label}\"")), "switchboard_agents has no state=\"{label}\"");
        assert!(protocol.contains(&format!("| `{label}` |")), "docs/protocol.md's agent states lack `{label}`");
        assert!(
            pages.contains(&format!("{label}:")) || pages.contains(&format!("'{label}'")),
            "no page names the state `{label}`"
        );
    }
}
