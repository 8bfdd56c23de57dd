//! What goes into the core: API calls, HTTP replies, WebSocket frames, local
//! WebRTC events and timer wake-ups.

use super::ids::{CallId, ConnId, RequestId};
use super::recovery::PeerState;
use super::reply::ReplyBody;
use rtcroom_protocol::sfu::{SfuLink, SfuServerEvent};
use rtcroom_protocol::ws::{IceCandidate, ServerFrame};
use rtcroom_protocol::{ApiError, RoomId, UserId};
use serde::{Deserialize, Serialize};

/// One input to [`Client::handle`](super::Client::handle).
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// An API call; answered by exactly one [`Output::CallDone`](super::Output::CallDone) with the same id.
    Call {
        /// Caller-chosen id.
        id: CallId,
        /// What to do.
        call: Call,
    },
    /// The answer to an [`HttpRequest`](super::HttpRequest). `Err` carries the
    /// server's non-zero `{code, message}` or a transport failure
    /// ([`ClientError::Network`](super::ClientError::Network), `Timeout`, `BadReply`, `HttpStatus`).
    HttpReply {
        /// The request's id.
        id: RequestId,
        /// The decoded reply (see [`decode_reply`](super::decode_reply)).
        result: Result<ReplyBody, ApiError>,
    },
    /// A decoded frame from the socket `conn`.
    WsFrame {
        /// The socket it came from.
        conn: ConnId,
        /// The frame.
        frame: ServerFrame,
    },
    /// A frame from `conn` that did not decode (e.g. a newer server's event
    /// type). Pass its `seq` when it can be read, so the numbering stays whole.
    WsUndecodable {
        /// The socket it came from.
        conn: ConnId,
        /// The frame's `seq`, if readable.
        seq: Option<u64>,
        /// The decoder's complaint, for the debug log.
        error: String,
    },
    /// The socket `conn` closed or failed (never reported for a socket the
    /// core closed itself with [`Output::WsClose`](super::Output::WsClose), though that is harmless).
    WsClosed {
        /// The socket.
        conn: ConnId,
        /// Close code / reason, for the debug log.
        reason: String,
    },
    /// The spare peer connection ([`PeerAction::Prepare`](super::PeerAction::Prepare))
    /// has its offer set: it rides on the next `add_pusher` that enters a room.
    SpareOffer {
        /// The spare's offer.
        sdp: String,
    },
    /// The local peer connection for `user` produced its offer or answer
    /// (after `setLocalDescription`).
    LocalSdp {
        /// The remote member the peer connection talks to.
        user: UserId,
        /// Offer or answer.
        kind: SdpKind,
        /// The session description.
        sdp: String,
    },
    /// The local peer connection for `user` gathered an ICE candidate.
    LocalIce {
        /// The remote member the peer connection talks to.
        user: UserId,
        /// The candidate (`candidate: ""` marks the end of gathering).
        candidate: IceCandidate,
    },
    /// The ICE state of the local peer connection for `user` changed
    /// (see [`recovery`](super::recovery): a lost media path is repaired).
    PeerState {
        /// The remote member the peer connection talks to.
        user: UserId,
        /// Its new state.
        state: PeerState,
    },
    /// A decoded SFU-room frame from the socket `conn` (numbered with the
    /// others: see [`decode_any_frame`](rtcroom_protocol::frame::decode_any_frame)).
    SfuFrame {
        /// The socket it came from.
        conn: ConnId,
        /// Its sequence number.
        seq: u64,
        /// The event.
        event: SfuServerEvent,
    },
    /// The SFU connection `link` produced its offer (publisher) or answer
    /// (subscriber), after `setLocalDescription`.
    SfuLocalSdp {
        /// Which connection.
        link: SfuLink,
        /// Offer or answer.
        kind: SdpKind,
        /// The session description.
        sdp: String,
    },
    /// The SFU connection `link` gathered an ICE candidate.
    SfuLocalIce {
        /// Which connection.
        link: SfuLink,
        /// The candidate (`candidate: ""` marks the end of gathering).
        candidate: IceCandidate,
    },
    /// The ICE state of the SFU connection `link` changed.
    SfuLinkState {
        /// Which connection.
        link: SfuLink,
        /// Its new state.
        state: PeerState,
    },
    /// The subscriber's video track of `user` decoded a frame: the member's
    /// media now comes through the SFU (its mesh peer, if any, may close).
    SfuMedia {
        /// The member.
        user: UserId,
    },
    /// The time asked for by the last [`Output::Timer`](super::Output::Timer) has come
    /// (early or spurious wake-ups are harmless).
    Timeout,
}

/// An RTCRoom API call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "call",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Call {
    /// Log in and connect the room socket. Done after the socket's first `welcome`.
    Login(LoginParams),
    /// Leave the room, if any, and end the session. Done when the server
    /// answers (succeeds at once when already logged out).
    Logout,
    /// A page of active rooms.
    GetRoomList {
        /// Offset of the first room.
        index: u32,
        /// How many rooms at most.
        cnt: u32,
    },
    /// The members of a room (without ourselves), without entering it.
    GetPushers {
        /// The room.
        room_id: RoomId,
    },
    /// A signed RTMP push URL for our own stream (`get_push_url`), for hosts
    /// that push media over RTMP (the mini-program's `<live-pusher>`). The
    /// session keeps it: every later `add_pusher` (entering, creating,
    /// re-joining) announces it, so the other members get our
    /// `accelerateURL`. Ask for it before entering; a new login forgets it.
    GetPushUrl {
        /// The room the stream is for, when known.
        #[serde(default)]
        room_id: Option<RoomId>,
    },
    /// Create a room and enter it. Done (with the room id) after entering.
    CreateRoom {
        /// Wanted id; the server assigns one when `None`.
        room_id: Option<RoomId>,
        /// Free-form description.
        room_info: String,
        /// The room privilege key (PrivateMapKey) for servers that require
        /// one; kept for the entry's and any re-join's `add_pusher`.
        #[serde(default)]
        private_map_key: Option<String>,
    },
    /// Enter a room: `add_pusher`, then `get_pushers` → [`Event::GetPusherList`](super::Event::GetPusherList).
    EnterRoom {
        /// The room.
        room_id: RoomId,
        /// The room privilege key (PrivateMapKey) for servers that require
        /// one; kept for any re-join's `add_pusher`.
        #[serde(default)]
        private_map_key: Option<String>,
    },
    /// Close every peer and leave the room. Done when the server confirms.
    ExitRoom,
    /// Destroy a room (creator only); members get `room_closed`.
    DestroyRoom {
        /// The room.
        room_id: RoomId,
    },
    /// A text message to the other members. Done on the server's `ack`.
    SendRoomTextMsg {
        /// The message.
        text: String,
    },
    /// A custom `cmd` + `msg` to the other members. Done on the server's `ack`.
    SendRoomCustomMsg {
        /// Application command.
        cmd: String,
        /// Application payload.
        msg: String,
    },
}

/// What `login` needs (Android `LoginInfo` plus the server).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginParams {
    /// RoomService base, e.g. `https://host/weapp/multi_room` (a trailing `/` is ignored).
    pub server_domain: String,
    /// The IM sdkAppID the UserSig was issued for.
    #[serde(rename = "sdkAppID")]
    pub sdk_app_id: u64,
    /// Legacy IM account type (`accType`); may be empty.
    #[serde(default)]
    pub account_type: String,
    /// Who logs in.
    #[serde(rename = "userID")]
    pub user_id: UserId,
    /// The UserSig.
    pub user_sig: String,
    /// Display name shown to others (the user id when empty).
    #[serde(default)]
    pub user_name: String,
    /// Avatar URL shown to others.
    #[serde(default)]
    pub user_avatar: String,
}

/// Which half of an SDP exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SdpKind {
    /// An offer.
    Offer,
    /// An answer.
    Answer,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn calls_round_trip_through_serde() {
        let calls = [
            r#"{"call":"enterRoom","roomId":"r1"}"#,
            r#"{"call":"sendRoomCustomMsg","cmd":"c","msg":"m"}"#,
            r#"{"call":"exitRoom"}"#,
            r#"{"call":"getPushUrl"}"#,
            r#"{"call":"getPushUrl","roomId":"r1"}"#,
            r#"{"call":"login","serverDomain":"https://h","sdkAppID":1,"userID":"u","userSig":"s"}"#,
        ];
        for json in calls {
            let call: Call = serde_json::from_str(json).unwrap();
            let back: Call = serde_json::from_str(&serde_json::to_string(&call).unwrap()).unwrap();
            assert_eq!(back, call, "{json}");
        }
        assert!(serde_json::from_str::<Call>(r#"{"call":"enterRoom","roomId":""}"#).is_err());
    }
}
