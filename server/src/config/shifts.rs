//! `[shifts]` (the leave notice and the schedule) and `[discipline]` (the
//! handbook's thresholds): see `docs/shifts.md`. The schedule is expanded
//! and checked at start and on reload, each problem naming its key.

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::civil::{Date, Time, Weekday};
use serde::Deserialize;
use switchboard_fees::Level;

use super::{Config, ConfigLoadError, TimeText};

/// A schedule entry expands to at most this many days (a year and a day).
const MAX_DAYS: i64 = 366;

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ShiftsConfig {
    /// Leave must be asked at least this long before the shift; later is a warning.
    #[serde(with = "humantime_serde")]
    pub leave_notice: Duration,
    pub schedule: Vec<ScheduleEntry>,
}

impl Default for ShiftsConfig {
    fn default() -> Self {
        ShiftsConfig { leave_notice: Duration::from_secs(2 * 3600), schedule: Vec::new() }
    }
}

/// One `[[shifts.schedule]]` entry: a `date`, or `weekdays` from `from` until `until` (inclusive).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleEntry {
    pub agent: String,
    pub date: Option<TimeText>,
    #[serde(default)]
    pub weekdays: Vec<String>,
    pub from: Option<TimeText>,
    pub until: Option<TimeText>,
    pub start: String,
    pub end: String,
    pub groups: Option<Vec<String>>,
    pub level: Option<String>,
}

/// One shift as planned, in local civil time of the calendar's zone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedShift {
    pub agent: String,
    pub day: Date,
    pub start: Time,
    pub end: Time,
    pub groups: Vec<String>,
    pub level: Level,
}

impl PlannedShift {
    /// `config:AGENT:DATE:HHMM`: the same entry keeps its id across restarts and reloads.
    pub fn config_id(&self) -> String {
        format!("config:{}:{}:{:02}{:02}", self.agent, self.day, self.start.hour(), self.start.minute())
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DisciplineConfig {
    /// Warnings within `warning_window` that suspend an agent.
    pub warnings_to_suspend: u32,
    #[serde(with = "humantime_serde")]
    pub warning_window: Duration,
    /// How long a suspension lasts.
    #[serde(with = "humantime_serde")]
    pub suspension: Duration,
    /// Suspensions within `suspension_window` that disqualify an agent.
    pub suspensions_to_disqualify: u32,
    #[serde(with = "humantime_serde")]
    pub suspension_window: Duration,
    /// How often discipline is computed again from the records (also after leave is filed).
    #[serde(with = "humantime_serde")]
    pub recompute_every: Duration,
    /// Agents an admin reinstated: warnings and suspensions before `since` no longer count.
    pub reinstated: Vec<Reinstated>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reinstated {
    pub agent: String,
    pub since: TimeText,
}

impl Default for DisciplineConfig {
    fn default() -> Self {
        let day = |n: u64| Duration::from_secs(n * 86_400);
        DisciplineConfig {
            warnings_to_suspend: 3,
            warning_window: day(183),
            suspension: day(30),
            suspensions_to_disqualify: 2,
            suspension_window: day(365),
            recompute_every: Duration::from_secs(60),
            reinstated: Vec::new(),
        }
    }
}

impl DisciplineConfig {
    pub fn rules(&self) -> switchboard_discipline::Rules {
        let ms = |d: Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        switchboard_discipline::Rules {
            warnings_to_suspend: self.warnings_to_suspend,
            warning_window: ms(self.warning_window),
            suspension: ms(self.suspension),
            suspensions_to_disqualify: self.suspensions_to_disqualify,
            suspension_window: ms(self.suspension_window),
        }
    }
}

impl DisciplineConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigLoadError> {
        let counts = [
            ("discipline.warnings_to_suspend", self.warnings_to_suspend),
            ("discipline.suspensions_to_disqualify", self.suspensions_to_disqualify),
        ];
        for (key, n) in counts {
            if n == 0 {
                return Err(ConfigLoadError::key(key, "must be at least 1"));
            }
        }
        let lengths = [
            ("discipline.warning_window", self.warning_window),
            ("discipline.suspension", self.suspension),
            ("discipline.suspension_window", self.suspension_window),
            ("discipline.recompute_every", self.recompute_every),
        ];
        for (key, d) in lengths {
            if d.is_zero() {
                return Err(ConfigLoadError::key(key, "must be longer than zero"));
            }
        }
        for (i, r) in self.reinstated.iter().enumerate() {
            date_at(&Some(r.since.clone()), format!("discipline.reinstated[{i}].since"))?;
        }
        Ok(())
    }

    /// Reinstated agents and the local date from which their record starts again.
    pub fn reinstated_since(&self) -> BTreeMap<String, Date> {
        self.reinstated.iter().filter_map(|r| Some((r.agent.clone(), plain_date(&r.since.0)?))).collect()
    }
}

impl Config {
    /// The schedule expanded to one shift per day, checked against the roster and groups.
    pub fn shift_plan(&self) -> Result<Vec<PlannedShift>, ConfigLoadError> {
        let mut plan = Vec::new();
        for (i, entry) in self.shifts.schedule.iter().enumerate() {
            let key = |field: &str| format!("shifts.schedule[{i}].{field}");
            let (groups, level) = self.entry_people(entry, &key)?;
            let start = clock_time(&entry.start).ok_or_else(|| bad_time(key("start"), &entry.start))?;
            let end = clock_time(&entry.end).ok_or_else(|| bad_time(key("end"), &entry.end))?;
            if start == end {
                return Err(ConfigLoadError::key(key("end"), "must differ from start (a shift has a length)"));
            }
            for day in entry_days(entry, &key)? {
                let shift = PlannedShift { agent: entry.agent.clone(), day, start, end, groups: groups.clone(), level };
                plan.push(shift);
            }
        }
        check_overlaps(&plan)?;
        Ok(plan)
    }

    /// The entry's groups (default: the agent's roster groups) and level, checked.
    fn entry_people(
        &self,
        entry: &ScheduleEntry,
        key: &dyn Fn(&str) -> String,
    ) -> Result<(Vec<String>, Level), ConfigLoadError> {
        let agent = self.router.agents.iter().find(|a| a.id.as_str() == entry.agent).ok_or_else(|| {
            ConfigLoadError::key(key("agent"), format!("`{}` is not in the roster ([[router.agents]])", entry.agent))
        })?;
        let roster_groups = || agent.groups.iter().map(|m| m.group.as_str().to_owned()).collect();
        let groups: Vec<String> = entry.groups.clone().unwrap_or_else(roster_groups);
        for (j, group) in groups.iter().enumerate() {
            if !self.router.groups.iter().any(|g| g.id.as_str() == group) {
                return Err(ConfigLoadError::key(
                    format!("{}[{j}]", key("groups")),
                    format!("no skill group `{group}`"),
                ));
            }
        }
        let level = match &entry.level {
            None => Level::Beginner,
            Some(name) => level_named(name)
                .ok_or_else(|| ConfigLoadError::key(key("level"), "must be \"beginner\" or \"rising\""))?,
        };
        Ok((groups, level))
    }
}

/// A level by its name (`beginner`, `rising`).
pub fn level_named(name: &str) -> Option<Level> {
    Level::ALL.into_iter().find(|l| l.name() == name)
}

/// `HH:MM`, 00:00 to 23:59.
pub fn clock_time(text: &str) -> Option<Time> {
    let (h, m) = text.trim().split_once(':')?;
    let ok = |s: &str| s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit());
    if !ok(h) || !ok(m) {
        return None;
    }
    Time::new(h.parse().ok()?, m.parse().ok()?, 0, 0).ok()
}

fn bad_time(key: String, text: &str) -> ConfigLoadError {
    ConfigLoadError::key(key, format!("`{text}` is not a time of day: write it as HH:MM, e.g. \"09:00\""))
}

/// A `YYYY-MM-DD` date.
pub fn plain_date(text: &str) -> Option<Date> {
    let text = text.trim();
    (text.len() == 10).then(|| text.parse::<Date>().ok()).flatten()
}

fn date_at(text: &Option<TimeText>, key: String) -> Result<Date, ConfigLoadError> {
    let text = text.as_ref().map(|t| t.0.as_str()).unwrap_or("");
    plain_date(text).ok_or_else(|| ConfigLoadError::key(key, format!("`{text}` is not a date: write it as YYYY-MM-DD")))
}

/// The days of one entry: its `date`, or each of its `weekdays` from `from` to `until`.
fn entry_days(entry: &ScheduleEntry, key: &dyn Fn(&str) -> String) -> Result<Vec<Date>, ConfigLoadError> {
    if entry.weekdays.is_empty() {
        if entry.from.is_some() || entry.until.is_some() {
            return Err(ConfigLoadError::key(key("weekdays"), "`from` and `until` need `weekdays`"));
        }
        return Ok(vec![date_at(&entry.date, key("date"))?]);
    }
    if entry.date.is_some() {
        return Err(ConfigLoadError::key(key("date"), "give either `date` or `weekdays` with `from` and `until`"));
    }
    let weekdays = entry
        .weekdays
        .iter()
        .enumerate()
        .map(|(j, name)| {
            weekday(name).ok_or_else(|| {
                ConfigLoadError::key(
                    format!("{}[{j}]", key("weekdays")),
                    "must be one of mon, tue, wed, thu, fri, sat, sun",
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let (from, until) = (date_at(&entry.from, key("from"))?, date_at(&entry.until, key("until"))?);
    let days = (until - from).get_days() as i64;
    if !(0..MAX_DAYS).contains(&days) {
        return Err(ConfigLoadError::key(
            key("until"),
            format!("must be on or after `from` and within {MAX_DAYS} days of it"),
        ));
    }
    Ok(from
        .series(jiff::ToSpan::days(1))
        .take_while(|d| *d <= until)
        .filter(|d| weekdays.contains(&d.weekday()))
        .collect())
}

fn weekday(name: &str) -> Option<Weekday> {
    let all = [
        ("mon", Weekday::Monday),
        ("tue", Weekday::Tuesday),
        ("wed", Weekday::Wednesday),
        ("thu", Weekday::Thursday),
        ("fri", Weekday::Friday),
        ("sat", Weekday::Saturday),
        ("sun", Weekday::Sunday),
    ];
    all.iter().find(|(n, _)| *n == name.trim().to_ascii_lowercase()).map(|(_, d)| *d)
}

/// Two planned shifts of one agent may not overlap (in local minutes; an end at or before the start is the next day).
fn check_overlaps(plan: &[PlannedShift]) -> Result<(), ConfigLoadError> {
    let minutes = |t: Time| i64::from(t.hour()) * 60 + i64::from(t.minute());
    let mut by_agent: BTreeMap<&str, Vec<(i64, i64, &PlannedShift)>> = BTreeMap::new();
    for s in plan {
        let day = i64::from((s.day - Date::constant(2000, 1, 1)).get_days()) * 1440;
        let (start, mut end) = (day + minutes(s.start), day + minutes(s.end));
        if end <= start {
            end += 1440;
        }
        by_agent.entry(&s.agent).or_default().push((start, end, s));
    }
    for spans in by_agent.values_mut() {
        spans.sort_by_key(|(start, ..)| *start);
        for pair in spans.windows(2) {
            if pair[1].0 < pair[0].1 {
                return Err(ConfigLoadError::key(
                    "shifts.schedule",
                    format!("shifts {} and {} of the same agent overlap", pair[0].2.config_id(), pair[1].2.config_id()),
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    const ROSTER: &str = r#"
[gateway]
allow_any_origin = true
[[router.groups]]
id = "general"
[[router.groups]]
id = "refunds"
[[router.agents]]
id = "ann"
groups = [{ group = "general" }]
"#;

    fn load(schedule: &str) -> Result<Config, String> {
        Config::from_toml_str(&format!("{ROSTER}\n{schedule}")).map_err(|e| e.to_string())
    }

    #[test]
    fn a_weekly_entry_is_one_shift_per_matching_day_with_stable_ids() {
        let config = load(
            "[[shifts.schedule]]\nagent = \"ann\"\nweekdays = [\"mon\", \"fri\"]\nfrom = \"2026-11-02\"\nuntil = \"2026-11-15\"\nstart = \"22:00\"\nend = \"02:00\"",
        )
        .unwrap();
        let plan = config.shift_plan().unwrap();
        let ids: Vec<_> = plan.iter().map(|p| p.config_id()).collect();
        assert_eq!(
            ids,
            [
                "config:ann:2026-11-02:2200",
                "config:ann:2026-11-06:2200",
                "config:ann:2026-11-09:2200",
                "config:ann:2026-11-13:2200"
            ]
        );
        assert_eq!(plan[0].groups, ["general"], "the roster's groups by default");
    }

    #[test]
    fn bad_entries_are_refused_naming_the_key() {
        let cases = [
            ("agent = \"zed\"\ndate = \"2026-11-02\"\nstart = \"09:00\"\nend = \"10:00\"", "shifts.schedule[0].agent"),
            ("agent = \"ann\"\ndate = \"2026-11-02\"\nstart = \"9am\"\nend = \"10:00\"", "shifts.schedule[0].start"),
            ("agent = \"ann\"\ndate = \"2026-11-02\"\nstart = \"09:00\"\nend = \"10:00\"\ngroups = [\"x\"]", "shifts.schedule[0].groups[0]"),
            ("agent = \"ann\"\ndate = \"2026-11-02\"\nstart = \"09:00\"\nend = \"10:00\"\nlevel = \"pro\"", "shifts.schedule[0].level"),
            ("agent = \"ann\"\nweekdays = [\"funday\"]\nfrom = \"2026-11-02\"\nuntil = \"2026-11-03\"\nstart = \"09:00\"\nend = \"10:00\"", "shifts.schedule[0].weekdays[0]"),
        ];
        for (entry, key) in cases {
            let err = load(&format!("[[shifts.schedule]]\n{entry}")).unwrap_err();
            assert!(err.contains(key), "{key}: {err}");
        }
        let two = "[[shifts.schedule]]\nagent = \"ann\"\ndate = \"2026-11-02\"\nstart = \"09:00\"\nend = \"11:00\"\n\
                   [[shifts.schedule]]\nagent = \"ann\"\ndate = \"2026-11-02\"\nstart = \"10:00\"\nend = \"12:00\"";
        assert!(load(two).unwrap_err().contains("overlap"));
    }

    #[test]
    fn the_default_config_file_loads() {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../config/default.toml")).unwrap();
        let config = Config::from_toml_str(&text).unwrap();
        assert_eq!(config.shifts.leave_notice, std::time::Duration::from_secs(7200));
        assert_eq!(config.discipline.rules(), switchboard_discipline::Rules::default());
    }
}
