//! The canned replies API on the public listener (docs/canned-replies.md):
//!
//! - `GET /v1/canned`: what the token's agent is offered (own, then the
//!   config's for them, their groups', everyone's) and their own list;
//! - `PUT /v1/canned` `{"replies": [...]}`: replaces the agent's own list.
//!
//! Every refusal is `{"code", "message"}` with a stable code ([`canned_code`]
//! and the shared ones).

use std::sync::{Arc, RwLock};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use tracing::warn;

use super::store::CannedStore;
use super::{canned_code, check_own, offered_to, CannedConfig, OwnReply, MAX_OWN_REPLIES, MAX_SHORTCUT_CHARS};
use super::{LANGS, MAX_TEXT_CHARS};
use crate::auth::http::{bearer, http_code, ApiError};
use crate::auth::Auth;
use crate::config::{Config, StorageMode};

/// What the config says: its replies and each agent's groups.
#[derive(Debug, Default)]
struct Configured {
    replies: Vec<CannedConfig>,
    groups_of: std::collections::HashMap<String, Vec<String>>,
}

impl Configured {
    fn of(config: &Config) -> Configured {
        let groups_of = config
            .router
            .agents
            .iter()
            .map(|a| (a.id.as_str().to_owned(), a.groups.iter().map(|m| m.group.as_str().to_owned()).collect()))
            .collect();
        Configured { replies: config.canned.clone(), groups_of }
    }
}

/// The API's state.
#[derive(Debug)]
pub struct CannedApi {
    auth: Arc<Auth>,
    store: CannedStore,
    configured: RwLock<Configured>,
}

impl CannedApi {
    pub fn new(config: &Config, auth: Arc<Auth>) -> CannedApi {
        let store = match config.storage.mode {
            StorageMode::File => CannedStore::in_dir(&config.storage.data_dir),
            StorageMode::Memory => CannedStore::in_memory(),
        };
        CannedApi { auth, store, configured: RwLock::new(Configured::of(config)) }
    }

    /// After a reload: `[[canned]]` and the roster's groups may have changed.
    pub fn reconfigure(&self, config: &Config) {
        *self.configured.write().expect("canned config lock") = Configured::of(config);
    }
}

pub fn routes(api: Arc<CannedApi>) -> axum::Router {
    axum::Router::new().route("/v1/canned", get(list).put(replace)).with_state(api)
}

type Api = State<Arc<CannedApi>>;

fn answer(result: Result<Response, ApiError>) -> Response {
    result.unwrap_or_else(IntoResponse::into_response)
}

async fn list(State(api): Api, headers: HeaderMap) -> Response {
    answer(try_list(&api, &headers))
}

fn try_list(api: &CannedApi, headers: &HeaderMap) -> Result<Response, ApiError> {
    let identity = api.auth.check(bearer(headers))?;
    let own = api.store.get(&identity.agent).map_err(unavailable)?;
    Ok(Json(listing(api, &identity.agent, own)).into_response())
}

/// The answer of both GET and PUT: what the agent is offered, their own list and the limits.
fn listing(api: &CannedApi, agent: &str, own: Vec<OwnReply>) -> serde_json::Value {
    let configured = api.configured.read().expect("canned config lock");
    let groups = configured.groups_of.get(agent).cloned().unwrap_or_default();
    let offered = offered_to(&own, &configured.replies, agent, &groups);
    json!({
        "replies": offered,
        "own": own,
        "limits": {
            "max_replies": MAX_OWN_REPLIES,
            "max_shortcut_chars": MAX_SHORTCUT_CHARS,
            "max_text_chars": MAX_TEXT_CHARS,
            "langs": LANGS,
        },
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PutBody {
    replies: Vec<OwnReply>,
}

async fn replace(State(api): Api, headers: HeaderMap, body: Bytes) -> Response {
    answer(try_replace(&api, &headers, &body))
}

fn try_replace(api: &CannedApi, headers: &HeaderMap, body: &[u8]) -> Result<Response, ApiError> {
    let identity = api.auth.check(bearer(headers))?;
    let request: PutBody = serde_json::from_slice(body).map_err(|e| {
        let message = format!(r#"send {{"replies": [{{"shortcut", "text", "lang"?}}]}} as JSON ({e})"#);
        ApiError::new(StatusCode::BAD_REQUEST, http_code::INVALID_REQUEST, message)
    })?;
    let mut replies = request.replies;
    for r in &mut replies {
        // A pasted text keeps its inner lines; the edges are noise.
        r.text = r.text.trim().to_owned();
    }
    check_own(&replies).map_err(|bad| ApiError::new(StatusCode::BAD_REQUEST, bad.code, bad.message))?;
    api.store.put(&identity.agent, replies.clone()).map_err(unavailable)?;
    Ok(Json(listing(api, &identity.agent, replies)).into_response())
}

fn unavailable(e: std::io::Error) -> ApiError {
    warn!(error = %e, "canned replies: the agent's file cannot be read or written");
    let message = format!("your canned replies cannot be read or saved just now ({e}); nothing was changed");
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, canned_code::CANNED_UNAVAILABLE, message)
}
