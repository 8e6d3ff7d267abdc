//! Reply timers: the 1-minute warning and the 3-minute slow-reply violation.

use switchboard_router::*;

use crate::sim::*;

fn chatting() -> Sim {
    let mut sim = Sim::new(small());
    sim.online("alice");
    sim.join(1, "general");
    sim.take();
    sim
}

fn warnings(sim: &Sim) -> usize {
    sim.to_agent("alice").iter().filter(|n| matches!(n, AgentNotice::ReplyWarning { .. })).count()
}

fn violations(sim: &Sim) -> usize {
    sim.to_agent("alice").iter().filter(|n| matches!(n, AgentNotice::SlowReply { .. })).count()
}

#[test]
fn no_clock_runs_without_an_unanswered_message() {
    let mut sim = chatting();
    sim.advance(secs(600));
    assert_eq!(warnings(&sim) + violations(&sim), 0);
}

#[test]
fn warning_exactly_at_one_minute_violation_exactly_at_three() {
    let mut sim = chatting();
    sim.say(1, "where is my parcel?").unwrap();
    sim.advance(secs(60) - MS);
    assert_eq!(warnings(&sim), 0, "not a millisecond early");
    sim.advance(MS);
    assert_eq!(warnings(&sim), 1);
    assert!(sim.to_agent("alice").contains(&AgentNotice::ReplyWarning { session: SessionId(1), waited: secs(60) }));
    assert!(sim.to_supervisors().contains(&SupervisorNotice::ReplyWarning {
        agent: AgentId::new("alice"),
        session: SessionId(1),
        group: GroupId::new("general"),
    }));
    sim.advance(secs(120) - MS);
    assert_eq!(violations(&sim), 0);
    sim.advance(MS);
    assert_eq!(violations(&sim), 1);
    assert_eq!(sim.record("alice").reply_warnings, 1);
    assert_eq!(sim.record("alice").slow_replies, 1);
    assert!(sim.to_supervisors().contains(&SupervisorNotice::SlowReply {
        agent: AgentId::new("alice"),
        session: SessionId(1),
        group: GroupId::new("general"),
    }));
    sim.advance(secs(3600));
    assert_eq!(violations(&sim), 1, "one violation per unanswered message");
}

#[test]
fn a_reply_stops_the_clock_and_the_next_message_restarts_it() {
    let mut sim = chatting();
    sim.say(1, "hello?").unwrap();
    sim.advance(secs(59));
    sim.reply("alice", 1, "Hi, checking now").unwrap();
    sim.advance(secs(300));
    assert_eq!(warnings(&sim), 0);
    sim.say(1, "any news?").unwrap();
    sim.advance(secs(30));
    sim.say(1, "hello??").unwrap(); // the clock runs from the first unanswered message
    sim.advance(secs(30));
    assert_eq!(warnings(&sim), 1);
    let reply = sim.events().into_iter().find_map(|e| match e {
        Event::AgentReply { reply_delay, .. } => reply_delay,
        _ => None,
    });
    assert_eq!(reply, Some(secs(59)));
}

#[test]
fn time_in_the_queue_never_counts_against_the_agent() {
    let mut sim = Sim::new(small());
    sim.join(1, "general");
    sim.say(1, "I wrote while waiting").unwrap();
    sim.advance(secs(300));
    sim.online("alice");
    let view = sim.to_agent("alice").into_iter().find_map(|n| match n {
        AgentNotice::SessionAssigned { session } => Some(session),
        _ => None,
    });
    let view = view.expect("assigned");
    assert_eq!(view.unanswered_since, Some(Millis(0)));
    assert_eq!(view.reply_clock_since, Some(Millis(300_000)));
    sim.take();
    sim.advance(secs(59));
    assert_eq!(warnings(&sim), 0);
    sim.advance(secs(1));
    assert_eq!(warnings(&sim), 1, "one minute after assignment");
}

#[test]
fn each_warning_and_violation_is_an_event() {
    let mut sim = chatting();
    sim.say(1, "hi").unwrap();
    sim.advance(secs(180));
    let kinds: Vec<&str> = sim
        .events()
        .iter()
        .filter_map(|e| match e {
            Event::ReplyWarning { .. } => Some("warning"),
            Event::SlowReply { .. } => Some("slow_reply"),
            _ => None,
        })
        .collect();
    assert_eq!(kinds, vec!["warning", "slow_reply"]);
}

/// Cancelled deadlines stay in the timer table until they surface or the
/// table is rebuilt. Thousands of them, queued behind a live deadline so that
/// none can surface, must change neither what fires nor when, and
/// `poll_timeout` must never report a cancelled one.
#[test]
fn thousands_of_cancelled_deadlines_change_nothing_that_fires() {
    let mut sim = chatting();
    sim.join(2, "general");
    sim.say(2, "first, a question nobody answers").unwrap();
    let waiting = sim.now;
    for i in 0..3_000 {
        sim.say(1, &format!("question number {i}")).unwrap();
        sim.advance(MS);
        sim.reply("alice", 1, "answered").unwrap();
        sim.advance(MS);
    }
    assert_eq!(warnings(&sim), 0);
    assert_eq!(sim.router.poll_timeout(), Some(waiting + secs(60)), "the live warning of session 2");
    sim.say(1, "one more?").unwrap();
    let asked = sim.now;
    sim.advance((waiting + secs(60)).since(sim.now));
    assert_eq!(warnings(&sim), 1, "session 2 is warned on time");
    assert_eq!(sim.router.poll_timeout(), Some(asked + secs(60)), "then the live warning of session 1");
    sim.advance((asked + secs(60) - MS).since(sim.now));
    assert_eq!(warnings(&sim), 1, "not a millisecond early");
    sim.advance(MS);
    assert_eq!(warnings(&sim), 2);
    sim.advance(secs(120));
    assert_eq!((warnings(&sim), violations(&sim)), (2, 2));
}
