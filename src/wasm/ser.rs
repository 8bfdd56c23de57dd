//! Rust values as JSON text through serde, the text `JSON.stringify` would
//! give for the JS object serde-wasm-bindgen (JSON-compatible mode) built:
//! fields in order, `None` and `()` as `null`, unit variants as strings,
//! other variants as `{"Variant": …}`, strings escaped as `JSON.stringify`
//! escapes them.
//!
//! Request bodies and socket frames go out as this text; values handed to
//! JS (pushers, rooms, ICE servers and candidates) are this text through
//! `JSON.parse`. One small writer replaces building every object property
//! by property across the wasm boundary.

use serde::ser::{self, Serialize};
use std::fmt::{self, Write as _};

/// A value that has no JSON form here (bytes, a map key that is not a string).
#[derive(Debug)]
pub struct Unsupported;

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not JSON-serializable")
    }
}

impl std::error::Error for Unsupported {}

impl ser::Error for Unsupported {
    fn custom<T: fmt::Display>(_msg: T) -> Self {
        Unsupported
    }
}

/// `v` as JSON text.
pub fn to_json<T: Serialize + ?Sized>(v: &T) -> Result<String, Unsupported> {
    let mut out = String::new();
    v.serialize(Writer(&mut out))?;
    Ok(out)
}

/// Writes one value to the string.
struct Writer<'a>(&'a mut String);

fn string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if c < ' ' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

impl<'a> Writer<'a> {
    fn int(self, n: impl fmt::Display) -> Result<(), Unsupported> {
        write!(self.0, "{n}").map_err(|_| Unsupported)
    }

    /// Opens `{"variant":` + `open`; the compound closes both.
    fn variant(self, variant: &str, open: char, close: &'static str) -> Compound<'a> {
        self.0.push('{');
        string(self.0, variant);
        self.0.push(':');
        self.0.push(open);
        Compound {
            out: self.0,
            first: true,
            close,
        }
    }

    fn open(self, open: char, close: &'static str) -> Compound<'a> {
        self.0.push(open);
        Compound {
            out: self.0,
            first: true,
            close,
        }
    }
}

impl<'a> ser::Serializer for Writer<'a> {
    type Ok = ();
    type Error = Unsupported;
    type SerializeSeq = Compound<'a>;
    type SerializeTuple = Compound<'a>;
    type SerializeTupleStruct = Compound<'a>;
    type SerializeTupleVariant = Compound<'a>;
    type SerializeMap = Compound<'a>;
    type SerializeStruct = Compound<'a>;
    type SerializeStructVariant = Compound<'a>;

    fn serialize_bool(self, v: bool) -> Result<(), Unsupported> {
        self.0.push_str(if v { "true" } else { "false" });
        Ok(())
    }

    fn serialize_i8(self, v: i8) -> Result<(), Unsupported> {
        self.int(v)
    }

    fn serialize_i16(self, v: i16) -> Result<(), Unsupported> {
        self.int(v)
    }

    fn serialize_i32(self, v: i32) -> Result<(), Unsupported> {
        self.int(v)
    }

    fn serialize_i64(self, v: i64) -> Result<(), Unsupported> {
        self.int(v)
    }

    fn serialize_u8(self, v: u8) -> Result<(), Unsupported> {
        self.int(v)
    }

    fn serialize_u16(self, v: u16) -> Result<(), Unsupported> {
        self.int(v)
    }

    fn serialize_u32(self, v: u32) -> Result<(), Unsupported> {
        self.int(v)
    }

    fn serialize_u64(self, v: u64) -> Result<(), Unsupported> {
        self.int(v)
    }

    fn serialize_f32(self, v: f32) -> Result<(), Unsupported> {
        self.serialize_f64(f64::from(v))
    }

    /// As `JSON.stringify` writes numbers (`null` when not finite).
    fn serialize_f64(self, v: f64) -> Result<(), Unsupported> {
        if v.is_finite() {
            self.0.push_str(&super::js::number_text(&v.into()));
        } else {
            self.0.push_str("null");
        }
        Ok(())
    }

    fn serialize_char(self, v: char) -> Result<(), Unsupported> {
        string(self.0, v.encode_utf8(&mut [0; 4]));
        Ok(())
    }

    fn serialize_str(self, v: &str) -> Result<(), Unsupported> {
        string(self.0, v);
        Ok(())
    }

    fn serialize_bytes(self, _v: &[u8]) -> Result<(), Unsupported> {
        Err(Unsupported)
    }

    fn serialize_none(self) -> Result<(), Unsupported> {
        self.serialize_unit()
    }

    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<(), Unsupported> {
        v.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), Unsupported> {
        self.0.push_str("null");
        Ok(())
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Unsupported> {
        self.serialize_unit()
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), Unsupported> {
        self.serialize_str(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        v: &T,
    ) -> Result<(), Unsupported> {
        v.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        v: &T,
    ) -> Result<(), Unsupported> {
        self.0.push('{');
        string(self.0, variant);
        self.0.push(':');
        v.serialize(Writer(self.0))?;
        self.0.push('}');
        Ok(())
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Compound<'a>, Unsupported> {
        Ok(self.open('[', "]"))
    }

    fn serialize_tuple(self, _len: usize) -> Result<Compound<'a>, Unsupported> {
        Ok(self.open('[', "]"))
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Compound<'a>, Unsupported> {
        Ok(self.open('[', "]"))
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'a>, Unsupported> {
        Ok(self.variant(variant, '[', "]}"))
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Compound<'a>, Unsupported> {
        Ok(self.open('{', "}"))
    }

    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Compound<'a>, Unsupported> {
        Ok(self.open('{', "}"))
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'a>, Unsupported> {
        Ok(self.variant(variant, '{', "}}"))
    }
}

/// An array or object being written.
pub struct Compound<'a> {
    out: &'a mut String,
    first: bool,
    close: &'static str,
}

impl Compound<'_> {
    fn comma(&mut self) {
        if !std::mem::take(&mut self.first) {
            self.out.push(',');
        }
    }

    fn element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Unsupported> {
        self.comma();
        v.serialize(Writer(self.out))
    }

    fn field<T: Serialize + ?Sized>(&mut self, key: &str, v: &T) -> Result<(), Unsupported> {
        self.comma();
        string(self.out, key);
        self.out.push(':');
        v.serialize(Writer(self.out))
    }

    fn close(self) -> Result<(), Unsupported> {
        self.out.push_str(self.close);
        Ok(())
    }
}

impl ser::SerializeSeq for Compound<'_> {
    type Ok = ();
    type Error = Unsupported;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Unsupported> {
        self.element(v)
    }
    fn end(self) -> Result<(), Unsupported> {
        self.close()
    }
}

impl ser::SerializeTuple for Compound<'_> {
    type Ok = ();
    type Error = Unsupported;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Unsupported> {
        self.element(v)
    }
    fn end(self) -> Result<(), Unsupported> {
        self.close()
    }
}

impl ser::SerializeTupleStruct for Compound<'_> {
    type Ok = ();
    type Error = Unsupported;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Unsupported> {
        self.element(v)
    }
    fn end(self) -> Result<(), Unsupported> {
        self.close()
    }
}

impl ser::SerializeTupleVariant for Compound<'_> {
    type Ok = ();
    type Error = Unsupported;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Unsupported> {
        self.element(v)
    }
    fn end(self) -> Result<(), Unsupported> {
        self.close()
    }
}

/// Keys must serialize as strings, as JSON object keys are.
impl ser::SerializeMap for Compound<'_> {
    type Ok = ();
    type Error = Unsupported;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Unsupported> {
        self.comma();
        let start = self.out.len();
        key.serialize(Writer(self.out))?;
        if self.out.as_bytes().get(start) != Some(&b'"') {
            return Err(Unsupported);
        }
        self.out.push(':');
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Unsupported> {
        v.serialize(Writer(self.out))
    }
    fn end(self) -> Result<(), Unsupported> {
        self.close()
    }
}

impl ser::SerializeStruct for Compound<'_> {
    type Ok = ();
    type Error = Unsupported;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        v: &T,
    ) -> Result<(), Unsupported> {
        self.field(key, v)
    }
    fn end(self) -> Result<(), Unsupported> {
        self.close()
    }
}

impl ser::SerializeStructVariant for Compound<'_> {
    type Ok = ();
    type Error = Unsupported;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        v: &T,
    ) -> Result<(), Unsupported> {
        self.field(key, v)
    }
    fn end(self) -> Result<(), Unsupported> {
        self.close()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::to_json;
    use crate::core::RequestBody;
    use rtcroom_protocol::http::{
        CreateRoomRequest, Empty, GetRoomListRequest, IceServer, Pusher, RoomSummary,
    };
    use rtcroom_protocol::ws::{ClientEnvelope, ClientFrame, IceCandidate};
    use rtcroom_protocol::{RoomId, UserId};
    use serde::Serialize;
    use wasm_bindgen_test::*;

    wasm_bindgen_test_configure!(run_in_browser);

    /// What the driver sent before: serde-wasm-bindgen's JSON-compatible
    /// object through `JSON.stringify`.
    fn stringified<T: Serialize>(v: &T) -> String {
        let js = v
            .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
            .unwrap();
        js_sys::JSON::stringify(&js).unwrap().as_string().unwrap()
    }

    fn same<T: Serialize>(v: &T) {
        let ours = to_json(v).unwrap();
        assert_eq!(ours, stringified(v));
        assert_eq!(ours, serde_json::to_string(v).unwrap());
    }

    #[wasm_bindgen_test]
    fn writes_what_json_stringify_wrote() {
        let room = RoomId::new("r1").unwrap();
        let user = UserId::new("u1").unwrap();
        let text =
            "quote \" backslash \\ nl \n tab \t ctl \u{1} \u{1f} del \u{7f} 中文 \u{2028} 😀";
        let frames = [
            ClientFrame::Ping,
            ClientFrame::RoomText {
                room_id: room.clone(),
                text: text.into(),
            },
            ClientFrame::RoomCustom {
                room_id: room.clone(),
                cmd: "c".into(),
                msg: "{\"k\":[1,2]}".into(),
            },
            ClientFrame::Offer {
                room_id: room.clone(),
                to: user.clone(),
                sdp: "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n".into(),
            },
            ClientFrame::Candidate {
                room_id: room.clone(),
                to: user.clone(),
                candidate: IceCandidate {
                    candidate: "candidate:1 1 udp 2 10.0.0.1 9 typ host".into(),
                    sdp_mid: Some("0".into()),
                    sdp_m_line_index: Some(0),
                    username_fragment: None,
                },
            },
        ];
        for (i, frame) in frames.into_iter().enumerate() {
            same(&ClientEnvelope {
                req_id: (i % 2 == 0).then_some(i as u32),
                frame,
            });
        }
        same(&RequestBody::Empty(Empty {}));
        same(&RequestBody::GetRoomList(GetRoomListRequest {
            index: 3,
            cnt: 20,
        }));
        same(&RequestBody::CreateRoom(CreateRoomRequest {
            user_id: None,
            room_info: text.into(),
            room_id: Some(room.clone()),
        }));
        let pusher = Pusher {
            user_id: user.clone(),
            user_name: text.into(),
            user_avatar: String::new(),
            accelerate_url: "rtmp://h/live/s?txSecret=a&txTime=b".into(),
        };
        same(&vec![pusher.clone(), pusher.clone()]);
        same(&RoomSummary {
            room_id: room,
            room_info: "{\"title\":\"t\"}".into(),
            room_creator: user,
            mixed_play_url: String::new(),
            custom: "{}".into(),
            pushers: vec![pusher],
            member_count: 1,
            create_time: 1_700_000_000_123,
        });
        same(&vec![IceServer {
            urls: vec!["stun:s".into(), "turn:t?transport=tcp".into()],
            username: Some("u".into()),
            credential: None,
        }]);
        same(&Vec::<IceServer>::new());
    }
}
