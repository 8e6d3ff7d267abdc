//! How entries and snapshots are written: postcard (compact, and quick to
//! write on the hot path), behind a version byte so that a later release can
//! still read what this one wrote.
//!
//! The storage crate frames, numbers and checksums records and snapshot
//! files; this module only says what their payloads mean.

use crate::session::Entry;

/// The payload format of log records. Raised whenever [`Entry`] (or a type
/// inside it) changes shape; a reader refuses versions it does not know.
///
/// 2: a customer's join records `customer_id` (verified customers).
/// 3: `Entry::Roster` (the roster changed at a restart or a reload); the
///    rules a start-up logs gain `max_history_bytes`,
///    `closes.unresponsive_after`, `complaint.repeat_lookback` and
///    `complaint.question_min_chars`.
/// 4: `Entry::Restarted` carries the run's clock anchor (business time on the calendar).
/// 5: `Entry::GroupHours` (groups opening and closing by their service hours);
///    a join records the customer's `time_zone`.
/// 6: `Entry::Ticket` (the ticket desk).
/// 7: `Entry::CheckedReply` and the router's `Input::ContentFlagged` (content
///    rules); a ticket reply carries its content verdict.
pub const ENTRY_FORMAT: u8 = 7;

/// The payload format of snapshots (the session layer's image with the
/// router's inside). Raised whenever their shape changes.
///
/// 2: sessions keep `customer_id` (verified customers).
/// 3: the saved config's rules gain `max_history_bytes`,
///    `closes.unresponsive_after`, `complaint.repeat_lookback` and
///    `complaint.question_min_chars`; agents may be retired (removed from
///    the roster).
/// 4: the session layer keeps the last start's clock anchor.
/// 5: each group keeps whether it is open and until when (service hours).
/// 6: the session layer keeps the ticket desk.
/// 7: conduct flags kept in agents' records carry the content rule (`rule`).
pub const SNAPSHOT_FORMAT: u8 = 7;

/// Encodes an entry into `buf` (cleared first), returning it.
pub fn encode_entry(entry: &Entry, mut buf: Vec<u8>) -> Result<Vec<u8>, String> {
    buf.clear();
    buf.push(ENTRY_FORMAT);
    postcard::to_extend(entry, buf).map_err(|e| e.to_string())
}

/// Decodes a record's payload.
pub fn decode_entry(payload: &[u8]) -> Result<Entry, String> {
    let (&version, body) = payload.split_first().ok_or("an empty record")?;
    if version != ENTRY_FORMAT {
        return Err(format!(
            "the record has entry format {version}; this build reads format {ENTRY_FORMAT} (written by another release?)"
        ));
    }
    postcard::from_bytes(body).map_err(|e| format!("the record does not decode: {e}"))
}

/// Encodes a snapshot image.
pub fn encode_snapshot<T: serde::Serialize>(image: &T) -> Result<Vec<u8>, String> {
    postcard::to_extend(image, vec![SNAPSHOT_FORMAT]).map_err(|e| e.to_string())
}

/// Decodes a snapshot image.
pub fn decode_snapshot<T: serde::de::DeserializeOwned>(payload: &[u8]) -> Result<T, String> {
    let (&version, body) = payload.split_first().ok_or("an empty snapshot")?;
    if version != SNAPSHOT_FORMAT {
        return Err(format!(
            "the snapshot has format {version}; this build reads format {SNAPSHOT_FORMAT} (written by another release?)"
        ));
    }
    postcard::from_bytes(body).map_err(|e| format!("the snapshot does not decode: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::router::input::{Input, Priority};
    use crate::router::{GroupId, Millis, SessionId};
    use crate::session::{Command, Join, Token};

    #[test]
    fn entries_round_trip_and_foreign_versions_are_refused() {
        let entries = [
            Entry::CustomerJoin(Join {
                conn: 7,
                session: SessionId(3),
                token: Token("ab".into()),
                group: GroupId::new("general"),
                customer_name: Some("Wei".into()),
                customer_id: Some("user-42".into()),
                priority: Priority::High,
                time_zone: Some("Europe/Berlin".into()),
            }),
            Entry::GroupHours {
                groups: vec![(
                    GroupId::new("refunds"),
                    crate::router::GroupHours { open: false, next_change: Some(Millis(9)), service_hours: None },
                )],
            },
            Entry::CustomerCommand {
                conn: 7,
                command: Command {
                    id: "c1".into(),
                    hash: 42,
                    input: Input::CustomerMessage { session: SessionId(3), text: "你好".into() },
                },
            },
            Entry::Tick,
            Entry::Restarted {
                clock: switchboard_calendar::ClockAnchor { business_ms: 5_000, unix_ms: 1_772_762_100_000 },
            },
        ];
        for entry in entries {
            let bytes = encode_entry(&entry, Vec::new()).unwrap();
            let back = decode_entry(&bytes).unwrap();
            assert_eq!(format!("{back:?}"), format!("{entry:?}"));
            let mut foreign = bytes.clone();
            foreign[0] = ENTRY_FORMAT + 1;
            assert!(decode_entry(&foreign).unwrap_err().contains(&format!("reads format {ENTRY_FORMAT}")));
            assert!(decode_entry(&bytes[..bytes.len() - 1]).is_err(), "a truncated record is refused");
        }
        assert!(decode_entry(&[]).is_err());
    }
}
