//! `RoomCore`: the raw sans-IO [`core::Client`](crate::core::Client) exported
//! to JavaScript for hosts that do their own IO — the WeChat mini-program,
//! which has no `fetch`, `WebSocket` or `window` (feature `host`).
//!
//! The host feeds plain JS objects to [`RoomCore::handle`] and carries out
//! what [`RoomCore::poll`] returns until it gives `undefined`:
//!
//! | input `type` | fields | becomes |
//! |---|---|---|
//! | `call` | `id` + a [`Call`] (`call: "login"`, `serverDomain`, …) | `Input::Call` |
//! | `httpReply` | `id`, `statusCode`, `data` (parsed JSON, or its text) | `Input::HttpReply` |
//! | `httpFailed` | `id`, `message` (`wx.request`'s `errMsg`) | `Input::HttpReply` with `Timeout` / `Network` |
//! | `wsMessage` | `conn`, `data` (the frame's text) | `Input::WsFrame` / `WsUndecodable` |
//! | `wsClosed` | `conn`, `reason` | `Input::WsClosed` |
//! | `localSdp` / `localIce` | `user`, `kind` + `sdp` / `candidate` | the WebRTC inputs |
//! | `timeout` | | `Input::Timeout` |
//!
//! Outputs are [`Output`]s as JSON-compatible objects (`{type: "http", data:
//! {id, cmd, url, body, expect}}`, `{type: "callDone", data: {id, result:
//! {Ok: …} | {Err: {code, message}}}}`, …). An HTTP reply is decoded exactly
//! as the browser driver does it: the status, then `{code, message}`, then on
//! code 0 the body through [`decode_reply`] with the kind the request expected
//! (remembered here, so the host only echoes the id).
//!
//! Unwrap policy: nothing here unwraps; malformed inputs throw an `Error`
//! carrying `code` -1012 (InvalidArgument) and change nothing.

use crate::core::{
    decode_reply, Call, CallId, Client, ClientError, Config, ConnId, Input, Output, ReplyBody,
    ReplyKind, RequestId, SdpKind,
};
use js_sys::{Reflect, JSON};
use rtcroom_protocol::ws::{IceCandidate, ServerFrame};
use rtcroom_protocol::{ApiError, UserId};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::HashMap;
use wasm_bindgen::prelude::*;

/// The core for a host that does its own IO (see the module docs).
#[wasm_bindgen]
pub struct RoomCore {
    client: Client,
    /// What each HTTP request in flight expects, by id.
    expect: HashMap<RequestId, (ReplyKind, &'static str)>,
}

#[wasm_bindgen]
impl RoomCore {
    /// `new RoomCore({debug?, reconnectMinMs?, reconnectMaxMs?, pingIntervalMs?})`.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> RoomCore {
        console_error_panic_hook::set_once();
        let mut cfg = Config::default();
        if let Some(v) = get(&options, "debug").as_bool() {
            cfg.debug_log = v;
        }
        for (key, slot) in [
            ("reconnectMinMs", &mut cfg.reconnect_min_ms),
            ("reconnectMaxMs", &mut cfg.reconnect_max_ms),
            ("pingIntervalMs", &mut cfg.ping_interval_ms),
        ] {
            if let Some(v) = uint(&options, key) {
                *slot = v;
            }
        }
        cfg.jitter_seed = Some((js_sys::Math::random() * 4_294_967_296.0) as u64);
        RoomCore {
            client: Client::new(cfg),
            expect: HashMap::new(),
        }
    }

    /// Feeds one input at `now_ms` (`Date.now()`); throws on a malformed input.
    pub fn handle(&mut self, input: JsValue, now_ms: f64) -> Result<(), JsValue> {
        let input = self.input(&input).map_err(|e| error_value(&e))?;
        self.client.handle(input, now_ms.max(0.0) as u64);
        Ok(())
    }

    /// The next output as a plain object, or `undefined` when drained.
    pub fn poll(&mut self) -> Result<JsValue, JsValue> {
        let Some(out) = self.client.poll() else {
            return Ok(JsValue::UNDEFINED);
        };
        if let Output::Http(req) = &out {
            self.expect.insert(req.id, (req.expect, req.cmd));
        }
        out.serialize(&serde_wasm_bindgen::Serializer::json_compatible())
            .map_err(JsValue::from)
    }
}

impl RoomCore {
    fn input(&mut self, v: &JsValue) -> Result<Input, ApiError> {
        let kind = get(v, "type").as_string().unwrap_or_default();
        Ok(match kind.as_str() {
            "call" => Input::Call {
                id: CallId(uint(v, "id").ok_or_else(|| bad("call without a numeric id"))?),
                call: decode::<Call>(v, "call")?,
            },
            "httpReply" | "httpFailed" => {
                let id = RequestId(uint(v, "id").ok_or_else(|| bad("reply without an id"))?);
                let result = match self.expect.remove(&id) {
                    None => Err(ClientError::BadReply.with_message(format!("{id} is unknown"))),
                    Some((_, cmd)) if kind == "httpFailed" => {
                        let msg = get(v, "message").as_string().unwrap_or_default();
                        let code = if msg.contains("timeout") {
                            ClientError::Timeout
                        } else {
                            ClientError::Network
                        };
                        Err(code.with_message(format!("{cmd}: {msg}")))
                    }
                    Some((expect, cmd)) => {
                        let status = uint(v, "statusCode");
                        reply(expect, cmd, status, get(v, "data"))
                    }
                };
                Input::HttpReply { id, result }
            }
            "wsMessage" => {
                let conn = conn(v)?;
                match get(v, "data").as_string() {
                    Some(text) => frame(conn, &text),
                    None => Input::WsUndecodable {
                        conn,
                        seq: None,
                        error: "binary frame".into(),
                    },
                }
            }
            "wsClosed" => Input::WsClosed {
                conn: conn(v)?,
                reason: get(v, "reason").as_string().unwrap_or_default(),
            },
            "localSdp" => Input::LocalSdp {
                user: decode::<UserId>(&get(v, "user"), "user")?,
                kind: decode::<SdpKind>(&get(v, "kind"), "kind")?,
                sdp: get(v, "sdp").as_string().ok_or_else(|| bad("sdp"))?,
            },
            "localIce" => Input::LocalIce {
                user: decode::<UserId>(&get(v, "user"), "user")?,
                candidate: decode::<IceCandidate>(&get(v, "candidate"), "candidate")?,
            },
            "timeout" => Input::Timeout,
            other => return Err(bad(format!("unknown input type {other:?}"))),
        })
    }
}

/// An HTTP reply as `expect`: non-2xx status, then `{code, message}`, then the body.
fn reply(
    expect: ReplyKind,
    cmd: &str,
    status: Option<u64>,
    data: JsValue,
) -> Result<ReplyBody, ApiError> {
    if let Some(s) = status.filter(|s| !(200..300).contains(s)) {
        return Err(ClientError::HttpStatus.with_message(format!("{cmd}: HTTP {s}")));
    }
    let not_json = || ClientError::BadReply.with_message(format!("{cmd}: not JSON"));
    let data = match data.as_string() {
        Some(text) => JSON::parse(&text).map_err(|_| not_json())?,
        None if data.is_object() => data,
        None => return Err(not_json()),
    };
    let envelope: ApiError = serde_wasm_bindgen::from_value(data.clone())
        .map_err(|e| ClientError::BadReply.with_message(format!("{cmd}: {e}")))?;
    if envelope.code != 0 {
        return Err(envelope);
    }
    decode_reply(expect, serde_wasm_bindgen::Deserializer::from(data))
        .map_err(|e| ClientError::BadReply.with_message(format!("{cmd}: {e}")))
}

/// One text frame; a frame we cannot read still reports its `seq`.
fn frame(conn: ConnId, text: &str) -> Input {
    let Ok(value) = JSON::parse(text) else {
        return Input::WsUndecodable {
            conn,
            seq: None,
            error: "frame is not JSON".into(),
        };
    };
    match serde_wasm_bindgen::from_value::<ServerFrame>(value.clone()) {
        Ok(frame) => Input::WsFrame { conn, frame },
        Err(e) => Input::WsUndecodable {
            conn,
            seq: uint(&value, "seq"),
            error: e.to_string(),
        },
    }
}

fn conn(v: &JsValue) -> Result<ConnId, ApiError> {
    uint(v, "conn")
        .map(ConnId)
        .ok_or_else(|| bad("socket input without a conn"))
}

fn decode<T: DeserializeOwned>(v: &JsValue, what: &str) -> Result<T, ApiError> {
    serde_wasm_bindgen::from_value(v.clone()).map_err(|e| bad(format!("{what}: {e}")))
}

fn bad(message: impl Into<String>) -> ApiError {
    ClientError::InvalidArgument.with_message(message)
}

/// `obj[key]`, or `undefined`.
fn get(obj: &JsValue, key: &str) -> JsValue {
    if obj.is_object() {
        Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
    } else {
        JsValue::UNDEFINED
    }
}

/// `obj[key]` as a non-negative integer.
fn uint(obj: &JsValue, key: &str) -> Option<u64> {
    get(obj, key)
        .as_f64()
        .filter(|n| *n >= 0.0 && n.fract() == 0.0 && *n <= 9_007_199_254_740_991.0)
        .map(|n| n as u64)
}

/// An `Error` with `code` and `message`.
fn error_value(e: &ApiError) -> JsValue {
    let err = js_sys::Error::new(&e.message);
    let _ = Reflect::set(&err, &"code".into(), &JsValue::from(e.code));
    err.into()
}
