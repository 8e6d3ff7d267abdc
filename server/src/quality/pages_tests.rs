//! The pages say each of the server's names: the widget's complaint kinds
//! and states, the supervisor view's results, outcomes and categories
//! (`web/texts.js`), and the same text limit (`web/widget-complaints.js`,
//! `web/supervisor-quality.js`). A name added here without its words there
//! (or the other way round) fails.

use super::{CATEGORIES, KINDS, MAX_TEXT, OUTCOMES, RESULTS, STATES};

fn web_file(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../web").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The keys of `export const OBJECT = { ... FIELD: { key: ..., ... } ... }` in a script.
fn keys(script: &str, object: &str, field: &str) -> Vec<String> {
    let start = script.find(&format!("export const {object} = {{")).unwrap_or_else(|| panic!("no {object}"));
    let rest = &script[start..];
    let open = rest.find(&format!(" {field}: {{")).unwrap_or_else(|| panic!("no {object}.{field}")) + field.len() + 4;
    let body = &rest[open..];
    top_level_keys(&body[..body.find('}').unwrap_or_else(|| panic!("{object}.{field} is not closed"))])
}

/// Identifiers followed by `:` outside quoted strings.
fn top_level_keys(body: &str) -> Vec<String> {
    let (mut keys, mut word, mut quote, mut escaped) = (Vec::new(), String::new(), None, false);
    for c in body.chars() {
        match (quote, c) {
            (Some(_), _) if escaped => escaped = false,
            (Some(_), '\\') => escaped = true,
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"' | '`') => {
                quote = Some(c);
                word.clear();
            }
            (None, ':') if !word.is_empty() => keys.push(std::mem::take(&mut word)),
            (None, c) if c.is_alphanumeric() || c == '_' => word.push(c),
            (None, _) => word.clear(),
        }
    }
    keys
}

#[test]
fn the_pages_say_every_name_of_the_server_and_no_other() {
    let texts = web_file("texts.js");
    let decided: Vec<&str> = OUTCOMES.into_iter().filter(|o| *o != "filed").collect();
    let cases: [(&str, &str, &[&str]); 7] = [
        ("COMPLAINT_TEXT", "kind", &KINDS),
        ("COMPLAINT_TEXT", "state", &STATES),
        ("COMPLAINT_TEXT", "stateShort", &STATES),
        ("QUALITY_TEXT", "result", &RESULTS),
        ("QUALITY_TEXT", "outcome", &decided),
        ("QUALITY_TEXT", "category", &CATEGORIES),
        ("QUALITY_TEXT", "categoryShort", &CATEGORIES),
    ];
    for (object, field, names) in cases {
        assert_eq!(keys(&texts, object, field), names, "web/texts.js {object}.{field}");
    }
}

#[test]
fn the_pages_bound_texts_as_the_server_does() {
    for (file, constant) in [("widget-complaints.js", "MAX_REASON"), ("supervisor-quality.js", "MAX_TEXT")] {
        let line = format!("const {constant} = {MAX_TEXT};");
        assert!(web_file(file).contains(&line), "web/{file} says `{line}`");
    }
}

#[test]
fn keys_skip_what_is_quoted() {
    assert_eq!(top_level_keys(" a: 'x: y', b_c: \"it\\'s: z\", d: (n) => `${n}: w` "), ["a", "b_c", "d"]);
}
