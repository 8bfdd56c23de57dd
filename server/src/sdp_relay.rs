//! The fast path for `offer` / `answer` frames: the SDP goes from the
//! sender's frame into the recipient's as the same JSON string literal,
//! never unescaped nor escaped again.
//!
//! An SDP is most of its frame and full of escaped CRLFs; profiling the relay
//! benchmark put over half of the server's CPU in serde_json unescaping it
//! into a `String` (through the `Content` buffer of `ClientEnvelope`'s
//! flattened, internally tagged enum) and escaping it again on the way out.
//! Here the frame is parsed into borrowed fields with the SDP as a
//! [`RawValue`]; anything this path does not accept exactly — another type, a
//! missing or mistyped field, an SDP that is not a JSON string, a bad id —
//! goes down the general path instead, which answers it as before. The
//! frame sent out is the same JSON object [`ServerEvent::Offer`] /
//! [`ServerEvent::Answer`] serialize to (tested below).
//!
//! [`ServerEvent::Offer`]: rtcroom_protocol::ws::ServerEvent::Offer
//! [`ServerEvent::Answer`]: rtcroom_protocol::ws::ServerEvent::Answer

use rtcroom_protocol::{RoomId, UserId};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::borrow::Cow;

/// An `offer` or `answer` frame, parsed without copying its SDP.
#[derive(Debug)]
pub struct SdpFrame<'a> {
    /// `"offer"` or `"answer"`.
    pub kind: &'static str,
    /// The frame's `reqID`.
    pub req_id: Option<u32>,
    /// The room both are in.
    pub room_id: RoomId,
    /// Addressee.
    pub to: UserId,
    /// The SDP as the JSON string literal the client sent.
    pub sdp: &'a RawValue,
}

#[derive(Deserialize)]
struct Fields<'a> {
    #[serde(rename = "type", borrow)]
    ty: Cow<'a, str>,
    #[serde(rename = "reqID")]
    req_id: Option<u32>,
    #[serde(rename = "roomID")]
    room_id: Option<RoomId>,
    to: Option<UserId>,
    #[serde(borrow)]
    sdp: Option<&'a RawValue>,
}

/// The frame as an `offer` / `answer` this path can relay, or None.
pub fn parse(text: &str) -> Option<SdpFrame<'_>> {
    let f: Fields<'_> = serde_json::from_str(text).ok()?;
    let kind = match f.ty.as_ref() {
        "offer" => "offer",
        "answer" => "answer",
        _ => return None,
    };
    // serde_json skips a raw value's escapes without checking them all: a
    // literal it would refuse to decode (`\u12"`, a lone surrogate) must not
    // reach the recipient verbatim.
    let sdp = f.sdp.filter(|s| is_valid_string_literal(s.get()))?;
    Some(SdpFrame {
        kind,
        req_id: f.req_id,
        room_id: f.room_id?,
        to: f.to?,
        sdp,
    })
}

/// Whether `lit` is a JSON string literal serde_json decodes: quotes at both
/// ends, no raw control characters, only the standard escapes, `\uXXXX`
/// with four hex digits and surrogates in proper pairs. No allocation.
fn is_valid_string_literal(lit: &str) -> bool {
    let b = lit.as_bytes();
    if b.len() < 2 || b[0] != b'"' || b[b.len() - 1] != b'"' {
        return false;
    }
    let body = &b[1..b.len() - 1];
    let hex4 = |i: usize| -> Option<u16> {
        let h = body.get(i..i + 4)?;
        u16::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()
    };
    let mut i = 0;
    while i < body.len() {
        match body[i] {
            b'"' | 0..=0x1f => return false,
            b'\\' => match body.get(i + 1) {
                Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => i += 2,
                Some(b'u') => {
                    let Some(unit) = hex4(i + 2) else {
                        return false;
                    };
                    i += 6;
                    match unit {
                        0xD800..=0xDBFF => {
                            let low = (body.get(i) == Some(&b'\\')
                                && body.get(i + 1) == Some(&b'u'))
                            .then(|| hex4(i + 2))
                            .flatten();
                            if !matches!(low, Some(0xDC00..=0xDFFF)) {
                                return false;
                            }
                            i += 6;
                        }
                        0xDC00..=0xDFFF => return false,
                        _ => {}
                    }
                }
                _ => return false,
            },
            _ => i += 1,
        }
    }
    true
}

/// The relayed event, serialized as its `ServerEvent` variant is.
#[derive(Serialize)]
pub struct SdpEvent<'a> {
    /// `"offer"` or `"answer"`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The room.
    #[serde(rename = "roomID")]
    pub room_id: &'a RoomId,
    /// Sender, stamped by the server.
    pub from: &'a UserId,
    /// The SDP, verbatim.
    pub sdp: &'a RawValue,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use rtcroom_protocol::ws::{ClientEnvelope, ClientFrame, ServerEvent};

    const SDP: &str = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\na=x:\"quoted\" \\ \u{e9}\u{1F600}\r\n";

    #[test]
    fn accepts_what_the_general_path_reads_as_offer_or_answer() {
        for kind in ["offer", "answer"] {
            let text = serde_json::json!({"type": kind, "reqID": 7, "roomID": "r1", "to": "bob", "sdp": SDP}).to_string();
            let fast = parse(&text).unwrap();
            let general: ClientEnvelope = serde_json::from_str(&text).unwrap();
            assert_eq!(general.req_id, fast.req_id);
            let (room_id, to, sdp) = match general.frame {
                ClientFrame::Offer { room_id, to, sdp }
                | ClientFrame::Answer { room_id, to, sdp } => (room_id, to, sdp),
                other => panic!("{other:?}"),
            };
            assert_eq!((fast.kind, &fast.room_id, &fast.to), (kind, &room_id, &to));
            assert_eq!(serde_json::from_str::<String>(fast.sdp.get()).unwrap(), sdp);
        }
    }

    #[test]
    fn sends_what_the_server_event_serializes_to() {
        let text = serde_json::json!({"type": "offer", "roomID": "r1", "to": "bob", "sdp": SDP})
            .to_string();
        let f = parse(&text).unwrap();
        let from = UserId::new("alice").unwrap();
        let fast = serde_json::to_value(SdpEvent {
            kind: f.kind,
            room_id: &f.room_id,
            from: &from,
            sdp: f.sdp,
        })
        .unwrap();
        let typed = serde_json::to_value(ServerEvent::Offer {
            room_id: f.room_id.clone(),
            from,
            sdp: SDP.into(),
        })
        .unwrap();
        assert_eq!(fast, typed);
    }

    #[test]
    fn the_literal_check_agrees_with_serde_json() {
        for lit in [
            r#""""#,
            r#""a\r\n""#,
            r#""\u00e9\ud83d\ude00""#,
            r#""\/\b\f\t\"\\""#,
            r#""\u12""#,
            r#""\ud800""#,
            r#""\ud800x""#,
            r#""\udc00""#,
            r#""\x""#,
            "\"a\u{1}\"",
            r#""\""#,
            r#""\uzzzz""#,
        ] {
            let decodes = serde_json::from_str::<String>(lit).is_ok();
            assert_eq!(is_valid_string_literal(lit), decodes, "{lit}");
        }
    }

    #[test]
    fn leaves_everything_else_to_the_general_path() {
        for text in [
            r#"{"type":"ping"}"#,
            r#"{"type":"candidate","roomID":"r","to":"b","candidate":{"candidate":""}}"#,
            r#"{"type":"offer","roomID":"r","to":"b"}"#,
            r#"{"type":"offer","roomID":"r","sdp":"x"}"#,
            r#"{"type":"offer","to":"b","sdp":"x"}"#,
            r#"{"type":"offer","roomID":"r","to":"b","sdp":5}"#,
            r#"{"type":"offer","roomID":"r","to":"b","sdp":null}"#,
            r#"{"type":"offer","roomID":"r","to":"","sdp":"x"}"#,
            r#"{"type":"offer","roomID":"r","to":"b","sdp":"x","reqID":-1}"#,
            r#"{"type":"Offer","roomID":"r","to":"b","sdp":"x"}"#,
            r#"{"roomID":"r","to":"b","sdp":"x"}"#,
            r#"{"type":"offer","roomID":"r","to":"b","sdp":"x""#,
            "not json",
            // Literals serde_json skips over but would not decode.
            r#"{"type":"offer","roomID":"r","to":"b","sdp":"v=0\u12"}"#,
            r#"{"type":"offer","roomID":"r","to":"b","sdp":"\ud800"}"#,
            r#"{"type":"offer","roomID":"r","to":"b","sdp":"\ud800\u0041"}"#,
            r#"{"type":"offer","roomID":"r","to":"b","sdp":"\udc00"}"#,
            r#"{"type":"offer","roomID":"r","to":"b","sdp":"\x"}"#,
        ] {
            assert!(parse(text).is_none(), "{text}");
        }
    }
}
