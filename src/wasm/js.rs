//! Small JS interop helpers for both hosts: serde values to JSON text and
//! plain JS objects, errors as `Error` objects carrying `code`, and property
//! access that never throws.

use js_sys::Reflect;
use rtcroom_protocol::ApiError;
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// A serde value as a plain JS value: its JSON text through `JSON.parse`.
pub fn to_js<T: Serialize + ?Sized>(v: &T) -> JsValue {
    to_json(v)
        .and_then(|text| js_sys::JSON::parse(&text).ok())
        .unwrap_or(JsValue::UNDEFINED)
}

/// A serde value as JSON text (serde_json's writer: smaller in the wasm than
/// serde-wasm-bindgen's serializer, and within 1 KB of a hand-written one).
pub fn to_json<T: Serialize + ?Sized>(v: &T) -> Option<String> {
    serde_json::to_string(v).ok()
}

/// An `Error` with `code` and `message`, as API promises reject.
pub fn error_value(e: &ApiError) -> JsValue {
    let err = js_sys::Error::new(&e.message);
    let _ = Reflect::set(&err, &"code".into(), &JsValue::from(e.code));
    err.into()
}

/// `obj[key]`, or `undefined`.
pub fn get(obj: &JsValue, key: &str) -> JsValue {
    if obj.is_object() {
        Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
    } else {
        JsValue::UNDEFINED
    }
}

/// `obj[key]` as a string (numbers as JavaScript's `String(n)` writes them), or `None`.
pub fn get_string(obj: &JsValue, key: &str) -> Option<String> {
    let v = get(obj, key);
    if let Some(s) = v.as_string() {
        return Some(s);
    }
    v.as_f64().map(|_| number_text(&v))
}

/// `obj[key]` as a non-negative whole number, or `None`.
pub fn get_uint(obj: &JsValue, key: &str) -> Option<u64> {
    get(obj, key)
        .as_f64()
        .filter(|n| *n >= 0.0 && n.fract() == 0.0 && *n <= 9_007_199_254_740_991.0)
        .map(|n| n as u64)
}

/// A JS exception as text for the debug log.
pub fn describe(e: &JsValue) -> String {
    if let Some(err) = e.dyn_ref::<js_sys::Error>() {
        return String::from(err.message());
    }
    e.as_string()
        .unwrap_or_else(|| "unknown JavaScript error".into())
}

#[wasm_bindgen]
extern "C" {
    /// `String(v)`: JavaScript's own number formatting (Rust's would add
    /// ~19 KB of float printing to the wasm).
    #[wasm_bindgen(js_name = String)]
    pub fn number_text(v: &JsValue) -> String;
}
