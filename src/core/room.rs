//! Room membership: `createRoom` (create_room, then enter), `enterRoom`
//! (add_pusher, then get_pushers → [`Event::GetPusherList`]), `exitRoom`, the
//! heartbeat's start and stop, and leaving for any other reason.
//!
//! Entering asks `add_pusher` and takes the member list from its answer (our
//! server's `pushers`, the roster of the same store step as the join), so
//! signaling starts one round trip after the call; against a server whose
//! answer has no list (the original) it asks `get_pushers` second. Either way
//! anyone who joins after our `add_pusher` reaches us as `pusher_join`, so
//! nobody is missed. Room events that arrive before the list are held and
//! replayed after it (a `pusher_join` of someone already listed is dropped).

use super::client::Client;
use super::event::Event;
use super::heartbeat::Heartbeat;
use super::ids::{CallId, RequestId};
use super::outbox::OutFrame;
use super::output::{CallOk, PeerAction};
use super::peers::{is_offerer, Peer};
use super::requests::Req;
use super::sfu::SfuLinks;
use super::vecmap::VecMap;
use rtcroom_protocol::command as cmd;
use rtcroom_protocol::http::{
    AddPusherRequest, CreateRoomRequest, GetPushersRequest, IceServer, Pusher, RoomSummary,
    RoomUserRequest,
};
use rtcroom_protocol::ws::{ClientFrame, ServerEvent};
use rtcroom_protocol::ClientError;
use rtcroom_protocol::{ApiError, ErrorCode, RoomId, UserId};

/// The room side of the client.
#[derive(Debug, Default)]
pub(crate) struct Room {
    pub(crate) phase: Phase,
    pub(crate) heartbeat: Option<Heartbeat>,
    /// The PrivateMapKey given for the room being created or entered, sent
    /// with every `create_room` / `add_pusher` for that room.
    pub(crate) privilege: Option<(RoomId, String)>,
    /// The glue's spare offer, not yet used: the next entry's `add_pusher`
    /// carries it (our server relays it to the member we offer to first).
    pub(crate) spare_offer: Option<String>,
    /// A spare was asked for and its offer has not come yet.
    pub(crate) spare_pending: bool,
    /// The ICE servers of the glue's spare (the last hint's, or the fresh
    /// ones it took from a `welcome`); `None`: the glue holds no spare.
    pub(crate) spare_servers: Option<Vec<IceServer>>,
}

/// Where we are with respect to a room.
#[derive(Debug, Default)]
pub(crate) enum Phase {
    /// In no room.
    #[default]
    Idle,
    /// `create_room` is on its way (then we enter).
    Creating {
        call: CallId,
        room_info: String,
        req: RequestId,
    },
    /// Entering a room.
    Entering(Entering),
    /// In a room.
    InRoom(InRoom),
}

/// An `enterRoom` (or the second half of `createRoom`) under way.
#[derive(Debug)]
pub(crate) struct Entering {
    pub(crate) call: CallId,
    pub(crate) room_id: RoomId,
    /// Answer `RoomCreated` rather than `Entered`.
    pub(crate) created: bool,
    pub(crate) room_info: Option<String>,
    pub(crate) step: EnterStep,
    /// Room events held until the member list arrives.
    pub(crate) held: Vec<ServerEvent>,
    /// `room_mode sfu` came while entering: start in SFU mode.
    pub(crate) sfu: bool,
    /// The member our `add_pusher`'s offer went to (`offeredTo`).
    pub(crate) offered_to: Option<UserId>,
}

/// The steps of entering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EnterStep {
    /// Our `delete_pusher` for the same room is still on its way; `add_pusher` must not overtake it.
    AwaitLeave,
    /// The glue is making its spare offer: `add_pusher` waits for it (to
    /// carry it) until this time at the latest.
    AwaitSpare(u64),
    /// `add_pusher` is on its way.
    AddPusher(RequestId),
    /// `get_pushers` is on its way (we are a member).
    GetPushers(RequestId),
}

/// Being in a room.
#[derive(Debug)]
pub(crate) struct InRoom {
    pub(crate) room_id: RoomId,
    /// Our own place in the join order (from the member list), if the server
    /// gave one: with the others' it fixes who offers ([`is_offerer`]).
    pub(crate) join_order: Option<u64>,
    /// The other members; each has exactly one peer connection.
    pub(crate) members: VecMap<UserId, Member>,
    /// A re-sync under way (events are held meanwhile).
    pub(crate) sync: Option<Sync>,
    /// In SFU mode: our two connections to the media server (see [`sfu`](super::sfu)).
    pub(crate) sfu: Option<SfuLinks>,
}

/// Another member and our peer connection to it.
#[derive(Debug)]
pub(crate) struct Member {
    pub(crate) pusher: Pusher,
    pub(crate) peer: Peer,
}

/// Re-fetching the member list after frames were lost (see `roster`).
#[derive(Debug)]
pub(crate) struct Sync {
    pub(crate) step: SyncStep,
    pub(crate) held: Vec<ServerEvent>,
    /// Set while re-joining: the members before, whose peers are already closed.
    pub(crate) rejoin_prev: Option<VecMap<UserId, Pusher>>,
}

/// The steps of a re-sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SyncStep {
    /// Re-joining: `add_pusher` is on its way.
    AddPusher(RequestId),
    /// `get_pushers` is on its way.
    GetPushers(RequestId),
    /// `get_pushers` failed; ask again at this time.
    RetryAt(u64),
}

impl Room {
    /// The glue no longer holds a spare (dropped at logout, or become the
    /// SFU publisher): nothing of it rides on a later `add_pusher`.
    pub(crate) fn forget_spare(&mut self) {
        self.spare_offer = None;
        self.spare_pending = false;
        self.spare_servers = None;
    }

    pub(crate) fn deadline(&self) -> Option<u64> {
        let retry = match &self.phase {
            Phase::InRoom(InRoom {
                sync:
                    Some(Sync {
                        step: SyncStep::RetryAt(t),
                        ..
                    }),
                ..
            }) => Some(*t),
            Phase::Entering(Entering {
                step: EnterStep::AwaitSpare(t),
                ..
            }) => Some(*t),
            _ => None,
        };
        [self.heartbeat.as_ref().map(|h| h.next_at), retry]
            .into_iter()
            .flatten()
            .min()
    }

    /// The room we are in or entering.
    pub(crate) fn current(&self) -> Option<&RoomId> {
        match &self.phase {
            Phase::Entering(e) => Some(&e.room_id),
            Phase::InRoom(r) => Some(&r.room_id),
            Phase::Idle | Phase::Creating { .. } => None,
        }
    }
}

/// The room a client frame is about.
pub(crate) fn frame_room(f: &OutFrame) -> Option<&RoomId> {
    let f = match f {
        OutFrame::Room(f) => f,
        OutFrame::Sfu(f) => return Some(f.room_id()),
    };
    match f {
        ClientFrame::Ping => None,
        ClientFrame::RoomText { room_id, .. }
        | ClientFrame::RoomCustom { room_id, .. }
        | ClientFrame::Offer { room_id, .. }
        | ClientFrame::Answer { room_id, .. }
        | ClientFrame::Candidate { room_id, .. }
        | ClientFrame::Renegotiate { room_id, .. }
        | ClientFrame::MeshRelease { room_id, .. } => Some(room_id),
    }
}

/// The member a client frame is addressed to.
pub(crate) fn frame_to(f: &OutFrame) -> Option<&UserId> {
    match f.room()? {
        ClientFrame::Offer { to, .. }
        | ClientFrame::Answer { to, .. }
        | ClientFrame::Candidate { to, .. }
        | ClientFrame::Renegotiate { to, .. }
        | ClientFrame::MeshRelease { to, .. } => Some(to),
        _ => None,
    }
}

/// Whether a failed command means the room or our membership is gone.
pub(crate) fn room_or_member_gone(e: &ApiError) -> bool {
    e.is(ErrorCode::RoomNotFound) || e.is(ErrorCode::NotMember)
}

impl Client {
    pub(super) fn create_room(
        &mut self,
        call: CallId,
        room_id: Option<RoomId>,
        room_info: String,
        private_map_key: Option<String>,
    ) {
        if !matches!(self.room.phase, Phase::Idle) {
            return self.finish(call, Err(ClientError::AlreadyInRoom.api()));
        }
        // A key names its room; one for an id the server assigns cannot exist.
        self.room.privilege = room_id.clone().zip(private_map_key.clone());
        let body = CreateRoomRequest {
            user_id: self.me().cloned(),
            room_info: room_info.clone(),
            room_id,
            private_map_key,
        };
        let req = self.command::<cmd::CreateRoom>(Req::CreateRoom, body);
        self.room.phase = Phase::Creating {
            call,
            room_info,
            req,
        };
    }

    pub(super) fn on_create_reply(&mut self, id: RequestId, result: Result<RoomId, ApiError>) {
        if !matches!(&self.room.phase, Phase::Creating { req, .. } if *req == id) {
            // Exited meanwhile; an unentered room is reclaimed by the server.
            return self.debug(format_args!("create_room reply after exit: ignored"));
        }
        let Phase::Creating {
            call, room_info, ..
        } = std::mem::take(&mut self.room.phase)
        else {
            return;
        };
        match result {
            Ok(room_id) => self.begin_enter(call, room_id, Some(room_info), true),
            Err(e) => self.finish(call, Err(e)),
        }
    }

    pub(super) fn enter_room(
        &mut self,
        call: CallId,
        room_id: RoomId,
        private_map_key: Option<String>,
    ) {
        if !matches!(self.room.phase, Phase::Idle) {
            return self.finish(call, Err(ClientError::AlreadyInRoom.api()));
        }
        self.room.privilege = private_map_key.map(|k| (room_id.clone(), k));
        self.begin_enter(call, room_id, None, false);
    }

    fn begin_enter(
        &mut self,
        call: CallId,
        room_id: RoomId,
        room_info: Option<String>,
        created: bool,
    ) {
        let wait = self.cfg.spare_offer_wait_ms;
        let step = if self.delete_in_flight(&room_id) {
            EnterStep::AwaitLeave
        } else if self.room.spare_pending && self.room.spare_offer.is_none() && wait > 0 {
            EnterStep::AwaitSpare(self.now.saturating_add(wait))
        } else {
            let offer = self.room.spare_offer.take();
            EnterStep::AddPusher(self.send_add_pusher(&room_id, room_info.clone(), offer))
        };
        // A spare offer made while add_pusher is on its way (the request
        // first, so it leaves before the glue's work): we offer to the
        // members of its roster (the later joiner offers).
        self.prepare_peer();
        self.room.phase = Phase::Entering(Entering {
            call,
            room_id,
            created,
            room_info,
            step,
            held: Vec::new(),
            sfu: false,
            offered_to: None,
        });
    }

    pub(super) fn on_add_pusher_reply(
        &mut self,
        id: RequestId,
        room_id: RoomId,
        result: Result<(Option<Vec<Pusher>>, Option<UserId>), ApiError>,
    ) {
        let entering = matches!(&self.room.phase,
            Phase::Entering(e) if e.step == EnterStep::AddPusher(id));
        let result = result.map(|(pushers, offered_to)| {
            if let (Phase::Entering(e), true) = (&mut self.room.phase, entering) {
                e.offered_to = offered_to;
            }
            pushers
        });
        let rejoining = matches!(&self.room.phase,
            Phase::InRoom(InRoom { sync: Some(s), .. }) if s.step == SyncStep::AddPusher(id));
        if entering {
            match result {
                Ok(Some(pushers)) => {
                    self.start_heartbeat(&room_id);
                    if let Phase::Entering(e) = std::mem::take(&mut self.room.phase) {
                        self.finish_enter(e, pushers);
                    }
                }
                Ok(None) => {
                    self.start_heartbeat(&room_id);
                    let req = self.send_room_pushers(&room_id);
                    if let Phase::Entering(e) = &mut self.room.phase {
                        e.step = EnterStep::GetPushers(req);
                    }
                }
                Err(err) => {
                    if let Phase::Entering(e) = std::mem::take(&mut self.room.phase) {
                        self.finish(e.call, Err(err));
                    }
                }
            }
        } else if rejoining {
            match result {
                Ok(_) => {
                    self.debug(format_args!("re-joined {room_id}"));
                    self.start_heartbeat(&room_id);
                    let req = self.send_room_pushers(&room_id);
                    if let Phase::InRoom(InRoom { sync: Some(s), .. }) = &mut self.room.phase {
                        s.step = SyncStep::GetPushers(req);
                    }
                }
                Err(e) if e.is(ErrorCode::RoomNotFound) => self.lose_room(None),
                Err(e) => self.lose_room(Some(e)),
            }
        } else if result.is_ok() && self.room.current() != Some(&room_id) {
            // An entry abandoned while add_pusher was on its way: undo it.
            self.send_delete(room_id, None);
        }
    }

    pub(super) fn on_room_pushers_reply(
        &mut self,
        id: RequestId,
        room_id: RoomId,
        result: Result<RoomSummary, ApiError>,
    ) {
        let entering = matches!(&self.room.phase,
            Phase::Entering(e) if e.step == EnterStep::GetPushers(id));
        let syncing = matches!(&self.room.phase,
            Phase::InRoom(InRoom { sync: Some(s), .. }) if s.step == SyncStep::GetPushers(id));
        if entering {
            let Phase::Entering(e) = std::mem::take(&mut self.room.phase) else {
                return;
            };
            match result {
                Ok(summary) => self.finish_enter(e, summary.pushers),
                Err(err) => {
                    // We are a member already: leave again.
                    self.room.heartbeat = None;
                    self.send_delete(room_id, None);
                    self.finish(e.call, Err(err));
                }
            }
        } else if syncing {
            match result {
                Ok(summary) => self.apply_snapshot(summary),
                Err(e) if e.is(ErrorCode::RoomNotFound) => self.lose_room(None),
                Err(e) => {
                    self.debug(format_args!("resync {room_id}: {e}"));
                    let at = self.now.saturating_add(self.cfg.sync_retry_ms);
                    if let Phase::InRoom(InRoom { sync: Some(s), .. }) = &mut self.room.phase {
                        s.step = SyncStep::RetryAt(at);
                    }
                }
            }
        } else {
            self.debug(format_args!("stale get_pushers {room_id}: ignored"));
        }
    }

    fn finish_enter(&mut self, e: Entering, pushers: Vec<Pusher>) {
        let Some(me) = self.me().cloned() else {
            return self.finish(e.call, Err(ClientError::NotLoggedIn.api()));
        };
        let join_order = own_join_order(&pushers, &me);
        let list = self.others(pushers);
        let members = list
            .iter()
            .map(|p| {
                let mut peer = Peer::new(is_offerer(&me, join_order, p));
                if e.offered_to.as_ref() == Some(&p.user_id) && peer.is_offerer() {
                    // Our add_pusher's offer went to this member.
                    peer.offer_sent();
                }
                let member = Member {
                    pusher: p.clone(),
                    peer,
                };
                (p.user_id.clone(), member)
            })
            .collect();
        let room_id = e.room_id;
        self.room.phase = Phase::InRoom(InRoom {
            room_id: room_id.clone(),
            join_order,
            members,
            sync: None,
            sfu: None,
        });
        if e.sfu {
            self.start_sfu(false);
        }
        // The peers first: their offers start before the app's listeners run
        // (none in SFU mode: `create_peer` makes none there).
        for p in &list {
            self.create_peer(&p.user_id);
        }
        // Then a spare offer for whoever joins next (we offer to a later
        // member without a join order whose userID sorts after ours).
        self.prepare_peer();
        self.emit(Event::GetPusherList(list));
        let ok = if e.created {
            CallOk::RoomCreated { room_id }
        } else {
            CallOk::Entered { room_id }
        };
        self.finish(e.call, Ok(ok));
        for ev in e.held {
            self.on_room_event(ev);
        }
    }

    pub(super) fn exit_room(&mut self, call: CallId) {
        match std::mem::take(&mut self.room.phase) {
            Phase::Idle => self.finish(call, Err(ClientError::NotInRoom.api())),
            Phase::Creating { call: c, .. } => {
                self.finish(c, Err(ClientError::Cancelled.api()));
                self.finish(call, Ok(CallOk::Exited));
            }
            Phase::Entering(e) => {
                self.finish(e.call, Err(ClientError::Cancelled.api()));
                match e.step {
                    EnterStep::GetPushers(_) => {
                        self.room.heartbeat = None;
                        self.send_delete(e.room_id, Some(call));
                    }
                    // A late add_pusher success is undone when it arrives.
                    EnterStep::AwaitLeave | EnterStep::AwaitSpare(_) | EnterStep::AddPusher(_) => {
                        self.finish(call, Ok(CallOk::Exited));
                    }
                }
            }
            Phase::InRoom(r) => {
                let room_id = r.room_id.clone();
                self.close_room(r, &ClientError::Cancelled.api());
                self.send_delete(room_id, Some(call));
            }
        }
    }

    pub(super) fn on_delete_reply(
        &mut self,
        room_id: RoomId,
        call: Option<CallId>,
        result: Result<(), ApiError>,
    ) {
        match (call, result) {
            (Some(call), Ok(())) => self.finish(call, Ok(CallOk::Exited)),
            (Some(call), Err(e)) if room_or_member_gone(&e) => {
                self.finish(call, Ok(CallOk::Exited))
            }
            (Some(call), Err(e)) => self.finish(call, Err(e)),
            (None, Ok(())) => {}
            (None, Err(e)) => self.debug(format_args!("delete_pusher {room_id}: {e}")),
        }
        let waiting = matches!(&self.room.phase,
            Phase::Entering(e) if e.step == EnterStep::AwaitLeave && e.room_id == room_id);
        if waiting && !self.delete_in_flight(&room_id) {
            self.send_waiting_add_pusher();
        }
    }

    /// Leaves the room without telling the server (the session is over).
    pub(super) fn abandon_room(&mut self, reason: &ApiError) {
        match std::mem::take(&mut self.room.phase) {
            Phase::Idle => {}
            Phase::Creating { call, .. } => self.finish(call, Err(reason.clone())),
            Phase::Entering(e) => self.finish(e.call, Err(reason.clone())),
            Phase::InRoom(r) => self.close_room(r, reason),
        }
        self.room.heartbeat = None;
    }

    /// The room is gone for us: close everything, report `err` if any, then `RoomClosed`.
    pub(super) fn lose_room(&mut self, err: Option<ApiError>) {
        let Phase::InRoom(r) = std::mem::take(&mut self.room.phase) else {
            return;
        };
        let room_id = r.room_id.clone();
        self.close_room(r, &ClientError::Cancelled.api());
        if let Some(e) = err {
            self.emit(Event::error(&e));
        }
        self.emit(Event::RoomClosed { room_id });
    }

    /// Closes every peer, drops the room's queued frames (failing their calls
    /// with `reason`) and stops the heartbeat.
    fn close_room(&mut self, r: InRoom, reason: &ApiError) {
        // The SFU links first: their handles go before our `delete_pusher`.
        let mesh: Vec<UserId> = match &r.sfu {
            Some(links) => {
                self.close_sfu_links();
                links.mesh_peers().cloned().collect()
            }
            None => r.members.keys().cloned().collect(),
        };
        for user in &mesh {
            self.close_peer(&r.room_id, user);
        }
        for e in self
            .outbox
            .purge_unsent(|f| frame_room(f) == Some(&r.room_id))
        {
            if let Some(call) = e.call {
                self.finish(call, Err(reason.clone()));
            }
        }
        self.room.heartbeat = None;
    }

    /// Hints the glue to make a spare offer ahead (`PeerAction::Prepare`);
    /// none in SFU mode (no mesh peers are made there).
    pub(super) fn prepare_peer(&mut self) {
        if let (Some(a), false) = (self.session.auth(), self.in_sfu_mode()) {
            let ice_servers = a.ice_servers.clone();
            self.hint_spare(ice_servers);
        }
    }

    /// Asks the glue for a spare peer connection (a hint; a glue that
    /// keeps spares reports its offer with [`Input::SpareOffer`](super::Input::SpareOffer)).
    pub(super) fn hint_spare(&mut self, ice_servers: Vec<IceServer>) {
        if self.room.spare_servers.as_ref() != Some(&ice_servers) {
            // Other servers (login's, after the spare made at its call): the
            // glue makes the spare anew, so its candidates come from them.
            self.room.spare_offer = None;
            self.room.spare_servers = Some(ice_servers.clone());
        }
        if self.room.spare_offer.is_none() {
            self.room.spare_pending = true;
        }
        self.peer(PeerAction::Prepare { ice_servers });
    }

    /// The glue's spare offer: kept for the next entry, or sent now by the
    /// entry waiting for it.
    pub(super) fn on_spare_offer(&mut self, sdp: String) {
        self.room.spare_offer = Some(sdp);
        self.room.spare_pending = false;
        if matches!(&self.room.phase, Phase::Entering(e) if matches!(e.step, EnterStep::AwaitSpare(_)))
        {
            self.send_waiting_add_pusher();
        }
    }

    /// The entry waiting (for the spare, or for our previous leave) sends its
    /// `add_pusher`, with the spare's offer if there is one.
    pub(super) fn send_waiting_add_pusher(&mut self) {
        let Phase::Entering(e) = &self.room.phase else {
            return;
        };
        let (room_id, info) = (e.room_id.clone(), e.room_info.clone());
        let offer = self.room.spare_offer.take();
        let req = self.send_add_pusher(&room_id, info, offer);
        if let Phase::Entering(e) = &mut self.room.phase {
            e.step = EnterStep::AddPusher(req);
        }
    }

    /// Asks the glue for the peer connection to the member `user`, in the
    /// role its [`Peer`] was given; none in SFU mode (the member's media
    /// comes through the subscriber).
    pub(super) fn create_peer(&mut self, user: &UserId) {
        if self.in_sfu_mode() {
            return self.debug(format_args!("SFU room: no mesh peer {user}"));
        }
        let Phase::InRoom(r) = &self.room.phase else {
            return;
        };
        let Some(peer) = r.members.get(user).map(|m| &m.peer) else {
            return;
        };
        let (offerer, offered) = (peer.is_offerer(), peer.is_awaiting_answer());
        let Some(ice_servers) = self.session.auth().map(|a| a.ice_servers.clone()) else {
            return;
        };
        if offerer {
            // The glue takes its spare for an offering peer: a new one will
            // report its own offer.
            self.room.spare_offer = None;
            self.room.spare_pending = false;
        }
        self.peer(PeerAction::Create {
            user: user.clone(),
            offerer,
            offered,
            ice_servers,
        });
    }

    /// Closes the peer to `user` and drops signaling still queued for it.
    pub(super) fn close_peer(&mut self, room_id: &RoomId, user: &UserId) {
        if self.forget_mesh_peer(user) {
            self.peer(PeerAction::Close { user: user.clone() });
        }
        self.recovery.forget(user);
        self.outbox
            .purge_unsent(|f| frame_room(f) == Some(room_id) && frame_to(f) == Some(user));
    }

    /// `list` without ourselves and without repeats.
    pub(super) fn others(&self, list: Vec<Pusher>) -> Vec<Pusher> {
        let me = self.me();
        let mut out: Vec<Pusher> = Vec::with_capacity(list.len());
        for p in list {
            if Some(&p.user_id) != me && !out.iter().any(|o| o.user_id == p.user_id) {
                out.push(p);
            }
        }
        out
    }

    fn delete_in_flight(&self, room_id: &RoomId) -> bool {
        self.requests
            .values()
            .any(|r| matches!(r, Req::DeletePusher { room_id: id, .. } if id == room_id))
    }

    /// `add_pusher` for `room_id`; `offer`: the spare's, on a first entry.
    pub(super) fn send_add_pusher(
        &mut self,
        room_id: &RoomId,
        room_info: Option<String>,
        offer: Option<String>,
    ) -> RequestId {
        let (user_id, user_name, user_avatar, push_url) = match self.session.auth() {
            Some(a) => (
                Some(a.user_id.clone()),
                a.user_name.clone(),
                a.user_avatar.clone(),
                a.push_url.clone(),
            ),
            None => (None, String::new(), String::new(), String::new()),
        };
        let private_map_key = match &self.room.privilege {
            Some((room, key)) if room == room_id => Some(key.clone()),
            _ => None,
        };
        let body = AddPusherRequest {
            room_id: room_id.clone(),
            user_id,
            user_name,
            user_avatar,
            push_url,
            room_info,
            private_map_key,
            join_order: true,
            offer,
        };
        self.command::<cmd::AddPusher>(
            Req::AddPusher {
                room_id: room_id.clone(),
            },
            body,
        )
    }

    pub(super) fn send_room_pushers(&mut self, room_id: &RoomId) -> RequestId {
        let body = GetPushersRequest {
            room_id: room_id.clone(),
        };
        self.command::<cmd::GetPushers>(
            Req::RoomPushers {
                room_id: room_id.clone(),
            },
            body,
        )
    }

    fn send_delete(&mut self, room_id: RoomId, call: Option<CallId>) {
        let body = RoomUserRequest {
            room_id: room_id.clone(),
            user_id: self.me().cloned(),
        };
        self.command::<cmd::DeletePusher>(Req::DeletePusher { room_id, call }, body);
    }
}

/// Our own join order in a member list (`None` from an original server).
pub(crate) fn own_join_order(list: &[Pusher], me: &UserId) -> Option<u64> {
    list.iter()
        .find(|p| &p.user_id == me)
        .and_then(|p| p.join_order)
}
