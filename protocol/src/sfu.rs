//! WebSocket frames of SFU rooms (rooms past `sfu_threshold` members, whose
//! media goes through RoomService's media server instead of a mesh).
//!
//! Each member holds two connections to the media server: one *publisher*
//! (its camera and microphone, sent once) and one multistream *subscriber*
//! (every other member's tracks, renegotiated as they come and go). The
//! member offers on its publisher and answers on its subscriber; RoomService
//! relays SDP and trickle ICE between the member and the media server over
//! the room WebSocket, so clients never see the media server's API, ids or
//! secrets — only its ICE/DTLS/SRTP endpoint.
//!
//! These frames are their own enums beside [`crate::ws::ClientFrame`] and
//! [`crate::ws::ServerEvent`] (same envelope: `type`, optional `reqID`,
//! server frames numbered by `seq` like every other), so a client that does
//! not know SFU rooms keeps decoding everything else.

use crate::frame::server_events;
use crate::ids::{RoomId, UserId};
use crate::read::wire_struct;
use crate::wire_enum::wire_enum;
use crate::ws::IceCandidate;
use serde::{Deserialize, Serialize};

wire_enum! {
    /// How a room carries media.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum RoomMode {
        /// One peer connection per pair of members (the default).
        Mesh = "mesh",
        /// One publisher and one subscriber connection per member, to the media server.
        Sfu = "sfu",
    }
}

wire_enum! {
    /// Which of a member's two media-server connections a frame is about.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum SfuLink {
        /// The member's own camera/microphone (the member offers).
        Publisher = "publisher",
        /// Everyone else's tracks (the media server offers).
        Subscriber = "subscriber",
    }
}

wire_enum! {
    /// The media server's state as a room's members see it.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum SfuState {
        /// The media server went away: the SFU connections are dead. Keep the
        /// room (messages still flow) and wait for `ready`.
        Lost = "lost",
        /// The room is back on the media server: publish and subscribe again
        /// (sent only after `lost`).
        Ready = "ready",
    }
}

wire_enum! {
    /// Kind of a subscribed track.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum TrackKind {
        /// An audio track.
        Audio = "audio",
        /// A video track.
        Video = "video",
    }
}

wire_struct! {
    /// One track of the subscriber connection: the transceiver with `mid`
    /// carries `kind` of member `userID`.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct SfuStream {
        /// The transceiver's media id in the subscriber SDP.
        pub mid: String = "mid",
        /// The member whose track it is.
        pub user_id: UserId = "userID",
        /// Audio or video.
        pub kind: TrackKind = "kind",
    }
}

/// An SFU frame from the client with its optional request id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SfuClientEnvelope {
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
    pub frame: SfuClientFrame,
}

/// Client → server, in SFU rooms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SfuClientFrame {
    /// Publish (or re-publish, e.g. after an ICE restart) the member's media:
    /// the publisher connection's offer. Answered by `sfu_answer`.
    SfuPublish {
        /// The room (the sender must be a member, the room in SFU mode).
        #[serde(rename = "roomID")]
        room_id: RoomId,
        /// The offer.
        sdp: String,
        /// The first offer of a new publisher connection (a fresh start after
        /// ICE restarts kept failing): the server drops the member's old
        /// media-server publisher and publishes this one anew.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        fresh: bool,
    },
    /// Open (or, with `restart`, ICE-restart) the subscriber connection.
    /// Answered by `sfu_offer` once any other member publishes. Without
    /// `restart` it always means a new subscriber connection: one the
    /// member's media server side already had is dropped and made anew.
    SfuSubscribe {
        /// The room.
        #[serde(rename = "roomID")]
        room_id: RoomId,
        /// Ask for a fresh offer with new ICE credentials.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        restart: bool,
    },
    /// The answer to the latest `sfu_offer`.
    SfuAnswer {
        /// The room.
        #[serde(rename = "roomID")]
        room_id: RoomId,
        /// The answer.
        sdp: String,
    },
    /// A local ICE candidate of one link (`candidate: ""` ends them).
    SfuCandidate {
        /// The room.
        #[serde(rename = "roomID")]
        room_id: RoomId,
        /// Publisher or subscriber connection.
        link: SfuLink,
        /// The candidate.
        candidate: IceCandidate,
    },
}

impl SfuClientFrame {
    /// The room the frame is about.
    pub fn room_id(&self) -> &RoomId {
        match self {
            Self::SfuPublish { room_id, .. }
            | Self::SfuSubscribe { room_id, .. }
            | Self::SfuAnswer { room_id, .. }
            | Self::SfuCandidate { room_id, .. } => room_id,
        }
    }

    /// Whether a frame of this `type` is an SFU frame (the rest are [`crate::ws::ClientFrame`]s).
    pub fn is_sfu_type(ty: &str) -> bool {
        matches!(
            ty,
            "sfu_publish" | "sfu_subscribe" | "sfu_answer" | "sfu_candidate"
        )
    }
}

server_events! {
    /// Server → client, in SFU rooms (numbered by `seq` like every server
    /// frame). Defined through the same table macro as
    /// [`crate::ws::ServerEvent`], so clients decode it field by field too
    /// ([`SfuServerEvent::decode_fields`]).
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(tag = "type")]
    pub enum SfuServerEvent {
        /// The room's media mode, an ordered room event: sent to every member
        /// when the room moves to SFU (after the `pusher_join` of the member who
        /// took it past `sfu_threshold`), and to each member entering a room
        /// that is already in SFU mode. Rooms never move back to mesh.
        RoomMode = "room_mode" {
            /// The room.
            room_id: RoomId = "roomID",
            /// Its mode now.
            mode: RoomMode = "mode",
        },
        /// The media server's answer to `sfu_publish`.
        SfuAnswer = "sfu_answer" {
            /// The room.
            room_id: RoomId = "roomID",
            /// The answer.
            sdp: String = "sdp",
        },
        /// An offer for the subscriber connection (first one, or a
        /// renegotiation as members publish or leave); answer with `sfu_answer`.
        SfuOffer = "sfu_offer" {
            /// The room.
            room_id: RoomId = "roomID",
            /// The offer.
            sdp: String = "sdp",
            /// Which member each active transceiver carries.
            streams: Vec<SfuStream> = "streams",
        },
        /// A candidate of the media server for one link (`candidate: ""` ends them).
        SfuCandidate = "sfu_candidate" {
            /// The room.
            room_id: RoomId = "roomID",
            /// Publisher or subscriber connection.
            link: SfuLink = "link",
            /// The candidate.
            candidate: IceCandidate = "candidate",
        },
        /// The media server was lost or is back.
        SfuState = "sfu_state" {
            /// The room.
            room_id: RoomId = "roomID",
            /// Lost or ready.
            state: SfuState = "state",
        },
    }
}

impl SfuServerEvent {
    /// The room the event is about.
    pub fn room_id(&self) -> &RoomId {
        match self {
            Self::RoomMode { room_id, .. }
            | Self::SfuAnswer { room_id, .. }
            | Self::SfuOffer { room_id, .. }
            | Self::SfuCandidate { room_id, .. }
            | Self::SfuState { room_id, .. } => room_id,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn client_frames_wire_shape() {
        let env: SfuClientEnvelope = serde_json::from_str(
            r#"{"reqID":4,"type":"sfu_candidate","roomID":"r","link":"subscriber","candidate":{"candidate":"c","sdpMid":"0"}}"#,
        )
        .unwrap();
        assert_eq!(env.req_id, Some(4));
        assert!(matches!(
            env.frame,
            SfuClientFrame::SfuCandidate {
                link: SfuLink::Subscriber,
                ..
            }
        ));
        let sub: SfuClientFrame =
            serde_json::from_str(r#"{"type":"sfu_subscribe","roomID":"r"}"#).unwrap();
        assert_eq!(
            sub,
            SfuClientFrame::SfuSubscribe {
                room_id: RoomId::new("r").unwrap(),
                restart: false
            }
        );
        for ty in [
            "sfu_publish",
            "sfu_subscribe",
            "sfu_answer",
            "sfu_candidate",
        ] {
            assert!(SfuClientFrame::is_sfu_type(ty));
        }
        assert!(!SfuClientFrame::is_sfu_type("offer"));
    }

    #[test]
    fn server_events_wire_shape() {
        let ev = SfuServerEvent::SfuOffer {
            room_id: RoomId::new("r").unwrap(),
            sdp: "v=0".into(),
            streams: vec![SfuStream {
                mid: "1".into(),
                user_id: UserId::new("bob").unwrap(),
                kind: TrackKind::Video,
            }],
        };
        assert_eq!(
            serde_json::to_string(&ev).unwrap(),
            r#"{"type":"sfu_offer","roomID":"r","sdp":"v=0","streams":[{"mid":"1","userID":"bob","kind":"video"}]}"#
        );
        let mode = SfuServerEvent::RoomMode {
            room_id: RoomId::new("r").unwrap(),
            mode: RoomMode::Sfu,
        };
        assert_eq!(
            serde_json::to_string(&mode).unwrap(),
            r#"{"type":"room_mode","roomID":"r","mode":"sfu"}"#
        );
        let state = SfuServerEvent::SfuState {
            room_id: RoomId::new("r").unwrap(),
            state: SfuState::Lost,
        };
        assert_eq!(
            serde_json::to_string(&state).unwrap(),
            r#"{"type":"sfu_state","roomID":"r","state":"lost"}"#
        );
    }
}
