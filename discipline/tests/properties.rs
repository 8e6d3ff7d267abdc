//! Invariants of the discipline rules, over random warnings.

use proptest::prelude::*;
use switchboard_discipline::{Bar, Cause, Record, Rules, Warning};

const DAY: i64 = 86_400_000;

fn warning() -> impl Strategy<Value = Warning> {
    (0i64..800, 0usize..3, 0u8..4).prop_map(|(day, cause, n)| Warning {
        at: day * DAY,
        cause: Cause::ALL[cause],
        subject: format!("s{day}-{n}"),
    })
}

fn warnings() -> impl Strategy<Value = Vec<Warning>> {
    prop::collection::vec(warning(), 0..25)
}

proptest! {
    #[test]
    fn the_order_of_the_inputs_does_not_matter(ws in warnings(), seed in any::<u64>()) {
        let rules = Rules::default();
        let mut shuffled = ws.clone();
        // A deterministic shuffle from the seed.
        let n = shuffled.len();
        for i in (1..n).rev() {
            let j = (seed.wrapping_mul(i as u64 + 7).rotate_left(i as u32) % (i as u64 + 1)) as usize;
            shuffled.swap(i, j);
        }
        prop_assert_eq!(Record::of(&rules, ws), Record::of(&rules, shuffled));
    }

    #[test]
    fn a_suspension_always_follows_enough_warnings_within_the_window(ws in warnings()) {
        let rules = Rules::default();
        let record = Record::of(&rules, ws);
        for s in &record.suspensions {
            prop_assert_eq!(s.until - s.from, rules.suspension);
            // The suspension starts at a warning...
            prop_assert!(record.warnings.iter().any(|w| w.at == s.from));
            // ...with at least the threshold's weight within the window before it.
            let weight: u32 = record
                .warnings
                .iter()
                .filter(|w| w.at <= s.from && s.from - w.at < rules.warning_window)
                .map(Warning::weight)
                .sum();
            prop_assert!(weight >= rules.warnings_to_suspend);
        }
    }

    /// Time only adds: the record of the warnings up to any moment is the
    /// start of the whole record (a later warning never takes back, moves or
    /// adds an earlier suspension), so the state never gets lighter as time passes.
    /// (Adding a warning in the past can change which later ones a suspension
    /// used, so the property is about time, not about any extra warning.)
    #[test]
    fn later_warnings_never_change_the_past(ws in warnings(), cut in 0i64..800) {
        let rules = Rules::default();
        let cut = cut * DAY;
        let whole = Record::of(&rules, ws.clone());
        let until_cut = Record::of(&rules, ws.into_iter().filter(|w| w.at <= cut));
        let past: Vec<_> = whole.suspensions.iter().copied().filter(|s| s.from <= cut).collect();
        prop_assert_eq!(&until_cut.suspensions, &past);
        prop_assert_eq!(until_cut.disqualified, whole.disqualified.filter(|since| *since <= cut));
        prop_assert!(until_cut.warnings_before(cut + 1) <= whole.warnings_before(cut + DAY));
    }

    #[test]
    fn disqualification_is_for_good_and_follows_enough_suspensions(ws in warnings()) {
        let rules = Rules::default();
        let record = Record::of(&rules, ws);
        if let Some(since) = record.disqualified {
            let starts = record.suspensions.iter().filter(|s| s.from <= since && since - s.from < rules.suspension_window);
            prop_assert!(starts.count() >= rules.suspensions_to_disqualify as usize);
            prop_assert_eq!(record.bar_at(since + 5_000 * DAY), Some(Bar::Disqualified { since }));
        }
    }

    #[test]
    fn nobody_is_barred_before_their_first_warning(ws in warnings()) {
        let record = Record::of(&Rules::default(), ws);
        if let Some(first) = record.warnings.first() {
            prop_assert_eq!(record.bar_at(first.at - 1), None);
        }
    }
}
