//! Arbitrary bytes into the frame decoders the gateway calls on every text
//! frame (`decode_customer_command`, `decode_agent_command`).
//!
//! Checked, besides "never panics":
//! - an error has one of the three frame codes, and its `id`, when given, is
//!   a valid command id (1 to 64 characters) that the frame really carries;
//! - `invalid_json` exactly when the text is not JSON;
//! - a decoded command has a valid id and round-trips: encoded again, it
//!   decodes to the same command.
//!
//! WebSocket text frames are UTF-8 (the WebSocket layer refuses others), so
//! other bytes stop at the UTF-8 check; the corpus replay test sends them as
//! binary frames.
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchboard_protocol::{
    code, decode_agent_command, decode_customer_command, encode, DecodeError, MAX_CLIENT_ID_CHARS,
};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let json: Option<serde_json::Value> = serde_json::from_str(text).ok();
    check(text, json.as_ref(), decode_customer_command(text), decode_customer_command, |c| c.id().to_owned());
    check(text, json.as_ref(), decode_agent_command(text), decode_agent_command, |c| c.id().to_owned());
});

fn check<T: PartialEq + std::fmt::Debug + serde::Serialize>(
    text: &str,
    json: Option<&serde_json::Value>,
    decoded: Result<T, DecodeError>,
    decode: impl Fn(&str) -> Result<T, DecodeError>,
    id_of: impl Fn(&T) -> String,
) {
    match decoded {
        Ok(command) => {
            let id = id_of(&command);
            assert!(valid_id(&id), "decoded a command with an invalid id {id:?} from {text:?}");
            assert!(json.is_some(), "decoded a command from text that is not JSON: {text:?}");
            let again = encode(&command);
            let round = decode(&again).unwrap_or_else(|e| panic!("re-encoded {command:?} as {again}: {e}"));
            assert_eq!(round, command, "round trip of {text:?} through {again}");
        }
        Err(e) => {
            assert!(
                [code::INVALID_JSON, code::INVALID_COMMAND, code::UNKNOWN_TYPE].contains(&e.code),
                "unexpected code {e:?} for {text:?}"
            );
            assert_eq!(e.code == code::INVALID_JSON, json.is_none(), "invalid_json iff not JSON: {e:?} for {text:?}");
            assert!(!e.message.is_empty());
            if let Some(id) = &e.id {
                assert!(valid_id(id), "error names an invalid id {id:?} for {text:?}");
                let carried = json.and_then(|v| v.get("id")).and_then(|v| v.as_str());
                assert_eq!(carried, Some(id.as_str()), "error id is not the frame's id: {text:?}");
            }
        }
    }
}

fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.chars().count() <= MAX_CLIENT_ID_CHARS
}
