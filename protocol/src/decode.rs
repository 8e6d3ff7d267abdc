//! Decoding client frames with stable error codes, and encoding server messages.

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::agent::AgentCommand;
use crate::code;
use crate::customer::CustomerCommand;
use crate::MAX_CLIENT_ID_CHARS;

/// Why a client frame was refused. `code` is one of [`crate::code`]'s
/// `invalid_json`, `unknown_type`, `invalid_command`; `id` is the frame's `id`
/// when it could be read, so the error can be matched to the command.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct DecodeError {
    pub code: &'static str,
    pub message: String,
    pub id: Option<String>,
}

impl DecodeError {
    fn new(code: &'static str, message: impl Into<String>, id: Option<String>) -> Self {
        DecodeError { code, message: message.into(), id }
    }
}

/// Decodes a customer's text frame.
pub fn decode_customer_command(text: &str) -> Result<CustomerCommand, DecodeError> {
    decode_command(text, CustomerCommand::TYPES)
}

/// Decodes an agent's text frame.
pub fn decode_agent_command(text: &str) -> Result<AgentCommand, DecodeError> {
    decode_command(text, AgentCommand::TYPES)
}

fn decode_command<T: DeserializeOwned + Command>(text: &str, types: &[&str]) -> Result<T, DecodeError> {
    // Fast path: a well-formed command decodes directly. Anything else is taken
    // apart step by step below, to give the right code and the command's id.
    if let Ok(command) = serde_json::from_str::<T>(text) {
        let id = command.command_id();
        if !id.is_empty() && id.chars().count() <= MAX_CLIENT_ID_CHARS {
            return Ok(command);
        }
    }
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| DecodeError::new(code::INVALID_JSON, format!("not valid JSON: {e}"), None))?;
    let serde_json::Value::Object(object) = &value else {
        return Err(DecodeError::new(code::INVALID_COMMAND, "a command must be a JSON object", None));
    };
    let id = match object.get("id") {
        Some(serde_json::Value::String(s)) if !s.is_empty() && s.chars().count() <= MAX_CLIENT_ID_CHARS => s.clone(),
        Some(serde_json::Value::String(_)) => {
            return Err(DecodeError::new(
                code::INVALID_COMMAND,
                format!("`id` must be 1 to {MAX_CLIENT_ID_CHARS} characters"),
                None,
            ))
        }
        Some(_) => return Err(DecodeError::new(code::INVALID_COMMAND, "`id` must be a string", None)),
        None => return Err(DecodeError::new(code::INVALID_COMMAND, "missing field `id`", None)),
    };
    let kind = match object.get("type") {
        Some(serde_json::Value::String(s)) => s.as_str(),
        Some(_) => return Err(DecodeError::new(code::INVALID_COMMAND, "`type` must be a string", Some(id))),
        None => return Err(DecodeError::new(code::INVALID_COMMAND, "missing field `type`", Some(id))),
    };
    if !types.contains(&kind) {
        return Err(DecodeError::new(
            code::UNKNOWN_TYPE,
            format!("unknown command type `{kind}`; expected one of: {}", types.join(", ")),
            Some(id),
        ));
    }
    serde_json::from_value(value).map_err(|e| DecodeError::new(code::INVALID_COMMAND, e.to_string(), Some(id)))
}

/// A client command: it has an id.
trait Command {
    fn command_id(&self) -> &str;
}

impl Command for CustomerCommand {
    fn command_id(&self) -> &str {
        self.id()
    }
}

impl Command for AgentCommand {
    fn command_id(&self) -> &str {
        self.id()
    }
}

/// Encodes a server message as the text of one frame.
pub fn encode<T: Serialize>(message: &T) -> String {
    // The protocol's types are plain structs, enums, strings and numbers: serialising cannot fail.
    serde_json::to_string(message).expect("protocol messages always serialise to JSON")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::ServerToAgent;
    use crate::common::{AgentCloseReason, TransferTarget};
    use crate::customer::ServerToCustomer;

    #[test]
    fn decodes_a_customer_message() {
        let cmd = decode_customer_command(r#"{"type":"message","id":"c1","text":"hello"}"#).unwrap();
        assert_eq!(cmd, CustomerCommand::Message { id: "c1".into(), text: "hello".into(), attachment: None });
    }

    #[test]
    fn transfer_without_note_decodes_with_an_empty_note() {
        let cmd =
            decode_agent_command(r#"{"type":"transfer","id":"a1","session":7,"to":{"kind":"group","id":"refunds"}}"#)
                .unwrap();
        assert_eq!(
            cmd,
            AgentCommand::Transfer {
                id: "a1".into(),
                session: 7,
                to: TransferTarget::Group("refunds".into()),
                note: String::new(),
                skip_consent: false
            }
        );
    }

    #[test]
    fn stable_error_codes() {
        let err = decode_customer_command("{not json").unwrap_err();
        assert_eq!((err.code, err.id), ("invalid_json", None));
        let err = decode_customer_command(r#"{"type":"dance","id":"x"}"#).unwrap_err();
        assert_eq!((err.code, err.id.as_deref()), ("unknown_type", Some("x")));
        let err = decode_customer_command(r#"{"type":"message","id":"x"}"#).unwrap_err();
        assert_eq!((err.code, err.id.as_deref()), ("invalid_command", Some("x")));
        assert!(err.message.contains("text"), "{}", err.message);
        let err = decode_customer_command(r#"{"type":"message","text":"hi"}"#).unwrap_err();
        assert_eq!((err.code, err.id), ("invalid_command", None));
        let err = decode_customer_command(r#"[1,2]"#).unwrap_err();
        assert_eq!(err.code, "invalid_command");
        let err = decode_agent_command(r#"{"type":"close","id":"x","session":1,"reason":"bored"}"#).unwrap_err();
        assert_eq!((err.code, err.id.as_deref()), ("invalid_command", Some("x")));
        let long_id = "x".repeat(MAX_CLIENT_ID_CHARS + 1);
        let err = decode_agent_command(&format!(r#"{{"type":"ping","id":"{long_id}"}}"#)).unwrap_err();
        assert_eq!(err.code, "invalid_command");
    }

    /// A `priority_hash` signs `Priority::as_str`: it must be the name on the wire.
    #[test]
    fn priority_names_are_the_wire_names() {
        for p in crate::common::Priority::ALL {
            assert_eq!(serde_json::to_value(p).unwrap(), p.as_str());
        }
    }

    #[test]
    fn agent_close_reason_round_trips() {
        let cmd = AgentCommand::Close { id: "1".into(), session: 3, reason: AgentCloseReason::CustomerUnresponsive };
        let text = encode(&cmd);
        assert_eq!(text, r#"{"type":"close","id":"1","session":3,"reason":"customer_unresponsive"}"#);
        assert_eq!(decode_agent_command(&text).unwrap(), cmd);
    }

    #[test]
    fn seq_is_set_on_stream_messages_only() {
        let mut m = ServerToCustomer::ResolveRequest { seq: 0 };
        *m.seq_mut().unwrap() = 9;
        assert_eq!(m.seq_mut().copied(), Some(9));
        assert_eq!(encode(&m), r#"{"type":"resolve_request","seq":9}"#);
        let mut m = ServerToAgent::CustomerTyping { session: 1 };
        assert_eq!(m.seq_mut(), None);
        assert_eq!(encode(&ServerToCustomer::AgentTyping {}), r#"{"type":"agent_typing"}"#);
    }

    /// Every JSON example in docs/protocol.md decodes as what its heading says, so the doc stays true.
    #[test]
    fn every_example_in_the_protocol_doc_decodes() {
        let doc = include_str!("../../docs/protocol.md");
        let mut checked = 0;
        let mut direction = "";
        let mut lines = doc.lines();
        while let Some(line) = lines.next() {
            if let Some(rest) = line.strip_prefix("<!-- example: ") {
                direction = rest.trim_end_matches(" -->").trim();
                continue;
            }
            if line.trim() != "```json" {
                continue;
            }
            let mut block = String::new();
            for l in lines.by_ref() {
                if l.trim() == "```" {
                    break;
                }
                block.push_str(l);
                block.push('\n');
            }
            let ok = match direction {
                "customer-command" => decode_customer_command(&block).map(|_| ()).map_err(|e| e.to_string()),
                "agent-command" => decode_agent_command(&block).map(|_| ()).map_err(|e| e.to_string()),
                "to-customer" => {
                    serde_json::from_str::<ServerToCustomer>(&block).map(|_| ()).map_err(|e| e.to_string())
                }
                "to-agent" => serde_json::from_str::<ServerToAgent>(&block).map(|_| ()).map_err(|e| e.to_string()),
                "any" => serde_json::from_str::<serde_json::Value>(&block).map(|_| ()).map_err(|e| e.to_string()),
                other => Err(format!("example without a known direction marker: {other:?}")),
            };
            if let Err(e) = ok {
                panic!("docs/protocol.md example does not decode as {direction}: {e}\n{block}");
            }
            checked += 1;
        }
        assert!(checked >= 30, "expected an example of every message, found {checked}");
    }
}
