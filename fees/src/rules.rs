//! The numbers of the labor fee, with the handbook's defaults.

/// An agent's level (晋级制度), which sets the base rate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// 初学弟子
    Beginner,
    /// 江湖新秀
    Rising,
}

impl Level {
    pub const ALL: [Level; 2] = [Level::Beginner, Level::Rising];

    pub fn name(self) -> &'static str {
        match self {
            Level::Beginner => "beginner",
            Level::Rising => "rising",
        }
    }
}

/// A service-ratio band: from `from_bp` (basis points, inclusive) up to the
/// next band's floor, this percent of the shift is billable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Band {
    pub from_bp: u32,
    pub percent: u32,
}

/// The payout ratio of a month, and which quality rules lowered it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payout {
    pub percent: u32,
    /// `upheld_complaint`, `dissatisfaction`, `spot_checks`: each rule not met.
    pub reasons: Vec<&'static str>,
}

/// Every number of the labor fee. Defaults are the handbook's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeeRules {
    /// Billable share of a shift signed in late or left early (90%).
    pub late_or_early_percent: u32,
    /// Service-ratio bands, highest floor first; under the last, nothing is billable.
    pub bands: Vec<Band>,
    /// Base rates, fen per hour: beginner 800, rising 1000.
    pub beginner_fen_per_hour: u64,
    pub rising_fen_per_hour: u64,
    /// Payout with any upheld complaint (70%).
    pub complaint_percent: u32,
    /// Dissatisfaction above this percent of ratings (5) pays `dissatisfaction_percent` (80%).
    pub dissatisfaction_max_percent: u32,
    pub dissatisfaction_percent: u32,
    /// A spot-check pass rate under this percent (85) pays `spot_check_failed_percent`.
    /// The handbook says only that it lowers the payout: 90% is this product's choice.
    pub spot_check_min_percent: u32,
    pub spot_check_failed_percent: u32,
    /// The payout never goes below this (70%).
    pub payout_floor_percent: u32,
}

impl Default for FeeRules {
    fn default() -> FeeRules {
        FeeRules {
            late_or_early_percent: 90,
            bands: vec![
                Band { from_bp: 8000, percent: 100 },
                Band { from_bp: 7500, percent: 90 },
                Band { from_bp: 6000, percent: 75 },
                Band { from_bp: 4000, percent: 50 },
            ],
            beginner_fen_per_hour: 800,
            rising_fen_per_hour: 1000,
            complaint_percent: 70,
            dissatisfaction_max_percent: 5,
            dissatisfaction_percent: 80,
            spot_check_min_percent: 85,
            spot_check_failed_percent: 90,
            payout_floor_percent: 70,
        }
    }
}

impl FeeRules {
    pub fn rate_fen_per_hour(&self, level: Level) -> u64 {
        match level {
            Level::Beginner => self.beginner_fen_per_hour,
            Level::Rising => self.rising_fen_per_hour,
        }
    }
}
