//! The exported `RoomCore` class, the same for every host: the RTCRoom calls
//! with the seed's argument names (`roomID`, `userID`, `sdkAppID`, …),
//! Promise-returning, resolving with the core's [`CallOk`](crate::core::CallOk) as a plain object
//! and rejecting with `Error`s that carry `{code, message}`. Events go to one
//! callback as `{type, data}`; each host's JS `RTCRoom` shapes both.

use super::driver::{rejected, shutdown, start_call, Driver, Shared};
use super::js;
use super::media::Media;
use super::transport::Transport;
use crate::core::{Call, ClientError, Config, LoginParams};
use js_sys::{Function, Promise};
use rtcroom_protocol::{ApiError, RoomId, UserId};
use wasm_bindgen::prelude::*;

/// An RTCRoom client: one login session, at most one room at a time.
#[wasm_bindgen]
pub struct RoomCore {
    driver: Shared,
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
        console_error_panic_hook::set_once();
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
        cfg.jitter_seed = Some((js_sys::Math::random() * 4_294_967_296.0) as u64);
        let client = crate::core::Client::new(cfg);
        Ok(RoomCore {
            driver: Driver::new(client, transport, media, on_event),
        })
    }

    /// `login({serverDomain, sdkAppID, accType, userID, userSig, userName?, userAvatar?})` → `{userID}`.
    pub fn login(&self, opts: JsValue) -> Promise {
        self.start(login_params(&opts).map(Call::Login))
    }

    /// Leaves the room, if any, and ends the session.
    pub fn logout(&self) -> Promise {
        start_call(&self.driver, Call::Logout)
    }

    /// `getRoomList({index, count})` → `{rooms, total}`.
    #[wasm_bindgen(js_name = getRoomList)]
    pub fn get_room_list(&self, opts: JsValue) -> Promise {
        let n = |k: &str| {
            js::get(&opts, k)
                .as_f64()
                .filter(|n| *n >= 0.0)
                .map(|n| n.min(f64::from(u32::MAX)) as u32)
        };
        let index = n("index").unwrap_or(0);
        let cnt = n("count").or_else(|| n("cnt")).unwrap_or(20);
        start_call(&self.driver, Call::GetRoomList { index, cnt })
    }

    /// `getPushers({roomID})` → the room with its members (without ourselves).
    #[wasm_bindgen(js_name = getPushers)]
    pub fn get_pushers(&self, opts: JsValue) -> Promise {
        self.start(room_id_arg(&opts).map(|room_id| Call::GetPushers { room_id }))
    }

    /// `createRoom({roomID?, roomInfo, privateMapKey?})` → `{roomID}`; creates and enters.
    #[wasm_bindgen(js_name = createRoom)]
    pub fn create_room(&self, opts: JsValue) -> Promise {
        self.start(opt_room_id_arg(&opts).and_then(|room_id| {
            let room_info = room_info_arg(&opts)?;
            Ok(Call::CreateRoom {
                room_id,
                room_info,
                private_map_key: js::get_string(&opts, "privateMapKey"),
            })
        }))
    }

    /// `enterRoom({roomID, privateMapKey?})` → `{roomID}`; `onGetPusherList` follows.
    #[wasm_bindgen(js_name = enterRoom)]
    pub fn enter_room(&self, opts: JsValue) -> Promise {
        self.start(room_id_arg(&opts).map(|room_id| Call::EnterRoom {
            room_id,
            private_map_key: js::get_string(&opts, "privateMapKey"),
        }))
    }

    /// Leaves the room (closing every peer).
    #[wasm_bindgen(js_name = exitRoom)]
    pub fn exit_room(&self) -> Promise {
        start_call(&self.driver, Call::ExitRoom)
    }

    /// `destroyRoom({roomID})` (creator only): every member gets `onRoomClosed`.
    #[wasm_bindgen(js_name = destroyRoom)]
    pub fn destroy_room(&self, opts: JsValue) -> Promise {
        self.start(room_id_arg(&opts).map(|room_id| Call::DestroyRoom { room_id }))
    }

    /// Sends a text message to the other members; resolves when the server accepted it.
    #[wasm_bindgen(js_name = sendRoomTextMsg)]
    pub fn send_room_text_msg(&self, text: JsValue) -> Promise {
        match text.as_string().or_else(|| js::get_string(&text, "msg")) {
            Some(text) => start_call(&self.driver, Call::SendRoomTextMsg { text }),
            None => rejected(&bad_arg("text must be a string")),
        }
    }

    /// Sends a custom message (`cmd` + `msg`) to the other members.
    #[wasm_bindgen(js_name = sendRoomCustomMsg)]
    pub fn send_room_custom_msg(&self, cmd: JsValue, msg: JsValue) -> Promise {
        let (cmd, msg) = match cmd.as_string() {
            Some(c) => (Some(c), msg.as_string()),
            None => (js::get_string(&cmd, "cmd"), js::get_string(&cmd, "msg")),
        };
        match (cmd, msg) {
            (Some(cmd), Some(msg)) => {
                start_call(&self.driver, Call::SendRoomCustomMsg { cmd, msg })
            }
            _ => rejected(&bad_arg("cmd and msg must be strings")),
        }
    }

    /// `getPushUrl({roomID?})` → `{pushURL}`: a signed RTMP push URL for
    /// hosts that push over RTMP (the mini-program); later entries announce it.
    #[wasm_bindgen(js_name = getPushUrl)]
    pub fn get_push_url(&self, opts: JsValue) -> Promise {
        self.start(opt_room_id_arg(&opts).map(|room_id| Call::GetPushUrl { room_id }))
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
