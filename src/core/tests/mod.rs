//! Scenario tests: a [`H`]arness plays the driver and a scripted server,
//! feeding inputs on a simulated clock and asserting on outputs.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod calls;
mod messages;
mod push_url;
mod recovery;
mod renegotiate;
mod resume;
mod room;
mod session;
mod sfu;
mod signaling;

use super::*;
use rtcroom_protocol::http::{
    AddPusherResponse, GetRoomListResponse, LoginResponse, Pusher, RoomSummary,
};
use rtcroom_protocol::ws::{
    ClientEnvelope, ClientFrame, IceCandidate, QuitReason, ServerEvent, ServerFrame,
};
use rtcroom_protocol::{ApiError, ErrorCode, RoomId, UserId};
use std::collections::{BTreeMap, VecDeque};

pub(crate) const ME: &str = "carol";
pub(crate) const DOMAIN: &str = "https://rs.example/weapp/multi_room/";

pub(crate) fn uid(s: &str) -> UserId {
    UserId::new(s).unwrap()
}

pub(crate) fn rid(s: &str) -> RoomId {
    RoomId::new(s).unwrap()
}

pub(crate) fn pusher(id: &str) -> Pusher {
    Pusher {
        user_id: uid(id),
        user_name: format!("{id}-name"),
        user_avatar: format!("{id}.png"),
        accelerate_url: String::new(),
        join_order: None,
    }
}

pub(crate) fn summary(room: &str, members: &[&str]) -> RoomSummary {
    RoomSummary {
        room_id: rid(room),
        room_info: "info".into(),
        room_creator: uid(members.first().copied().unwrap_or(ME)),
        mixed_play_url: String::new(),
        custom: String::new(),
        pushers: members.iter().map(|m| pusher(m)).collect(),
        member_count: u32::try_from(members.len()).unwrap(),
        create_time: 0,
    }
}

pub(crate) fn cand(c: &str) -> IceCandidate {
    IceCandidate {
        candidate: c.into(),
        sdp_mid: Some("0".into()),
        sdp_m_line_index: Some(0),
        username_fragment: None,
    }
}

pub(crate) fn login_params(user: &str) -> LoginParams {
    LoginParams {
        server_domain: DOMAIN.into(),
        sdk_app_id: 1_400_000_001,
        account_type: "0".into(),
        user_id: uid(user),
        user_sig: "sig".into(),
        user_name: format!("{user}-name"),
        user_avatar: format!("{user}.png"),
    }
}

pub(crate) fn test_config() -> Config {
    Config {
        ping_interval_ms: 0,
        dead_after_ms: 0,
        spare_offer_wait_ms: 0,
        spare_at_start: false,
        ..Config::default()
    }
}

/// The driver and a scripted server around one [`Client`].
pub(crate) struct H {
    pub(crate) c: Client,
    pub(crate) now: u64,
    /// Outputs not yet looked at (debug logs go to `logs`).
    pub(crate) out: VecDeque<Output>,
    pub(crate) logs: Vec<String>,
    /// Every completed call, to check each completes once.
    pub(crate) completed: BTreeMap<CallId, usize>,
    next_call: u64,
    /// The socket the server side talks on.
    pub(crate) conn: Option<ConnId>,
    /// The server's last assigned seq for this session.
    pub(crate) seq: u64,
    pub(crate) me: String,
    /// Peers created and not yet closed (checked on every output).
    pub(crate) live_peers: std::collections::BTreeSet<UserId>,
    /// Open peers replaced by a new `Create`, in order.
    pub(crate) restarted: Vec<UserId>,
    /// SFU links open (checked on every output): `true` once a remote description was applied.
    pub(crate) live_links: std::collections::HashMap<rtcroom_protocol::sfu::SfuLink, bool>,
    /// Successful enters / sends, for the random walk's coverage check.
    pub(crate) stat_entered: usize,
    pub(crate) stat_sent: usize,
}

impl H {
    pub(crate) fn new() -> Self {
        Self::with(ME, test_config())
    }

    pub(crate) fn with(me: &str, cfg: Config) -> Self {
        Self {
            c: Client::new(cfg),
            now: 1_000,
            out: VecDeque::new(),
            logs: Vec::new(),
            completed: BTreeMap::new(),
            next_call: 0,
            conn: None,
            seq: 0,
            me: me.into(),
            live_peers: Default::default(),
            restarted: Vec::new(),
            live_links: Default::default(),
            stat_entered: 0,
            stat_sent: 0,
        }
    }

    pub(crate) fn handle(&mut self, input: Input) {
        self.c.handle(input, self.now);
        while let Some(o) = self.c.poll() {
            match o {
                Output::Event(Event::DebugLog(l)) => self.logs.push(l),
                Output::CallDone { id, ref result } => {
                    match result {
                        Ok(CallOk::Entered { .. } | CallOk::RoomCreated { .. }) => {
                            self.stat_entered += 1
                        }
                        Ok(CallOk::Sent) => self.stat_sent += 1,
                        _ => {}
                    }
                    let n = self.completed.entry(id).or_default();
                    *n += 1;
                    assert_eq!(*n, 1, "{id} completed twice; logs: {:#?}", self.logs);
                    self.out.push_back(o);
                }
                Output::Peer(ref a) => {
                    self.check_peer(a);
                    self.out.push_back(o);
                }
                o => self.out.push_back(o),
            }
        }
    }

    /// Peer actions form valid lifecycles: create, use, close.
    fn check_peer(&mut self, a: &PeerAction) {
        match a {
            PeerAction::Create { user, .. } => {
                // `Create` for an open peer replaces it (starting over).
                if !self.live_peers.insert(user.clone()) {
                    self.restarted.push(user.clone());
                }
            }
            PeerAction::Close { user } => {
                assert!(self.live_peers.remove(user), "{user} closed but not open");
            }
            PeerAction::SetRemoteSdp { user, .. }
            | PeerAction::AddIce { user, .. }
            | PeerAction::RestartIce { user } => {
                assert!(self.live_peers.contains(user), "{user} used but not open");
            }
            PeerAction::Prepare { .. } | PeerAction::UpdateIceServers { .. } => {}
            _ => self.check_sfu(a),
        }
    }

    /// SFU actions form valid lifecycles: open, remote description, candidates, close.
    fn check_sfu(&mut self, a: &PeerAction) {
        match a {
            PeerAction::SfuOpen { link, .. } => {
                self.live_links.insert(*link, false);
            }
            PeerAction::SfuRemoteSdp { link, .. } => {
                let applied = self.live_links.get_mut(link);
                assert!(applied.is_some(), "{link:?} used but not open");
                if let Some(a) = applied {
                    *a = true;
                }
            }
            PeerAction::SfuAddIce { link, .. } => {
                assert_eq!(
                    self.live_links.get(link),
                    Some(&true),
                    "{link:?} candidate before its remote description"
                );
            }
            PeerAction::SfuRestartIce { link } => {
                assert!(self.live_links.contains_key(link), "{link:?} not open");
            }
            PeerAction::SfuClose { link } => {
                self.live_links.remove(link);
            }
            _ => {}
        }
    }

    pub(crate) fn call(&mut self, call: Call) -> CallId {
        self.next_call += 1;
        let id = CallId(self.next_call);
        self.handle(Input::Call { id, call });
        id
    }

    /// How many calls the harness issued (ids 1..=n).
    pub(crate) fn next_call_id(&self) -> u64 {
        self.next_call
    }

    /// Moves the clock on and wakes the client.
    pub(crate) fn advance(&mut self, ms: u64) {
        self.now += ms;
        self.handle(Input::Timeout);
    }

    fn take<T>(&mut self, what: &str, mut pick: impl FnMut(&Output) -> Option<T>) -> T {
        let pos = self.out.iter().position(|o| pick(o).is_some());
        match pos.and_then(|i| self.out.remove(i)) {
            Some(o) => pick(&o).unwrap(),
            None => panic!("no {what} in {:#?}\nlogs: {:#?}", self.out, self.logs),
        }
    }

    pub(crate) fn take_all<T>(&mut self, mut pick: impl FnMut(&Output) -> Option<T>) -> Vec<T> {
        let mut got = Vec::new();
        let mut rest = VecDeque::new();
        for o in self.out.drain(..) {
            match pick(&o) {
                Some(t) => got.push(t),
                None => rest.push_back(o),
            }
        }
        self.out = rest;
        got
    }

    /// The first pending HTTP request for `cmd`.
    pub(crate) fn http(&mut self, cmd: &str) -> HttpRequest {
        self.take(cmd, |o| match o {
            Output::Http(r) if r.cmd == cmd => Some(r.clone()),
            _ => None,
        })
    }

    /// Pending HTTP requests (all of them, removed).
    pub(crate) fn https(&mut self) -> Vec<HttpRequest> {
        self.take_all(|o| match o {
            Output::Http(r) => Some(r.clone()),
            _ => None,
        })
    }

    pub(crate) fn no_http(&mut self, cmd: &str) {
        let any = self
            .out
            .iter()
            .any(|o| matches!(o, Output::Http(r) if r.cmd == cmd));
        assert!(!any, "unexpected {cmd} in {:#?}", self.out);
    }

    pub(crate) fn reply(&mut self, req: &HttpRequest, body: ReplyBody) {
        assert_eq!(body.kind(), req.expect, "{}", req.cmd);
        self.handle(Input::HttpReply {
            id: req.id,
            result: Ok(body),
        });
    }

    /// Success with no fields; an `add_pusher` answered as the original
    /// server does (no roster: the client asks `get_pushers`).
    pub(crate) fn ok(&mut self, req: &HttpRequest) {
        let body = match &req.body {
            RequestBody::AddPusher(b) => ReplyBody::AddPusher(AddPusherResponse {
                room_id: b.room_id.clone(),
                pushers: None,
                offered_to: None,
            }),
            _ => ReplyBody::Empty,
        };
        self.reply(req, body);
    }

    /// `add_pusher` answered as our server does: with the roster after the
    /// join (`members`, ourselves included or not, as given).
    pub(crate) fn ok_roster(&mut self, req: &HttpRequest, members: &[&str]) {
        let RequestBody::AddPusher(b) = &req.body else {
            panic!("not add_pusher: {req:?}");
        };
        let body = ReplyBody::AddPusher(AddPusherResponse {
            room_id: b.room_id.clone(),
            pushers: Some(members.iter().map(|m| pusher(m)).collect()),
            offered_to: None,
        });
        self.reply(req, body);
    }

    pub(crate) fn fail(&mut self, req: &HttpRequest, err: ApiError) {
        self.handle(Input::HttpReply {
            id: req.id,
            result: Err(err),
        });
    }

    /// The pending `WsConnect` (becomes the server's current socket); after login's answer it
    /// comes on the core's next timer turn, 1 ms on.
    pub(crate) fn ws_connect(&mut self) -> String {
        if !self
            .out
            .iter()
            .any(|o| matches!(o, Output::WsConnect { .. }))
        {
            self.now += 1;
            self.handle(Input::Timeout);
        }
        let (conn, url) = self.take("WsConnect", |o| match o {
            Output::WsConnect { conn, url } => Some((*conn, url.clone())),
            _ => None,
        });
        self.conn = Some(conn);
        url
    }

    pub(crate) fn welcome(&mut self, resumed: bool) {
        let frame = ServerFrame {
            seq: self.seq,
            event: ServerEvent::Welcome {
                user_id: uid(&self.me),
                resumed,
                ice_servers: None,
            },
        };
        self.frame(frame);
    }

    /// A frame with the next seq.
    pub(crate) fn server(&mut self, event: ServerEvent) -> ServerFrame {
        self.seq += 1;
        let frame = ServerFrame {
            seq: self.seq,
            event,
        };
        self.frame(frame.clone());
        frame
    }

    /// A frame as is, on the current socket.
    pub(crate) fn frame(&mut self, frame: ServerFrame) {
        let conn = self.conn.expect("no socket");
        self.handle(Input::WsFrame { conn, frame });
    }

    /// The socket drops and comes back too late to resume: `welcome {resumed: false}`
    /// (the server numbered 10 frames meanwhile).
    pub(crate) fn reconnect_unresumed(&mut self) {
        self.drop_socket();
        self.advance(250);
        self.ws_connect();
        self.seq = 10;
        self.welcome(false);
    }

    /// The current socket drops.
    pub(crate) fn drop_socket(&mut self) {
        let conn = self.conn.take().expect("no socket");
        self.handle(Input::WsClosed {
            conn,
            reason: "1006".into(),
        });
    }

    /// Frames the client sent (removed).
    pub(crate) fn sent(&mut self) -> Vec<ClientEnvelope> {
        self.take_all(|o| match o {
            Output::WsSend { frame, .. } => Some(frame.clone()),
            _ => None,
        })
    }

    pub(crate) fn events(&mut self) -> Vec<Event> {
        self.take_all(|o| match o {
            Output::Event(e) => Some(e.clone()),
            _ => None,
        })
    }

    /// Peer actions (without the `Prepare` hints; see [`H::prepares`]).
    pub(crate) fn peers(&mut self) -> Vec<PeerAction> {
        self.take_all(|o| match o {
            Output::Peer(PeerAction::Prepare { .. }) => None,
            Output::Peer(p) => Some(p.clone()),
            _ => None,
        })
    }

    /// How many `Prepare` hints are pending (removed).
    pub(crate) fn prepares(&mut self) -> usize {
        self.take_all(|o| match o {
            Output::Peer(PeerAction::Prepare { .. }) => Some(()),
            _ => None,
        })
        .len()
    }

    pub(crate) fn closes(&mut self) -> Vec<ConnId> {
        self.take_all(|o| match o {
            Output::WsClose { conn } => Some(*conn),
            _ => None,
        })
    }

    /// The result of call `id`, which must have completed.
    pub(crate) fn done(&mut self, id: CallId) -> Result<CallOk, ApiError> {
        self.take(&format!("CallDone {id}"), |o| match o {
            Output::CallDone { id: i, result } if *i == id => Some(result.clone()),
            _ => None,
        })
    }

    pub(crate) fn pending(&self, id: CallId) -> bool {
        !self.completed.contains_key(&id)
    }

    pub(crate) fn err_code(&mut self, id: CallId) -> i32 {
        match self.done(id) {
            Err(e) => e.code,
            Ok(ok) => panic!("{id} succeeded: {ok:?}"),
        }
    }

    /// Drops outputs nobody asserts on (timers, connection states).
    pub(crate) fn clear(&mut self) {
        self.out.clear();
    }

    /// Calls `login` and answers its HTTP request (the socket not yet open).
    pub(crate) fn login_answered(&mut self) -> CallId {
        let id = self.call(Call::Login(login_params(&self.me.clone())));
        let req = self.http("login");
        self.reply(
            &req,
            ReplyBody::Login(LoginResponse {
                user_id: uid(&self.me),
                token: "tok".into(),
                token_ttl: 3600,
                heartbeat_interval: 5,
                ice_servers: vec![],
            }),
        );
        id
    }

    /// Logs in and connects; the socket's first welcome completes `login`.
    pub(crate) fn login(&mut self) {
        let id = self.login_answered();
        let me = uid(&self.me);
        self.ws_connect();
        self.welcome(false);
        assert_eq!(self.done(id), Ok(CallOk::LoggedIn { user_id: me }));
        self.clear();
    }

    /// Leaves the room (its `delete_pusher` answered), then starts entering
    /// `room`; the spare offer its `add_pusher` carries, if any.
    pub(crate) fn exit_and_enter_offer(&mut self, room: &str) -> Option<String> {
        let exit = self.call(Call::ExitRoom);
        let del = self.http("delete_pusher");
        self.ok(&del);
        assert!(self.done(exit).is_ok());
        let (_, add) = self.start_entering(room);
        match &add.body {
            RequestBody::AddPusher(b) => b.offer.clone(),
            other => panic!("not add_pusher: {other:?}"),
        }
    }

    /// Calls `enterRoom` for `room` (no privilege key); returns the call and its `add_pusher` request.
    pub(crate) fn start_entering(&mut self, room: &str) -> (CallId, HttpRequest) {
        let id = self.call(Call::EnterRoom {
            private_map_key: None,
            room_id: rid(room),
        });
        (id, self.http("add_pusher"))
    }

    /// Enters `room`, where `others` already are; leaves the outputs of the
    /// list (events, peer creation) for the test.
    pub(crate) fn enter(&mut self, room: &str, others: &[&str]) {
        let (id, add) = self.start_entering(room);
        self.ok(&add);
        let get = self.http("get_pushers");
        let mut all = others.to_vec();
        let me = self.me.clone();
        all.push(&me);
        self.reply(&get, ReplyBody::Pushers(summary(room, &all)));
        assert_eq!(self.done(id), Ok(CallOk::Entered { room_id: rid(room) }));
    }

    /// Logged in and in `room` with `others`, outputs cleared.
    /// Settles the negotiation with `other` in `room` as the glue and the
    /// other side would: we offer to a larger userID, answer a smaller one.
    pub(crate) fn settle(&mut self, room: &str, other: &str) {
        if ME < other {
            self.handle(Input::LocalSdp {
                user: uid(other),
                kind: SdpKind::Offer,
                sdp: "offer-1".into(),
            });
            self.server(ServerEvent::Answer {
                room_id: rid(room),
                from: uid(other),
                sdp: "answer-1".into(),
            });
        } else {
            self.server(ServerEvent::Offer {
                room_id: rid(room),
                from: uid(other),
                sdp: "offer-1".into(),
            });
            self.handle(Input::LocalSdp {
                user: uid(other),
                kind: SdpKind::Answer,
                sdp: "answer-1".into(),
            });
        }
    }

    pub(crate) fn in_room(room: &str, others: &[&str]) -> Self {
        let mut h = Self::new();
        h.login();
        h.enter(room, others);
        h.clear();
        h
    }
}

pub(crate) fn api(code: ErrorCode) -> ApiError {
    ApiError::new(code)
}

pub(crate) fn join(room: &str, who: &str) -> ServerEvent {
    ServerEvent::PusherJoin {
        room_id: rid(room),
        pusher: pusher(who),
        offer: None,
    }
}

pub(crate) fn quit(room: &str, who: &str) -> ServerEvent {
    ServerEvent::PusherQuit {
        room_id: rid(room),
        pusher: pusher(who),
        reason: QuitReason::Left,
    }
}

/// `who` with a join order, as our server lists members whose client asked for one.
pub(crate) fn ordered(who: &str, order: u64) -> Pusher {
    Pusher {
        join_order: Some(order),
        ..pusher(who)
    }
}

pub(crate) fn created(user: &str, offerer: bool) -> PeerAction {
    PeerAction::Create {
        user: uid(user),
        offerer,
        ice_servers: vec![],
        offered: false,
    }
}

pub(crate) fn closed(user: &str) -> PeerAction {
    PeerAction::Close { user: uid(user) }
}

/// The frame kinds in `frames`, e.g. `["room_text", "offer"]`.
pub(crate) fn kinds(frames: &[ClientEnvelope]) -> Vec<&'static str> {
    frames
        .iter()
        .map(|f| super::client::frame_type(&f.frame))
        .collect()
}

pub(crate) fn room_list(rooms: Vec<RoomSummary>) -> ReplyBody {
    let total = u32::try_from(rooms.len()).unwrap();
    ReplyBody::RoomList(GetRoomListResponse { rooms, total })
}

/// The `to` of a signaling frame.
pub(crate) fn to_of(f: &ClientFrame) -> Option<&str> {
    match f {
        ClientFrame::Offer { to, .. }
        | ClientFrame::Answer { to, .. }
        | ClientFrame::Candidate { to, .. }
        | ClientFrame::Renegotiate { to, .. }
        | ClientFrame::MeshRelease { to, .. } => Some(to.as_str()),
        _ => None,
    }
}
