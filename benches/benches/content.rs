//! Content rules (docs/content-rules.md): what checking one agent reply costs
//! with the default rules, on the path the server takes (`ContentRules::check`
//! in the session layer, before the reply is logged). The reply is a typical
//! one of about 100 characters, clean (the common case), flagged and blocked.
//!
//! The baseline, measured in the same run: decoding the agent's `reply`
//! frame that carries the same text, work the server does for every reply
//! anyway (`decode_agent_command`). The figure to read is the ratio.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use switchboard_protocol::decode_agent_command;
use switchboard_server::content::ContentRules;

/// Typical agent replies of about 100 characters, Chinese and English mixed.
const REPLIES: [(&str, &str); 3] = [
    (
        "clean",
        "您好，您的订单 20261126-0042 已于昨天发出，物流单号 SF1234567890，预计两天内送达。 If it is late, reply here and we check.",
    ),
    (
        "flagged",
        "您好，您的订单 20261126-0042 已于昨天发出，预计两天内送达。你懂不懂啊? If it is late, reply here and we check it.",
    ),
    (
        "blocked",
        "您好，您的订单 20261126-0042 已于昨天发出，预计两天内送达。有问题加我微信 wx_ann88 聊。 If it is late, reply here please.",
    ),
];

fn check(c: &mut Criterion) {
    let rules = ContentRules::defaults();
    let mut group = c.benchmark_group("content_check");
    let frame = serde_json::json!({"type": "reply", "id": "a7", "session": 42, "text": REPLIES[0].1}).to_string();
    assert!(decode_agent_command(&frame).is_ok(), "{frame}");
    group.bench_function("baseline", |b| b.iter(|| decode_agent_command(black_box(&frame))));
    for (name, reply) in REPLIES {
        assert_eq!(rules.check(reply).is_clean(), name == "clean", "{name}: {:?}", rules.check(reply));
        group.throughput(Throughput::Bytes(reply.len() as u64));
        group.bench_function(name, |b| b.iter(|| rules.check(black_box(reply))));
    }
    group.finish();
}

criterion_group!(benches, check);
criterion_main!(benches);
