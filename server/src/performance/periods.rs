//! Periods of the figures: a shift, a business day or a month, on the
//! business calendar's time zone (a day is the local day, as a shift's `day`).

use jiff::civil::Date;
use jiff::tz::TimeZone;
use switchboard_performance::Span;

/// How figures are split.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum By {
    Shift,
    Day,
    Month,
}

impl By {
    pub const ALL: [By; 3] = [By::Shift, By::Day, By::Month];

    pub fn label(self) -> &'static str {
        match self {
            By::Shift => "shift",
            By::Day => "day",
            By::Month => "month",
        }
    }

    pub fn parse(text: &str) -> Option<By> {
        By::ALL.into_iter().find(|b| b.label() == text)
    }
}

/// A named span: `2026-11-02`, `2026-11`, or a shift id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Period {
    pub label: String,
    pub span: Span,
}

/// Local midnight of `day`, ms.
pub fn midnight(day: Date, zone: &TimeZone) -> i64 {
    day.to_zoned(zone.clone()).map_or(0, |z| z.timestamp().as_millisecond())
}

/// The days `from..=to`, each its local day.
pub fn days(from: Date, to: Date, zone: &TimeZone) -> Vec<Period> {
    let mut out = Vec::new();
    let mut day = from;
    while day <= to {
        let Ok(next) = day.tomorrow() else { break };
        out.push(Period { label: day.to_string(), span: Span { from: midnight(day, zone), to: midnight(next, zone) } });
        day = next;
    }
    out
}

/// The months that `from..=to` touch, each whole... clipped to the range.
pub fn months(from: Date, to: Date, zone: &TimeZone) -> Vec<Period> {
    let end = to.tomorrow().map_or(i64::MAX, |d| midnight(d, zone));
    let mut out = Vec::new();
    let mut first = from.first_of_month();
    while first <= to {
        let next = first.last_of_month().tomorrow().unwrap_or(first);
        let from_ms = midnight(first.max(from), zone);
        let to_ms = midnight(next, zone).min(end);
        out.push(Period {
            label: format!("{:04}-{:02}", first.year(), first.month()),
            span: Span { from: from_ms, to: to_ms },
        });
        if next <= first {
            break;
        }
        first = next;
    }
    out
}

/// The month `YYYY-MM`: its first and last day.
pub fn month(text: &str) -> Option<(Date, Date)> {
    let (year, month) = text.split_once('-')?;
    if year.len() != 4 || month.len() != 2 {
        return None;
    }
    let first = Date::new(year.parse().ok()?, month.parse().ok()?, 1).ok()?;
    Some((first, first.last_of_month()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_month_is_its_local_days() {
        let zone = TimeZone::get("Asia/Shanghai").unwrap();
        let (first, last) = month("2026-11").unwrap();
        let days = days(first, last, &zone);
        let months = months(first, last, &zone);
        assert_eq!((days.len(), months.len()), (30, 1));
        assert_eq!(days[0].span.from, months[0].span.from);
        assert_eq!(days[29].span.to, months[0].span.to);
        assert_eq!(months[0].label, "2026-11");
        assert_eq!(days[0].span.from % 86_400_000, 16 * 3_600_000, "Shanghai midnight is 16:00 UTC");
        for bad in ["2026-13", "2026-1", "26-11", "november", "2026-11-01"] {
            assert!(month(bad).is_none(), "{bad}");
        }
    }
}
