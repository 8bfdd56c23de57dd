//! Typed HTTP replies. The core never parses JSON: each [`HttpRequest`](super::HttpRequest)
//! says which [`ReplyKind`] it expects, and the driver decodes the reply,
//! parsed by its host, through [`decode_reply`] (the protocol's readers,
//! [`rtcroom_protocol::read`]).

use rtcroom_protocol::command::Command;
use rtcroom_protocol::http::{
    AddPusherResponse, CreateRoomResponse, Empty, GetPushUrlResponse, GetRoomListResponse,
    LoginResponse, RoomSummary,
};
use rtcroom_protocol::read::{Doc, Read, ReadError};
use serde::{Deserialize, Serialize};

/// The shape of a successful reply (the fields next to `code` and `message`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ReplyKind {
    /// `login` → [`LoginResponse`].
    Login,
    /// Commands whose extra fields the core ignores (`logout`,
    /// `delete_pusher`, `pusher_heartbeat`, `destroy_room`).
    Empty,
    /// `add_pusher` → [`AddPusherResponse`] (its roster, when the server sends one).
    AddPusher,
    /// `get_room_list` → [`GetRoomListResponse`].
    RoomList,
    /// `get_pushers` → [`RoomSummary`].
    Pushers,
    /// `create_room` → [`CreateRoomResponse`].
    CreateRoom,
    /// `get_push_url` → [`GetPushUrlResponse`].
    PushUrl,
}

impl ReplyKind {
    /// What command `C`'s reply decodes as (from the protocol's command table).
    pub fn of<C: Command>() -> Self
    where
        C::Reply: Expect,
    {
        C::Reply::KIND
    }
}

/// A reply type of the command table and the [`ReplyKind`] it is decoded as.
pub trait Expect {
    /// The kind.
    const KIND: ReplyKind;
}

macro_rules! expect {
    ($($ty:ty => $kind:ident),* $(,)?) => {
        $(impl Expect for $ty {
            const KIND: ReplyKind = ReplyKind::$kind;
        })*
    };
}

expect! {
    LoginResponse => Login,
    Empty => Empty,
    AddPusherResponse => AddPusher,
    GetRoomListResponse => RoomList,
    RoomSummary => Pushers,
    CreateRoomResponse => CreateRoom,
    GetPushUrlResponse => PushUrl,
}

/// A successful reply, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyBody {
    /// See [`ReplyKind::Login`].
    Login(LoginResponse),
    /// See [`ReplyKind::Empty`].
    Empty,
    /// See [`ReplyKind::AddPusher`].
    AddPusher(AddPusherResponse),
    /// See [`ReplyKind::RoomList`].
    RoomList(GetRoomListResponse),
    /// See [`ReplyKind::Pushers`].
    Pushers(RoomSummary),
    /// See [`ReplyKind::CreateRoom`].
    CreateRoom(CreateRoomResponse),
    /// See [`ReplyKind::PushUrl`].
    PushUrl(GetPushUrlResponse),
}

impl ReplyBody {
    /// The kind this body is.
    pub fn kind(&self) -> ReplyKind {
        match self {
            ReplyBody::Login(_) => ReplyKind::Login,
            ReplyBody::Empty => ReplyKind::Empty,
            ReplyBody::AddPusher(_) => ReplyKind::AddPusher,
            ReplyBody::RoomList(_) => ReplyKind::RoomList,
            ReplyBody::Pushers(_) => ReplyKind::Pushers,
            ReplyBody::CreateRoom(_) => ReplyKind::CreateRoom,
            ReplyBody::PushUrl(_) => ReplyKind::PushUrl,
        }
    }
}

/// Decodes a reply document whose envelope has `code == 0` as `kind`.
/// Drivers first read [`ApiError`](rtcroom_protocol::ApiError)
/// (`{code, message}`) from the same document, and call this only for code 0;
/// unknown fields (including `code` and `message`) are ignored.
pub fn decode_reply<D: Doc>(kind: ReplyKind, d: &D) -> Result<ReplyBody, ReadError> {
    Ok(match kind {
        ReplyKind::Login => ReplyBody::Login(LoginResponse::read(d)?),
        ReplyKind::Empty => ReplyBody::Empty,
        ReplyKind::AddPusher => ReplyBody::AddPusher(AddPusherResponse::read(d)?),
        ReplyKind::RoomList => ReplyBody::RoomList(GetRoomListResponse::read(d)?),
        ReplyKind::Pushers => ReplyBody::Pushers(RoomSummary::read(d)?),
        ReplyKind::CreateRoom => ReplyBody::CreateRoom(CreateRoomResponse::read(d)?),
        ReplyKind::PushUrl => ReplyBody::PushUrl(GetPushUrlResponse::read(d)?),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use rtcroom_protocol::ApiError;

    /// What a JSON driver does with a reply document.
    fn decode_json(kind: ReplyKind, json: &str) -> Result<ReplyBody, ApiError> {
        let doc: serde_json::Value = serde_json::from_str(json).unwrap();
        let env = ApiError::read(&doc).unwrap();
        if env.code != 0 {
            return Err(env);
        }
        Ok(decode_reply(kind, &doc).unwrap())
    }

    #[test]
    fn decodes_login_with_envelope_fields_around() {
        let json = r#"{"code":0,"message":"ok","userID":"u1","token":"t","tokenTTL":60,
            "heartbeatInterval":5,"iceServers":[{"urls":["stun:s"]}]}"#;
        let ReplyBody::Login(r) = decode_json(ReplyKind::Login, json).unwrap() else {
            panic!("not a login reply");
        };
        assert_eq!(r.user_id.as_str(), "u1");
        assert_eq!(r.heartbeat_interval, 5);
        assert_eq!(r.ice_servers.len(), 1);
    }

    #[test]
    fn empty_ignores_any_fields() {
        let json = r#"{"code":0,"message":"ok","roomID":"r1","extra":[1,2]}"#;
        assert_eq!(decode_json(ReplyKind::Empty, json), Ok(ReplyBody::Empty));
    }

    #[test]
    fn add_pusher_with_and_without_a_roster() {
        let json = r#"{"code":0,"message":"ok","roomID":"r1"}"#;
        let ReplyBody::AddPusher(r) = decode_json(ReplyKind::AddPusher, json).unwrap() else {
            panic!("not an add_pusher reply");
        };
        assert_eq!(r.pushers, None, "the original server's answer");
        let json = r#"{"code":0,"message":"ok","roomID":"r1",
            "pushers":[{"userID":"a","userName":"A","userAvatar":"","accelerateURL":""}]}"#;
        let ReplyBody::AddPusher(r) = decode_json(ReplyKind::AddPusher, json).unwrap() else {
            panic!("not an add_pusher reply");
        };
        assert_eq!(r.pushers.unwrap()[0].user_name, "A");
    }

    #[test]
    fn non_zero_code_is_an_error() {
        let json = r#"{"code":5001,"message":"room is full"}"#;
        assert_eq!(decode_json(ReplyKind::Empty, json).unwrap_err().code, 5001);
    }

    #[test]
    fn push_url() {
        let json = r#"{"code":0,"message":"ok","pushURL":"rtmp://h/live/s?txTime=A"}"#;
        let ReplyBody::PushUrl(r) = decode_json(ReplyKind::PushUrl, json).unwrap() else {
            panic!("not a push URL reply");
        };
        assert_eq!(r.push_url, "rtmp://h/live/s?txTime=A");
    }

    #[test]
    fn pushers_and_room_list() {
        let room = r#"{"roomID":"r","roomInfo":"i","roomCreator":"a","mixedPlayURL":"",
            "pushers":[{"userID":"a","userName":"A","userAvatar":"","accelerateURL":""}]}"#;
        let json = format!(r#"{{"code":0,"message":"","rooms":[{room}],"total":1}}"#);
        let ReplyBody::RoomList(l) = decode_json(ReplyKind::RoomList, &json).unwrap() else {
            panic!("not a room list");
        };
        assert_eq!(l.rooms[0].pushers[0].user_name, "A");
        let json = format!(r#"{{"code":0,"message":"",{}"#, &room[1..]);
        let body = decode_json(ReplyKind::Pushers, &json).unwrap();
        assert_eq!(body.kind(), ReplyKind::Pushers);
    }
}
