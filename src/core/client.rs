//! [`Client`]: the one way in ([`Client::handle`]) and the one way out
//! ([`Client::poll`]), the output queue, timers and the helpers every other
//! part uses (completing calls, issuing HTTP requests, logging).

use super::config::Config;
use super::event::Event;
use super::ids::{CallId, RequestId};
use super::input::Input;
use super::outbox::Outbox;
use super::output::{CallOk, HttpRequest, Output, PeerAction, RequestBody};
use super::recovery::Recovery;
use super::reply::{Expect, ReplyKind};
use super::requests::Req;
use super::room::Room;
use super::session::Session;
use super::socket::Socket;
use super::vecmap::VecMap;
use rtcroom_protocol::command::Command;
use rtcroom_protocol::ApiError;
use rtcroom_protocol::ClientError;
use std::collections::VecDeque;

/// The RTCRoom client state machine: login, room membership, signaling and
/// room messages, with no IO and no clock of its own.
///
/// Feed it [`Input`]s with the current time, then drain [`Client::poll`]
/// until it returns `None`.
#[derive(Debug)]
pub struct Client {
    pub(super) cfg: Config,
    pub(super) now: u64,
    out: VecDeque<Output>,
    open_calls: VecMap<CallId, ()>,
    pub(super) requests: VecMap<RequestId, Req>,
    next_request: u64,
    /// Requests that could not be issued; failed at the end of this `handle`.
    unsendable: Vec<RequestId>,
    pub(super) session: Session,
    pub(super) socket: Socket,
    pub(super) outbox: Outbox,
    pub(super) room: Room,
    pub(super) recovery: Recovery,
    timer_asked: Option<u64>,
}

impl Client {
    /// A logged-out client.
    pub fn new(cfg: Config) -> Self {
        let socket = Socket::new(&cfg);
        let spare_at_start = cfg.spare_at_start;
        let mut client = Self {
            cfg,
            now: 0,
            out: VecDeque::new(),
            open_calls: VecMap::new(),
            requests: VecMap::new(),
            next_request: 0,
            unsendable: Vec::new(),
            session: Session::LoggedOut,
            socket,
            outbox: Outbox::default(),
            room: Room::default(),
            recovery: Recovery::default(),
            timer_asked: None,
        };
        if spare_at_start {
            // Without ICE servers yet: login's, if it names any, remake it.
            client.hint_spare(Vec::new());
        }
        client
    }

    /// Handles one input at `now_ms` (any monotonic millisecond clock; a
    /// clock that goes back is treated as standing still).
    pub fn handle(&mut self, input: Input, now_ms: u64) {
        self.now = self.now.max(now_ms);
        let timer_turn = matches!(input, Input::Timeout);
        match input {
            Input::Call { id, call } => self.on_call(id, call),
            Input::HttpReply { id, result } => self.on_http_reply(id, result),
            Input::WsFrame { conn, frame } => self.on_ws_frame(conn, frame),
            Input::WsUndecodable { conn, seq, error } => self.on_ws_undecodable(conn, seq, error),
            Input::WsClosed { conn, reason } => self.on_ws_closed(conn, reason),
            Input::SpareOffer { sdp } => self.on_spare_offer(sdp),
            Input::LocalSdp { user, kind, sdp } => self.on_local_sdp(user, kind, sdp),
            Input::LocalIce { user, candidate } => self.on_local_ice(user, candidate),
            Input::PeerState { user, state } => self.on_peer_state(user, state),
            Input::SfuFrame { conn, seq, event } => self.on_sfu_frame(conn, seq, event),
            Input::SfuLocalSdp { link, kind, sdp } => self.on_sfu_local_sdp(link, kind, sdp),
            Input::SfuLocalIce { link, candidate } => self.on_sfu_local_ice(link, candidate),
            Input::SfuLinkState { link, state } => self.on_sfu_link_state(link, state),
            Input::SfuMedia { user } => self.on_sfu_media(user),
            Input::Timeout => self.timer_asked = None,
        }
        self.run_timers(timer_turn);
        // Failing one may issue another (e.g. a clean-up); the chains are short.
        while !self.unsendable.is_empty() {
            for id in std::mem::take(&mut self.unsendable) {
                self.on_http_reply(id, Err(ClientError::NotLoggedIn.api()));
            }
        }
        match self.next_deadline() {
            Some(at) if self.timer_asked != Some(at) => {
                self.timer_asked = Some(at);
                self.out.push_back(Output::Timer { at_ms: at });
            }
            _ => {}
        }
    }

    /// The next output, oldest first; `None` when drained.
    pub fn poll(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// Whether `login` has completed and the session is live.
    pub fn is_logged_in(&self) -> bool {
        self.session.auth().is_some()
    }

    fn run_timers(&mut self, timer_turn: bool) {
        self.socket_timers(timer_turn);
        self.room_timers();
        self.recovery_timers();
        self.sfu_timers();
        for e in self.outbox.expire(self.now) {
            match e.call {
                Some(call) => self.finish(call, Err(ClientError::Timeout.api())),
                None => self.debug(format_args!("no ack for \"{}\"", out_frame_type(&e.frame))),
            }
        }
    }

    fn next_deadline(&self) -> Option<u64> {
        [
            self.socket.deadline(&self.cfg),
            self.room.deadline(),
            self.outbox.next_deadline(),
            self.recovery.deadline(self.cfg.media_disconnect_grace_ms),
            self.sfu_deadline(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    // ---- helpers for the other parts ----

    /// Accepts a new call id; `false` (and an error event) when it is still open.
    pub(super) fn open_call(&mut self, id: CallId) -> bool {
        if self.open_calls.insert(id, ()).is_none() {
            return true;
        }
        self.emit(Event::error(
            &ClientError::InvalidArgument.with_message(format!("{id} is already in use")),
        ));
        false
    }

    /// Completes a call; each open call completes exactly once.
    pub(super) fn finish(&mut self, id: CallId, result: Result<CallOk, ApiError>) {
        if self.open_calls.remove(&id).is_some() {
            self.push(Output::CallDone { id, result });
        } else {
            self.debug(format_args!("{id} done twice"));
        }
    }

    pub(super) fn emit(&mut self, e: Event) {
        self.push(Output::Event(e));
    }

    pub(super) fn peer(&mut self, a: PeerAction) {
        self.push(Output::Peer(a));
    }

    /// Queues `o`. Never inlined: the core has ~150 outputs to queue, and
    /// each inlined `push_back` of the large `Output` costs the wasm a copy.
    #[inline(never)]
    pub(super) fn push(&mut self, o: Output) {
        self.out.push_back(o);
    }

    /// A debug line (`self.debug(format_args!(..))`), written only when
    /// `debugLog` is on. Out of line: each of the core's ~80 lines passes its
    /// arguments and nothing else (the check, the `String` and the event are
    /// built here once, not at every line).
    #[inline(never)]
    pub(super) fn debug(&mut self, line: std::fmt::Arguments<'_>) {
        if self.cfg.debug_log {
            self.emit(Event::DebugLog(std::fmt::format(line)));
        }
    }

    /// Issues a request to an explicit URL.
    pub(super) fn http_to(
        &mut self,
        req: Req,
        cmd: &'static str,
        url: String,
        body: RequestBody,
        expect: ReplyKind,
    ) -> RequestId {
        self.next_request += 1;
        let id = RequestId(self.next_request);
        self.requests.insert(id, req);
        self.out.push_back(Output::Http(HttpRequest {
            id,
            cmd,
            url,
            body,
            expect,
        }));
        id
    }

    /// Issues command `C` of the protocol's table with `body`, expecting its reply type.
    pub(super) fn command<C: Command>(&mut self, req: Req, body: C::Request) -> RequestId
    where
        C::Request: Into<RequestBody>,
        C::Reply: Expect,
    {
        self.http(req, C::NAME, body.into(), ReplyKind::of::<C>())
    }

    /// Issues an authenticated command (`?userID=..&token=..`). Without a
    /// session it fails (as a reply) once the current input is handled.
    pub(super) fn http(
        &mut self,
        req: Req,
        cmd: &'static str,
        body: RequestBody,
        expect: ReplyKind,
    ) -> RequestId {
        match self.session.auth() {
            Some(a) => {
                let url = a.urls.command(cmd, &a.user_id, &a.token);
                self.http_to(req, cmd, url, body, expect)
            }
            None => {
                self.next_request += 1;
                let id = RequestId(self.next_request);
                self.requests.insert(id, req);
                self.unsendable.push(id);
                id
            }
        }
    }
}

/// A queued frame's wire type, for logs.
pub(super) fn out_frame_type(f: &super::outbox::OutFrame) -> &'static str {
    use rtcroom_protocol::sfu::SfuClientFrame as Sfu;
    match f {
        super::outbox::OutFrame::Room(f) => frame_type(f),
        super::outbox::OutFrame::Sfu(Sfu::SfuPublish { .. }) => "sfu_publish",
        super::outbox::OutFrame::Sfu(Sfu::SfuSubscribe { .. }) => "sfu_subscribe",
        super::outbox::OutFrame::Sfu(Sfu::SfuAnswer { .. }) => "sfu_answer",
        super::outbox::OutFrame::Sfu(Sfu::SfuCandidate { .. }) => "sfu_candidate",
    }
}

/// A frame's wire type, for logs.
pub(super) fn frame_type(f: &rtcroom_protocol::ws::ClientFrame) -> &'static str {
    use rtcroom_protocol::ws::ClientFrame::*;
    match f {
        Ping => "ping",
        RoomText { .. } => "room_text",
        RoomCustom { .. } => "room_custom",
        Offer { .. } => "offer",
        Answer { .. } => "answer",
        Candidate { .. } => "candidate",
        Renegotiate { .. } => "renegotiate",
        MeshRelease { .. } => "mesh_release",
    }
}
