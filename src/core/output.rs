//! What comes out of the core: HTTP requests and WebSocket frames to send
//! (as typed, serializable values — the driver picks the format), peer
//! connection actions, events, call completions and timer requests.

use super::event::Event;
use super::ids::{CallId, ConnId, RequestId};
use super::input::SdpKind;
use super::reply::ReplyKind;
use rtcroom_protocol::http::{
    AddPusherRequest, CreateRoomRequest, Empty, GetPushUrlRequest, GetPushersRequest,
    GetRoomListRequest, IceServer, RoomSummary, RoomUserRequest,
};
use rtcroom_protocol::sfu::{SfuClientEnvelope, SfuLink, SfuStream};
use rtcroom_protocol::ws::{ClientEnvelope, IceCandidate};
use rtcroom_protocol::{ApiError, RoomId, UserId};
use serde::Serialize;

/// One output of [`Client::poll`](super::Client::poll). Serializes (for
/// traces) as `{"type": "wsConnect", "data": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(
    tag = "type",
    content = "data",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Output {
    /// POST `body` (serialized by the driver) to `url`; answer with
    /// [`Input::HttpReply`](super::Input::HttpReply).
    Http(HttpRequest),
    /// Open a WebSocket to `url`; report its frames and its close tagged `conn`.
    /// There is at most one live socket: the core closes the old one first.
    WsConnect {
        /// The new socket's id.
        conn: ConnId,
        /// `ws(s)://…/ws?userID=..&token=..[&lastSeq=n]`.
        url: String,
    },
    /// Send `frame` (serialized by the driver) on socket `conn`; drop it if that socket is gone.
    WsSend {
        /// The socket.
        conn: ConnId,
        /// The frame.
        frame: ClientEnvelope,
    },
    /// Send the SFU frame `frame` on socket `conn`, like [`Output::WsSend`].
    WsSendSfu {
        /// The socket.
        conn: ConnId,
        /// The frame.
        frame: SfuClientEnvelope,
    },
    /// Close socket `conn` and forget it.
    WsClose {
        /// The socket.
        conn: ConnId,
    },
    /// Act on a peer connection.
    Peer(PeerAction),
    /// Tell the application (the `IRTCRoomListener` callbacks).
    Event(Event),
    /// An API call is over; each [`CallId`] gets exactly one.
    CallDone {
        /// The call.
        id: CallId,
        /// Its outcome.
        result: Result<CallOk, ApiError>,
    },
    /// Feed [`Input::Timeout`](super::Input::Timeout) at `at_ms` (same clock as `now_ms`).
    /// Replaces any earlier request.
    Timer {
        /// When.
        at_ms: u64,
    },
}

/// An HTTP POST for the driver to make.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpRequest {
    /// Echo it in [`Input::HttpReply`](super::Input::HttpReply).
    pub id: RequestId,
    /// The command name (`login`, `add_pusher`, …), for logs.
    pub cmd: &'static str,
    /// Full URL with its query string.
    pub url: String,
    /// The JSON body.
    pub body: RequestBody,
    /// What to decode a `code == 0` reply as.
    pub expect: ReplyKind,
}

/// An HTTP request body; serializes as the inner value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum RequestBody {
    /// `{}` (`login` — credentials travel in the query — and `logout`).
    Empty(Empty),
    /// `get_push_url`.
    GetPushUrl(GetPushUrlRequest),
    /// `get_room_list`.
    GetRoomList(GetRoomListRequest),
    /// `get_pushers`.
    GetPushers(GetPushersRequest),
    /// `create_room`.
    CreateRoom(CreateRoomRequest),
    /// `add_pusher`.
    AddPusher(AddPusherRequest),
    /// `delete_pusher`, `pusher_heartbeat`, `destroy_room`.
    RoomUser(RoomUserRequest),
}

macro_rules! bodies {
    ($($ty:ident => $variant:ident),* $(,)?) => {
        $(impl From<$ty> for RequestBody {
            fn from(b: $ty) -> Self {
                RequestBody::$variant(b)
            }
        })*
    };
}

bodies! {
    Empty => Empty,
    GetPushUrlRequest => GetPushUrl,
    GetRoomListRequest => GetRoomList,
    GetPushersRequest => GetPushers,
    CreateRoomRequest => CreateRoom,
    AddPusherRequest => AddPusher,
    RoomUserRequest => RoomUser,
}

/// What to do with the peer connection to one remote member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(
    tag = "action",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum PeerAction {
    /// Create a peer connection to `user`. When `offerer`, create an offer and
    /// report it with [`Input::LocalSdp`](super::Input::LocalSdp); otherwise wait for
    /// [`PeerAction::SetRemoteSdp`] with the remote offer, then answer.
    /// `Create` for a user whose peer exists replaces it.
    Create {
        /// The remote member.
        user: UserId,
        /// Whether this side offers (our user id sorts before theirs).
        offerer: bool,
        /// STUN/TURN servers from `login`.
        ice_servers: Vec<IceServer>,
        /// The offer already went out: the spare offer reported with
        /// [`Input::SpareOffer`](super::Input::SpareOffer) rode on `add_pusher`
        /// to this member. Use that spare peer connection and do not report
        /// its offer again (its candidates not in the SDP still follow).
        offered: bool,
    },
    /// Apply the remote description; after a remote offer, create and report an answer.
    SetRemoteSdp {
        /// The remote member.
        user: UserId,
        /// Offer or answer.
        kind: SdpKind,
        /// The description.
        sdp: String,
    },
    /// Add a remote ICE candidate (always after its `SetRemoteSdp`).
    AddIce {
        /// The remote member.
        user: UserId,
        /// The candidate.
        candidate: IceCandidate,
    },
    /// Restart ICE on the peer connection to `user` (we offer): create an
    /// offer with fresh ICE credentials and report it with
    /// [`Input::LocalSdp`](super::Input::LocalSdp), as after `Create`.
    RestartIce {
        /// The remote member.
        user: UserId,
    },
    /// Close and forget the peer connection to `user`.
    Close {
        /// The remote member.
        user: UserId,
    },
    /// Open the SFU connection `link` (replacing one that exists). The
    /// publisher sends our tracks (one audio, one video sender) and reports
    /// its offer with [`Input::SfuLocalSdp`](super::Input::SfuLocalSdp); the
    /// subscriber waits for [`PeerAction::SfuRemoteSdp`] with the media
    /// server's offer.
    SfuOpen {
        /// Which connection.
        link: SfuLink,
        /// STUN/TURN servers from `login`.
        ice_servers: Vec<IceServer>,
    },
    /// Apply the media server's description to `link`: the publisher's
    /// answer, or a subscriber offer (answer it, in the order given, and
    /// report the answer). `streams` maps the subscriber's transceivers
    /// (`mid`) to members; empty for the publisher.
    SfuRemoteSdp {
        /// Which connection.
        link: SfuLink,
        /// Offer or answer.
        kind: SdpKind,
        /// The description.
        sdp: String,
        /// Which member and kind each subscriber `mid` carries.
        streams: Vec<SfuStream>,
    },
    /// Add a media-server candidate to `link` (always after its first `SfuRemoteSdp`).
    SfuAddIce {
        /// Which connection.
        link: SfuLink,
        /// The candidate.
        candidate: IceCandidate,
    },
    /// Restart ICE on the publisher: a new offer with fresh ICE credentials,
    /// reported like the first.
    SfuRestartIce {
        /// Which connection (the publisher; the subscriber's restart is the
        /// media server's offer).
        link: SfuLink,
    },
    /// Close and forget the SFU connection `link`; views keep their element
    /// (and swap back to a mesh stream when one plays).
    SfuClose {
        /// Which connection.
        link: SfuLink,
    },
    /// New STUN/TURN servers (a `welcome` brought fresh TURN credentials):
    /// set them on every existing peer connection, so that its next ICE
    /// restart gathers relay candidates with credentials that have not
    /// lapsed. A glue may ignore it (its peers keep the servers they were
    /// created with, and lose the relay once those expire).
    UpdateIceServers {
        /// STUN/TURN servers from the latest `welcome`.
        ice_servers: Vec<IceServer>,
    },
    /// A hint on entering a room: make a spare peer connection with its offer
    /// already created (and its candidates gathering), so that the next
    /// `Create` with `offerer` and the same servers can send its offer at
    /// once. A glue may ignore it; nothing is reported for the spare itself.
    Prepare {
        /// STUN/TURN servers from `login`.
        ice_servers: Vec<IceServer>,
    },
}

/// The result of a successful call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum CallOk {
    /// `login`: the session's user.
    LoggedIn {
        /// The user, as the server spells it.
        #[serde(rename = "userID")]
        user_id: UserId,
    },
    /// `logout`.
    LoggedOut,
    /// `getRoomList`.
    RoomList {
        /// The page of rooms.
        rooms: Vec<RoomSummary>,
        /// Active rooms in all.
        #[serde(serialize_with = "rtcroom_protocol::as_u64::field")]
        total: u32,
    },
    /// `getPushUrl`: the signed push URL (also kept by the session).
    PushUrl {
        /// `rtmp://{push_host}/live/{stream}?bizid=..&txSecret=..&txTime=..`.
        #[serde(rename = "pushURL")]
        push_url: String,
    },
    /// `getPushers`: the room, its `pushers` without ourselves.
    Pushers(RoomSummary),
    /// `createRoom`: created and entered.
    RoomCreated {
        /// The room's id (given or assigned).
        #[serde(rename = "roomID")]
        room_id: RoomId,
    },
    /// `enterRoom`: entered.
    Entered {
        /// The room.
        #[serde(rename = "roomID")]
        room_id: RoomId,
    },
    /// `exitRoom`.
    Exited,
    /// `destroyRoom`.
    RoomDestroyed,
    /// `sendRoomTextMsg` / `sendRoomCustomMsg`: the server accepted it.
    Sent,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use rtcroom_protocol::http::Pusher;
    use rtcroom_protocol::ws::ClientFrame;

    #[test]
    fn every_kind_of_output_serializes() {
        let user = UserId::new("u").unwrap();
        let outputs = [
            Output::Event(Event::GetPusherList(vec![Pusher {
                user_id: user.clone(),
                user_name: "n".into(),
                user_avatar: String::new(),
                accelerate_url: String::new(),
                join_order: None,
            }])),
            Output::Event(Event::DebugLog("x".into())),
            Output::Event(Event::ConnectionStateChange(
                super::super::ConnectionState::Connected,
            )),
            Output::Peer(PeerAction::Close { user: user.clone() }),
            Output::WsSend {
                conn: ConnId(1),
                frame: ClientEnvelope {
                    req_id: Some(2),
                    frame: ClientFrame::Ping,
                },
            },
            Output::CallDone {
                id: CallId(3),
                result: Ok(CallOk::LoggedOut),
            },
            Output::Timer { at_ms: 9 },
        ];
        let json: Vec<String> = outputs
            .iter()
            .map(|o| serde_json::to_string(o).unwrap())
            .collect();
        assert_eq!(
            json[1],
            r#"{"type":"event","data":{"type":"debugLog","data":"x"}}"#
        );
        assert_eq!(
            json[3],
            r#"{"type":"peer","data":{"action":"close","user":"u"}}"#
        );
        assert_eq!(json[6], r#"{"type":"timer","data":{"atMs":9}}"#);
    }
}
