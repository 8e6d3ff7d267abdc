//! Shared fixtures: a Shanghai calendar with a Mon-Fri desk and a holiday,
//! local times, and draining outputs.
#![allow(dead_code)]

use jiff::Timestamp;
use switchboard_calendar::{time_zone, Calendar, ServiceHours, SpecialDays};
use switchboard_tickets::{AgentId, GroupId, Input, Origin, Output, Priority, TicketId, TicketRules, Tickets};

pub const ZONE: &str = "Asia/Shanghai";

/// `billing` works Mon-Fri 09:00-18:00 (the rules' service hours); `tech`
/// every day 08:00-22:00. 2027-01-01 (a Friday) is a holiday for both.
pub fn calendar() -> Calendar {
    let special = SpecialDays::new(["2027-01-01".parse().unwrap()], []).unwrap();
    Calendar::new(time_zone(ZONE).unwrap(), special)
        .with_group("billing", "Mon-Fri 09:00-18:00".parse::<ServiceHours>().unwrap())
        .with_group("tech", "every day 08:00-22:00".parse::<ServiceHours>().unwrap())
}

pub fn desk() -> Tickets {
    Tickets::new(TicketRules::default(), calendar(), [group("billing"), group("tech")]).unwrap()
}

/// A local wall-clock time in Shanghai ("2026-11-27 21:00").
pub fn at(text: &str) -> Timestamp {
    let civil: jiff::civil::DateTime = text.parse().unwrap();
    time_zone(ZONE).unwrap().to_timestamp(civil).unwrap()
}

pub fn agent(id: &str) -> AgentId {
    AgentId::from(id)
}

pub fn group(id: &str) -> GroupId {
    GroupId::from(id)
}

pub fn outputs(desk: &mut Tickets) -> Vec<Output> {
    std::iter::from_fn(|| desk.poll_output()).collect()
}

pub fn available(id: &str, groups: &[&str], capacity: usize) -> Input {
    Input::AgentAvailable {
        agent: agent(id),
        groups: groups.iter().map(|g| group(g)).collect(),
        ticket_capacity: capacity,
    }
}

/// A customer's message left in `group_id`, as ticket `id`.
pub fn left_message(id: u64, group_id: &str, origin: Origin) -> Input {
    Input::Create { ticket: TicketId(id), group: group(group_id), origin, priority: Priority::Normal }
}

/// The breaches among `outputs`.
pub fn breaches(outputs: &[Output]) -> Vec<&Output> {
    outputs.iter().filter(|o| matches!(o, Output::Breach { .. })).collect()
}
