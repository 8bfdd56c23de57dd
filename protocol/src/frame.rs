//! Server frames decoded field by field, for clients that hold the frame
//! already parsed (the wasm driver's JS object), and the one table that
//! defines [`ServerEvent`]: the `server_events!` macro writes each variant's
//! `type` and field wire names once and generates both the serde derive's
//! attributes (the server's) and the client's decoder from them.
//!
//! [`ServerFrame`]'s derived `Deserialize` (a `seq` flattened next to an
//! internally tagged event) works with any format, but only by buffering the
//! whole frame into serde's private `Content` tree and walking it again for
//! the variant: in the wasm build that was the largest function by far
//! (~80 KB before gzip). [`decode_frame`] reads `seq` and `type` first, then
//! only that variant's fields, each through its [`Read`](crate::read::Read)
//! (no serde on the client's side, see [`crate::read`]). The tests check it
//! agrees with the derived decoder on every variant.

use crate::read::{field, Doc, ReadError};
use crate::ws::{ServerEvent, ServerFrame};

/// Defines the server event enum from one table — each variant with its
/// `type` and each field with its wire name — and its field-by-field decoder
/// (`decode_fields`) and `TYPES` list from the same table.
macro_rules! server_events {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $(
                $(#[$vdoc:meta])*
                $variant:ident = $wire:literal $({
                    $(
                        $(#[$fdoc:meta])*
                        $field:ident: $fty:ty = $key:literal
                    ),* $(,)?
                })?
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        pub enum $name {
            $(
                $(#[$vdoc])*
                #[serde(rename = $wire)]
                $variant $({
                    $(
                        $(#[$fdoc])*
                        #[serde(rename = $key)]
                        $field: $fty,
                    )*
                })?,
            )*
        }

        impl $name {
            /// Every variant's `type`.
            pub const TYPES: &'static [&'static str] = &[$($wire),*];

            /// The variant `ty`, its fields read from `f` by their wire names.
            pub fn decode_fields<D: $crate::read::Doc>(
                ty: &str,
                f: &D,
            ) -> Result<Self, $crate::read::ReadError> {
                Ok(match ty {
                    $($wire => $name::$variant $({
                        $($field: $crate::read::field::<$fty, D>(f, $key)?,)*
                    })?,)*
                    other => return Err($crate::read::ReadError::unknown_variant(other, Self::TYPES)),
                })
            }
        }
    };
}
pub(crate) use server_events;

/// Decodes a [`ServerFrame`] exactly as its derived `Deserialize` would
/// (unknown fields are ignored, optional ones may be absent or null).
pub fn decode_frame<D: Doc>(f: &D) -> Result<ServerFrame, ReadError> {
    let seq = field(f, "seq")?;
    let ty: String = field(f, "type")?;
    let event = ServerEvent::decode_fields(&ty, f)?;
    Ok(ServerFrame { seq, event })
}

/// A server frame of either table: the room protocol's ([`ServerEvent`]) or
/// the SFU rooms' ([`SfuServerEvent`](crate::sfu::SfuServerEvent)), both
/// numbered by the same `seq`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnyServerFrame {
    /// A frame of [`ServerEvent`].
    Room(ServerFrame),
    /// A frame of an SFU room.
    Sfu {
        /// Its sequence number.
        seq: u64,
        /// The event.
        event: crate::sfu::SfuServerEvent,
    },
}

/// Decodes a frame of either table, field by field like [`decode_frame`].
pub fn decode_any_frame<D: Doc>(f: &D) -> Result<AnyServerFrame, ReadError> {
    let seq = field(f, "seq")?;
    let ty: String = field(f, "type")?;
    if crate::sfu::SfuServerEvent::TYPES.contains(&ty.as_str()) {
        let event = crate::sfu::SfuServerEvent::decode_fields(&ty, f)?;
        return Ok(AnyServerFrame::Sfu { seq, event });
    }
    let event = ServerEvent::decode_fields(&ty, f)?;
    Ok(AnyServerFrame::Room(ServerFrame { seq, event }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::http::Pusher;
    use crate::ws::{
        CloseReason, CustomCmd, CustomHead, CustomHeadData, IceCandidate, QuitReason, TextCmd,
        TextHead, TextHeadData,
    };
    use crate::{RoomId, UserId};
    use serde_json::Value;

    fn decode(json: &str) -> Result<ServerFrame, ReadError> {
        decode_frame(&serde_json::from_str::<Value>(json).unwrap())
    }

    /// One event of every variant; the match makes a new variant fail to
    /// compile here until it has a sample.
    fn samples() -> Vec<ServerEvent> {
        let room_id = RoomId::new("r1").unwrap();
        let user = UserId::new("u1").unwrap();
        let pusher = Pusher {
            user_id: user.clone(),
            user_name: "N \"q\"".into(),
            user_avatar: "a.png".into(),
            accelerate_url: "rtmp://x".into(),
            join_order: None,
        };
        let candidate = IceCandidate {
            candidate: "candidate:1 1 udp 1 127.0.0.1 9 typ host".into(),
            sdp_mid: Some("0".into()),
            sdp_m_line_index: Some(1),
            username_fragment: None,
        };
        let all = vec![
            ServerEvent::Welcome {
                user_id: user.clone(),
                resumed: true,
                ice_servers: None,
            },
            ServerEvent::Welcome {
                user_id: user.clone(),
                resumed: false,
                ice_servers: Some(vec![crate::http::IceServer {
                    urls: vec!["turn:127.0.0.1:3478".into()],
                    username: Some("1700000600:u1".into()),
                    credential: Some("c".into()),
                }]),
            },
            ServerEvent::Pong,
            ServerEvent::Ack { req_id: 7 },
            ServerEvent::Error {
                req_id: Some(8),
                code: 5,
                message: "not a member".into(),
            },
            ServerEvent::Error {
                req_id: None,
                code: 1009,
                message: "replaced".into(),
            },
            ServerEvent::PusherJoin {
                room_id: room_id.clone(),
                pusher: pusher.clone(),
                offer: None,
            },
            ServerEvent::PusherJoin {
                room_id: room_id.clone(),
                pusher: pusher.clone(),
                offer: Some("v=0".into()),
            },
            ServerEvent::PusherQuit {
                room_id: room_id.clone(),
                pusher,
                reason: QuitReason::Timeout,
            },
            ServerEvent::RoomClosed {
                room_id: room_id.clone(),
                reason: CloseReason::CreatorLeft,
            },
            ServerEvent::RoomText {
                room_id: room_id.clone(),
                user_id: user.clone(),
                head: TextHead {
                    cmd: TextCmd::CustomTextMsg,
                    data: TextHeadData {
                        nick_name: "n".into(),
                        head_pic: "p".into(),
                    },
                },
                text: "hi".into(),
                time: 1_700_000_000_000,
            },
            ServerEvent::RoomCustom {
                room_id: room_id.clone(),
                user_id: user.clone(),
                head: CustomHead {
                    cmd: CustomCmd::CustomCmdMsg,
                    data: CustomHeadData {
                        user_name: "n".into(),
                        user_avatar: "p".into(),
                        cmd: "c".into(),
                        msg: "{\"k\":1}".into(),
                    },
                },
                time: 2,
            },
            ServerEvent::Offer {
                room_id: room_id.clone(),
                from: user.clone(),
                sdp: "v=0\r\n".into(),
            },
            ServerEvent::Answer {
                room_id: room_id.clone(),
                from: user.clone(),
                sdp: "v=0\r\n".into(),
            },
            ServerEvent::Candidate {
                room_id: room_id.clone(),
                from: user.clone(),
                candidate,
            },
            ServerEvent::Renegotiate {
                room_id: room_id.clone(),
                from: user.clone(),
            },
            ServerEvent::MeshRelease {
                room_id,
                from: user,
            },
            ServerEvent::ResumeGap {
                code: 1019,
                message: "lost".into(),
                last_seq: 4,
                missed: 300,
            },
        ];
        let mut seen = [false; ServerEvent::TYPES.len()];
        for e in &all {
            let i = match e {
                ServerEvent::Welcome { .. } => 0,
                ServerEvent::Pong => 1,
                ServerEvent::Ack { .. } => 2,
                ServerEvent::Error { .. } => 3,
                ServerEvent::PusherJoin { .. } => 4,
                ServerEvent::PusherQuit { .. } => 5,
                ServerEvent::RoomClosed { .. } => 6,
                ServerEvent::RoomText { .. } => 7,
                ServerEvent::RoomCustom { .. } => 8,
                ServerEvent::Offer { .. } => 9,
                ServerEvent::Answer { .. } => 10,
                ServerEvent::Candidate { .. } => 11,
                ServerEvent::Renegotiate { .. } => 12,
                ServerEvent::ResumeGap { .. } => 13,
                ServerEvent::MeshRelease { .. } => 14,
            };
            seen[i] = true;
        }
        assert!(seen.iter().all(|s| *s), "a variant has no sample");
        all
    }

    #[test]
    fn agrees_with_the_derived_decoder_on_every_variant() {
        for (i, event) in samples().into_iter().enumerate() {
            let frame = ServerFrame {
                seq: i as u64 + 1,
                event,
            };
            let json = serde_json::to_string(&frame).unwrap();
            let derived: ServerFrame = serde_json::from_str(&json).unwrap();
            assert_eq!(decode(&json).unwrap(), derived, "{json}");
            assert_eq!(derived, frame);
        }
    }

    #[test]
    fn every_type_is_a_wire_type() {
        for event in samples() {
            let json = serde_json::to_value(ServerFrame { seq: 1, event }).unwrap();
            let ty = json["type"].as_str().unwrap();
            assert!(ServerEvent::TYPES.contains(&ty), "{ty}");
        }
    }

    #[test]
    fn field_order_and_extra_fields_do_not_matter() {
        let json = r#"{"extra":[1],"roomID":"r","from":"a","sdp":"s","type":"offer","seq":4}"#;
        assert_eq!(
            decode(json).unwrap(),
            serde_json::from_str::<ServerFrame>(json).unwrap()
        );
    }

    #[test]
    fn null_optional_field_is_none() {
        let json = r#"{"seq":1,"type":"error","reqID":null,"code":7,"message":"m"}"#;
        let frame = decode(json).unwrap();
        assert_eq!(frame, serde_json::from_str::<ServerFrame>(json).unwrap());
        assert!(matches!(
            frame.event,
            ServerEvent::Error { req_id: None, .. }
        ));
    }

    #[test]
    fn rejects_what_the_derived_decoder_rejects() {
        let bad = [
            r#"{"seq":1,"type":"nope"}"#,
            r#"{"seq":1}"#,
            r#"{"type":"pong"}"#,
            r#"{"seq":-1,"type":"pong"}"#,
            r#"{"seq":1,"type":"ack"}"#,
            r#"{"seq":1,"type":"ack","reqID":"7"}"#,
            r#"{"seq":1,"type":"welcome","userID":"","resumed":true}"#,
            r#"{"seq":1,"type":"pusher_quit","roomID":"r","pusher":{"userID":"u"},"reason":"gone"}"#,
        ];
        for json in bad {
            assert!(serde_json::from_str::<ServerFrame>(json).is_err(), "{json}");
            assert!(decode(json).is_err(), "{json}");
        }
        let err = decode(r#"{"seq":1,"type":"nope"}"#)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("unknown variant `nope`"), "{err}");
        let err = decode(r#"{"seq":1,"type":"ack"}"#).unwrap_err().to_string();
        assert_eq!(err, "missing field `reqID`");
    }

    #[test]
    fn sfu_frames_decode_like_the_derived_decoder() {
        use crate::sfu::SfuServerEvent;
        let frames = [
            r#"{"seq":3,"type":"room_mode","roomID":"r","mode":"sfu"}"#,
            r#"{"seq":4,"type":"sfu_answer","roomID":"r","sdp":"v=0"}"#,
            r#"{"seq":5,"type":"sfu_offer","roomID":"r","sdp":"v=0","streams":[{"mid":"0","userID":"u","kind":"video"}]}"#,
            r#"{"seq":6,"type":"sfu_candidate","roomID":"r","link":"publisher","candidate":{"candidate":""}}"#,
            r#"{"seq":7,"type":"sfu_state","roomID":"r","state":"ready"}"#,
        ];
        for json in frames {
            let value: Value = serde_json::from_str(json).unwrap();
            let derived: SfuServerEvent = serde_json::from_value(value.clone()).unwrap();
            match decode_any_frame(&value).unwrap() {
                AnyServerFrame::Sfu { event, .. } => assert_eq!(event, derived, "{json}"),
                other => panic!("{json}: {other:?}"),
            }
        }
        let pong = serde_json::json!({"seq": 1, "type": "pong"});
        assert!(matches!(
            decode_any_frame(&pong).unwrap(),
            AnyServerFrame::Room(ServerFrame { seq: 1, .. })
        ));
    }
}
