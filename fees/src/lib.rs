//! The labor fee of the handbook (`docs/fees.md`; the first seed's 劳务费
//! 结算): what an agent is paid for a month of shifts.
//!
//! fee = billable hours × base rate of the agent's level × payout ratio.
//!
//! - **Billable hours**: each shift's hours times its attendance factor (on
//!   time 100%, late or leaving early 90%) times the band of its in-shift
//!   service ratio ((serving + waiting for assignment) / shift length:
//!   80% and over 100%, 75% to under 80% 90%, 60% to under 75% 75%, 40% to
//!   under 60% 50%, under 40% nothing).
//! - **Base rate** by level: beginner 8, rising 10 per hour.
//! - **Payout ratio** by the month's quality, from 70% to 100%: an upheld
//!   complaint 70%, dissatisfaction over 5% 80%, a spot-check pass rate under
//!   85% `spot_check_failed`; the lowest that applies.
//!
//! Pure arithmetic, in exact integers: minutes, percents, basis points and
//! fen (hundredths of the currency unit), so a band edge is never missed by
//! a rounding error and the worked examples come out exactly. Gathering the
//! figures (shifts, sign-ins, ratings, complaints, spot checks) is the
//! caller's.

mod rules;

pub use rules::{Band, FeeRules, Level, Payout};

/// How the agent kept the shift's times.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attendance {
    OnTime,
    /// Signed in late or left early (either or both).
    LateOrEarly,
}

/// One shift as worked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shift {
    /// The shift's length, in minutes.
    pub minutes: u32,
    pub attendance: Attendance,
    /// Time serving or waiting for an assignment during the shift, in minutes.
    pub in_service_minutes: u32,
}

/// The month's quality figures.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Quality {
    pub upheld_complaints: u32,
    pub ratings: u32,
    pub dissatisfied: u32,
    pub spot_checks: u32,
    pub spot_checks_passed: u32,
}

/// A shift's share of the fee.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BilledShift {
    /// The in-shift service ratio, in basis points (1/100 of a percent), rounded down.
    pub service_ratio_bp: u32,
    pub attendance_percent: u32,
    pub band_percent: u32,
    /// Billable time, in hundredths of a minute (exact: minutes × both percents).
    pub billable_centiminutes: u64,
}

impl BilledShift {
    /// Billable hours, for showing (the fee is computed from the exact figure).
    pub fn billable_hours(&self) -> f64 {
        self.billable_centiminutes as f64 / 6000.0
    }
}

/// A month's fee for one agent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fee {
    pub shifts: Vec<BilledShift>,
    /// Sum of the shifts' billable time, in hundredths of a minute.
    pub billable_centiminutes: u64,
    /// Base rate of the agent's level, fen per hour.
    pub rate_fen_per_hour: u64,
    pub payout: Payout,
    /// The fee in fen, rounded half up.
    pub fee_fen: u64,
}

impl Fee {
    pub fn billable_hours(&self) -> f64 {
        self.billable_centiminutes as f64 / 6000.0
    }
}

/// A figure that cannot be billed: the caller's data is wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FeeError {
    /// More time in service than the shift lasted.
    InServiceOverShift { shift: usize },
    /// More dissatisfied ratings than ratings, or spot checks passed than made.
    CountsInconsistent,
}

impl std::fmt::Display for FeeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FeeError::InServiceOverShift { shift } => {
                write!(f, "shift {shift}: more time in service than the shift lasted")
            }
            FeeError::CountsInconsistent => {
                f.write_str("more dissatisfied ratings than ratings, or spot checks passed than made")
            }
        }
    }
}

impl std::error::Error for FeeError {}

impl FeeRules {
    /// One shift's billable time.
    pub fn bill_shift(&self, shift: &Shift) -> BilledShift {
        let service_ratio_bp = match shift.minutes {
            0 => 0,
            m => (u64::from(shift.in_service_minutes.min(m)) * 10_000 / u64::from(m)) as u32,
        };
        let attendance_percent = match shift.attendance {
            Attendance::OnTime => 100,
            Attendance::LateOrEarly => self.late_or_early_percent,
        };
        let band_percent = self.band_percent(service_ratio_bp);
        let billable_centiminutes =
            u64::from(shift.minutes) * u64::from(attendance_percent) * u64::from(band_percent) / 100;
        BilledShift { service_ratio_bp, attendance_percent, band_percent, billable_centiminutes }
    }

    /// The band a service ratio (basis points) falls in: the first whose floor it reaches.
    pub fn band_percent(&self, service_ratio_bp: u32) -> u32 {
        self.bands.iter().find(|b| service_ratio_bp >= b.from_bp).map_or(0, |b| b.percent)
    }

    /// The payout ratio for a month's quality: the lowest of those that apply.
    pub fn payout(&self, quality: &Quality) -> Payout {
        let mut payout = Payout { percent: 100, reasons: Vec::new() };
        let mut lower = |percent: u32, reason: &'static str| {
            payout.percent = payout.percent.min(percent);
            payout.reasons.push(reason);
        };
        if quality.upheld_complaints > 0 {
            lower(self.complaint_percent, "upheld_complaint");
        }
        // dissatisfied / ratings > max, in integers: dissatisfied × 100 > max% × ratings.
        let over = u64::from(quality.dissatisfied) * 100
            > u64::from(self.dissatisfaction_max_percent) * u64::from(quality.ratings);
        if quality.ratings > 0 && over {
            lower(self.dissatisfaction_percent, "dissatisfaction");
        }
        let under = u64::from(quality.spot_checks_passed) * 100
            < u64::from(self.spot_check_min_percent) * u64::from(quality.spot_checks);
        if quality.spot_checks > 0 && under {
            lower(self.spot_check_failed_percent, "spot_checks");
        }
        payout.percent = payout.percent.max(self.payout_floor_percent);
        payout
    }

    /// The month's fee of an agent of `level` for `shifts` and `quality`.
    pub fn fee(&self, level: Level, shifts: &[Shift], quality: &Quality) -> Result<Fee, FeeError> {
        let shifts: Vec<(Level, Shift)> = shifts.iter().map(|s| (level, *s)).collect();
        self.fee_by_level(&shifts, quality)
    }

    /// The month's fee when each shift is billed at its own level's rate (an
    /// agent promoted within the month). `rate_fen_per_hour` of the result is
    /// the rate when every shift has one level, 0 when they differ. Rounded
    /// once, at the end, like [`FeeRules::fee`].
    pub fn fee_by_level(&self, shifts: &[(Level, Shift)], quality: &Quality) -> Result<Fee, FeeError> {
        if let Some(shift) = shifts.iter().position(|(_, s)| s.in_service_minutes > s.minutes) {
            return Err(FeeError::InServiceOverShift { shift });
        }
        if quality.dissatisfied > quality.ratings || quality.spot_checks_passed > quality.spot_checks {
            return Err(FeeError::CountsInconsistent);
        }
        let billed: Vec<BilledShift> = shifts.iter().map(|(_, s)| self.bill_shift(s)).collect();
        let billable_centiminutes = billed.iter().map(|b| b.billable_centiminutes).sum::<u64>();
        let rates: Vec<u64> = shifts.iter().map(|(level, _)| self.rate_fen_per_hour(*level)).collect();
        let rate_fen_per_hour = rates.first().copied().filter(|&f| rates.iter().all(|&r| r == f)).unwrap_or(0);
        let payout = self.payout(quality);
        // fen = Σ centiminutes × rate / 6000 × percent / 100, rounded half up once.
        let weighted: u128 =
            billed.iter().zip(&rates).map(|(b, &r)| u128::from(b.billable_centiminutes) * u128::from(r)).sum();
        let numerator = weighted * u128::from(payout.percent);
        let denominator = 6000u128 * 100;
        let fee_fen = ((numerator + denominator / 2) / denominator) as u64;
        Ok(Fee { shifts: billed, billable_centiminutes, rate_fen_per_hour, payout, fee_fen })
    }
}
