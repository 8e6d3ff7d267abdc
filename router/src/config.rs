//! Router configuration: the rules' numbers, the skill groups and the roster.
//!
//! Every number in `domain.md` is here with its default. [`RouterConfig::validate`]
//! refuses a config that cannot work, naming the key.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::ids::{AgentId, GroupId};

/// Everything the router core needs to run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouterConfig {
    #[serde(default)]
    pub rules: Rules,
    #[serde(default)]
    pub groups: Vec<GroupConfig>,
    #[serde(default)]
    pub agents: Vec<AgentConfig>,
}

/// How the dispatcher picks among eligible agents of a group.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AssignmentStrategy {
    /// Fewest active sessions first, ties to the longest idle.
    #[default]
    LeastLoaded,
    /// The agent who has waited longest since their last assignment.
    LongestIdle,
    /// Strict rotation in order of last assignment.
    RoundRobin,
}

/// The numbers behind the rules. Defaults are the handbook's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Rules {
    /// An unanswered customer message this old earns the agent a warning.
    #[serde(with = "humantime_serde")]
    pub reply_warning: Duration,
    /// An unanswered customer message this old is a slow-reply violation.
    #[serde(with = "humantime_serde")]
    pub reply_violation: Duration,
    /// Shortest acceptable handoff note, in characters after trimming.
    pub handoff_note_min_chars: usize,
    /// Longest handoff note, in characters.
    pub handoff_note_max_chars: usize,
    /// Longest chat message, in characters.
    pub message_max_chars: usize,
    /// How long a disconnected agent keeps their sessions.
    #[serde(with = "humantime_serde")]
    pub agent_grace: Duration,
    /// How long a disconnected customer's session waits for them to resume.
    #[serde(with = "humantime_serde")]
    pub customer_grace: Duration,
    /// A customer silent this long after the agent's last reply is idled out.
    #[serde(with = "humantime_serde")]
    pub customer_idle: Duration,
    /// How long a customer has to accept a transfer to another group.
    #[serde(with = "humantime_serde")]
    pub consent_timeout: Duration,
    /// How long after closing a customer may still rate the session.
    #[serde(with = "humantime_serde")]
    pub rating_window: Duration,
    pub assignment_strategy: AssignmentStrategy,
    /// At most one queue-position update per waiting customer per interval...
    #[serde(with = "humantime_serde")]
    pub queue_update_interval: Duration,
    /// ...except the first `queue_update_front` customers, who get every change.
    pub queue_update_front: usize,
    /// The wait estimate's pace before a group has measured its own: the
    /// wait per queue position with one agent who can serve (shared among
    /// several). The default is the handbook's efficiency target, 15
    /// customers per agent per hour. See `docs/domain.md`, "Waiting customers".
    #[serde(with = "humantime_serde")]
    pub default_wait_per_position: Duration,
    /// Messages kept per session (oldest dropped first); travels with transfers.
    pub max_history: usize,
    /// Bytes of message text kept per session (UTF-8; oldest messages dropped
    /// first): bounds the memory of a chat and the size of an agent's
    /// `state` frame. At least 4 x `message_max_chars`.
    pub max_history_bytes: usize,
    pub transfers: TransferRules,
    pub breaks: BreakRules,
    pub shedding: SheddingRules,
    pub complaint: ComplaintRules,
    pub closes: CloseRules,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            reply_warning: Duration::from_secs(60),
            reply_violation: Duration::from_secs(180),
            handoff_note_min_chars: 10,
            handoff_note_max_chars: 2000,
            message_max_chars: 5000,
            agent_grace: Duration::from_secs(30),
            customer_grace: Duration::from_secs(120),
            customer_idle: Duration::from_secs(600),
            consent_timeout: Duration::from_secs(60),
            rating_window: Duration::from_secs(600),
            assignment_strategy: AssignmentStrategy::LeastLoaded,
            queue_update_interval: Duration::from_secs(5),
            queue_update_front: 10,
            default_wait_per_position: Duration::from_secs(4 * 60),
            max_history: 200,
            max_history_bytes: 64 * 1024,
            transfers: TransferRules::default(),
            breaks: BreakRules::default(),
            shedding: SheddingRules::default(),
            complaint: ComplaintRules::default(),
            closes: CloseRules::default(),
        }
    }
}

/// When a transfer is flagged as malicious.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TransferRules {
    /// A transfer back to the agent (or group) it came from within this window is ping-pong.
    #[serde(with = "humantime_serde")]
    pub ping_pong_window: Duration,
    /// More transfers than this of one session are flagged.
    pub max_per_session: u32,
}

impl Default for TransferRules {
    fn default() -> Self {
        TransferRules { ping_pong_window: Duration::from_secs(600), max_per_session: 3 }
    }
}

/// When a break is flagged as abusive.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BreakRules {
    /// A break while one of the agent's groups has a customer waiting longer than this.
    #[serde(with = "humantime_serde")]
    pub blocked_wait: Duration,
    /// A break this soon after being assigned a session.
    #[serde(with = "humantime_serde")]
    pub after_assignment: Duration,
    /// More breaks than this in one shift.
    pub max_per_shift: u32,
    /// More break time than this in one shift.
    #[serde(with = "humantime_serde")]
    pub max_total_per_shift: Duration,
}

impl Default for BreakRules {
    fn default() -> Self {
        BreakRules {
            blocked_wait: Duration::from_secs(60),
            after_assignment: Duration::from_secs(30),
            max_per_shift: 3,
            max_total_per_shift: Duration::from_secs(30 * 60),
        }
    }
}

/// When an agent's disconnects count as shedding sessions onto others.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SheddingRules {
    /// How far back grace expiries are counted.
    #[serde(with = "humantime_serde")]
    pub window: Duration,
    /// This many grace expiries that moved sessions to others, within `window`, raise a flag.
    pub max_sheds: u32,
}

impl Default for SheddingRules {
    fn default() -> Self {
        SheddingRules { window: Duration::from_secs(3600), max_sheds: 2 }
    }
}

/// Complaint-tendency signals in customer messages.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ComplaintRules {
    /// Words or phrases that ask for a phone call (matched case-insensitively).
    pub phone_words: Vec<String>,
    /// Abusive words or phrases (matched case-insensitively).
    pub abusive_words: Vec<String>,
    /// The same question this many times is a signal...
    pub repeat_threshold: u32,
    /// ...counting among the customer's last this many questions.
    pub repeat_lookback: u32,
    /// A message with fewer letters and digits than this is not a question
    /// (an "ok" or "?" repeated is no complaint).
    pub question_min_chars: u32,
    /// This many customer messages...
    pub burst_messages: u32,
    /// ...within this window is a signal.
    #[serde(with = "humantime_serde")]
    pub burst_window: Duration,
}

impl Default for ComplaintRules {
    fn default() -> Self {
        let words = |ws: &[&str]| ws.iter().map(|w| w.to_string()).collect();
        ComplaintRules {
            phone_words: words(&["call me", "phone call", "phone me", "give me a call", "电话", "打给我", "来电"]),
            abusive_words: words(&["idiot", "stupid", "useless", "damn", "scam", "垃圾", "骗子", "傻", "废物", "滚"]),
            repeat_threshold: 3,
            repeat_lookback: 20,
            question_min_chars: 2,
            burst_messages: 6,
            burst_window: Duration::from_secs(20),
        }
    }
}

/// When an agent's close is a conduct flag, beyond the rules that need no
/// number (an unanswered message; `resolved` or `other` unconfirmed).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CloseRules {
    /// A close as `customer_unresponsive` needs the customer silent this
    /// long since the closing agent's last message.
    #[serde(with = "humantime_serde")]
    pub unresponsive_after: Duration,
}

impl Default for CloseRules {
    fn default() -> Self {
        CloseRules { unresponsive_after: Duration::from_secs(180) }
    }
}

/// A skill group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupConfig {
    pub id: GroupId,
    /// Shown to customers; defaults to the id.
    #[serde(default)]
    pub name: Option<String>,
    /// Waiting customers beyond this are refused (`queue_full`): new
    /// customers, and transfers to the group when asked for. A session already
    /// in service always keeps a place: one whose agent was lost, or a
    /// cross-group transfer the customer accepts after the queue filled.
    #[serde(default = "default_max_queue")]
    pub max_queue: usize,
    /// Groups whose agents may also serve this group's customers...
    #[serde(default)]
    pub overflow_to: Vec<GroupId>,
    /// ...once a customer has waited this long.
    #[serde(default = "default_overflow_after", with = "humantime_serde")]
    pub overflow_after: Duration,
    /// Told to customers when no agent is online, e.g. "Mon-Fri 09:00-18:00".
    #[serde(default)]
    pub service_hours: Option<String>,
}

fn default_max_queue() -> usize {
    10_000
}
fn default_overflow_after() -> Duration {
    Duration::from_secs(120)
}

/// What an agent may do: agents serve; supervisors also see everything.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    #[default]
    Agent,
    Supervisor,
}

/// A group membership; a higher level is preferred for assignment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Membership {
    pub group: GroupId,
    #[serde(default = "default_level")]
    pub level: u8,
}

fn default_level() -> u8 {
    1
}

/// One agent in the roster.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentConfig {
    pub id: AgentId,
    /// Shown to customers; defaults to the id.
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub role: Role,
    /// Most sessions served at once.
    #[serde(default = "default_capacity")]
    pub capacity: u32,
    #[serde(default)]
    pub groups: Vec<Membership>,
}

fn default_capacity() -> u32 {
    3
}

/// A config that cannot work, naming the key at fault.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("config key `{key}`: {problem}")]
pub struct ConfigError {
    pub key: String,
    pub problem: String,
}

fn refuse(key: impl Into<String>, problem: impl Into<String>) -> Result<(), ConfigError> {
    Err(ConfigError { key: key.into(), problem: problem.into() })
}

impl Rules {
    /// Refuses rules that cannot work (a warning that does not come before
    /// the violation, zero limits), naming the key as `rules.…`.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let r = self;
        if r.reply_warning.is_zero() {
            return refuse("rules.reply_warning", "must be greater than zero");
        }
        if r.reply_warning >= r.reply_violation {
            return refuse(
                "rules.reply_warning",
                format!(
                    "must be earlier than rules.reply_violation ({:?} >= {:?})",
                    r.reply_warning, r.reply_violation
                ),
            );
        }
        if r.handoff_note_min_chars == 0 {
            return refuse("rules.handoff_note_min_chars", "must be at least 1: a transfer always carries a note");
        }
        if r.handoff_note_max_chars < r.handoff_note_min_chars {
            return refuse("rules.handoff_note_max_chars", "must not be below rules.handoff_note_min_chars");
        }
        if r.message_max_chars == 0 {
            return refuse("rules.message_max_chars", "must be at least 1");
        }
        if r.max_history == 0 {
            return refuse("rules.max_history", "must be at least 1");
        }
        if r.max_history_bytes < r.message_max_chars.saturating_mul(4) {
            return refuse(
                "rules.max_history_bytes",
                format!(
                    "must hold the longest message: at least 4 x rules.message_max_chars = {}",
                    r.message_max_chars.saturating_mul(4)
                ),
            );
        }
        if r.default_wait_per_position.is_zero() {
            return refuse("rules.default_wait_per_position", "must be greater than zero");
        }
        if r.queue_update_interval.is_zero() {
            return refuse("rules.queue_update_interval", "must be greater than zero");
        }
        if r.consent_timeout.is_zero() {
            return refuse("rules.consent_timeout", "must be greater than zero");
        }
        self.validate_conduct()?;
        self.complaint.validate()
    }

    /// The conduct rules' windows must be open and their counts reachable.
    fn validate_conduct(&self) -> Result<(), ConfigError> {
        let windows = [
            ("rules.transfers.ping_pong_window", self.transfers.ping_pong_window),
            ("rules.breaks.after_assignment", self.breaks.after_assignment),
            ("rules.breaks.max_total_per_shift", self.breaks.max_total_per_shift),
            ("rules.shedding.window", self.shedding.window),
            ("rules.closes.unresponsive_after", self.closes.unresponsive_after),
        ];
        if let Some((key, _)) = windows.iter().find(|(_, window)| window.is_zero()) {
            return refuse(*key, "must be greater than zero");
        }
        let counts = [
            ("rules.transfers.max_per_session", self.transfers.max_per_session),
            ("rules.breaks.max_per_shift", self.breaks.max_per_shift),
            ("rules.shedding.max_sheds", self.shedding.max_sheds),
        ];
        if let Some((key, _)) = counts.iter().find(|(_, count)| *count == 0) {
            return refuse(*key, "must be at least 1");
        }
        Ok(())
    }
}

/// Most messages or questions one session remembers for a complaint rule:
/// they are kept (and saved) per open session.
pub const MAX_REMEMBERED_PER_SESSION: u32 = 1000;

impl ComplaintRules {
    fn validate(&self) -> Result<(), ConfigError> {
        for (list, words) in [("phone_words", &self.phone_words), ("abusive_words", &self.abusive_words)] {
            if let Some(i) = words.iter().position(|w| w.trim().is_empty()) {
                return refuse(format!("rules.complaint.{list}[{i}]"), "must not be blank");
            }
        }
        let least = [
            ("rules.complaint.repeat_threshold", self.repeat_threshold, 2, ""),
            (
                "rules.complaint.repeat_lookback",
                self.repeat_lookback,
                self.repeat_threshold.saturating_sub(1),
                " (rules.complaint.repeat_threshold - 1: fewer earlier questions never make a repeat)",
            ),
            ("rules.complaint.question_min_chars", self.question_min_chars, 1, ""),
            ("rules.complaint.burst_messages", self.burst_messages, 2, ""),
        ];
        if let Some((key, _, min, why)) = least.iter().find(|(_, value, min, _)| value < min) {
            return refuse(*key, format!("must be at least {min}{why}"));
        }
        let kept = [
            ("rules.complaint.repeat_lookback", self.repeat_lookback),
            ("rules.complaint.burst_messages", self.burst_messages),
        ];
        if let Some((key, _)) = kept.iter().find(|(_, value)| *value > MAX_REMEMBERED_PER_SESSION) {
            return refuse(*key, format!("must be at most {MAX_REMEMBERED_PER_SESSION} (remembered per open session)"));
        }
        if self.burst_window.is_zero() {
            return refuse("rules.complaint.burst_window", "must be greater than zero");
        }
        Ok(())
    }
}

impl RouterConfig {
    /// Refuses configs that cannot work: unknown groups, zero capacities,
    /// a warning that does not come before the violation, duplicates.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.rules.validate()?;
        if self.groups.is_empty() {
            return refuse("groups", "at least one skill group is needed");
        }
        let mut group_ids = HashSet::new();
        for (i, g) in self.groups.iter().enumerate() {
            if g.id.as_str().trim().is_empty() {
                return refuse(format!("groups[{i}].id"), "must not be empty");
            }
            if !group_ids.insert(g.id.clone()) {
                return refuse(format!("groups[{i}].id"), format!("duplicate group id `{}`", g.id));
            }
            if g.max_queue == 0 {
                return refuse(format!("groups[{i}].max_queue"), "must be at least 1");
            }
        }
        for (i, g) in self.groups.iter().enumerate() {
            for (j, o) in g.overflow_to.iter().enumerate() {
                if !group_ids.contains(o) {
                    return refuse(format!("groups[{i}].overflow_to[{j}]"), format!("unknown group `{o}`"));
                }
                if *o == g.id {
                    return refuse(format!("groups[{i}].overflow_to[{j}]"), "a group cannot overflow to itself");
                }
            }
        }
        if self.agents.len() > super::state::MAX_AGENTS {
            return refuse("agents", format!("at most {} agents in one roster", super::state::MAX_AGENTS));
        }
        let mut agent_ids = HashSet::new();
        for (i, a) in self.agents.iter().enumerate() {
            if a.id.as_str().trim().is_empty() {
                return refuse(format!("agents[{i}].id"), "must not be empty");
            }
            if !agent_ids.insert(a.id.clone()) {
                return refuse(format!("agents[{i}].id"), format!("duplicate agent id `{}`", a.id));
            }
            if a.capacity == 0 {
                return refuse(format!("agents[{i}].capacity"), "must be at least 1");
            }
            if a.groups.is_empty() && a.role == Role::Agent {
                return refuse(format!("agents[{i}].groups"), "an agent must belong to at least one group");
            }
            let mut seen = HashSet::new();
            for (j, m) in a.groups.iter().enumerate() {
                if !group_ids.contains(&m.group) {
                    return refuse(format!("agents[{i}].groups[{j}].group"), format!("unknown group `{}`", m.group));
                }
                if !seen.insert(m.group.clone()) {
                    return refuse(
                        format!("agents[{i}].groups[{j}].group"),
                        format!("group `{}` listed twice", m.group),
                    );
                }
            }
        }
        Ok(())
    }
}

impl RouterConfig {
    /// Whether `new` has the same skill groups as `self` (the config a
    /// router was saved with), in the same order: a saved router can resume
    /// under `new` only then, since its state refers to groups by position.
    /// Rules may differ ([`super::Router::set_rules`] applies them), and so
    /// may the agents ([`super::Router::change_roster`]). `Err` says in one
    /// sentence what changed, naming each group, for the operator.
    pub fn same_groups(&self, new: &RouterConfig) -> Result<(), String> {
        let changes = roster_changes("group", &self.groups, &new.groups, |g| &g.id, group_differences);
        if changes.is_empty() {
            return Ok(());
        }
        Err(format!("the skill groups changed since the state was saved: {}", changes.join("; ")))
    }
}

/// What changed between two lists of groups: those removed,
/// added, changed (naming the fields), and, when the same ones are listed,
/// those moved to another position (positions are how saved state refers
/// to them; after an addition or removal the moves would only be noise).
fn roster_changes<T, I: Eq + std::hash::Hash + std::fmt::Display>(
    what: &str,
    old: &[T],
    new: &[T],
    id: impl Fn(&T) -> &I,
    differences: impl Fn(&T, &T) -> Vec<&'static str>,
) -> Vec<String> {
    // Indexed: a roster of tens of thousands of agents is checked at every start.
    let old_positions: HashMap<&I, usize> = old.iter().enumerate().map(|(i, x)| (id(x), i)).collect();
    let new_positions: HashMap<&I, usize> = new.iter().enumerate().map(|(i, x)| (id(x), i)).collect();
    let mut changes = Vec::new();
    let mut moves = Vec::new();
    for (i, o) in old.iter().enumerate() {
        let Some(&j) = new_positions.get(id(o)) else {
            changes.push(format!("{what} `{}` was removed", id(o)));
            continue;
        };
        let fields = differences(o, &new[j]);
        if !fields.is_empty() {
            changes.push(format!("{what} `{}` changed its {}", id(o), fields.join(", ")));
        }
        if i != j {
            moves.push(format!("{what} `{}` moved from position {} to {}", id(o), i + 1, j + 1));
        }
    }
    let added: Vec<String> = new
        .iter()
        .filter(|n| !old_positions.contains_key(id(n)))
        .map(|n| format!("{what} `{}` was added", id(n)))
        .collect();
    if added.is_empty() && old.len() == new.len() {
        changes.extend(moves);
    }
    changes.extend(added);
    changes
}

fn group_differences(a: &GroupConfig, b: &GroupConfig) -> Vec<&'static str> {
    let fields = [
        ("name", a.name != b.name),
        ("max_queue", a.max_queue != b.max_queue),
        ("overflow_to", a.overflow_to != b.overflow_to),
        ("overflow_after", a.overflow_after != b.overflow_after),
        // Not `service_hours`: hours are calendar config, read again at each start, not routing identity.
    ];
    fields.into_iter().filter(|(_, differs)| *differs).map(|(name, _)| name).collect()
}
