//! switchboard-loadtest: simulated customers and agents over real WebSockets,
//! against a running Switchboard server and a bare baseline relay in the same
//! run (alternating), with open-loop sending and HDR latency histograms.
//!
//! See `docs/performance.md` and the README for how to run it.

mod clients;
mod flood;
mod genconfig;
mod gendata;
mod net;
mod pacer;
mod procinfo;
mod recovery;
mod report;
mod scenarios;
mod stats;

use std::io::{BufRead as _, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{bail, Context as _};
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::clients::{Kind, Names, Target};
use crate::net::{Endpoint, Sources};
use crate::report::{Report, RunRecord};
use crate::scenarios::Common;

/// Hard bounds: no run is longer, faster or bigger than this.
const MAX_DURATION: Duration = Duration::from_secs(600);
const MAX_RATE: f64 = 200_000.0;
const MAX_ROUNDS: usize = 10;

#[derive(Debug, Parser)]
#[command(name = "switchboard-loadtest", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Scenario,
}

#[derive(Debug, Subcommand)]
enum Scenario {
    /// Customers and agents in sessions exchanging chat messages at a set rate:
    /// messages/s, relay latency, server CPU per 1,000 messages.
    Relay {
        #[command(flatten)]
        common: CommonArgs,
        #[command(flatten)]
        relay: RelayArgs,
    },
    /// Agents online, customers arriving at a set rate, then a burst arriving at
    /// once: time from join to assignment, time to drain the burst.
    Assign {
        #[command(flatten)]
        common: CommonArgs,
        /// Agents online (roster ids PREFIX00000...; capacity comes from the server's config).
        #[arg(long, default_value_t = 500)]
        agents: usize,
        /// Customer arrivals per second.
        #[arg(long, default_value_t = 200.0)]
        rate: f64,
        /// Seconds of steady arrivals.
        #[arg(long, default_value_t = 10.0)]
        duration: f64,
        /// Seconds each arriving customer stays before leaving.
        #[arg(long, default_value_t = 1.0)]
        hold: f64,
        /// Customers arriving at once after the steady phase (0: no burst).
        #[arg(long, default_value_t = 2000)]
        burst: usize,
    },
    /// Hold N idle connections: server memory per connection from its RSS.
    Idle {
        #[command(flatten)]
        common: CommonArgs,
        /// Idle connections to open.
        #[arg(long, default_value_t = 10_000)]
        connections: usize,
        /// Seconds to wait after the last connect before reading RSS.
        #[arg(long, default_value_t = 2.0)]
        settle: f64,
    },
    /// With a scaled clock: how far 1-minute warnings and 3-minute violations land
    /// from their due time (server only; the baseline has no timers).
    Timers {
        #[command(flatten)]
        common: CommonArgs,
        /// Unanswered sessions (one agent each).
        #[arg(long, default_value_t = 200)]
        sessions: usize,
        /// The server's `clock.scale` (business time per real time).
        #[arg(long, default_value_t = 600.0)]
        clock_scale: f64,
        /// The server's `router.rules.reply_warning`, in business milliseconds.
        #[arg(long, default_value_t = 60_000.0)]
        warning_ms: f64,
        /// The server's `router.rules.reply_violation`, in business milliseconds.
        #[arg(long, default_value_t = 180_000.0)]
        violation_ms: f64,
    },
    /// Time to render `/metrics` while the relay load runs.
    Metrics {
        #[command(flatten)]
        common: CommonArgs,
        #[command(flatten)]
        relay: RelayArgs,
        /// `/metrics` requests per second.
        #[arg(long, default_value_t = 10.0)]
        probe_rate: f64,
    },
    /// A mix for a set duration (relay plus arriving and leaving customers):
    /// RSS and latency over time.
    Soak {
        #[command(flatten)]
        common: CommonArgs,
        #[command(flatten)]
        relay: RelayArgs,
        /// Customers arriving (and leaving after --churn-hold) per second besides the relay pairs.
        #[arg(long, default_value_t = 20.0)]
        churn_rate: f64,
        /// Seconds each churning customer stays.
        #[arg(long, default_value_t = 2.0)]
        churn_hold: f64,
        /// Seconds between samples.
        #[arg(long, default_value_t = 5.0)]
        sample_every: f64,
    },
    /// The relay load with a flooding customer (`--flood-rate` commands/s) and an
    /// agent that never reads beside it, against the same load without them on
    /// the same server (the "baseline" column), alternating: relay latency of
    /// everyone else, and what happened to the attackers.
    Flood {
        #[command(flatten)]
        common: CommonArgs,
        #[command(flatten)]
        relay: RelayArgs,
        #[command(flatten)]
        attack: AttackArgs,
    },
    /// Write a server config for load runs: one skill group and a roster of N agents.
    GenConfig(genconfig::GenConfigArgs),
    /// Write a realistic data_dir (input log and snapshots) without the network:
    /// agents, customers and their chats played through the server's session
    /// layer and logged as the server logs them. For measuring recovery.
    GenDataDir(gendata::GenDataDirArgs),
    /// Start the real server on data_dirs (and on an empty one, the baseline),
    /// in alternating rounds: time from spawn to /readyz 200, the server's
    /// switchboard_recovery_seconds, RSS after recovery, CPU steal.
    Recovery(recovery::RecoveryArgs),
}

/// What the baseline target speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum BaselineProtocol {
    /// The bare relay (`baseline-relay`): pairs sockets, no routing.
    Relay,
    /// Another Switchboard server (say, one with `storage.mode = "memory"`),
    /// spoken to with the real protocol like the server under test.
    Switchboard,
}

#[derive(Debug, Args, Clone)]
struct RelayArgs {
    /// Customer-agent pairs (each customer in a session with its own agent).
    #[arg(long, default_value_t = 1000)]
    pairs: usize,
    /// Chat messages per second, in total (half customer -> agent, half back).
    #[arg(long, default_value_t = 20_000.0)]
    rate: f64,
    /// Seconds measured (after the warm-up).
    #[arg(long, default_value_t = 20.0)]
    duration: f64,
    /// Seconds of warm-up, sent at the same rate but not recorded.
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,
    /// Bytes of chat text per message.
    #[arg(long, default_value_t = 100)]
    size: usize,
}

#[derive(Debug, Args, Clone)]
struct AttackArgs {
    /// Commands per second from the flooding customer.
    #[arg(long, default_value_t = 10_000.0)]
    flood_rate: f64,
    /// Customers writing to the agent that never reads.
    #[arg(long, default_value_t = 20)]
    peers: usize,
    /// Messages per second from each of them (keep it under the server's `gateway.message_rate`).
    #[arg(long, default_value_t = 15.0)]
    peer_rate: f64,
    /// Characters of text per message from each of them (at most the server's
    /// `router.rules.message_max_chars`, 5,000 by default).
    #[arg(long, default_value_t = 4_800)]
    peer_size: usize,
    /// The attackers' own skill group (`gen-config --attack-agents 1` writes it).
    #[arg(long, default_value = "attack")]
    attack_group: String,
    /// The non-reading agent is roster id PREFIX00000.
    #[arg(long, default_value = "lt-attack-")]
    attack_prefix: String,
}

#[derive(Debug, Args, Clone)]
struct CommonArgs {
    /// The server under load (loopback only): ws://HOST:PORT.
    #[arg(long, default_value = "ws://127.0.0.1:8080")]
    url: String,
    /// The server's admin listener, for /metrics.
    #[arg(long, default_value = "http://127.0.0.1:9090")]
    admin_url: String,
    /// The baseline relay: `auto` (start `baseline-relay` from next to this
    /// binary), a ws:// URL of one already running, or `none`.
    #[arg(long, default_value = "auto")]
    baseline: String,
    /// What the baseline speaks: `relay` (the bare relay) or `switchboard` (a
    /// second Switchboard server at the --baseline URL, with the same roster
    /// and group: compare two configurations of the server in one run).
    #[arg(long, value_enum, default_value_t = BaselineProtocol::Relay)]
    baseline_protocol: BaselineProtocol,
    /// The baseline's process id (default: found from the port it listens on).
    #[arg(long)]
    baseline_pid: Option<u32>,
    /// Measure only the baseline (no server needed; for smoke tests).
    #[arg(long)]
    baseline_only: bool,
    /// Rounds; each runs the server and the baseline once, alternating which goes first.
    #[arg(long, default_value_t = 1)]
    rounds: usize,
    /// Write the report as JSON to this file too.
    #[arg(long)]
    json: Option<PathBuf>,
    /// The server's process id (default: found from the port it listens on).
    #[arg(long)]
    server_pid: Option<u32>,
    /// Spread client sockets over this many loopback source addresses (127.0.1.1...).
    #[arg(long, default_value_t = 1)]
    source_ips: u32,
    /// The first source address to use, as a number: 0 is 127.0.1.1, 250 is 127.0.2.1
    /// (give each of several harness processes its own addresses).
    #[arg(long, default_value_t = 0)]
    source_first: u32,
    /// The skill group customers join (the server's config must have it).
    #[arg(long, default_value = "load")]
    group: String,
    /// Agents are roster ids PREFIX00000, PREFIX00001...
    #[arg(long, default_value = "lt-agent-")]
    agent_prefix: String,
    /// The server's config (as `gen-config` wrote it): agents connect with
    /// tokens signed by its `[auth] secret`.
    #[arg(long)]
    server_config: Option<PathBuf>,
    /// The server's `[auth] secret`, if not read from --server-config.
    #[arg(long, env = "SWITCHBOARD_AUTH__SECRET", hide_env_values = true)]
    auth_secret: Option<String>,
    /// Seconds to pause between runs so the previous one's sockets are gone.
    #[arg(long, default_value_t = 2.0)]
    pause: f64,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

/// What signs the agents' tokens: --auth-secret, else the server config's `[auth] secret`.
fn agent_tokens(args: &CommonArgs) -> anyhow::Result<Option<clients::AgentTokens>> {
    if let Some(secret) = &args.auth_secret {
        return Ok(Some(clients::AgentTokens::new(secret.as_bytes())));
    }
    let Some(path) = &args.server_config else { return Ok(None) };
    let config = switchboard_server::config::Config::load(Some(path), std::env::vars())
        .with_context(|| format!("--server-config {}", path.display()))?;
    let secret = config
        .auth
        .secret
        .with_context(|| format!("--server-config {}: no [auth] secret to sign agents' tokens with", path.display()))?;
    Ok(Some(clients::AgentTokens::new(secret.0.as_bytes())))
}

fn main() -> anyhow::Result<()> {
    // Every argument is checked here, before any target is started: a bad value
    // ends the process with an error instead of showing up as failed runs.
    let plan = match Cli::parse().command {
        Scenario::GenConfig(args) => return genconfig::run(&args),
        Scenario::GenDataDir(args) => return gendata::run(&args),
        Scenario::Recovery(args) => return recovery::run(&args),
        scenario => Plan::new(scenario)?,
    };
    tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(run(plan))
}

/// A scenario's validated options: what [`run_once`] hands to `scenarios`.
#[derive(Debug)]
enum Options {
    /// `relay`, and the relay load under `metrics` and `soak`.
    Relay(scenarios::RelayOptions),
    Assign(scenarios::AssignOptions),
    Idle(scenarios::IdleOptions),
    Timers(scenarios::TimerOptions),
}

/// What to run, made from the command line before anything starts.
#[derive(Debug)]
struct Plan {
    name: &'static str,
    common: CommonArgs,
    options: Options,
    /// Connections the scenario needs at its peak in this process.
    connections: usize,
    /// Between runs.
    pause: Duration,
}

impl Plan {
    fn new(scenario: Scenario) -> anyhow::Result<Plan> {
        let (name, common, options, connections) = match scenario {
            Scenario::Relay { common, relay } => {
                ("relay", common, Options::Relay(relay_options(&relay)?), 2 * relay.pairs)
            }
            Scenario::Metrics { common, relay, probe_rate } => {
                let mut options = relay_options(&relay)?;
                options.metrics_probe_rate = Some(rate("probe-rate", probe_rate)?);
                ("metrics", common, Options::Relay(options), 2 * relay.pairs)
            }
            Scenario::Soak { common, relay, churn_rate, churn_hold, sample_every } => {
                let mut options = relay_options(&relay)?;
                options.churn_rate = if churn_rate > 0.0 { rate("churn-rate", churn_rate)? } else { 0.0 };
                options.churn_hold = seconds("churn-hold", churn_hold)?;
                let every = seconds("sample-every", sample_every)?;
                options.sample_every = Some(every.max(Duration::from_millis(500)));
                let connections = 2 * relay.pairs + 2 * (churn_rate * (churn_hold + 1.0)).ceil() as usize;
                ("soak", common, Options::Relay(options), connections)
            }
            Scenario::Flood { common, relay, attack } => {
                let mut options = relay_options(&relay)?;
                if attack.peers == 0 || attack.peers > 1000 {
                    bail!("--peers must be 1 to 1000");
                }
                if attack.peer_size > 60_000 {
                    bail!("--peer-size must stay under the 64 KiB frame limit");
                }
                options.attack = Some(flood::AttackOptions {
                    flood_rate: rate("flood-rate", attack.flood_rate)?,
                    peers: attack.peers,
                    peer_rate: rate("peer-rate", attack.peer_rate)?,
                    peer_size: attack.peer_size,
                    group: attack.attack_group,
                    agent_prefix: attack.attack_prefix,
                });
                if common.baseline != "auto" || common.baseline_only {
                    bail!("flood compares the server with and without attackers: --baseline and --baseline-only do not apply");
                }
                // Pairs, the non-reader, its peers, the flooder (and its next connection).
                let connections = 2 * relay.pairs + attack.peers + 3;
                ("flood", common, Options::Relay(options), connections)
            }
            Scenario::Assign { common, agents, rate: arrivals, duration, hold, burst } => {
                let options = scenarios::AssignOptions {
                    agents,
                    rate: rate("rate", arrivals)?,
                    duration: seconds("duration", duration)?,
                    hold: seconds("hold", hold)?,
                    burst,
                };
                let connections = (agents + 2 * (arrivals * (hold + 1.0)).ceil() as usize).max(agents + 2 * burst);
                ("assign", common, Options::Assign(options), connections)
            }
            Scenario::Idle { common, connections, settle } => {
                let options = scenarios::IdleOptions { connections, settle: seconds("settle", settle)? };
                ("idle", common, Options::Idle(options), connections)
            }
            Scenario::Timers { common, sessions, clock_scale, warning_ms, violation_ms } => {
                if !(clock_scale.is_finite() && clock_scale > 0.0) {
                    bail!("--clock-scale must be positive");
                }
                for (flag, value) in [("warning-ms", warning_ms), ("violation-ms", violation_ms)] {
                    if !(value.is_finite() && value >= 0.0) {
                        bail!("--{flag} must be a non-negative number of business milliseconds");
                    }
                }
                // Too far out for a Duration is too far out for a bounded run.
                let real_violation =
                    Duration::try_from_secs_f64(violation_ms / clock_scale / 1000.0).unwrap_or(Duration::MAX);
                if real_violation > MAX_DURATION {
                    bail!(
                        "the violation would be due in {real_violation:?}: raise --clock-scale (and the server's clock.scale)"
                    );
                }
                let options = scenarios::TimerOptions { sessions, clock_scale, warning_ms, violation_ms };
                ("timers", common, Options::Timers(options), 2 * sessions)
            }
            Scenario::GenConfig(_) | Scenario::GenDataDir(_) | Scenario::Recovery(_) => {
                unreachable!("not a load scenario: main runs it directly")
            }
        };
        if common.rounds == 0 || common.rounds > MAX_ROUNDS {
            bail!("--rounds must be 1 to {MAX_ROUNDS}");
        }
        if common.baseline_only && common.baseline == "none" {
            bail!("nothing to measure: --baseline-only with --baseline none");
        }
        if common.baseline_protocol == BaselineProtocol::Switchboard {
            if matches!(common.baseline.as_str(), "auto" | "none") {
                bail!("--baseline-protocol switchboard needs --baseline ws://HOST:PORT (a running Switchboard server)");
            }
            if Endpoint::parse(&common.baseline).context("--baseline")?.addr
                == Endpoint::parse(&common.url).context("--url")?.addr
            {
                bail!("--baseline is the same server as --url");
            }
        }
        let authority = common.admin_url.trim_start_matches("http://");
        Endpoint::parse(&format!("ws://{authority}")).context("--admin-url")?;
        let pause = seconds("pause", common.pause)?;
        Ok(Plan { name, common, options, connections, pause })
    }
}

fn seconds(name: &str, value: f64) -> anyhow::Result<Duration> {
    if !(value.is_finite() && value >= 0.0) {
        bail!("--{name} must be a non-negative number of seconds");
    }
    let duration = Duration::from_secs_f64(value);
    if duration > MAX_DURATION {
        bail!("--{name} {value}: runs are bounded to {} s", MAX_DURATION.as_secs());
    }
    Ok(duration)
}

fn rate(name: &str, value: f64) -> anyhow::Result<f64> {
    if !(value.is_finite() && value > 0.0 && value <= MAX_RATE) {
        bail!("--{name} must be above 0 and at most {MAX_RATE}");
    }
    Ok(value)
}

fn relay_options(args: &RelayArgs) -> anyhow::Result<scenarios::RelayOptions> {
    if args.pairs == 0 {
        bail!("--pairs must be at least 1");
    }
    if args.size > 60_000 {
        bail!("--size must stay under the 64 KiB frame limit");
    }
    Ok(scenarios::RelayOptions {
        pairs: args.pairs,
        rate: rate("rate", args.rate)?,
        duration: seconds("duration", args.duration)?,
        warmup: seconds("warmup", args.warmup)?,
        size: args.size,
        metrics_probe_rate: None,
        sample_every: None,
        churn_rate: 0.0,
        churn_hold: Duration::ZERO,
        attack: None,
    })
}

/// The baseline relay process started by `--baseline auto`; killed on drop.
struct BaselineProcess {
    child: Child,
}

impl Drop for BaselineProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_baseline() -> anyhow::Result<(BaselineProcess, String)> {
    let exe = std::env::current_exe()?;
    let path = exe.with_file_name("baseline-relay");
    let mut child = Command::new(&path)
        .args(["--listen", "127.0.0.1:0", "--exit-with-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("starting {} (build it with cargo build -p switchboard-loadtest)", path.display()))?;
    let stdout = child.stdout.take().context("baseline stdout")?;
    let process = BaselineProcess { child };
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let addr = line.trim().strip_prefix("listening on ").with_context(|| format!("baseline said {line:?}"))?;
    Ok((process, format!("ws://{addr}")))
}

fn target(kind: Kind, slot: Kind, url: &str, pid: Option<u32>) -> anyhow::Result<Target> {
    let endpoint = Endpoint::parse(url)?;
    let process = match pid {
        Some(pid) => Some(procinfo::Process { pid }),
        None => procinfo::find_listener(endpoint.addr.port()),
    };
    if process.is_none() {
        eprintln!("note: could not find the process listening on {url}; CPU and RSS figures are left out");
    }
    Ok(Target { kind, slot, endpoint, process })
}

async fn run(plan: Plan) -> anyhow::Result<()> {
    let Plan { name, common: common_args, options, connections, pause } = plan;
    let sources = Sources::new(common_args.source_ips, common_args.source_first);
    net::check_connection_budget(connections, &sources)?;

    // Targets: the server (unless --baseline-only) and the baseline (unless none).
    let mut targets = Vec::new();
    if !common_args.baseline_only {
        targets.push(target(Kind::Server, Kind::Server, &common_args.url, common_args.server_pid)?);
    }
    let mut _baseline_process = None;
    match common_args.baseline.as_str() {
        // flood: the same server, without the attackers, is the baseline.
        _ if name == "flood" => {
            targets.push(target(Kind::Server, Kind::Baseline, &common_args.url, common_args.server_pid)?)
        }
        "none" => {}
        "auto" => {
            let (process, url) = start_baseline()?;
            targets.push(target(Kind::Baseline, Kind::Baseline, &url, Some(process.child.id()))?);
            _baseline_process = Some(process);
        }
        url => {
            let protocol = match common_args.baseline_protocol {
                BaselineProtocol::Relay => Kind::Baseline,
                BaselineProtocol::Switchboard => Kind::Server,
            };
            targets.push(target(protocol, Kind::Baseline, url, common_args.baseline_pid)?)
        }
    }
    let common = Common {
        names: Names {
            group: common_args.group.clone(),
            agent_prefix: common_args.agent_prefix.clone(),
            tokens: agent_tokens(&common_args)?,
        },
        sources,
        progress: !common_args.quiet,
        admin: Some(common_args.admin_url.clone()),
    };

    let mut report = Report::new(name, std::env::args().collect());
    for target in &targets {
        report.targets.push((target.slot, target.endpoint.base.clone()));
    }
    for round in 0..common_args.rounds {
        // Alternate which target goes first, so drift on a shared machine hits both.
        let mut order: Vec<&Target> = targets.iter().collect();
        if round % 2 == 1 {
            order.reverse();
        }
        for target in order {
            eprintln!(
                "round {} of {}: {name} against the {:?} at {}",
                round + 1,
                common_args.rounds,
                target.slot,
                target.endpoint.base
            );
            // A server that fell behind keeps working after its clients left:
            // do not start the next run (on either target) until both are idle.
            let waited = wait_until_idle(&targets).await;
            if waited > Duration::from_secs(1) {
                eprintln!("  waited {:.1} s for the targets to go idle", waited.as_secs_f64());
            }
            let load_before = load_average();
            let cpu_before = procinfo::MachineCpu::read();
            let result = run_once(&options, target, &common).await;
            let cpu_after = procinfo::MachineCpu::read();
            let load_after = load_average();
            let mut result = match result {
                Ok(result) => result,
                Err(error) => {
                    eprintln!("  failed: {error:#}");
                    let mut failed = stats::RunResult::default();
                    failed.note(format!("run failed: {error:#}"));
                    failed
                }
            };
            // Other work on a shared machine skews absolute figures: say how busy it was.
            result.note(format!(
                "machine load average (1 min) before {load_before} after {load_after}, on {} CPUs",
                std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0)
            ));
            // Steal: time the hypervisor gave this machine's vCPUs to someone else during the run.
            if let (Some(before), Some(after)) = (cpu_before, cpu_after) {
                let (ticks, percent) = before.steal_since(&after);
                result.figure("machine CPU steal during run", "%", percent, stats::Better::Lower);
                result.note(format!(
                    "/proc/stat steal {} -> {} ({ticks} ticks, {percent:.2}% of all CPU time)",
                    before.steal, after.steal
                ));
            }
            report.runs.push(RunRecord { round: round + 1, target: target.slot, result });
            tokio::time::sleep(pause).await;
        }
    }
    print!("{}", report.table());
    if let Some(path) = &common_args.json {
        std::fs::write(path, serde_json::to_string_pretty(&report.to_json())?)
            .with_context(|| format!("writing {}", path.display()))?;
        eprintln!("JSON report written to {}", path.display());
    }
    Ok(())
}

/// Waits (at most 30 s) until every target process uses under a tenth of a core
/// over half a second. Returns how long it waited.
async fn wait_until_idle(targets: &[Target]) -> Duration {
    let started = std::time::Instant::now();
    let processes: Vec<procinfo::Process> = targets.iter().filter_map(|t| t.process).collect();
    while started.elapsed() < Duration::from_secs(30) {
        let before: Vec<Option<f64>> = processes.iter().map(|p| p.cpu_seconds()).collect();
        tokio::time::sleep(Duration::from_millis(500)).await;
        let busy = processes.iter().zip(before).any(|(p, before)| match (before, p.cpu_seconds()) {
            (Some(before), Some(after)) => after - before > 0.05,
            _ => false,
        });
        if !busy {
            break;
        }
    }
    started.elapsed()
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".to_owned())
}

async fn run_once(options: &Options, target: &Target, common: &Common) -> anyhow::Result<stats::RunResult> {
    match options {
        Options::Relay(options) => scenarios::relay(target, common, options).await,
        Options::Assign(options) => scenarios::assign(target, common, options).await,
        Options::Idle(options) => scenarios::idle(target, common, options).await,
        Options::Timers(options) => scenarios::timers(target, common, options).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(args: &[&str]) -> anyhow::Result<Plan> {
        let cli = Cli::try_parse_from(std::iter::once("switchboard-loadtest").chain(args.iter().copied()))?;
        Plan::new(cli.command)
    }

    #[test]
    fn defaults_make_a_plan_for_every_scenario() {
        for scenario in ["relay", "assign", "idle", "timers", "metrics", "soak", "flood"] {
            let plan = plan(&[scenario]).unwrap_or_else(|error| panic!("{scenario}: {error:#}"));
            assert_eq!(plan.name, scenario);
            assert_eq!(plan.pause, Duration::from_secs(2));
        }
        // Peak connections: soak adds its churning customers, assign its burst.
        assert_eq!(plan(&["soak"]).unwrap().connections, 2 * 1000 + 2 * 60);
        assert_eq!(plan(&["assign"]).unwrap().connections, 500 + 2 * 2000);
        let Options::Relay(soak) = plan(&["soak", "--sample-every", "0"]).unwrap().options else {
            panic!("soak runs the relay load")
        };
        assert_eq!(soak.sample_every, Some(Duration::from_millis(500)));
    }

    #[test]
    fn another_server_of_ours_can_be_the_baseline() {
        let against_memory =
            plan(&["assign", "--baseline", "ws://127.0.0.1:18300", "--baseline-protocol", "switchboard"]).unwrap();
        assert_eq!(against_memory.common.baseline_protocol, BaselineProtocol::Switchboard);
        assert_eq!(plan(&["relay"]).unwrap().common.baseline_protocol, BaselineProtocol::Relay);
    }

    #[test]
    fn bad_values_are_refused_before_anything_runs() {
        let cases: &[(&[&str], &str)] = &[
            (&["relay", "--rate", "0"], "--rate"),
            (&["relay", "--pairs", "0"], "--pairs"),
            (&["relay", "--duration", "601"], "--duration"),
            (&["relay", "--pause=-1"], "--pause"),
            (&["relay", "--rounds", "0"], "--rounds"),
            (&["relay", "--baseline-only", "--baseline", "none"], "nothing to measure"),
            (&["relay", "--admin-url", "http://192.0.2.1:9090"], "--admin-url"),
            (&["metrics", "--probe-rate", "0"], "--probe-rate"),
            (&["flood", "--flood-rate", "0"], "--flood-rate"),
            (&["flood", "--peers", "0"], "--peers"),
            (&["flood", "--baseline", "none"], "do not apply"),
            (&["soak", "--churn-hold=-1"], "--churn-hold"),
            (&["assign", "--hold", "NaN"], "--hold"),
            (&["idle", "--settle", "inf"], "--settle"),
            (&["timers", "--clock-scale", "0"], "--clock-scale"),
            (&["timers", "--violation-ms=-5"], "--violation-ms"),
            (&["timers", "--clock-scale", "0.1"], "the violation would be due in"),
            (&["timers", "--clock-scale", "1e-300"], "the violation would be due in"),
            (&["relay", "--baseline-protocol", "switchboard"], "needs --baseline ws://"),
            (&["relay", "--baseline-protocol", "switchboard", "--baseline", "none"], "needs --baseline ws://"),
            (&["relay", "--baseline-protocol", "switchboard", "--baseline", "ws://127.0.0.1:8080"], "same server"),
            (&["relay", "--baseline-protocol", "switchboard", "--baseline", "ws://192.0.2.1:8080"], "--baseline"),
        ];
        for (args, expected) in cases {
            let error = match plan(args) {
                Ok(plan) => panic!("{args:?} was accepted: {plan:?}"),
                Err(error) => format!("{error:#}"),
            };
            assert!(error.contains(expected), "{args:?}: {error}");
        }
    }
}
