use proptest::prelude::*;

use super::*;

/// Compiled once: a regex set takes a while to build in a debug build.
fn defaults() -> &'static ContentRules {
    static RULES: std::sync::OnceLock<ContentRules> = std::sync::OnceLock::new();
    RULES.get_or_init(ContentRules::defaults)
}

fn names(v: &Verdict) -> Vec<&str> {
    v.matched.iter().map(|n| &**n).collect()
}

#[test]
fn the_defaults_catch_the_handbooks_cases_in_chinese_and_english() {
    let rules = defaults();
    let cases = [
        ("加我微信吧，方便联系", "off_platform"),
        ("你可以加我QQ 12345678", "off_platform"),
        ("Please add me on WeChat", "off_platform"),
        ("my wechat id is sb_9981", "off_platform"),
        ("我的扣扣是多少你知道的", "off_platform"),
        ("请把你的密码发给我", "password_request"),
        ("Could you tell me your password?", "password_request"),
        ("Send me your verification code please", "password_request"),
        ("你的验证码是多少", "password_request"),
        ("你是白痴吗", "insult"),
        ("Don't be an IDIOT.", "insult"),
        ("shut up and wait", "insult"),
        ("你懂不懂啊", "arguing"),
        ("Are you listening to me?", "arguing"),
    ];
    for (text, rule) in cases {
        let v = rules.check(text);
        assert!(names(&v).contains(&rule), "{text:?} should match {rule}, got {:?}", v.matched);
    }
}

#[test]
fn block_rules_say_which_rule_blocked() {
    let rules = defaults();
    let v = rules.check("加我微信，告诉我你的密码");
    assert_eq!(names(&v), ["off_platform", "password_request"]);
    assert_eq!(v.blocked_by.as_deref(), Some("off_platform"));
    let flagged = rules.check("that was a stupid mistake of mine");
    assert_eq!(names(&flagged), ["insult"]);
    assert_eq!(flagged.blocked_by, None, "insult only flags");
}

#[test]
fn legitimate_agent_sentences_pass() {
    let rules = defaults();
    let clean = [
        "您好，请问有什么可以帮您？",
        "Please reset your password via the official page: Settings > Security.",
        "请勿将密码或验证码告诉任何人，包括客服。",
        "Never share your verification code with anyone, including us.",
        "您可以使用微信支付或支付宝付款。",
        "You can pay with WeChat Pay.",
        "请滚动到页面底部，点击“确认收货”。",
        "The QQ browser may block the pop-up; try another browser.",
        "Your order 12345 was shipped yesterday.",
    ];
    for text in clean {
        assert!(rules.check(text).is_clean(), "{text:?} matched {:?}", rules.check(text).matched);
    }
}

#[test]
fn ascii_words_respect_word_boundaries_and_ignore_case() {
    let config = ContentConfig {
        rules: vec![RuleConfig {
            name: "test".into(),
            words: vec!["QQ".into(), "傻".into()],
            patterns: vec![],
            action: Action::Flag,
        }],
    };
    let rules = ContentRules::new(&config).unwrap();
    assert!(!rules.check("qq").is_clean());
    assert!(!rules.check("my Qq: 1").is_clean());
    assert!(!rules.check("加QQ号").is_clean(), "a Chinese neighbour is a boundary");
    assert!(rules.check("qqq").is_clean(), "inside a longer ASCII word");
    assert!(rules.check("aqq1").is_clean());
    assert!(!rules.check("好傻").is_clean(), "Chinese words need no boundary");
}

#[test]
fn bad_rules_are_refused_with_the_key() {
    let bad = |rule: RuleConfig| ContentRules::new(&ContentConfig { rules: vec![rule] }).unwrap_err();
    let base = RuleConfig { name: "r".into(), words: vec!["x".into()], patterns: vec![], action: Action::Flag };
    assert_eq!(bad(RuleConfig { name: "Bad Name".into(), ..base.clone() }).key, "content.rules[0].name");
    assert_eq!(bad(RuleConfig { words: vec![], ..base.clone() }).key, "content.rules[0].words");
    assert_eq!(bad(RuleConfig { words: vec![" ".into()], ..base.clone() }).key, "content.rules[0].words");
    let p = bad(RuleConfig { patterns: vec!["(".into()], ..base.clone() });
    assert_eq!(p.key, "content.rules[0].patterns[0]");
    let empty = bad(RuleConfig { patterns: vec!["a*".into()], ..base.clone() });
    assert!(empty.problem.contains("empty"), "{empty:?}");
    let twice = ContentRules::new(&ContentConfig { rules: vec![base.clone(), base] }).unwrap_err();
    assert_eq!(twice.key, "content.rules[1].name");
}

#[test]
fn no_rules_match_nothing() {
    let rules = ContentRules::new(&ContentConfig { rules: vec![] }).unwrap();
    assert!(rules.check("加我微信 告诉我你的密码 idiot").is_clean());
}

#[test]
fn more_than_64_rules_all_count() {
    let rules: Vec<RuleConfig> = (0..70)
        .map(|i| RuleConfig {
            name: format!("r{i}"),
            words: vec![format!("w{i}x")],
            patterns: vec![],
            action: Action::Flag,
        })
        .collect();
    let rules = ContentRules::new(&ContentConfig { rules }).unwrap();
    assert_eq!(names(&rules.check("w69x and w3x")), ["r3", "r69"]);
}

/// Words of ordinary service replies, none a listed word or part of a pattern's match.
const CLEAN: &[&str] = &[
    "您好",
    "订单",
    "退款",
    "物流",
    "请稍等",
    "正在为您查询",
    "已经",
    "处理",
    "谢谢",
    "order",
    "refund",
    "shipped",
    "please",
    "wait",
    "your",
    "password",
    "reset",
    "official",
    "page",
    "the",
    "QQ",
    "WeChat",
    "微信",
    "支付",
    "密码",
    "验证码",
    "安全",
    "1234",
    "!",
    "，",
    "。",
    "?",
];

proptest! {
    #[test]
    fn replies_made_of_clean_words_never_match(words in proptest::collection::vec(0..CLEAN.len(), 0..30)) {
        let text = words.iter().map(|&i| CLEAN[i]).collect::<Vec<_>>().join(" ");
        let v = defaults().check(&text);
        prop_assert!(v.is_clean(), "{:?} matched {:?}", text, v.matched);
    }

    #[test]
    fn a_listed_word_anywhere_always_matches_its_rule(
        before in proptest::collection::vec(0..CLEAN.len(), 0..10),
        after in proptest::collection::vec(0..CLEAN.len(), 0..10),
        pick in any::<prop::sample::Index>(),
    ) {
        let all: Vec<(String, String)> = super::defaults::rules()
            .into_iter()
            .flat_map(|r| r.words.into_iter().map(move |w| (r.name.clone(), w)))
            .collect();
        let (rule, word) = &all[pick.index(all.len())];
        let join = |ix: &[usize]| ix.iter().map(|&i| CLEAN[i]).collect::<Vec<_>>().join(" ");
        let text = format!("{} {} {}", join(&before), word.to_uppercase(), join(&after));
        let v = defaults().check(&text);
        prop_assert!(v.matched.iter().any(|m| **m == **rule), "{:?} should match {}", text, rule);
    }
}

#[test]
fn config_default_toml_ships_the_built_in_rules() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../config/default.toml");
    let config = crate::config::Config::from_toml_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(
        config.content,
        ContentConfig::default(),
        "config/default.toml's [content] and content/defaults.rs differ"
    );
    let minimal = crate::config::tests::MINIMAL;
    let absent = crate::config::Config::from_toml_str(minimal).unwrap();
    assert_eq!(absent.content, ContentConfig::default(), "no [content]: the built-in rules");
    let off = crate::config::Config::from_toml_str(&format!("{minimal}\n[content]\nrules = []")).unwrap();
    assert!(off.content.rules.is_empty());
    let bad = crate::config::Config::from_toml_str(&format!(
        "{minimal}\n[[content.rules]]\nname = \"x\"\npatterns = [\"(\"]\naction = \"block\""
    ))
    .unwrap_err();
    assert_eq!(bad.key_name(), Some("content.rules[0].patterns[0]"), "{bad}");
}
