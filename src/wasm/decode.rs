//! What both transports hand back, decoded the same way: an HTTP reply's
//! status and text (non-2xx, then `{code, message}`, then on code 0 the typed
//! body through [`decode_reply`]), and a socket's text frames (through
//! [`decode_any_frame`], field by field; a frame we cannot read still reports its
//! `seq`).

use super::js;
use crate::core::{decode_reply, ClientError, ConnId, Fields, Input, ReplyBody, ReplyKind};
use crate::de;
use rtcroom_protocol::frame::{decode_any_frame, AnyServerFrame};
use rtcroom_protocol::ApiError;
use serde::de::DeserializeOwned;
use wasm_bindgen::JsValue;

/// An HTTP reply for `cmd`, expected as `expect`.
pub fn reply(cmd: &str, expect: ReplyKind, status: u16, text: &str) -> Result<ReplyBody, ApiError> {
    if !(200..300).contains(&status) {
        return Err(ClientError::HttpStatus.with_message(format!("{cmd}: HTTP {status}")));
    }
    let value = js_sys::JSON::parse(text)
        .map_err(|_| ClientError::BadReply.with_message(format!("{cmd}: not JSON")))?;
    let envelope: ApiError = de::from_value(value.clone())
        .map_err(|e| ClientError::BadReply.with_message(format!("{cmd}: {e}")))?;
    if envelope.code != 0 {
        return Err(envelope);
    }
    decode_reply(expect, de::Deserializer::from(value))
        .map_err(|e| ClientError::BadReply.with_message(format!("{cmd}: {e}")))
}

/// One text frame from socket `conn`, as the core's input.
pub fn frame(conn: ConnId, text: &str) -> Input {
    let Ok(value) = js_sys::JSON::parse(text) else {
        return Input::WsUndecodable {
            conn,
            seq: None,
            error: "frame is not JSON".into(),
        };
    };
    match decode_any_frame(&JsFields(&value)) {
        Ok(AnyServerFrame::Room(frame)) => Input::WsFrame { conn, frame },
        Ok(AnyServerFrame::Sfu { seq, event }) => Input::SfuFrame { conn, seq, event },
        Err(e) => Input::WsUndecodable {
            conn,
            seq: js::get_uint(&value, "seq"),
            error: e.to_string(),
        },
    }
}

/// A parsed frame lent to [`decode_any_frame`], which reads it field by field.
struct JsFields<'a>(&'a JsValue);

impl Fields for JsFields<'_> {
    type Error = de::Error;
    fn field<T: DeserializeOwned>(&self, key: &'static str) -> Result<Option<T>, Self::Error> {
        let v = js::get(self.0, key);
        if v.is_undefined() || v.is_null() {
            return Ok(None);
        }
        de::from_value(v).map(Some)
    }
}
