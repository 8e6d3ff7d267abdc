//! The files API on the public listener (docs/files.md):
//! `POST /v1/files?session=N&name=...` (the body is the file) and
//! `GET /v1/files/{session}/{id}`. Both take `Authorization: Bearer` with
//! the customer's resume token or an agent's sign-in token. Every refusal is
//! `{"code", "message"}` with a stable code ([`super::code`]).

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use switchboard_protocol::attachment::{self, Attachment};
use switchboard_protocol::code as wire_code;
use tokio::sync::{mpsc, oneshot};

use super::access::{Caller, FileCall, Purpose};
use super::code;
use super::kind::FileKind;
use super::store::{id_of, FileStore, Link, Sender};
use crate::auth::http::bearer;
use crate::auth::Auth;
use crate::driver::DriverInput;
use crate::gateway::origin::AllowedOrigins;
use crate::metrics::{Metrics, FILE_BYTES_STORED, FILE_UPLOADS};
use crate::router::SessionId;

/// How files are served: nothing in them may run, load or be sniffed into something else.
const FILE_POLICY: &str = "default-src 'none'; sandbox";

/// What the routes are built from.
#[derive(Debug)]
pub struct FilesParts {
    pub driver: mpsc::Sender<DriverInput>,
    pub auth: Arc<Auth>,
    pub store: Arc<dyn FileStore>,
    pub metrics: Metrics,
    pub origins: AllowedOrigins,
    /// `files.max_bytes`.
    pub max_bytes: u64,
}

struct FilesApi {
    driver: mpsc::Sender<DriverInput>,
    auth: Arc<Auth>,
    store: Arc<dyn FileStore>,
    metrics: Metrics,
    max_bytes: u64,
}

type Api = State<Arc<FilesApi>>;

/// A refusal: its code and what to tell the caller.
#[derive(Debug)]
struct Refused {
    code: &'static str,
    message: String,
}

fn refused(code: &'static str, message: impl Into<String>) -> Refused {
    Refused { code, message: message.into() }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        (status_of(self.code), Json(json!({"code": self.code, "message": self.message}))).into_response()
    }
}

/// The HTTP status of a refusal's code.
fn status_of(code: &str) -> StatusCode {
    match code {
        code::FILE_TYPE_REFUSED => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        code::FILE_TOO_LARGE => StatusCode::PAYLOAD_TOO_LARGE,
        code::FILE_UNKNOWN | code::SESSION_UNKNOWN => StatusCode::NOT_FOUND,
        code::FILE_FORBIDDEN => StatusCode::FORBIDDEN,
        code::FILE_STORE_FAILED | wire_code::SHUTTING_DOWN => StatusCode::SERVICE_UNAVAILABLE,
        wire_code::TOKEN_MISSING | wire_code::TOKEN_INVALID | wire_code::TOKEN_EXPIRED => StatusCode::UNAUTHORIZED,
        wire_code::AGENT_DISABLED | wire_code::AGENT_SUSPENDED | wire_code::AGENT_DISQUALIFIED => StatusCode::FORBIDDEN,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// The public routes.
pub fn routes(parts: FilesParts) -> axum::Router {
    let FilesParts { driver, auth, store, metrics, origins, max_bytes } = parts;
    let api = Arc::new(FilesApi { driver, auth, store, metrics, max_bytes });
    axum::Router::new()
        .route("/v1/files", post(upload))
        .route("/v1/files/{session}/{id}", get(download))
        .with_state(api)
        .layer(axum::middleware::from_fn_with_state(Arc::new(origins), crate::tickets::http::cors))
}

#[derive(Deserialize)]
struct UploadQuery {
    session: u64,
    name: String,
}

async fn upload(
    State(api): Api,
    headers: HeaderMap,
    query: Result<Query<UploadQuery>, QueryRejection>,
    body: Body,
) -> Response {
    let outcome = store_upload(&api, &headers, query.ok().map(|q| q.0), body).await;
    let label = match &outcome {
        Ok(_) => "stored",
        Err(r) => r.code,
    };
    api.metrics.counter(FILE_UPLOADS, &[("outcome", label)]).increment(1);
    match outcome {
        Ok(file) => (StatusCode::CREATED, Json(file)).into_response(),
        Err(refusal) => refusal.into_response(),
    }
}

async fn store_upload(
    api: &FilesApi,
    headers: &HeaderMap,
    query: Option<UploadQuery>,
    body: Body,
) -> Result<Attachment, Refused> {
    let query = query.ok_or_else(|| refused("invalid_request", "the query is session=N&name=FILE_NAME"))?;
    let name = checked_name(&query.name)?;
    let session = SessionId(query.session);
    if declared_length(headers).is_some_and(|length| length > api.max_bytes) {
        return Err(too_large(api.max_bytes));
    }
    let sender = ask(api, headers, session, Purpose::Send).await?;
    let limit = usize::try_from(api.max_bytes).unwrap_or(usize::MAX);
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|_| too_large(api.max_bytes))?;
    let (kind, bytes) = accepted(bytes)?;
    let file = Attachment { id: id_of(&bytes), name, content_type: kind.content_type().to_owned(), size: len(&bytes) };
    let link = Link { file: file.clone(), from: sender, at: now_ms() };
    let store = api.store.clone();
    let kept = tokio::task::spawn_blocking(move || {
        let new = store.put(&link.file.id, &bytes)?;
        store.link(session, &link).map(|()| new)
    })
    .await;
    match kept {
        Ok(Ok(new)) => {
            if new {
                api.metrics.counter(FILE_BYTES_STORED, &[]).increment(file.size);
            }
            Ok(file)
        }
        Ok(Err(e)) => {
            tracing::error!(error = %e, "a file could not be stored");
            Err(refused(code::FILE_STORE_FAILED, "the file could not be stored; try again"))
        }
        Err(_) => Err(refused(code::FILE_STORE_FAILED, "the file could not be stored; try again")),
    }
}

/// The kind of the bytes and the bytes to keep (a JPEG without its location data).
fn accepted(bytes: Bytes) -> Result<(FileKind, Vec<u8>), Refused> {
    if bytes.is_empty() {
        return Err(refused(code::FILE_EMPTY, "the file is empty"));
    }
    let kind = FileKind::sniff(&bytes).ok_or_else(|| {
        refused(code::FILE_TYPE_REFUSED, "only PNG, JPEG, GIF and WebP pictures and PDF files are taken")
    })?;
    if kind != FileKind::Jpeg {
        return Ok((kind, bytes.to_vec()));
    }
    let kept = super::jpeg::strip_location(&bytes)
        .ok_or_else(|| refused(code::FILE_TYPE_REFUSED, "the JPEG file is damaged"))?;
    Ok((kind, kept))
}

fn too_large(max: u64) -> Refused {
    refused(code::FILE_TOO_LARGE, format!("files may be at most {max} bytes (files.max_bytes)"))
}

fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers.get(header::CONTENT_LENGTH)?.to_str().ok()?.parse().ok()
}

fn len(bytes: &[u8]) -> u64 {
    u64::try_from(bytes.len()).unwrap_or(u64::MAX)
}

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// The name as shown to people. Never part of a path, but a name that tries
/// to be one (`../x`, `a/b`, `C:\x`) or hides control characters is refused
/// rather than quietly changed.
fn checked_name(name: &str) -> Result<String, Refused> {
    let bad = name.trim().is_empty()
        || name.chars().count() > attachment::MAX_NAME_CHARS
        || name.contains(['/', '\\', ':'])
        || name.starts_with('.')
        || name.chars().any(char::is_control);
    if bad {
        let message = format!(
            "a file name is 1 to {} characters, without /, \\, :, control characters or a leading dot",
            attachment::MAX_NAME_CHARS
        );
        return Err(refused(code::FILE_NAME_INVALID, message));
    }
    Ok(name.trim().to_owned())
}

/// Who the caller is to the chat, asked of the driver.
async fn ask(api: &FilesApi, headers: &HeaderMap, session: SessionId, purpose: Purpose) -> Result<Sender, Refused> {
    let caller = caller(api, headers)?;
    let (reply, answer) = oneshot::channel();
    let stopped = || refused(wire_code::SHUTTING_DOWN, "the server is shutting down");
    let call = FileCall { caller, session, purpose, reply };
    api.driver.send(DriverInput::File(call)).await.map_err(|_| stopped())?;
    match answer.await.map_err(|_| stopped())? {
        Ok(sender) => Ok(sender),
        Err(code) => Err(refused(code, refusal_text(code))),
    }
}

fn refusal_text(code: &str) -> &'static str {
    match code {
        code::SESSION_UNKNOWN => "no open chat has that session id",
        wire_code::TOKEN_INVALID => "the token is neither a chat's token nor a valid sign-in",
        _ => "this chat's files are for its customer, its agents and supervisors",
    }
}

/// An agent's sign-in token, else (when it is no sign-in token at all) a customer's resume token.
fn caller(api: &FilesApi, headers: &HeaderMap) -> Result<Caller, Refused> {
    let token = bearer(headers).ok_or_else(|| refused(wire_code::TOKEN_MISSING, "send Authorization: Bearer TOKEN"))?;
    match api.auth.check(Some(token)) {
        Ok(identity) => Ok(Caller::Agent {
            agent: crate::router::AgentId::new(&identity.agent),
            supervisor: identity.role.may_supervise(),
        }),
        Err(r) if r.code == wire_code::TOKEN_INVALID => Ok(Caller::Customer(token.to_owned())),
        Err(r) => Err(refused(r.code, r.message)),
    }
}

async fn download(State(api): Api, headers: HeaderMap, Path((session, id)): Path<(u64, String)>) -> Response {
    match serve(&api, &headers, SessionId(session), id).await {
        Ok(response) => response,
        Err(refusal) => refusal.into_response(),
    }
}

async fn serve(api: &FilesApi, headers: &HeaderMap, session: SessionId, id: String) -> Result<Response, Refused> {
    let unknown = || refused(code::FILE_UNKNOWN, "this chat has no such file");
    if !Attachment::valid_id(&id) {
        return Err(unknown());
    }
    ask(api, headers, session, Purpose::Read).await?;
    let store = api.store.clone();
    let found = tokio::task::spawn_blocking(move || {
        let Some(link) = store.linked(session, &id)? else { return Ok(None) };
        Ok::<_, std::io::Error>(store.get(&id)?.map(|bytes| (link, bytes)))
    })
    .await;
    let failed = || refused(code::FILE_STORE_FAILED, "the file could not be read; try again");
    let (link, bytes) = found.map_err(|_| failed())?.map_err(|_| failed())?.ok_or_else(unknown)?;
    // The type is the one decided from the bytes when stored; a link naming anything else is not served.
    let kind = FileKind::of_content_type(&link.file.content_type).ok_or_else(unknown)?;
    Ok((file_headers(kind, &link.file.name), bytes).into_response())
}

fn file_headers(kind: FileKind, name: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind.content_type()));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(FILE_POLICY));
    // The same id always has the same bytes, but who may read them is checked on every request.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=86400"));
    headers.insert(HeaderName::from_static("cross-origin-resource-policy"), HeaderValue::from_static("cross-origin"));
    if let Ok(value) = HeaderValue::from_str(&disposition(kind, name)) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers
}

/// Pictures show in place; anything else downloads. The name is given as
/// plain ASCII (others replaced by `_`) and, whole, UTF-8 percent-encoded.
fn disposition(kind: FileKind, name: &str) -> String {
    let how = if kind.is_image() { "inline" } else { "attachment" };
    let plain: String =
        name.chars().map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' }).collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("{how}; filename=\"{plain}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_pose_as_paths_are_refused() {
        for bad in ["../../etc/passwd", "a/b.png", "..\\x.png", "C:x.png", ".htaccess", "", "a\nb.png"] {
            assert_eq!(checked_name(bad).unwrap_err().code, code::FILE_NAME_INVALID, "{bad:?}");
        }
        assert_eq!(checked_name("照片 1.png").unwrap(), "照片 1.png");
    }

    #[test]
    fn pdfs_download_and_pictures_show() {
        assert_eq!(
            disposition(FileKind::Pdf, "a \"b\".pdf"),
            "attachment; filename=\"a _b_.pdf\"; filename*=UTF-8''a%20%22b%22.pdf"
        );
        assert!(disposition(FileKind::Png, "照.png").starts_with("inline; filename=\"_.png\""));
    }

    #[test]
    fn every_code_has_a_status() {
        for c in code::ALL {
            assert!(status_of(c).is_client_error() || status_of(c).is_server_error(), "{c}");
        }
    }
}
