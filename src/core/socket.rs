//! The room socket: one WebSocket at a time, reconnected with back-off and
//! resumed from `lastSeq`; keep-alive pings and dead-socket detection; the
//! outbox flushed on every `welcome`; frames checked by [`SeqTracker`] before
//! they reach the room.

use super::backoff::Backoff;
use super::client::{out_frame_type, Client};
use super::config::Config;
use super::event::{ConnectionState, Event};
use super::ids::{CallId, ConnId};
use super::outbox::{Entry, OutFrame};
use super::output::{CallOk, Output, PeerAction};
use super::resume::{SeqTracker, Verdict, Welcome};
use super::session::{ends_session, Session};
use rtcroom_protocol::command::{self as cmd, Command};
use rtcroom_protocol::error::ErrorCode;
use rtcroom_protocol::http::IceServer;
use rtcroom_protocol::sfu::{SfuClientEnvelope, SfuServerEvent};
use rtcroom_protocol::ws::{ClientEnvelope, ClientFrame, ServerEvent, ServerFrame};
use rtcroom_protocol::ApiError;
use rtcroom_protocol::ClientError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// No session.
    Idle,
    /// Waiting for the socket's `welcome` since `since`.
    Connecting { conn: ConnId, since: u64 },
    /// Welcomed: frames flow.
    Open {
        conn: ConnId,
        last_rx: u64,
        last_tx: u64,
    },
    /// Waiting to (re)connect at `retry_at`; `timer_only`: on the core's timer turn, not on
    /// another input that comes first (login's first connect).
    Waiting { retry_at: u64, timer_only: bool },
}

/// The socket's state for one session.
#[derive(Debug)]
pub(crate) struct Socket {
    state: State,
    next_conn: u64,
    backoff: Backoff,
    seq: SeqTracker,
    ever_connected: bool,
    reported: ConnectionState,
}

impl Socket {
    pub(crate) fn new(cfg: &Config) -> Self {
        Self {
            state: State::Idle,
            next_conn: 0,
            backoff: Backoff::new(cfg.reconnect_min_ms, cfg.reconnect_max_ms, cfg.jitter_seed),
            seq: SeqTracker::default(),
            ever_connected: false,
            reported: ConnectionState::Disconnected,
        }
    }

    /// A new session starts (connection ids keep counting).
    pub(crate) fn reset(&mut self, cfg: &Config) {
        let next_conn = self.next_conn;
        let reported = self.reported;
        *self = Self::new(cfg);
        self.next_conn = next_conn;
        self.reported = reported;
        self.seq = SeqTracker::from_session_start();
    }

    /// Stops for good; returns the socket to close, if one is open.
    pub(crate) fn shutdown(&mut self) -> Option<ConnId> {
        let conn = self.current();
        self.state = State::Idle;
        self.seq = SeqTracker::default();
        self.ever_connected = false;
        self.backoff.reset();
        conn
    }

    fn current(&self) -> Option<ConnId> {
        match self.state {
            State::Connecting { conn, .. } | State::Open { conn, .. } => Some(conn),
            State::Idle | State::Waiting { .. } => None,
        }
    }

    fn open_conn(&self) -> Option<ConnId> {
        match self.state {
            State::Open { conn, .. } => Some(conn),
            _ => None,
        }
    }

    fn touch_rx(&mut self, now: u64) {
        if let State::Open { last_rx, .. } = &mut self.state {
            *last_rx = now;
        }
    }

    fn touch_tx(&mut self, now: u64) {
        if let State::Open { last_tx, .. } = &mut self.state {
            *last_tx = now;
        }
    }

    pub(crate) fn deadline(&self, cfg: &Config) -> Option<u64> {
        match self.state {
            State::Idle => None,
            State::Connecting { since, .. } => {
                (cfg.connect_timeout_ms > 0).then(|| since.saturating_add(cfg.connect_timeout_ms))
            }
            State::Waiting { retry_at, .. } => Some(retry_at),
            State::Open {
                last_rx, last_tx, ..
            } => [
                (cfg.ping_interval_ms > 0).then(|| last_tx + cfg.ping_interval_ms),
                (cfg.dead_after_ms > 0).then(|| last_rx + cfg.dead_after_ms),
            ]
            .into_iter()
            .flatten()
            .min(),
        }
    }

    fn app_state(&self) -> ConnectionState {
        match self.state {
            State::Idle => ConnectionState::Disconnected,
            State::Open { .. } => ConnectionState::Connected,
            State::Connecting { .. } | State::Waiting { .. } if self.ever_connected => {
                ConnectionState::Reconnecting
            }
            State::Connecting { .. } | State::Waiting { .. } => ConnectionState::Connecting,
        }
    }
}

impl Client {
    /// Opens a socket for the session on the core's next timer turn (a task of its own in a
    /// host), not on this input nor on one that comes before it.
    pub(super) fn ws_connect_soon(&mut self) {
        self.socket.state = State::Waiting {
            retry_at: self.now,
            timer_only: true,
        };
        self.report_conn_state();
    }

    /// Opens a socket for the session, resuming from `lastSeq` when there is one.
    pub(super) fn ws_connect(&mut self) {
        let Some(a) = self.session.auth() else {
            return;
        };
        let url = a.urls.ws(&a.user_id, &a.token, self.socket.seq.last_seq());
        self.socket.next_conn += 1;
        let conn = ConnId(self.socket.next_conn);
        self.socket.state = State::Connecting {
            conn,
            since: self.now,
        };
        self.socket.seq.on_connect();
        self.push(Output::WsConnect { conn, url });
        self.report_conn_state();
    }

    /// Emits [`Event::ConnectionStateChange`] when the state moved.
    pub(super) fn report_conn_state(&mut self) {
        let s = self.socket.app_state();
        if s != self.socket.reported {
            self.socket.reported = s;
            self.emit(Event::ConnectionStateChange(s));
        }
    }

    /// Queues `frame` (answered by `ack`/`error`) and sends it if the socket is up.
    pub(super) fn send_frame(&mut self, frame: impl Into<OutFrame>, call: Option<CallId>) {
        let deadline = self.now.saturating_add(self.cfg.ack_timeout_ms);
        self.outbox.push(frame.into(), call, deadline);
        self.flush_outbox();
    }

    fn flush_outbox(&mut self) {
        let Some(conn) = self.socket.open_conn() else {
            return;
        };
        let frames = self.outbox.take_unsent(conn);
        if !frames.is_empty() {
            self.socket.touch_tx(self.now);
        }
        for (req, frame) in frames {
            let req_id = Some(req);
            self.push(match frame {
                OutFrame::Room(frame) => Output::WsSend {
                    conn,
                    frame: ClientEnvelope { req_id, frame },
                },
                OutFrame::Sfu(frame) => Output::WsSendSfu {
                    conn,
                    frame: SfuClientEnvelope { req_id, frame },
                },
            });
        }
    }

    /// The current socket is gone: close it if `close`, then retry after a back-off
    /// (or give `login` up after too many failures).
    fn ws_lost(&mut self, close: bool) {
        if let (true, Some(conn)) = (close, self.socket.current()) {
            self.push(Output::WsClose { conn });
        }
        let delay = self.socket.backoff.fail();
        let never_connected = !self.socket.ever_connected;
        if never_connected && self.socket.backoff.failures() >= self.cfg.login_connect_attempts {
            if let Session::Active(a) = &self.session {
                let url = a.urls.command(cmd::Logout::NAME, &a.user_id, &a.token);
                self.end_session(ClientError::ConnectFailed.api(), true);
                self.send_logout(url, None);
            }
            return;
        }
        self.debug(format_args!("reconnecting in {delay} ms"));
        self.socket.state = State::Waiting {
            retry_at: self.now.saturating_add(delay),
            timer_only: false,
        };
        self.report_conn_state();
    }

    /// The socket's due work; `timer_turn`: the input was the core's [`Input::Timeout`].
    pub(super) fn socket_timers(&mut self, timer_turn: bool) {
        match self.socket.state {
            State::Waiting {
                retry_at,
                timer_only,
            } if retry_at <= self.now && (timer_turn || !timer_only) => self.ws_connect(),
            State::Connecting { conn, since } => {
                let limit = self.cfg.connect_timeout_ms;
                if limit > 0 && self.now >= since.saturating_add(limit) {
                    self.debug(format_args!("{conn}: no welcome in {limit} ms"));
                    self.ws_lost(true);
                }
            }
            State::Open {
                conn,
                last_rx,
                last_tx,
            } => {
                let (ping, dead) = (self.cfg.ping_interval_ms, self.cfg.dead_after_ms);
                if dead > 0 && self.now >= last_rx.saturating_add(dead) {
                    self.debug(format_args!("{conn}: silent for {dead} ms"));
                    self.ws_lost(true);
                } else if ping > 0 && self.now >= last_tx.saturating_add(ping) {
                    self.socket.touch_tx(self.now);
                    let frame = ClientEnvelope {
                        req_id: None,
                        frame: ClientFrame::Ping,
                    };
                    self.push(Output::WsSend { conn, frame });
                }
            }
            _ => {}
        }
    }

    pub(super) fn on_ws_closed(&mut self, conn: ConnId, reason: String) {
        if self.socket.current() != Some(conn) {
            return;
        }
        self.debug(format_args!("{conn} closed: {reason}"));
        self.ws_lost(false);
    }

    pub(super) fn on_ws_undecodable(&mut self, conn: ConnId, seq: Option<u64>, error: String) {
        if self.socket.current() != Some(conn) {
            return;
        }
        self.socket.touch_rx(self.now);
        match seq {
            Some(n) => self.debug(format_args!("{conn}: bad frame {n} skipped: {error}")),
            None => self.debug(format_args!("{conn}: bad frame skipped: {error}")),
        }
        if let Some(seq) = seq {
            self.check_seq(seq);
        }
    }

    pub(super) fn on_ws_frame(&mut self, conn: ConnId, frame: ServerFrame) {
        if self.socket.current() != Some(conn) {
            return self.debug(format_args!("{conn}: old socket frame dropped"));
        }
        self.socket.touch_rx(self.now);
        match frame.event {
            ServerEvent::Welcome {
                resumed,
                ice_servers,
                ..
            } => self.on_welcome(conn, frame.seq, resumed, ice_servers),
            // The end of the session comes unnumbered (seq 0) when the server
            // refuses the socket itself (a stale token): honour it whatever its seq.
            ServerEvent::Error {
                req_id: None,
                code,
                message,
            } if ends_session(code) => self.end_session(ApiError { code, message }, true),
            // A multi-node server with its store (Redis) away cannot number its
            // answer: it comes carrying the last seq, like a pong, and is about
            // one request only.
            event @ ServerEvent::Error {
                req_id: Some(_),
                code,
                ..
            } if ErrorCode::from_code(code) == Some(ErrorCode::StoreUnavailable) => {
                self.on_server_event(event)
            }
            // Keep-alive only (already counted by touch_rx): a pong carries the
            // last seq assigned, not a new one.
            ServerEvent::Pong => {}
            // Like welcome's, its seq is the last assigned (not a gap); the
            // welcome {resumed: false} before it started the re-sync.
            ServerEvent::ResumeGap {
                code,
                message,
                last_seq,
                missed,
            } => self.on_resume_gap(conn, code, message, last_seq, missed),
            event => {
                if self.check_seq(frame.seq) {
                    self.on_server_event(event);
                }
            }
        }
    }

    /// An SFU-room frame: numbered like the others, then to [`sfu`](super::sfu).
    pub(super) fn on_sfu_frame(&mut self, conn: ConnId, seq: u64, event: SfuServerEvent) {
        if self.socket.current() != Some(conn) {
            return self.debug(format_args!("{conn}: old socket frame dropped"));
        }
        self.socket.touch_rx(self.now);
        if self.check_seq(seq) {
            self.on_sfu_event(event);
        }
    }

    /// Whether the frame numbered `seq` is the next one; reconnects on a gap.
    fn check_seq(&mut self, seq: u64) -> bool {
        match self.socket.seq.on_frame(seq) {
            Verdict::Deliver => true,
            Verdict::Duplicate => {
                self.debug(format_args!("duplicate frame {seq} dropped"));
                false
            }
            Verdict::BeforeWelcome => {
                self.debug(format_args!("frame {seq} before welcome dropped"));
                false
            }
            Verdict::Gap { expected } => {
                self.debug(format_args!("frame {seq}, expected {expected}: resuming"));
                self.ws_lost(true);
                false
            }
        }
    }

    fn on_welcome(
        &mut self,
        conn: ConnId,
        seq: u64,
        resumed: bool,
        ice_servers: Option<Vec<IceServer>>,
    ) {
        if self.socket.open_conn() == Some(conn) {
            return self.debug(format_args!("{conn}: second welcome ignored"));
        }
        // Fresh TURN credentials: peers created from now on (new members,
        // fresh starts of a broken media path) use them, and the existing
        // ones get them for their next ICE restart.
        if let (Some(servers), Some(a)) = (ice_servers, self.session.auth_mut()) {
            a.ice_servers = servers.clone();
            // The glue's spare takes them too (its offer, maybe on its way, stays).
            if self.room.spare_servers.is_some() {
                self.room.spare_servers = Some(servers.clone());
            }
            self.peer(PeerAction::UpdateIceServers {
                ice_servers: servers,
            });
        }
        let welcome = self.socket.seq.on_welcome(seq, resumed);
        self.socket.state = State::Open {
            conn,
            last_rx: self.now,
            last_tx: self.now,
        };
        self.socket.backoff.reset();
        let first = !std::mem::replace(&mut self.socket.ever_connected, true);
        self.debug(format_args!("{conn}: welcome {welcome:?} at seq {seq}"));
        self.report_conn_state();
        // Back after an absence: say we are alive at once. (A session's
        // first socket was never away: its room's heartbeats run as usual.)
        if welcome == Welcome::Resumed && !first {
            self.beat_now();
        }
        if welcome == Welcome::Fresh {
            // Answers to frames sent on the lost socket will never come.
            for e in self.outbox.take_sent() {
                match e.call {
                    Some(call) => self.finish(call, Err(ClientError::ConnectionLost.api())),
                    None => self.debug(format_args!(
                        "{} lost in reconnect",
                        out_frame_type(&e.frame)
                    )),
                }
            }
            self.room_resync();
        }
        self.flush_outbox();
    }

    /// Frames were lost for good: tell the application how many (the
    /// re-sync is already under way since the welcome).
    fn on_resume_gap(
        &mut self,
        conn: ConnId,
        code: i32,
        message: String,
        last_seq: u64,
        missed: u64,
    ) {
        if self.socket.open_conn() != Some(conn) {
            return self.debug(format_args!("{conn}: resume_gap before welcome ignored"));
        }
        self.debug(format_args!(
            "{missed} frames after {last_seq} lost: {message}"
        ));
        self.emit(Event::ResumeGap {
            code,
            message,
            last_seq,
            missed,
        });
    }

    fn on_server_event(&mut self, event: ServerEvent) {
        match event {
            ServerEvent::Welcome { .. } | ServerEvent::Pong | ServerEvent::ResumeGap { .. } => {}
            ServerEvent::Ack { req_id } => match self.outbox.resolve(req_id) {
                Some(e) => {
                    if let Some(call) = e.call {
                        self.finish(call, Ok(CallOk::Sent));
                    }
                }
                None => self.debug(format_args!("ack for unknown reqID {req_id}")),
            },
            ServerEvent::Error {
                req_id: Some(req_id),
                code,
                message,
            } => {
                let err = ApiError { code, message };
                match self.outbox.resolve(req_id) {
                    Some(Entry {
                        call: Some(call), ..
                    }) => self.finish(call, Err(err)),
                    Some(e) => {
                        self.debug(format_args!("{} rejected: {err}", out_frame_type(&e.frame)));
                    }
                    None => self.debug(format_args!("error for unknown reqID {req_id}: {err}")),
                }
            }
            ServerEvent::Error {
                req_id: None,
                code,
                message,
            } => {
                let err = ApiError { code, message };
                if ends_session(code) {
                    self.end_session(err, true);
                } else {
                    self.emit(Event::error(&err));
                }
            }
            room_event => self.on_room_event(room_event),
        }
    }
}
