//! The HTTP requests in flight ([`Req`]: what each was for) and the routing
//! of their replies to the part of the client that asked.

use super::client::Client;
use super::ids::{CallId, RequestId};
use super::output::CallOk;
use super::reply::{ReplyBody, ReplyKind};
use super::session::ends_session;
use super::url::Urls;
use rtcroom_protocol::ClientError;
use rtcroom_protocol::{ApiError, RoomId};

/// Why a request was made.
#[derive(Debug, Clone)]
pub(crate) enum Req {
    /// `login` for a call (the server kept to log the token out if the call was cancelled).
    Login { call: CallId, urls: Urls },
    /// `logout`, for a call or as clean-up.
    Logout { call: Option<CallId> },
    /// `get_push_url` for a call (the session keeps the URL).
    PushUrl { call: CallId },
    /// `get_room_list` for a call.
    RoomList { call: CallId },
    /// `get_pushers` for a call (not the room flow).
    GetPushers { call: CallId },
    /// `destroy_room` for a call.
    DestroyRoom { call: CallId },
    /// `create_room` of the room flow (the call is in the room phase).
    CreateRoom,
    /// `add_pusher` of the room flow (enter or re-join).
    AddPusher { room_id: RoomId },
    /// `get_pushers` of the room flow (enter or re-sync).
    RoomPushers { room_id: RoomId },
    /// `delete_pusher`, for `exitRoom` or as clean-up.
    DeletePusher {
        room_id: RoomId,
        call: Option<CallId>,
    },
    /// `pusher_heartbeat`.
    Heartbeat { room_id: RoomId },
}

impl Req {
    /// The call this request answers directly, if any.
    pub(crate) fn call(&self) -> Option<CallId> {
        match self {
            Req::Login { call, .. }
            | Req::PushUrl { call }
            | Req::RoomList { call }
            | Req::GetPushers { call }
            | Req::DestroyRoom { call } => Some(*call),
            Req::Logout { call } | Req::DeletePusher { call, .. } => *call,
            Req::CreateRoom
            | Req::AddPusher { .. }
            | Req::RoomPushers { .. }
            | Req::Heartbeat { .. } => None,
        }
    }
}

/// The reply's body as `T`, or `BadReply` when the driver decoded another kind.
fn expect<T>(
    r: Result<ReplyBody, ApiError>,
    pick: impl FnOnce(ReplyBody) -> Option<T>,
) -> Result<T, ApiError> {
    let body = r?;
    let kind = body.kind();
    pick(body).ok_or_else(|| unexpected(kind))
}

/// The error of [`expect`], once for all its instances.
#[cold]
#[inline(never)]
fn unexpected(kind: ReplyKind) -> ApiError {
    ClientError::BadReply.with_message(format!("unexpected reply kind {kind:?}"))
}

/// Success or failure of a command whose reply fields are ignored.
fn done(r: Result<ReplyBody, ApiError>) -> Result<(), ApiError> {
    r.map(|_| ())
}

impl Client {
    pub(super) fn on_http_reply(&mut self, id: RequestId, result: Result<ReplyBody, ApiError>) {
        let Some(req) = self.requests.remove(&id) else {
            return self.debug(format_args!("reply to unknown {id}"));
        };
        // A rejected token ends the session (after the request's own handling).
        let session_over = match (&req, &result) {
            (Req::Login { .. } | Req::Logout { .. }, _) => None,
            (_, Err(e)) if ends_session(e.code) => Some(e.clone()),
            _ => None,
        };
        match req {
            Req::Login { call, urls } => {
                let r = expect(result, |b| match b {
                    ReplyBody::Login(r) => Some(r),
                    _ => None,
                });
                self.on_login_reply(id, call, urls, r);
            }
            Req::Logout { call } => self.on_logout_reply(call, done(result)),
            Req::PushUrl { call } => {
                let r = expect(result, |b| match b {
                    ReplyBody::PushUrl(r) => Some(r.push_url),
                    _ => None,
                });
                if let (Ok(url), Some(auth)) = (&r, self.session.auth_mut()) {
                    auth.push_url = url.clone();
                }
                self.finish(call, r.map(|push_url| CallOk::PushUrl { push_url }));
            }
            Req::RoomList { call } => {
                let r = expect(result, |b| match b {
                    ReplyBody::RoomList(l) => Some(CallOk::RoomList {
                        rooms: l.rooms,
                        total: l.total,
                    }),
                    _ => None,
                });
                self.finish(call, r);
            }
            Req::GetPushers { call } => {
                let r = expect(result, |b| match b {
                    ReplyBody::Pushers(s) => Some(s),
                    _ => None,
                });
                let r = r.map(|mut s| {
                    s.pushers = self.others(std::mem::take(&mut s.pushers));
                    CallOk::Pushers(s)
                });
                self.finish(call, r);
            }
            Req::DestroyRoom { call } => {
                self.finish(call, done(result).map(|()| CallOk::RoomDestroyed));
            }
            Req::CreateRoom => {
                let r = expect(result, |b| match b {
                    ReplyBody::CreateRoom(c) => Some(c.room_id),
                    _ => None,
                });
                self.on_create_reply(id, r);
            }
            Req::AddPusher { room_id } => {
                let r = expect(result, |b| match b {
                    ReplyBody::AddPusher(r) => Some((r.pushers, r.offered_to)),
                    _ => None,
                });
                self.on_add_pusher_reply(id, room_id, r);
            }
            Req::RoomPushers { room_id } => {
                let r = expect(result, |b| match b {
                    ReplyBody::Pushers(s) => Some(s),
                    _ => None,
                });
                self.on_room_pushers_reply(id, room_id, r);
            }
            Req::DeletePusher { room_id, call } => {
                self.on_delete_reply(room_id, call, done(result));
            }
            Req::Heartbeat { room_id } => self.on_heartbeat_reply(room_id, done(result)),
        }
        if let Some(e) = session_over {
            if self.session.auth().is_some() {
                self.end_session(e, true);
            }
        }
    }
}
