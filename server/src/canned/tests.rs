use proptest::prelude::*;

use super::*;

fn own(shortcut: &str, text: &str) -> OwnReply {
    OwnReply { shortcut: shortcut.to_owned(), text: text.to_owned(), lang: None }
}

fn entry(shortcut: &str, group: Option<&str>, agent: Option<&str>) -> CannedConfig {
    CannedConfig {
        shortcut: shortcut.to_owned(),
        text: format!("text of {shortcut}"),
        group: group.map(str::to_owned),
        agent: agent.map(str::to_owned),
        lang: None,
    }
}

#[test]
fn the_defaults_are_the_handbooks_phrases_in_both_languages_and_pass_the_rules() {
    let d = defaults();
    assert!(check_config(&d, &[], &[]).is_ok());
    let text = |shortcut: &str, lang: &str| {
        d.iter().find(|e| e.shortcut == shortcut && e.lang.as_deref() == Some(lang)).map(|e| e.text.clone())
    };
    assert!(text("wait", "zh").unwrap().contains("请您稍等"));
    assert!(text("wait", "zh").unwrap().contains("查询"));
    assert!(text("wait", "en").unwrap().contains("{customer}"));
    assert!(text("transfer", "zh").unwrap().contains("转交给相关同事"));
    assert!(text("transfer", "en").unwrap().contains("right colleague"));
}

#[test]
fn shortcuts_texts_and_languages_are_checked_with_their_codes() {
    let code = |s: &str, t: &str, l: Option<&str>| check_reply(s, t, l).err().map(|e| e.code);
    assert_eq!(code("wait", "x", Some("zh")), None);
    assert_eq!(code("", "x", None), Some(canned_code::CANNED_INVALID_SHORTCUT));
    assert_eq!(code("Wait", "x", None), Some(canned_code::CANNED_INVALID_SHORTCUT));
    assert_eq!(code("../etc", "x", None), Some(canned_code::CANNED_INVALID_SHORTCUT));
    assert_eq!(code("稍等", "x", None), Some(canned_code::CANNED_INVALID_SHORTCUT));
    assert_eq!(code(&"a".repeat(MAX_SHORTCUT_CHARS + 1), "x", None), Some(canned_code::CANNED_INVALID_SHORTCUT));
    assert_eq!(code("a", "  ", None), Some(canned_code::CANNED_INVALID_TEXT));
    assert_eq!(code("a", &"字".repeat(MAX_TEXT_CHARS), None), None);
    assert_eq!(code("a", &"字".repeat(MAX_TEXT_CHARS + 1), None), Some(canned_code::CANNED_INVALID_TEXT));
    assert_eq!(code("a", "x", Some("fr")), Some(canned_code::CANNED_INVALID_LANG));
}

#[test]
fn an_own_list_has_a_count_limit_and_no_shortcut_twice_in_one_language() {
    let many: Vec<_> = (0..=MAX_OWN_REPLIES).map(|i| own(&format!("r{i}"), "x")).collect();
    assert_eq!(check_own(&many).unwrap_err().code, canned_code::CANNED_TOO_MANY);
    assert!(check_own(&many[..MAX_OWN_REPLIES]).is_ok());
    let twice = [own("hi", "a"), own("hi", "b")];
    assert_eq!(check_own(&twice).unwrap_err().code, canned_code::CANNED_DUPLICATE_SHORTCUT);
    let mut zh = own("hi", "你好");
    zh.lang = Some("zh".to_owned());
    assert!(check_own(&[own("hi", "hello"), zh]).is_ok());
}

#[test]
fn the_config_names_known_groups_and_agents_and_not_both() {
    let groups = ["orders".to_owned()];
    let agents = ["alice".to_owned()];
    assert!(
        check_config(&[entry("a", Some("orders"), None), entry("b", None, Some("alice"))], &groups, &agents).is_ok()
    );
    assert_eq!(check_config(&[entry("a", Some("nope"), None)], &groups, &agents).unwrap_err().0, 0);
    assert_eq!(
        check_config(&[entry("a", None, None), entry("b", None, Some("bob"))], &groups, &agents).unwrap_err().0,
        1
    );
    assert!(check_config(&[entry("a", Some("orders"), Some("alice"))], &groups, &agents).is_err());
}

#[test]
fn an_agent_is_offered_their_own_then_theirs_then_their_groups_then_everyones() {
    let config = [
        entry("global", None, None),
        entry("orders", Some("orders"), None),
        entry("refunds", Some("refunds"), None),
        entry("alice", None, Some("alice")),
        entry("bob", None, Some("bob")),
    ];
    let offered = offered_to(&[own("mine", "x")], &config, "alice", &["orders".to_owned()]);
    let got: Vec<_> = offered.iter().map(|o| (o.scope, o.shortcut.as_str())).collect();
    assert_eq!(
        got,
        [(Scope::Own, "mine"), (Scope::Agent, "alice"), (Scope::Group, "orders"), (Scope::Global, "global")]
    );
}

proptest! {
    /// Whatever the config, a group's reply reaches only members of that group,
    /// an agent's reply only that agent, and the order is by scope.
    #[test]
    fn scope_rules_hold(
        entries in prop::collection::vec((0..3usize, 0..3usize, 0..3usize), 0..12),
        member_of in prop::collection::vec(0..3usize, 0..3),
    ) {
        let names = ["g0", "g1", "g2"];
        let agents = ["a0", "a1", "a2"];
        let config: Vec<_> = entries.iter().enumerate().map(|(i, (kind, g, a))| match kind {
            0 => entry(&format!("e{i}"), None, None),
            1 => entry(&format!("e{i}"), Some(names[*g]), None),
            _ => entry(&format!("e{i}"), None, Some(agents[*a])),
        }).collect();
        let groups: Vec<String> = member_of.iter().map(|g| names[*g].to_owned()).collect();
        let offered = offered_to(&[], &config, "a0", &groups);
        for o in &offered {
            let e = config.iter().find(|e| e.shortcut == o.shortcut).unwrap();
            if let Some(g) = &e.group { prop_assert!(groups.contains(g)); }
            if let Some(a) = &e.agent { prop_assert_eq!(a, "a0"); }
        }
        let expected = config.iter().filter(|e| {
            e.agent.as_deref().is_none_or(|a| a == "a0") && e.group.as_ref().is_none_or(|g| groups.contains(g))
        }).count();
        prop_assert_eq!(offered.len(), expected);
        prop_assert!(offered.windows(2).all(|w| w[0].scope <= w[1].scope));
    }
}

#[test]
fn config_default_toml_ships_the_built_in_replies() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../config/default.toml");
    let config = crate::config::Config::from_toml_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(config.canned, defaults(), "config/default.toml's [[canned]] and canned::defaults() differ");
}

#[test]
fn every_code_language_and_limit_is_in_the_docs() {
    let docs = include_str!("../../../docs/canned-replies.md");
    for code in canned_code::ALL {
        assert!(docs.contains(&format!("| `{code}` |")), "docs/canned-replies.md lacks a row for `{code}`");
    }
    for lang in LANGS {
        assert!(docs.contains(&format!("`{lang}`")), "docs/canned-replies.md never names `{lang}`");
    }
    for limit in [MAX_OWN_REPLIES, MAX_SHORTCUT_CHARS, MAX_TEXT_CHARS] {
        assert!(docs.contains(&limit.to_string()), "docs/canned-replies.md never says {limit}");
    }
}
