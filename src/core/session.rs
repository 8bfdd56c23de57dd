//! The login session: `login` (HTTP; the socket opens behind its answer),
//! `logout`, and the end of a session for any reason (logout, the session
//! replaced elsewhere, an expired token, a socket that never connected).

use super::client::Client;
use super::event::Event;
use super::ids::{CallId, RequestId};
use super::input::LoginParams;
use super::output::{CallOk, Output, RequestBody};
use super::reply::ReplyKind;
use super::requests::Req;
use super::url::Urls;
use rtcroom_protocol::command::{self as cmd, Command};
use rtcroom_protocol::http::{Empty, IceServer, LoginResponse};
use rtcroom_protocol::ClientError;
use rtcroom_protocol::{ApiError, ErrorCode, UserId};

/// Where the session is.
#[derive(Debug)]
pub(crate) enum Session {
    /// No session.
    LoggedOut,
    /// `login` is on its way.
    LoggingIn {
        /// The `login` request.
        req: RequestId,
        /// Name and avatar to use once in.
        params: LoginParams,
        /// The server.
        urls: Urls,
    },
    /// We hold a token (the socket may still be opening).
    Active(Auth),
}

/// A live session's credentials and settings.
#[derive(Debug)]
pub(crate) struct Auth {
    pub(crate) urls: Urls,
    pub(crate) user_id: UserId,
    pub(crate) token: String,
    pub(crate) user_name: String,
    pub(crate) user_avatar: String,
    /// `pusher_heartbeat` period (0: none).
    pub(crate) heartbeat_ms: u64,
    pub(crate) ice_servers: Vec<IceServer>,
    /// Our RTMP push URL from `get_push_url` ("" until asked), announced by every `add_pusher`.
    pub(crate) push_url: String,
}

impl Session {
    pub(crate) fn auth(&self) -> Option<&Auth> {
        match self {
            Session::Active(a) => Some(a),
            _ => None,
        }
    }

    pub(crate) fn auth_mut(&mut self) -> Option<&mut Auth> {
        match self {
            Session::Active(a) => Some(a),
            _ => None,
        }
    }
}

/// Codes that mean the session itself is over: do not retry, log in again.
pub(crate) fn ends_session(code: i32) -> bool {
    matches!(
        ErrorCode::from_code(code),
        Some(ErrorCode::SessionReplaced | ErrorCode::AuthFailed | ErrorCode::TokenExpired)
    )
}

impl Client {
    /// Our user id, when logged in.
    pub(super) fn me(&self) -> Option<&UserId> {
        self.session.auth().map(|a| &a.user_id)
    }

    pub(super) fn login(&mut self, call: CallId, params: LoginParams) {
        if !matches!(self.session, Session::LoggedOut) {
            return self.finish(call, Err(ClientError::AlreadyLoggedIn.api()));
        }
        let urls = match Urls::parse(&params.server_domain) {
            Ok(u) => u,
            Err(e) => return self.finish(call, Err(e)),
        };
        let req = self.http_to(
            Req::Login {
                call,
                urls: urls.clone(),
            },
            cmd::Login::NAME,
            urls.login(&params),
            RequestBody::Empty(Empty {}),
            ReplyKind::of::<cmd::Login>(),
        );
        self.session = Session::LoggingIn { req, params, urls };
        // The spare peer connection (the request first), unless it is made
        // already (`spare_at_start`): its offer is ready sooner, for the first
        // enterRoom's add_pusher to carry. Login's ICE servers reach it with
        // the hint at its answer.
        self.hint_spare(Vec::new());
    }

    pub(super) fn on_login_reply(
        &mut self,
        id: RequestId,
        call: CallId,
        urls: Urls,
        result: Result<LoginResponse, ApiError>,
    ) {
        let current = matches!(&self.session, Session::LoggingIn { req, .. } if *req == id);
        if !current {
            // Logged out while this was on its way: end the server session too.
            if let Ok(r) = result {
                let url = urls.command(cmd::Logout::NAME, &r.user_id, &r.token);
                self.send_logout(url, None);
            }
            return;
        }
        let Session::LoggingIn { params, urls, .. } =
            std::mem::replace(&mut self.session, Session::LoggedOut)
        else {
            return;
        };
        let r = match result {
            Ok(r) => r,
            Err(e) => return self.finish(call, Err(e)),
        };
        let user_name = if params.user_name.is_empty() {
            r.user_id.as_str().to_owned()
        } else {
            params.user_name
        };
        self.debug(format_args!("logged in as {}; connecting", r.user_id));
        let user_id = r.user_id.clone();
        self.session = Session::Active(Auth {
            urls,
            user_id: r.user_id,
            token: r.token,
            user_name,
            user_avatar: params.user_avatar,
            heartbeat_ms: r.heartbeat_interval.saturating_mul(1000),
            ice_servers: r.ice_servers,
            push_url: String::new(),
        });
        // Logged in at the HTTP answer: the socket opens behind it, and
        // what the application does meanwhile (enterRoom's add_pusher is
        // HTTP) does not wait for it. Socket frames wait in the outbox until
        // its `welcome`, and the frames the session gets before that are
        // replayed (the first connect asks for them from seq 0). A socket
        // that never connects ends the session with an error event.
        self.socket.reset(&self.cfg);
        self.finish(call, Ok(CallOk::LoggedIn { user_id }));
        // Opened on a timer turn of its own, not in this one: what the app
        // does on login's answer (enterRoom's add_pusher, the join's first step)
        // leaves before the host makes the socket (`new WebSocket` holds a
        // browser's main thread 5-10 ms).
        self.ws_connect_soon();
        // A spare offer from here on (the socket first): the first room
        // entered offers at once instead of making its first peer connection
        // then, and its making overlaps the socket's opening.
        self.prepare_peer();
    }

    pub(super) fn logout(&mut self, call: CallId) {
        match &self.session {
            Session::LoggedOut => self.finish(call, Ok(CallOk::LoggedOut)),
            Session::LoggingIn { req, .. } => {
                // The login reply, when it comes, is ended with its own `logout`.
                let login_call = self.requests.get(req).and_then(Req::call);
                self.session = Session::LoggedOut;
                if let Some(c) = login_call {
                    self.finish(c, Err(ClientError::Cancelled.api()));
                }
                self.finish(call, Ok(CallOk::LoggedOut));
            }
            Session::Active(a) => {
                let url = a.urls.command(cmd::Logout::NAME, &a.user_id, &a.token);
                // The glue drops its spare on logout.
                self.room.forget_spare();
                self.end_session(ClientError::Cancelled.api(), false);
                self.send_logout(url, Some(call));
            }
        }
    }

    pub(super) fn on_logout_reply(&mut self, call: Option<CallId>, result: Result<(), ApiError>) {
        if let Err(e) = &result {
            self.debug(format_args!("logout: {e}"));
        }
        // The session is over locally whatever the server says.
        if let Some(call) = call {
            self.finish(call, Ok(CallOk::LoggedOut));
        }
    }

    pub(super) fn send_logout(&mut self, url: String, call: Option<CallId>) {
        self.http_to(
            Req::Logout { call },
            cmd::Logout::NAME,
            url,
            RequestBody::Empty(Empty {}),
            ReplyKind::of::<cmd::Logout>(),
        );
    }

    /// Ends the session: leaves the room (closing every peer), fails every
    /// pending call with `reason` (an `exitRoom` succeeds: we are out), closes
    /// the socket. `announce` emits `reason` as [`Event::Error`].
    pub(super) fn end_session(&mut self, reason: ApiError, announce: bool) {
        self.abandon_room(&reason);
        for e in self.outbox.clear() {
            if let Some(call) = e.call {
                self.finish(call, Err(reason.clone()));
            }
        }
        // Keep only what outlives a session: `login`s (to log their late
        // tokens out) and `logout`s.
        let requests = std::mem::take(&mut self.requests);
        for (id, req) in requests {
            match req {
                Req::Login { .. } | Req::Logout { .. } => {
                    self.requests.insert(id, req);
                }
                Req::DeletePusher { call: Some(c), .. } => self.finish(c, Ok(CallOk::Exited)),
                other => {
                    if let Some(c) = other.call() {
                        self.finish(c, Err(reason.clone()));
                    }
                }
            }
        }
        if let Some(conn) = self.socket.shutdown() {
            self.push(Output::WsClose { conn });
        }
        self.session = Session::LoggedOut;
        if announce {
            self.emit(Event::error(&reason));
        }
        self.report_conn_state();
    }
}
