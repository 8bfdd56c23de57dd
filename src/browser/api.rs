//! The exported `RTCRoom` class: the RTCRoom API with the seed's method
//! names, Promise-returning, rejecting with `Error`s that carry `{code, message}`.

use super::driver::{pump, rejected, start_call, Driver, Shared};
use super::js;
use super::listeners::normalize;
use crate::core::{Call, CallOk, ClientError, Config, Input, LoginParams, SdpKind};
use js_sys::{Function, Promise};
use rtcroom_protocol::ws::IceCandidate;
use rtcroom_protocol::{ApiError, RoomId, UserId};
use wasm_bindgen::prelude::*;

/// An RTCRoom client: one login session, at most one room at a time.
#[wasm_bindgen]
pub struct RTCRoom {
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

/// What a successful call resolves to.
pub fn call_ok_value(ok: &CallOk) -> JsValue {
    let obj = js_sys::Object::new();
    let set = |k: &str, v: JsValue| {
        let _ = js_sys::Reflect::set(&obj, &k.into(), &v);
    };
    match ok {
        CallOk::LoggedIn { user_id } => set("userID", user_id.as_str().into()),
        CallOk::RoomList { rooms, total } => {
            set("rooms", js::to_js(rooms));
            set("total", JsValue::from(*total));
        }
        CallOk::Pushers(room) => return js::to_js(room),
        CallOk::RoomCreated { room_id } | CallOk::Entered { room_id } => {
            set("roomID", room_id.as_str().into())
        }
        _ => return JsValue::UNDEFINED,
    }
    obj.into()
}

#[wasm_bindgen]
impl RTCRoom {
    /// `new RTCRoom(media?, options?)`: `media` is the WebRTC glue that runs peer
    /// actions (`createPeer`, `setRemoteSdp`, `addIce`, `closePeer`); options:
    /// `{debug, reconnectMinMs, reconnectMaxMs, pingIntervalMs}`.
    #[wasm_bindgen(constructor)]
    pub fn new(media: JsValue, options: JsValue) -> RTCRoom {
        console_error_panic_hook::set_once();
        let mut cfg = Config::default();
        let num = |k: &str| {
            js::get(&options, k)
                .as_f64()
                .filter(|n| *n >= 0.0)
                .map(|n| n as u64)
        };
        if let Some(v) = js::get(&options, "debug").as_bool() {
            cfg.debug_log = v;
        }
        if let Some(v) = num("reconnectMinMs") {
            cfg.reconnect_min_ms = v;
        }
        if let Some(v) = num("reconnectMaxMs") {
            cfg.reconnect_max_ms = v;
        }
        if let Some(v) = num("pingIntervalMs") {
            cfg.ping_interval_ms = v;
        }
        cfg.jitter_seed = Some((js_sys::Math::random() * 4_294_967_296.0) as u64);
        RTCRoom {
            driver: Driver::new(crate::core::Client::new(cfg), media),
        }
    }

    /// `login({serverDomain, sdkAppID, accType, userID, userSig, userName?, userAvatar?})` → `{userID}`.
    pub fn login(&self, opts: JsValue) -> Promise {
        match login_params(&opts) {
            Ok(p) => start_call(&self.driver, Call::Login(p)),
            Err(e) => rejected(&e),
        }
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
        match room_id_arg(&opts) {
            Ok(room_id) => start_call(&self.driver, Call::GetPushers { room_id }),
            Err(e) => rejected(&e),
        }
    }

    /// `createRoom({roomID?, roomInfo})` → `{roomID}`; creates and enters.
    #[wasm_bindgen(js_name = createRoom)]
    pub fn create_room(&self, opts: JsValue) -> Promise {
        let room_id = match js::get_string(&opts, "roomID").filter(|s| !s.is_empty()) {
            Some(r) => match RoomId::new(r) {
                Ok(r) => Some(r),
                Err(e) => return rejected(&bad_arg(format!("roomID: {e}"))),
            },
            None => None,
        };
        match room_info_arg(&opts) {
            Ok(room_info) => start_call(&self.driver, Call::CreateRoom { room_id, room_info }),
            Err(e) => rejected(&e),
        }
    }

    /// `enterRoom({roomID})` → `{roomID}`; `onGetPusherList` follows.
    #[wasm_bindgen(js_name = enterRoom)]
    pub fn enter_room(&self, opts: JsValue) -> Promise {
        match room_id_arg(&opts) {
            Ok(room_id) => start_call(&self.driver, Call::EnterRoom { room_id }),
            Err(e) => rejected(&e),
        }
    }

    /// Leaves the room (closing every peer).
    #[wasm_bindgen(js_name = exitRoom)]
    pub fn exit_room(&self) -> Promise {
        start_call(&self.driver, Call::ExitRoom)
    }

    /// Alias of `exitRoom`.
    #[wasm_bindgen(js_name = leaveRoom)]
    pub fn leave_room(&self) -> Promise {
        self.exit_room()
    }

    /// `destroyRoom({roomID})` (creator only): every member gets `onRoomClosed`.
    #[wasm_bindgen(js_name = destroyRoom)]
    pub fn destroy_room(&self, opts: JsValue) -> Promise {
        match room_id_arg(&opts) {
            Ok(room_id) => start_call(&self.driver, Call::DestroyRoom { room_id }),
            Err(e) => rejected(&e),
        }
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

    /// Adds an event handler; `name` with or without the `on` prefix (`pusherJoin`, `onPusherJoin`).
    pub fn on(&self, name: &str, handler: Function) -> Result<(), JsValue> {
        let name = normalize(name)
            .ok_or_else(|| js::error_value(&bad_arg(format!("unknown event {name}"))))?;
        self.driver.state.borrow_mut().listeners.on(name, handler);
        Ok(())
    }

    /// Removes a handler (or every handler of `name`).
    pub fn off(&self, name: &str, handler: Option<Function>) {
        if let Some(name) = normalize(name) {
            self.driver
                .state
                .borrow_mut()
                .listeners
                .off(name, handler.as_ref());
        }
    }

    /// Sets a Tencent-style listener object (`{onGetPusherList, onPusherJoin, …}`); `null` clears it.
    #[wasm_bindgen(js_name = setListener)]
    pub fn set_listener(&self, listener: JsValue) {
        let obj = (listener.is_object()).then_some(listener);
        self.driver.state.borrow_mut().listeners.set_object(obj);
    }

    /// Glue → core: the local offer/answer for the peer of `userID`.
    #[wasm_bindgen(js_name = feedLocalSdp)]
    pub fn feed_local_sdp(&self, user_id: &str, kind: &str, sdp: String) {
        let kind = if kind == "answer" {
            SdpKind::Answer
        } else {
            SdpKind::Offer
        };
        if let Ok(user) = UserId::new(user_id) {
            pump(&self.driver, Input::LocalSdp { user, kind, sdp });
        }
    }

    /// Glue → core: a local ICE candidate (`RTCIceCandidate.toJSON()`) for the peer of `userID`.
    #[wasm_bindgen(js_name = feedLocalIce)]
    pub fn feed_local_ice(&self, user_id: &str, candidate: JsValue) {
        let (Ok(user), Ok(candidate)) = (
            UserId::new(user_id),
            super::de::from_value::<IceCandidate>(candidate),
        ) else {
            return;
        };
        pump(&self.driver, Input::LocalIce { user, candidate });
    }

    /// Closes the room socket as a network drop would (it reconnects and
    /// resumes by itself); for tests and demos of resilience.
    #[wasm_bindgen(js_name = simulateDisconnect)]
    pub fn simulate_disconnect(&self) {
        if let Some(s) = &self.driver.state.borrow().socket {
            s.drop_connection();
        }
    }

    /// Whether the session is logged in.
    #[wasm_bindgen(getter, js_name = isLoggedIn)]
    pub fn is_logged_in(&self) -> bool {
        self.driver.state.borrow().client.is_logged_in()
    }
}
