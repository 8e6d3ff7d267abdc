//! Service hours: a closed group takes no new customer (unless it
//! overflows to an open group), keeps serving those already waiting, and
//! receives no overflow.

use switchboard_router::*;

use crate::sim::*;

fn hours(open: bool, next_change: u64) -> GroupHours {
    GroupHours { open, next_change: Some(Millis(next_change)), service_hours: Some("Mon-Fri 09:00-18:00".into()) }
}

fn set_hours(sim: &mut Sim, group: &str, open: bool, next_change: u64) {
    sim.input(Input::SetGroupHours { groups: vec![(GroupId::new(group), hours(open, next_change))] }).unwrap();
}

fn try_join(sim: &mut Sim, session: u64, group: &str) -> Result<(), RuleError> {
    sim.input(Input::CustomerJoin {
        session: SessionId(session),
        group: GroupId::new(group),
        priority: Priority::Normal,
        customer_name: None,
        customer_id: None,
    })
}

#[test]
fn a_closed_group_refuses_new_customers_with_when_it_opens() {
    let mut sim = Sim::new(small());
    sim.online("alice");
    set_hours(&mut sim, "general", false, 50_000);
    let err = try_join(&mut sim, 1, "general").unwrap_err();
    assert_eq!(err, RuleError::GroupClosed { group: GroupId::new("general"), opens_at: Some(Millis(50_000)) });
    assert_eq!(err.code(), "group_closed");
    assert_eq!(sim.status(1), None, "nothing queued");
    let general = sim.router.snapshot(sim.now).groups.into_iter().find(|g| g.id.as_str() == "general").unwrap();
    assert_eq!((general.open, general.next_change, general.waiting), (false, Some(Millis(50_000)), 0));

    set_hours(&mut sim, "general", true, 90_000);
    sim.join(2, "general");
    assert_eq!(sim.owner(2).as_deref(), Some("alice"), "open again: routed");
}

#[test]
fn customers_waiting_when_the_group_closes_stay_and_are_still_assigned() {
    let mut sim = Sim::new(small());
    sim.join(1, "general");
    set_hours(&mut sim, "general", false, 50_000);
    assert!(matches!(sim.status(1), Some(SessionStatus::Waiting { .. })), "still waiting");
    sim.online("alice");
    assert_eq!(sim.owner(1).as_deref(), Some("alice"), "agents work on what they have");
}

#[test]
fn overflow_goes_only_to_open_groups() {
    let config = config(&[("refunds", &["general"]), ("general", &[])], &[("alice", &["general"], 2)]);
    let mut sim = Sim::new(config);
    sim.online("alice");
    set_hours(&mut sim, "refunds", false, 900_000);
    set_hours(&mut sim, "general", false, 900_000);
    assert_eq!(try_join(&mut sim, 1, "refunds").unwrap_err().code(), "group_closed", "no open group to overflow to");

    // General open: a refunds customer may join, waiting to overflow there.
    set_hours(&mut sim, "general", true, 900_000);
    try_join(&mut sim, 2, "refunds").unwrap();
    set_hours(&mut sim, "general", false, 900_000);
    sim.take();
    sim.advance(secs(130));
    assert_eq!(sim.owner(2), None, "general closed: no overflow into it");
    assert!(
        !sim.to_customer(2).iter().any(|n| matches!(n, CustomerNotice::Overflowed { .. })),
        "not told of a closed group"
    );
    set_hours(&mut sim, "general", true, 900_000);
    assert_eq!(sim.owner(2).as_deref(), Some("alice"), "general opened: the overflowed customer is served");
}

#[test]
fn hours_are_saved_with_the_router_and_unknown_groups_change_nothing() {
    let mut sim = Sim::new(small());
    set_hours(&mut sim, "refunds", false, 7_000);
    let both = vec![(GroupId::new("general"), hours(false, 1)), (GroupId::new("vip"), hours(false, 1))];
    assert_eq!(sim.input(Input::SetGroupHours { groups: both }).unwrap_err().code(), "unknown_group");
    let bytes = postcard::to_allocvec(&sim.router).unwrap();
    let restored: Router = postcard::from_bytes(&bytes).unwrap();
    let held: Vec<_> = restored.group_hours().map(|(g, h)| (g.to_string(), h.clone())).collect();
    assert_eq!(
        held,
        [
            ("general".to_string(), GroupHours { next_change: None, ..hours(true, 0) }),
            ("refunds".to_string(), hours(false, 7_000)),
        ]
    );
}
