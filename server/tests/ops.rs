//! The operators' files (ops/README.md): the Grafana dashboard and the
//! Prometheus alerting rules use only metrics that docs/metrics.md defines
//! (and so that the server exports: tests/metrics.rs holds the docs to the
//! code); the rules and every dashboard query are valid PromQL and the rules'
//! unit tests pass (promtool, required under CI like tests/metrics.rs).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// `name -> type` of every row of docs/metrics.md's tables.
fn documented() -> Vec<(String, String)> {
    read("docs/metrics.md")
        .lines()
        .filter_map(|l| {
            let rest = l.strip_prefix("| `switchboard_")?;
            let (name, rest) = rest.split_once("` | ")?;
            let kind = rest.split(' ').next()?;
            Some((format!("switchboard_{name}"), kind.to_owned()))
        })
        .collect()
}

/// Every `switchboard_*` name in a text (PromQL, YAML, JSON).
fn names_in(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("switchboard_") {
        let tail = &rest[at..];
        let end =
            tail.find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')).unwrap_or(tail.len());
        found.insert(tail[..end].to_owned());
        rest = &tail[end..];
    }
    found
}

/// The metric a series name belongs to: histograms expose `_bucket`, `_sum` and `_count`.
fn undocumented(names: &BTreeSet<String>) -> Vec<String> {
    let docs = documented();
    let known = |name: &str| docs.iter().any(|(n, _)| n == name);
    let histogram = |name: &str| docs.iter().any(|(n, k)| n == name && k == "histogram");
    names
        .iter()
        .filter(|name| {
            let base = ["_bucket", "_sum", "_count"].iter().find_map(|s| name.strip_suffix(s));
            !(known(name) || base.is_some_and(histogram))
        })
        .cloned()
        .collect()
}

/// Every query of the dashboard, with Grafana's variables as Prometheus reads them.
fn dashboard_queries() -> Vec<(String, String)> {
    let dashboard: Value = serde_json::from_str(&read("ops/grafana/switchboard.json")).expect("the dashboard is JSON");
    let mut queries = Vec::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().into_iter().flatten() {
            let expr = target["expr"].as_str().unwrap();
            let promql = expr.replace("$__rate_interval", "5m").replace("$group", ".*");
            queries.push((panel["title"].as_str().unwrap().to_owned(), promql));
        }
    }
    queries
}

#[test]
fn the_dashboard_and_the_alerts_use_only_documented_metrics() {
    let queries = dashboard_queries();
    assert!(queries.len() >= 20, "the dashboard has its panels: {}", queries.len());
    let used: BTreeSet<String> = queries.iter().flat_map(|(_, q)| names_in(q)).collect();
    assert_eq!(undocumented(&used), Vec::<String>::new(), "the dashboard uses metrics docs/metrics.md lacks");
    let rules = names_in(&read("ops/prometheus/alerts.yml"));
    assert_eq!(undocumented(&rules), Vec::<String>::new(), "alerts.yml uses metrics docs/metrics.md lacks");
    // What the issue asks the dashboard and the alerts to cover.
    for needed in [
        "switchboard_sessions_waiting",
        "switchboard_oldest_wait_seconds",
        "switchboard_assignment_latency_seconds_bucket",
        "switchboard_agents",
        "switchboard_reply_warnings_total",
        "switchboard_slow_replies_total",
        "switchboard_conduct_flags_total",
        "switchboard_ticket_breaches_total",
        "switchboard_storage_healthy",
        "switchboard_records_spill_bytes",
    ] {
        assert!(used.contains(needed), "the dashboard has no panel on {needed}");
    }
    for needed in [
        "switchboard_oldest_wait_seconds",
        "switchboard_slow_replies_total",
        "switchboard_group_open",
        "switchboard_ticket_breaches_total",
        "switchboard_storage_healthy",
        "switchboard_records_dropped_total",
    ] {
        assert!(rules.contains(needed), "alerts.yml has no rule on {needed}");
    }
}

#[test]
fn the_names_check_catches_an_unknown_metric() {
    let names = names_in("rate(switchboard_no_such_total[5m]) + switchboard_wait_seconds_bucket + switchboard_agents");
    assert_eq!(undocumented(&names), ["switchboard_no_such_total"]);
    assert_eq!(undocumented(&names_in("switchboard_agents_bucket")), ["switchboard_agents_bucket"], "not a histogram");
}

#[test]
fn the_dashboards_panels_have_unique_ids_and_the_datasource_variable() {
    let dashboard: Value = serde_json::from_str(&read("ops/grafana/switchboard.json")).unwrap();
    let ids: Vec<u64> = dashboard["panels"].as_array().unwrap().iter().map(|p| p["id"].as_u64().unwrap()).collect();
    assert_eq!(ids.iter().collect::<BTreeSet<_>>().len(), ids.len(), "panel ids repeat");
    let variables = dashboard["templating"]["list"].as_array().unwrap();
    assert!(variables.iter().any(|v| v["name"] == "datasource" && v["type"] == "datasource"));
    for panel in dashboard["panels"].as_array().unwrap().iter().filter(|p| p["type"] != "row") {
        assert_eq!(panel["datasource"]["uid"], "${datasource}", "{}", panel["title"]);
    }
}

/// `promtool check rules` and `promtool test rules` on the alerts, and
/// every dashboard query checked as PromQL (as recording rules).
#[test]
fn promtool_checks_the_rules_their_tests_and_the_dashboards_queries() {
    let Some(promtool) = promtool() else { return };
    let dir = repo("ops/prometheus");
    let run = |args: &[&str], cwd: &Path| {
        let out = std::process::Command::new(&promtool).args(args).current_dir(cwd).output().unwrap();
        let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "promtool {args:?} failed:\n{said}");
    };
    run(&["check", "rules", "alerts.yml"], &dir);
    run(&["test", "rules", "alerts.test.yml"], &dir);

    let tmp = std::env::temp_dir().join(format!("switchboard-dashboard-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let mut rules = String::from("groups:\n  - name: dashboard\n    rules:\n");
    for (i, (title, query)) in dashboard_queries().iter().enumerate() {
        let quoted = serde_json::to_string(query).unwrap();
        rules.push_str(&format!("      # {title}\n      - record: dashboard:query_{i}\n        expr: {quoted}\n"));
    }
    std::fs::write(tmp.join("dashboard.yml"), rules).unwrap();
    run(&["check", "rules", "dashboard.yml"], &tmp);
    std::fs::remove_dir_all(&tmp).ok();
}

/// `$PROMTOOL`, else `promtool` on PATH; `None` (loudly) on a local run
/// without it, a failure under CI (`CI` set), as in tests/metrics.rs.
fn promtool() -> Option<std::ffi::OsString> {
    let program = std::env::var_os("PROMTOOL").unwrap_or_else(|| "promtool".into());
    if std::process::Command::new(&program).arg("--version").output().is_ok() {
        return Some(program);
    }
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
    let missing =
        "promtool is missing: `./scripts/test.sh` fetches it from Debian's prometheus package, or set PROMTOOL";
    assert!(!ci, "{missing} (required under CI)");
    std::io::Write::write_all(&mut std::io::stderr(), format!("\n!!!!! SKIPPED: {missing} !!!!!\n").as_bytes())
        .unwrap();
    None
}
