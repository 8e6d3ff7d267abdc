//! Where an agent's own canned replies are kept: one JSON file per agent in
//! `<data_dir>/canned/`, replaced atomically (written beside, synced, renamed,
//! the directory synced) so that a crash leaves the old list or the new one,
//! never half of one. With `storage.mode = "memory"` they live in memory only,
//! like everything else in that mode.
//!
//! A file's name is the agent id in hex: ids are never trusted in paths.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::OwnReply;

/// The agents' own replies.
#[derive(Debug)]
pub struct CannedStore {
    /// `None`: memory only.
    dir: Option<PathBuf>,
    /// What was read or written, by agent; also serialises writes.
    cache: Mutex<HashMap<String, Vec<OwnReply>>>,
}

impl CannedStore {
    /// Kept in `<data_dir>/canned/` (created on the first write).
    pub fn in_dir(data_dir: &Path) -> CannedStore {
        CannedStore { dir: Some(data_dir.join("canned")), cache: Mutex::default() }
    }

    pub fn in_memory() -> CannedStore {
        CannedStore { dir: None, cache: Mutex::default() }
    }

    fn path_of(dir: &Path, agent: &str) -> PathBuf {
        let hex: String = agent.bytes().map(|b| format!("{b:02x}")).collect();
        dir.join(format!("{hex}.json"))
    }

    /// The agent's replies (none yet: empty). A file that cannot be read is an error, never an empty list:
    /// the next save would otherwise overwrite what the agent had.
    pub fn get(&self, agent: &str) -> std::io::Result<Vec<OwnReply>> {
        let mut cache = self.cache.lock().expect("canned cache lock");
        if let Some(list) = cache.get(agent) {
            return Ok(list.clone());
        }
        let Some(dir) = &self.dir else { return Ok(Vec::new()) };
        let list = match std::fs::read(Self::path_of(dir, agent)) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(std::io::Error::other)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e),
        };
        cache.insert(agent.to_owned(), list.clone());
        Ok(list)
    }

    /// Replaces the agent's replies; on an error nothing changed.
    pub fn put(&self, agent: &str, list: Vec<OwnReply>) -> std::io::Result<()> {
        let mut cache = self.cache.lock().expect("canned cache lock");
        if let Some(dir) = &self.dir {
            write_atomically(dir, &Self::path_of(dir, agent), &serde_json::to_vec_pretty(&list)?)?;
        }
        cache.insert(agent.to_owned(), list);
        Ok(())
    }
}

fn write_atomically(dir: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let temp = path.with_extension("json.tmp");
    let mut file = std::fs::File::create(&temp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&temp, path)?;
    // The rename is durable once the directory is.
    std::fs::File::open(dir)?.sync_all()
}
