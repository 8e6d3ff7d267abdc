//! A config that cannot work is refused with the key at fault.

use std::time::Duration;

use switchboard_router::*;

use crate::sim::*;

fn refused(cfg: RouterConfig) -> ConfigError {
    Router::new(cfg).expect_err("config should be refused")
}

#[test]
fn the_defaults_are_the_handbooks() {
    let rules = Rules::default();
    assert_eq!(rules.reply_warning, Duration::from_secs(60));
    assert_eq!(rules.reply_violation, Duration::from_secs(180));
    Router::new(small()).unwrap();
}

#[test]
fn bad_configs_name_the_key() {
    let mut cfg = small();
    cfg.groups[0].overflow_to = vec![GroupId::new("nowhere")];
    assert_eq!(refused(cfg).key, "groups[0].overflow_to[0]");

    let mut cfg = small();
    cfg.agents[1].capacity = 0;
    assert_eq!(refused(cfg).key, "agents[1].capacity");

    let mut cfg = small();
    cfg.rules.reply_warning = Duration::from_secs(200);
    let err = refused(cfg);
    assert_eq!(err.key, "rules.reply_warning");
    assert!(err.to_string().contains("earlier than rules.reply_violation"), "{err}");

    let mut cfg = small();
    cfg.agents[0].groups[0].group = GroupId::new("ghost");
    assert_eq!(refused(cfg).key, "agents[0].groups[0].group");

    let mut cfg = small();
    cfg.agents.push(cfg.agents[0].clone());
    assert_eq!(refused(cfg).key, "agents[3].id");

    let mut cfg = small();
    cfg.rules.handoff_note_min_chars = 0;
    assert_eq!(refused(cfg).key, "rules.handoff_note_min_chars");

    let mut cfg = small();
    cfg.groups.clear();
    cfg.agents.clear();
    assert_eq!(refused(cfg).key, "groups");
}

/// A change to the rules that makes them invalid.
type Spoil = fn(&mut Rules);

#[test]
fn every_conduct_and_complaint_key_is_checked_and_named() {
    let zero = Duration::ZERO;
    let cases: [(&str, Spoil); 15] = [
        ("rules.transfers.ping_pong_window", |r| r.transfers.ping_pong_window = Duration::ZERO),
        ("rules.transfers.max_per_session", |r| r.transfers.max_per_session = 0),
        ("rules.breaks.after_assignment", |r| r.breaks.after_assignment = Duration::ZERO),
        ("rules.breaks.max_per_shift", |r| r.breaks.max_per_shift = 0),
        ("rules.breaks.max_total_per_shift", |r| r.breaks.max_total_per_shift = Duration::ZERO),
        ("rules.shedding.window", |r| r.shedding.window = Duration::ZERO),
        ("rules.shedding.max_sheds", |r| r.shedding.max_sheds = 0),
        ("rules.closes.unresponsive_after", |r| r.closes.unresponsive_after = Duration::ZERO),
        ("rules.complaint.phone_words[1]", |r| r.complaint.phone_words[1] = "  ".into()),
        ("rules.complaint.abusive_words[0]", |r| r.complaint.abusive_words[0] = String::new()),
        ("rules.complaint.repeat_threshold", |r| r.complaint.repeat_threshold = 1),
        ("rules.complaint.repeat_lookback", |r| r.complaint.repeat_lookback = 1),
        ("rules.complaint.question_min_chars", |r| r.complaint.question_min_chars = 0),
        ("rules.complaint.burst_messages", |r| r.complaint.burst_messages = 1_001),
        ("rules.complaint.burst_window", |r| r.complaint.burst_window = Duration::ZERO),
    ];
    for (key, change) in cases {
        let mut cfg = small();
        change(&mut cfg.rules);
        let err = refused(cfg);
        assert_eq!(err.key, key, "{err}");
    }
    let mut cfg = small();
    cfg.rules.breaks.blocked_wait = zero;
    Router::new(cfg).expect("blocked_wait 0s: a break while anyone at all waits is flagged");
    let mut cfg = small();
    cfg.rules.complaint.repeat_lookback = 1;
    assert!(refused(cfg).problem.contains("repeat_threshold - 1"), "the lookback's minimum is explained");
}

#[test]
fn a_config_is_read_from_toml_with_readable_durations() {
    let cfg: RouterConfig = toml::from_str(
        r#"
        [rules]
        reply_warning = "45s"
        reply_violation = "2m"
        [rules.transfers]
        max_per_session = 5
        [[groups]]
        id = "general"
        overflow_to = ["vip"]
        overflow_after = "90s"
        [[groups]]
        id = "vip"
        [[agents]]
        id = "alice"
        capacity = 4
        groups = [{ group = "general", level = 2 }, { group = "vip" }]
        "#,
    )
    .unwrap();
    assert_eq!(cfg.rules.reply_warning, Duration::from_secs(45));
    assert_eq!(cfg.rules.transfers.max_per_session, 5);
    assert_eq!(cfg.rules.breaks.max_per_shift, 3, "unset numbers keep their defaults");
    assert_eq!(cfg.agents[0].groups[1].level, 1);
    Router::new(cfg).unwrap();
    let typo = toml::from_str::<RouterConfig>("[rules]\nreply_warnin = \"1m\"\n").unwrap_err();
    assert!(typo.to_string().contains("reply_warnin"), "{typo}");
}

/// A config travels inside a saved router, in postcard: durations (written
/// with humantime) and defaults must read back exactly, sub-millisecond parts
/// included.
#[test]
fn a_config_round_trips_through_postcard() {
    let mut cfg: RouterConfig = toml::from_str(
        r#"
        [rules]
        reply_warning = "45s"
        reply_violation = "2m 30s 250ms"
        assignment_strategy = "round-robin"
        [rules.complaint]
        abusive_words = ["rubbish", "垃圾"]
        [[groups]]
        id = "general"
        overflow_to = ["vip"]
        overflow_after = "90s"
        service_hours = "Mon-Fri 09:00-18:00"
        [[groups]]
        id = "vip"
        name = "VIP"
        [[agents]]
        id = "alice"
        capacity = 4
        groups = [{ group = "general", level = 2 }, { group = "vip" }]
        [[agents]]
        id = "sam"
        role = "supervisor"
        "#,
    )
    .unwrap();
    cfg.rules.customer_idle = Duration::new(601, 7);
    let bytes = postcard::to_allocvec(&cfg).unwrap();
    let back: RouterConfig = postcard::from_bytes(&bytes).unwrap();
    assert_eq!(back, cfg);
    assert_eq!(
        postcard::from_bytes::<RouterConfig>(&postcard::to_allocvec(&RouterConfig::default()).unwrap()).unwrap(),
        RouterConfig::default()
    );
}

#[test]
fn same_groups_allows_new_rules_and_agents_and_names_every_group_change() {
    let saved = small();
    let mut new = small();
    new.rules.reply_warning = Duration::from_secs(30);
    new.rules.max_history = 20;
    new.agents[0].capacity = 5;
    new.agents.remove(2);
    new.groups[0].service_hours = Some("every day 08:00-20:00".into());
    assert_eq!(saved.same_groups(&new), Ok(()), "rules, agents and service hours may change");

    let mut new = small();
    new.groups.push(GroupConfig { id: GroupId::new("vip"), ..new.groups[0].clone() });
    let err = saved.same_groups(&new).unwrap_err();
    assert_eq!(err, "the skill groups changed since the state was saved: group `vip` was added");

    let mut new = small();
    new.groups.swap(0, 1);
    new.groups[0].max_queue = 5;
    let err = saved.same_groups(&new).unwrap_err();
    assert_eq!(
        err,
        "the skill groups changed since the state was saved: group `refunds` changed its \
         max_queue; group `general` moved from position 1 to 2; group `refunds` moved from position 2 to 1"
    );
}
