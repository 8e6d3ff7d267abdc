//! Service quality: supervisors' spot checks of closed chats and customers'
//! complaints about chats and tickets (docs/quality.md). Both are kept in
//! the records store at once (migration 3) and read by the performance
//! figures, the labor fee and discipline.

pub mod complaints;
pub mod http;
#[cfg(test)]
mod pages_tests;
pub mod receipt;
pub mod spot_checks;

/// The codes only these endpoints give (besides `invalid_request`, the
/// token codes, `supervisors_only`, `rate_limited`, `records_disabled`,
/// `records_unavailable` and `chat_not_found`), documented in docs/quality.md.
pub mod quality_code {
    /// The chat closed while waiting: nobody served it, so nobody can be checked.
    pub const NOBODY_SERVED: &str = "nobody_served";
    /// No complaint has that id.
    pub const COMPLAINT_NOT_FOUND: &str = "complaint_not_found";
    /// The subject has an open complaint already.
    pub const COMPLAINT_EXISTS: &str = "complaint_exists";
    /// The complaint was reviewed already: a review is final.
    pub const COMPLAINT_DECIDED: &str = "complaint_decided";
    /// The chat's record has not arrived yet: the review waits for the transcript.
    pub const COMPLAINT_PENDING: &str = "complaint_pending";
    /// The credential is not the chat's receipt, the ticket's token, or the complaint's token.
    pub const NOT_YOUR_SUBJECT: &str = "not_your_subject";
}

/// A spot check's results (the `outcome` label of `switchboard_spot_checks_total`: the same names as the stored `result`).
pub const RESULTS: [&str; 2] = ["pass", "fail"];
/// What happens to a complaint (the `outcome` label of `switchboard_complaints_total`).
pub const OUTCOMES: [&str; 3] = ["filed", "upheld", "rejected"];
/// A complaint's states.
pub const STATES: [&str; 3] = ["open", "upheld", "rejected"];
/// The handbook's two kinds of upheld complaint: business (the answer) and non-business (conduct).
pub const CATEGORIES: [&str; 2] = ["business", "non_business"];
/// What a complaint is about.
pub const SUBJECTS: [&str; 2] = ["chat", "ticket"];
/// The kinds the widget offers; the reason says the rest.
pub const KINDS: [&str; 4] = ["attitude", "wrong_answer", "slow", "other"];

/// The longest reason, comment or review comment kept, in characters.
pub const MAX_TEXT: usize = 1000;
