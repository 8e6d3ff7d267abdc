//! `[records]`: where closed chats and router events are kept, and how the
//! writer batches, waits and forgets (`docs/records.md`).

use std::time::Duration;

use serde::Deserialize;
use switchboard_records::Target;

use super::ConfigLoadError;
use crate::router::output::Event;

/// Events the store needs for a chat's opened and assigned times.
const NEEDED_EVENTS: [&str; 2] = ["session_queued", "session_assigned"];

#[derive(Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RecordsConfig {
    /// Write records at all.
    pub enabled: bool,
    /// Empty: a SQLite file `records.sqlite3` in `storage.data_dir` (in
    /// memory with `storage.mode = "memory"`). `postgres://USER@HOST:PORT/DB`
    /// for PostgreSQL; `sqlite:PATH` for a SQLite file elsewhere.
    pub url: String,
    /// Records per transaction at most.
    pub batch_size: usize,
    /// Records waiting between the router and the writer; beyond it they are dropped and counted.
    pub queue: usize,
    /// While the database is down, records wait in `data_dir/records-spill.jsonl` up to this size.
    pub spill_bytes: u64,
    /// Rows older than this are deleted (hourly); `0s` keeps everything.
    #[serde(with = "humantime_serde")]
    pub retention: Duration,
    /// Router event kinds not written to `router_events` (one row per chat message is a lot).
    pub skip_events: Vec<String>,
}

impl Default for RecordsConfig {
    fn default() -> Self {
        RecordsConfig {
            enabled: true,
            url: String::new(),
            batch_size: 500,
            queue: 100_000,
            spill_bytes: 1 << 30,
            retention: Duration::from_secs(365 * 86_400),
            skip_events: vec!["customer_message".into(), "agent_reply".into()],
        }
    }
}

/// Never prints a password the URL may hold.
impl std::fmt::Debug for RecordsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let target = Target::parse(&self.url, "data_dir/records.sqlite3").map(|t| t.describe());
        f.debug_struct("RecordsConfig")
            .field("enabled", &self.enabled)
            .field("target", &target)
            .field("batch_size", &self.batch_size)
            .field("queue", &self.queue)
            .field("spill_bytes", &self.spill_bytes)
            .field("retention", &self.retention)
            .field("skip_events", &self.skip_events)
            .finish()
    }
}

impl RecordsConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigLoadError> {
        Target::parse(&self.url, "").map_err(|problem| ConfigLoadError::key("records.url", problem))?;
        for (key, value) in [("records.batch_size", self.batch_size), ("records.queue", self.queue)] {
            if value == 0 {
                return Err(ConfigLoadError::key(key, "must be at least 1"));
            }
        }
        if self.spill_bytes < 4096 {
            return Err(ConfigLoadError::key("records.spill_bytes", "must be at least 4096"));
        }
        for (i, kind) in self.skip_events.iter().enumerate() {
            let key = format!("records.skip_events[{i}]");
            if !Event::KINDS.contains(&kind.as_str()) {
                return Err(ConfigLoadError::key(
                    key,
                    format!("`{kind}` is not an event kind: one of {:?}", Event::KINDS),
                ));
            }
            if NEEDED_EVENTS.contains(&kind.as_str()) {
                return Err(ConfigLoadError::key(
                    key,
                    format!("`{kind}` cannot be skipped: a chat's opened and assigned times come from it"),
                ));
            }
        }
        Ok(())
    }

    /// Is this event kind written to `router_events`?
    pub fn writes(&self, kind: &str) -> bool {
        !self.skip_events.iter().any(|k| k == kind)
    }
}

#[cfg(test)]
mod tests {
    use super::super::Config;

    fn with(records: &str) -> String {
        format!(
            "[gateway]\nallow_any_origin = true\n[records]\n{records}\n[[router.groups]]\nid = \"general\"\n\
             [[router.agents]]\nid = \"alice\"\ngroups = [{{ group = \"general\" }}]\n"
        )
    }

    #[test]
    fn each_bad_records_key_is_named() {
        let cases = [
            ("url = \"mysql://db\"", "records.url"),
            ("url = \"postgres://127.0.0.1:nope/test\"", "records.url"),
            ("batch_size = 0", "records.batch_size"),
            ("queue = 0", "records.queue"),
            ("spill_bytes = 10", "records.spill_bytes"),
            ("retention = \"forever\"", "records.retention"),
            ("skip_events = [\"agent_reply\", \"typing\"]", "records.skip_events[1]"),
            ("skip_events = [\"session_queued\"]", "records.skip_events[0]"),
            ("nope = 1", "records"),
        ];
        for (line, key) in cases {
            let err = Config::from_toml_str(&with(line)).unwrap_err();
            assert!(err.key_name().is_some_and(|k| k.starts_with(key)), "{line}: {err}");
        }
    }

    #[test]
    fn the_defaults_write_sqlite_in_the_data_dir_and_skip_message_events() {
        let config = Config::from_toml_str(&with("")).unwrap();
        assert!(config.records.enabled && config.records.url.is_empty());
        assert!(!config.records.writes("customer_message") && config.records.writes("session_closed"));
        let config = Config::from_toml_str(&with("url = \"postgres://u:pw@127.0.0.1:5432/test\"")).unwrap();
        assert!(!format!("{config:?}").contains("pw"), "the password is not printed");
    }
}
