//! The handbook's targets, and whether a period's figures meet them.

use serde::Serialize;

use crate::Figures;

/// The targets (`docs/performance-figures.md`); defaults are the handbook's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Targets {
    /// In-shift service ratio at least this, basis points (80%).
    pub service_ratio_min_bp: u32,
    /// Satisfaction at least this, basis points (80%).
    pub satisfaction_min_bp: u32,
    /// Dissatisfaction at most this, basis points (5%).
    pub dissatisfaction_max_bp: u32,
    /// Customers served per shift hour, at least (15).
    pub served_per_hour_min: u32,
    /// Spot checks passed, at least this, basis points (85%).
    pub spot_check_min_bp: u32,
}

impl Default for Targets {
    fn default() -> Targets {
        Targets {
            service_ratio_min_bp: 8000,
            satisfaction_min_bp: 8000,
            dissatisfaction_max_bp: 500,
            served_per_hour_min: 15,
            spot_check_min_bp: 8500,
        }
    }
}

/// One figure against its target. `value` is `None` when there is nothing to
/// measure (no shift time, no ratings): that holds nothing against the agent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Check {
    pub figure: &'static str,
    pub value: Option<u32>,
    pub target: u32,
    /// `min` (at least) or `max` (at most).
    pub bound: &'static str,
    pub met: bool,
}

impl Check {
    fn min(figure: &'static str, value: Option<u32>, target: u32) -> Check {
        Check { figure, value, target, bound: "min", met: value.is_none_or(|v| v >= target) }
    }

    fn max(figure: &'static str, value: Option<u32>, target: u32) -> Check {
        Check { figure, value, target, bound: "max", met: value.is_none_or(|v| v <= target) }
    }
}

impl Targets {
    /// The figures with a target, in the order the API and the page show them.
    pub const FIGURES: [&'static str; 7] = [
        "punctuality",
        "service_ratio_bp",
        "served_per_hour_centi",
        "satisfaction_bp",
        "dissatisfaction_bp",
        "upheld_complaints",
        "spot_check_pass_bp",
    ];

    /// Every target checked against `f` (in [`Targets::FIGURES`] order).
    pub fn check(&self, f: &Figures) -> Vec<Check> {
        let lapses = f.late + f.left_early + f.absent;
        vec![
            Check::max("punctuality", Some(lapses), 0),
            Check::min("service_ratio_bp", f.service_ratio_bp(), self.service_ratio_min_bp),
            Check::min("served_per_hour_centi", f.served_per_hour_centi(), self.served_per_hour_min * 100),
            Check::min("satisfaction_bp", f.satisfaction_bp(), self.satisfaction_min_bp),
            Check::max("dissatisfaction_bp", f.dissatisfaction_bp(), self.dissatisfaction_max_bp),
            Check::max("upheld_complaints", Some(f.tally.upheld_complaints), 0),
            Check::min("spot_check_pass_bp", f.spot_check_pass_bp(), self.spot_check_min_bp),
        ]
    }
}
