//! Where files are kept. The server talks to a [`FileStore`]; [`DiskStore`]
//! keeps them under a directory (by default `files/` in `storage.data_dir`).
//! An S3-compatible store would implement the same four calls with objects
//! under the same keys.
//!
//! Layout (docs/files.md): `blobs/<first 2 hex>/<sha256>` holds the bytes,
//! once however often they are sent (content-addressed); `chats/<session>/<sha256>.json`
//! links a file to a chat with the name and type it was sent as. Paths are
//! built only from the hash and the session number, never from a file name.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use switchboard_protocol::attachment::Attachment;

use crate::router::SessionId;

/// Who sent a file to a chat (kept in its link).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sender {
    Customer,
    Agent(String),
}

/// A file's link to a chat.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    pub file: Attachment,
    pub from: Sender,
    /// Wall-clock unix milliseconds.
    pub at: i64,
}

/// Somewhere files can be kept. Calls block: run them off the async threads.
pub trait FileStore: Send + Sync + std::fmt::Debug {
    /// Keeps `bytes` under `id` (their SHA-256); true if they were new.
    fn put(&self, id: &str, bytes: &[u8]) -> io::Result<bool>;
    /// The bytes under `id`, if kept.
    fn get(&self, id: &str) -> io::Result<Option<Vec<u8>>>;
    /// Records that the file was sent to `session`.
    fn link(&self, session: SessionId, link: &Link) -> io::Result<()>;
    /// The file's link to `session`, if it was sent there.
    fn linked(&self, session: SessionId, id: &str) -> io::Result<Option<Link>>;
}

/// The id of some bytes: lowercase hex SHA-256.
pub fn id_of(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Files in a directory of the local disk.
#[derive(Debug)]
pub struct DiskStore {
    dir: PathBuf,
}

impl DiskStore {
    pub fn new(dir: PathBuf) -> DiskStore {
        DiskStore { dir }
    }

    fn blob(&self, id: &str) -> io::Result<PathBuf> {
        let id = checked(id)?;
        Ok(self.dir.join("blobs").join(&id[..2]).join(id))
    }

    fn link_path(&self, session: SessionId, id: &str) -> io::Result<PathBuf> {
        let id = checked(id)?;
        Ok(self.dir.join("chats").join(session.0.to_string()).join(format!("{id}.json")))
    }
}

/// Only a file id may become part of a path (defence in depth: callers check too).
fn checked(id: &str) -> io::Result<&str> {
    if Attachment::valid_id(id) {
        Ok(id)
    } else {
        Err(io::Error::new(io::ErrorKind::InvalidInput, "not a file id"))
    }
}

/// Writes whole or not at all: a crash leaves a temporary file, never half a file under its final name.
fn write_new(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let parent = path.parent().ok_or_else(|| io::Error::other("no parent"))?;
    std::fs::create_dir_all(parent)?;
    let temporary = path.with_extension("part");
    let mut file = std::fs::File::create(&temporary)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&temporary, path)
}

fn read_if_there(path: &Path) -> io::Result<Option<Vec<u8>>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

impl FileStore for DiskStore {
    fn put(&self, id: &str, bytes: &[u8]) -> io::Result<bool> {
        let path = self.blob(id)?;
        if path.exists() {
            return Ok(false);
        }
        write_new(&path, bytes).map(|()| true)
    }

    fn get(&self, id: &str) -> io::Result<Option<Vec<u8>>> {
        read_if_there(&self.blob(id)?)
    }

    fn link(&self, session: SessionId, link: &Link) -> io::Result<()> {
        let path = self.link_path(session, &link.file.id)?;
        write_new(&path, &serde_json::to_vec(link).map_err(io::Error::other)?)
    }

    fn linked(&self, session: SessionId, id: &str) -> io::Result<Option<Link>> {
        let Some(bytes) = read_if_there(&self.link_path(session, id)?)? else { return Ok(None) };
        serde_json::from_slice(&bytes).map(Some).map_err(io::Error::other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_kept_once_by_hash_and_linked_per_chat() {
        let dir = tempfile::tempdir().unwrap();
        let store = DiskStore::new(dir.path().to_owned());
        let id = id_of(b"bytes");
        assert!(store.put(&id, b"bytes").unwrap());
        assert!(!store.put(&id, b"bytes").unwrap(), "the same bytes are kept once");
        assert_eq!(store.get(&id).unwrap().as_deref(), Some(&b"bytes"[..]));
        let file = Attachment { id: id.clone(), name: "a.png".into(), content_type: "image/png".into(), size: 5 };
        let link = Link { file, from: Sender::Customer, at: 1 };
        store.link(SessionId(7), &link).unwrap();
        assert_eq!(store.linked(SessionId(7), &id).unwrap(), Some(link));
        assert_eq!(store.linked(SessionId(8), &id).unwrap(), None);
        assert!(store.get("../../etc/passwd").is_err());
    }
}
