//! `switchboard report fees --month YYYY-MM`: each agent's labor fee for a
//! month (`docs/fees.md`), from the config and the records store directly
//! (the server need not run).

use std::fmt::Write as _;

use serde::Serialize;
use switchboard_fees::{Attendance, FeeRules, Level, Quality, Shift};
use switchboard_performance::{Figures, Span};
use switchboard_records::{Store, Target};

use super::{gather, periods, AgentRecord};
use crate::config::Config;
use crate::discipline::{self, Policy, Standing};
use jiff::tz::TimeZone;
use switchboard_discipline::Bar;

/// How the report is printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Csv,
    Json,
}

/// Why there is no report. `Usage` is the caller's mistake (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Failed(String),
}

/// One agent's month.
#[derive(Clone, Debug, Serialize)]
pub struct FeeLine {
    pub agent: String,
    pub shifts: u32,
    /// Each shift's level, as many as shifts of each (`beginner`, `rising`).
    pub levels: Vec<&'static str>,
    pub late_or_early: u32,
    pub absent: u32,
    pub service_ratio_bp: Option<u32>,
    /// Billable time in hundredths of a minute (exact), and in hours for reading.
    pub billable_centiminutes: u64,
    pub billable_hours: f64,
    /// The base rate when every shift has one level, else 0 (each shift at its own).
    pub rate_fen_per_hour: u64,
    pub ratings: u32,
    pub dissatisfied: u32,
    pub upheld_complaints: u32,
    pub spot_checks: u32,
    pub spot_checks_passed: u32,
    pub payout_percent: u32,
    pub payout_reasons: Vec<&'static str>,
    pub fee_fen: u64,
    pub fee_yuan: String,
    /// The agent's discipline as of the month's end (or now, for the running month).
    pub discipline: MonthDiscipline,
}

/// Discipline in the report (`docs/fees.md`): the month's warnings
/// (weighted: an absence counts two), those within the rule's window before
/// the month's end, and any suspension or disqualification then.
#[derive(Clone, Debug, Default, Serialize)]
pub struct MonthDiscipline {
    pub warnings_in_month: u32,
    pub warnings_in_window: u32,
    pub suspended_until: Option<i64>,
    pub disqualified_since: Option<i64>,
    /// The same in words, for the table and CSV; empty when there is nothing to say.
    pub summary: String,
}

impl MonthDiscipline {
    /// `at` is the month's end, or now for the running month.
    pub fn of(standing: &Standing, window: i64, month: Span, at: i64, zone: &TimeZone) -> MonthDiscipline {
        let weight = |from: i64, to: i64| {
            standing.record.warnings.iter().filter(|w| w.at >= from && w.at < to).map(|w| w.weight()).sum()
        };
        let (suspended_until, disqualified_since) = match standing.barred {
            Some(Bar::Suspended { until }) => (Some(until), None),
            Some(Bar::Disqualified { since }) => (None, Some(since)),
            None => (None, None),
        };
        let mut d = MonthDiscipline {
            warnings_in_month: weight(month.from, month.to),
            warnings_in_window: weight(at.saturating_sub(window), at),
            suspended_until,
            disqualified_since,
            summary: String::new(),
        };
        d.summary = d.words(zone);
        d
    }

    fn words(&self, zone: &TimeZone) -> String {
        let day = |ms: i64| {
            jiff::Timestamp::from_millisecond(ms)
                .map_or_else(|_| ms.to_string(), |t| t.to_zoned(zone.clone()).date().to_string())
        };
        let mut parts = Vec::new();
        if self.warnings_in_window > 0 || self.warnings_in_month > 0 {
            parts
                .push(format!("warnings {} this month, {} in window", self.warnings_in_month, self.warnings_in_window));
        }
        if let Some(until) = self.suspended_until {
            parts.push(format!("suspended until {}", day(until)));
        }
        if let Some(since) = self.disqualified_since {
            parts.push(format!("disqualified since {}", day(since)));
        }
        parts.join("; ")
    }
}

/// Runs the report for `month` (`YYYY-MM`) and returns it printed.
pub fn report(config: &Config, month: &str, format: Format) -> Result<String, ReportError> {
    let (first, last) = periods::month(month).ok_or_else(|| {
        ReportError::Usage(format!("--month must be a month as YYYY-MM (e.g. 2026-11), not `{month}`"))
    })?;
    let zone = config.calendar_zone().map_err(|e| ReportError::Usage(e.to_string()))?;
    let span = periods::months(first, last, &zone).remove(0).span;
    let store = open_store(config)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| ReportError::Failed(format!("cannot start a runtime: {e}")))?;
    let now = switchboard_records::now_ms();
    let grace = config.performance.grace_ms();
    let records =
        runtime.block_on(gather(&store, None, span, now, grace)).map_err(|e| ReportError::Failed(e.to_string()))?;
    let rules = config.fees.rules();
    let mut lines = records.iter().map(|r| fee_line(&rules, r, span)).collect::<Result<Vec<_>, _>>()?;
    let at = span.to.min(now);
    let policy = Policy::from_config(config);
    let standings =
        runtime.block_on(discipline::standing(&store, &policy, at)).map_err(|e| ReportError::Failed(e.to_string()))?;
    let standings: Vec<(String, MonthDiscipline)> = standings
        .iter()
        .map(|s| (s.agent.clone(), MonthDiscipline::of(s, policy.rules.warning_window, span, at, &zone)))
        .collect();
    for line in &mut lines {
        if let Some((_, d)) = standings.iter().find(|(agent, _)| *agent == line.agent) {
            line.discipline = d.clone();
        }
    }
    Ok(render(month, &lines, &standings, format))
}

/// The records store the server writes to, read-only use.
fn open_store(config: &Config) -> Result<Store, ReportError> {
    let default = config.storage.data_dir.join("records.sqlite3");
    if config.records.url.is_empty() && !default.exists() {
        return Err(ReportError::Failed(format!(
            "no records database at {} (storage.data_dir): set --config or records.url",
            default.display()
        )));
    }
    let target = Target::parse(&config.records.url, &default.to_string_lossy())
        .map_err(|e| ReportError::Usage(format!("config key `records.url`: {e}")))?;
    Store::new(&target, "report").map_err(|e| ReportError::Failed(e.to_string()))
}

/// One agent's fee from their month of records.
pub fn fee_line(rules: &FeeRules, record: &AgentRecord, month: Span) -> Result<FeeLine, ReportError> {
    let figures = Figures::of(month, &record.shifts.iter().map(|(_, f)| *f).collect::<Vec<_>>(), &record.events);
    let mut shifts = Vec::new();
    let mut levels = Vec::new();
    for (row, f) in &record.shifts {
        let level = Level::ALL.into_iter().find(|l| l.name() == row.level).ok_or_else(|| {
            ReportError::Failed(format!("shift {}: unknown level `{}` (beginner or rising)", row.shift, row.level))
        })?;
        let attendance = if f.late || f.left_early || f.absent { Attendance::LateOrEarly } else { Attendance::OnTime };
        let minutes = ((f.end - f.start) / 60_000) as u32;
        let in_service_minutes = ((f.in_service_ms / 60_000) as u32).min(minutes);
        shifts.push((level, Shift { minutes, attendance, in_service_minutes }));
        levels.push(level.name());
    }
    let quality = Quality {
        upheld_complaints: figures.tally.upheld_complaints,
        ratings: figures.ratings(),
        dissatisfied: figures.tally.dissatisfied,
        spot_checks: figures.tally.spot_checks,
        spot_checks_passed: figures.tally.spot_checks_passed,
    };
    let fee =
        rules.fee_by_level(&shifts, &quality).map_err(|e| ReportError::Failed(format!("{}: {e}", record.agent)))?;
    Ok(FeeLine {
        agent: record.agent.clone(),
        shifts: figures.shifts,
        levels,
        late_or_early: figures.late + figures.left_early,
        absent: figures.absent,
        service_ratio_bp: figures.service_ratio_bp(),
        billable_centiminutes: fee.billable_centiminutes,
        billable_hours: fee.billable_hours(),
        rate_fen_per_hour: fee.rate_fen_per_hour,
        ratings: quality.ratings,
        dissatisfied: quality.dissatisfied,
        upheld_complaints: quality.upheld_complaints,
        spot_checks: quality.spot_checks,
        spot_checks_passed: quality.spot_checks_passed,
        payout_percent: fee.payout.percent,
        payout_reasons: fee.payout.reasons.clone(),
        fee_fen: fee.fee_fen,
        fee_yuan: yuan(fee.fee_fen),
        discipline: MonthDiscipline::default(),
    })
}

/// Fen as yuan with two decimals.
pub fn yuan(fen: u64) -> String {
    format!("{}.{:02}", fen / 100, fen % 100)
}

fn percent(bp: Option<u32>) -> String {
    bp.map_or_else(|| "-".to_owned(), |bp| format!("{}.{:02}%", bp / 100, bp % 100))
}

const COLUMNS: [&str; 12] = [
    "agent",
    "shifts",
    "late_or_early",
    "absent",
    "service_ratio",
    "billable_hours",
    "rate_yuan_per_hour",
    "payout_percent",
    "payout_reasons",
    "fee_yuan",
    "discipline",
    "levels",
];

fn cells(line: &FeeLine) -> [String; 12] {
    let rate = if line.rate_fen_per_hour == 0 { "by shift".to_owned() } else { yuan(line.rate_fen_per_hour) };
    [
        line.agent.clone(),
        line.shifts.to_string(),
        line.late_or_early.to_string(),
        line.absent.to_string(),
        percent(line.service_ratio_bp),
        format!("{:.2}", line.billable_hours),
        rate,
        line.payout_percent.to_string(),
        line.payout_reasons.join(" "),
        line.fee_yuan.clone(),
        line.discipline.summary.clone(),
        line.levels.join(" "),
    ]
}

/// Every agent with a warning on record, with or without shifts this month.
type Standings = [(String, MonthDiscipline)];

fn render(month: &str, lines: &[FeeLine], standings: &Standings, format: Format) -> String {
    match format {
        Format::Json => {
            let total: u64 = lines.iter().map(|l| l.fee_fen).sum();
            let discipline: Vec<_> =
                standings.iter().map(|(agent, d)| serde_json::json!({"agent": agent, "discipline": d})).collect();
            let body = serde_json::json!({"month": month, "agents": lines, "total_fen": total,
                "total_yuan": yuan(total), "discipline": discipline});
            format!("{body:#}\n")
        }
        Format::Csv => {
            let mut out = COLUMNS.join(",") + "\n";
            for line in lines {
                out.push_str(&cells(line).map(|c| csv_cell(&c)).join(","));
                out.push('\n');
            }
            out
        }
        Format::Table => table(month, lines, standings),
    }
}

fn csv_cell(cell: &str) -> String {
    if cell.contains([',', '"', '\n']) {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell.to_owned()
    }
}

fn table(month: &str, lines: &[FeeLine], standings: &Standings) -> String {
    let rows: Vec<[String; 12]> = lines.iter().map(cells).collect();
    let widths: Vec<usize> = (0..COLUMNS.len())
        .map(|i| rows.iter().map(|r| r[i].chars().count()).chain([COLUMNS[i].len()]).max().unwrap_or(0))
        .collect();
    let line = |cells: &[String]| {
        let padded: Vec<String> = cells.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        padded.join("  ").trim_end().to_owned() + "\n"
    };
    let mut out = format!("Labor fees, {month}\n");
    out.push_str(&line(&COLUMNS.map(str::to_owned)));
    for row in &rows {
        out.push_str(&line(row));
    }
    let total: u64 = lines.iter().map(|l| l.fee_fen).sum();
    let _ = writeln!(out, "total: {} yuan, {} agents", yuan(total), lines.len());
    if !standings.is_empty() {
        out.push_str("\nDiscipline (every agent with a warning on record)\n");
        for (agent, d) in standings {
            let _ =
                writeln!(out, "{agent}  {}", if d.summary.is_empty() { "no warning in window" } else { &d.summary });
        }
    }
    out
}
