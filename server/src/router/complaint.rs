//! Complaint tendency: signals in a customer's messages that the session
//! needs attention at once (a phone-call request, abusive words, the same
//! question again and again, a burst of messages).

use std::hash::{DefaultHasher, Hash, Hasher};

use super::config::ComplaintRules;
use super::ids::SessionId;
use super::output::ComplaintSignal;
use super::Router;

/// Recent normalised questions kept per session for the repeat rule.
const QUESTIONS_KEPT: usize = 20;

/// The configured word lists, lower-cased once.
#[derive(Debug)]
pub(super) struct Words {
    phone: Vec<String>,
    abusive: Vec<String>,
}

impl Words {
    pub(super) fn new(rules: &ComplaintRules) -> Words {
        let lower = |ws: &[String]| ws.iter().map(|w| w.to_lowercase()).filter(|w| !w.trim().is_empty()).collect();
        Words { phone: lower(&rules.phone_words), abusive: lower(&rules.abusive_words) }
    }
}

/// Lower-case letters and digits only, so "Where is my refund?" and
/// "where is my refund" count as the same question.
fn question_hash(text: &str) -> Option<u64> {
    let normal: String = text.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect();
    if normal.chars().count() < 2 {
        return None;
    }
    let mut h = DefaultHasher::new();
    normal.hash(&mut h);
    Some(h.finish())
}

impl Router {
    /// Records a customer message and returns the signals it raises for the
    /// first time in this session (each signal is raised once per session).
    pub(super) fn complaint_signals(&mut self, session: SessionId, text: &str) -> Vec<ComplaintSignal> {
        let rules = &self.config.rules.complaint;
        let now = self.now;
        let lower = text.to_lowercase();
        let mut hits = Vec::new();
        if self.complaint_words.phone.iter().any(|w| lower.contains(w.as_str())) {
            hits.push(ComplaintSignal::PhoneRequest);
        }
        if self.complaint_words.abusive.iter().any(|w| lower.contains(w.as_str())) {
            hits.push(ComplaintSignal::AbusiveLanguage);
        }
        let (repeat_threshold, burst_messages, burst_window) =
            (rules.repeat_threshold as usize, rules.burst_messages as usize, rules.burst_window);
        let state = &mut self.sessions.get_mut(&session).expect("present").complaint;
        if let Some(h) = question_hash(text) {
            let seen = state.recent_questions.iter().filter(|&&q| q == h).count();
            if seen + 1 >= repeat_threshold {
                hits.push(ComplaintSignal::RepeatedQuestion);
            }
            if state.recent_questions.len() == QUESTIONS_KEPT {
                state.recent_questions.pop_front();
            }
            state.recent_questions.push_back(h);
        }
        state.recent_messages.push_back(now);
        while state.recent_messages.front().is_some_and(|&t| now.since(t) > burst_window) {
            state.recent_messages.pop_front();
        }
        if state.recent_messages.len() >= burst_messages {
            hits.push(ComplaintSignal::MessageBurst);
        }
        while state.recent_messages.len() > burst_messages {
            state.recent_messages.pop_front();
        }
        hits.retain(|&signal| {
            let bit = 1u8 << signal as u8;
            let new = state.raised & bit == 0;
            state.raised |= bit;
            new
        });
        hits
    }
}
