//! The rules' keys cannot drift apart: `config/default.toml` lists every key
//! of `router.rules` with its built-in default and a comment, `docs/domain.md`
//! defines every key and every conduct flag kind (with the keys it uses),
//! and `docs/protocol.md` links there instead of repeating the kinds.

use std::collections::BTreeSet;
use std::path::Path;

use super::*;
use crate::router::output::ConductKind;
use crate::router::Rules;

fn repo_file(path: &str) -> String {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

/// The dotted paths of a table's leaves (an array is a leaf: a word list).
fn leaf_keys(prefix: &str, value: &toml::Value, keys: &mut BTreeSet<String>) {
    match value {
        toml::Value::Table(table) => {
            for (name, inner) in table {
                leaf_keys(&format!("{prefix}.{name}"), inner, keys);
            }
        }
        _ => {
            keys.insert(prefix.to_owned());
        }
    }
}

/// Every key of the built-in rules, as `router.rules.…`.
fn built_in_rule_keys() -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    leaf_keys("router.rules", &toml::Value::try_from(Rules::default()).unwrap(), &mut keys);
    keys
}

/// Every key under `router.rules` that `config/default.toml` sets.
fn default_file_rule_keys() -> BTreeSet<String> {
    let file: toml::Table = repo_file("config/default.toml").parse().unwrap();
    let rules = &file["router"]["rules"];
    let mut keys = BTreeSet::new();
    leaf_keys("router.rules", rules, &mut keys);
    keys
}

#[test]
fn the_default_file_sets_every_rule_key_to_its_built_in_default() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/default.toml");
    let config = Config::load(Some(&path), Vec::new()).unwrap();
    assert_eq!(config.router.rules, Rules::default(), "config/default.toml and Rules::default() differ");
    let (built_in, in_file) = (built_in_rule_keys(), default_file_rule_keys());
    let missing: Vec<_> = built_in.difference(&in_file).collect();
    assert!(missing.is_empty(), "config/default.toml leaves out {missing:?}");
    assert!(built_in.len() > 30, "the walk found the rules' keys: {built_in:?}");
}

/// A rule key's line carries a comment, or follows one: the file is the
/// operator's reference.
#[test]
fn every_rule_key_in_the_default_file_is_commented() {
    let text = repo_file("config/default.toml");
    let mut section = String::new();
    let mut previous = "";
    for line in text.lines().map(str::trim) {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.trim_matches(|c| c == '[' || c == ']').to_owned();
        } else if section.starts_with("router.rules") && line.contains('=') && !line.starts_with('#') {
            let commented = line.contains('#') || previous.starts_with('#');
            assert!(commented, "[{section}] `{line}` has no comment (on its line or just above)");
        }
        if !line.is_empty() {
            previous = line;
        }
    }
}

#[test]
fn docs_domain_defines_every_rule_key() {
    let domain = repo_file("docs/domain.md");
    let undefined: Vec<_> =
        default_file_rule_keys().into_iter().filter(|key| !domain.contains(&format!("`{key}`"))).collect();
    assert!(undefined.is_empty(), "docs/domain.md does not mention {undefined:?}");
}

/// Each kind has one row in docs/domain.md's table of conduct flags, naming
/// its category and every config key its rule uses.
#[test]
fn docs_domain_defines_every_conduct_flag_kind_with_its_keys() {
    let domain = repo_file("docs/domain.md");
    for kind in ConductKind::ALL {
        let head = format!("| `{}` |", kind.label());
        let rows: Vec<&str> = domain.lines().filter(|l| l.starts_with(&head)).collect();
        assert_eq!(rows.len(), 1, "docs/domain.md needs one row `{head} ...`, has {}", rows.len());
        let row = rows[0];
        assert!(row.contains(&format!("`{}`", kind.category())), "{}: no category in {row}", kind.label());
        for key in kind.rule_keys() {
            assert!(row.contains(&format!("`router.{key}`")), "{}: `router.{key}` missing in {row}", kind.label());
        }
        for key in default_file_rule_keys() {
            let named = row.contains(&format!("`{key}`"));
            assert!(!named || kind.rule_keys().iter().any(|k| format!("router.{k}") == key), "{row} names {key}");
        }
    }
}

/// docs/protocol.md names a kind only where it links to its definition.
#[test]
fn docs_protocol_links_to_the_flag_kinds_instead_of_repeating_them() {
    let protocol = repo_file("docs/protocol.md");
    assert!(protocol.contains("(domain.md#conduct-flags)"), "docs/protocol.md links to the kinds");
    let mut named = 0;
    for paragraph in protocol.split("\n\n") {
        for kind in ConductKind::ALL.iter().filter(|k| paragraph.contains(&format!("`{}`", k.label()))) {
            named += 1;
            assert!(
                paragraph.contains("(domain.md#"),
                "`{}` without a link to docs/domain.md in:\n{paragraph}",
                kind.label()
            );
        }
    }
    assert!(named < ConductKind::ALL.len() / 2, "docs/protocol.md lists the kinds again ({named} mentions)");
}

#[test]
fn rule_keys_are_overridden_from_the_environment_and_checked() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/default.toml");
    let env = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    };
    let config = Config::load(
        Some(&path),
        env(&[
            ("SWITCHBOARD_ROUTER__RULES__TRANSFERS__PING_PONG_WINDOW", "1m"),
            ("SWITCHBOARD_ROUTER__RULES__CLOSES__UNRESPONSIVE_AFTER", "90s"),
            ("SWITCHBOARD_ROUTER__RULES__COMPLAINT__PHONE_WORDS", r#"["ring me", "回电"]"#),
        ]),
    )
    .unwrap();
    let rules = &config.router.rules;
    assert_eq!(rules.transfers.ping_pong_window, Duration::from_secs(60));
    assert_eq!(rules.closes.unresponsive_after, Duration::from_secs(90));
    assert_eq!(rules.complaint.phone_words, ["ring me", "回电"]);

    let err = Config::load(Some(&path), env(&[("SWITCHBOARD_ROUTER__RULES__SHEDDING__MAX_SHEDS", "0")])).unwrap_err();
    assert_eq!(err.key_name(), Some("router.rules.shedding.max_sheds"), "{err}");
    let err =
        Config::load(Some(&path), env(&[("SWITCHBOARD_ROUTER__RULES__BREAKS__BLOCKED_WAIT", "soon")])).unwrap_err();
    assert_eq!(err.key_name(), Some("router.rules.breaks.blocked_wait"), "{err}");
    assert!(err.to_string().contains("SWITCHBOARD_ROUTER__RULES__BREAKS__BLOCKED_WAIT"), "{err}");
}
