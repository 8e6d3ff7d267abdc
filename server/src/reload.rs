//! Reloading the config file while running: on SIGHUP, or `POST
//! /v1/admin/reload` on the admin listener with an admin's token.
//!
//! A reload reads the file (and the `SWITCHBOARD_*` environment) again and
//! applies what can change under live chats: the roster (agents added,
//! changed, removed; passwords and roles), `router.rules`, and the business
//! calendar with each group's `service_hours` (groups open or close at once). It is logged
//! like any input, so a restart or a replay sees the same roster. The skill
//! groups cannot change this way (refused: restart on a fresh `data_dir`);
//! every other setting is checked but takes effect at the next restart.
//! A removed agent, or one whose role changed, is disconnected at once.

use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Json;
use serde::Serialize;
use tokio::sync::{mpsc, oneshot, Mutex};
use tracing::{info, warn};

use crate::auth::http::{admin, ApiError};
use crate::auth::Auth;
use crate::config::Config;
use crate::driver::{DriverInput, NotReconfigured};
use crate::metrics::{Metrics, CONFIG_RELOADS};

/// The admin endpoint.
pub const RELOAD_PATH: &str = "/v1/admin/reload";

/// Stable codes of a refused reload (the `code` of its `{code, message}` body).
pub mod code {
    /// The server was not started from a config file (embedded in a test or a program).
    pub const NO_CONFIG_FILE: &str = "no_config_file";
    /// The file cannot be read or does not validate: the message names the key.
    pub const BAD_CONFIG: &str = "bad_config";
    /// The skill groups differ from the running ones.
    pub const GROUPS_CHANGED: &str = "groups_changed";
    /// The server is shutting down, or cannot log the change right now.
    pub const NOT_APPLIED: &str = "not_applied";
}

/// What a reload changed, as the admin endpoint answers it.
#[derive(Debug, Serialize)]
pub struct Reloaded {
    pub agents_added: Vec<String>,
    pub agents_changed: Vec<String>,
    pub agents_removed: Vec<String>,
    pub rules_changed: bool,
}

/// Why a reload changed nothing.
#[derive(Debug)]
pub struct ReloadRefused {
    pub code: &'static str,
    pub message: String,
}

/// Everything a reload touches. One reload at a time.
#[derive(Debug)]
pub struct Reloader {
    source: Option<PathBuf>,
    driver: mpsc::Sender<DriverInput>,
    auth: Arc<Auth>,
    metrics: Metrics,
    one_at_a_time: Mutex<()>,
    also: Option<Also>,
}

/// Parts that take a reloaded config too: shifts (the schedule, the roster) and discipline.
#[derive(Debug)]
pub struct Also {
    pub shifts: Arc<crate::shifts::http::ShiftsApi>,
    pub discipline: Arc<crate::discipline::Discipline>,
    pub canned: Arc<crate::canned::http::CannedApi>,
    pub store: Option<switchboard_records::Store>,
}

impl Reloader {
    pub fn new(config: &Config, driver: mpsc::Sender<DriverInput>, auth: Arc<Auth>, metrics: Metrics) -> Reloader {
        Reloader { source: config.source.clone(), driver, auth, metrics, one_at_a_time: Mutex::new(()), also: None }
    }

    pub fn also_reload(&mut self, also: Also) {
        self.also = Some(also);
    }

    /// Reads the config again and applies it, or changes nothing and says why.
    pub async fn reload(&self) -> Result<Reloaded, ReloadRefused> {
        let _one = self.one_at_a_time.lock().await;
        let result = self.apply().await;
        let outcome = if result.is_ok() { "applied" } else { "refused" };
        self.metrics.counter(CONFIG_RELOADS, &[("outcome", outcome)]).increment(1);
        match &result {
            Ok(r) => info!(
                added = ?r.agents_added, changed = ?r.agents_changed, removed = ?r.agents_removed,
                rules_changed = r.rules_changed, "config reloaded"
            ),
            Err(e) => warn!(code = e.code, problem = %e.message, "config reload refused: nothing changed"),
        }
        result
    }

    async fn apply(&self) -> Result<Reloaded, ReloadRefused> {
        let refused = |code, message: String| ReloadRefused { code, message };
        let path = self
            .source
            .as_deref()
            .ok_or_else(|| refused(code::NO_CONFIG_FILE, "the server was not started from a config file".to_owned()))?;
        let config = Config::load(Some(path), std::env::vars())
            .map_err(|e| refused(code::BAD_CONFIG, format!("{}: {e}", path.display())))?;
        let (reply, answer) = oneshot::channel();
        let stopped = || refused(code::NOT_APPLIED, "the server is shutting down".to_owned());
        self.driver
            .send(DriverInput::Reconfigure { config: Box::new(config.clone()), reply })
            .await
            .map_err(|_| stopped())?;
        let done = answer.await.map_err(|_| stopped())?.map_err(|why| match why {
            NotReconfigured::GroupsChanged(change) => refused(
                code::GROUPS_CHANGED,
                format!("{change}: skill groups change only at a restart on a fresh data_dir"),
            ),
            NotReconfigured::StorageDown => {
                refused(code::NOT_APPLIED, "the input log cannot be written right now; try again shortly".to_owned())
            }
        })?;
        // After the router: a removed agent's chats are already requeued when their connection closes.
        self.auth.replace_accounts(&config);
        if let Some(also) = &self.also {
            also.shifts.reconfigure(&config);
            also.discipline.reconfigure(&config);
            also.canned.reconfigure(&config);
            if let Some(store) = &also.store {
                crate::shifts::sync_configured(&config, store).await;
            }
        }
        let ids = |ids: Vec<crate::router::AgentId>| ids.into_iter().map(|id| id.to_string()).collect();
        Ok(Reloaded {
            agents_added: ids(done.roster.added),
            agents_changed: ids(done.roster.changed),
            agents_removed: ids(done.roster.removed),
            rules_changed: done.rules_changed,
        })
    }
}

/// `POST /v1/admin/reload` (admins only).
pub fn admin_routes(reloader: Arc<Reloader>) -> axum::Router {
    axum::Router::new().route(RELOAD_PATH, post(reload)).with_state(reloader)
}

async fn reload(State(reloader): State<Arc<Reloader>>, headers: HeaderMap) -> Response {
    if let Err(e) = admin(&reloader.auth, &headers) {
        return e.into_response();
    }
    match reloader.reload().await {
        Ok(done) => Json(done).into_response(),
        Err(e) => {
            let status = match e.code {
                code::NOT_APPLIED => StatusCode::SERVICE_UNAVAILABLE,
                code::GROUPS_CHANGED => StatusCode::CONFLICT,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            ApiError::new(status, e.code, e.message).into_response()
        }
    }
}

/// Reloads on every SIGHUP until the process ends (Unix only). The handler
/// is installed before this returns, so a SIGHUP sent once the server is up
/// never takes the default action (ending the process).
pub fn reload_on_sighup(reloader: Arc<Reloader>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let Ok(mut hangups) = signal(SignalKind::hangup()) else {
            warn!("cannot listen for SIGHUP: reload with POST /v1/admin/reload instead");
            return;
        };
        tokio::spawn(async move {
            while hangups.recv().await.is_some() {
                info!("SIGHUP: reloading the config");
                let _ = reloader.reload().await;
            }
        });
    }
    #[cfg(not(unix))]
    drop(reloader);
}
