//! Files in chats (docs/files.md): a chat message may carry one stored file.
//!
//! On the wire a file is an `attachment` field beside `text` (clients that
//! do not know it still show the text, which names the file). Inside the
//! server a message is one text, so that a file counts for the reply timers,
//! the history, the journal and the transcript exactly as text does: the
//! attachment rides at the start of the text, after a marker no typed
//! message may begin with ([`MARKER`]), and is taken off again on the way
//! out. The router never needs to know.

use serde::{Deserialize, Serialize};

/// Begins a text that carries a file: U+FFFC OBJECT REPLACEMENT CHARACTER,
/// meant for exactly this ("an object stands here") and never typed.
pub const MARKER: char = '\u{FFFC}';

/// Longest file name kept (in characters); longer names are cut.
pub const MAX_NAME_CHARS: usize = 120;

/// A stored file, as a message refers to it. `id` is the SHA-256 of the
/// bytes (hex); `content_type` was decided by the server from the bytes.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Attachment {
    pub id: String,
    pub name: String,
    pub content_type: String,
    pub size: u64,
}

impl Attachment {
    /// The one text the server carries for a message with this file and
    /// `caption` (which may be empty).
    pub fn embed(&self, caption: &str) -> String {
        let head = serde_json::to_string(self).unwrap_or_default();
        format!("{MARKER}{head}\n{caption}")
    }

    /// Splits a server text into its file (if it carries one) and the text
    /// people read. A text that does not parse as a file is plain text.
    pub fn split(text: &str) -> (Option<Attachment>, &str) {
        let Some(rest) = text.strip_prefix(MARKER) else { return (None, text) };
        let (head, caption) = rest.split_once('\n').unwrap_or((rest, ""));
        match serde_json::from_str(head) {
            Ok(attachment) => (Some(attachment), caption),
            Err(_) => (None, text),
        }
    }

    /// What a client that knows nothing of files shows: the caption, or the
    /// file's name when there is none.
    pub fn readable(&self, caption: &str) -> String {
        if caption.trim().is_empty() {
            format!("[{}]", self.name)
        } else {
            caption.to_owned()
        }
    }

    /// Whether `id` has the shape of a file id (64 lowercase hex digits):
    /// ids become paths, so nothing else may pass.
    pub fn valid_id(id: &str) -> bool {
        id.len() == 64 && id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    }
}

/// Whether a typed text would be taken for a file (refused: `text_reserved`).
pub fn reserved(text: &str) -> bool {
    text.starts_with(MARKER)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Attachment {
        Attachment { id: "a".repeat(64), name: "photo.png".into(), content_type: "image/png".into(), size: 12 }
    }

    #[test]
    fn embed_and_split_round_trip() {
        for caption in ["", "look\nhere", "你好"] {
            let text = sample().embed(caption);
            assert_eq!(Attachment::split(&text), (Some(sample()), caption));
        }
        assert_eq!(Attachment::split("plain"), (None, "plain"));
        assert_eq!(Attachment::split("\u{FFFC}not json"), (None, "\u{FFFC}not json"));
    }

    #[test]
    fn ids_are_hex_only() {
        assert!(Attachment::valid_id(&"0f".repeat(32)));
        assert!(!Attachment::valid_id("../../etc/passwd"));
        assert!(!Attachment::valid_id(&"A".repeat(64)));
    }
}
