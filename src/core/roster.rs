//! Room events from the socket (members joining and quitting, messages,
//! `room_closed`) and the re-sync that repairs the member list after frames
//! were lost.
//!
//! **Re-sync.** After `welcome{resumed:false}` (or a heartbeat saying we are
//! not a member) the client re-fetches `get_pushers` and diffs: members gone
//! are closed and reported as quit, new ones created and reported as joined.
//! Room events that arrive meanwhile are held and replayed on the fresh list,
//! where a join of a known member or a quit of an unknown one is a no-op.
//! Membership events held from *before* the request are dropped: the list
//! supersedes them. If the list no longer has us (the server dropped us while
//! our socket was away), we close every peer and enter again (`add_pusher`,
//! then `get_pushers`); members still there get fresh peers. Members kept
//! whose offer/answer exchange was not settled start over with `renegotiate`
//! (see [`signaling`](super::signaling)).

use super::client::Client;
use super::event::Event;
use super::peers::{is_offerer, Peer};
use super::room::{own_join_order, EnterStep, InRoom, Member, Phase, Sync, SyncStep};
use super::vecmap::VecMap;
use rtcroom_protocol::http::{Pusher, RoomSummary};
use rtcroom_protocol::ws::ServerEvent;
use rtcroom_protocol::{ApiError, ErrorCode, RoomId, UserId};

/// Room events held at most while entering or re-syncing; later ones are dropped.
const MAX_HELD: usize = 4096;

/// The room a server event is about (`None` for session frames).
fn event_room(ev: &ServerEvent) -> Option<&RoomId> {
    match ev {
        ServerEvent::PusherJoin { room_id, .. }
        | ServerEvent::PusherQuit { room_id, .. }
        | ServerEvent::RoomClosed { room_id, .. }
        | ServerEvent::RoomText { room_id, .. }
        | ServerEvent::RoomCustom { room_id, .. }
        | ServerEvent::Offer { room_id, .. }
        | ServerEvent::Answer { room_id, .. }
        | ServerEvent::Candidate { room_id, .. }
        | ServerEvent::Renegotiate { room_id, .. }
        | ServerEvent::MeshRelease { room_id, .. } => Some(room_id),
        ServerEvent::Welcome { .. }
        | ServerEvent::Pong
        | ServerEvent::Ack { .. }
        | ServerEvent::Error { .. }
        | ServerEvent::ResumeGap { .. } => None,
    }
}

fn is_membership(ev: &ServerEvent) -> bool {
    matches!(
        ev,
        ServerEvent::PusherJoin { .. } | ServerEvent::PusherQuit { .. }
    )
}

fn hold(held: &mut Vec<ServerEvent>, ev: ServerEvent) -> bool {
    if held.len() >= MAX_HELD {
        return false;
    }
    held.push(ev);
    true
}

impl Client {
    /// A room event: handled now, held (entering, re-syncing), or ignored
    /// (a room we are not in).
    pub(super) fn on_room_event(&mut self, ev: ServerEvent) {
        let Some(room_id) = event_room(&ev).cloned() else {
            return;
        };
        let closed = matches!(ev, ServerEvent::RoomClosed { .. });
        let held = match &mut self.room.phase {
            // Still leaving the same room's previous membership: nothing to keep.
            Phase::Entering(e) if e.room_id == room_id && e.step == EnterStep::AwaitLeave => {
                return self.debug(format_args!("{room_id} event before re-entry: ignored"));
            }
            Phase::Entering(e) if e.room_id == room_id => {
                if closed {
                    if let Phase::Entering(e) = std::mem::take(&mut self.room.phase) {
                        self.room.heartbeat = None;
                        let err = ApiError::with_message(
                            ErrorCode::RoomNotFound,
                            "room closed while entering",
                        );
                        self.finish(e.call, Err(err));
                    }
                    return;
                }
                hold(&mut e.held, ev)
            }
            Phase::InRoom(r) if r.room_id == room_id => {
                if closed {
                    return self.lose_room(None);
                }
                match &mut r.sync {
                    Some(s) => hold(&mut s.held, ev),
                    None => return self.apply_room_event(ev),
                }
            }
            _ => {
                return self.debug(format_args!("{room_id} event: not in room, ignored"));
            }
        };
        if !held {
            self.debug(format_args!("held events full: one dropped"));
        }
    }

    /// A room event for the room we are in, with an up-to-date member list.
    fn apply_room_event(&mut self, ev: ServerEvent) {
        let Some(me) = self.me().cloned() else {
            return;
        };
        let Phase::InRoom(r) = &mut self.room.phase else {
            return;
        };
        let room_id = r.room_id.clone();
        match ev {
            ServerEvent::PusherJoin { pusher, offer, .. } => {
                if pusher.user_id == me {
                    return;
                }
                if let Some(m) = r.members.get_mut(&pusher.user_id) {
                    m.pusher = pusher;
                    return;
                }
                let user = pusher.user_id.clone();
                let member = Member {
                    peer: Peer::new(is_offerer(&me, r.join_order, &pusher)),
                    pusher: pusher.clone(),
                };
                r.members.insert(user.clone(), member);
                // The peer first: its offer (or its answer to the offer this
                // frame carries) starts before the app's listener runs.
                self.create_peer(&user);
                if let Some(sdp) = offer {
                    self.on_join_offer(user, sdp);
                }
                self.emit(Event::PusherJoin(pusher));
            }
            ServerEvent::PusherQuit { pusher, reason, .. } => {
                if pusher.user_id == me {
                    self.debug(format_args!("server: we left {room_id} ({reason:?})"));
                    return self.room_resync();
                }
                match r.members.remove(&pusher.user_id) {
                    Some(m) => {
                        self.close_peer(&room_id, &pusher.user_id);
                        self.emit(Event::PusherQuit(m.pusher));
                    }
                    None => self.debug(format_args!("unknown member {} quit", pusher.user_id)),
                }
            }
            ServerEvent::RoomText {
                room_id,
                user_id,
                head,
                text,
                time,
            } => self.emit(Event::RecvRoomTextMsg {
                room_id,
                user_id,
                user_name: head.data.nick_name,
                user_avatar: head.data.head_pic,
                text,
                time,
            }),
            ServerEvent::RoomCustom {
                room_id,
                user_id,
                head,
                time,
            } => self.emit(Event::RecvRoomCustomMsg {
                room_id,
                user_id,
                user_name: head.data.user_name,
                user_avatar: head.data.user_avatar,
                cmd: head.data.cmd,
                msg: head.data.msg,
                time,
            }),
            ServerEvent::Offer { from, sdp, .. } => self.on_remote_offer(from, sdp),
            ServerEvent::Answer { from, sdp, .. } => self.on_remote_answer(from, sdp),
            ServerEvent::Candidate {
                from, candidate, ..
            } => self.on_remote_ice(from, candidate),
            ServerEvent::Renegotiate { from, .. } => self.on_remote_renegotiate(from),
            ServerEvent::MeshRelease { from, .. } => self.on_mesh_release(from),
            ServerEvent::RoomClosed { .. }
            | ServerEvent::Welcome { .. }
            | ServerEvent::Pong
            | ServerEvent::Ack { .. }
            | ServerEvent::Error { .. }
            | ServerEvent::ResumeGap { .. } => {}
        }
    }

    /// Frames may have been lost: re-fetch the member list of the room we are
    /// in or entering.
    pub(super) fn room_resync(&mut self) {
        let (room_id, rejoining) = match &mut self.room.phase {
            Phase::Entering(e) => {
                e.held.retain(|ev| !is_membership(ev));
                if !matches!(e.step, EnterStep::GetPushers(_)) {
                    // Its get_pushers is still to come.
                    return;
                }
                (e.room_id.clone(), false)
            }
            Phase::InRoom(r) => {
                if let Some(s) = &mut r.sync {
                    s.held.retain(|ev| !is_membership(ev));
                }
                let rejoining =
                    matches!(&r.sync, Some(s) if matches!(s.step, SyncStep::AddPusher(_)));
                (r.room_id.clone(), rejoining)
            }
            Phase::Idle | Phase::Creating { .. } => return,
        };
        if rejoining {
            // The re-join's own get_pushers follows its add_pusher.
            return;
        }
        self.debug(format_args!("resync {room_id}"));
        let req = self.send_room_pushers(&room_id);
        match &mut self.room.phase {
            Phase::Entering(e) => e.step = EnterStep::GetPushers(req),
            Phase::InRoom(r) => match &mut r.sync {
                Some(s) => s.step = SyncStep::GetPushers(req),
                None => {
                    r.sync = Some(Sync {
                        step: SyncStep::GetPushers(req),
                        held: Vec::new(),
                        rejoin_prev: None,
                    });
                }
            },
            Phase::Idle | Phase::Creating { .. } => {}
        }
    }

    /// The re-sync's fresh member list.
    pub(super) fn apply_snapshot(&mut self, summary: RoomSummary) {
        let Some(me) = self.me().cloned() else {
            return;
        };
        let listed = summary.pushers.iter().any(|p| p.user_id == me);
        let join_order = own_join_order(&summary.pushers, &me);
        let list = self.others(summary.pushers);
        let Phase::InRoom(r) = &mut self.room.phase else {
            return;
        };
        let Some(sync) = r.sync.take() else {
            return;
        };
        let room_id = r.room_id.clone();
        if !listed && sync.rejoin_prev.is_none() {
            let prev: VecMap<UserId, Pusher> = std::mem::take(&mut r.members)
                .into_iter()
                .map(|(u, m)| (u, m.pusher))
                .collect();
            return self.rejoin(room_id, prev, sync.held);
        }
        let gone: Vec<Pusher> = match &sync.rejoin_prev {
            Some(prev) => prev
                .values()
                .filter(|p| !list.iter().any(|l| l.user_id == p.user_id))
                .cloned()
                .collect(),
            None => r
                .members
                .values()
                .filter(|m| !list.iter().any(|l| l.user_id == m.pusher.user_id))
                .map(|m| m.pusher.clone())
                .collect(),
        };
        if listed {
            r.join_order = join_order;
        }
        let mut created = Vec::new();
        let mut kept = Vec::new();
        for p in &list {
            if let Some(m) = r.members.get_mut(&p.user_id) {
                m.pusher = p.clone();
                kept.push(p.user_id.clone());
                continue;
            }
            let member = Member {
                pusher: p.clone(),
                peer: Peer::new(is_offerer(&me, r.join_order, p)),
            };
            r.members.insert(p.user_id.clone(), member);
            let known = sync
                .rejoin_prev
                .as_ref()
                .is_some_and(|prev| prev.contains_key(&p.user_id));
            created.push((p.clone(), known));
        }
        for p in gone {
            if let Phase::InRoom(r) = &mut self.room.phase {
                r.members.remove(&p.user_id);
            }
            // After a re-join the peers are closed already.
            if sync.rejoin_prev.is_none() {
                self.close_peer(&room_id, &p.user_id);
            }
            self.emit(Event::PusherQuit(p));
        }
        for (p, known) in created {
            let user = p.user_id.clone();
            if !known {
                self.emit(Event::PusherJoin(p));
            }
            self.create_peer(&user);
        }
        // Frames to or from the members we kept may be lost: start over with
        // those still negotiating (before the held events, which then reach
        // the fresh peers).
        self.renegotiate_unsettled(kept);
        for ev in sync.held {
            self.on_room_event(ev);
        }
    }

    /// The server no longer lists us: close every peer and enter again.
    fn rejoin(
        &mut self,
        room_id: RoomId,
        prev: VecMap<UserId, Pusher>,
        mut held: Vec<ServerEvent>,
    ) {
        self.debug(format_args!("not in {room_id}: re-joining"));
        // The re-join's list supersedes the membership events so far.
        held.retain(|ev| !is_membership(ev));
        for user in prev.keys() {
            self.close_peer(&room_id, user);
        }
        // The server dropped our SFU handles with our membership: the entry's
        // `room_mode` opens fresh links.
        if self.in_sfu_mode() {
            self.close_sfu_links();
            if let Phase::InRoom(r) = &mut self.room.phase {
                r.sfu = None;
            }
        }
        let req = self.send_add_pusher(&room_id, None, None);
        if let Phase::InRoom(InRoom { sync, .. }) = &mut self.room.phase {
            *sync = Some(Sync {
                step: SyncStep::AddPusher(req),
                held,
                rejoin_prev: Some(prev),
            });
        }
    }
}
