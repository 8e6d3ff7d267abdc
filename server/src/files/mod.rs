//! Pictures and files in chats (docs/files.md).
//!
//! A customer or an agent uploads a file over HTTP ([`http`]); the server
//! decides its type from its first bytes ([`kind`]), drops location data from
//! JPEG photos ([`jpeg`]), stores it by the SHA-256 of its bytes ([`store`])
//! and links it to the chat. The chat message then names the file (an
//! `attachment`, `switchboard_protocol::attachment`), and travels as any
//! message does. Serving checks the caller against the chat
//! ([`access`]) and sends the stored type with headers that let no browser
//! run it.

pub mod access;
pub mod http;
pub mod jpeg;
pub mod kind;
pub mod store;

use std::path::PathBuf;

use serde::Deserialize;

/// `[files]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FilesConfig {
    /// Largest file accepted, in bytes (after nothing: the upload as sent).
    pub max_bytes: u64,
    /// Where files are kept; unset: `files/` in `storage.data_dir`.
    pub dir: Option<PathBuf>,
}

/// 10 MiB.
pub const DEFAULT_MAX_BYTES: u64 = 10 * 1024 * 1024;

impl Default for FilesConfig {
    fn default() -> Self {
        FilesConfig { max_bytes: DEFAULT_MAX_BYTES, dir: None }
    }
}

/// Every refusal code of the files API: one list for the code, docs/files.md and its test.
pub mod code {
    pub const FILE_TYPE_REFUSED: &str = "file_type_refused";
    pub const FILE_TOO_LARGE: &str = "file_too_large";
    pub const FILE_EMPTY: &str = "file_empty";
    pub const FILE_NAME_INVALID: &str = "file_name_invalid";
    pub const FILE_UNKNOWN: &str = "file_unknown";
    pub const FILE_FORBIDDEN: &str = "file_forbidden";
    pub const FILE_STORE_FAILED: &str = "file_store_failed";
    pub const SESSION_UNKNOWN: &str = "session_unknown";

    pub const ALL: &[&str] = &[
        FILE_TYPE_REFUSED,
        FILE_TOO_LARGE,
        FILE_EMPTY,
        FILE_NAME_INVALID,
        FILE_UNKNOWN,
        FILE_FORBIDDEN,
        FILE_STORE_FAILED,
        SESSION_UNKNOWN,
    ];
}
