//! [`JsLike`] for `JsValue`: what `JSON.parse` and the JS glue hand the wasm.

use super::JsLike;
use js_sys::{Array, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};

impl JsLike for JsValue {
    fn is_undefined(&self) -> bool {
        JsValue::is_undefined(self)
    }

    fn is_nullish(&self) -> bool {
        self.is_null() || JsValue::is_undefined(self)
    }

    fn as_bool(&self) -> Option<bool> {
        JsValue::as_bool(self)
    }

    fn as_f64(&self) -> Option<f64> {
        JsValue::as_f64(self)
    }

    fn as_string(&self) -> Option<String> {
        JsValue::as_string(self)
    }

    fn array_len(&self) -> Option<u32> {
        self.dyn_ref::<Array>().map(Array::length)
    }

    fn at(&self, i: u32) -> Self {
        self.unchecked_ref::<Array>().get(i)
    }

    fn is_plain_object(&self) -> bool {
        self.is_object() && !Array::is_array(self)
    }

    fn get(&self, key: &str) -> Self {
        Reflect::get(self, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
    }

    fn entries(&self) -> Vec<(String, Self)> {
        Object::entries(self.unchecked_ref())
            .iter()
            .filter_map(|pair| {
                let pair: Array = pair.unchecked_into();
                Some((pair.get(0).as_string()?, pair.get(1)))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use crate::de::from_value;
    use rtcroom_protocol::http::{GetRoomListResponse, LoginResponse, RoomSummary};
    use rtcroom_protocol::ws::{CustomHead, IceCandidate, QuitReason};
    use rtcroom_protocol::ApiError;
    use serde::de::DeserializeOwned;
    use std::fmt::Debug;
    use wasm_bindgen::JsValue;
    use wasm_bindgen_test::*;

    wasm_bindgen_test_configure!(run_in_browser);

    fn parse(json: &str) -> JsValue {
        js_sys::JSON::parse(json).unwrap()
    }

    /// Decodes `json` both ways: through `JSON.parse` and ours, and with serde_json.
    fn both<T: DeserializeOwned + PartialEq + Debug>(
        json: &str,
    ) -> (Result<T, String>, Result<T, String>) {
        let ours = from_value::<T, _>(parse(json)).map_err(|e| e.to_string());
        let theirs = serde_json::from_str::<T>(json).map_err(|e| e.to_string());
        (ours, theirs)
    }

    fn same<T: DeserializeOwned + PartialEq + Debug>(json: &str) {
        let (ours, theirs) = both::<T>(json);
        assert_eq!(ours.unwrap(), theirs.unwrap(), "{json}");
    }

    fn rejected<T: DeserializeOwned + PartialEq + Debug>(json: &str) -> String {
        let (ours, theirs) = both::<T>(json);
        assert!(theirs.is_err(), "{json}");
        ours.unwrap_err()
    }

    #[wasm_bindgen_test]
    fn decodes_what_serde_json_decodes() {
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
            "invalid type: string \"0\", expected i32"
        );
        assert_eq!(
            rejected::<ApiError>(r#"{"code":1.5,"message":"m"}"#),
            "invalid type: floating point number, expected i32"
        );
        assert_eq!(
            rejected::<ApiError>(r#"{"code":4294967296,"message":"m"}"#),
            "invalid value: integer `4294967296`, expected i32"
        );
        rejected::<ApiError>("null");
        rejected::<QuitReason>(r#""gone""#);
        rejected::<RoomSummary>(r#"{"roomID":"","roomCreator":"a"}"#);
        rejected::<IceCandidate>(r#"{"candidate":"c","sdpMLineIndex":-1}"#);
        rejected::<GetRoomListResponse>(r#"{"rooms":{}}"#);
    }
}
