//! Holidays and extra working days: the dates on which the weekly pattern does not apply.

use std::collections::BTreeSet;

use jiff::civil::Date;

use crate::CalendarError;

/// The deployment's holidays (every group is closed, unless its hours say
/// `holidays ...`) and extra working days (a weekend day made a working day:
/// worked like a regular weekday).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SpecialDays {
    holidays: BTreeSet<Date>,
    extra_working_days: BTreeSet<Date>,
}

impl SpecialDays {
    /// Refuses a date that is both (naming its place in `extra_working_days`).
    pub fn new(
        holidays: impl IntoIterator<Item = Date>,
        extra_working_days: impl IntoIterator<Item = Date>,
    ) -> Result<SpecialDays, CalendarError> {
        let holidays: BTreeSet<Date> = holidays.into_iter().collect();
        let mut extra = BTreeSet::new();
        for (index, date) in extra_working_days.into_iter().enumerate() {
            if holidays.contains(&date) {
                return Err(CalendarError::HolidayAndWorkingDay { date, index });
            }
            extra.insert(date);
        }
        Ok(SpecialDays { holidays, extra_working_days: extra })
    }

    pub fn is_holiday(&self, date: Date) -> bool {
        self.holidays.contains(&date)
    }

    pub fn is_extra_working_day(&self, date: Date) -> bool {
        self.extra_working_days.contains(&date)
    }

    /// The last listed date of either kind: after it, only the weekly pattern applies.
    pub(crate) fn last(&self) -> Option<Date> {
        self.holidays.last().max(self.extra_working_days.last()).copied()
    }
}
