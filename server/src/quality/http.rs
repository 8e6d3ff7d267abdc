//! The quality API on the public listener (docs/quality.md): supervisors
//! mark spot checks and review complaints with their sign-in token;
//! customers file and follow complaints with the chat's receipt, the
//! ticket's token, or the complaint's own token. Every refusal is
//! `{"code", "message"}` with a stable code.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::Query;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde::de::DeserializeOwned;
use switchboard_protocol::code;
use switchboard_records::{Span, Store};
use tokio::sync::{mpsc, Mutex};

use super::receipt::Receipts;
use super::{complaints, spot_checks, MAX_TEXT};
use crate::auth::http::{bearer, ApiError};
use crate::auth::{Auth, Identity};
use crate::driver::DriverInput;
use crate::gateway::origin::AllowedOrigins;
use crate::metrics::Metrics;
use crate::records::http::{invalid, records_code, when};

/// Shared by the handlers.
pub struct QualityApi {
    pub(super) store: Option<Store>,
    pub(super) auth: Arc<Auth>,
    pub(super) receipts: Option<Arc<Receipts>>,
    /// The ticket desk, which alone knows whose a ticket token is.
    pub(super) driver: mpsc::Sender<DriverInput>,
    /// New complaints per client IP (`quality.complaints_per_ip` a minute).
    pub(super) per_ip: DefaultKeyedRateLimiter<IpAddr>,
    /// Filing is check-then-insert (one open complaint per subject): one at a time.
    pub(super) filing: Mutex<()>,
    pub(super) metrics: Metrics,
    pub(super) discipline: Arc<crate::discipline::Discipline>,
}

impl std::fmt::Debug for QualityApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QualityApi").finish_non_exhaustive()
    }
}

/// What the routes are built from.
#[derive(Debug)]
pub struct QualityParts {
    pub store: Option<Store>,
    pub auth: Arc<Auth>,
    pub receipts: Option<Arc<Receipts>>,
    pub driver: mpsc::Sender<DriverInput>,
    pub origins: AllowedOrigins,
    pub metrics: Metrics,
    /// The configured skill groups: their complaint series exist at zero from the start.
    pub groups: Vec<String>,
    /// `quality.complaints_per_ip`: new complaints one client IP may file a minute.
    pub complaints_per_ip: u32,
    /// Told when a complaint is decided: an upheld non-business one is a warning at once.
    pub discipline: Arc<crate::discipline::Discipline>,
}

/// The public routes.
pub fn public_routes(parts: QualityParts) -> axum::Router {
    let QualityParts { store, auth, receipts, driver, origins, metrics, groups, complaints_per_ip, discipline } = parts;
    register_series(&metrics, &groups);
    let quota = Quota::per_minute(NonZeroU32::new(complaints_per_ip).unwrap_or(NonZeroU32::MIN));
    let api = Arc::new(QualityApi {
        store,
        auth,
        receipts,
        driver,
        per_ip: RateLimiter::keyed(quota),
        filing: Mutex::new(()),
        metrics,
        discipline,
    });
    let supervisors = axum::Router::new()
        .route("/v1/records/chats/{session}/spot-check", put(spot_checks::mark))
        .route("/v1/spot-checks", get(spot_checks::list))
        .route("/v1/spot-checks/next", get(spot_checks::next))
        .with_state(api.clone());
    // The widget files and reads complaints from the host site's pages: the tickets' origin rule.
    let customers = axum::Router::new()
        .route("/v1/complaints", post(complaints::file).get(complaints::list))
        .route("/v1/complaints/{id}", get(complaints::read))
        .route("/v1/complaints/{id}/review", post(complaints::review))
        .with_state(api)
        .layer(axum::middleware::from_fn_with_state(Arc::new(origins), crate::tickets::http::cors));
    supervisors.merge(customers)
}

fn register_series(metrics: &Metrics, groups: &[String]) {
    use crate::metrics::{COMPLAINTS, SPOT_CHECKS};
    for result in super::RESULTS {
        metrics.counter(SPOT_CHECKS, &[("outcome", result)]).absolute(0);
    }
    for group in groups {
        for outcome in super::OUTCOMES {
            metrics.counter(COMPLAINTS, &[("group", group), ("outcome", outcome)]).absolute(0);
        }
    }
}

pub(super) type Params = Result<Query<Vec<(String, String)>>, QueryRejection>;

pub(super) fn answer(result: Result<Response, ApiError>) -> Response {
    result.unwrap_or_else(IntoResponse::into_response)
}

impl QualityApi {
    /// The store, if records are on.
    pub(super) fn store(&self) -> Result<&Store, ApiError> {
        self.store.as_ref().ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                records_code::RECORDS_DISABLED,
                "records are off (records.enabled = false)",
            )
        })
    }

    /// The caller, if a supervisor or an admin.
    pub(super) fn supervisor(&self, headers: &HeaderMap) -> Result<Identity, ApiError> {
        let identity = self.auth.check(bearer(headers))?;
        if !identity.role.may_supervise() {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                code::SUPERVISORS_ONLY,
                "this is for supervisors and admins",
            ));
        }
        Ok(identity)
    }
}

/// A JSON body of shape `shape`.
pub(super) fn body<T: DeserializeOwned>(bytes: &[u8], shape: &str) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|_| invalid(format!("send {shape} as JSON")))
}

/// `value`, one of `names`.
pub(super) fn one_of(key: &str, value: &str, names: &[&str]) -> Result<String, ApiError> {
    if names.contains(&value) {
        Ok(value.to_owned())
    } else {
        Err(invalid(format!("`{key}` must be one of {}", names.join(", "))))
    }
}

/// A free text, trimmed, at most [`MAX_TEXT`] characters (empty allowed only if `required` is false).
pub(super) fn text(key: &str, value: &str, required: Required) -> Result<String, ApiError> {
    let value = value.trim();
    if value.chars().count() > MAX_TEXT {
        return Err(invalid(format!("`{key}` is longer than {MAX_TEXT} characters")));
    }
    if value.is_empty() && required == Required::Yes {
        return Err(invalid(format!("`{key}` is empty")));
    }
    Ok(value.to_owned())
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Required {
    Yes,
    No,
}

/// The filters of a list: `agent`, `from`, `to` (a day or an instant, as the
/// records lookups read them; the span defaults to everything), and the
/// keys in `more`.
pub(super) struct Filters {
    pub agent: Option<String>,
    pub span: Span,
    pub more: Vec<(String, String)>,
}

pub(super) fn filters(params: Params, more: &[&str]) -> Result<Filters, ApiError> {
    let params = params.map(|Query(p)| p).map_err(|e| invalid(format!("the query string cannot be read: {e}")))?;
    let mut f = Filters { agent: None, span: Span { from: 0, to: i64::MAX }, more: Vec::new() };
    for (key, value) in params {
        let value = value.trim().to_owned();
        match key.as_str() {
            "agent" => f.agent = Some(value),
            "from" => f.span.from = when(&key, &value)?.start(),
            "to" => f.span.to = when(&key, &value)?.end(),
            k if more.contains(&k) => f.more.push((key, value)),
            other => {
                let known = ["agent", "from", "to"].iter().chain(more).copied().collect::<Vec<_>>().join(", ");
                return Err(invalid(format!("unknown parameter `{other}`: use {known}")));
            }
        }
    }
    Ok(f)
}

pub(super) fn too_many() -> ApiError {
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        code::RATE_LIMITED,
        "too many complaints from this address: try again later",
    )
}

pub(super) fn not_yours(message: &str) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, super::quality_code::NOT_YOUR_SUBJECT, message.to_owned())
}

pub(super) fn missing_credential() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        code::TOKEN_MISSING,
        "send the chat's receipt, the ticket's token or the complaint's token: Authorization: Bearer <...>",
    )
}
