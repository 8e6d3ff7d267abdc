//! The handbook's worked examples, every band edge, the payout rules, and
//! properties of the arithmetic.

use proptest::prelude::*;
use switchboard_fees::{Attendance, FeeError, FeeRules, Level, Quality, Shift};

const TWO_HOURS: u32 = 120;

fn shift(minutes: u32, attendance: Attendance, in_service_minutes: u32) -> Shift {
    Shift { minutes, attendance, in_service_minutes }
}

#[test]
fn xiao_wang_late_for_a_two_hour_shift_bills_1_8_hours() {
    let billed = FeeRules::default().bill_shift(&shift(TWO_HOURS, Attendance::LateOrEarly, TWO_HOURS));
    assert_eq!(billed.billable_centiminutes, 108 * 100, "2 h × 90% = 1.8 h = 108 min");
    assert_eq!(billed.billable_hours(), 1.8);
}

#[test]
fn xiao_lin_at_a_69_percent_service_ratio_bills_1_5_hours() {
    // 69% of 120 minutes is 82.8: 83 minutes in service is 69.16%, in the 60-75% band.
    let billed = FeeRules::default().bill_shift(&shift(TWO_HOURS, Attendance::OnTime, 83));
    assert_eq!(billed.service_ratio_bp, 6916);
    assert_eq!(billed.band_percent, 75);
    assert_eq!(billed.billable_hours(), 1.5);
}

#[test]
fn every_band_edge_belongs_to_the_band_above() {
    let rules = FeeRules::default();
    // (ratio in basis points, billable percent): each floor, and one basis point under it.
    let edges = [
        (10_000, 100),
        (8000, 100),
        (7999, 90),
        (7500, 90),
        (7499, 75),
        (6000, 75),
        (5999, 50),
        (4000, 50),
        (3999, 0),
        (0, 0),
    ];
    for (bp, percent) in edges {
        assert_eq!(rules.band_percent(bp), percent, "{bp} basis points");
    }
    // The same edges from whole shifts: 100 minutes, so minutes are percents.
    for (minutes, percent) in [(80, 100), (79, 90), (75, 90), (74, 75), (60, 75), (59, 50), (40, 50), (39, 0)] {
        let billed = rules.bill_shift(&shift(100, Attendance::OnTime, minutes));
        assert_eq!(billed.band_percent, percent, "{minutes} of 100 minutes in service");
    }
}

#[test]
fn late_and_under_the_ratio_both_count() {
    let billed = FeeRules::default().bill_shift(&shift(TWO_HOURS, Attendance::LateOrEarly, 83));
    assert_eq!(billed.billable_centiminutes, 120 * 90 * 75 / 100, "2 h × 90% × 75% = 1.35 h");
}

#[test]
fn the_fee_is_hours_times_the_level_rate_times_the_payout() {
    let rules = FeeRules::default();
    let shifts = [shift(TWO_HOURS, Attendance::LateOrEarly, TWO_HOURS), shift(TWO_HOURS, Attendance::OnTime, 83)];
    let good = Quality { ratings: 40, dissatisfied: 2, spot_checks: 20, spot_checks_passed: 17, ..Quality::default() };
    let fee = rules.fee(Level::Beginner, &shifts, &good).unwrap();
    assert_eq!(fee.billable_hours(), 3.3);
    assert_eq!((fee.rate_fen_per_hour, fee.payout.percent), (800, 100));
    assert_eq!(fee.fee_fen, 2640, "3.3 h × 8 = 26.40");
    let rising = rules.fee(Level::Rising, &shifts, &good).unwrap();
    assert_eq!(rising.fee_fen, 3300, "3.3 h × 10 = 33.00");
}

#[test]
fn each_quality_rule_lowers_the_payout_and_the_lowest_applies() {
    let rules = FeeRules::default();
    let base = Quality { ratings: 100, dissatisfied: 5, spot_checks: 20, spot_checks_passed: 17, ..Quality::default() };
    assert_eq!(rules.payout(&base).percent, 100, "5% dissatisfied and 85% passed are still fine");
    let dissatisfied = Quality { dissatisfied: 6, ..base };
    assert_eq!(rules.payout(&dissatisfied).percent, 80);
    assert_eq!(rules.payout(&dissatisfied).reasons, ["dissatisfaction"]);
    let spot = Quality { spot_checks_passed: 16, ..base };
    assert_eq!(rules.payout(&spot).percent, 90, "16 of 20 is 80%, under 85%");
    let complaint = Quality { upheld_complaints: 1, ..dissatisfied };
    let payout = rules.payout(&complaint);
    assert_eq!(payout.percent, 70, "the lowest of 70% and 80%");
    assert_eq!(payout.reasons, ["upheld_complaint", "dissatisfaction"]);
    assert_eq!(rules.payout(&Quality::default()).percent, 100, "no ratings, no checks: nothing to hold against");
}

#[test]
fn impossible_figures_are_refused() {
    let rules = FeeRules::default();
    let over = rules.fee(Level::Beginner, &[shift(60, Attendance::OnTime, 61)], &Quality::default());
    assert_eq!(over, Err(FeeError::InServiceOverShift { shift: 0 }));
    let counts = Quality { ratings: 1, dissatisfied: 2, ..Quality::default() };
    assert_eq!(rules.fee(Level::Beginner, &[], &counts), Err(FeeError::CountsInconsistent));
}

fn any_shift() -> impl Strategy<Value = Shift> {
    (0..600u32, any::<bool>(), 0..=100u32).prop_map(|(minutes, late, share)| Shift {
        minutes,
        attendance: if late { Attendance::LateOrEarly } else { Attendance::OnTime },
        in_service_minutes: minutes * share / 100,
    })
}

proptest! {
    /// Billable time never exceeds the shift, and more time in service never bills less.
    #[test]
    fn billable_time_is_bounded_and_monotone(s in any_shift(), extra in 0..60u32) {
        let rules = FeeRules::default();
        let billed = rules.bill_shift(&s);
        prop_assert!(billed.billable_centiminutes <= u64::from(s.minutes) * 100);
        let more = Shift { in_service_minutes: (s.in_service_minutes + extra).min(s.minutes), ..s };
        prop_assert!(rules.bill_shift(&more).billable_centiminutes >= billed.billable_centiminutes);
    }

    /// The fee is the sum of the shifts' shares: splitting a month does not change it by more than rounding.
    #[test]
    fn the_fee_adds_up_over_shifts(shifts in proptest::collection::vec(any_shift(), 0..20), split in 0..20usize) {
        let rules = FeeRules::default();
        let q = Quality::default();
        let whole = rules.fee(Level::Rising, &shifts, &q).unwrap().fee_fen;
        let (a, b) = shifts.split_at(split.min(shifts.len()));
        let parts = rules.fee(Level::Rising, a, &q).unwrap().fee_fen + rules.fee(Level::Rising, b, &q).unwrap().fee_fen;
        prop_assert!(whole.abs_diff(parts) <= 1, "{whole} against {parts}");
    }

    /// The payout stays within 70% and 100%.
    #[test]
    fn the_payout_stays_in_its_range(c in 0..3u32, r in 0..200u32, d in 0..200u32, s in 0..30u32, p in 0..30u32) {
        let q = Quality { upheld_complaints: c, ratings: r.max(d), dissatisfied: d, spot_checks: s.max(p), spot_checks_passed: p };
        let percent = FeeRules::default().payout(&q).percent;
        prop_assert!((70..=100).contains(&percent));
    }
}

#[test]
fn a_promotion_within_the_month_bills_each_shift_at_its_own_level() {
    let rules = FeeRules::default();
    let two_hours = shift(TWO_HOURS, Attendance::OnTime, TWO_HOURS);
    let fee =
        rules.fee_by_level(&[(Level::Beginner, two_hours), (Level::Rising, two_hours)], &Quality::default()).unwrap();
    assert_eq!(fee.fee_fen, 2 * 800 + 2 * 1000, "2 h at 8 and 2 h at 10");
    assert_eq!(fee.rate_fen_per_hour, 0, "no one rate");
    let same = rules.fee_by_level(&[(Level::Rising, two_hours)], &Quality::default()).unwrap();
    assert_eq!(same, rules.fee(Level::Rising, &[two_hours], &Quality::default()).unwrap());
}
