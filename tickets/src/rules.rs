//! The ticket limits, with the defaults of the ticket rules.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Every limit of the ticket lifecycle. Durations are working time of the
/// ticket's skill group (its service hours, holidays skipped); days are its
/// working days. Keys (under `[tickets]` when the server reads them) and
/// defaults are in docs/tickets.md.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TicketRules {
    /// A first answer within this long of the ticket's creation (15 working minutes).
    #[serde(with = "humantime_serde")]
    pub first_response: Duration,
    /// A reply telling the expected resolution time within this long of
    /// creation (30 working minutes).
    #[serde(with = "humantime_serde")]
    pub expected_time_reply: Duration,
    /// Never longer than this without a reply after the customer wrote (4 working hours).
    #[serde(with = "humantime_serde")]
    pub max_without_reply: Duration,
    /// Awaiting feedback this many working days without any: pending confirmation (7).
    pub feedback_wait_days: u32,
    /// Pending confirmation this many working days: confirmed and closed (3).
    pub confirmation_wait_days: u32,
    /// Shortest handoff note (and note when a chat becomes a ticket), in
    /// characters after trimming; as for chats (10).
    pub handoff_note_min_chars: usize,
}

impl Default for TicketRules {
    fn default() -> TicketRules {
        TicketRules {
            first_response: Duration::from_secs(15 * 60),
            expected_time_reply: Duration::from_secs(30 * 60),
            max_without_reply: Duration::from_secs(4 * 3600),
            feedback_wait_days: 7,
            confirmation_wait_days: 3,
            handoff_note_min_chars: 10,
        }
    }
}

/// A rule that cannot work, naming its key.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{key}`: {reason}")]
pub struct RulesError {
    pub key: &'static str,
    pub reason: &'static str,
}

impl TicketRules {
    /// Every key, as named in config and errors (docs/tickets.md lists the same).
    pub const KEYS: [&'static str; 6] = [
        "tickets.first_response",
        "tickets.expected_time_reply",
        "tickets.max_without_reply",
        "tickets.feedback_wait_days",
        "tickets.confirmation_wait_days",
        "tickets.handoff_note_min_chars",
    ];

    /// Refuses limits that cannot work, naming the first key at fault.
    pub fn validate(&self) -> Result<(), RulesError> {
        let refuse = |key, reason| Err(RulesError { key, reason });
        let durations = [
            ("tickets.first_response", self.first_response),
            ("tickets.expected_time_reply", self.expected_time_reply),
            ("tickets.max_without_reply", self.max_without_reply),
        ];
        if let Some((key, _)) = durations.iter().find(|(_, d)| d.is_zero()) {
            return refuse(key, "must be longer than zero");
        }
        if self.expected_time_reply < self.first_response {
            return refuse("tickets.expected_time_reply", "must not be below tickets.first_response");
        }
        if self.max_without_reply < self.first_response {
            return refuse("tickets.max_without_reply", "must not be below tickets.first_response");
        }
        if self.feedback_wait_days == 0 {
            return refuse("tickets.feedback_wait_days", "must be at least 1 working day");
        }
        if self.confirmation_wait_days == 0 {
            return refuse("tickets.confirmation_wait_days", "must be at least 1 working day");
        }
        if self.handoff_note_min_chars == 0 {
            return refuse("tickets.handoff_note_min_chars", "must be at least 1: a transfer always carries a note");
        }
        Ok(())
    }
}
