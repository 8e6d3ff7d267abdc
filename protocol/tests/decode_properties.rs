//! Decoding never panics, answers every bad frame with one of three stable codes,
//! and reads back exactly what was encoded.

use proptest::prelude::*;
use switchboard_protocol::agent::AgentCommand;
use switchboard_protocol::common::{AgentCloseReason, Rating, TransferTarget};
use switchboard_protocol::customer::CustomerCommand;
use switchboard_protocol::{decode_agent_command, decode_customer_command, encode};

const FRAME_CODES: [&str; 3] = ["invalid_json", "unknown_type", "invalid_command"];

fn id() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9_-]{1,64}"
}

fn customer_command() -> impl Strategy<Value = CustomerCommand> {
    prop_oneof![
        (id(), any::<String>()).prop_map(|(id, text)| CustomerCommand::Message { id, text, attachment: None }),
        id().prop_map(|id| CustomerCommand::Typing { id }),
        (id(), any::<bool>()).prop_map(|(id, accept)| CustomerCommand::Consent { id, accept }),
        (id(), any::<bool>()).prop_map(|(id, resolved)| CustomerCommand::ConfirmResolved { id, resolved }),
        (id(), any::<bool>()).prop_map(|(id, good)| CustomerCommand::Rate {
            id,
            rating: if good { Rating::Satisfied } else { Rating::Dissatisfied }
        }),
        id().prop_map(|id| CustomerCommand::Leave { id }),
        id().prop_map(|id| CustomerCommand::Ping { id }),
    ]
}

fn agent_command() -> impl Strategy<Value = AgentCommand> {
    prop_oneof![
        (id(), any::<u64>(), any::<String>()).prop_map(|(id, session, text)| AgentCommand::Reply {
            id,
            session,
            text,
            attachment: None
        }),
        (id(), any::<u64>(), "[a-z]{1,10}", any::<String>(), any::<bool>(), any::<bool>()).prop_map(
            |(id, session, target, note, to_agent, skip_consent)| AgentCommand::Transfer {
                id,
                session,
                to: if to_agent { TransferTarget::Agent(target) } else { TransferTarget::Group(target) },
                note,
                skip_consent
            }
        ),
        (id(), any::<u64>()).prop_map(|(id, session)| AgentCommand::Close {
            id,
            session,
            reason: AgentCloseReason::Other
        }),
        id().prop_map(|id| AgentCommand::Snapshot { id }),
    ]
}

proptest! {
    #[test]
    fn any_text_decodes_or_gets_a_frame_error(text in any::<String>()) {
        if let Err(e) = decode_customer_command(&text) {
            prop_assert!(FRAME_CODES.contains(&e.code), "{}", e.code);
        }
        if let Err(e) = decode_agent_command(&text) {
            prop_assert!(FRAME_CODES.contains(&e.code), "{}", e.code);
        }
    }

    #[test]
    fn json_objects_with_junk_fields_get_a_stable_code(
        kind in prop_oneof![Just("message".to_owned()), Just("reply".to_owned()), "[a-z_]{0,12}"],
        id in prop_oneof![Just(serde_json::Value::Null), "[a-z0-9]{0,70}".prop_map(serde_json::Value::from), any::<i64>().prop_map(serde_json::Value::from)],
        text in any::<Option<String>>(),
    ) {
        let mut frame = serde_json::json!({"type": kind, "id": id});
        if let Some(text) = text {
            frame["text"] = serde_json::Value::from(text);
        }
        let text = frame.to_string();
        for result in [decode_customer_command(&text).err(), decode_agent_command(&text).err()].into_iter().flatten() {
            prop_assert!(FRAME_CODES.contains(&result.code), "{}: {}", result.code, text);
        }
    }

    #[test]
    fn customer_commands_round_trip(command in customer_command()) {
        prop_assert_eq!(decode_customer_command(&encode(&command)).unwrap(), command);
    }

    #[test]
    fn agent_commands_round_trip(command in agent_command()) {
        prop_assert_eq!(decode_agent_command(&encode(&command)).unwrap(), command);
    }
}
