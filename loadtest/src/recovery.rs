//! `recovery`: how long the real server takes to start on a data_dir.
//!
//! Each round starts the server once on an empty data_dir (the baseline:
//! what a start costs with nothing to recover) and once on a fresh copy of
//! each given data_dir, in an order that alternates from round to round.
//! A start is timed from spawning the process to the first `/readyz` that
//! answers 200 (the listeners are bound before recovery, so the request
//! waits in the backlog and is answered as soon as the server serves). Then
//! it reads `switchboard_recovery_seconds` and `switchboard_recovery_records`
//! from `/metrics`, the process's RSS, and the machine's CPU steal over the
//! start, and kills the server (SIGKILL: a graceful stop would write a
//! snapshot). Copies are deleted; the given data_dirs are never written.

use std::fmt::Write as _;
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use clap::Args;
use serde::Serialize;
use serde_json::json;

use crate::procinfo::{MachineCpu, Process};
use crate::stats::median;

#[derive(Debug, Args)]
pub struct RecoveryArgs {
    /// The server binary (default: `switchboard` next to this binary).
    #[arg(long)]
    pub server: Option<PathBuf>,
    /// The config the data_dirs were generated with (its listeners are
    /// replaced by free loopback ports).
    #[arg(long)]
    pub config: PathBuf,
    /// A data_dir to start on, as NAME=DIR; repeat for several. It is copied
    /// before every start and never written itself.
    #[arg(long = "case", required = true)]
    pub cases: Vec<String>,
    /// Rounds (each starts every case and the empty baseline once).
    #[arg(long, default_value_t = 5)]
    pub rounds: usize,
    /// Where the copies go (default: beside each data_dir, on the same disk).
    #[arg(long)]
    pub scratch: Option<PathBuf>,
    /// Drop the copy's files from the page cache before each start (a cold
    /// start, as after a reboot; runs `dd iflag=nocache`). Default: warm, as
    /// after a process crash.
    #[arg(long)]
    pub cold: bool,
    /// Give up on a start after this many seconds.
    #[arg(long, default_value_t = 300.0)]
    pub timeout: f64,
    /// Write the report as JSON to this file too.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

/// One start of the server.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Start {
    pub case: String,
    pub round: usize,
    /// Spawn to the first /readyz 200.
    pub ready_s: f64,
    /// The server's own `switchboard_recovery_seconds` and `_records`.
    pub recovery_s: Option<f64>,
    pub recovery_records: Option<f64>,
    pub rss_mib: Option<f64>,
    pub peak_rss_mib: Option<f64>,
    /// Machine CPU steal from spawn to ready: ticks and percent of all CPU time.
    pub steal_ticks: u64,
    pub steal_percent: f64,
    pub load_average: String,
}

const BASELINE: &str = "empty";
const MAX_ROUNDS: usize = 20;

pub fn run(args: &RecoveryArgs) -> anyhow::Result<()> {
    if args.rounds == 0 || args.rounds > MAX_ROUNDS {
        bail!("--rounds must be 1 to {MAX_ROUNDS}");
    }
    if !(args.timeout.is_finite() && args.timeout > 0.0 && args.timeout <= 3600.0) {
        bail!("--timeout must be above 0 and at most 3600 seconds");
    }
    let timeout = Duration::from_secs_f64(args.timeout);
    let server = match &args.server {
        Some(path) => path.clone(),
        None => std::env::current_exe()?.with_file_name("switchboard"),
    };
    if !server.is_file() {
        bail!("no server binary at {} (build it, or give --server)", server.display());
    }
    let mut cases: Vec<(String, Option<PathBuf>)> = vec![(BASELINE.to_owned(), None)];
    for case in &args.cases {
        let (name, dir) = case.split_once('=').context("--case takes NAME=DIR")?;
        let dir = PathBuf::from(dir);
        if name == BASELINE || name.is_empty() || cases.iter().any(|(n, _)| n == name) {
            bail!("--case {name:?}: give each case its own name (not {BASELINE:?})");
        }
        if !dir.join("log").is_dir() || !dir.join("snapshots").is_dir() {
            bail!("--case {name}: {} is not a data_dir (no log/ and snapshots/)", dir.display());
        }
        cases.push((name.to_owned(), Some(dir)));
    }

    let mut starts = Vec::new();
    for round in 1..=args.rounds {
        let mut order: Vec<&(String, Option<PathBuf>)> = cases.iter().collect();
        if round % 2 == 0 {
            order.reverse();
        }
        for (name, source) in order {
            let scratch_parent = match (&args.scratch, source) {
                (Some(dir), _) => dir.clone(),
                (None, Some(source)) => source.parent().map(Path::to_owned).unwrap_or_else(std::env::temp_dir),
                (None, None) => std::env::temp_dir(),
            };
            let copy = scratch_parent.join(format!(".recovery-{}-{name}-{round}", std::process::id()));
            let _cleanup = RemoveOnDrop(copy.clone());
            if let Some(source) = source {
                copy_dir(source, &copy).with_context(|| format!("copying {}", source.display()))?;
                if args.cold {
                    evict(&copy)?;
                }
            }
            eprintln!("round {round} of {}: {name}", args.rounds);
            let mut start = start_once(&server, &args.config, &copy, timeout)
                .with_context(|| format!("round {round}, case {name}"))?;
            start.case = name.clone();
            start.round = round;
            eprintln!(
                "  ready after {:.3} s (recovery {:.3} s, {} records), RSS {:.0} MiB, steal {:.2}%",
                start.ready_s,
                start.recovery_s.unwrap_or(f64::NAN),
                start.recovery_records.unwrap_or(f64::NAN),
                start.rss_mib.unwrap_or(f64::NAN),
                start.steal_percent
            );
            starts.push(start);
        }
    }
    let names: Vec<&str> = cases.iter().map(|(n, _)| n.as_str()).collect();
    print!("{}", table(&names, &starts, args.rounds));
    if let Some(path) = &args.json {
        let report = json!({
            "scenario": "recovery",
            "command": std::env::args().collect::<Vec<_>>(),
            "cold": args.cold,
            "summary": summary(&names, &starts),
            "starts": starts,
        });
        std::fs::write(path, serde_json::to_string_pretty(&report)?)
            .with_context(|| format!("writing {}", path.display()))?;
        eprintln!("JSON report written to {}", path.display());
    }
    Ok(())
}

/// Medians per case.
#[derive(Debug, Serialize)]
struct CaseSummary {
    case: String,
    starts: usize,
    ready_s: f64,
    /// ready_s / the empty baseline's ready_s.
    ready_ratio: f64,
    ready_s_min: f64,
    ready_s_max: f64,
    recovery_s: Option<f64>,
    recovery_records: Option<f64>,
    /// recovery_records / recovery_s.
    records_per_s: Option<f64>,
    rss_mib: Option<f64>,
    peak_rss_mib: Option<f64>,
    steal_percent: f64,
    steal_percent_max: f64,
}

fn med(values: impl Iterator<Item = f64>) -> Option<f64> {
    let mut values: Vec<f64> = values.collect();
    (!values.is_empty()).then(|| median(&mut values))
}

fn of<'a>(starts: &'a [Start], name: &'a str) -> impl Iterator<Item = &'a Start> + 'a {
    starts.iter().filter(move |s| s.case == name)
}

fn summary(names: &[&str], starts: &[Start]) -> Vec<CaseSummary> {
    let of = |name| of(starts, name);
    let baseline = med(of(BASELINE).map(|s| s.ready_s)).unwrap_or(f64::NAN);
    names
        .iter()
        .map(|&name| {
            let ready = med(of(name).map(|s| s.ready_s)).unwrap_or(f64::NAN);
            let recovery_s = med(of(name).filter_map(|s| s.recovery_s));
            let records = med(of(name).filter_map(|s| s.recovery_records));
            let rate = med(of(name).filter_map(|s| Some(s.recovery_records? / s.recovery_s?)));
            CaseSummary {
                case: name.to_owned(),
                starts: of(name).count(),
                ready_s: ready,
                ready_ratio: ready / baseline,
                ready_s_min: of(name).map(|s| s.ready_s).fold(f64::INFINITY, f64::min),
                ready_s_max: of(name).map(|s| s.ready_s).fold(0.0, f64::max),
                recovery_s,
                recovery_records: records,
                records_per_s: rate.filter(|r| r.is_finite() && *r > 0.0),
                rss_mib: med(of(name).filter_map(|s| s.rss_mib)),
                peak_rss_mib: med(of(name).filter_map(|s| s.peak_rss_mib)),
                steal_percent: med(of(name).map(|s| s.steal_percent)).unwrap_or(0.0),
                steal_percent_max: of(name).map(|s| s.steal_percent).fold(0.0, f64::max),
            }
        })
        .collect()
}

fn table(names: &[&str], starts: &[Start], rounds: usize) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\nrecovery ({rounds} round(s); medians; ratio = ready time / the empty data_dir's ready time, same run)"
    );
    let _ = writeln!(
        out,
        "{:<16} {:>10} {:>8} {:>11} {:>11} {:>12} {:>9} {:>9} {:>8}",
        "case", "ready s", "ratio", "recovery s", "records", "records/s", "RSS MiB", "peak MiB", "steal %"
    );
    let opt = |v: Option<f64>, digits: usize| v.map(|v| format!("{v:.digits$}")).unwrap_or_else(|| "n/a".into());
    for s in summary(names, starts) {
        let _ = writeln!(
            out,
            "{:<16} {:>10.3} {:>7.1}x {:>11} {:>11} {:>12} {:>9} {:>9} {:>8.2}",
            s.case,
            s.ready_s,
            s.ready_ratio,
            opt(s.recovery_s, 3),
            opt(s.recovery_records, 0),
            opt(s.records_per_s, 0),
            opt(s.rss_mib, 0),
            opt(s.peak_rss_mib, 0),
            s.steal_percent
        );
    }
    out
}

/// Starts the server on `data_dir`, waits for /readyz 200, measures, kills it.
fn start_once(server: &Path, config: &Path, data_dir: &Path, timeout: Duration) -> anyhow::Result<Start> {
    let public = free_port()?;
    let admin = free_port()?;
    let log_path = data_dir.with_extension("server-log");
    let _log_cleanup = RemoveOnDrop(log_path.clone());
    let log = std::fs::File::create(&log_path).with_context(|| format!("creating {}", log_path.display()))?;
    let cpu_before = MachineCpu::read();
    let started = Instant::now();
    let child = Command::new(server)
        .arg("--config")
        .arg(config)
        .arg("--data-dir")
        .arg(data_dir)
        .env("SWITCHBOARD_LISTEN", public.to_string())
        .env("SWITCHBOARD_ADMIN_LISTEN", admin.to_string())
        .env("SWITCHBOARD_STORAGE__MODE", "file")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .with_context(|| format!("starting {}", server.display()))?;
    let mut child = KillOnDrop(child);
    let deadline = started + timeout;
    loop {
        if let Some(status) = child.0.try_wait()? {
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            bail!("the server exited ({status}) before it was ready: {}", log.trim());
        }
        if Instant::now() >= deadline {
            bail!("the server was not ready after {timeout:?}");
        }
        match http_get(public, "/readyz", deadline) {
            Ok((200, _)) => break,
            Ok(_) | Err(_) => std::thread::sleep(Duration::from_millis(2)),
        }
    }
    let ready_s = started.elapsed().as_secs_f64();
    let cpu_after = MachineCpu::read();
    let process = Process { pid: child.0.id() };
    let rss_mib = process.rss_kib().map(|k| k as f64 / 1024.0);
    let peak_rss_mib = process.peak_rss_kib().map(|k| k as f64 / 1024.0);
    let metrics = match http_get(admin, "/metrics", Instant::now() + Duration::from_secs(10))? {
        (200, body) => body,
        (status, _) => bail!("/metrics answered {status}"),
    };
    let (steal_ticks, steal_percent) = match (cpu_before, cpu_after) {
        (Some(before), Some(after)) => before.steal_since(&after),
        _ => (0, 0.0),
    };
    drop(child);
    Ok(Start {
        case: String::new(),
        round: 0,
        ready_s,
        recovery_s: metric(&metrics, "switchboard_recovery_seconds"),
        recovery_records: metric(&metrics, "switchboard_recovery_records"),
        rss_mib,
        peak_rss_mib,
        steal_ticks,
        steal_percent,
        load_average: std::fs::read_to_string("/proc/loadavg")
            .ok()
            .and_then(|t| t.split_whitespace().next().map(str::to_owned))
            .unwrap_or_default(),
    })
}

/// The value of an unlabelled series in Prometheus text.
fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines().find_map(|line| {
        let rest = line.strip_prefix(name)?;
        rest.strip_prefix(' ')?.trim().parse().ok()
    })
}

/// A blocking HTTP/1.1 GET on loopback: the status and the body.
fn http_get(addr: SocketAddr, path: &str, deadline: Instant) -> anyhow::Result<(u16, String)> {
    let left = deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(1));
    let mut stream = TcpStream::connect_timeout(&addr, left.min(Duration::from_secs(1)))?;
    stream.set_read_timeout(Some(left.min(Duration::from_secs(1))))?;
    stream.set_nodelay(true)?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n")?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let text = String::from_utf8_lossy(&response);
    let (head, body) = text.split_once("\r\n\r\n").context("no HTTP header end")?;
    let status = head.split_whitespace().nth(1).context("no HTTP status")?.parse()?;
    Ok((status, body.to_owned()))
}

/// A loopback port free right now.
fn free_port() -> anyhow::Result<SocketAddr> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?)
}

/// Copies a data_dir (its files and subdirectories; the lock file too).
fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir(to).with_context(|| format!("creating {}", to.display()))?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target).with_context(|| format!("copying {}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// Writes a copy's files to disk and drops them from the page cache, so
/// that the next start reads them from the disk.
fn evict(dir: &Path) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            evict(&entry.path())?;
            continue;
        }
        std::fs::File::open(entry.path())?.sync_all()?;
        let status = Command::new("dd")
            .arg(format!("if={}", entry.path().display()))
            .args(["iflag=nocache", "count=0", "status=none"])
            .status()
            .context("running dd")?;
        if !status.success() {
            bail!("dd iflag=nocache failed on {}", entry.path().display());
        }
    }
    Ok(())
}

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if self.0.is_dir() {
            let _ = std::fs::remove_dir_all(&self.0);
        } else {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_unlabelled_series_only() {
        // A labelled series whose name extends an unlabelled one (built, so no such metric name is written down).
        let longer = format!("{}_total", "switchboard_recovery_records");
        let text = format!(
            "# TYPE switchboard_recovery_seconds gauge\nswitchboard_recovery_seconds 1.25\n\
             switchboard_recovery_records 42\n{longer}{{x=\"y\"}} 3\n"
        );
        let text = text.as_str();
        assert_eq!(metric(text, "switchboard_recovery_seconds"), Some(1.25));
        assert_eq!(metric(text, "switchboard_recovery_records"), Some(42.0));
        assert_eq!(metric(text, "switchboard_log_bytes"), None);
    }

    #[test]
    fn summary_takes_medians_and_compares_with_the_empty_start() {
        let start = |case: &str, ready_s: f64, records: f64| Start {
            case: case.into(),
            ready_s,
            recovery_s: Some(ready_s / 2.0),
            recovery_records: Some(records),
            ..Start::default()
        };
        let starts = [
            start(BASELINE, 0.1, 0.0),
            start("big", 2.0, 100.0),
            start(BASELINE, 0.2, 0.0),
            start("big", 4.0, 100.0),
            start(BASELINE, 0.3, 0.0),
            start("big", 3.0, 100.0),
        ];
        let rows = summary(&[BASELINE, "big"], &starts);
        assert_eq!(rows[0].ready_ratio, 1.0);
        assert_eq!(rows[1].ready_s, 3.0);
        assert!((rows[1].ready_ratio - 15.0).abs() < 1e-9);
        assert_eq!(rows[1].records_per_s, Some(100.0 / 1.5));
        assert_eq!(rows[0].records_per_s, None, "nothing replayed: no rate");
        assert_eq!((rows[1].ready_s_min, rows[1].ready_s_max), (2.0, 4.0));
    }
}
