//! docs/tickets.md and the code name the same states, moves, keys, codes
//! and breach kinds: the product is tried from its docs alone.

use switchboard_tickets::{BreachKind, TicketError, TicketRules, TicketState, TRANSITIONS};

fn page() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/tickets.md")).unwrap()
}

/// The rows of the table whose header row is `header`.
fn table_rows(page: &str, header: &str) -> Vec<String> {
    let lines = page.lines().skip_while(|line| *line != header).skip(2);
    lines.take_while(|line| line.starts_with('|')).map(str::to_owned).collect()
}

#[test]
fn the_transition_table_in_the_docs_is_the_code_table() {
    let expected: Vec<String> = TRANSITIONS
        .iter()
        .map(|(from, to, actor)| format!("| {} | {} | {} |", from.name(), to.name(), actor.name()))
        .collect();
    assert_eq!(table_rows(&page(), "| from | to | by |"), expected);
}

#[test]
fn the_docs_list_every_state_code_key_and_breach() {
    let page = page();
    let first_cell = |header: &str| -> Vec<String> {
        table_rows(&page, header).iter().map(|row| row.split('|').nth(1).unwrap().trim().to_owned()).collect()
    };
    let states: Vec<String> = TicketState::ALL.iter().map(|s| format!("`{}`", s.name())).collect();
    assert_eq!(first_cell("| state | source term | meaning |"), states);
    let codes: Vec<String> = TicketError::CODES.iter().map(|c| format!("`{c}`")).collect();
    assert_eq!(first_cell("| code | when |"), codes);
    let keys = first_cell("| key | default | rule |");
    let expected: Vec<String> = TicketRules::KEYS.iter().map(|k| format!("`{k}`")).collect();
    assert_eq!(keys, expected);
    for kind in BreachKind::ALL {
        assert!(page.contains(&format!("`{}`", kind.name())), "breach {} not documented", kind.name());
    }
}
