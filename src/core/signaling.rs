//! WebRTC signaling between our peer connections and the other members'
//! through the socket relay: remote offers, answers and candidates in, local
//! ones out. Who offers is fixed when a member's peer is first made
//! ([`is_offerer`](super::peers::is_offerer)) and kept when it starts over;
//! anything for a member we have no peer for (never joined, or closed — e.g. a
//! late answer after `exitRoom`) is ignored.
//!
//! **Renegotiation.** After a reconnect the server could not resume
//! (`welcome{resumed:false}`), an offer or answer to or from a member may be
//! lost, leaving one side waiting forever. The re-sync therefore re-creates
//! the peer of every member it keeps whose exchange is not
//! [settled](super::peers::Peer::is_settled) and sends that member
//! `renegotiate`; a member receiving it re-creates its own peer (unless it is
//! still [pristine](super::peers::Peer::is_pristine)). Both re-created peers
//! keep the offerer rule: the smaller `userID` offers anew, the other waits
//! for that offer, so no glare. A `renegotiate` is only ever sent by the
//! re-sync, never in answer to one, so two members cannot bounce it forever.

use super::client::Client;
use super::input::SdpKind;
use super::output::PeerAction;
use super::peers::Peer;
use super::room::{frame_room, frame_to, Phase};
use rtcroom_protocol::ws::{ClientFrame, IceCandidate};
use rtcroom_protocol::UserId;

impl Client {
    pub(super) fn on_remote_offer(&mut self, from: UserId, sdp: String) {
        self.negotiate(from, "offer", |p, from| p.remote_offer(from, sdp));
    }

    /// The first offer of `from`, inside its `pusher_join`.
    pub(super) fn on_join_offer(&mut self, from: UserId, sdp: String) {
        self.negotiate(from, "the offer in its join", |p, from| {
            p.join_offer(from, sdp)
        });
    }

    pub(super) fn on_remote_answer(&mut self, from: UserId, sdp: String) {
        self.negotiate(from, "answer", |p, from| p.remote_answer(from, sdp));
    }

    /// Applies a remote description (`what`) of `from` to its peer.
    fn negotiate(
        &mut self,
        from: UserId,
        what: &str,
        apply: impl FnOnce(&mut Peer, &UserId) -> Result<Vec<PeerAction>, &'static str>,
    ) {
        let Phase::InRoom(r) = &mut self.room.phase else {
            return;
        };
        let Some(m) = r.members.get_mut(&from) else {
            return self.debug(format_args!("{what} from {from}: no peer"));
        };
        match apply(&mut m.peer, &from) {
            Ok(actions) => actions.into_iter().for_each(|a| self.peer(a)),
            Err(why) => self.debug(format_args!("{what} from {from} ignored: {why}")),
        }
    }

    pub(super) fn on_remote_ice(&mut self, from: UserId, candidate: IceCandidate) {
        let Phase::InRoom(r) = &mut self.room.phase else {
            return;
        };
        let Some(m) = r.members.get_mut(&from) else {
            return self.debug(format_args!("candidate from {from}: no peer"));
        };
        match m.peer.remote_ice(&from, candidate) {
            Ok(Some(action)) => self.peer(action),
            Ok(None) => {}
            Err(why) => self.debug(format_args!("candidate from {from} dropped: {why}")),
        }
    }

    pub(super) fn on_local_sdp(&mut self, user: UserId, kind: SdpKind, sdp: String) {
        let Phase::InRoom(r) = &mut self.room.phase else {
            return self.debug(format_args!(
                "local {kind:?} for {user}: not in room, ignored"
            ));
        };
        let Some(m) = r.members.get_mut(&user) else {
            return self.debug(format_args!("local {kind:?} for {user}: no peer"));
        };
        if let Err(why) = m.peer.local_sdp(kind) {
            return self.debug(format_args!("local {kind:?} for {user} not sent: {why}"));
        }
        let room_id = r.room_id.clone();
        let frame = match kind {
            SdpKind::Offer => ClientFrame::Offer {
                room_id,
                to: user,
                sdp,
            },
            SdpKind::Answer => ClientFrame::Answer {
                room_id,
                to: user,
                sdp,
            },
        };
        self.send_frame(frame, None);
    }

    /// The re-sync kept `users`: start over with each whose exchange is not
    /// settled, and ask it to do the same.
    pub(super) fn renegotiate_unsettled(&mut self, users: Vec<UserId>) {
        for user in users {
            let Phase::InRoom(r) = &self.room.phase else {
                return;
            };
            let room_id = r.room_id.clone();
            match r.members.get(&user) {
                Some(m) if !m.peer.is_settled() => {}
                _ => continue,
            }
            self.debug(format_args!("{user}: frame maybe lost, starting over"));
            self.restart_peer(&user);
            let frame = ClientFrame::Renegotiate { room_id, to: user };
            self.send_frame(frame, None);
        }
    }

    /// `from` lost signaling state and re-created its peer to us: re-create
    /// ours. Never answered with a `renegotiate` of our own.
    pub(super) fn on_remote_renegotiate(&mut self, from: UserId) {
        let Phase::InRoom(r) = &self.room.phase else {
            return;
        };
        let Some(m) = r.members.get(&from) else {
            return self.debug(format_args!("renegotiate from {from}: no peer"));
        };
        if m.peer.is_pristine() {
            return self.debug(format_args!(
                "renegotiate from {from}: nothing negotiated yet"
            ));
        }
        self.debug(format_args!("{from} starts over: new peer"));
        self.restart_peer(&from);
    }

    /// Replaces the peer to `user` (a member) with a fresh one: the old one's
    /// offers, answers and candidates still queued are dropped (a queued
    /// `renegotiate` or `mesh_release` stays), and `Create` replaces the connection (the
    /// offerer offers anew, the answerer waits).
    pub(super) fn restart_peer(&mut self, user: &UserId) {
        let Phase::InRoom(r) = &mut self.room.phase else {
            return;
        };
        let Some(m) = r.members.get_mut(user) else {
            return;
        };
        m.peer = Peer::new(m.peer.is_offerer());
        self.recovery.forget(user);
        let room_id = r.room_id.clone();
        self.outbox.purge_unsent(|f| {
            !matches!(
                f.room(),
                Some(ClientFrame::Renegotiate { .. } | ClientFrame::MeshRelease { .. })
            ) && frame_room(f) == Some(&room_id)
                && frame_to(f) == Some(user)
        });
        self.create_peer(user);
    }

    pub(super) fn on_local_ice(&mut self, user: UserId, candidate: IceCandidate) {
        let Phase::InRoom(r) = &self.room.phase else {
            return;
        };
        if !r.members.contains_key(&user) {
            return self.debug(format_args!("local candidate for {user}: no peer"));
        }
        let frame = ClientFrame::Candidate {
            room_id: r.room_id.clone(),
            to: user,
            candidate,
        };
        self.send_frame(frame, None);
    }
}
