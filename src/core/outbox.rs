//! Client frames on their way: each gets a `reqID`, waits in order while the
//! socket is down, is sent once, and stays here until the server's `ack` or
//! `error` for it, or its deadline.

use super::ids::{CallId, ConnId};
use super::vecmap::VecMap;
use rtcroom_protocol::sfu::SfuClientFrame;
use rtcroom_protocol::ws::ClientFrame;

/// A frame for the server: of the room protocol or of an SFU room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OutFrame {
    /// A [`ClientFrame`].
    Room(ClientFrame),
    /// An [`SfuClientFrame`].
    Sfu(SfuClientFrame),
}

impl OutFrame {
    /// The room-protocol frame, if it is one.
    pub(crate) fn room(&self) -> Option<&ClientFrame> {
        match self {
            OutFrame::Room(f) => Some(f),
            OutFrame::Sfu(_) => None,
        }
    }
}

impl From<ClientFrame> for OutFrame {
    fn from(f: ClientFrame) -> Self {
        OutFrame::Room(f)
    }
}

impl From<SfuClientFrame> for OutFrame {
    fn from(f: SfuClientFrame) -> Self {
        OutFrame::Sfu(f)
    }
}

/// One frame in the outbox.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// The frame.
    pub(crate) frame: OutFrame,
    /// The call to complete when it is answered, if any.
    pub(crate) call: Option<CallId>,
    /// When to give up waiting for its answer.
    pub(crate) deadline: u64,
    /// The socket it went out on; `None` while queued.
    pub(crate) sent_on: Option<ConnId>,
}

/// Frames queued or awaiting an answer, keyed (and so ordered) by `reqID`.
#[derive(Debug, Default)]
pub(crate) struct Outbox {
    next_req: u32,
    entries: VecMap<u32, Entry>,
}

impl Outbox {
    /// Queues `frame`; returns its `reqID`.
    pub(crate) fn push(&mut self, frame: OutFrame, call: Option<CallId>, deadline: u64) -> u32 {
        self.next_req = self.next_req.wrapping_add(1).max(1);
        let req = self.next_req;
        self.entries.insert(
            req,
            Entry {
                frame,
                call,
                deadline,
                sent_on: None,
            },
        );
        req
    }

    /// The queued frames with their `reqID`s, oldest first, now marked as sent on `conn`.
    pub(crate) fn take_unsent(&mut self, conn: ConnId) -> Vec<(u32, OutFrame)> {
        let mut out = Vec::new();
        for (req, e) in self.entries.iter_mut().filter(|(_, e)| e.sent_on.is_none()) {
            e.sent_on = Some(conn);
            out.push((*req, e.frame.clone()));
        }
        out
    }

    /// The server answered `req` (`ack` or `error`).
    pub(crate) fn resolve(&mut self, req: u32) -> Option<Entry> {
        self.entries.remove(&req)
    }

    /// The sent frames whose answers are gone for good (the connection
    /// dropped and the server could not resume it).
    pub(crate) fn take_sent(&mut self) -> Vec<Entry> {
        self.take_where(|e| e.sent_on.is_some())
    }

    /// Entries past their deadline.
    pub(crate) fn expire(&mut self, now: u64) -> Vec<Entry> {
        self.take_where(|e| e.deadline <= now)
    }

    /// Queued (not yet sent) frames matching `pred`.
    pub(crate) fn purge_unsent(&mut self, pred: impl Fn(&OutFrame) -> bool) -> Vec<Entry> {
        self.take_where(|e| e.sent_on.is_none() && pred(&e.frame))
    }

    /// Everything (the session ended).
    pub(crate) fn clear(&mut self) -> Vec<Entry> {
        std::mem::take(&mut self.entries).into_values().collect()
    }

    /// The earliest deadline.
    pub(crate) fn next_deadline(&self) -> Option<u64> {
        self.entries.values().map(|e| e.deadline).min()
    }

    fn take_where(&mut self, pred: impl Fn(&Entry) -> bool) -> Vec<Entry> {
        let keys: Vec<u32> = self
            .entries
            .iter()
            .filter(|(_, e)| pred(e))
            .map(|(k, _)| *k)
            .collect();
        keys.iter().filter_map(|k| self.entries.remove(k)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queued_frames_go_out_once_in_order() {
        let mut o = Outbox::default();
        let a = o.push(ClientFrame::Ping.into(), Some(CallId(1)), 100);
        let b = o.push(ClientFrame::Ping.into(), None, 100);
        let sent = o.take_unsent(ConnId(1));
        let ids: Vec<_> = sent.iter().map(|(req, _)| *req).collect();
        assert_eq!(ids, [a, b]);
        assert!(o.take_unsent(ConnId(2)).is_empty());
        assert_eq!(o.resolve(a).and_then(|e| e.call), Some(CallId(1)));
        assert!(o.resolve(a).is_none());
    }

    #[test]
    fn expiry_purge_and_lost_frames() {
        let mut o = Outbox::default();
        o.push(ClientFrame::Ping.into(), Some(CallId(1)), 50);
        o.take_unsent(ConnId(1));
        o.push(ClientFrame::Ping.into(), Some(CallId(2)), 80);
        assert_eq!(o.next_deadline(), Some(50));
        assert!(o.expire(49).is_empty());
        assert_eq!(o.take_sent().len(), 1);
        assert_eq!(o.purge_unsent(|_| true).len(), 1);
        assert_eq!(o.next_deadline(), None);
    }
}
