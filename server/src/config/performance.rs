//! `[performance]` (the agent figures' grace and targets,
//! `docs/performance-figures.md`) and `[fees]` (the labor fee's numbers,
//! `docs/fees.md`). Defaults are the handbook's.

use std::time::Duration;

use serde::Deserialize;
use switchboard_fees::{Band, FeeRules};
use switchboard_performance::Targets;

use super::ConfigLoadError;

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PerformanceConfig {
    /// Signing in this long after a shift's start is still on time.
    #[serde(with = "humantime_serde")]
    pub grace: Duration,
    pub service_ratio_min_percent: u32,
    pub satisfaction_min_percent: u32,
    pub dissatisfaction_max_percent: u32,
    pub served_per_hour_min: u32,
    pub spot_check_min_percent: u32,
    /// How often `switchboard_group_service_ratio` is computed from the records.
    #[serde(with = "humantime_serde")]
    pub metrics_every: Duration,
}

impl Default for PerformanceConfig {
    fn default() -> Self {
        PerformanceConfig {
            grace: Duration::from_secs(60),
            service_ratio_min_percent: 80,
            satisfaction_min_percent: 80,
            dissatisfaction_max_percent: 5,
            served_per_hour_min: 15,
            spot_check_min_percent: 85,
            metrics_every: Duration::from_secs(30),
        }
    }
}

impl PerformanceConfig {
    pub fn targets(&self) -> Targets {
        Targets {
            service_ratio_min_bp: self.service_ratio_min_percent * 100,
            satisfaction_min_bp: self.satisfaction_min_percent * 100,
            dissatisfaction_max_bp: self.dissatisfaction_max_percent * 100,
            served_per_hour_min: self.served_per_hour_min,
            spot_check_min_bp: self.spot_check_min_percent * 100,
        }
    }

    pub fn grace_ms(&self) -> i64 {
        self.grace.as_millis() as i64
    }

    pub fn validate(&self) -> Result<(), ConfigLoadError> {
        let percents = [
            ("performance.service_ratio_min_percent", self.service_ratio_min_percent),
            ("performance.satisfaction_min_percent", self.satisfaction_min_percent),
            ("performance.dissatisfaction_max_percent", self.dissatisfaction_max_percent),
            ("performance.spot_check_min_percent", self.spot_check_min_percent),
        ];
        percent_keys(&percents)?;
        if self.metrics_every.is_zero() {
            return Err(ConfigLoadError::key("performance.metrics_every", "must be greater than zero"));
        }
        Ok(())
    }
}

/// A service-ratio band of `[fees]`: from this percent (inclusive) up to the next band's floor.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BandConfig {
    pub from_percent: u32,
    pub percent: u32,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FeesConfig {
    pub late_or_early_percent: u32,
    /// Highest floor first; under the last band nothing is billable.
    pub bands: Vec<BandConfig>,
    pub beginner_fen_per_hour: u64,
    pub rising_fen_per_hour: u64,
    pub complaint_percent: u32,
    pub dissatisfaction_max_percent: u32,
    pub dissatisfaction_percent: u32,
    pub spot_check_min_percent: u32,
    pub spot_check_failed_percent: u32,
    pub payout_floor_percent: u32,
}

impl Default for FeesConfig {
    fn default() -> Self {
        let rules = FeeRules::default();
        FeesConfig {
            late_or_early_percent: rules.late_or_early_percent,
            bands: rules
                .bands
                .iter()
                .map(|b| BandConfig { from_percent: b.from_bp / 100, percent: b.percent })
                .collect(),
            beginner_fen_per_hour: rules.beginner_fen_per_hour,
            rising_fen_per_hour: rules.rising_fen_per_hour,
            complaint_percent: rules.complaint_percent,
            dissatisfaction_max_percent: rules.dissatisfaction_max_percent,
            dissatisfaction_percent: rules.dissatisfaction_percent,
            spot_check_min_percent: rules.spot_check_min_percent,
            spot_check_failed_percent: rules.spot_check_failed_percent,
            payout_floor_percent: rules.payout_floor_percent,
        }
    }
}

impl FeesConfig {
    pub fn rules(&self) -> FeeRules {
        FeeRules {
            late_or_early_percent: self.late_or_early_percent,
            bands: self.bands.iter().map(|b| Band { from_bp: b.from_percent * 100, percent: b.percent }).collect(),
            beginner_fen_per_hour: self.beginner_fen_per_hour,
            rising_fen_per_hour: self.rising_fen_per_hour,
            complaint_percent: self.complaint_percent,
            dissatisfaction_max_percent: self.dissatisfaction_max_percent,
            dissatisfaction_percent: self.dissatisfaction_percent,
            spot_check_min_percent: self.spot_check_min_percent,
            spot_check_failed_percent: self.spot_check_failed_percent,
            payout_floor_percent: self.payout_floor_percent,
        }
    }

    pub fn validate(&self) -> Result<(), ConfigLoadError> {
        percent_keys(&[
            ("fees.late_or_early_percent", self.late_or_early_percent),
            ("fees.complaint_percent", self.complaint_percent),
            ("fees.dissatisfaction_max_percent", self.dissatisfaction_max_percent),
            ("fees.dissatisfaction_percent", self.dissatisfaction_percent),
            ("fees.spot_check_min_percent", self.spot_check_min_percent),
            ("fees.spot_check_failed_percent", self.spot_check_failed_percent),
            ("fees.payout_floor_percent", self.payout_floor_percent),
        ])?;
        if self.bands.is_empty() {
            return Err(ConfigLoadError::key("fees.bands", "must list at least one band"));
        }
        for (i, band) in self.bands.iter().enumerate() {
            percent_keys(&[
                (&format!("fees.bands[{i}].from_percent"), band.from_percent),
                (&format!("fees.bands[{i}].percent"), band.percent),
            ])?;
            if i > 0 && band.from_percent >= self.bands[i - 1].from_percent {
                return Err(ConfigLoadError::key(
                    format!("fees.bands[{i}].from_percent"),
                    "bands go from the highest floor down: each floor below the one before",
                ));
            }
        }
        let lowest = self.complaint_percent.min(self.dissatisfaction_percent).min(self.spot_check_failed_percent);
        if self.payout_floor_percent > lowest {
            return Err(ConfigLoadError::key(
                "fees.payout_floor_percent",
                "must not be above complaint_percent, dissatisfaction_percent or spot_check_failed_percent",
            ));
        }
        Ok(())
    }
}

fn percent_keys(keys: &[(&str, u32)]) -> Result<(), ConfigLoadError> {
    match keys.iter().find(|(_, value)| *value > 100) {
        Some((key, _)) => Err(ConfigLoadError::key(*key, "is a percent: 0 to 100")),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_the_handbooks() {
        assert_eq!(FeesConfig::default().rules(), FeeRules::default());
        assert_eq!(PerformanceConfig::default().targets(), Targets::default());
    }

    #[test]
    fn bad_numbers_are_refused_naming_the_key() {
        let mut fees = FeesConfig::default();
        fees.bands[2].from_percent = 90;
        assert_eq!(fees.validate().unwrap_err().key_name(), Some("fees.bands[2].from_percent"));
        let fees = FeesConfig { payout_floor_percent: 95, ..FeesConfig::default() };
        assert_eq!(fees.validate().unwrap_err().key_name(), Some("fees.payout_floor_percent"));
        let fees = FeesConfig { late_or_early_percent: 101, ..FeesConfig::default() };
        assert_eq!(fees.validate().unwrap_err().key_name(), Some("fees.late_or_early_percent"));
        let perf = PerformanceConfig { satisfaction_min_percent: 120, ..PerformanceConfig::default() };
        assert_eq!(perf.validate().unwrap_err().key_name(), Some("performance.satisfaction_min_percent"));
    }
}
