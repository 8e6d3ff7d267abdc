//! One customer session's or one agent's stream of session-level messages:
//! `seq` numbering, the replay buffer, and the ids of recently accepted
//! commands.

use std::collections::VecDeque;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{ConnId, Frame};

/// Sequencing, replay and retry memory of one customer session or one agent.
///
/// The buffers are shared on clone and copied on the next write
/// (`Arc::make_mut`): a snapshot clones every stream between two inputs, and
/// copying thousands of buffers there would stop every chat for that long;
/// this way each buffer is copied only if it changes while the snapshot is
/// being encoded, one small copy at a time. Serialized as plain lists.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct Stream {
    pub(crate) seq: u64,
    replay: Arc<VecDeque<Replayable>>,
    /// Ids (and a hash of the command) of recently accepted commands.
    accepted: Arc<VecDeque<(Box<str>, u64)>>,
    pub(crate) conn: Option<ConnId>,
}

/// A frame kept for replay on resume.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Replayable {
    /// The first seq this frame stands for: earlier than `seq` when it
    /// replaced superseded queue positions.
    from: u64,
    seq: u64,
    #[serde(with = "frame_text")]
    frame: Frame,
    /// A queue position (`queued`), which the next position supersedes.
    position: bool,
}

/// How a numbered frame is kept for replay.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kept {
    /// Kept as is.
    Plain,
    /// A queue position: replaces the position kept just before it.
    Position,
}

impl Stream {
    pub(crate) fn connected_to(conn: ConnId) -> Stream {
        Stream { conn: Some(conn), ..Stream::default() }
    }

    /// A retry is the same command with the same id: a reused id with a different command is a new command.
    /// The hash is compared first: a miss (almost every command) then costs no string comparison.
    pub(crate) fn was_accepted(&self, id: &str, hash: u64) -> bool {
        self.accepted.iter().any(|(a, h)| *h == hash && &**a == id)
    }

    pub(crate) fn remember(&mut self, id: &str, hash: u64, keep: usize) {
        let accepted = Arc::make_mut(&mut self.accepted);
        if accepted.len() >= keep {
            accepted.pop_front();
        }
        accepted.push_back((id.into(), hash));
    }

    /// A fresh start (not a resume): the client's ids start over too.
    pub(crate) fn forget_accepted(&mut self) {
        self.accepted = Arc::default();
    }

    /// Is every message after `last_seq` still in the buffer (or replaced by a later one)?
    pub(crate) fn can_replay_from(&self, last_seq: u64) -> bool {
        last_seq >= self.seq || self.replay.front().is_some_and(|r| r.from <= last_seq + 1)
    }

    /// The buffered frames a client that saw up to `last_seq` has not seen.
    pub(crate) fn frames_after(&self, last_seq: u64) -> Vec<Frame> {
        self.replay.iter().filter(|r| r.seq > last_seq).map(|r| r.frame.clone()).collect()
    }

    /// Gives a message of this stream the next `seq`. Ephemeral messages
    /// (typing) have no `seq` field and are not numbered; says whether it was.
    pub(crate) fn number(&mut self, seq: Option<&mut u64>) -> bool {
        let Some(seq) = seq else { return false };
        self.seq += 1;
        *seq = self.seq;
        true
    }

    /// Keeps the frame of the message just numbered for resumes, at most
    /// `keep` of them. A queue position replaces the position sent just
    /// before it, so a customer waiting in a moving queue keeps one frame,
    /// not `keep` stale positions.
    pub(crate) fn keep_for_replay(&mut self, frame: Frame, keep: usize, kept: Kept) {
        let position = kept == Kept::Position;
        let mut from = self.seq;
        let replay = Arc::make_mut(&mut self.replay);
        if position && replay.back().is_some_and(|r| r.position) {
            from = replay.pop_back().expect("checked").from;
        }
        if replay.len() >= keep {
            replay.pop_front();
        }
        replay.push_back(Replayable { from, seq: self.seq, frame, position });
    }
}

/// Frames are kept as the JSON text they were sent as.
mod frame_text {
    use serde::{Deserialize, Deserializer, Serializer};

    use super::Frame;

    pub fn serialize<S: Serializer>(frame: &Frame, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(frame.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Frame, D::Error> {
        String::deserialize(d).map(Frame::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbered(stream: &mut Stream, text: &str, kept: Kept) {
        let mut seq = 0;
        assert!(stream.number(Some(&mut seq)));
        stream.keep_for_replay(Frame::from(format!("{text}{seq}")), 3, kept);
    }

    #[test]
    fn the_buffer_keeps_the_newest_frames_and_knows_when_it_overflowed() {
        let mut s = Stream::default();
        for _ in 0..5 {
            numbered(&mut s, "m", Kept::Plain);
        }
        assert_eq!(s.seq, 5);
        assert_eq!(s.frames_after(3).iter().map(|f| f.as_str()).collect::<Vec<_>>(), ["m4", "m5"]);
        assert!(s.can_replay_from(2), "frames 3..=5 are all kept");
        assert!(!s.can_replay_from(1), "frame 2 fell out of the buffer");
        assert!(s.can_replay_from(5) && s.can_replay_from(9), "nothing to replay");
    }

    #[test]
    fn a_queue_position_replaces_the_one_before_it() {
        let mut s = Stream::default();
        numbered(&mut s, "assigned", Kept::Plain);
        for _ in 0..4 {
            numbered(&mut s, "queued", Kept::Position);
        }
        assert_eq!(s.frames_after(0).iter().map(|f| f.as_str()).collect::<Vec<_>>(), ["assigned1", "queued5"]);
        assert!(s.can_replay_from(0), "the superseded positions count as replayed");
    }

    #[test]
    fn a_retry_matches_id_and_command_and_memory_is_bounded() {
        let mut s = Stream::default();
        s.remember("a", 1, 2);
        assert!(s.was_accepted("a", 1));
        assert!(!s.was_accepted("a", 2), "same id, another command");
        s.remember("b", 1, 2);
        s.remember("c", 1, 2);
        assert!(!s.was_accepted("a", 1), "the oldest id was forgotten");
        s.forget_accepted();
        assert!(!s.was_accepted("c", 1));
    }

    #[test]
    fn a_clone_keeps_what_the_stream_held_when_it_was_taken() {
        let mut s = Stream::default();
        numbered(&mut s, "m", Kept::Plain);
        s.remember("a", 1, 2);
        let copy = s.clone();
        numbered(&mut s, "m", Kept::Plain);
        s.remember("b", 1, 2);
        assert_eq!(copy.frames_after(0).iter().map(|f| f.as_str()).collect::<Vec<_>>(), ["m1"]);
        assert!(!copy.was_accepted("b", 1));
        assert_eq!(s.frames_after(0).len(), 2, "the original moved on");
    }

    #[test]
    fn typing_is_not_numbered() {
        let mut s = Stream::default();
        assert!(!s.number(None));
        assert_eq!(s.seq, 0);
    }
}
