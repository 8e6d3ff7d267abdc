//! `TicketRules`: the rules' defaults, the config form, and `validate()` naming the key.

use std::time::Duration;

use switchboard_tickets::TicketRules;

#[test]
fn the_defaults_are_the_ticket_rules() {
    let rules = TicketRules::default();
    assert_eq!(rules.first_response, Duration::from_secs(15 * 60));
    assert_eq!(rules.expected_time_reply, Duration::from_secs(30 * 60));
    assert_eq!(rules.max_without_reply, Duration::from_secs(4 * 3600));
    assert_eq!((rules.feedback_wait_days, rules.confirmation_wait_days), (7, 3));
    assert_eq!(rules.handoff_note_min_chars, 10);
    assert_eq!(rules.validate(), Ok(()));
}

#[test]
fn the_config_form_reads_durations_and_refuses_unknown_keys() {
    let rules: TicketRules = toml::from_str("first_response = \"10m\"\nfeedback_wait_days = 5").unwrap();
    assert_eq!(rules.first_response, Duration::from_secs(600));
    assert_eq!(rules.feedback_wait_days, 5);
    assert_eq!(rules.max_without_reply, TicketRules::default().max_without_reply);
    let err = toml::from_str::<TicketRules>("first_respons = \"10m\"").unwrap_err();
    assert!(err.to_string().contains("first_respons"), "{err}");
}

/// A change that makes the rules invalid.
type Breaks = fn(&mut TicketRules);

#[test]
fn validate_names_the_key_at_fault() {
    let cases: [(&str, Breaks); 7] = [
        ("tickets.first_response", |r| r.first_response = Duration::ZERO),
        ("tickets.expected_time_reply", |r| r.expected_time_reply = Duration::ZERO),
        ("tickets.expected_time_reply", |r| r.expected_time_reply = Duration::from_secs(60)),
        ("tickets.max_without_reply", |r| r.max_without_reply = Duration::from_secs(60)),
        ("tickets.feedback_wait_days", |r| r.feedback_wait_days = 0),
        ("tickets.confirmation_wait_days", |r| r.confirmation_wait_days = 0),
        ("tickets.handoff_note_min_chars", |r| r.handoff_note_min_chars = 0),
    ];
    for (key, break_it) in cases {
        let mut rules = TicketRules::default();
        break_it(&mut rules);
        let err = rules.validate().unwrap_err();
        assert_eq!(err.key, key);
        assert!(TicketRules::KEYS.contains(&key));
        assert!(err.to_string().starts_with(&format!("`{key}`")), "{err}");
    }
}
