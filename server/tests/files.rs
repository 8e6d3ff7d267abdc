//! Pictures and files in chats over the real server (docs/files.md): upload
//! and view from both sides, the message that carries a file, and every
//! refusal with its code.

mod common;

use std::net::SocketAddr;

use common::*;
use serde_json::{json, Value};
use switchboard_server::auth::Role;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n";

/// An answer with a binary body.
struct Answer {
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(':').map(str::trim))
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    fn code(&self) -> String {
        self.json()["code"].as_str().unwrap_or_default().to_owned()
    }
}

async fn exchange(addr: SocketAddr, head: String, body: &[u8]) -> Answer {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut response = Vec::new();
    tokio::time::timeout(WAIT, stream.read_to_end(&mut response)).await.expect("answer in time").unwrap();
    let split = response.windows(4).position(|w| w == b"\r\n\r\n").expect("head and body");
    let head = String::from_utf8_lossy(&response[..split]).to_lowercase();
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap();
    Answer { status, head, body: response[split + 4..].to_vec() }
}

/// `POST /v1/files` as the holder of `token`, with a declared type that the server ignores.
async fn upload(addr: SocketAddr, token: &str, session: u64, name: &str, bytes: &[u8]) -> Answer {
    let name: String = name.bytes().map(|b| format!("%{b:02X}")).collect();
    let head = format!(
        "POST /v1/files?session={session}&name={name} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: image/png\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        bytes.len()
    );
    exchange(addr, head, bytes).await
}

async fn download(addr: SocketAddr, token: &str, url: &str) -> Answer {
    let head =
        format!("GET {url} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n");
    exchange(addr, head, b"").await
}

fn url(session: u64, file: &Value) -> String {
    format!("/v1/files/{session}/{}", file["id"].as_str().unwrap())
}

/// A server with Ann serving a customer who sent `parcel.png` with `caption`
/// (Ann has received it): the server, the chat and the file.
struct FileSent {
    server: TestServer,
    chat: AssignedChat,
    file: Value,
}

async fn customer_sent_a_picture(config: switchboard_server::config::Config, caption: &str) -> FileSent {
    let server = start(config).await;
    let mut chat = assigned_chat(server.public_addr, "ann", "general").await;
    let token = chat.welcome["token"].as_str().unwrap().to_owned();
    let file = upload(server.public_addr, &token, chat.session, "parcel.png", PNG).await.json();
    chat.customer.ok(json!({"type": "message", "text": caption, "attachment": file})).await;
    let seen = chat.agent.expect("customer_message").await;
    assert_eq!(seen["attachment"], file, "{seen}");
    FileSent { server, chat, file }
}

#[tokio::test]
async fn customer_and_agent_send_files_and_both_see_them() {
    let server = start(config(1.0, "")).await;
    let addr = server.public_addr;
    let AssignedChat { agent: mut ann, mut customer, session, welcome, .. } =
        assigned_chat(addr, "ann", "general").await;
    let customer_token = welcome["token"].as_str().unwrap().to_owned();
    let ann_token = token_for("ann");

    // The customer's PNG, named .pdf: stored as what it is.
    let sent = upload(addr, &customer_token, session, "receipt.pdf", PNG).await;
    assert_eq!(sent.status, 201, "{}", String::from_utf8_lossy(&sent.body));
    let file = sent.json();
    assert_eq!(file["content_type"], "image/png");
    assert_eq!(file["name"], "receipt.pdf");
    assert_eq!(file["size"], PNG.len());
    customer.ok(json!({"type": "message", "text": "", "attachment": file})).await;
    let seen = ann.expect("customer_message").await;
    assert_eq!(seen["attachment"], file, "{seen}");
    assert_eq!(seen["text"], "[receipt.pdf]", "clients that know no files read the name");

    for token in [&customer_token, &ann_token, &token_with_role("sue", Role::Supervisor)] {
        let got = download(addr, token, &url(session, &file)).await;
        assert_eq!(got.status, 200, "{}", String::from_utf8_lossy(&got.body));
        assert_eq!(got.body, PNG);
        assert_eq!(got.header("content-type"), Some("image/png"));
        assert_eq!(got.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(got.header("content-security-policy"), Some("default-src 'none'; sandbox"));
        assert!(got.header("content-disposition").unwrap().starts_with("inline;"), "{}", got.head);
    }

    // The agent's PDF, with a caption: a download for the customer.
    let sent = upload(addr, &ann_token, session, "invoice.pdf", PDF).await;
    assert_eq!(sent.status, 201);
    let pdf = sent.json();
    ann.ok(json!({"type": "reply", "session": session, "text": "your invoice", "attachment": pdf})).await;
    let message = customer.expect("agent_message").await;
    assert_eq!(message["attachment"], pdf);
    assert_eq!(message["text"], "your invoice");
    let got = download(addr, &customer_token, &url(session, &pdf)).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.header("content-type"), Some("application/pdf"));
    assert!(got.header("content-disposition").unwrap().starts_with("attachment;"));
    assert_eq!(got.body, PDF);

    let metrics = wait_for_sample(server.admin_addr, "switchboard_file_uploads_total{outcome=\"stored\"}", 2.0).await;
    let stored = (PNG.len() + PDF.len()) as f64;
    assert_eq!(sample(&metrics, "switchboard_file_bytes_stored_total"), Some(stored), "{metrics}");
}

#[tokio::test]
async fn a_file_counts_as_a_message_and_shows_in_the_history_after_a_transfer() {
    let FileSent { server, chat, file, .. } = customer_sent_a_picture(config(1.0, ""), "broken").await;
    let (addr, session, mut ann) = (server.public_addr, chat.session, chat.agent);
    let mut ben = Client::available_agent(addr, "ben").await;
    let note = "The customer's parcel arrived broken; the photo is in the chat. Please arrange a replacement.";
    ann.ok(json!({"type": "transfer", "session": session, "to": {"kind": "agent", "id": "ben"}, "note": note})).await;
    let assigned = ben.expect("session_assigned").await;
    let history = &assigned["session"]["history"];
    assert_eq!(history[0]["attachment"], file, "{assigned}");
    assert_eq!(history[0]["text"], "broken");
    // Ann served the chat before: she still sees its files; Rita never did.
    assert_eq!(download(addr, &token_for("ann"), &url(session, &file)).await.status, 200);
    let rita = download(addr, &token_for("rita"), &url(session, &file)).await;
    assert_eq!((rita.status, rita.code().as_str()), (403, "file_forbidden"));
}

#[tokio::test]
async fn what_is_not_a_picture_or_pdf_is_refused_with_its_code() {
    let server = start(config(1.0, "[files]\nmax_bytes = 1024\n")).await;
    let addr = server.public_addr;
    let AssignedChat { session, welcome, .. } = assigned_chat(addr, "ann", "general").await;
    let token = welcome["token"].as_str().unwrap().to_owned();
    let html = b"<!DOCTYPE html><html><script>alert(1)</script></html>";
    let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>";
    let big = [PNG, &[0u8; 2048][..]].concat();
    let cases: [(&str, &[u8], u16, &str); 6] = [
        ("cat.png", html, 415, "file_type_refused"),
        ("logo.svg", svg, 415, "file_type_refused"),
        ("huge.png", &big, 413, "file_too_large"),
        ("../../etc/passwd", PNG, 400, "file_name_invalid"),
        ("..\\evil.png", PNG, 400, "file_name_invalid"),
        ("empty.png", b"", 400, "file_empty"),
    ];
    for (name, bytes, status, code) in cases {
        let answer = upload(addr, &token, session, name, bytes).await;
        assert_eq!((answer.status, answer.code().as_str()), (status, code), "{name}");
        assert!(answer.json()["message"].is_string(), "{name}");
    }
    let metrics =
        wait_for_sample(server.admin_addr, "switchboard_file_uploads_total{outcome=\"file_type_refused\"}", 2.0).await;
    assert_eq!(sample(&metrics, "switchboard_file_uploads_total{outcome=\"stored\"}"), None, "{metrics}");
}

#[tokio::test]
async fn another_chats_file_is_refused_to_a_valid_token() {
    let server = start(config(1.0, "")).await;
    let addr = server.public_addr;
    let first = assigned_chat(addr, "ann", "general").await;
    let (_other, other_welcome) = Client::customer(addr, "general").await;
    let other_token = other_welcome["token"].as_str().unwrap();
    let mine = first.welcome["token"].as_str().unwrap();
    let file = upload(addr, mine, first.session, "a.png", PNG).await.json();

    let stolen = download(addr, other_token, &url(first.session, &file)).await;
    assert_eq!((stolen.status, stolen.code().as_str()), (403, "file_forbidden"));
    // Nor may the other customer send into the first chat, or name its file under their own chat.
    let into = upload(addr, other_token, first.session, "b.png", PNG).await;
    assert_eq!((into.status, into.code().as_str()), (403, "file_forbidden"));
    let other_session = other_welcome["session"].as_u64().unwrap();
    let relinked = download(addr, other_token, &url(other_session, &file)).await;
    assert_eq!((relinked.status, relinked.code().as_str()), (404, "file_unknown"));
    let bad = download(addr, "not-a-token", &url(first.session, &file)).await;
    assert_eq!((bad.status, bad.code().as_str()), (401, "token_invalid"));
    let traversal = download(addr, mine, &format!("/v1/files/{}/..%2F..%2Fsecret", first.session)).await;
    assert_eq!((traversal.status, traversal.code().as_str()), (404, "file_unknown"));
}

const EXIF: &[u8] = b"Exif\0\0MM\0*GPSLatitude 31.2304 N GPSLongitude 121.4737 E";

/// A JPEG from a phone: SOI, an APP1 Exif segment with a GPS position, a table, the scan.
fn jpeg_with_location() -> Vec<u8> {
    let segment = |marker: u8, body: &[u8]| {
        let mut s = vec![0xFF, marker];
        s.extend_from_slice(&u16::try_from(body.len() + 2).unwrap().to_be_bytes());
        s.extend_from_slice(body);
        s
    };
    [
        vec![0xFF, 0xD8],
        segment(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"),
        segment(0xE1, EXIF),
        segment(0xDB, &[0; 65]),
        segment(0xDA, &[1, 2, 3]),
        vec![0x12, 0x34, 0xFF, 0xD9],
    ]
    .concat()
}

#[tokio::test]
async fn location_data_is_taken_out_of_customer_photos() {
    let server = start(config(1.0, "")).await;
    let addr = server.public_addr;
    let AssignedChat { session, welcome, .. } = assigned_chat(addr, "ann", "general").await;
    let photo = jpeg_with_location();
    let sent = upload(addr, welcome["token"].as_str().unwrap(), session, "IMG_0001.jpg", &photo).await;
    assert_eq!(sent.status, 201);
    let file = sent.json();
    assert_eq!(file["content_type"], "image/jpeg");
    let got = download(addr, &token_for("ann"), &url(session, &file)).await;
    assert_eq!(got.status, 200);
    assert!(!got.body.windows(4).any(|w| w == b"Exif"), "the Exif segment is gone");
    assert!(!got.body.windows(11).any(|w| w == b"GPSLatitude"));
    assert_eq!(got.body.len(), photo.len() - 4 - EXIF.len(), "only the APP1 segment went");
    assert!(got.body.ends_with(&[0x12, 0x34, 0xFF, 0xD9]));
}

#[tokio::test]
async fn a_file_alone_starts_and_stops_the_reply_clock_like_a_message() {
    // 600x: one business minute is 100 ms of real time.
    let rules = "[router.rules]\ncustomer_idle = \"10h\"\nagent_grace = \"10h\"\n";
    let FileSent { server, chat, .. } = customer_sent_a_picture(config(600.0, rules), "").await;
    let (addr, session, mut ann) = (server.public_addr, chat.session, chat.agent);
    let warning = ann.expect("reply_warning").await;
    assert_eq!(warning["session"], session);

    // The agent's file alone is the reply: the next customer message starts a fresh clock, unwarned.
    let pdf = upload(addr, &token_for("ann"), session, "label.pdf", PDF).await.json();
    ann.ok(json!({"type": "reply", "session": session, "text": "", "attachment": pdf})).await;
    ann.expect_none("slow_reply", std::time::Duration::from_millis(300)).await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_transcript_in_the_records_store_keeps_the_file_apart_from_the_text() {
    let FileSent { server, chat, file, .. } = customer_sent_a_picture(config(1.0, ""), "here").await;
    let (addr, session, mut ann, mut customer) = (server.public_addr, chat.session, chat.agent, chat.customer);
    ann.ok(json!({"type": "close", "session": session, "reason": "resolved"})).await;
    customer.expect("closed").await;

    let sue = token_with_role("sue", Role::Supervisor);
    let deadline = tokio::time::Instant::now() + WAIT;
    let chat = loop {
        let answer = http_get_as(addr, &format!("/v1/records/chats/{session}"), Some(&sue)).await;
        if answer.status == 200 {
            break answer.json();
        }
        assert!(tokio::time::Instant::now() < deadline, "no record: {} {}", answer.status, answer.body);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let line = &chat["transcript"][0];
    assert_eq!(line["text"], "here", "{chat}");
    assert_eq!(line["attachment"], file, "{chat}");
}
