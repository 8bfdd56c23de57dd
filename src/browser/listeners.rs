//! Event delivery to the application: `on(name, fn)` handlers and a
//! Tencent-style listener object (`setListener({onPusherJoin, …})`), with the
//! arguments of the original Android `IRTCRoomListener`.

use super::js;
use crate::core::{ConnectionState, Event};
use js_sys::Function;
use wasm_bindgen::JsValue;

/// Registered handlers.
#[derive(Default)]
pub struct Listeners {
    handlers: Vec<(String, Function)>,
    object: Option<JsValue>,
}

/// Event names without the `on` prefix, as `on()` takes them.
pub const NAMES: [&str; 9] = [
    "getPusherList",
    "pusherJoin",
    "pusherQuit",
    "recvRoomTextMsg",
    "recvRoomCustomMsg",
    "roomClosed",
    "debugLog",
    "error",
    "connectionStateChange",
];

/// `onPusherJoin` / `pusherJoin` → `pusherJoin`; unknown names → None.
pub fn normalize(name: &str) -> Option<&'static str> {
    let bare = name
        .strip_prefix("on")
        .filter(|r| r.starts_with(|c: char| c.is_ascii_uppercase()));
    let bare = match bare {
        Some(r) => first_to(r, |c| c.to_ascii_lowercase()),
        None => name.to_owned(),
    };
    NAMES.iter().copied().find(|n| *n == bare)
}

/// `s` with its first character mapped by `f`.
fn first_to(s: &str, f: fn(char) -> char) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|c| f(c).to_string() + chars.as_str())
        .unwrap_or_default()
}

impl Listeners {
    /// Adds a handler.
    pub fn on(&mut self, name: &'static str, f: Function) {
        self.handlers.push((name.to_owned(), f));
    }

    /// Removes one handler, or all handlers of `name` when `f` is None.
    pub fn off(&mut self, name: &str, f: Option<&Function>) {
        self.handlers
            .retain(|(n, h)| n != name || f.is_some_and(|f| f != h));
    }

    /// Sets (or clears) the listener object.
    pub fn set_object(&mut self, obj: Option<JsValue>) {
        self.object = obj;
    }

    /// The calls to make for `event`: (this, function, args). Collected while
    /// the driver is borrowed, made after it is released.
    pub fn calls_for(&self, event: &Event) -> Vec<(JsValue, Function, js_sys::Array)> {
        let (name, args) = name_and_args(event);
        let mut calls: Vec<(JsValue, Function, js_sys::Array)> = self
            .handlers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, f)| (JsValue::UNDEFINED, f.clone(), args.clone()))
            .collect();
        if let Some(obj) = &self.object {
            let method = format!("on{}", first_to(name, |c| c.to_ascii_uppercase()));
            if let Ok(f) = wasm_bindgen::JsCast::dyn_into::<Function>(js::get(obj, &method)) {
                calls.push((obj.clone(), f, args));
            }
        }
        calls
    }
}

fn state_name(s: ConnectionState) -> &'static str {
    match s {
        ConnectionState::Disconnected => "disconnected",
        ConnectionState::Connecting => "connecting",
        ConnectionState::Connected => "connected",
        ConnectionState::Reconnecting => "reconnecting",
    }
}

fn name_and_args(event: &Event) -> (&'static str, js_sys::Array) {
    let s = |v: &str| JsValue::from_str(v);
    let n = |v: u64| JsValue::from_f64(v as f64);
    let (name, args): (&str, Vec<JsValue>) = match event {
        Event::GetPusherList(list) => ("getPusherList", vec![js::to_js(list)]),
        Event::PusherJoin(p) => ("pusherJoin", vec![js::to_js(p)]),
        Event::PusherQuit(p) => ("pusherQuit", vec![js::to_js(p)]),
        Event::RecvRoomTextMsg {
            room_id,
            user_id,
            user_name,
            user_avatar,
            text,
            time,
        } => (
            "recvRoomTextMsg",
            vec![
                s(room_id.as_str()),
                s(user_id.as_str()),
                s(user_name),
                s(user_avatar),
                s(text),
                n(*time),
            ],
        ),
        Event::RecvRoomCustomMsg {
            room_id,
            user_id,
            user_name,
            user_avatar,
            cmd,
            msg,
            time,
        } => (
            "recvRoomCustomMsg",
            vec![
                s(room_id.as_str()),
                s(user_id.as_str()),
                s(user_name),
                s(user_avatar),
                s(cmd),
                s(msg),
                n(*time),
            ],
        ),
        Event::RoomClosed { room_id } => ("roomClosed", vec![s(room_id.as_str())]),
        Event::DebugLog(line) => ("debugLog", vec![s(line)]),
        Event::Error { code, message } => ("error", vec![JsValue::from(*code), s(message)]),
        Event::ConnectionStateChange(state) => {
            ("connectionStateChange", vec![s(state_name(*state))])
        }
    };
    (name, args.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn names_with_or_without_on() {
        assert_eq!(normalize("onPusherJoin"), Some("pusherJoin"));
        assert_eq!(normalize("pusherJoin"), Some("pusherJoin"));
        assert_eq!(normalize("error"), Some("error"));
        assert_eq!(normalize("onError"), Some("error"));
        assert_eq!(normalize("nope"), None);
    }
}
