//! Protocol encode/decode for every message type, on the paths the server takes:
//! client commands are decoded with `decode_customer_command` /
//! `decode_agent_command` (what the gateway calls on every frame) and server
//! messages are encoded with `encode`. The reverse directions (what a client
//! does) are measured too.
//!
//! The inputs are the examples in `docs/protocol.md`, the same ones the
//! protocol crate's tests check, so every message type in the reference is here.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use switchboard_protocol::agent::{AgentCommand, ServerToAgent};
use switchboard_protocol::customer::{CustomerCommand, ServerToCustomer};
use switchboard_protocol::{decode_agent_command, decode_customer_command, encode};

const REFERENCE: &str = include_str!("../../docs/protocol.md");

/// `(kind, json)` for every example in the reference: the kind is set by the
/// last `<!-- example: KIND -->` marker above the block.
fn examples() -> Vec<(String, String)> {
    let mut kind = String::new();
    let mut in_block = false;
    let mut block = String::new();
    let mut found = Vec::new();
    for line in REFERENCE.lines() {
        if let Some(rest) = line.trim().strip_prefix("<!-- example:") {
            kind = rest.trim_end_matches("-->").trim().to_owned();
        } else if line.trim() == "```json" {
            in_block = true;
            block.clear();
        } else if in_block && line.trim() == "```" {
            in_block = false;
            found.push((kind.clone(), block.trim().to_owned()));
        } else if in_block {
            block.push_str(line);
            block.push('\n');
        }
    }
    found
}

/// The `type` of a JSON object, or None for fragments (e.g. a bare `status`).
fn type_of(json: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(json).ok()?;
    value.get("type")?.as_str().map(str::to_owned)
}

/// One example per (kind, type), in the reference's order.
fn by_type(kind: &str) -> Vec<(String, String)> {
    let mut seen = Vec::new();
    for (k, json) in examples() {
        if k != kind {
            continue;
        }
        if let Some(t) = type_of(&json) {
            if !seen.iter().any(|(s, _): &(String, String)| *s == t) {
                // Compact, as on the wire.
                let compact =
                    serde_json::to_string(&serde_json::from_str::<serde_json::Value>(&json).unwrap()).unwrap();
                seen.push((t, compact));
            }
        }
    }
    assert!(!seen.is_empty(), "docs/protocol.md has no `{kind}` examples: has its marker format changed?");
    seen
}

fn customer_commands(c: &mut Criterion) {
    let mut group = c.benchmark_group("customer_command");
    for (t, json) in by_type("customer-command") {
        let command = decode_customer_command(&json).expect("reference examples decode");
        group.throughput(Throughput::Bytes(json.len() as u64));
        group.bench_with_input(BenchmarkId::new("decode (server)", &t), &json, |b, json| {
            b.iter(|| decode_customer_command(black_box(json)).unwrap())
        });
        group.bench_with_input(BenchmarkId::new("encode (client)", &t), &command, |b, command| {
            b.iter(|| encode::<CustomerCommand>(black_box(command)))
        });
    }
    group.finish();
}

fn agent_commands(c: &mut Criterion) {
    let mut group = c.benchmark_group("agent_command");
    for (t, json) in by_type("agent-command") {
        let command = decode_agent_command(&json).expect("reference examples decode");
        group.throughput(Throughput::Bytes(json.len() as u64));
        group.bench_with_input(BenchmarkId::new("decode (server)", &t), &json, |b, json| {
            b.iter(|| decode_agent_command(black_box(json)).unwrap())
        });
        group.bench_with_input(BenchmarkId::new("encode (client)", &t), &command, |b, command| {
            b.iter(|| encode::<AgentCommand>(black_box(command)))
        });
    }
    group.finish();
}

fn to_customer(c: &mut Criterion) {
    let mut group = c.benchmark_group("to_customer");
    for (t, json) in by_type("to-customer") {
        let message: ServerToCustomer = serde_json::from_str(&json).expect("reference examples decode");
        group.throughput(Throughput::Bytes(json.len() as u64));
        group.bench_with_input(BenchmarkId::new("encode (server)", &t), &message, |b, message| {
            b.iter(|| encode(black_box(message)))
        });
        group.bench_with_input(BenchmarkId::new("decode (client)", &t), &json, |b, json| {
            b.iter(|| serde_json::from_str::<ServerToCustomer>(black_box(json)).unwrap())
        });
    }
    group.finish();
}

fn to_agent(c: &mut Criterion) {
    let mut group = c.benchmark_group("to_agent");
    for (t, json) in by_type("to-agent") {
        let message: ServerToAgent = serde_json::from_str(&json).expect("reference examples decode");
        group.throughput(Throughput::Bytes(json.len() as u64));
        group.bench_with_input(BenchmarkId::new("encode (server)", &t), &message, |b, message| {
            b.iter(|| encode(black_box(message)))
        });
        group.bench_with_input(BenchmarkId::new("decode (client)", &t), &json, |b, json| {
            b.iter(|| serde_json::from_str::<ServerToAgent>(black_box(json)).unwrap())
        });
    }
    group.finish();
}

/// The chat message at several text sizes: the relay's hot path.
fn chat_message_sizes(c: &mut Criterion) {
    let mut group = c.benchmark_group("chat_message_by_size");
    for size in [16usize, 256, 4096] {
        let text = "x".repeat(size);
        let json = encode(&CustomerCommand::Message { attachment: None, id: "c123".into(), text: text.clone() });
        let out = ServerToAgent::CustomerMessage { attachment: None, seq: 42, session: 17, text };
        group.throughput(Throughput::Bytes(json.len() as u64));
        group.bench_with_input(BenchmarkId::new("decode customer message (server)", size), &json, |b, json| {
            b.iter(|| decode_customer_command(black_box(json)).unwrap())
        });
        group.bench_with_input(BenchmarkId::new("encode customer_message to agent (server)", size), &out, |b, out| {
            b.iter(|| encode(black_box(out)))
        });
    }
    group.finish();
}

/// Every type in the reference is benchmarked: a check that runs with `cargo test --benches`.
fn coverage(_: &mut Criterion) {
    assert_eq!(by_type("customer-command").len(), CustomerCommand::TYPES.len(), "a customer command has no example");
    assert_eq!(by_type("agent-command").len(), AgentCommand::TYPES.len(), "an agent command has no example");
}

criterion_group!(benches, coverage, customer_commands, agent_commands, to_customer, to_agent, chat_message_sizes);
criterion_main!(benches);
