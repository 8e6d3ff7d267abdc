//! Content rules for agents (docs/content-rules.md): what an agent may not
//! write to a customer (move to QQ or WeChat, ask for a password, insult,
//! argue). Every agent reply, in a chat or on a ticket, is checked here
//! before it is logged; the verdict is logged with it, so a replay raises
//! the same conduct flags whatever the rules say by then.
//!
//! All rules are compiled into one Aho-Corasick automaton (the words) and
//! one regex set (the patterns), so a check is one pass over the text for
//! each, whatever the number of rules: microseconds for a reply (see
//! docs/performance.md, "Content rules").

mod defaults;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use aho_corasick::{AhoCorasick, MatchKind};
use regex::{RegexSet, RegexSetBuilder};
use serde::{Deserialize, Serialize};

/// Longest compiled pattern set accepted (bytes of the regex program): a
/// config cannot make a check slow or the process big.
const PATTERN_SIZE_LIMIT: usize = 4 << 20;

/// `[content]`: the rules. Absent, or without `rules`, the built-in defaults
/// apply; `rules = []` turns checking off.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ContentConfig {
    pub rules: Vec<RuleConfig>,
}

impl Default for ContentConfig {
    fn default() -> ContentConfig {
        ContentConfig { rules: defaults::rules() }
    }
}

/// One `[[content.rules]]` entry.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    /// Shown to the agent, carried by the conduct flag and in metrics.
    pub name: String,
    /// Matched anywhere, ignoring ASCII case; a word that begins (ends)
    /// with an ASCII letter or digit must not follow (be followed by) one.
    #[serde(default)]
    pub words: Vec<String>,
    /// Regular expressions (the `regex` crate's syntax), ignoring case.
    #[serde(default)]
    pub patterns: Vec<String>,
    pub action: Action,
}

/// What a match does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// The reply goes out; a conduct flag is raised.
    Flag,
    /// The reply is refused (`content_blocked`); a conduct flag is raised.
    Block,
}

/// What a check found: logged with the reply it concerns.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    /// The names of the rules matched, in config order.
    pub matched: Vec<Arc<str>>,
    /// The first matched rule whose action is `block`, if any.
    pub blocked_by: Option<Arc<str>>,
}

impl Verdict {
    pub fn is_clean(&self) -> bool {
        self.matched.is_empty()
    }
}

/// What an agent is told when `rule` blocked their reply (the error's
/// `message`; the code is `content_blocked`).
pub fn blocked_message(rule: &str) -> String {
    format!(
        "not sent: the reply breaks the content rule `{rule}` (docs/content-rules.md); nothing reached the customer"
    )
}

/// A config key and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleProblem {
    pub key: String,
    pub problem: String,
}

#[derive(Clone, Debug)]
struct Rule {
    name: Arc<str>,
    action: Action,
}

/// A word of the automaton: its rule, and whether its ends need a boundary.
#[derive(Clone, Copy, Debug)]
struct Word {
    rule: usize,
    bound_start: bool,
    bound_end: bool,
}

/// The compiled rules. Cheap to clone (shared automata).
#[derive(Clone, Debug, Default)]
pub struct ContentRules {
    rules: Vec<Rule>,
    words: Option<Arc<AhoCorasick>>,
    word_info: Vec<Word>,
    patterns: Option<Arc<RegexSet>>,
    pattern_rule: Vec<usize>,
}

impl ContentRules {
    /// Compiles `config`, naming the key of the first problem.
    pub fn new(config: &ContentConfig) -> Result<ContentRules, RuleProblem> {
        let mut compiled = ContentRules::default();
        let (mut words, mut patterns) = (Vec::new(), Vec::new());
        for (i, rule) in config.rules.iter().enumerate() {
            let key = |field: &str| format!("content.rules[{i}].{field}");
            check_rule(rule, &compiled.rules, &key)?;
            for w in rule.words.iter().map(|w| w.trim()) {
                let ascii_edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
                let (bound_start, bound_end) = (ascii_edge(w.chars().next()), ascii_edge(w.chars().last()));
                compiled.word_info.push(Word { rule: i, bound_start, bound_end });
                words.push(w.to_owned());
            }
            for p in &rule.patterns {
                compiled.pattern_rule.push(i);
                patterns.push(p.clone());
            }
            compiled.rules.push(Rule { name: rule.name.as_str().into(), action: rule.action });
        }
        if !words.is_empty() {
            let automaton = AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard)
                .build(&words)
                .map_err(|e| RuleProblem { key: "content.rules".into(), problem: e.to_string() })?;
            compiled.words = Some(Arc::new(automaton));
        }
        if !patterns.is_empty() {
            let set = RegexSetBuilder::new(&patterns)
                .case_insensitive(true)
                .size_limit(PATTERN_SIZE_LIMIT)
                .build()
                .map_err(|e| RuleProblem { key: "content.rules".into(), problem: e.to_string() })?;
            compiled.patterns = Some(Arc::new(set));
        }
        Ok(compiled)
    }

    /// The built-in defaults, compiled.
    pub fn defaults() -> ContentRules {
        ContentRules::new(&ContentConfig::default()).expect("the built-in rules compile")
    }

    /// The rule names, in config order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.rules.iter().map(|r| &*r.name)
    }

    /// Checks an agent's text against every rule.
    pub fn check(&self, text: &str) -> Verdict {
        let mut hit = [false; 64];
        let mut hit_more = Vec::new();
        let mut mark = |rule: usize| match hit.get_mut(rule) {
            Some(h) => *h = true,
            None => hit_more.push(rule),
        };
        if let Some(words) = &self.words {
            for m in words.find_overlapping_iter(text) {
                let word = self.word_info[m.pattern().as_usize()];
                if bounded(text, m.start(), m.end(), word) {
                    mark(word.rule);
                }
            }
        }
        if let Some(patterns) = &self.patterns {
            for p in patterns.matches(text).iter() {
                mark(self.pattern_rule[p]);
            }
        }
        let mut verdict = Verdict::default();
        for (i, rule) in self.rules.iter().enumerate() {
            if hit.get(i).copied().unwrap_or(false) || hit_more.contains(&i) {
                verdict.matched.push(rule.name.clone());
                if rule.action == Action::Block && verdict.blocked_by.is_none() {
                    verdict.blocked_by = Some(rule.name.clone());
                }
            }
        }
        verdict
    }
}

/// Does the match at `start..end` stand on ASCII word boundaries where the
/// word needs them ("qq" is not a match in "qqq", "idiot" is in "idiot!")?
fn bounded(text: &str, start: usize, end: usize, word: Word) -> bool {
    let alnum = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    let before_ok = !word.bound_start || !alnum(text[..start].chars().next_back());
    let after_ok = !word.bound_end || !alnum(text[end..].chars().next());
    before_ok && after_ok
}

fn check_rule(rule: &RuleConfig, earlier: &[Rule], key: &dyn Fn(&str) -> String) -> Result<(), RuleProblem> {
    let problem = |field: &str, problem: &str| Err(RuleProblem { key: key(field), problem: problem.into() });
    let name_ok = !rule.name.is_empty()
        && rule.name.len() <= 64
        && rule.name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !name_ok {
        return problem("name", "must be 1 to 64 of a-z, 0-9 and _ (it is a metric label and a wire value)");
    }
    if earlier.iter().any(|r| *r.name == *rule.name) {
        return problem("name", "is used by an earlier rule");
    }
    if rule.words.is_empty() && rule.patterns.is_empty() {
        return problem("words", "a rule needs at least one word or pattern");
    }
    if rule.words.iter().any(|w| w.trim().is_empty()) {
        return problem("words", "has a blank entry (it would match every reply)");
    }
    for (j, p) in rule.patterns.iter().enumerate() {
        let one = regex::RegexBuilder::new(p).size_limit(PATTERN_SIZE_LIMIT).build();
        match one {
            Err(e) => return problem(&format!("patterns[{j}]"), &e.to_string()),
            Ok(re) if re.is_match("") => {
                return problem(&format!("patterns[{j}]"), "matches an empty text (it would match every reply)")
            }
            Ok(_) => {}
        }
    }
    Ok(())
}
