//! Agents an admin has disabled, kept in `data_dir` so a restart keeps them.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::PathBuf;
use std::sync::RwLock;

use tokio::sync::watch;

/// The file in `data_dir`: one agent id per line.
pub const DISABLED_FILE: &str = "disabled-agents";

/// The list, and a signal every live connection watches.
#[derive(Debug)]
pub struct DisabledAgents {
    path: Option<PathBuf>,
    ids: RwLock<BTreeSet<String>>,
    changed: watch::Sender<u64>,
}

impl DisabledAgents {
    /// Loads the list from `path` (none in memory mode).
    pub fn load(path: Option<PathBuf>) -> std::io::Result<DisabledAgents> {
        let ids = match &path {
            Some(p) => match std::fs::read_to_string(p) {
                Ok(text) => text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect(),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeSet::new(),
                Err(e) => return Err(e),
            },
            None => BTreeSet::new(),
        };
        Ok(DisabledAgents { path, ids: RwLock::new(ids), changed: watch::Sender::new(0) })
    }

    pub fn contains(&self, agent: &str) -> bool {
        self.ids.read().expect("disabled list lock").contains(agent)
    }

    /// Tells when the list (or the roster) changes: a connection then checks its agent.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    /// Wakes every connection to check its agent again (the roster changed).
    pub fn notify(&self) {
        self.changed.send_modify(|n| *n += 1);
    }

    pub fn disable(&self, agent: &str) -> std::io::Result<()> {
        self.change(|ids| ids.insert(agent.to_owned()))
    }

    pub fn enable(&self, agent: &str) -> std::io::Result<()> {
        self.change(|ids| ids.remove(agent))
    }

    /// Applies `edit`, saves the list (written aside, then renamed) and signals.
    fn change(&self, edit: impl FnOnce(&mut BTreeSet<String>) -> bool) -> std::io::Result<()> {
        let mut ids = self.ids.write().expect("disabled list lock");
        let before = ids.clone();
        if !edit(&mut ids) {
            return Ok(());
        }
        if let Err(e) = self.save(&ids) {
            *ids = before;
            return Err(e);
        }
        drop(ids);
        self.changed.send_modify(|n| *n += 1);
        Ok(())
    }

    fn save(&self, ids: &BTreeSet<String>) -> std::io::Result<()> {
        let Some(path) = &self.path else { return Ok(()) };
        let tmp = path.with_extension("tmp");
        let mut file = std::fs::File::create(&tmp)?;
        for id in ids {
            writeln!(file, "{id}")?;
        }
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    }
}
