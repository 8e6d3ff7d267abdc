//! Canned replies (docs/canned-replies.md): texts an agent inserts in the
//! console's reply box with `/` and a shortcut. Three scopes: the agent's own
//! (kept server-side so they follow the agent to another browser), a skill
//! group's and everyone's (both from `[[canned]]` in the config).
//!
//! This module is pure: the rules for a reply, the defaults and which config
//! replies apply to an agent. Persistence is in `store.rs`, the HTTP API in
//! `http.rs`. The server never sends a canned reply itself: the console
//! inserts the text and the agent sends it like any other reply (so content
//! rules and reply timers treat it the same).

pub mod http;
pub mod store;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

/// Longest shortcut, in characters.
pub const MAX_SHORTCUT_CHARS: usize = 32;
/// Longest text, in characters (well under the router's reply limit).
pub const MAX_TEXT_CHARS: usize = 1000;
/// Most replies an agent may keep of their own.
pub const MAX_OWN_REPLIES: usize = 100;

/// Codes the canned replies give (docs/canned-replies.md).
pub mod canned_code {
    /// A shortcut is empty, too long or has characters other than a-z, 0-9, `-`, `_`.
    pub const CANNED_INVALID_SHORTCUT: &str = "canned_invalid_shortcut";
    /// A text is empty (blank) or longer than the limit.
    pub const CANNED_INVALID_TEXT: &str = "canned_invalid_text";
    /// `lang` is neither "zh" nor "en".
    pub const CANNED_INVALID_LANG: &str = "canned_invalid_lang";
    /// The same shortcut twice in the same language.
    pub const CANNED_DUPLICATE_SHORTCUT: &str = "canned_duplicate_shortcut";
    /// More replies than an agent may keep.
    pub const CANNED_TOO_MANY: &str = "canned_too_many";
    /// The agent's replies could not be written (disk full, permissions): nothing changed.
    pub const CANNED_UNAVAILABLE: &str = "canned_unavailable";
    /// Every code above, for the docs agreement test.
    pub const ALL: &[&str] = &[
        CANNED_INVALID_SHORTCUT,
        CANNED_INVALID_TEXT,
        CANNED_INVALID_LANG,
        CANNED_DUPLICATE_SHORTCUT,
        CANNED_TOO_MANY,
        CANNED_UNAVAILABLE,
    ];
}

/// The languages a reply may be written in. One list: the config, the API and the docs.
pub const LANGS: &[&str] = &["zh", "en"];

/// One `[[canned]]` entry of the config: everyone's (no `group`, no
/// `agent`), a skill group's, or one agent's.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CannedConfig {
    pub shortcut: String,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
}

/// One of an agent's own replies, as stored and as `PUT /v1/canned` takes it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OwnReply {
    pub shortcut: String,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
}

/// Where a reply comes from, most personal first: the console offers them in this order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// The agent's own, edited in the console.
    Own,
    /// A `[[canned]]` entry with `agent` = this agent.
    Agent,
    /// A `[[canned]]` entry with `group`: offered in that group's chats.
    Group,
    /// A `[[canned]]` entry for everyone.
    Global,
}

/// A reply as `GET /v1/canned` lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Offered {
    pub scope: Scope,
    pub shortcut: String,
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
}

/// A reply that breaks a rule: the code and what to fix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invalid {
    pub code: &'static str,
    pub message: String,
}

fn invalid(code: &'static str, message: String) -> Invalid {
    Invalid { code, message }
}

/// The rules of one reply: shortcut charset and length, text length, language.
pub fn check_reply(shortcut: &str, text: &str, lang: Option<&str>) -> Result<(), Invalid> {
    let shortcut_ok = !shortcut.is_empty()
        && shortcut.chars().count() <= MAX_SHORTCUT_CHARS
        && shortcut.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !shortcut_ok {
        let message =
            format!("shortcut `{shortcut}`: 1 to {MAX_SHORTCUT_CHARS} characters, lower-case a-z, 0-9, `-` and `_`");
        return Err(invalid(canned_code::CANNED_INVALID_SHORTCUT, message));
    }
    if text.trim().is_empty() || text.chars().count() > MAX_TEXT_CHARS {
        let message = format!("the text of `{shortcut}` must have 1 to {MAX_TEXT_CHARS} characters");
        return Err(invalid(canned_code::CANNED_INVALID_TEXT, message));
    }
    if let Some(lang) = lang.filter(|l| !LANGS.contains(l)) {
        let message = format!("`{shortcut}`: lang `{lang}` is not one of {}", LANGS.join(", "));
        return Err(invalid(canned_code::CANNED_INVALID_LANG, message));
    }
    Ok(())
}

/// The rules of an agent's whole list: each reply, the count, no shortcut twice in one language.
pub fn check_own(replies: &[OwnReply]) -> Result<(), Invalid> {
    if replies.len() > MAX_OWN_REPLIES {
        let message = format!("{} replies: an agent keeps at most {MAX_OWN_REPLIES}", replies.len());
        return Err(invalid(canned_code::CANNED_TOO_MANY, message));
    }
    let mut seen = std::collections::HashSet::new();
    for r in replies {
        check_reply(&r.shortcut, &r.text, r.lang.as_deref())?;
        if !seen.insert((r.shortcut.as_str(), r.lang.as_deref())) {
            let message = format!("shortcut `{}` is there twice (in the same language)", r.shortcut);
            return Err(invalid(canned_code::CANNED_DUPLICATE_SHORTCUT, message));
        }
    }
    Ok(())
}

/// The config's replies: each one's rules, and a group or an agent the roster knows.
/// `Err((index, problem))` names the entry at fault.
pub fn check_config(entries: &[CannedConfig], groups: &[String], agents: &[String]) -> Result<(), (usize, String)> {
    for (i, e) in entries.iter().enumerate() {
        check_reply(&e.shortcut, &e.text, e.lang.as_deref()).map_err(|bad| (i, bad.message))?;
        if e.group.is_some() && e.agent.is_some() {
            return Err((i, "give `group` or `agent`, not both".to_owned()));
        }
        if let Some(g) = e.group.as_ref().filter(|g| !groups.contains(g)) {
            return Err((i, format!("group `{g}` is not a skill group of [[router.groups]]")));
        }
        if let Some(a) = e.agent.as_ref().filter(|a| !agents.contains(a)) {
            return Err((i, format!("agent `{a}` is not in [[router.agents]]")));
        }
    }
    Ok(())
}

/// What one agent is offered: their own replies, then the config's for them,
/// for their groups, and for everyone. A group's replies go only to agents of
/// that group; the console then keeps, of those, the chat's group's.
pub fn offered_to(own: &[OwnReply], config: &[CannedConfig], agent: &str, groups: &[String]) -> Vec<Offered> {
    let mut list: Vec<Offered> = own
        .iter()
        .map(|r| Offered {
            scope: Scope::Own,
            shortcut: r.shortcut.clone(),
            text: r.text.clone(),
            group: None,
            lang: r.lang.clone(),
        })
        .collect();
    for e in config {
        let scope = match (&e.agent, &e.group) {
            (Some(a), _) if a == agent => Scope::Agent,
            (Some(_), _) => continue,
            (None, Some(g)) if groups.contains(g) => Scope::Group,
            (None, Some(_)) => continue,
            (None, None) => Scope::Global,
        };
        list.push(Offered {
            scope,
            shortcut: e.shortcut.clone(),
            text: e.text.clone(),
            group: e.group.clone(),
            lang: e.lang.clone(),
        });
    }
    // Stable: within a scope, the config's order.
    list.sort_by_key(|o| o.scope);
    list
}

/// The handbook's holding reply and transfer notice, in both languages:
/// what `[[canned]]` gives when the config has no such key.
pub fn defaults() -> Vec<CannedConfig> {
    let entry = |shortcut: &str, lang: &str, text: &str| CannedConfig {
        shortcut: shortcut.to_owned(),
        text: text.to_owned(),
        group: None,
        agent: None,
        lang: Some(lang.to_owned()),
    };
    vec![
        entry("wait", "zh", "{customer}，请您稍等，正在为您查询中。"),
        entry("wait", "en", "One moment please, {customer}, I'm checking that for you."),
        entry("transfer", "zh", "{customer}，您的问题已转交给相关同事处理，请您稍等。"),
        entry(
            "transfer",
            "en",
            "{customer}, your question has been passed to the right colleague, who will be with you shortly.",
        ),
    ]
}
