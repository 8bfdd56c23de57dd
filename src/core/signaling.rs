//! WebRTC signaling between our peer connections and the other members'
//! through the socket relay: remote offers, answers and candidates in, local
//! ones out. Who offers is fixed by [`is_offerer`](super::peers::is_offerer);
//! anything for a member we have no peer for (never joined, or closed — e.g. a
//! late answer after `exitRoom`) is ignored.

use super::client::Client;
use super::input::SdpKind;
use super::room::Phase;
use rtcroom_protocol::ws::{ClientFrame, IceCandidate};
use rtcroom_protocol::UserId;

impl Client {
    pub(super) fn on_remote_offer(&mut self, from: UserId, sdp: String) {
        self.on_remote_sdp(from, SdpKind::Offer, sdp);
    }

    pub(super) fn on_remote_answer(&mut self, from: UserId, sdp: String) {
        self.on_remote_sdp(from, SdpKind::Answer, sdp);
    }

    fn on_remote_sdp(&mut self, from: UserId, kind: SdpKind, sdp: String) {
        let Phase::InRoom(r) = &mut self.room.phase else {
            return;
        };
        let Some(m) = r.members.get_mut(&from) else {
            return self.debug(|| format!("{kind:?} from {from}, who has no peer, ignored"));
        };
        let result = match kind {
            SdpKind::Offer => m.peer.remote_offer(&from, sdp),
            SdpKind::Answer => m.peer.remote_answer(&from, sdp),
        };
        match result {
            Ok(actions) => actions.into_iter().for_each(|a| self.peer(a)),
            Err(why) => self.debug(|| format!("{kind:?} from {from} ignored: {why}")),
        }
    }

    pub(super) fn on_remote_ice(&mut self, from: UserId, candidate: IceCandidate) {
        let Phase::InRoom(r) = &mut self.room.phase else {
            return;
        };
        let Some(m) = r.members.get_mut(&from) else {
            return self.debug(|| format!("candidate from {from}, who has no peer, ignored"));
        };
        match m.peer.remote_ice(&from, candidate) {
            Ok(Some(action)) => self.peer(action),
            Ok(None) => {}
            Err(why) => self.debug(|| format!("candidate from {from} dropped: {why}")),
        }
    }

    pub(super) fn on_local_sdp(&mut self, user: UserId, kind: SdpKind, sdp: String) {
        let Phase::InRoom(r) = &mut self.room.phase else {
            return self.debug(|| format!("local {kind:?} for {user} outside a room ignored"));
        };
        let Some(m) = r.members.get_mut(&user) else {
            return self.debug(|| format!("local {kind:?} for {user}, who has no peer, ignored"));
        };
        if let Err(why) = m.peer.local_sdp(kind) {
            return self.debug(|| format!("local {kind:?} for {user} not sent: {why}"));
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

    pub(super) fn on_local_ice(&mut self, user: UserId, candidate: IceCandidate) {
        let Phase::InRoom(r) = &self.room.phase else {
            return;
        };
        if !r.members.contains_key(&user) {
            return self.debug(|| format!("local candidate for {user}, who has no peer, ignored"));
        }
        let frame = ClientFrame::Candidate {
            room_id: r.room_id.clone(),
            to: user,
            candidate,
        };
        self.send_frame(frame, None);
    }
}
