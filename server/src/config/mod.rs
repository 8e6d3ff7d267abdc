//! Server configuration: a TOML file (`config/default.toml`), overridden by
//! `SWITCHBOARD_*` environment variables, validated before anything starts.
//!
//! Environment overrides name a key path in upper case with `__` between
//! levels: `SWITCHBOARD_LISTEN=0.0.0.0:8080` sets `listen`,
//! `SWITCHBOARD_CLOCK__SCALE=600` sets `clock.scale`,
//! `SWITCHBOARD_ROUTER__RULES__AGENT_GRACE=45s` sets `router.rules.agent_grace`.
//! Values are read as TOML when they parse as TOML (numbers, booleans), else as strings.
//! Arrays (the roster) can only be set in the file.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::router::config::RouterConfig;

mod auth;
mod calendar;
mod performance;
mod quality;
mod records;
mod shifts;
mod tickets;
pub use auth::{Accounts, AuthConfig, KeyAlgorithm, Secret, MIN_SECRET_BYTES};
pub use calendar::{CalendarConfig, TimeText};
pub use performance::{BandConfig, FeesConfig, PerformanceConfig};
pub use quality::QualityConfig;
pub use records::RecordsConfig;
pub use shifts::{clock_time, level_named, plain_date, DisciplineConfig, PlannedShift, ShiftsConfig};
pub use tickets::TicketsConfig;
#[cfg(test)]
mod rule_keys_tests;

/// Environment variables with this prefix override config keys.
pub const ENV_PREFIX: &str = "SWITCHBOARD_";
/// Environment variables with the prefix that are not config keys.
const ENV_NOT_KEYS: &[&str] = &["SWITCHBOARD_CONFIG"];

/// Everything the server needs to start.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Public listener: WebSockets, health.
    pub listen: SocketAddr,
    /// Admin listener: `/metrics`. Never the same as `listen`.
    pub admin_listen: SocketAddr,
    /// How long a graceful shutdown may take before connections are dropped.
    #[serde(with = "humantime_serde")]
    pub shutdown_timeout: Duration,
    pub clock: ClockConfig,
    pub calendar: CalendarConfig,
    pub gateway: GatewayConfig,
    pub customers: CustomersConfig,
    pub storage: StorageConfig,
    /// Closed chats and router events in SQL (`docs/records.md`).
    pub records: RecordsConfig,
    /// Agent performance figures (`docs/performance-figures.md`).
    pub performance: PerformanceConfig,
    /// The labor fee's numbers (`docs/fees.md`).
    pub fees: FeesConfig,
    /// Spot checks and complaints (`docs/quality.md`).
    pub quality: QualityConfig,
    pub log: LogConfig,
    pub auth: AuthConfig,
    /// Shifts and leave (`docs/shifts.md`).
    pub shifts: ShiftsConfig,
    /// Warnings, suspensions, disqualification (`docs/shifts.md`).
    pub discipline: DisciplineConfig,
    pub router: RouterConfig,
    /// `[content]`: what agents may not write (docs/content-rules.md).
    pub content: crate::content::ContentConfig,
    /// `[[canned]]`: canned replies for everyone, a skill group or an agent
    /// (docs/canned-replies.md). Absent: the handbook's holding reply and
    /// transfer notice in both languages; `canned = []`: none.
    pub canned: Vec<crate::canned::CannedConfig>,
    /// `[files]`: pictures and files in chats (docs/files.md).
    pub files: crate::files::FilesConfig,
    /// What the roster says about signing in (`password_hash`, `role = "admin"`),
    /// taken out of `[[router.agents]]` before the router reads it: the router
    /// knows nothing of authentication, and a new password must not count as a
    /// roster change that refuses a restart.
    #[serde(skip)]
    pub accounts: Accounts,
    /// `[tickets]` and the roster's `ticket_capacity` (docs/tickets.md), read
    /// apart: see `config/tickets.rs`.
    #[serde(skip)]
    pub tickets: TicketsConfig,
    /// The file this config was read from: what a reload reads again
    /// (`None`: built from a string, nothing to reload).
    #[serde(skip)]
    pub source: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            admin_listen: SocketAddr::from(([127, 0, 0, 1], 9090)),
            shutdown_timeout: Duration::from_secs(5),
            clock: ClockConfig::default(),
            calendar: CalendarConfig::default(),
            gateway: GatewayConfig::default(),
            customers: CustomersConfig::default(),
            storage: StorageConfig::default(),
            records: RecordsConfig::default(),
            performance: PerformanceConfig::default(),
            fees: FeesConfig::default(),
            quality: QualityConfig::default(),
            log: LogConfig::default(),
            auth: AuthConfig::default(),
            shifts: ShiftsConfig::default(),
            discipline: DisciplineConfig::default(),
            router: RouterConfig::default(),
            content: crate::content::ContentConfig::default(),
            canned: crate::canned::defaults(),
            files: crate::files::FilesConfig::default(),
            accounts: Accounts::default(),
            tickets: TicketsConfig::default(),
            source: None,
        }
    }
}

/// The business clock the router runs on.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClockConfig {
    /// Business time per real time: 1.0 in production; 600.0 makes one business
    /// minute last 100 ms (demos, tests).
    pub scale: f64,
    /// The calendar time at which business time begins (the first start on a
    /// fresh `data_dir`): demos and tests at a high `scale` run through a
    /// chosen date. Unset: the real time. See docs/durability.md, "Business
    /// time on the calendar", for what a restart does.
    pub start: Option<TimeText>,
}

impl Default for ClockConfig {
    fn default() -> Self {
        ClockConfig { scale: 1.0, start: None }
    }
}

/// Limits of the WebSocket gateway.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GatewayConfig {
    /// Frames queued for one connection before it counts as a slow reader and is cut off.
    pub outbound_queue: usize,
    /// Messages kept per customer session and per agent for replay on resume.
    pub replay_buffer: usize,
    /// Accepted command ids remembered per session / agent, to acknowledge retries without applying them twice.
    pub recent_command_ids: usize,
    /// Open WebSocket connections at most; more are refused with close code 1013.
    pub max_connections: usize,
    pub read_buffer_bytes: usize,
    pub write_buffer_bytes: usize,
    /// Removed: the WebSocket layer no longer refuses an outgoing frame for
    /// its size (an agent's `state` frame is bounded by the router's
    /// `rules.max_history_bytes`, a connection's backlog by `outbound_queue`).
    /// Still parsed so that a config that sets it gets a clear error.
    pub max_write_buffer_bytes: Option<usize>,
    /// Largest incoming frame and message; bigger closes the connection with 1009.
    pub max_message_bytes: usize,
    /// How long to wait for the client's close frame after the server sent one.
    #[serde(with = "humantime_serde")]
    pub close_timeout: Duration,
    /// The server pings every connection this often (WebSocket ping; clients answer automatically)...
    #[serde(with = "humantime_serde")]
    pub ping_interval: Duration,
    /// ...and drops one it has heard nothing from (not even a pong) for this long:
    /// a dead peer's sessions then follow the normal disconnect rules.
    #[serde(with = "humantime_serde")]
    pub idle_timeout: Duration,
    /// Inputs waiting for the router task; readers wait when it is full.
    pub driver_queue: usize,
    /// Browser origins allowed to open WebSockets (`Origin` header), e.g.
    /// `["https://shop.example"]`: scheme, host and port must match exactly
    /// (default ports normalised, host case-insensitive; see
    /// `gateway::origin`). Clients that send no `Origin` (non-browsers) are
    /// allowed. Empty only together with `allow_any_origin = true`.
    pub allowed_origins: Vec<String>,
    /// Accept a WebSocket from any browser origin. Must be said explicitly:
    /// an empty `allowed_origins` alone is a config error, so that nobody
    /// opens the server to every site by leaving a list out.
    pub allow_any_origin: bool,
    /// Open WebSockets from one IP address at most (0: no limit). Generous by
    /// default: many customers can share one NAT.
    pub max_connections_per_ip: usize,
    /// A TCP connection must send its complete HTTP request head (the
    /// WebSocket handshake included) within this long, or it is dropped.
    #[serde(with = "humantime_serde")]
    pub handshake_timeout: Duration,
    /// Commands (text or binary frames) per second each connection may send
    /// on average (0: no limit)...
    pub message_rate: u32,
    /// ...with bursts of up to this many at once.
    pub message_burst: u32,
    /// A connection refused this many times (`rate_limited`) within
    /// `flood_window` is flooding: it is closed with 1008.
    pub flood_refusals: u32,
    /// ...and then may not reconnect for as long (an agent by id, customers by address).
    #[serde(with = "humantime_serde")]
    pub flood_window: Duration,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            outbound_queue: 256,
            replay_buffer: 256,
            recent_command_ids: 64,
            max_connections: 19_000,
            read_buffer_bytes: 4096,
            write_buffer_bytes: 4096,
            max_write_buffer_bytes: None,
            max_message_bytes: switchboard_protocol::MAX_FRAME_BYTES,
            close_timeout: Duration::from_secs(2),
            ping_interval: Duration::from_secs(20),
            idle_timeout: Duration::from_secs(60),
            driver_queue: 65_536,
            allowed_origins: Vec::new(),
            allow_any_origin: false,
            max_connections_per_ip: 200,
            handshake_timeout: Duration::from_secs(5),
            message_rate: 20,
            message_burst: 60,
            flood_refusals: 100,
            flood_window: Duration::from_secs(10),
        }
    }
}

/// Customers of the chat widget.
#[derive(Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CustomersConfig {
    /// The secret a host site shares with this server to vouch for its
    /// signed-in users ("verified customers"): the site passes
    /// `identifier` and `identifier_hash` = hex HMAC-SHA256(secret,
    /// identifier). Empty: no customer can be verified, and a join that
    /// claims an identity is refused. Better set by environment
    /// (`SWITCHBOARD_CUSTOMERS__IDENTITY_SECRET`) than in a file.
    pub identity_secret: String,
}

/// Never prints the secret.
impl std::fmt::Debug for CustomersConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CustomersConfig").field("identity_secret_set", &!self.identity_secret.is_empty()).finish()
    }
}

impl CustomersConfig {
    /// A secret an attacker could guess would let anyone pose as any user.
    fn validate(&self) -> Result<(), ConfigLoadError> {
        if !self.identity_secret.is_empty() && self.identity_secret.len() < 16 {
            return Err(ConfigLoadError::key(
                "customers.identity_secret",
                "is too short: use at least 16 characters (e.g. 32 random hex bytes)",
            ));
        }
        Ok(())
    }
}

/// Where live state is kept so that a restart loses nothing (see `docs/durability.md`).
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageConfig {
    /// `file`: every state-changing input is logged in `data_dir` before its
    /// effects reach anyone, and a restart resumes where it stopped. `memory`:
    /// nothing is written and a restart loses every chat.
    pub mode: StorageMode,
    /// The directory of the input log and snapshots (created on first start).
    pub data_dir: PathBuf,
    /// When a logged input counts as durable (see [`SyncPolicy`]).
    pub sync: SyncPolicy,
    /// With `sync = "interval"`: the longest time between two fsyncs.
    #[serde(with = "humantime_serde")]
    pub sync_interval: Duration,
    /// A log segment file is closed and a new one started past this size.
    pub segment_bytes: u64,
    /// A snapshot is taken after this many logged inputs...
    pub snapshot_every: u64,
    /// ...or after this long with inputs logged, whichever comes first.
    #[serde(with = "humantime_serde")]
    pub snapshot_interval: Duration,
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            mode: StorageMode::File,
            data_dir: PathBuf::from("./data"),
            sync: SyncPolicy::Always,
            sync_interval: Duration::from_millis(10),
            segment_bytes: 64 * 1024 * 1024,
            snapshot_every: 200_000,
            snapshot_interval: Duration::from_secs(300),
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StorageMode {
    #[default]
    File,
    Memory,
}

/// What an acknowledged input survives.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncPolicy {
    /// fsync before any effect is released: survives a power loss.
    #[default]
    Always,
    /// Effects wait for the write; fsync at most every `sync_interval`: a
    /// power loss may lose the last interval.
    Interval,
    /// Effects wait for the write; never fsync (tests, benchmarks): a power
    /// loss may lose what the OS had not yet flushed.
    None,
}

/// Log output.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// `text` or `json`.
    pub format: LogFormat,
    /// A `tracing` filter, e.g. `info` or `switchboard_server=debug`. `RUST_LOG` wins when set.
    pub filter: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig { format: LogFormat::Text, filter: "info".into() }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// Why the config was refused. The text names the key (or the file) and what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum ConfigLoadError {
    #[error("cannot read config file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("config file {path} is not valid TOML: {message}")]
    Syntax { path: PathBuf, message: String },
    #[error("config key `{key}`: {problem}")]
    Key { key: String, problem: String },
}

impl ConfigLoadError {
    fn key(key: impl Into<String>, problem: impl Into<String>) -> Self {
        ConfigLoadError::Key { key: key.into(), problem: problem.into() }
    }

    /// The key at fault, if the problem is one key.
    pub fn key_name(&self) -> Option<&str> {
        match self {
            ConfigLoadError::Key { key, .. } => Some(key),
            _ => None,
        }
    }
}

impl Config {
    /// Reads `path` (if given), applies the `SWITCHBOARD_*` variables in `env`, validates.
    pub fn load(
        path: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigLoadError> {
        let mut table = match path {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|source| ConfigLoadError::Read { path: path.to_owned(), source })?;
                text.parse::<toml::Table>()
                    .map_err(|e| ConfigLoadError::Syntax { path: path.to_owned(), message: e.to_string() })?
            }
            None => toml::Table::new(),
        };
        let overridden = apply_env(&mut table, env)?;
        let mut config = Config::from_table(table, &overridden)?;
        config.source = path.map(Path::to_owned);
        Ok(config)
    }

    /// Parses a TOML text (no environment), validates. For tests and embedding.
    pub fn from_toml_str(text: &str) -> Result<Config, ConfigLoadError> {
        let table = text
            .parse::<toml::Table>()
            .map_err(|e| ConfigLoadError::Syntax { path: PathBuf::from("<string>"), message: e.to_string() })?;
        Config::from_table(table, &HashSet::new())
    }

    fn from_table(mut table: toml::Table, from_env: &HashSet<String>) -> Result<Config, ConfigLoadError> {
        let accounts = Accounts::take_from(&mut table)?;
        let tickets = TicketsConfig::take_from(&mut table)?;
        let mut config: Config = serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(|e| {
            let key = e.path().to_string();
            let mut problem = e.into_inner().to_string();
            if let Some(var) = from_env.iter().find(|k| key == **k || key.starts_with(&format!("{k}."))) {
                problem.push_str(&format!(" (set by environment variable {})", env_name(var)));
            }
            ConfigLoadError::key(key, problem)
        })?;
        config.accounts = accounts;
        config.tickets = tickets;
        config.validate()?;
        Ok(config)
    }

    /// The compiled `[content]` rules, or the key that does not compile.
    pub fn content_rules(&self) -> Result<crate::content::ContentRules, ConfigLoadError> {
        crate::content::ContentRules::new(&self.content).map_err(|e| ConfigLoadError::key(e.key, e.problem))
    }

    /// Each `[[canned]]` entry: the reply rules, and a group or agent of the roster.
    fn validate_canned(&self) -> Result<(), ConfigLoadError> {
        let groups: Vec<String> = self.router.groups.iter().map(|g| g.id.as_str().to_owned()).collect();
        let agents: Vec<String> = self.router.agents.iter().map(|a| a.id.as_str().to_owned()).collect();
        crate::canned::check_config(&self.canned, &groups, &agents)
            .map_err(|(i, problem)| ConfigLoadError::key(format!("canned[{i}]"), problem))
    }

    /// Refuses numbers the server cannot work with, naming the key.
    pub fn validate(&self) -> Result<(), ConfigLoadError> {
        if self.listen == self.admin_listen && self.listen.port() != 0 {
            return Err(ConfigLoadError::key(
                "admin_listen",
                "must differ from `listen`: metrics never go on the public port",
            ));
        }
        if !(self.clock.scale.is_finite() && self.clock.scale > 0.0) {
            return Err(ConfigLoadError::key("clock.scale", "must be a positive number (1.0 is real time)"));
        }
        let g = &self.gateway;
        let positive = [
            ("gateway.outbound_queue", g.outbound_queue),
            ("gateway.replay_buffer", g.replay_buffer),
            ("gateway.recent_command_ids", g.recent_command_ids),
            ("gateway.max_connections", g.max_connections),
            ("gateway.read_buffer_bytes", g.read_buffer_bytes),
            ("gateway.write_buffer_bytes", g.write_buffer_bytes),
            ("gateway.max_message_bytes", g.max_message_bytes),
            ("gateway.driver_queue", g.driver_queue),
        ];
        for (key, value) in positive {
            if value == 0 {
                return Err(ConfigLoadError::key(key, "must be at least 1"));
            }
        }
        if g.ping_interval.is_zero() {
            return Err(ConfigLoadError::key("gateway.ping_interval", "must be greater than zero"));
        }
        if g.idle_timeout <= g.ping_interval {
            return Err(ConfigLoadError::key(
                "gateway.idle_timeout",
                "must be longer than gateway.ping_interval (a live client answers every ping)",
            ));
        }
        g.validate_limits()?;
        self.customers.validate()?;
        self.storage.validate()?;
        self.records.validate()?;
        self.performance.validate()?;
        self.fees.validate()?;
        self.quality.validate()?;
        self.auth.validate()?;
        self.tickets.validate()?;
        self.content_rules()?;
        self.business_calendar()?;
        self.clock_start()?;
        self.shift_plan()?;
        self.discipline.validate()?;
        self.validate_canned()?;
        if g.max_write_buffer_bytes.is_some() {
            return Err(ConfigLoadError::key(
                "gateway.max_write_buffer_bytes",
                "was removed: outgoing frames are no longer refused for their size (an agent's `state` \
                 frame is bounded by router.rules.max_history_bytes); delete the key",
            ));
        }
        self.router.validate().map_err(|e| ConfigLoadError::key(format!("router.{}", e.key), e.problem))
    }
}

impl GatewayConfig {
    /// The origin list, the rate limit and the handshake timeout.
    fn validate_limits(&self) -> Result<(), ConfigLoadError> {
        if self.allowed_origins.is_empty() && !self.allow_any_origin {
            return Err(ConfigLoadError::key(
                "gateway.allowed_origins",
                "is empty: list the sites that embed the widget (e.g. [\"https://shop.example\"]), \
                 or set gateway.allow_any_origin = true to accept every origin",
            ));
        }
        for (i, origin) in self.allowed_origins.iter().enumerate() {
            crate::gateway::origin::Origin::parse(origin)
                .map_err(|problem| ConfigLoadError::key(format!("gateway.allowed_origins[{i}]"), problem))?;
        }
        if self.handshake_timeout.is_zero() {
            return Err(ConfigLoadError::key("gateway.handshake_timeout", "must be greater than zero"));
        }
        if self.message_rate > 0 && self.message_burst == 0 {
            return Err(ConfigLoadError::key("gateway.message_burst", "must be at least 1 (when message_rate is set)"));
        }
        if self.message_rate > 0 && self.flood_refusals == 0 {
            return Err(ConfigLoadError::key(
                "gateway.flood_refusals",
                "must be at least 1 (when message_rate is set)",
            ));
        }
        if self.message_rate > 0 && self.flood_window.is_zero() {
            return Err(ConfigLoadError::key("gateway.flood_window", "must be greater than zero"));
        }
        Ok(())
    }
}

impl StorageConfig {
    fn validate(&self) -> Result<(), ConfigLoadError> {
        if self.mode == StorageMode::File && self.data_dir.as_os_str().is_empty() {
            return Err(ConfigLoadError::key("storage.data_dir", "must name a directory"));
        }
        if self.sync == SyncPolicy::Interval && self.sync_interval.is_zero() {
            return Err(ConfigLoadError::key("storage.sync_interval", "must be greater than zero"));
        }
        if self.segment_bytes < 4096 {
            return Err(ConfigLoadError::key("storage.segment_bytes", "must be at least 4096"));
        }
        if self.snapshot_every == 0 {
            return Err(ConfigLoadError::key("storage.snapshot_every", "must be at least 1"));
        }
        if self.snapshot_interval.is_zero() {
            return Err(ConfigLoadError::key("storage.snapshot_interval", "must be greater than zero"));
        }
        Ok(())
    }
}

fn env_name(key: &str) -> String {
    format!("{ENV_PREFIX}{}", key.replace('.', "__").to_uppercase())
}

/// Applies overrides; returns the dotted keys that were set.
fn apply_env(
    table: &mut toml::Table,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<HashSet<String>, ConfigLoadError> {
    let mut set = HashSet::new();
    for (name, raw) in env {
        let Some(rest) = name.strip_prefix(ENV_PREFIX) else { continue };
        if ENV_NOT_KEYS.contains(&name.as_str()) || rest.is_empty() {
            continue;
        }
        let path: Vec<String> = rest.split("__").map(|p| p.to_lowercase()).collect();
        let key = path.join(".");
        if path.iter().any(|p| p.is_empty()) {
            return Err(ConfigLoadError::key(key, format!("environment variable {name} does not name a key")));
        }
        let value = parse_env_value(&raw);
        let mut node = &mut *table;
        for (i, part) in path.iter().enumerate() {
            if i + 1 == path.len() {
                node.insert(part.clone(), value.clone());
                break;
            }
            let entry = node.entry(part.clone()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
            node = match entry {
                toml::Value::Table(t) => t,
                _ => {
                    return Err(ConfigLoadError::key(
                        path[..=i].join("."),
                        format!("is not a table, so environment variable {name} cannot set a key inside it"),
                    ))
                }
            };
        }
        set.insert(key);
    }
    Ok(set)
}

fn parse_env_value(raw: &str) -> toml::Value {
    match format!("v = {raw}").parse::<toml::Table>() {
        Ok(mut t) => t.remove("v").unwrap_or_else(|| toml::Value::String(raw.to_owned())),
        Err(_) => toml::Value::String(raw.to_owned()),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The least a config needs (the calendar's tests build on it).
    pub(crate) const MINIMAL: &str = r#"
        [gateway]
        allowed_origins = ["https://shop.example"]
        [[router.groups]]
        id = "general"
        [[router.agents]]
        id = "alice"
        groups = [{ group = "general" }]
    "#;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn the_repository_default_config_loads() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/default.toml");
        let config = Config::load(Some(&path), Vec::new()).unwrap();
        assert_eq!(config.listen, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(config.admin_listen, "127.0.0.1:9090".parse().unwrap());
        assert!(config.router.groups.len() >= 3);
        assert!(config.router.agents.iter().any(|a| a.role == crate::router::config::Role::Supervisor));
        // The shipped config lets the server's own pages (demo shop, console) connect, and nothing else.
        let own = format!("http://{}", config.listen);
        assert!(config.gateway.allowed_origins.contains(&own), "{:?}", config.gateway.allowed_origins);
        assert!(!config.gateway.allow_any_origin);
    }

    #[test]
    fn env_overrides_name_nested_keys() {
        let mut table: toml::Table = MINIMAL.parse().unwrap();
        let set = apply_env(
            &mut table,
            env(&[
                ("SWITCHBOARD_LISTEN", "0.0.0.0:18080"),
                ("SWITCHBOARD_CLOCK__SCALE", "600"),
                ("SWITCHBOARD_ROUTER__RULES__AGENT_GRACE", "45s"),
                ("SWITCHBOARD_CONFIG", "ignored.toml"),
                ("HOME", "/root"),
            ]),
        )
        .unwrap();
        let config = Config::from_table(table, &set).unwrap();
        assert_eq!(config.listen, "0.0.0.0:18080".parse().unwrap());
        assert_eq!(config.clock.scale, 600.0);
        assert_eq!(config.router.rules.agent_grace, Duration::from_secs(45));
    }

    #[test]
    fn a_bad_value_names_its_key() {
        let err =
            Config::from_toml_str(&MINIMAL.replace("[gateway]", "[gateway]\noutbound_queue = \"many\"")).unwrap_err();
        assert_eq!(err.key_name(), Some("gateway.outbound_queue"), "{err}");

        let err = Config::from_toml_str(&format!("{MINIMAL}\n[router.rules]\nagent_grace = \"soon\"\n")).unwrap_err();
        assert_eq!(err.key_name(), Some("router.rules.agent_grace"), "{err}");

        let err = Config::from_toml_str(&format!("{MINIMAL}\n[clock]\nscale = 0\n")).unwrap_err();
        assert_eq!(err.key_name(), Some("clock.scale"), "{err}");

        let err = Config::from_toml_str("listen = \"nowhere\"\n").unwrap_err();
        assert_eq!(err.key_name(), Some("listen"), "{err}");
        assert!(err.to_string().contains("config key `listen`"), "{err}");
    }

    #[test]
    fn router_validation_errors_are_prefixed() {
        let text = MINIMAL.replace("group = \"general\"", "group = \"nope\"");
        let err = Config::from_toml_str(&text).unwrap_err();
        assert_eq!(err.key_name(), Some("router.agents[0].groups[0].group"), "{err}");
    }

    #[test]
    fn an_unknown_key_is_refused_and_env_is_blamed() {
        let mut table: toml::Table = MINIMAL.parse().unwrap();
        let set = apply_env(&mut table, env(&[("SWITCHBOARD_GATEWAY__NOPE", "1")])).unwrap();
        let err = Config::from_table(table, &set).unwrap_err();
        assert!(err.to_string().contains("nope"), "{err}");
        assert!(err.to_string().contains("SWITCHBOARD_GATEWAY__NOPE"), "{err}");
    }

    #[test]
    fn an_empty_origin_list_needs_allow_any_origin() {
        let text = MINIMAL.replace("allowed_origins = [\"https://shop.example\"]", "allowed_origins = []");
        let err = Config::from_toml_str(&text).unwrap_err();
        assert_eq!(err.key_name(), Some("gateway.allowed_origins"), "{err}");
        assert!(err.to_string().contains("allow_any_origin"), "the error says how to allow any: {err}");
        let text = MINIMAL.replace("allowed_origins = [\"https://shop.example\"]", "allow_any_origin = true");
        assert!(Config::from_toml_str(&text).unwrap().gateway.allow_any_origin);
    }

    #[test]
    fn the_removed_write_buffer_cap_is_refused_with_what_replaced_it() {
        let text = MINIMAL.replace("[gateway]", "[gateway]\nmax_write_buffer_bytes = 4194304");
        let err = Config::from_toml_str(&text).unwrap_err();
        assert_eq!(err.key_name(), Some("gateway.max_write_buffer_bytes"), "{err}");
        assert!(err.to_string().contains("max_history_bytes"), "{err}");
    }

    #[test]
    fn an_origin_that_is_not_one_names_its_entry() {
        let text = MINIMAL.replace("\"https://shop.example\"", "\"https://shop.example\", \"shop.example/chat\"");
        let err = Config::from_toml_str(&text).unwrap_err();
        assert_eq!(err.key_name(), Some("gateway.allowed_origins[1]"), "{err}");
    }

    #[test]
    fn limits_and_the_identity_secret_are_checked() {
        let set = |line: &str| MINIMAL.replace("[gateway]", &format!("[gateway]\n{line}"));
        let err = Config::from_toml_str(&set("handshake_timeout = \"0s\"")).unwrap_err();
        assert_eq!(err.key_name(), Some("gateway.handshake_timeout"), "{err}");
        let err = Config::from_toml_str(&set("message_burst = 0")).unwrap_err();
        assert_eq!(err.key_name(), Some("gateway.message_burst"), "{err}");
        assert!(Config::from_toml_str(&set("message_rate = 0\nmessage_burst = 0")).is_ok(), "no limit, no burst");
        let err = Config::from_toml_str(&format!("{MINIMAL}\n[customers]\nidentity_secret = \"short\"\n")).unwrap_err();
        assert_eq!(err.key_name(), Some("customers.identity_secret"), "{err}");
        assert!(!err.to_string().contains("short\""), "the secret is not echoed: {err}");
    }

    #[test]
    fn the_identity_secret_comes_from_the_environment_and_is_never_printed() {
        let mut table: toml::Table = MINIMAL.parse().unwrap();
        let secret = "s3cret-from-the-environment";
        let set = apply_env(&mut table, env(&[("SWITCHBOARD_CUSTOMERS__IDENTITY_SECRET", secret)])).unwrap();
        let config = Config::from_table(table, &set).unwrap();
        assert_eq!(config.customers.identity_secret, secret);
        assert!(!format!("{config:?}").contains(secret));
    }
}
