//! The built-in rules, used when the config has no `[content]` rules;
//! `config/default.toml` ships the same list (a test holds them equal).
//! Why each rule acts as it does: docs/content-rules.md, "Defaults".

use super::{Action, RuleConfig};

fn rule(name: &str, words: &[&str], patterns: &[&str], action: Action) -> RuleConfig {
    RuleConfig {
        name: name.into(),
        words: words.iter().map(|w| (*w).into()).collect(),
        patterns: patterns.iter().map(|p| (*p).into()).collect(),
        action,
    }
}

pub(super) fn rules() -> Vec<RuleConfig> {
    vec![
        rule(
            "off_platform",
            &["扣扣", "V信", "薇信", "加我微信", "加我QQ", "加我扣扣", "加我V信", "私聊我", "add me on"],
            &[
                r"加我.{0,3}(微信|qq|vx|wx|好友)",
                r"(微信|qq|vx|wx|wechat)\s*(号|账号|id)\s*[:：是]?\s*[a-z0-9_-]{5,}",
                r"(contact|message|find|reach) me (on|via|through) (wechat|qq|whatsapp|telegram)",
                r"my (wechat|qq|whatsapp|telegram)( id| number| account)?\s*(is|:)",
            ],
            Action::Block,
        ),
        rule(
            "password_request",
            &[],
            &[
                r"(tell|send|give|provide|share)\s+(me|us)\s+(with\s+)?your\s+(password|passcode|pin|verification code|login code|sms code)",
                r"what('s| is) your (password|passcode|pin|verification code)",
                r"(告诉|发给?|给|提供)(我|我们)(一下)?(你的)?(登录)?(密码|验证码)",
                r"(你的)?(密码|验证码)(是多少|是什么|发(给)?我|告诉我)",
                r"把(你的)?(密码|验证码)(发|告诉|给)",
            ],
            Action::Block,
        ),
        rule(
            "insult",
            &[
                "傻逼", "傻子", "白痴", "蠢货", "笨蛋", "脑残", "滚开", "滚蛋", "你滚", "idiot", "stupid", "moron",
                "shut up",
            ],
            &[],
            Action::Flag,
        ),
        rule(
            "arguing",
            &[
                "你懂不懂",
                "你听不懂吗",
                "听不懂人话",
                "跟你说了多少遍",
                "我已经说过了",
                "are you listening",
                "i already told you",
                "how many times do i have to",
            ],
            &[],
            Action::Flag,
        ),
    ]
}
