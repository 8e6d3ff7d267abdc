//! Complaint tendency: phone-call requests, abusive words, repeated
//! questions and message bursts raise priority and alert supervisors.

use switchboard_router::*;

use crate::sim::*;

fn signals(sim: &Sim) -> Vec<ComplaintSignal> {
    sim.events()
        .into_iter()
        .filter_map(|e| if let Event::ComplaintTendency { signal, .. } = e { Some(signal) } else { None })
        .collect()
}

#[test]
fn each_signal_is_detected_in_english_and_chinese() {
    let cases = [
        ("Please call me on my phone", ComplaintSignal::PhoneRequest),
        ("请给我打电话", ComplaintSignal::PhoneRequest),
        ("this is a SCAM", ComplaintSignal::AbusiveLanguage),
        ("你们是骗子", ComplaintSignal::AbusiveLanguage),
    ];
    for (i, (text, signal)) in cases.into_iter().enumerate() {
        let mut sim = Sim::new(small());
        sim.join(i as u64, "general");
        sim.say(i as u64, text).unwrap();
        assert_eq!(signals(&sim), vec![signal], "{text}");
    }
}

#[test]
fn the_same_question_three_times() {
    let mut sim = Sim::new(small());
    sim.join(1, "general");
    sim.say(1, "Where is my refund?").unwrap();
    sim.say(1, "something else").unwrap();
    sim.say(1, "where is my refund").unwrap();
    assert!(signals(&sim).is_empty());
    sim.say(1, "WHERE IS MY REFUND??").unwrap();
    assert_eq!(signals(&sim), vec![ComplaintSignal::RepeatedQuestion]);
}

#[test]
fn a_burst_of_messages_in_a_short_time() {
    let mut sim = Sim::new(small());
    sim.join(1, "general");
    for i in 0..5 {
        sim.say(1, &format!("message {i}")).unwrap();
        sim.advance(secs(4));
    }
    assert!(signals(&sim).is_empty(), "5 messages in 20 s are allowed");
    sim.say(1, "message 5").unwrap();
    assert_eq!(signals(&sim), vec![ComplaintSignal::MessageBurst]);
}

#[test]
fn slow_messages_are_not_a_burst() {
    let mut sim = Sim::new(small());
    sim.join(1, "general");
    for i in 0..20 {
        sim.say(1, &format!("message {i}")).unwrap();
        sim.advance(secs(5));
    }
    assert!(signals(&sim).is_empty());
}

#[test]
fn a_waiting_session_with_a_signal_jumps_ahead_of_normal_ones_and_supervisors_hear() {
    let mut sim = Sim::new(config(&[("general", &[])], &[("alice", &["general"], 1)]));
    sim.join(1, "general");
    sim.join(2, "general");
    sim.join(3, "general");
    sim.say(3, "I want a phone call now").unwrap();
    assert!(matches!(sim.status(3), Some(SessionStatus::Waiting { position: 1, .. })));
    assert!(sim.events().contains(&Event::PriorityRaised { session: SessionId(3), priority: Priority::High }));
    assert!(sim.to_supervisors().iter().any(|n| matches!(
        n,
        SupervisorNotice::ComplaintTendency {
            session: SessionId(3),
            signal: ComplaintSignal::PhoneRequest,
            agent: None,
            ..
        }
    )));
    sim.online("alice");
    assert_eq!(sim.owner(3).as_deref(), Some("alice"));
}

#[test]
fn an_assigned_session_with_a_signal_is_raised_on_the_agents_list() {
    let mut sim = Sim::new(small());
    sim.online("alice");
    sim.join(1, "general");
    sim.take();
    sim.say(1, "you are useless").unwrap();
    assert!(sim.to_agent("alice").contains(&AgentNotice::PriorityRaised {
        session: SessionId(1),
        priority: Priority::High,
        signal: ComplaintSignal::AbusiveLanguage,
    }));
    sim.take();
    sim.say(1, "useless!").unwrap();
    assert!(signals(&sim).is_empty(), "each signal is raised once per session");
}

/// A router whose complaint rules are changed by `change`.
fn with_complaint_rules(change: impl FnOnce(&mut ComplaintRules)) -> Sim {
    let mut cfg = small();
    change(&mut cfg.rules.complaint);
    let mut sim = Sim::new(cfg);
    sim.join(1, "general");
    sim
}

#[test]
fn the_word_lists_are_the_configured_ones() {
    let mut sim = with_complaint_rules(|c| {
        c.phone_words = vec!["ring me".into()];
        c.abusive_words = vec!["rubbish".into()];
    });
    sim.say(1, "call me, this is a scam").unwrap();
    assert!(signals(&sim).is_empty(), "the built-in words are replaced, not added to");
    sim.say(1, "Ring me: your shop is RUBBISH").unwrap();
    assert_eq!(signals(&sim), vec![ComplaintSignal::PhoneRequest, ComplaintSignal::AbusiveLanguage]);
}

#[test]
fn a_repeat_counts_only_within_the_lookback() {
    let ask_with_gap = |sim: &mut Sim, gap: usize| {
        sim.say(1, "where is my refund").unwrap();
        for i in 0..gap {
            sim.say(1, &format!("other question {i}")).unwrap();
            sim.advance(secs(10)); // no burst
        }
    };
    // Default lookback 20: asked three times with 5 other questions between.
    let mut sim = with_complaint_rules(|_| {});
    for _ in 0..3 {
        ask_with_gap(&mut sim, 5);
    }
    assert_eq!(signals(&sim), vec![ComplaintSignal::RepeatedQuestion]);
    // Lookback 5: the earlier asks have dropped out of sight.
    let mut sim = with_complaint_rules(|c| c.repeat_lookback = 5);
    for _ in 0..3 {
        ask_with_gap(&mut sim, 5);
    }
    assert!(signals(&sim).is_empty());
}

#[test]
fn short_messages_are_no_questions_below_question_min_chars() {
    let mut sim = with_complaint_rules(|_| {});
    for _ in 0..3 {
        sim.say(1, "ok").unwrap();
        sim.advance(secs(10));
    }
    assert_eq!(signals(&sim), vec![ComplaintSignal::RepeatedQuestion], "2 letters are a question by default");
    let mut sim = with_complaint_rules(|c| c.question_min_chars = 3);
    for _ in 0..3 {
        sim.say(1, "ok").unwrap();
        sim.advance(secs(10));
    }
    assert!(signals(&sim).is_empty());
}
