//! Server frames decoded field by field, for clients whose format can look a
//! field up by name (the wasm driver's parsed JS object). It lives beside
//! [`ServerFrame`] so a new event type is added here in the same change; the
//! tests check every variant against the derived decoder and that every
//! `type` below is one the derive writes.
//!
//! [`ServerFrame`]'s derived `Deserialize` (a `seq` flattened next to an
//! internally tagged event) works with any format, but only by buffering the
//! whole frame into serde's private `Content` tree and walking it again for
//! the variant: in the wasm build that was the largest function by far
//! (~80 KB before gzip). [`decode_frame`] reads `seq` and `type` first, then
//! only that variant's fields, each with its own derived `Deserialize`. The
//! tests check it agrees with the derived decoder on every variant.

use crate::ws::{ServerEvent, ServerFrame};
use serde::de::{DeserializeOwned, Error};

/// A decoded document whose fields can be read by their wire name.
pub trait Fields {
    /// The format's error.
    type Error: Error;
    /// The field `key` as a `T`; `Ok(None)` when it is absent or null.
    fn field<T: DeserializeOwned>(&self, key: &'static str) -> Result<Option<T>, Self::Error>;
}

/// The `type` of each [`ServerEvent`] variant, for the unknown-type error.
const TYPES: &[&str] = &[
    "welcome",
    "pong",
    "ack",
    "error",
    "pusher_join",
    "pusher_quit",
    "room_closed",
    "room_text",
    "room_custom",
    "offer",
    "answer",
    "candidate",
    "renegotiate",
];

fn req<F: Fields, T: DeserializeOwned>(f: &F, key: &'static str) -> Result<T, F::Error> {
    f.field(key)?.ok_or_else(|| F::Error::missing_field(key))
}

/// Decodes a [`ServerFrame`] exactly as its derived `Deserialize` would
/// (unknown fields are ignored, optional ones may be absent or null).
pub fn decode_frame<F: Fields>(f: &F) -> Result<ServerFrame, F::Error> {
    let seq = req(f, "seq")?;
    let ty: String = req(f, "type")?;
    let event = match ty.as_str() {
        "welcome" => ServerEvent::Welcome {
            user_id: req(f, "userID")?,
            resumed: req(f, "resumed")?,
        },
        "pong" => ServerEvent::Pong,
        "ack" => ServerEvent::Ack {
            req_id: req(f, "reqID")?,
        },
        "error" => ServerEvent::Error {
            req_id: f.field("reqID")?,
            code: req(f, "code")?,
            message: req(f, "message")?,
        },
        "pusher_join" => ServerEvent::PusherJoin {
            room_id: req(f, "roomID")?,
            pusher: req(f, "pusher")?,
        },
        "pusher_quit" => ServerEvent::PusherQuit {
            room_id: req(f, "roomID")?,
            pusher: req(f, "pusher")?,
            reason: req(f, "reason")?,
        },
        "room_closed" => ServerEvent::RoomClosed {
            room_id: req(f, "roomID")?,
            reason: req(f, "reason")?,
        },
        "room_text" => ServerEvent::RoomText {
            room_id: req(f, "roomID")?,
            user_id: req(f, "userID")?,
            head: req(f, "head")?,
            text: req(f, "text")?,
            time: req(f, "time")?,
        },
        "room_custom" => ServerEvent::RoomCustom {
            room_id: req(f, "roomID")?,
            user_id: req(f, "userID")?,
            head: req(f, "head")?,
            time: req(f, "time")?,
        },
        "offer" => ServerEvent::Offer {
            room_id: req(f, "roomID")?,
            from: req(f, "from")?,
            sdp: req(f, "sdp")?,
        },
        "answer" => ServerEvent::Answer {
            room_id: req(f, "roomID")?,
            from: req(f, "from")?,
            sdp: req(f, "sdp")?,
        },
        "candidate" => ServerEvent::Candidate {
            room_id: req(f, "roomID")?,
            from: req(f, "from")?,
            candidate: req(f, "candidate")?,
        },
        "renegotiate" => ServerEvent::Renegotiate {
            room_id: req(f, "roomID")?,
            from: req(f, "from")?,
        },
        other => return Err(F::Error::unknown_variant(other, TYPES)),
    };
    Ok(ServerFrame { seq, event })
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
    use serde_json::{Map, Value};

    /// What a JSON driver would lend [`decode_frame`].
    struct Json(Map<String, Value>);

    impl Fields for Json {
        type Error = serde_json::Error;
        fn field<T: DeserializeOwned>(&self, key: &'static str) -> Result<Option<T>, Self::Error> {
            match self.0.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(v) => T::deserialize(v).map(Some),
            }
        }
    }

    fn decode(json: &str) -> Result<ServerFrame, serde_json::Error> {
        decode_frame(&Json(serde_json::from_str(json).unwrap()))
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
                room_id,
                from: user,
            },
        ];
        let mut seen = [false; TYPES.len()];
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
            assert!(TYPES.contains(&ty), "{ty}");
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
}
