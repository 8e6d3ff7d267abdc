//! Replays the whole `frame_decode` fuzz corpus (`fuzz/corpus/frame_decode/`)
//! against a live server, once on customer connections and once on agent
//! connections (a supervisor among them), and checks the protocol's promise
//! for each frame: it is answered by **exactly one** `ack` or `error`, the
//! one the protocol crate's decoder predicts, in the order sent. Then the
//! server is still up: `/healthz`, `/readyz` and a normal chat.
//!
//! What "answered by exactly one ack or error" means here, per frame:
//! - a text frame the decoder accepts is a command: exactly one `ack` or
//!   `error` with its `id` (an error is a rule error such as
//!   `unknown_session`; `ping`, `typing` and `snapshot` are commands too and
//!   acked like the rest);
//! - a text frame the decoder refuses: exactly one `error` with the
//!   decoder's code (`invalid_json`, `invalid_command`, `unknown_type`) and
//!   its `id`, which is `null` when the frame's id could not be read;
//! - a file that is not UTF-8 cannot be a WebSocket text frame (the
//!   WebSocket layer refuses it), so it is sent as a binary frame: exactly
//!   one `error` `binary_not_supported` with `id` `null`.
//!
//! Other frames (`queued`, `assigned`, `state_changed`, `snapshot`, typing
//! indicators, messages caused by other connections...) may come in between
//! and are not answers; every frame received must still decode as the
//! protocol crate's server message for that side (the `Client` helper checks).
//! "Exactly one" is checked by sending the corpus in batches, each followed by
//! a `ping` with an id no corpus file uses: when its `ack` arrives, every
//! answer to the batch has arrived (answers keep command order), and the
//! answers before it must be exactly one per frame of the batch.
//!
//! The corpus holds no file over 4 KiB (the fuzzer's `-max_len`), well under
//! the 64 KiB frame limit, so no frame closes its connection.

mod common;

use std::path::Path;
use std::time::Instant;

use common::{config, http_get, start, Client};
use serde_json::{json, Value};
use switchboard_protocol::{decode_agent_command, decode_customer_command, MAX_FRAME_BYTES};
use tokio_tungstenite::tungstenite::Message;

/// Frames sent before waiting for their answers: far below the outbound queue
/// (256), so a connection never overflows while it is not being read.
const BATCH: usize = 32;

/// A group and an agent no corpus frame names: the normal chat after the replay.
const QUIET_ROSTER: &str = r#"
[[router.groups]]
id = "after-replay"

[[router.agents]]
id = "quinn"
capacity = 1
groups = [{ group = "after-replay" }]
"#;

#[derive(Clone, Debug)]
enum Frame {
    Text(String),
    Binary(Vec<u8>),
}

/// The answer a frame must get: `ack` or `error` with this id, or an `error` with this code.
#[derive(Debug)]
enum Expect {
    /// A command: `ack` or (rule) `error`, with its id.
    Command(String),
    /// A refused frame: `error` with this code and id.
    Error { code: &'static str, id: Option<String> },
}

fn corpus() -> Vec<(String, Frame)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/frame_decode");
    let mut files: Vec<(String, Frame)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let entry = entry.unwrap();
            let bytes = std::fs::read(entry.path()).unwrap();
            assert!(bytes.len() < MAX_FRAME_BYTES, "{:?} is over the frame limit", entry.file_name());
            let frame = match String::from_utf8(bytes) {
                Ok(text) => Frame::Text(text),
                Err(e) => Frame::Binary(e.into_bytes()),
            };
            (entry.file_name().to_string_lossy().into_owned(), frame)
        })
        .collect();
    files.sort_by(|a, b| a.0.cmp(&b.0));
    files
}

fn expect(agent: bool, frame: &Frame) -> Expect {
    let Frame::Text(text) = frame else {
        return Expect::Error { code: "binary_not_supported", id: None };
    };
    let decoded = if agent {
        decode_agent_command(text).map(|c| c.id().to_owned())
    } else {
        decode_customer_command(text).map(|c| c.id().to_owned())
    };
    match decoded {
        Ok(id) => Expect::Command(id),
        Err(e) => Expect::Error { code: e.code, id: e.id },
    }
}

/// Sends `files` on `client` in batches and checks each frame's one answer. Returns the number of frames.
async fn replay(client: &mut Client, label: &str, files: &[(String, Frame)]) -> usize {
    let agent = label != "customer";
    for (b, batch) in files.chunks(BATCH).enumerate() {
        for (_, frame) in batch {
            let message = match frame {
                Frame::Text(text) => Message::Text(text.as_str().into()),
                Frame::Binary(bytes) => Message::Binary(bytes.clone().into()),
            };
            client.send_raw(message).await;
        }
        let sentinel = format!("corpus-replay-sentinel-{b}");
        client.send(&json!({"type": "ping", "id": sentinel})).await;
        let mut answers: Vec<Value> = Vec::new();
        loop {
            let v = client.read().await.unwrap_or_else(|| panic!("{label}: connection closed in batch {b}"));
            if v["type"] == "ack" && v["id"] == sentinel.as_str() {
                break;
            }
            if v["type"] == "ack" || v["type"] == "error" {
                answers.push(v);
            }
        }
        let names: Vec<&str> = batch.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(answers.len(), batch.len(), "{label}: batch {b} ({names:?}) got answers {answers:#?}");
        for ((name, frame), answer) in batch.iter().zip(&answers) {
            match expect(agent, frame) {
                Expect::Command(id) => {
                    assert_eq!(answer["id"], id.as_str(), "{label}: {name} {frame:?} answered by {answer}");
                    if answer["type"] == "error" {
                        let code = answer["code"].as_str().unwrap_or_default();
                        assert!(
                            !["invalid_json", "invalid_command", "unknown_type"].contains(&code),
                            "{label}: {name} decodes, yet the server refused the frame: {answer}"
                        );
                    }
                }
                Expect::Error { code, id } => {
                    assert_eq!(answer["type"], "error", "{label}: {name} {frame:?} answered by {answer}");
                    assert_eq!(answer["code"], code, "{label}: {name} {frame:?} answered by {answer}");
                    assert_eq!(answer["id"], json!(id), "{label}: {name} {frame:?} answered by {answer}");
                }
            }
            assert!(answer["type"] == "ack" || answer["message"].as_str().is_some_and(|m| !m.is_empty()), "{answer}");
        }
    }
    files.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_corpus_frame_gets_exactly_one_answer_and_the_server_lives_on() {
    let started = Instant::now();
    let files = corpus();
    let binary = files.iter().filter(|(_, f)| matches!(f, Frame::Binary(_))).count();
    assert!(files.len() >= 1400, "the corpus should hold at least 1,400 inputs, found {}", files.len());
    assert!(binary < files.len() / 10, "mostly text frames expected: {binary} of {} are not UTF-8", files.len());
    for (name, _) in &files {
        assert!(!name.starts_with("corpus-replay-sentinel"), "a corpus file named like the sentinel: {name}");
    }

    let server = start(config(1.0, QUIET_ROSTER)).await;
    let addr = server.public_addr;

    // Four customers (three groups) and four agents (a supervisor among
    // them), each replaying a quarter of the corpus at the same time: every
    // file is sent once as a customer frame and once as an agent frame.
    let quarter = files.len().div_ceil(4);
    let mut tasks = Vec::new();
    for (i, group) in ["general", "refunds", "logistics", "general"].into_iter().enumerate() {
        let part = files.chunks(quarter).nth(i).unwrap_or_default().to_vec();
        tasks.push(tokio::spawn(async move {
            let (mut customer, _) = Client::customer(addr, group).await;
            let n = replay(&mut customer, "customer", &part).await;
            customer.ok(json!({"type": "ping"})).await;
            customer.close().await;
            n
        }));
    }
    for (i, agent) in ["ann", "rita", "leo", "sue"].into_iter().enumerate() {
        let part = files.chunks(quarter).nth(i).unwrap_or_default().to_vec();
        tasks.push(tokio::spawn(async move {
            let mut client = Client::agent(addr, agent).await;
            let n = replay(&mut client, agent, &part).await;
            client.ok(json!({"type": "ping"})).await;
            client.close().await;
            n
        }));
    }
    let mut sent = 0;
    for task in tasks {
        sent += task.await.expect("a replay task");
    }
    assert_eq!(sent, 2 * files.len());

    // The server is still up and serves a normal chat.
    assert_eq!(http_get(addr, "/healthz").await.0, 200);
    assert_eq!(http_get(addr, "/readyz").await.0, 200);
    let chat = common::assigned_chat(addr, "quinn", "after-replay").await;
    let (mut agent, mut customer, session) = (chat.agent, chat.customer, chat.session);
    customer.ok(json!({"type": "message", "text": "still there?"})).await;
    assert_eq!(agent.expect("customer_message").await["text"], "still there?");
    agent.ok(json!({"type": "reply", "session": session, "text": "yes"})).await;
    assert_eq!(customer.expect("agent_message").await["text"], "yes");
    server.shutdown().await.unwrap();
    eprintln!(
        "replayed {} corpus files ({binary} as binary frames) on customer and agent connections in {:?}",
        files.len(),
        started.elapsed()
    );
}
