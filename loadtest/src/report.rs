//! The final table (medians over rounds, server vs baseline, ratios) and the JSON report.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;
use serde_json::json;

use crate::clients::Kind;
use crate::stats::{median, Better, RunResult};

#[derive(Debug, Serialize)]
pub struct RunRecord {
    pub round: usize,
    pub target: Kind,
    pub result: RunResult,
}

#[derive(Debug)]
pub struct Report {
    pub scenario: String,
    pub command: Vec<String>,
    pub targets: Vec<(Kind, String)>,
    pub runs: Vec<RunRecord>,
    pub started_unix_s: u64,
}

/// One row of the table: medians per target.
#[derive(Debug, Serialize)]
pub struct Row {
    pub name: String,
    pub unit: String,
    pub better: Better,
    pub server: Option<f64>,
    pub baseline: Option<f64>,
    /// server / baseline.
    pub ratio: Option<f64>,
}

impl Report {
    pub fn new(scenario: &str, command: Vec<String>) -> Self {
        let started_unix_s = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default();
        Report { scenario: scenario.to_owned(), command, targets: Vec::new(), runs: Vec::new(), started_unix_s }
    }

    /// Rows in first-seen order: figures, then p50/p90/p99/p99.9/max of each histogram.
    pub fn rows(&self) -> Vec<Row> {
        let mut order: Vec<(String, String, Better)> = Vec::new();
        let mut values: BTreeMap<(String, bool), Vec<f64>> = BTreeMap::new();
        let mut add = |name: String, unit: &str, better: Better, kind: Kind, value: f64| {
            if !order.iter().any(|(n, _, _)| *n == name) {
                order.push((name.clone(), unit.to_owned(), better));
            }
            values.entry((name, kind == Kind::Server)).or_default().push(value);
        };
        for run in &self.runs {
            for figure in &run.result.figures {
                add(figure.name.clone(), &figure.unit, figure.better, run.target, figure.value);
            }
            for latency in &run.result.latencies {
                if latency.count == 0 {
                    continue;
                }
                let quantiles = [
                    ("p50", latency.p50_ms),
                    ("p90", latency.p90_ms),
                    ("p99", latency.p99_ms),
                    ("p99.9", latency.p999_ms),
                    ("max", latency.max_ms),
                ];
                for (q, value) in quantiles {
                    add(format!("{} {q}", latency.name), "ms", Better::Lower, run.target, value);
                }
                add(format!("{} count", latency.name), "", Better::Higher, run.target, latency.count as f64);
            }
        }
        order
            .into_iter()
            .map(|(name, unit, better)| {
                let mut server = values.get(&(name.clone(), true)).cloned().unwrap_or_default();
                let mut baseline = values.get(&(name.clone(), false)).cloned().unwrap_or_default();
                let server = (!server.is_empty()).then(|| median(&mut server));
                let baseline = (!baseline.is_empty()).then(|| median(&mut baseline));
                let ratio = match (server, baseline) {
                    (Some(s), Some(b)) if b != 0.0 => Some(s / b),
                    _ => None,
                };
                Row { name, unit, better, server, baseline, ratio }
            })
            .collect()
    }

    pub fn table(&self) -> String {
        let rounds = self.runs.iter().map(|r| r.round).max().unwrap_or(0);
        let mut out = String::new();
        let _ = writeln!(
            out,
            "\nscenario {} ({} round(s); medians over rounds; ratio = server / baseline)",
            self.scenario, rounds
        );
        for (kind, url) in &self.targets {
            let _ = writeln!(out, "  {:<8} {url}", format!("{kind:?}").to_lowercase());
        }
        let _ = writeln!(out, "{:<52} {:>12} {:>12} {:>9}  unit", "figure", "server", "baseline", "ratio");
        let cell = |v: Option<f64>| match v {
            Some(v) if v.abs() >= 1000.0 => format!("{v:.0}"),
            Some(v) => format!("{v:.3}"),
            None => "n/a".to_owned(),
        };
        for row in self.rows() {
            let ratio = row.ratio.map(|r| format!("{r:.2}x")).unwrap_or_else(|| "-".to_owned());
            let better = match row.better {
                Better::Higher => "(higher is better)",
                Better::Lower => "",
            };
            let _ = writeln!(
                out,
                "{:<52} {:>12} {:>12} {:>9}  {} {better}",
                row.name,
                cell(row.server),
                cell(row.baseline),
                ratio,
                row.unit
            );
        }
        for run in &self.runs {
            for note in &run.result.notes {
                let _ = writeln!(out, "  note (round {}, {:?}): {note}", run.round, run.target);
            }
            if !run.result.samples.is_empty() {
                let _ = writeln!(
                    out,
                    "  samples (round {}, {:?}):  at_s  rss_MiB  delivered  p50_ms  p99_ms  max_ms",
                    run.round, run.target
                );
                for s in &run.result.samples {
                    let rss = s.rss_kib.map(|k| format!("{:.1}", k as f64 / 1024.0)).unwrap_or_else(|| "n/a".into());
                    let _ = writeln!(
                        out,
                        "    {:>6.1} {:>8} {:>10} {:>7.3} {:>7.3} {:>7.3}",
                        s.at_s, rss, s.delivered, s.p50_ms, s.p99_ms, s.max_ms
                    );
                }
            }
        }
        out
    }

    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "scenario": self.scenario,
            "command": self.command,
            "started_unix_s": self.started_unix_s,
            "machine": machine(),
            "targets": self.targets.iter().map(|(k, u)| json!({"kind": k, "url": u})).collect::<Vec<_>>(),
            "summary": self.rows(),
            "runs": self.runs,
        })
    }
}

fn machine() -> serde_json::Value {
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim().to_owned();
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find_map(|line| {
            line.strip_prefix("model name").map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_default();
    json!({"cpus": cpus, "kernel": kernel, "cpu_model": model})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Latency;

    #[test]
    fn rows_take_medians_and_ratios() {
        let mut report = Report::new("relay", vec![]);
        for (round, server, baseline) in [(1, 40.0, 50.0), (2, 44.0, 54.0), (3, 42.0, 52.0)] {
            for (kind, value) in [(Kind::Server, server), (Kind::Baseline, baseline)] {
                let mut result = RunResult::default();
                result.figure("delivered rate", "msg/s", value, Better::Higher);
                let mut latency = Latency::default();
                latency.record(std::time::Duration::from_millis(1));
                result.latency("relay", &latency);
                report.runs.push(RunRecord { round, target: kind, result });
            }
        }
        let rows = report.rows();
        let rate = rows.iter().find(|r| r.name == "delivered rate").unwrap();
        assert_eq!(rate.server, Some(42.0));
        assert_eq!(rate.baseline, Some(52.0));
        assert!((rate.ratio.unwrap() - 42.0 / 52.0).abs() < 1e-9);
        assert!(rows.iter().any(|r| r.name == "relay p99"));
        assert!(report.table().contains("0.81x"));
    }
}
