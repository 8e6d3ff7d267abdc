//! Complaint tendency: signals in a customer's messages that the session
//! needs attention at once (a phone-call request, abusive words, the same
//! question again and again, a burst of messages).

use std::hash::Hasher;

use aho_corasick::AhoCorasick;
use rustc_hash::FxHasher;

use super::config::ComplaintRules;
use super::ids::SessionId;
use super::output::ComplaintSignal;
use super::Router;

/// The configured word lists, compiled once into one automaton that scans a
/// message in a single pass. Matching ignores ASCII case; the Chinese lists
/// have no case to ignore.
#[derive(Clone, Debug)]
pub(super) struct Words {
    automaton: Option<AhoCorasick>,
    /// Patterns below this index are phone words; the rest are abusive words.
    phone_count: usize,
}

impl Words {
    pub(super) fn new(rules: &ComplaintRules) -> Words {
        let keep = |ws: &[String]| -> Vec<String> {
            ws.iter().map(|w| w.trim().to_lowercase()).filter(|w| !w.is_empty()).collect()
        };
        let phone = keep(&rules.phone_words);
        let phone_count = phone.len();
        let patterns: Vec<String> = phone.into_iter().chain(keep(&rules.abusive_words)).collect();
        let automaton = (!patterns.is_empty()).then(|| {
            AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(&patterns)
                .expect("plain word lists always compile")
        });
        Words { automaton, phone_count }
    }

    /// (asks for a phone call, uses abusive words)
    fn scan(&self, text: &str) -> (bool, bool) {
        let (mut phone, mut abusive) = (false, false);
        if let Some(automaton) = &self.automaton {
            for m in automaton.find_overlapping_iter(text) {
                if m.pattern().as_usize() < self.phone_count {
                    phone = true;
                } else {
                    abusive = true;
                }
                if phone && abusive {
                    break;
                }
            }
        }
        (phone, abusive)
    }
}

/// A hash of the message's letters and digits, lower-cased, so "Where is my
/// refund?" and "where is my refund" count as the same question. `None` for
/// messages with fewer than `min_chars` of them: too short to be a question.
fn question_hash(text: &str, min_chars: u32) -> Option<u64> {
    let mut h = FxHasher::default();
    let mut chars = 0;
    for c in text.chars().filter(|c| c.is_alphanumeric()) {
        for lower in c.to_lowercase() {
            h.write_u32(lower as u32);
            chars += 1;
        }
    }
    (chars >= min_chars).then(|| h.finish())
}

impl Router {
    /// The signals of the word lists: a phone-call request, abusive words.
    fn word_signals(&self, text: &str) -> Vec<ComplaintSignal> {
        let (phone, abusive) = self.complaint_words.scan(text);
        let mut hits = Vec::new();
        if phone {
            hits.push(ComplaintSignal::PhoneRequest);
        }
        if abusive {
            hits.push(ComplaintSignal::AbusiveLanguage);
        }
        hits
    }

    /// The complaint-tendency signals a customer's message on a ticket
    /// raises, by the chat rules: the word lists, and the same question
    /// again (`earlier`: the customer's earlier messages on the ticket,
    /// newest first; the last `complaint.repeat_lookback` count). A burst
    /// of messages is a live chat's signal: a ticket is written at leisure.
    pub fn ticket_complaint_signals<'a>(
        &self,
        text: &str,
        earlier: impl Iterator<Item = &'a str>,
    ) -> Vec<ComplaintSignal> {
        let rules = &self.config.rules.complaint;
        let mut hits = self.word_signals(text);
        if let Some(h) = question_hash(text, rules.question_min_chars) {
            let seen = earlier
                .take(rules.repeat_lookback as usize)
                .filter(|t| question_hash(t, rules.question_min_chars) == Some(h))
                .count();
            if seen + 1 >= rules.repeat_threshold as usize {
                hits.push(ComplaintSignal::RepeatedQuestion);
            }
        }
        hits
    }

    /// Records a customer message and returns the signals it raises for the
    /// first time in this session (each signal is raised once per session).
    pub(super) fn complaint_signals(&mut self, session: SessionId, text: &str) -> Vec<ComplaintSignal> {
        let rules = &self.config.rules.complaint;
        let now = self.now;
        let mut hits = self.word_signals(text);
        let (repeat_threshold, lookback, burst_messages, burst_window) = (
            rules.repeat_threshold as usize,
            rules.repeat_lookback as usize,
            rules.burst_messages as usize,
            rules.burst_window,
        );
        let question = question_hash(text, rules.question_min_chars);
        let state = self.sessions.get_mut(&session).expect("present").complaint.get_or_insert_default();
        if let Some(h) = question {
            let seen = state.recent_questions.iter().filter(|&&q| q == h).count();
            if seen + 1 >= repeat_threshold {
                hits.push(ComplaintSignal::RepeatedQuestion);
            }
            state.recent_questions.push_back(h);
            // `while`: the lookback may have shrunk since (new rules on a restart).
            while state.recent_questions.len() > lookback {
                state.recent_questions.pop_front();
            }
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
