//! WebSocket frames (`{base}/ws?userID=..&token=..[&lastSeq=n]`), named by
//! direction. Our addition to the original protocol: it replaces Tencent IM
//! for room events, room messages and WebRTC signaling.
//!
//! * [`ClientFrame`] — client → server, optionally tagged with a `reqID`
//!   that the server echoes in its `ack` or `error`.
//! * [`ServerFrame`] — server → client, every one numbered by `seq`
//!   (1, 2, 3, … per login session) so a client that reconnects with
//!   `lastSeq=n` gets exactly the frames after `n`, or `welcome{resumed:false}`
//!   when they are no longer buffered and it must re-fetch its rooms.
//!
//! SDP and custom payloads are opaque to the server; the sender of every
//! relayed or room message is stamped by the server from the token.

use crate::frame::server_events;
use crate::http::{IceServer, Pusher};
use crate::ids::{RoomId, UserId};
use crate::read::wire_struct;
use crate::wire_enum::wire_enum;
use serde::{Deserialize, Serialize};

wire_struct! {
    /// An ICE candidate as `RTCIceCandidate.toJSON()` gives it.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct IceCandidate {
        /// The `candidate:` line ("" marks end of candidates).
        pub candidate: String = "candidate",
        /// Media stream id.
        #[serde(skip_serializing_if = "Option::is_none")]
        pub sdp_mid: Option<String> = "sdpMid",
        /// Media line index.
        #[serde(skip_serializing_if = "Option::is_none", serialize_with = "crate::as_u64::opt")]
        pub sdp_m_line_index: Option<u16> = "sdpMLineIndex",
        /// ICE ufrag.
        #[serde(skip_serializing_if = "Option::is_none")]
        pub username_fragment: Option<String> = "usernameFragment",
    }
}

/// A client frame with its optional request id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientEnvelope {
    /// Echoed in the server's `ack` / `error` for this frame.
    #[serde(
        rename = "reqID",
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::as_u64::opt"
    )]
    pub req_id: Option<u32>,
    /// The frame itself.
    #[serde(flatten)]
    pub frame: ClientFrame,
}

/// Client → server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    /// Keep-alive for runtimes without WebSocket ping (mini-programs); answered by `pong`.
    Ping,
    /// A text message to every other member of the room.
    RoomText {
        /// The room (the sender must be a member).
        #[serde(rename = "roomID")]
        room_id: RoomId,
        /// The message.
        text: String,
    },
    /// A custom message (`cmd` + `msg`) to every other member of the room.
    RoomCustom {
        /// The room (the sender must be a member).
        #[serde(rename = "roomID")]
        room_id: RoomId,
        /// Application command.
        cmd: String,
        /// Application payload.
        msg: String,
    },
    /// SDP offer to one member of the same room.
    Offer {
        /// The room both are in.
        #[serde(rename = "roomID")]
        room_id: RoomId,
        /// Addressee.
        to: UserId,
        /// Session description.
        sdp: String,
    },
    /// SDP answer to one member of the same room.
    Answer {
        /// The room both are in.
        #[serde(rename = "roomID")]
        room_id: RoomId,
        /// Addressee.
        to: UserId,
        /// Session description.
        sdp: String,
    },
    /// ICE candidate to one member of the same room.
    Candidate {
        /// The room both are in.
        #[serde(rename = "roomID")]
        room_id: RoomId,
        /// Addressee.
        to: UserId,
        /// The candidate.
        candidate: IceCandidate,
    },
    /// Ask one member of the same room to start our negotiation over: we
    /// lost signaling state (a reconnect the server could not resume) and
    /// re-created our peer connection to it. The receiver re-creates its own;
    /// the offerer is still the smaller `userID`. Never sent in answer to one.
    Renegotiate {
        /// The room both are in.
        #[serde(rename = "roomID")]
        room_id: RoomId,
        /// Addressee.
        to: UserId,
    },
    /// During a mesh → SFU switch: we play the addressee's video through the
    /// media server and need our mesh peer to it no more. Each side closes
    /// that peer once both have said so, so neither loses the other's video
    /// before its SFU stream plays.
    MeshRelease {
        /// The room both are in.
        #[serde(rename = "roomID")]
        room_id: RoomId,
        /// Addressee.
        to: UserId,
    },
}

impl ClientFrame {
    /// A signaling frame (`offer`, `answer`, `candidate`, `renegotiate`,
    /// `mesh_release`) as the relay sees it: its room, its addressee, and the
    /// event the addressee receives, stamped with the sender `from`; `None`
    /// for any other frame.
    pub fn into_relay(self, from: UserId) -> Option<(RoomId, UserId, ServerEvent)> {
        Some(match self {
            ClientFrame::Offer { room_id, to, sdp } => (
                room_id.clone(),
                to,
                ServerEvent::Offer { room_id, from, sdp },
            ),
            ClientFrame::Answer { room_id, to, sdp } => (
                room_id.clone(),
                to,
                ServerEvent::Answer { room_id, from, sdp },
            ),
            ClientFrame::Candidate {
                room_id,
                to,
                candidate,
            } => (
                room_id.clone(),
                to,
                ServerEvent::Candidate {
                    room_id,
                    from,
                    candidate,
                },
            ),
            ClientFrame::Renegotiate { room_id, to } => (
                room_id.clone(),
                to,
                ServerEvent::Renegotiate { room_id, from },
            ),
            ClientFrame::MeshRelease { room_id, to } => (
                room_id.clone(),
                to,
                ServerEvent::MeshRelease { room_id, from },
            ),
            _ => return None,
        })
    }
}

wire_enum! {
    /// `cmd` of a text message head (original IM custom element).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum TextCmd {
        /// The only value.
        CustomTextMsg = "CustomTextMsg",
    }
}

wire_enum! {
    /// `cmd` of a custom message head.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum CustomCmd {
        /// The only value.
        CustomCmdMsg = "CustomCmdMsg",
    }
}

wire_struct! {
    /// Original text-message head `{"cmd":"CustomTextMsg","data":{"nickName","headPic"}}`.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct TextHead {
        /// Always `CustomTextMsg`.
        pub cmd: TextCmd = "cmd",
        /// Sender's display data.
        pub data: TextHeadData = "data",
    }
}

wire_struct! {
    /// Sender's name and avatar in a text message head.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct TextHeadData {
        /// Sender's userName.
        pub nick_name: String = "nickName",
        /// Sender's userAvatar.
        pub head_pic: String = "headPic",
    }
}

wire_struct! {
    /// Original custom-message head `{"cmd":"CustomCmdMsg","data":{"userName","userAvatar","cmd","msg"}}`.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct CustomHead {
        /// Always `CustomCmdMsg`.
        pub cmd: CustomCmd = "cmd",
        /// Sender and payload.
        pub data: CustomHeadData = "data",
    }
}

wire_struct! {
    /// Body of a custom message head.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct CustomHeadData {
        /// Sender's userName.
        pub user_name: String = "userName",
        /// Sender's userAvatar.
        pub user_avatar: String = "userAvatar",
        /// Application command.
        pub cmd: String = "cmd",
        /// Application payload.
        pub msg: String = "msg",
    }
}

wire_enum! {
    /// Why a member left.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum QuitReason {
        /// It called `delete_pusher` (or logged out).
        Left = "left",
        /// It missed its heartbeats.
        Timeout = "timeout",
        /// Its socket closed and did not come back within the grace period.
        Disconnected = "disconnected",
    }
}

wire_enum! {
    /// Why a room closed.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum CloseReason {
        /// The creator called `destroy_room`.
        Destroyed = "destroyed",
        /// The creator left (or timed out / disconnected).
        CreatorLeft = "creator_left",
    }
}

/// A server frame: a sequence number and an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerFrame {
    /// Per-session sequence number, from 1, without gaps.
    pub seq: u64,
    /// The event.
    #[serde(flatten)]
    pub event: ServerEvent,
}

server_events! {
    /// Server → client.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(tag = "type")]
    pub enum ServerEvent {
        /// First frame on every connection.
        Welcome = "welcome" {
            /// The session's user.
            user_id: UserId = "userID",
            /// True when `lastSeq` was honoured and the frames after it follow;
            /// false when the client must re-fetch its rooms (`get_pushers`).
            resumed: bool = "resumed",
            /// With `[turn]`: the session's ICE servers with TURN credentials
            /// minted for this connection (a full TTL from now), replacing
            /// `login`'s, so a session that outlives its TURN TTL still relays.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            ice_servers: Option<Vec<IceServer>> = "iceServers",
        },
        /// Answer to `ping`.
        Pong = "pong",
        /// The frame with this `reqID` was accepted.
        Ack = "ack" {
            /// The client's request id.
            req_id: u32 = "reqID",
        },
        /// A frame failed (with its `reqID`), or the session itself did (without).
        Error = "error" {
            /// The client's request id, if the error answers a frame.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            req_id: Option<u32> = "reqID",
            /// [`crate::ErrorCode`] number.
            code: i32 = "code",
            /// Detail.
            message: String = "message",
        },
        /// A member entered a room we are in.
        PusherJoin = "pusher_join" {
            /// The room.
            room_id: RoomId = "roomID",
            /// The new member.
            pusher: Pusher = "pusher",
            /// Only to the member the newcomer's first offer goes to (its
            /// `add_pusher` `offer`, the answer's `offeredTo`): that offer, so
            /// the member answers in this frame's own turn. The same offer
            /// follows as an `offer` frame for clients that do not read this
            /// field; a client that read it drops that copy.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            offer: Option<String> = "offer",
        },
        /// A member left a room we are in.
        PusherQuit = "pusher_quit" {
            /// The room.
            room_id: RoomId = "roomID",
            /// The member who left.
            pusher: Pusher = "pusher",
            /// Why.
            reason: QuitReason = "reason",
        },
        /// A room we were in is gone.
        RoomClosed = "room_closed" {
            /// The room.
            room_id: RoomId = "roomID",
            /// Why.
            reason: CloseReason = "reason",
        },
        /// A text message from another member.
        RoomText = "room_text" {
            /// The room.
            room_id: RoomId = "roomID",
            /// Sender, stamped by the server.
            user_id: UserId = "userID",
            /// Original-format head with the sender's name and avatar.
            head: TextHead = "head",
            /// The message.
            text: String = "text",
            /// Server time, unix milliseconds.
            time: u64 = "time",
        },
        /// A custom message from another member.
        RoomCustom = "room_custom" {
            /// The room.
            room_id: RoomId = "roomID",
            /// Sender, stamped by the server.
            user_id: UserId = "userID",
            /// Original-format head with sender, `cmd` and `msg`.
            head: CustomHead = "head",
            /// Server time, unix milliseconds.
            time: u64 = "time",
        },
        /// Relayed SDP offer.
        Offer = "offer" {
            /// The room.
            room_id: RoomId = "roomID",
            /// Sender, stamped by the server.
            from: UserId = "from",
            /// Session description.
            sdp: String = "sdp",
        },
        /// Relayed SDP answer.
        Answer = "answer" {
            /// The room.
            room_id: RoomId = "roomID",
            /// Sender, stamped by the server.
            from: UserId = "from",
            /// Session description.
            sdp: String = "sdp",
        },
        /// Relayed ICE candidate.
        Candidate = "candidate" {
            /// The room.
            room_id: RoomId = "roomID",
            /// Sender, stamped by the server.
            from: UserId = "from",
            /// The candidate.
            candidate: IceCandidate = "candidate",
        },
        /// Relayed request to start the negotiation with `from` over.
        Renegotiate = "renegotiate" {
            /// The room.
            room_id: RoomId = "roomID",
            /// Sender, stamped by the server.
            from: UserId = "from",
        },
        /// Relayed: `from` plays our video through the media server and needs
        /// its mesh peer to us no more (a mesh → SFU switch).
        MeshRelease = "mesh_release" {
            /// The room.
            room_id: RoomId = "roomID",
            /// Sender, stamped by the server.
            from: UserId = "from",
        },
        /// Right after `welcome {resumed: false}` when the client asked to
        /// resume (`lastSeq`) but the frames after it are no longer in the
        /// session's replay buffer (`limits.replay_frames` /
        /// `limits.replay_bytes`): `missed` frames (`lastSeq+1 ..= seq`) were
        /// lost for good and the client must re-fetch its rooms. Within the
        /// window a resume loses nothing and this frame is not sent. Like
        /// `welcome`'s, its `seq` is the last one assigned, not a new one.
        ResumeGap = "resume_gap" {
            /// [`crate::ErrorCode::ResumeGap`] (1019).
            code: i32 = "code",
            /// Detail.
            message: String = "message",
            /// The `lastSeq` the client asked to resume from.
            last_seq: u64 = "lastSeq",
            /// Frames the client will never get (`seq - lastSeq`).
            missed: u64 = "missed",
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resume_gap_wire_shape() {
        let gap = ServerFrame {
            seq: 1100,
            event: ServerEvent::ResumeGap {
                code: 1019,
                message: "m".into(),
                last_seq: 14,
                missed: 1086,
            },
        };
        let s = serde_json::to_string(&gap).unwrap();
        assert_eq!(
            s,
            r#"{"seq":1100,"type":"resume_gap","code":1019,"message":"m","lastSeq":14,"missed":1086}"#
        );
        assert_eq!(serde_json::from_str::<ServerFrame>(&s).unwrap(), gap);
    }

    #[test]
    fn client_frame_round_trip_with_req_id() {
        let json = r#"{"reqID":7,"type":"room_custom","roomID":"r","cmd":"c","msg":"m"}"#;
        let env: ClientEnvelope = serde_json::from_str(json).unwrap();
        assert_eq!(env.req_id, Some(7));
        assert!(matches!(env.frame, ClientFrame::RoomCustom { .. }));
        let back: ClientEnvelope =
            serde_json::from_str(&serde_json::to_string(&env).unwrap()).unwrap();
        assert_eq!(back, env);
    }

    #[test]
    fn text_head_keeps_original_shape() {
        let ev = ServerFrame {
            seq: 3,
            event: ServerEvent::RoomText {
                room_id: RoomId::new("r").unwrap(),
                user_id: UserId::new("u").unwrap(),
                head: TextHead {
                    cmd: TextCmd::CustomTextMsg,
                    data: TextHeadData {
                        nick_name: "a\"b".into(),
                        head_pic: "p".into(),
                    },
                },
                text: "hi".into(),
                time: 1,
            },
        };
        let s = serde_json::to_string(&ev).unwrap();
        assert!(s.starts_with(r#"{"seq":3,"type":"room_text""#), "{s}");
        assert!(
            s.contains(
                r#""head":{"cmd":"CustomTextMsg","data":{"nickName":"a\"b","headPic":"p"}}"#
            ),
            "{s}"
        );
        assert_eq!(serde_json::from_str::<ServerFrame>(&s).unwrap(), ev);
    }

    #[test]
    fn renegotiate_wire_shape() {
        let json = r#"{"reqID":3,"type":"renegotiate","roomID":"r","to":"b"}"#;
        let env: ClientEnvelope = serde_json::from_str(json).unwrap();
        assert_eq!(
            env.frame,
            ClientFrame::Renegotiate {
                room_id: RoomId::new("r").unwrap(),
                to: UserId::new("b").unwrap(),
            }
        );
        let ev = ServerFrame {
            seq: 9,
            event: ServerEvent::Renegotiate {
                room_id: RoomId::new("r").unwrap(),
                from: UserId::new("a").unwrap(),
            },
        };
        let s = serde_json::to_string(&ev).unwrap();
        assert_eq!(
            s,
            r#"{"seq":9,"type":"renegotiate","roomID":"r","from":"a"}"#
        );
        assert_eq!(serde_json::from_str::<ServerFrame>(&s).unwrap(), ev);
    }

    #[test]
    fn mesh_release_is_relayed_with_its_sender() {
        let json = r#"{"type":"mesh_release","roomID":"r","to":"b"}"#;
        let env: ClientEnvelope = serde_json::from_str(json).unwrap();
        let (room, to, event) = env.frame.into_relay(UserId::new("a").unwrap()).unwrap();
        assert_eq!((room.as_str(), to.as_str()), ("r", "b"));
        let s = serde_json::to_string(&ServerFrame { seq: 4, event }).unwrap();
        assert_eq!(
            s,
            r#"{"seq":4,"type":"mesh_release","roomID":"r","from":"a"}"#
        );
    }

    #[test]
    fn unknown_type_is_rejected() {
        assert!(serde_json::from_str::<ClientEnvelope>(r#"{"type":"nope"}"#).is_err());
    }
}
