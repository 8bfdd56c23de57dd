//! The exported `RoomCore` class, the same for every host: the RTCRoom calls
//! with the seed's argument names (`roomID`, `userID`, `sdkAppID`, …),
//! Promise-returning, resolving with the core's [`CallOk`](crate::core::CallOk) as a plain object
//! and rejecting with `Error`s that carry `{code, message}`. Events go to one
//! callback as `{type, data}`; each host's JS `RTCRoom` shapes both.

use super::driver::{pump, rejected, shutdown, start_call, Driver, Shared};
use super::js;
use super::media::Media;
use super::transport::Transport;
use crate::core::{Call, ClientError, Config, Input, LoginParams};
use js_sys::{Function, Promise};
use rtcroom_protocol::{ApiError, RoomId, UserId};
use std::sync::atomic::{AtomicBool, Ordering};
use wasm_bindgen::prelude::*;

/// An RTCRoom client: one login session, at most one room at a time.
#[wasm_bindgen]
pub struct RoomCore {
    driver: Shared,
}

/// `console_error_panic_hook::set_once` with a plain flag instead of its
/// `std::sync::Once` (whose poisoning and re-entry panics stay out of the
/// wasm): the hook is set by the first `RoomCore` of the page, as before.
fn set_panic_hook_once() {
    static SET: AtomicBool = AtomicBool::new(false);
    if !SET.swap(true, Ordering::Relaxed) {
        std::panic::set_hook(Box::new(console_error_panic_hook::hook));
    }
}

fn bad_arg(message: impl Into<String>) -> ApiError {
    ClientError::InvalidArgument.with_message(message)
}

fn room_id_arg(opts: &JsValue) -> Result<RoomId, ApiError> {
    let raw = js::get_string(opts, "roomID")
        .or_else(|| opts.as_string())
        .ok_or_else(|| bad_arg("roomID is required"))?;
    RoomId::new(raw).map_err(|e| bad_arg(format!("roomID: {e}")))
}

/// An optional `roomID` (absent or `""`: none).
fn opt_room_id_arg(opts: &JsValue) -> Result<Option<RoomId>, ApiError> {
    match js::get_string(opts, "roomID").filter(|s| !s.is_empty()) {
        Some(r) => RoomId::new(r)
            .map(Some)
            .map_err(|e| bad_arg(format!("roomID: {e}"))),
        None => Ok(None),
    }
}

/// `roomInfo` may be a string or any JSON value (stored as its JSON text).
fn room_info_arg(opts: &JsValue) -> Result<String, ApiError> {
    let v = js::get(opts, "roomInfo");
    if v.is_undefined() || v.is_null() {
        return Ok(String::new());
    }
    if let Some(s) = v.as_string() {
        return Ok(s);
    }
    js_sys::JSON::stringify(&v)
        .ok()
        .and_then(|s| s.as_string())
        .ok_or_else(|| bad_arg("roomInfo is not JSON-serializable"))
}

fn login_params(opts: &JsValue) -> Result<LoginParams, ApiError> {
    let server_domain =
        js::get_string(opts, "serverDomain").ok_or_else(|| bad_arg("serverDomain is required"))?;
    let sdk_app_id = js::get_string(opts, "sdkAppID")
        .and_then(|s| s.parse::<u64>().ok())
        .ok_or_else(|| bad_arg("sdkAppID must be a positive integer"))?;
    let user_id = js::get_string(opts, "userID").ok_or_else(|| bad_arg("userID is required"))?;
    let user_id = UserId::new(user_id).map_err(|e| bad_arg(format!("userID: {e}")))?;
    let user_sig = js::get_string(opts, "userSig").ok_or_else(|| bad_arg("userSig is required"))?;
    Ok(LoginParams {
        server_domain,
        sdk_app_id,
        account_type: js::get_string(opts, "accType")
            .or_else(|| js::get_string(opts, "accountType"))
            .unwrap_or_default(),
        user_id,
        user_sig,
        user_name: js::get_string(opts, "userName").unwrap_or_default(),
        user_avatar: js::get_string(opts, "userAvatar").unwrap_or_default(),
    })
}

/// The call `name` with its arguments (see [`RoomCore::call`]).
pub(super) fn call_arg(name: &str, a: &JsValue, b: &JsValue) -> Result<Call, ApiError> {
    Ok(match name {
        "login" => Call::Login(login_params(a)?),
        "logout" => Call::Logout,
        "getRoomList" => {
            let n = |k: &str| {
                js::get(a, k)
                    .as_f64()
                    .filter(|n| *n >= 0.0)
                    .map(|n| n.min(f64::from(u32::MAX)) as u32)
            };
            let index = n("index").unwrap_or(0);
            let cnt = n("count").or_else(|| n("cnt")).unwrap_or(20);
            Call::GetRoomList { index, cnt }
        }
        "getPushers" => Call::GetPushers {
            room_id: room_id_arg(a)?,
        },
        "createRoom" => Call::CreateRoom {
            room_id: opt_room_id_arg(a)?,
            room_info: room_info_arg(a)?,
            private_map_key: js::get_string(a, "privateMapKey"),
        },
        "enterRoom" => Call::EnterRoom {
            room_id: room_id_arg(a)?,
            private_map_key: js::get_string(a, "privateMapKey"),
        },
        "exitRoom" => Call::ExitRoom,
        "destroyRoom" => Call::DestroyRoom {
            room_id: room_id_arg(a)?,
        },
        "sendRoomTextMsg" => Call::SendRoomTextMsg {
            text: a
                .as_string()
                .or_else(|| js::get_string(a, "msg"))
                .ok_or_else(|| bad_arg("text must be a string"))?,
        },
        "sendRoomCustomMsg" => {
            let (cmd, msg) = match a.as_string() {
                Some(c) => (Some(c), b.as_string()),
                None => (js::get_string(a, "cmd"), js::get_string(a, "msg")),
            };
            match (cmd, msg) {
                (Some(cmd), Some(msg)) => Call::SendRoomCustomMsg { cmd, msg },
                _ => return Err(bad_arg("cmd and msg must be strings")),
            }
        }
        "getPushUrl" => Call::GetPushUrl {
            room_id: opt_room_id_arg(a)?,
        },
        _ => return Err(bad_arg(format!("unknown call \"{name}\""))),
    })
}

impl RoomCore {
    /// The driver, for the other `impl` blocks (media.rs).
    pub(super) fn driver(&self) -> &Shared {
        &self.driver
    }

    /// Starts `call`, or rejects with its argument error.
    fn start(&self, call: Result<Call, ApiError>) -> Promise {
        match call {
            Ok(call) => start_call(&self.driver, call),
            Err(e) => rejected(&e),
        }
    }
}

#[wasm_bindgen]
impl RoomCore {
    /// `new RoomCore(host, media, options, onEvent)`. `host`: `undefined` for
    /// the browser's `fetch`/`WebSocket`, or a `wx`-style object with
    /// `request` and `connectSocket`; `media`: the WebRTC glue with
    /// `createPeer`, `setRemoteSdp`, `addIce`, `closePeer` (`null` where the
    /// host has no WebRTC); options: `{debug, reconnectMinMs, reconnectMaxMs,
    /// pingIntervalMs, sfuIceRestarts}`; `onEvent({type, data})` gets every event. Throws
    /// (code -1012) when the host or the glue lacks a method.
    #[wasm_bindgen(constructor)]
    pub fn new(
        host: JsValue,
        media: JsValue,
        options: JsValue,
        on_event: Function,
    ) -> Result<RoomCore, JsValue> {
        set_panic_hook_once();
        let transport = Transport::new(host).map_err(|e| js::error_value(&e))?;
        let media = Media::new(media).map_err(|e| js::error_value(&e))?;
        let mut cfg = Config::default();
        if let Some(v) = js::get(&options, "debug").as_bool() {
            cfg.debug_log = v;
        }
        for (key, slot) in [
            ("reconnectMinMs", &mut cfg.reconnect_min_ms),
            ("reconnectMaxMs", &mut cfg.reconnect_max_ms),
            ("pingIntervalMs", &mut cfg.ping_interval_ms),
        ] {
            if let Some(v) = js::get_uint(&options, key) {
                *slot = v;
            }
        }
        if let Some(v) = js::get_uint(&options, "sfuIceRestarts") {
            cfg.sfu_ice_restarts = u32::try_from(v).unwrap_or(u32::MAX);
        }
        cfg.sfu = media.sfu();
        if !media.keeps_spares() {
            cfg.spare_offer_wait_ms = 0;
            cfg.spare_at_start = false;
        }
        cfg.jitter_seed = Some((js_sys::Math::random() * 4_294_967_296.0) as u64);
        super::rehearse::rehearse(&cfg);
        let client = crate::core::Client::new(cfg);
        let core = RoomCore {
            driver: Driver::new(client, transport, media, on_event),
        };
        // Its first turn now (the spare's hint, `spare_at_start`).
        pump(core.driver(), Input::Timeout);
        Ok(core)
    }

    /// Glue → core: one RTCRoom call by its name, with its arguments `a`
    /// and `b` (one export instead of eleven: each export is a shim in the
    /// wasm and a wrapper in the glue, docs/client-size.md). Resolves with the
    /// call's result as a plain object; rejects with `{code, message}`
    /// (-1012 for an unknown name or a bad argument).
    ///
    /// | name | arguments | resolves with |
    /// |---|---|---|
    /// | `login` | `{serverDomain, sdkAppID, accType, userID, userSig, userName?, userAvatar?}` | `{userID}` |
    /// | `logout` | | |
    /// | `getRoomList` | `{index, count}` | `{rooms, total}` |
    /// | `getPushers` | `{roomID}` | the room with its members (without ourselves) |
    /// | `createRoom` | `{roomID?, roomInfo, privateMapKey?}` | `{roomID}`; creates and enters |
    /// | `enterRoom` | `{roomID, privateMapKey?}` | `{roomID}`; `onGetPusherList` follows |
    /// | `exitRoom` | | leaves the room (closing every peer) |
    /// | `destroyRoom` | `{roomID}` | (creator only) every member gets `onRoomClosed` |
    /// | `sendRoomTextMsg` | `text` (or `{msg}`) | when the server accepted it |
    /// | `sendRoomCustomMsg` | `cmd, msg` (or `{cmd, msg}`) | when the server accepted it |
    /// | `getPushUrl` | `{roomID?}` | `{pushURL}`: a signed RTMP push URL for hosts that push over RTMP |
    pub fn call(&self, name: &str, a: JsValue, b: JsValue) -> Promise {
        self.start(call_arg(name, &a, &b))
    }

    /// Stops at once, without telling the server (sockets and timers go;
    /// pending calls fail with -1005, later ones with -1001).
    pub fn shutdown(&self) {
        shutdown(&self.driver);
    }

    /// Closes the room socket as a network drop would (it reconnects and
    /// resumes by itself); for tests and demos of resilience.
    #[wasm_bindgen(js_name = simulateDisconnect)]
    pub fn simulate_disconnect(&self) {
        if let Some((_, s)) = &self.driver.state.borrow().socket {
            s.drop_connection();
        }
    }

    /// Whether the session is logged in.
    #[wasm_bindgen(getter, js_name = isLoggedIn)]
    pub fn is_logged_in(&self) -> bool {
        self.driver.state.borrow().client.is_logged_in()
    }
}
