//! The scenarios: relay (also the load under `metrics` and `soak`), assign, idle, timers.
//!
//! Each runs once against one target and returns a [`RunResult`]; `main` runs it
//! against the server and the baseline relay in alternation and prints ratios.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use futures_util::SinkExt as _;
use indicatif::{ProgressBar, ProgressStyle};
use switchboard_protocol::customer::CustomerCommand;
use switchboard_protocol::encode;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::Message;

use crate::clients::{self, Incoming, Kind, Names, Role, Run, SendOrder, Target};
use crate::net::{self, Sources, Ws};
use crate::pacer::{self, Schedule};
use crate::stats::{Better, Latency, RunResult, Sample};

/// How many connection attempts are in flight at once while setting up.
const CONNECT_CONCURRENCY: usize = 256;

/// Options every scenario shares.
#[derive(Clone, Debug)]
pub struct Common {
    pub names: Names,
    pub sources: Sources,
    pub progress: bool,
    /// `http://127.0.0.1:9090`: where the server's `/metrics` is.
    pub admin: Option<String>,
}

fn progress_bar(enabled: bool, length: u64, label: &str, unit: &str) -> ProgressBar {
    if !enabled {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(length);
    let template = format!("{{prefix:>10}} [{{elapsed_precise}}] {{wide_bar}} {{pos}}/{{len}} {unit} {{msg}}");
    let style = ProgressStyle::with_template(&template).expect("valid progress template");
    bar.set_style(style);
    bar.set_prefix(label.to_owned());
    bar
}

/// Connects `count` connections with bounded concurrency; `make(i)` builds one.
async fn connect_all<T, F, Fut>(count: usize, make: F) -> anyhow::Result<Vec<T>>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<T>> + Send + 'static,
{
    let limit = Arc::new(Semaphore::new(CONNECT_CONCURRENCY));
    let mut set = JoinSet::new();
    for index in 0..count {
        let permit = limit.clone().acquire_owned().await.expect("semaphore stays open");
        let future = make(index);
        set.spawn(async move {
            let result = future.await;
            drop(permit);
            (index, result)
        });
    }
    let mut slots: Vec<Option<T>> = (0..count).map(|_| None).collect();
    while let Some(joined) = set.join_next().await {
        let (index, result) = joined.context("connection task panicked")?;
        slots[index] = Some(result.with_context(|| format!("connection {index}"))?);
    }
    Ok(slots.into_iter().map(|slot| slot.expect("every slot filled")).collect())
}

/// Connects a customer and waits until it is assigned (server) or paired (baseline).
/// Returns the socket, its session id (0 on the baseline) and when the welcome came.
async fn connect_assigned_customer(
    target: &Target,
    common: &Common,
    index: usize,
    pair: &str,
    timeout: Duration,
) -> anyhow::Result<(Ws, u64, Instant)> {
    let path = clients::customer_path(target.kind, &common.names, index, pair);
    let mut ws = net::connect(&target.endpoint, &path, index, &common.sources).await?;
    let welcomed = Instant::now();
    let deadline = welcomed + timeout;
    let kind = target.kind;
    let mut session = 0;
    clients::read_until(&mut ws, deadline, |text| match clients::decode_for_customer(kind, text) {
        Incoming::Welcome { session: id, assigned } => {
            session = id;
            assigned.then_some(Ok(()))
        }
        Incoming::Assigned { .. } => Some(Ok(())),
        Incoming::Error { code } => Some(Err(anyhow::anyhow!("customer {index}: {code}"))),
        _ => None,
    })
    .await??;
    Ok((ws, session, welcomed))
}

/// Relay options (also used for the load under `metrics` and `soak`).
#[derive(Clone, Debug)]
pub struct RelayOptions {
    pub pairs: usize,
    pub rate: f64,
    pub duration: Duration,
    pub warmup: Duration,
    pub size: usize,
    /// `metrics`: GET `/metrics` this many times per second while the load runs.
    pub metrics_probe_rate: Option<f64>,
    /// `soak`: take a sample (RSS, window latency) this often.
    pub sample_every: Option<Duration>,
    /// `soak`: customers arriving (and leaving after `churn_hold`) per second besides the relay pairs.
    pub churn_rate: f64,
    pub churn_hold: Duration,
    /// `flood`: attackers beside the load, in the runs against the server slot only.
    pub attack: Option<crate::flood::AttackOptions>,
}

/// relay: `pairs` customers each in a session with one agent, sending chat
/// messages both ways at `rate` messages/s in total (half each way).
pub async fn relay(target: &Target, common: &Common, options: &RelayOptions) -> anyhow::Result<RunResult> {
    let mut result = RunResult::default();
    let run = Run::new(options.warmup, options.sample_every.is_some());
    let pairs = options.pairs;

    // Agents first (available), each in its own task from the start so that it
    // sees its sessions being assigned.
    let agents = connect_all(pairs, |i| {
        let (target, names, sources) = (target.clone(), common.names.clone(), common.sources.clone());
        async move { clients::connect_agent(&target, &names, i, &sources).await }
    })
    .await
    .context("connecting agents")?;
    let mut tasks = JoinSet::new();
    let mut agent_orders = Vec::with_capacity(pairs);
    let (assigned_tx, mut assigned_rx) = mpsc::unbounded_channel();
    for (index, ws) in agents.into_iter().enumerate() {
        let (tx, rx) = mpsc::unbounded_channel();
        agent_orders.push(tx);
        let assignments = Some((index, assigned_tx.clone()));
        tasks.spawn(clients::relay_connection(
            ws,
            target.kind,
            Role::Agent,
            options.size,
            run.clone(),
            rx,
            assignments,
        ));
    }
    drop(assigned_tx);

    let customers = connect_all(pairs, |i| {
        let (target, common) = (target.clone(), common.clone());
        async move {
            let (ws, _, _) =
                connect_assigned_customer(&target, &common, pairs + i, &format!("p{i}"), Duration::from_secs(30))
                    .await?;
            Ok(ws)
        }
    })
    .await
    .context("connecting customers")?;
    let mut customer_orders = Vec::with_capacity(pairs);
    for ws in customers {
        let (tx, rx) = mpsc::unbounded_channel();
        customer_orders.push(tx);
        tasks.spawn(clients::relay_connection(ws, target.kind, Role::Customer, options.size, run.clone(), rx, None));
    }

    // Every session has reached its agent before the clock starts; the agents'
    // replies go to the sessions in turn, each sent by the agent who holds it.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut owners: Vec<(usize, u64)> = Vec::with_capacity(pairs);
    while owners.len() < pairs {
        match tokio::time::timeout_at(deadline.into(), assigned_rx.recv()).await {
            Ok(Some(owner)) => owners.push(owner),
            Ok(None) | Err(_) => break,
        }
    }
    if owners.len() < pairs {
        result.note(format!("only {} of {pairs} sessions reached an agent before the start", owners.len()));
    }
    anyhow::ensure!(!owners.is_empty(), "no session reached an agent");
    let per_agent = {
        let mut counts = HashMap::new();
        for (agent, _) in &owners {
            *counts.entry(*agent).or_insert(0usize) += 1;
        }
        counts.values().copied().max().unwrap_or(0)
    };
    if per_agent > 1 {
        result.note(format!("sessions were not spread one per agent: up to {per_agent} on one agent"));
    }

    let start = Instant::now() + Duration::from_millis(50);
    let epoch_offset_ns = start.duration_since(run.epoch).as_nanos() as u64;
    let schedule = Schedule::new(start, options.rate, options.warmup + options.duration);
    let stop = Arc::new(AtomicBool::new(false));
    // The order channels stay open (held here too) until the drain is over, so no
    // connection closes while messages to it are still in flight.
    let customer_orders = Arc::new(customer_orders);
    let agent_orders = Arc::new(agent_orders);
    let epoch = run.epoch;
    let (pacer_customers, pacer_agents) = (customer_orders.clone(), agent_orders.clone());
    let pacer = pacer::spawn(schedule, stop.clone(), move |k, due| {
        let intended_ns = due.duration_since(epoch).as_nanos() as u64;
        let slot = (k / 2) as usize;
        if k % 2 == 0 {
            let _ = pacer_customers[slot % pacer_customers.len()].send(SendOrder { intended_ns, session: 0 });
        } else {
            let (agent, session) = owners[slot % owners.len()];
            let _ = pacer_agents[agent].send(SendOrder { intended_ns, session });
        }
    });

    // Side tasks: /metrics probe, churn, soak samples, progress.
    let side_stop = Arc::new(AtomicBool::new(false));
    let harness = crate::procinfo::Process { pid: std::process::id() };
    let harness_cpu_before = harness.cpu_seconds();
    let cpu_before = target.process.and_then(|p| p.cpu_seconds());
    let rss_before = target.process.and_then(|p| p.rss_kib());
    // Only the server under test has its admin listener in --admin-url.
    let probe = match (options.metrics_probe_rate, target.slot, &common.admin) {
        (Some(rate), Kind::Server, Some(admin)) => {
            Some(tokio::spawn(probe_metrics(admin.clone(), rate, start, options.warmup, side_stop.clone())))
        }
        _ => None,
    };
    // flood: both runs read the attack counters of /metrics; only the server
    // slot's run has attackers (the baseline slot is the same server without them).
    let attack_before = match (&options.attack, &common.admin) {
        (Some(_), Some(admin)) => crate::flood::read_attack_series(admin).await,
        _ => None,
    };
    let attackers = match (&options.attack, target.slot) {
        (Some(attack), Kind::Server) => {
            Some(crate::flood::start(target, &common.names, &common.sources, attack, side_stop.clone()))
        }
        _ => None,
    };
    let churn = (options.churn_rate > 0.0).then(|| {
        tokio::spawn(churn(target.clone(), common.clone(), options.churn_rate, options.churn_hold, side_stop.clone()))
    });

    let total = options.warmup + options.duration;
    let bar =
        progress_bar(common.progress, total.as_millis() as u64, &format!("{:?}", target.slot).to_lowercase(), "ms");
    let mut samples = Vec::new();
    let mut next_sample = options.sample_every.map(|every| start + options.warmup + every);
    while !pacer.is_finished() {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let elapsed = Instant::now().saturating_duration_since(start);
        bar.set_position(elapsed.as_millis().min(total.as_millis()) as u64);
        bar.set_message(format!(
            "sent {} delivered {} errors {}",
            run.sent.load(Ordering::Relaxed),
            run.delivered.load(Ordering::Relaxed),
            run.errors.load(Ordering::Relaxed)
        ));
        if let (Some(at), Some(every)) = (next_sample, options.sample_every) {
            if Instant::now() >= at {
                // Sampling runs always keep a window (see Run::new above).
                let mut recorder = run.recorder.lock().unwrap_or_else(|p| p.into_inner());
                let window = recorder.window.as_mut().map(std::mem::take).unwrap_or_default();
                drop(recorder);
                let summary = window.summary("window");
                samples.push(Sample {
                    at_s: at.duration_since(start).as_secs_f64(),
                    rss_kib: target.process.and_then(|p| p.rss_kib()),
                    delivered: run.delivered.load(Ordering::Relaxed),
                    p50_ms: summary.p50_ms,
                    p99_ms: summary.p99_ms,
                    max_ms: summary.max_ms,
                });
                next_sample = Some(at + every);
            }
        }
    }
    let dispatched = pacer.join().map_err(|_| anyhow::anyhow!("pacer thread panicked"))?;
    bar.finish_and_clear();

    // Drain: wait until everything sent has arrived (or 3 s).
    let drain_deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let expected = run.sent.load(Ordering::Relaxed);
        if run.delivered.load(Ordering::Relaxed) >= expected || Instant::now() >= drain_deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let cpu_after = target.process.and_then(|p| p.cpu_seconds());
    let harness_cpu_after = harness.cpu_seconds();
    let rss_after = target.process.and_then(|p| p.rss_kib());
    side_stop.store(true, Ordering::Relaxed);
    stop.store(true, Ordering::Relaxed);

    let sent = run.sent.load(Ordering::Relaxed);
    let delivered = run.delivered.load(Ordering::Relaxed);
    let last_ns = run.last_delivery_ns.load(Ordering::Relaxed);
    let active_s = (last_ns.saturating_sub(epoch_offset_ns) as f64 / 1e9).max(total.as_secs_f64());
    let throughput = delivered as f64 / active_s;
    result.figure("offered rate", "msg/s", options.rate, Better::Higher);
    result.figure("delivered rate", "msg/s", throughput, Better::Higher);
    result.figure("delivered / sent", "%", 100.0 * delivered as f64 / sent.max(1) as f64, Better::Higher);
    if let (Some(before), Some(after)) = (cpu_before, cpu_after) {
        let cpu_ms = (after - before) * 1000.0;
        result.figure("server CPU", "ms/1000 msg", cpu_ms / (delivered.max(1) as f64 / 1000.0), Better::Lower);
        result.figure("server CPU use", "cores", (after - before) / active_s, Better::Lower);
    }
    if let (Some(before), Some(after)) = (harness_cpu_before, harness_cpu_after) {
        // The load generator shares the machine: its own share is part of the picture.
        result.figure("harness CPU use", "cores", (after - before) / active_s, Better::Lower);
    }
    if let Some(rss) = rss_after {
        result.figure("server RSS at end", "MiB", rss as f64 / 1024.0, Better::Lower);
    }
    if let (Some(before), Some(after)) = (rss_before, rss_after) {
        result.figure("server RSS growth", "MiB", (after as f64 - before as f64) / 1024.0, Better::Lower);
    }
    {
        let recorder = run.recorder.lock().unwrap_or_else(|p| p.into_inner());
        let mut both = recorder.to_agent.clone();
        both.merge(&recorder.to_customer);
        result.latency("relay latency (both ways)", &both);
        result.latency("customer -> agent", &recorder.to_agent);
        result.latency("agent -> customer", &recorder.to_customer);
        result.latency("harness send lag (intended -> written)", &recorder.send_lag);
    }
    let skipped = run.skipped.load(Ordering::Relaxed);
    let errors = run.errors.load(Ordering::Relaxed);
    let error_frames = run.error_frames.load(Ordering::Relaxed);
    result.note(format!(
        "{dispatched} sends scheduled, {sent} sent, {delivered} delivered, {skipped} skipped (session no longer \
         with its agent), {errors} connection errors, {error_frames} error frames"
    ));

    if let Some(probe) = probe {
        let (latency, failures) = probe.await?;
        result.latency("GET /metrics", &latency);
        if failures > 0 {
            result.note(format!("{failures} /metrics requests failed"));
        }
    }
    if let Some(churn) = churn {
        let (latency, failures) = churn.await?;
        result.latency("churn: join to assigned", &latency);
        if failures > 0 {
            result.note(format!("{failures} churn customers failed"));
        }
    }
    result.samples = samples;
    if options.attack.is_some() {
        let counters = match attackers {
            Some((counters, mut set)) => {
                let deadline = Instant::now() + Duration::from_secs(10);
                while tokio::time::timeout_at(deadline.into(), set.join_next()).await.ok().flatten().is_some() {}
                set.abort_all();
                counters
            }
            None => Arc::default(),
        };
        // Give the server a moment to count the last disconnects.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let after = match &common.admin {
            Some(admin) => crate::flood::read_attack_series(admin).await,
            None => None,
        };
        let delta = attack_before.zip(after).map(|(before, after)| std::array::from_fn(|i| after[i] - before[i]));
        crate::flood::report(&mut result, &counters, delta);
    }

    // Closing: dropping the last order senders ends every connection task.
    drop(customer_orders);
    drop(agent_orders);
    let close_deadline = Instant::now() + Duration::from_secs(10);
    while tokio::time::timeout_at(close_deadline.into(), tasks.join_next()).await.ok().flatten().is_some() {}
    tasks.abort_all();
    Ok(result)
}

/// GET `/metrics` at a constant rate; latency from the intended start time.
async fn probe_metrics(
    admin: String,
    rate: f64,
    start: Instant,
    warmup: Duration,
    stop: Arc<AtomicBool>,
) -> (Latency, u64) {
    let mut latency = Latency::default();
    let mut failures = 0;
    let interval = Duration::from_secs_f64(1.0 / rate.max(0.1));
    let mut due = start + warmup;
    while !stop.load(Ordering::Relaxed) {
        tokio::time::sleep_until(due.into()).await;
        match http_get(&admin, "/metrics").await {
            Ok(body) if !body.is_empty() => latency.record(due.elapsed()),
            _ => failures += 1,
        }
        due += interval;
    }
    (latency, failures)
}

/// A minimal HTTP/1.1 GET (loopback admin port); returns the body.
pub async fn http_get(base: &str, path: &str) -> anyhow::Result<Vec<u8>> {
    let authority = base.trim_start_matches("http://").trim_end_matches('/');
    let endpoint = net::Endpoint::parse(&format!("ws://{authority}"))?;
    let mut stream = tokio::net::TcpStream::connect(endpoint.addr).await?;
    stream.set_nodelay(true)?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut response)).await??;
    let split = response.windows(4).position(|w| w == b"\r\n\r\n").context("no HTTP header end")?;
    let status = String::from_utf8_lossy(&response[..split]);
    anyhow::ensure!(status.starts_with("HTTP/1.1 200"), "{}", status.lines().next().unwrap_or_default());
    Ok(response[split + 4..].to_vec())
}

/// Customers arriving at `rate`/s, each leaving after `hold` (soak's churn).
async fn churn(target: Target, common: Common, rate: f64, hold: Duration, stop: Arc<AtomicBool>) -> (Latency, u64) {
    let interval = Duration::from_secs_f64(1.0 / rate);
    let mut due = Instant::now();
    let mut index = 1_000_000;
    let mut set = JoinSet::new();
    while !stop.load(Ordering::Relaxed) {
        tokio::time::sleep_until(due.into()).await;
        index += 1;
        let (target, common, intended) = (target.clone(), common.clone(), due);
        set.spawn(async move { one_customer_visit(&target, &common, index, intended, hold).await });
        due += interval;
    }
    let mut latency = Latency::default();
    let mut failures = 0;
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok(Ok(waited)) => latency.record(waited),
            _ => failures += 1,
        }
    }
    (latency, failures)
}

/// One customer: connect at `intended`, wait for assignment, stay `hold`, leave.
/// Returns the time from `intended` to assignment. On the baseline the "agent"
/// side of the pair is a second connection opened just before, and the time is
/// counted from when it is open (or from `intended` if that is later).
async fn one_customer_visit(
    target: &Target,
    common: &Common,
    index: usize,
    intended: Instant,
    hold: Duration,
) -> anyhow::Result<Duration> {
    let pair = format!("v{index}");
    let partner = match target.kind {
        Kind::Baseline => Some(
            net::connect(
                &target.endpoint,
                &clients::agent_path(Kind::Baseline, &common.names, 0, &pair),
                index,
                &common.sources,
            )
            .await?,
        ),
        Kind::Server => None,
    };
    // On the server the agents are connected beforehand; the baseline's "agent"
    // is the partner opened just now, so its clock starts once the partner is in.
    let start = match target.kind {
        Kind::Server => intended,
        Kind::Baseline => intended.max(Instant::now()),
    };
    let (ws, _, _) = connect_assigned_customer(target, common, index, &pair, Duration::from_secs(30)).await?;
    let waited = start.elapsed();
    tokio::time::sleep(hold).await;
    clients::leave_and_close(ws, target.kind).await;
    if let Some(partner) = partner {
        net::close(partner).await;
    }
    Ok(waited)
}

/// Assign options.
#[derive(Clone, Debug)]
pub struct AssignOptions {
    pub agents: usize,
    pub rate: f64,
    pub duration: Duration,
    pub hold: Duration,
    pub burst: usize,
}

/// assign: `agents` agents online; customers arriving at `rate`/s for `duration`
/// (each staying `hold`); then a burst of `burst` customers at once.
pub async fn assign(target: &Target, common: &Common, options: &AssignOptions) -> anyhow::Result<RunResult> {
    let mut result = RunResult::default();
    // The baseline pairs one to one: its "agents" are opened per customer, so
    // only the server gets a standing roster.
    let agents = match target.kind {
        Kind::Server => connect_all(options.agents, |i| {
            let (target, names, sources) = (target.clone(), common.names.clone(), common.sources.clone());
            async move { clients::connect_agent(&target, &names, i, &sources).await }
        })
        .await
        .context("connecting agents")?,
        Kind::Baseline => Vec::new(),
    };
    // Agents must keep reading (session_assigned, customer frames) or their queues fill.
    let agent_stop = Arc::new(AtomicBool::new(false));
    let mut agent_tasks = JoinSet::new();
    for ws in agents {
        agent_tasks.spawn(drain_until(ws, agent_stop.clone(), None));
    }

    // Steady arrivals: latency from the intended arrival time to `assigned`.
    let bar = progress_bar(common.progress, options.duration.as_millis() as u64, &format!("{:?}", target.slot), "ms");
    let schedule = Schedule::new(Instant::now() + Duration::from_millis(50), options.rate, options.duration);
    let (tx, mut rx) = mpsc::unbounded_channel::<(u64, Instant)>();
    let pacer = pacer::spawn(schedule, Arc::default(), move |k, due| {
        let _ = tx.send((k, due));
    });
    let mut visits = JoinSet::new();
    let started = Instant::now();
    while let Some((k, due)) = rx.recv().await {
        let (target, common, hold) = (target.clone(), common.clone(), options.hold);
        visits.spawn(async move { one_customer_visit(&target, &common, k as usize, due, hold).await });
        bar.set_position(started.elapsed().as_millis() as u64);
    }
    pacer.join().map_err(|_| anyhow::anyhow!("pacer thread panicked"))?;
    let mut steady = Latency::default();
    let mut failures = 0u64;
    while let Some(joined) = visits.join_next().await {
        match joined {
            Ok(Ok(waited)) => steady.record(waited),
            Ok(Err(error)) => {
                if failures == 0 {
                    result.note(format!("first failed arrival: {error:#}"));
                }
                failures += 1;
            }
            Err(_) => failures += 1,
        }
    }
    bar.finish_and_clear();
    result.latency("arrival to assigned (steady)", &steady);
    result.figure("arrivals", "/s", options.rate, Better::Higher);
    result.figure("failed arrivals", "", failures as f64, Better::Lower);

    // Burst: all at once; on the baseline the partners connect first.
    if options.burst > 0 {
        let partners = match target.kind {
            Kind::Baseline => connect_all(options.burst, |i| {
                let (target, common) = (target.clone(), common.clone());
                async move {
                    let path = clients::agent_path(Kind::Baseline, &common.names, 0, &format!("b{i}"));
                    net::connect(&target.endpoint, &path, i, &common.sources).await
                }
            })
            .await
            .context("connecting the baseline's partners")?,
            Kind::Server => Vec::new(),
        };
        let t0 = Instant::now();
        let mut set = JoinSet::new();
        for i in 0..options.burst {
            let (target, common) = (target.clone(), common.clone());
            set.spawn(async move {
                let (ws, _, welcomed) =
                    connect_assigned_customer(&target, &common, 500_000 + i, &format!("b{i}"), Duration::from_secs(30))
                        .await?;
                let assigned = Instant::now();
                Ok::<_, anyhow::Error>((ws, welcomed, assigned))
            });
        }
        let mut from_burst = Latency::default();
        let mut from_welcome = Latency::default();
        let mut last = t0;
        let mut burst_failures = 0u64;
        let mut sockets = Vec::with_capacity(options.burst);
        while let Some(joined) = set.join_next().await {
            match joined {
                Ok(Ok((ws, welcomed, assigned))) => {
                    from_burst.record(assigned - t0);
                    from_welcome.record(assigned - welcomed);
                    last = last.max(assigned);
                    sockets.push(ws);
                }
                Ok(Err(error)) => {
                    if burst_failures == 0 {
                        result.note(format!("first failed burst customer: {error:#}"));
                    }
                    burst_failures += 1;
                }
                Err(_) => burst_failures += 1,
            }
        }
        result.figure("burst size", "customers", options.burst as f64, Better::Higher);
        result.figure("burst drained in", "ms", (last - t0).as_secs_f64() * 1000.0, Better::Lower);
        result.figure("burst failures", "", burst_failures as f64, Better::Lower);
        result.latency("burst: start to assigned", &from_burst);
        result.latency("burst: welcome to assigned", &from_welcome);
        close_all(sockets, target.kind).await;
        close_all(partners, Kind::Baseline).await;
    }
    agent_stop.store(true, Ordering::Relaxed);
    while agent_tasks.join_next().await.is_some() {}
    Ok(result)
}

/// Keeps reading a socket (discarding frames) until `stop`, then closes it
/// (a customer's after leaving its chat: `customer` is then the target's kind).
async fn drain_until(mut ws: Ws, stop: Arc<AtomicBool>, customer: Option<Kind>) {
    use futures_util::StreamExt as _;
    while !stop.load(Ordering::Relaxed) {
        match tokio::time::timeout(Duration::from_millis(100), ws.next()).await {
            Ok(Some(Ok(_))) | Err(_) => {}
            Ok(Some(Err(_))) | Ok(None) => return,
        }
    }
    match customer {
        Some(kind) => clients::leave_and_close(ws, kind).await,
        None => net::close(ws).await,
    }
}

/// Closes customers' sockets (leaving first on the server).
async fn close_all(sockets: Vec<Ws>, kind: Kind) {
    let mut set = JoinSet::new();
    for ws in sockets {
        set.spawn(clients::leave_and_close(ws, kind));
    }
    while set.join_next().await.is_some() {}
}

/// Idle options.
#[derive(Clone, Debug)]
pub struct IdleOptions {
    pub connections: usize,
    pub settle: Duration,
}

/// idle: hold `connections` idle customer connections; memory per connection
/// from the server's RSS before and after.
pub async fn idle(target: &Target, common: &Common, options: &IdleOptions) -> anyhow::Result<RunResult> {
    let mut result = RunResult::default();
    let process = target.process.context("idle needs the server's process (pid) to read its RSS")?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = process.rss_kib().context("reading RSS")?;
    let t0 = Instant::now();
    let bar = progress_bar(common.progress, options.connections as u64, &format!("{:?}", target.slot), "connections");
    let opened = Arc::new(AtomicU64::new(0));
    let sockets = connect_all(options.connections, |i| {
        let (target, common, opened, bar) = (target.clone(), common.clone(), opened.clone(), bar.clone());
        async move {
            // No pair key on the baseline: held, never paired.
            let path = match target.kind {
                Kind::Server => clients::customer_path(Kind::Server, &common.names, i, ""),
                Kind::Baseline => "/idle".to_owned(),
            };
            let ws = net::connect(&target.endpoint, &path, i, &common.sources).await?;
            bar.set_position(opened.fetch_add(1, Ordering::Relaxed) + 1);
            Ok(ws)
        }
    })
    .await
    .context("opening idle connections")?;
    let connect_time = t0.elapsed();
    bar.finish_and_clear();
    // Let the server finish its per-connection setup (welcome, queue position...).
    let stop = Arc::new(AtomicBool::new(false));
    let mut readers = JoinSet::new();
    for ws in sockets {
        readers.spawn(drain_until(ws, stop.clone(), Some(target.kind)));
    }
    tokio::time::sleep(options.settle).await;
    let after = process.rss_kib().context("reading RSS")?;
    let alive = readers.len();
    stop.store(true, Ordering::Relaxed);
    while readers.join_next().await.is_some() {}
    let per_connection = (after as f64 - before as f64) / options.connections as f64;
    result.figure("connections", "", options.connections as f64, Better::Higher);
    result.figure("still open after settle", "", alive as f64, Better::Higher);
    result.figure("RSS before", "MiB", before as f64 / 1024.0, Better::Lower);
    result.figure("RSS with connections", "MiB", after as f64 / 1024.0, Better::Lower);
    result.figure("RSS per connection", "KiB", per_connection, Better::Lower);
    result.figure("connect rate", "conn/s", options.connections as f64 / connect_time.as_secs_f64(), Better::Higher);
    Ok(result)
}

/// Timers options.
#[derive(Clone, Debug)]
pub struct TimerOptions {
    pub sessions: usize,
    /// Business milliseconds per real millisecond (the server's `clock.scale`).
    pub clock_scale: f64,
    pub warning_ms: f64,
    pub violation_ms: f64,
}

/// timers: `sessions` customers each send one message that their agent never
/// answers; how far from due the 1-minute warning and 3-minute violation land.
pub async fn timers(target: &Target, common: &Common, options: &TimerOptions) -> anyhow::Result<RunResult> {
    use futures_util::StreamExt as _;
    let mut result = RunResult::default();
    if target.kind == Kind::Baseline {
        result.note("the baseline relay has no timers: not applicable");
        return Ok(result);
    }
    let agents = connect_all(options.sessions, |i| {
        let (target, names, sources) = (target.clone(), common.names.clone(), common.sources.clone());
        async move { clients::connect_agent(&target, &names, i, &sources).await }
    })
    .await
    .context("connecting agents")?;
    // Agents report (session, violation, arrival time) of every timer frame.
    let (timer_tx, mut timer_rx) = mpsc::unbounded_channel::<(u64, bool, Instant, u64)>();
    let stop = Arc::new(AtomicBool::new(false));
    let mut agent_tasks = JoinSet::new();
    for mut ws in agents {
        let (timer_tx, stop) = (timer_tx.clone(), stop.clone());
        agent_tasks.spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                match tokio::time::timeout(Duration::from_millis(100), ws.next()).await {
                    Ok(Some(Ok(Message::Text(text)))) => {
                        if let Incoming::Timer { session, violation, waited_ms } =
                            clients::decode_for_agent(Kind::Server, text.as_str())
                        {
                            let _ = timer_tx.send((session, violation, Instant::now(), waited_ms));
                        }
                    }
                    Ok(Some(Ok(_))) | Err(_) => {}
                    Ok(Some(Err(_))) | Ok(None) => return,
                }
            }
            net::close(ws).await;
        });
    }
    drop(timer_tx);

    // Customers: join, get assigned, send one message; remember when.
    let customers = connect_all(options.sessions, |i| {
        let (target, common) = (target.clone(), common.clone());
        async move {
            let (ws, session, _) = connect_assigned_customer(&target, &common, i, "", Duration::from_secs(30)).await?;
            Ok((ws, session))
        }
    })
    .await
    .context("connecting customers")?;
    let mut sent_at: HashMap<u64, Instant> = HashMap::new();
    let mut sockets = Vec::with_capacity(customers.len());
    for (mut ws, session) in customers {
        let command = CustomerCommand::Message {
            attachment: None,
            id: clients::unique_id("q"),
            text: "where is my parcel?".into(),
        };
        ws.send(Message::text(encode(&command))).await.context("sending the unanswered message")?;
        sent_at.insert(session, Instant::now());
        sockets.push(ws);
    }
    // Customers keep reading (acks, queue updates) in the background.
    let mut customer_tasks = JoinSet::new();
    for ws in sockets {
        customer_tasks.spawn(drain_until(ws, stop.clone(), Some(Kind::Server)));
    }

    let real_ms = |business_ms: f64| business_ms / options.clock_scale;
    let deadline = Instant::now() + Duration::from_secs_f64(real_ms(options.violation_ms) / 1000.0 + 5.0);
    let mut warning_late = Latency::default();
    let mut violation_late = Latency::default();
    let mut early = 0u64;
    let mut worst_early_ms = 0.0f64;
    let mut business_over = Latency::default();
    let (mut warnings, mut violations) = (0usize, 0usize);
    let bar = progress_bar(common.progress, 2 * options.sessions as u64, "server", "timer frames");
    while warnings + violations < 2 * options.sessions {
        bar.set_position((warnings + violations) as u64);
        let Ok(Some((session, violation, at, waited_ms))) =
            tokio::time::timeout_at(deadline.into(), timer_rx.recv()).await
        else {
            break;
        };
        let Some(sent) = sent_at.get(&session) else { continue };
        let due_business = if violation { options.violation_ms } else { options.warning_ms };
        let due = *sent + Duration::from_secs_f64(real_ms(due_business) / 1000.0);
        if at >= due {
            if violation { &mut violation_late } else { &mut warning_late }.record(at - due);
        } else {
            // Before due as seen by the client: the server's clock started at its
            // receipt of the message, slightly after our send.
            early += 1;
            worst_early_ms = worst_early_ms.max((due - at).as_secs_f64() * 1000.0);
            if violation { &mut violation_late } else { &mut warning_late }.record(Duration::ZERO);
        }
        business_over.record(Duration::from_millis(waited_ms.saturating_sub(due_business as u64)));
        if violation {
            violations += 1;
        } else {
            warnings += 1;
        }
    }
    bar.finish_and_clear();
    stop.store(true, Ordering::Relaxed);
    while agent_tasks.join_next().await.is_some() {}
    while customer_tasks.join_next().await.is_some() {}
    result.figure("sessions", "", options.sessions as f64, Better::Higher);
    result.figure("warnings received", "", warnings as f64, Better::Higher);
    result.figure("violations received", "", violations as f64, Better::Higher);
    result.figure("warning due after", "ms real", real_ms(options.warning_ms), Better::Lower);
    result.latency("1-minute warning: late by", &warning_late);
    result.latency("3-minute violation: late by", &violation_late);
    result.latency("server waited_ms past due (business ms)", &business_over);
    if early > 0 {
        result.note(format!(
            "{early} timer frames arrived before due as timed by the client (at most {worst_early_ms:.2} ms)"
        ));
    }
    Ok(result)
}
