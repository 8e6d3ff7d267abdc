//! `[calendar]` (time zone, holidays, extra working days), the skill groups'
//! `service_hours` and `clock.start`: the business calendar, checked at
//! start with the key named on error. Definitions: docs/domain.md,
//! "Service hours and the business calendar".

use std::sync::Arc;

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::{Timestamp, Zoned};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use switchboard_calendar::{time_zone, Calendar, CalendarError, ServiceHours, SpecialDays};

use super::{Config, ConfigLoadError};
use crate::router::GroupId;

/// The deployment's calendar.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CalendarConfig {
    /// The IANA time zone every group's hours and every date are read in.
    pub time_zone: String,
    /// Dates on which every group is closed (unless its hours say `holidays ...`).
    pub holidays: Vec<TimeText>,
    /// Dates worked like a regular weekday although they would not be (a Saturday made a working day).
    pub extra_working_days: Vec<TimeText>,
}

impl Default for CalendarConfig {
    fn default() -> Self {
        CalendarConfig { time_zone: "Asia/Shanghai".into(), holidays: Vec::new(), extra_working_days: Vec::new() }
    }
}

/// A date or a date and time as the file writes it: in quotes, or as a
/// TOML date/date-time literal (`2026-10-01`); an environment override
/// (`SWITCHBOARD_CLOCK__START=2026-03-06T09:00:00`) arrives as the latter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "toml::Value")]
pub struct TimeText(pub String);

impl TryFrom<toml::Value> for TimeText {
    type Error = String;

    fn try_from(value: toml::Value) -> Result<TimeText, String> {
        match value {
            toml::Value::String(text) => Ok(TimeText(text)),
            toml::Value::Datetime(datetime) => Ok(TimeText(datetime.to_string())),
            other => Err(format!("expected a date (\"2026-10-01\") or a date and time, found a {}", other.type_str())),
        }
    }
}

impl Config {
    /// The business calendar: `[calendar]` and every group's `service_hours`
    /// (a group without it is always open).
    pub fn business_calendar(&self) -> Result<Calendar, ConfigLoadError> {
        let zone = self.calendar_zone()?;
        let holidays = dates(&self.calendar.holidays, "calendar.holidays")?;
        let extra = dates(&self.calendar.extra_working_days, "calendar.extra_working_days")?;
        let special = SpecialDays::new(holidays, extra).map_err(|e| match &e {
            CalendarError::HolidayAndWorkingDay { index, .. } => {
                ConfigLoadError::key(format!("calendar.extra_working_days[{index}]"), e.to_string())
            }
            CalendarError::UnknownTimeZone(_) => ConfigLoadError::key("calendar.time_zone", e.to_string()),
        })?;
        let mut calendar = Calendar::new(zone, special);
        for (i, group) in self.router.groups.iter().enumerate() {
            let Some(text) = &group.service_hours else { continue };
            let hours = text
                .parse::<ServiceHours>()
                .map_err(|e| ConfigLoadError::key(format!("router.groups[{i}].service_hours"), e.to_string()))?;
            calendar = calendar.with_group(group.id.as_str(), hours);
        }
        Ok(calendar)
    }

    /// Each group's `service_hours` text (groups without one are left out).
    pub fn service_hours(&self) -> FxHashMap<GroupId, Arc<str>> {
        let texts =
            self.router.groups.iter().filter_map(|g| Some((g.id.clone(), Arc::from(g.service_hours.as_deref()?))));
        texts.collect()
    }

    pub fn calendar_zone(&self) -> Result<TimeZone, ConfigLoadError> {
        time_zone(&self.calendar.time_zone).map_err(|e| ConfigLoadError::key("calendar.time_zone", e.to_string()))
    }

    /// `clock.start` as an instant; a date and time without an offset is read in `calendar.time_zone`.
    pub fn clock_start(&self) -> Result<Option<Timestamp>, ConfigLoadError> {
        let Some(TimeText(text)) = &self.clock.start else { return Ok(None) };
        let zone = self.calendar_zone()?;
        instant(text.trim(), &zone).map(Some).ok_or_else(|| {
            ConfigLoadError::key(
                "clock.start",
                format!(
                    "`{text}` is not a date and time: write e.g. \"2026-03-06T09:00:00\" (read in \
                     calendar.time_zone), \"2026-03-06T09:00:00+08:00\" or \"2026-03-06T09:00[Asia/Shanghai]\""
                ),
            )
        })
    }
}

/// Each entry as a plain `YYYY-MM-DD` date (a time of day would say nothing).
fn dates(list: &[TimeText], key: &str) -> Result<Vec<Date>, ConfigLoadError> {
    let date = |(i, TimeText(text)): (usize, &TimeText)| {
        let text = text.trim();
        let plain = text.len() == 10
            && text.bytes().enumerate().all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() });
        plain.then(|| text.parse::<Date>().ok()).flatten().ok_or_else(|| {
            ConfigLoadError::key(format!("{key}[{i}]"), format!("`{text}` is not a date: write it as YYYY-MM-DD"))
        })
    };
    list.iter().enumerate().map(date).collect()
}

/// An instant with an offset (`Z`, `+08:00`) or a zone (`[Europe/Berlin]`), or local civil time in `zone`.
fn instant(text: &str, zone: &TimeZone) -> Option<Timestamp> {
    if let Ok(at) = text.parse::<Timestamp>() {
        return Some(at);
    }
    if let Ok(zoned) = text.parse::<Zoned>() {
        return Some(zoned.timestamp());
    }
    zone.to_timestamp(text.parse::<DateTime>().ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two groups with hours: `general` every day, `refunds` on weekdays.
    fn minimal() -> String {
        let hours = "id = \"general\"\nservice_hours = \"every day 08:00-22:00\"";
        let refunds = "[[router.groups]]\nid = \"refunds\"\nservice_hours = \"Mon-Fri 09:00-18:00\"";
        format!("{}\n{refunds}\n", super::super::tests::MINIMAL.replace("id = \"general\"", hours))
    }

    fn with(extra: &str) -> Result<Config, ConfigLoadError> {
        Config::from_toml_str(&format!("{extra}\n{}", minimal()))
    }

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn the_calendar_defaults_to_shanghai_and_reads_the_groups_hours() {
        let config = with("").unwrap();
        let calendar = config.business_calendar().unwrap();
        assert_eq!(calendar.zone().iana_name(), Some("Asia/Shanghai"));
        // Friday 2026-03-06 18:30 in Shanghai.
        let friday_evening = at("2026-03-06T18:30+08:00");
        assert!(calendar.is_open("general", friday_evening));
        assert!(!calendar.is_open("refunds", friday_evening));
        assert_eq!(config.clock_start().unwrap(), None);
    }

    #[test]
    fn holidays_and_extra_working_days_are_dates_quoted_or_not() {
        let config = with(
            "[calendar]\ntime_zone = \"Europe/Berlin\"\nholidays = [\"2026-12-25\", 2026-12-26]\n\
             extra_working_days = [2026-12-27]",
        )
        .unwrap();
        let calendar = config.business_calendar().unwrap();
        assert!(!calendar.is_open("general", at("2026-12-26T12:00+01:00")));
        assert!(calendar.is_open("refunds", at("2026-12-27T12:00+01:00")), "a Sunday worked");
    }

    #[test]
    fn each_calendar_mistake_names_its_key() {
        let key = |extra: &str| with(extra).unwrap_err().key_name().map(str::to_owned);
        assert_eq!(key("[calendar]\ntime_zone = \"Asia/Shanghi\""), Some("calendar.time_zone".into()));
        assert_eq!(key("[calendar]\nholidays = [\"2026-10-01\", \"2026-13-01\"]"), Some("calendar.holidays[1]".into()));
        assert_eq!(key("[calendar]\nholidays = [20261001]"), Some("calendar.holidays[0]".into()));
        assert_eq!(
            key("[calendar]\nholidays = [\"2026-10-01\"]\nextra_working_days = [\"2026-09-27\", \"2026-10-01\"]"),
            Some("calendar.extra_working_days[1]".into())
        );
        assert_eq!(key("[clock]\nstart = \"next Monday\""), Some("clock.start".into()));
        assert_eq!(key("[calendar]\nholidays = [\"2026-10-01T10:00\"]"), Some("calendar.holidays[0]".into()));
        let err = Config::from_toml_str(&minimal().replace("Mon-Fri 09:00-18:00", "Mon-Fry 09:00-18:00")).unwrap_err();
        assert_eq!(err.key_name(), Some("router.groups[1].service_hours"), "{err}");
        assert!(err.to_string().contains("`Fry` is not a day"), "{err}");
    }

    #[test]
    fn clock_start_is_an_instant_or_local_time_in_the_calendars_zone() {
        let start = |value: &str| with(&format!("[clock]\nstart = {value}")).unwrap().clock_start().unwrap().unwrap();
        assert_eq!(start("\"2026-03-06T09:00:00\""), at("2026-03-06T01:00Z"), "Shanghai time");
        assert_eq!(start("2026-03-06T09:00:00"), at("2026-03-06T01:00Z"), "a TOML local date-time");
        assert_eq!(start("\"2026-03-06 09:00\""), at("2026-03-06T01:00Z"));
        assert_eq!(start("\"2026-03-06T09:00:00Z\""), at("2026-03-06T09:00Z"));
        assert_eq!(start("2026-03-06T09:00:00+01:00"), at("2026-03-06T08:00Z"), "a TOML offset date-time");
        assert_eq!(start("\"2026-03-06T09:00[Europe/Berlin]\""), at("2026-03-06T08:00Z"));
        assert_eq!(start("\"2026-03-06\""), at("2026-03-05T16:00Z"), "midnight in Shanghai");
    }

    #[test]
    fn the_calendar_and_the_start_come_from_the_environment_too() {
        let mut table: toml::Table = minimal().parse().unwrap();
        let env = [
            ("SWITCHBOARD_CLOCK__START", "2026-03-06T09:00:00"),
            ("SWITCHBOARD_CALENDAR__TIME_ZONE", "America/New_York"),
            ("SWITCHBOARD_CALENDAR__HOLIDAYS", r#"["2026-03-09"]"#),
        ];
        let set = super::super::apply_env(&mut table, env.map(|(k, v)| (k.to_owned(), v.to_owned()))).unwrap();
        let config = Config::from_table(table, &set).unwrap();
        assert_eq!(config.clock_start().unwrap(), Some(at("2026-03-06T09:00-05:00")));
        assert!(!config.business_calendar().unwrap().is_open("refunds", at("2026-03-09T10:00-04:00")), "a holiday");
    }

    fn repo_file(path: &str) -> String {
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)).unwrap()
    }

    /// Every calendar key is set (or shown commented) in config/default.toml
    /// and defined in docs/domain.md; the file keeps the built-in defaults.
    #[test]
    fn every_calendar_key_is_in_the_default_file_and_defined_in_the_docs() {
        let (file, domain) = (repo_file("config/default.toml"), repo_file("docs/domain.md"));
        let toml::Value::Table(keys) = toml::Value::try_from(CalendarConfig::default()).unwrap() else { panic!() };
        let keys: Vec<String> = keys.keys().map(|k| format!("calendar.{k}")).chain(["clock.start".into()]).collect();
        assert_eq!(keys.len(), 4, "{keys:?}");
        for key in keys {
            let name = key.rsplit('.').next().unwrap();
            let in_file = file.lines().any(|l| l.trim_start_matches(['#', ' ']).starts_with(&format!("{name} = ")));
            assert!(in_file, "config/default.toml does not show `{key}`");
            assert!(domain.contains(&format!("`{key}`")), "docs/domain.md does not define `{key}`");
        }
        let shipped = Config::load(
            Some(std::path::Path::new(&format!("{}/../config/default.toml", env!("CARGO_MANIFEST_DIR")))),
            Vec::new(),
        )
        .unwrap();
        let default = CalendarConfig::default();
        assert_eq!((shipped.calendar.time_zone, shipped.calendar.holidays), (default.time_zone, default.holidays));
        assert_eq!(shipped.calendar.extra_working_days, default.extra_working_days);
    }

    /// The forms docs/domain.md and config/default.toml show parse.
    #[test]
    fn the_documented_service_hours_parse() {
        let (file, domain) = (repo_file("config/default.toml"), repo_file("docs/domain.md"));
        for example in [
            "Mon-Fri 09:00-18:00",
            "every day 08:00-22:00",
            "Mon,Wed,Fri 09:00-12:00, 13:00-18:00; Sat 10:00-14:00",
            "Mon,Wed 09:00-12:00, 13:00-18:00; Sat 10:00-14:00",
            "Fri 22:00-02:00",
            "Sun 01:30-03:00",
        ] {
            assert!(file.contains(example) || domain.contains(example), "`{example}` is not shown any more");
            assert!(example.parse::<ServiceHours>().is_ok(), "{example}");
        }
        let text = "every day 08:00-22:00; holidays 10:00-16:00";
        assert!(text.parse::<ServiceHours>().is_ok() && file.contains("holidays 10:00-16:00"));
    }
}
