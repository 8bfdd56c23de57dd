//! What both transports hand back, decoded the same way: an HTTP reply's
//! status and text (non-2xx, then `{code, message}`, then on code 0 the typed
//! body through [`decode_reply`]), and a socket's text frames (through
//! [`decode_any_frame`], field by field; a frame we cannot read still reports its
//! `seq`). Both are parsed by the host (`JSON.parse`) and read through the
//! protocol's readers ([`rtcroom_protocol::read`]) over [`JsDoc`].

use super::js;
use crate::core::{decode_reply, ClientError, ConnId, Input, ReplyBody, ReplyKind};
use js_sys::Array;
use rtcroom_protocol::frame::{decode_any_frame, AnyServerFrame};
use rtcroom_protocol::read::{Doc, Read};
use rtcroom_protocol::ApiError;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen]
extern "C" {
    /// `JSON.parse` of a JS string, which stays in JS (js-sys's takes a
    /// `&str`: a reply or frame would cross into the wasm and back).
    #[wasm_bindgen(js_namespace = JSON, js_name = parse, catch)]
    fn parse_js(text: &JsValue) -> Result<JsValue, JsValue>;
}

/// An HTTP reply for `cmd`, expected as `expect`: its status and its text (a
/// JS string; any other value is taken as parsed already, as a mini-program
/// runtime may hand it).
pub fn reply(
    cmd: &str,
    expect: ReplyKind,
    status: u16,
    text: &JsValue,
) -> Result<ReplyBody, ApiError> {
    if !(200..300).contains(&status) {
        // As a `u32`: a `u16`'s `Display` would be one more integer printer in the wasm.
        let status = u32::from(status);
        return Err(ClientError::HttpStatus.with_message(format!("{cmd}: HTTP {status}")));
    }
    let doc = if text.is_string() {
        parse_js(text)
            .map(JsDoc)
            .map_err(|_| ClientError::BadReply.with_message(format!("{cmd}: not JSON")))?
    } else {
        JsDoc(text.clone())
    };
    let envelope = ApiError::read(&doc)
        .map_err(|e| ClientError::BadReply.with_message(format!("{cmd}: {e}")))?;
    if envelope.code != 0 {
        return Err(envelope);
    }
    decode_reply(expect, &doc)
        .map_err(|e| ClientError::BadReply.with_message(format!("{cmd}: {e}")))
}

/// One text frame (a JS string) from socket `conn`, as the core's input.
pub fn frame(conn: ConnId, text: &JsValue) -> Input {
    let Ok(value) = parse_js(text) else {
        return Input::WsUndecodable {
            conn,
            seq: None,
            error: "frame is not JSON".into(),
        };
    };
    match decode_any_frame(&JsDoc(value.clone())) {
        Ok(AnyServerFrame::Room(frame)) => Input::WsFrame { conn, frame },
        Ok(AnyServerFrame::Sfu { seq, event }) => Input::SfuFrame { conn, seq, event },
        Err(e) => Input::WsUndecodable {
            conn,
            seq: js::get_uint(&value, "seq"),
            error: format!("{e}"), // `format!`'s one shared path, not an inlined `to_string`
        },
    }
}

/// A value the glue handed in (an ICE candidate, …) read as a `T`.
pub fn value<T: Read>(v: JsValue) -> Result<T, rtcroom_protocol::read::ReadError> {
    T::read(&JsDoc(v))
}

/// A parsed JS value, read by the protocol's readers.
pub struct JsDoc(pub JsValue);

impl Doc for JsDoc {
    fn get(&self, key: &str) -> Option<Self> {
        let v = js::get(&self.0, key);
        (!v.is_undefined()).then_some(JsDoc(v))
    }

    fn is_null(&self) -> bool {
        self.0.is_null()
    }

    fn is_object(&self) -> bool {
        self.0.is_object() && !Array::is_array(&self.0)
    }

    fn as_bool(&self) -> Option<bool> {
        self.0.as_bool()
    }

    fn as_f64(&self) -> Option<f64> {
        self.0.as_f64()
    }

    fn as_string(&self) -> Option<String> {
        self.0.as_string()
    }

    fn array_len(&self) -> Option<u32> {
        self.0.dyn_ref::<Array>().map(Array::length)
    }

    fn at(&self, i: u32) -> Self {
        JsDoc(self.0.unchecked_ref::<Array>().get(i))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::value;
    use rtcroom_protocol::http::{GetRoomListResponse, LoginResponse, RoomSummary};
    use rtcroom_protocol::read::Read;
    use rtcroom_protocol::ws::{CustomHead, IceCandidate, QuitReason};
    use rtcroom_protocol::ApiError;
    use serde::de::DeserializeOwned;
    use std::fmt::Debug;
    use wasm_bindgen_test::*;

    wasm_bindgen_test_configure!(run_in_browser);

    /// Reads `json` both ways: `JSON.parse` and [`JsDoc`](super::JsDoc), and serde_json.
    fn both<T: Read + DeserializeOwned + PartialEq + Debug>(
        json: &str,
    ) -> (Result<T, String>, Result<T, String>) {
        let ours = value::<T>(js_sys::JSON::parse(json).unwrap()).map_err(|e| e.to_string());
        let theirs = serde_json::from_str::<T>(json).map_err(|e| e.to_string());
        (ours, theirs)
    }

    fn same<T: Read + DeserializeOwned + PartialEq + Debug>(json: &str) {
        let (ours, theirs) = both::<T>(json);
        assert_eq!(ours.unwrap(), theirs.unwrap(), "{json}");
    }

    fn rejected<T: Read + DeserializeOwned + PartialEq + Debug>(json: &str) -> String {
        let (ours, theirs) = both::<T>(json);
        assert!(theirs.is_err(), "{json}");
        ours.unwrap_err()
    }

    #[wasm_bindgen_test]
    fn reads_what_serde_json_reads() {
        same::<LoginResponse>(
            r#"{"code":0,"message":"ok","userID":"u1","token":"t","tokenTTL":86400,
               "heartbeatInterval":5,"iceServers":[{"urls":["stun:s","turn:t"],"username":"a"}]}"#,
        );
        same::<LoginResponse>(r#"{"userID":"u1","token":"t","tokenTTL":1,"heartbeatInterval":5}"#);
        let room = r#"{"roomID":"r","roomCreator":"a","custom":"{}","memberCount":2,
            "createTime":1700000000000,"pushers":[{"userID":"a","userName":"A \"q\""},
            {"userID":"b","userName":"B","userAvatar":"b.png","accelerateURL":"rtmp://x"}]}"#;
        same::<RoomSummary>(room);
        same::<GetRoomListResponse>(&format!(r#"{{"rooms":[{room}],"total":1}}"#));
        same::<IceCandidate>(r#"{"candidate":"c","sdpMid":"0","sdpMLineIndex":0}"#);
        same::<IceCandidate>(r#"{"candidate":"","sdpMid":null,"usernameFragment":"uf"}"#);
        same::<CustomHead>(
            r#"{"cmd":"CustomCmdMsg","data":{"userName":"n","userAvatar":"","cmd":"c","msg":"m"}}"#,
        );
        same::<QuitReason>(r#""disconnected""#);
        same::<ApiError>(r#"{"code":-1,"message":"internal","extra":[1]}"#);
    }

    #[wasm_bindgen_test]
    fn rejects_what_serde_json_rejects() {
        assert_eq!(
            rejected::<ApiError>(r#"{"message":"m"}"#),
            "missing field `code`"
        );
        assert_eq!(
            rejected::<ApiError>(r#"{"code":"0","message":"m"}"#),
            "invalid type: expected i32"
        );
        assert_eq!(
            rejected::<ApiError>(r#"{"code":1.5,"message":"m"}"#),
            "invalid type: expected i32"
        );
        assert_eq!(
            rejected::<ApiError>(r#"{"code":4294967296,"message":"m"}"#),
            "invalid type: expected i32"
        );
        assert_eq!(
            rejected::<ApiError>("null"),
            "invalid type: expected an object"
        );
        rejected::<QuitReason>(r#""gone""#);
        rejected::<RoomSummary>(r#"{"roomID":"","roomCreator":"a"}"#);
        rejected::<IceCandidate>(r#"{"candidate":"c","sdpMLineIndex":-1}"#);
        rejected::<GetRoomListResponse>(r#"{"rooms":{}}"#);
    }
}
