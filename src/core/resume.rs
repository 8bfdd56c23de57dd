//! Server frame numbering. Every frame but `welcome` carries
//! `seq = previous + 1` for the whole login session; `welcome.seq` is the
//! server's last assigned number when the socket connected. From that:
//!
//! * `seq <= lastSeq` — a duplicate (already handled): drop it;
//! * `seq == lastSeq + 1` — the next frame: handle it;
//! * `seq > lastSeq + 1` — frames were lost: reconnect with `lastSeq` and let
//!   the server replay them.
//!
//! On reconnect the client sends `lastSeq`; `welcome{resumed: true}` means the
//! missed frames follow, `resumed: false` means they are gone, the numbering
//! restarts at `welcome.seq` and the room must be re-fetched.

/// What a `welcome` means for the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Welcome {
    /// The frames after our `lastSeq` follow: nothing was lost.
    Resumed,
    /// Frames may have been lost: re-sync the room with `get_pushers`.
    Fresh,
}

/// What to do with a numbered frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The next frame: handle it.
    Deliver,
    /// Already handled: drop it.
    Duplicate,
    /// Frames between were lost: reconnect and resume.
    Gap {
        /// The seq we needed.
        expected: u64,
    },
    /// A numbered frame before this socket's `welcome`: drop it.
    BeforeWelcome,
}

/// `lastSeq` of a login session, and whether the current socket said `welcome`.
#[derive(Debug, Clone, Default)]
pub(crate) struct SeqTracker {
    last: Option<u64>,
    welcomed: bool,
}

impl SeqTracker {
    /// The last handled seq, sent as `lastSeq` when reconnecting.
    pub(crate) fn last_seq(&self) -> Option<u64> {
        self.last
    }

    /// A new login session: nothing of it seen yet, so its first socket asks
    /// for every frame from seq 1 on (`lastSeq=0`). The session may have
    /// entered a room over HTTP before that socket's `welcome`; the frames
    /// numbered meanwhile (members, signaling) are replayed, not lost.
    pub(crate) fn from_session_start() -> Self {
        Self {
            last: Some(0),
            welcomed: false,
        }
    }

    /// A new socket is being opened.
    pub(crate) fn on_connect(&mut self) {
        self.welcomed = false;
    }

    /// The socket's `welcome`.
    pub(crate) fn on_welcome(&mut self, seq: u64, resumed: bool) -> Welcome {
        self.welcomed = true;
        match self.last {
            // A server that resumes must not have numbered fewer frames than we saw.
            Some(last) if resumed && seq >= last => Welcome::Resumed,
            _ => {
                self.last = Some(seq);
                Welcome::Fresh
            }
        }
    }

    /// Any other frame.
    pub(crate) fn on_frame(&mut self, seq: u64) -> Verdict {
        if !self.welcomed {
            return Verdict::BeforeWelcome;
        }
        let last = self.last.unwrap_or(0);
        if seq <= last {
            Verdict::Duplicate
        } else if seq == last + 1 {
            self.last = Some(seq);
            Verdict::Deliver
        } else {
            Verdict::Gap { expected: last + 1 }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_then_in_order_duplicates_and_gaps() {
        let mut t = SeqTracker::default();
        t.on_connect();
        assert_eq!(t.on_frame(1), Verdict::BeforeWelcome);
        assert_eq!(t.on_welcome(4, false), Welcome::Fresh);
        assert_eq!(t.last_seq(), Some(4));
        assert_eq!(t.on_frame(5), Verdict::Deliver);
        assert_eq!(t.on_frame(5), Verdict::Duplicate);
        assert_eq!(t.on_frame(3), Verdict::Duplicate);
        assert_eq!(t.on_frame(7), Verdict::Gap { expected: 6 });
        assert_eq!(t.last_seq(), Some(5));
    }

    #[test]
    fn resume_keeps_last_seq_and_replays_follow() {
        let mut t = SeqTracker::default();
        t.on_connect();
        t.on_welcome(0, false);
        assert_eq!(t.on_frame(1), Verdict::Deliver);
        t.on_connect();
        assert_eq!(t.on_welcome(3, true), Welcome::Resumed);
        assert_eq!(t.on_frame(1), Verdict::Duplicate);
        assert_eq!(t.on_frame(2), Verdict::Deliver);
        assert_eq!(t.on_frame(3), Verdict::Deliver);
    }

    #[test]
    fn a_new_session_replays_from_its_first_frame() {
        let mut t = SeqTracker::from_session_start();
        assert_eq!(t.last_seq(), Some(0));
        t.on_connect();
        assert_eq!(t.on_welcome(2, true), Welcome::Resumed);
        assert_eq!(t.on_frame(1), Verdict::Deliver);
        assert_eq!(t.on_frame(2), Verdict::Deliver);
        // The server could not replay (frames gone): numbering restarts there.
        let mut t = SeqTracker::from_session_start();
        t.on_connect();
        assert_eq!(t.on_welcome(300, false), Welcome::Fresh);
        assert_eq!(t.on_frame(301), Verdict::Deliver);
    }

    #[test]
    fn resume_with_fewer_frames_than_seen_is_treated_as_fresh() {
        let mut t = SeqTracker::default();
        t.on_connect();
        t.on_welcome(10, false);
        t.on_connect();
        assert_eq!(t.on_welcome(2, true), Welcome::Fresh);
        assert_eq!(t.on_frame(3), Verdict::Deliver);
    }
}
