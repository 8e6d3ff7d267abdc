//! `[tickets]` and the roster's `ticket_capacity` (see `docs/tickets.md`).
//!
//! The section is the ticket core's `TicketRules` plus the desk's own keys.
//! They are read apart from the rest of the config: `TicketRules` refuses
//! unknown keys itself, which serde cannot combine with the desk's keys in
//! one struct. `ticket_capacity` is taken out of `[[router.agents]]` before
//! the router reads the roster (the router knows nothing of tickets, and a
//! new ticket capacity must not count as a roster change).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use switchboard_tickets::TicketRules;

use super::ConfigLoadError;

/// The desk's keys, beside the rules'.
const DESK_KEYS: [&str; 4] = ["ticket_capacity", "max_messages", "create_per_ip", "keep_done"];

/// Everything the ticket desk is configured with (logged whole when it
/// changes, so that a replay uses the limits the live run used).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketsConfig {
    pub rules: TicketRules,
    /// Open tickets an agent owns at once unless their roster entry says
    /// otherwise (separate from chat capacity).
    pub ticket_capacity: u32,
    /// Messages kept per ticket; a ticket that has this many takes no more.
    pub max_messages: u32,
    /// New tickets (`POST /v1/tickets`) one client IP may leave per minute.
    pub create_per_ip: u32,
    /// A done ticket stays readable (by its customer and agents) this long
    /// after it is done (calendar time), then the desk forgets it; the records
    /// store keeps it.
    pub keep_done: Duration,
    /// `ticket_capacity` of `[[router.agents]]` entries that set it, by agent id.
    pub capacities: BTreeMap<String, u32>,
}

impl Default for TicketsConfig {
    fn default() -> Self {
        TicketsConfig {
            rules: TicketRules::default(),
            ticket_capacity: 5,
            max_messages: 200,
            create_per_ip: 10,
            keep_done: Duration::from_secs(30 * 86_400),
            capacities: BTreeMap::new(),
        }
    }
}

impl TicketsConfig {
    /// Takes `[tickets]` and every agent's `ticket_capacity` out of the table.
    pub(super) fn take_from(table: &mut toml::Table) -> Result<TicketsConfig, ConfigLoadError> {
        let mut config = TicketsConfig { capacities: take_capacities(table)?, ..TicketsConfig::default() };
        let Some(section) = table.remove("tickets") else { return Ok(config) };
        let toml::Value::Table(mut section) = section else {
            return Err(ConfigLoadError::key("tickets", "must be a table ([tickets])"));
        };
        if let Some(value) = section.remove(DESK_KEYS[0]) {
            config.ticket_capacity = count("tickets.ticket_capacity", value)?;
        }
        if let Some(value) = section.remove(DESK_KEYS[1]) {
            config.max_messages = count("tickets.max_messages", value)?;
        }
        if let Some(value) = section.remove(DESK_KEYS[2]) {
            config.create_per_ip = count("tickets.create_per_ip", value)?;
        }
        if let Some(value) = section.remove(DESK_KEYS[3]) {
            config.keep_done = duration("tickets.keep_done", value)?;
        }
        config.rules = serde_path_to_error::deserialize(toml::Value::Table(section)).map_err(|e| {
            let path = e.path().to_string();
            let key = if path == "." { "tickets".to_owned() } else { format!("tickets.{path}") };
            ConfigLoadError::key(key, e.into_inner().to_string())
        })?;
        Ok(config)
    }

    pub(super) fn validate(&self) -> Result<(), ConfigLoadError> {
        self.rules.validate().map_err(|e| ConfigLoadError::key(e.key, e.reason))?;
        if self.ticket_capacity == 0 {
            return Err(ConfigLoadError::key("tickets.ticket_capacity", "must be at least 1"));
        }
        if self.keep_done.is_zero() {
            return Err(ConfigLoadError::key("tickets.keep_done", "must be longer than zero"));
        }
        if self.create_per_ip == 0 {
            return Err(ConfigLoadError::key("tickets.create_per_ip", "must be at least 1"));
        }
        if self.max_messages < 2 {
            return Err(ConfigLoadError::key("tickets.max_messages", "must be at least 2 (a question and its answer)"));
        }
        Ok(())
    }

    /// An agent's ticket capacity: their own, else the default.
    pub fn capacity_of(&self, agent: &str) -> u32 {
        self.capacities.get(agent).copied().unwrap_or(self.ticket_capacity)
    }
}

fn take_capacities(table: &mut toml::Table) -> Result<BTreeMap<String, u32>, ConfigLoadError> {
    let mut capacities = BTreeMap::new();
    let Some(toml::Value::Table(router)) = table.get_mut("router") else { return Ok(capacities) };
    let Some(toml::Value::Array(agents)) = router.get_mut("agents") else { return Ok(capacities) };
    for (i, agent) in agents.iter_mut().enumerate() {
        let toml::Value::Table(agent) = agent else { continue };
        let Some(value) = agent.remove("ticket_capacity") else { continue };
        let key = format!("router.agents[{i}].ticket_capacity");
        let capacity = count(&key, value)?;
        if capacity == 0 {
            return Err(ConfigLoadError::key(key, "must be at least 1"));
        }
        if let Some(toml::Value::String(id)) = agent.get("id") {
            capacities.insert(id.clone(), capacity);
        }
    }
    Ok(capacities)
}

fn duration(key: &str, value: toml::Value) -> Result<Duration, ConfigLoadError> {
    let text = value.as_str().ok_or_else(|| ConfigLoadError::key(key, "must be a duration in quotes, e.g. \"30d\""))?;
    humantime_serde::re::humantime::parse_duration(text).map_err(|e| ConfigLoadError::key(key, e.to_string()))
}

fn count(key: &str, value: toml::Value) -> Result<u32, ConfigLoadError> {
    value
        .as_integer()
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| ConfigLoadError::key(key, "must be a whole number (0 or more)"))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::config::Config;

    fn config(extra: &str, alice: &str) -> Result<Config, crate::config::ConfigLoadError> {
        Config::from_toml_str(&format!(
            "{extra}\n[gateway]\nallowed_origins = [\"https://shop.example\"]\n[[router.groups]]\nid = \"general\"\n\
             [[router.agents]]\nid = \"alice\"\ngroups = [{{ group = \"general\" }}]\n{alice}\n"
        ))
    }

    #[test]
    fn the_section_and_the_roster_key_are_read_and_stay_out_of_the_router() {
        let c = config(
            "[tickets]\nfirst_response = \"20m\"\nticket_capacity = 7\nmax_messages = 50\nkeep_done = \"2d\"",
            "ticket_capacity = 2",
        )
        .unwrap();
        assert_eq!(c.tickets.rules.first_response, Duration::from_secs(20 * 60));
        assert_eq!((c.tickets.ticket_capacity, c.tickets.max_messages), (7, 50));
        assert_eq!(c.tickets.keep_done, Duration::from_secs(2 * 86_400));
        assert_eq!(c.tickets.capacity_of("alice"), 2);
        assert_eq!(c.tickets.capacity_of("bob"), 7);
        assert_eq!(c.router.agents, config("", "").unwrap().router.agents, "the router never sees it");
        assert_eq!(config("", "").unwrap().tickets, super::TicketsConfig::default());
    }

    /// `config/default.toml` sets every key of `[tickets]` to its built-in
    /// default, each with a comment: the file is the operator's reference.
    #[test]
    fn the_default_file_lists_every_key_with_its_default_and_a_comment() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/default.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        let file: toml::Table = text.parse().unwrap();
        let section = file["tickets"].as_table().unwrap();
        let rules = toml::Value::try_from(switchboard_tickets::TicketRules::default()).unwrap();
        let mut keys: Vec<&str> = rules.as_table().unwrap().keys().map(String::as_str).collect();
        keys.extend(super::DESK_KEYS);
        for key in keys {
            assert!(section.contains_key(key), "config/default.toml [tickets] leaves out {key}");
            let line = text.lines().find(|l| l.starts_with(&format!("{key} ="))).unwrap();
            assert!(line.contains('#'), "`{line}` has no comment");
        }
        assert_eq!(section.len(), keys_len(), "a key in the file that the server does not know");
        let config = Config::load(Some(&path), Vec::new()).unwrap();
        assert_eq!(config.tickets.rules, switchboard_tickets::TicketRules::default());
        let defaults = super::TicketsConfig { capacities: config.tickets.capacities.clone(), ..Default::default() };
        assert_eq!(config.tickets, defaults);
    }

    fn keys_len() -> usize {
        switchboard_tickets::TicketRules::KEYS.len() + super::DESK_KEYS.len()
    }

    #[test]
    fn bad_values_name_their_key() {
        let cases = [
            ("[tickets]\nfirst_response = \"soon\"", "", "tickets.first_response"),
            ("[tickets]\nfirst_responce = \"5m\"", "", "tickets"),
            ("[tickets]\nfeedback_wait_days = 0", "", "tickets.feedback_wait_days"),
            ("[tickets]\nticket_capacity = 0", "", "tickets.ticket_capacity"),
            ("[tickets]\nmax_messages = -1", "", "tickets.max_messages"),
            ("[tickets]\nkeep_done = \"forever\"", "", "tickets.keep_done"),
            ("[tickets]\nkeep_done = \"0s\"", "", "tickets.keep_done"),
            ("", "ticket_capacity = 0", "router.agents[0].ticket_capacity"),
            ("tickets = 3", "", "tickets"),
        ];
        for (section, alice, key) in cases {
            let err = config(section, alice).unwrap_err();
            assert!(err.key_name().is_some_and(|k| k.starts_with(key)), "{section}: {err}");
        }
    }
}
