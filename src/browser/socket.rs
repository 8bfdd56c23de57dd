//! The room WebSocket. Its closures are owned by the [`Socket`] and dropped
//! with it; they hold only a weak reference to the driver, so a dropped
//! `RTCRoom` frees everything.

use super::driver::{pump, Weak};
use crate::core::{decode_frame, ConnId, Fields, Input};
use serde::de::DeserializeOwned;
use wasm_bindgen::prelude::*;
use web_sys::{CloseEvent, MessageEvent, WebSocket};

/// One open (or opening) socket.
pub struct Socket {
    /// The core's id for it.
    pub conn: ConnId,
    ws: WebSocket,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
}

impl Socket {
    /// Opens `url`; its frames and close go to the driver tagged `conn`.
    pub fn open(url: &str, conn: ConnId, driver: Weak) -> Result<Self, JsValue> {
        let ws = WebSocket::new(url)?;
        let d = driver.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            let Some(text) = e.data().as_string() else {
                return;
            };
            let input = decode(conn, &text);
            if let Some(d) = d.upgrade() {
                pump(&d, input);
            }
        });
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |e: CloseEvent| {
            let reason = format!("closed: {} {}", e.code(), e.reason());
            if let Some(d) = driver.upgrade() {
                pump(&d, Input::WsClosed { conn, reason });
            }
        });
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        Ok(Self {
            conn,
            ws,
            _on_message: on_message,
            _on_close: on_close,
        })
    }

    /// Sends a text frame (dropped when the socket is not open).
    pub fn send(&self, text: &str) -> Result<(), JsValue> {
        self.ws.send_with_str(text)
    }

    /// Closes the socket as if the network dropped it: the close is reported
    /// to the core like any other (used by tests and `simulateDisconnect`).
    pub fn drop_connection(&self) {
        let _ = self.ws.close();
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        let _ = self.ws.close();
    }
}

/// Decodes one text frame; a frame we cannot read still reports its `seq`.
fn decode(conn: ConnId, text: &str) -> Input {
    let value = match js_sys::JSON::parse(text) {
        Ok(v) => v,
        Err(_) => {
            return Input::WsUndecodable {
                conn,
                seq: None,
                error: "frame is not JSON".into(),
            }
        }
    };
    match decode_frame(&JsFields(&value)) {
        Ok(frame) => Input::WsFrame { conn, frame },
        Err(e) => {
            let seq = super::js::get(&value, "seq")
                .as_f64()
                .filter(|n| *n >= 0.0)
                .map(|n| n as u64);
            Input::WsUndecodable {
                conn,
                seq,
                error: e.to_string(),
            }
        }
    }
}

/// A parsed frame lent to [`decode_frame`], which reads it field by field.
struct JsFields<'a>(&'a JsValue);

impl Fields for JsFields<'_> {
    type Error = super::de::Error;
    fn field<T: DeserializeOwned>(&self, key: &'static str) -> Result<Option<T>, Self::Error> {
        let v = super::js::get(self.0, key);
        if v.is_undefined() || v.is_null() {
            return Ok(None);
        }
        super::de::from_value(v).map(Some)
    }
}
