//! Switchboard server library: the router core and the gateway, driver and
//! metrics that put it on the network.
//!
//! [`run`] is the whole server (mini-redis style): `main.rs` only parses the
//! command line, loads the config, binds the listeners and passes a shutdown
//! signal. [`start`] does the same in the background and hands back the bound
//! addresses, for tests and embedding.

pub mod auth;
pub mod canned;
pub mod config;
pub mod content;
pub mod discipline;
pub mod driver;
pub mod files;
pub mod gateway;
pub mod journal;
pub mod metrics;
pub mod performance;
pub mod quality;
pub mod records;
pub mod reload;
pub mod session;
pub mod shifts;
pub mod tickets;
pub mod web;

/// The router core lives in its own crate (no tokio, no I/O: the compiler
/// enforces it); re-exported so that `crate::router::...` reads as before.
pub use switchboard_router as router;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch, Semaphore};
use tokio::task::JoinHandle;
use tracing::{info, warn};

use crate::config::Config;
use crate::driver::{Driver, DriverInput, DriverParts, Health};
use crate::gateway::AppState;
use crate::metrics::Metrics;

/// The two listeners: public (WebSockets, health) and admin (`/metrics`).
#[derive(Debug)]
pub struct Listeners {
    pub public: TcpListener,
    pub admin: TcpListener,
}

impl Listeners {
    /// Binds `config.listen` and `config.admin_listen` (backlog 4096).
    pub fn bind(config: &Config) -> anyhow::Result<Listeners> {
        let public =
            gateway::bind(config.listen).with_context(|| format!("cannot listen on {} (listen)", config.listen))?;
        let admin = gateway::bind(config.admin_listen)
            .with_context(|| format!("cannot listen on {} (admin_listen)", config.admin_listen))?;
        Ok(Listeners { public, admin })
    }
}

/// Test hooks that production leaves at their defaults.
#[derive(Clone, Debug, Default)]
pub struct TestHooks {
    /// Makes the input log's writes or syncs fail (disk full, I/O errors).
    pub storage_faults: switchboard_storage::Faults,
}

/// Runs the server until `shutdown` completes, then shuts down gracefully:
/// stop accepting, let the commands already received finish, make them
/// durable, tell every client (`shutdown` frame, close 1001), and wait for
/// connections to end, at most `config.shutdown_timeout`.
///
/// Before serving, it recovers the saved state from `storage.data_dir`
/// (snapshot, then log replay); a `data_dir` that cannot be used or resumed
/// is an error of type [`journal::recovery::RecoveryError`].
pub async fn run(
    config: Config,
    listeners: Listeners,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    serve(config, listeners, shutdown, TestHooks::default()).await
}

async fn serve(
    config: Config,
    listeners: Listeners,
    shutdown: impl Future<Output = ()> + Send,
    hooks: TestHooks,
) -> anyhow::Result<()> {
    let metrics = Metrics::new();
    // The records writer starts once recovery has opened the data_dir, and is fed the replay.
    let (opened, records) = {
        let config = config.clone();
        let mut records = records::RecordsStart::new(&config, &metrics);
        tokio::task::spawn_blocking(move || {
            journal::recovery::open_observed(&config, hooks.storage_faults, &mut records).map(|o| (o, records))
        })
        .await??
    };
    let (feeder, records_store, records_writer) = match records.into_started() {
        Some(records::Started { feeder, store, writer }) => (Some(feeder), Some(store), Some(writer)),
        None => (None, None, None),
    };
    // After recovery opened (and locked) the data_dir, where a generated secret lives.
    let auth = Arc::new(auth::Auth::new(&config, metrics.clone())?);
    // Chat receipts name this records origin: without records there is nothing to complain about.
    let receipts = match &records_store {
        Some(store) => Some(Arc::new(quality::receipt::Receipts::from_config(&config, store.origin())?)),
        None => None,
    };
    let health = Arc::new(Health::default());
    let (driver_tx, driver_rx) = mpsc::channel(config.gateway.driver_queue);
    let (stop_tx, stop_rx) = watch::channel(false);

    let driver = Driver::new(DriverParts {
        opened,
        scale: config.clock.scale,
        calendar: Arc::new(config.business_calendar()?),
        service_hours: config.service_hours(),
        snapshot_every: config.storage.snapshot_every,
        snapshot_interval: config.storage.snapshot_interval,
        metrics: metrics.clone(),
        health: health.clone(),
        records: feeder,
    });
    let first_conn = driver.first_conn_id();
    // Half the shutdown time to make what the driver holds durable; the rest for connections to close.
    let driver_task = tokio::spawn(driver.run(driver_rx, stop_rx.clone(), config.shutdown_timeout / 2));

    let max_connections = config.gateway.max_connections;
    let app = Arc::new(AppState {
        driver: driver_tx,
        metrics: metrics.clone(),
        gateway: config.gateway.clone(),
        next_conn: AtomicU64::new(first_conn),
        permits: Arc::new(Semaphore::new(max_connections)),
        health,
        origins: gateway::origin::AllowedOrigins::from_config(&config.gateway),
        per_ip: gateway::per_ip::PerIpConnections::new(config.gateway.max_connections_per_ip),
        identity: gateway::identity::IdentityVerifier::new(&config.customers),
        auth: auth.clone(),
        flood_cooldown: gateway::cooldown::FloodCooldown::new(config.gateway.flood_window),
        receipts: receipts.clone(),
    });

    let public_addr = listeners.public.local_addr()?;
    let admin_addr = listeners.admin.local_addr()?;
    let timeout = config.gateway.handshake_timeout;
    // The accept loop hands every handler the peer address: the per-IP cap's and the login rate limit's key.
    let tickets = tickets::http::public_routes(tickets::http::ApiParts {
        driver: app.driver.clone(),
        auth: auth.clone(),
        origins: gateway::origin::AllowedOrigins::from_config(&config.gateway),
        create_per_ip: config.tickets.create_per_ip,
    });
    let records = records::http::public_routes(records_store.clone(), auth.clone());
    let (shifts, discipline) = shifts_and_discipline(&config, records_store.clone(), &auth, &metrics).await;
    let quality = quality::http::public_routes(quality::http::QualityParts {
        store: records_store.clone(),
        auth: auth.clone(),
        receipts,
        driver: app.driver.clone(),
        origins: gateway::origin::AllowedOrigins::from_config(&config.gateway),
        metrics: metrics.clone(),
        groups: config.router.groups.iter().map(|g| g.id.to_string()).collect(),
        complaints_per_ip: config.quality.complaints_per_ip,
        discipline: discipline.clone(),
    });
    let canned = Arc::new(canned::http::CannedApi::new(&config, auth.clone()));
    let performance = performance::start(&config, records_store.clone(), auth.clone(), &metrics, stop_rx.clone())?;
    let public_routes = gateway::public_routes(app.clone())
        .merge(tickets)
        .merge(records)
        .merge(shifts::http::routes(shifts.clone()))
        .merge(discipline::http::routes(discipline.clone(), auth.clone()))
        .merge(quality)
        .merge(performance)
        .merge(canned::http::routes(canned.clone()))
        .merge(files_routes(&config, app.driver.clone(), auth.clone(), &metrics));
    let public = gateway::serve::serve(listeners.public, public_routes, timeout, stop_rx.clone());
    let mut reloader = reload::Reloader::new(&config, app.driver.clone(), auth.clone(), metrics.clone());
    reloader.also_reload(reload::Also { shifts, discipline, canned, store: records_store.clone() });
    let reloader = Arc::new(reloader);
    let admin_routes = gateway::admin_routes(metrics.clone(), auth.clone())
        .merge(reload::admin_routes(reloader.clone()))
        .merge(records::http::admin_routes(records_store, auth));
    let admin = gateway::serve::serve(listeners.admin, admin_routes, timeout, stop_rx.clone());
    if config.source.is_some() {
        reload::reload_on_sighup(reloader);
    }
    let public_task = tokio::spawn(public);
    let admin_task = tokio::spawn(admin);
    info!(%public_addr, %admin_addr, scale = config.clock.scale, storage = ?config.storage.mode, "switchboard listening");

    shutdown.await;
    info!("shutdown requested");
    app.health.accepting.store(false, Ordering::Relaxed);
    let _ = stop_tx.send(true);

    let deadline = tokio::time::Instant::now() + config.shutdown_timeout;
    let all_closed = async {
        let _ = driver_task.await;
        // Every open WebSocket holds a permit: all of them back means every connection ended.
        let _ = app.permits.acquire_many(max_connections as u32).await;
    };
    if tokio::time::timeout_at(deadline, all_closed).await.is_err() {
        warn!(
            open = max_connections - app.permits.available_permits(),
            "shutdown timeout: dropping the remaining connections"
        );
    }
    for task in [public_task, admin_task] {
        if let Ok(Err(e)) = tokio::time::timeout_at(deadline, task).await {
            warn!(error = %e, "listener task failed");
        }
    }
    // The driver is gone, and with it the records queue's sender: the writer writes (or spills) what is left.
    if let Some(writer) = records_writer {
        if tokio::time::timeout_at(deadline, writer).await.is_err() {
            warn!("shutdown timeout: the records writer had not finished; records still queued are lost");
        }
    }
    info!("stopped");
    Ok(())
}

/// The shifts API and the discipline task: the config's schedule written to
/// the records (a database that is down delays it to the next reload, never the start).
async fn shifts_and_discipline(
    config: &Config,
    store: Option<switchboard_records::Store>,
    auth: &Arc<auth::Auth>,
    metrics: &Metrics,
) -> (Arc<shifts::http::ShiftsApi>, Arc<discipline::Discipline>) {
    if let Some(store) = &store {
        shifts::sync_configured(config, store).await;
    }
    let discipline = Arc::new(discipline::Discipline::new(config, store.clone(), auth.clone(), metrics.clone()));
    discipline.spawn(config.discipline.recompute_every);
    let api = Arc::new(shifts::http::ShiftsApi::new(config, store, auth.clone(), discipline.clone()));
    (api, discipline)
}

/// A server running in the background (see [`start`]).
#[derive(Debug)]
pub struct RunningServer {
    pub public_addr: SocketAddr,
    pub admin_addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl RunningServer {
    /// Triggers a graceful shutdown and waits for it.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.task).await?
    }
}

/// Binds the configured listeners (port 0 picks a free port) and runs the server in the background.
pub async fn start(config: Config) -> anyhow::Result<RunningServer> {
    start_with(config, TestHooks::default()).await
}

/// [`start`] with test hooks (fault injection).
pub async fn start_with(config: Config, hooks: TestHooks) -> anyhow::Result<RunningServer> {
    let listeners = Listeners::bind(&config)?;
    let public_addr = listeners.public.local_addr()?;
    let admin_addr = listeners.admin.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(serve(
        config,
        listeners,
        async move {
            let _ = stopped.await;
        },
        hooks,
    ));
    Ok(RunningServer { public_addr, admin_addr, stop: Some(stop), task })
}

/// The files API (docs/files.md), with files kept under `files.dir` or `files/` in the data_dir.
fn files_routes(
    config: &Config,
    driver: mpsc::Sender<DriverInput>,
    auth: Arc<auth::Auth>,
    metrics: &Metrics,
) -> axum::Router {
    let dir = config.files.dir.clone().unwrap_or_else(|| config.storage.data_dir.join("files"));
    files::http::routes(files::http::FilesParts {
        driver,
        auth,
        store: Arc::new(files::store::DiskStore::new(dir)),
        metrics: metrics.clone(),
        origins: gateway::origin::AllowedOrigins::from_config(&config.gateway),
        max_bytes: config.files.max_bytes,
    })
}
