//! Parsed JSON (JS values from `JSON.parse` or the media glue) into Rust
//! types through serde: the decoding half of serde-wasm-bindgen, cut to the
//! shapes the protocol uses — objects read as structs field by field, arrays,
//! strings, booleans, safe integers, `null`/`undefined` as none, and unit
//! enums as strings.
//!
//! Its errors never print a float. serde's default `invalid_type` text does
//! (`floating point `1.5``), and that alone kept Rust's float formatting,
//! ~19 KB before gzip, in the wasm.

use js_sys::{Array, Number, Object, Reflect};
use serde::de::{self, DeserializeOwned, DeserializeSeed, Expected, IntoDeserializer, Visitor};
use std::fmt;
use wasm_bindgen::{JsCast, JsValue};

/// Why a value did not decode (serde's message).
#[derive(Debug)]
pub struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error(msg.to_string())
    }

    fn invalid_type(unexp: de::Unexpected<'_>, exp: &dyn Expected) -> Self {
        Error(format!(
            "invalid type: {}, expected {exp}",
            Unexpected(unexp)
        ))
    }

    fn invalid_value(unexp: de::Unexpected<'_>, exp: &dyn Expected) -> Self {
        Error(format!(
            "invalid value: {}, expected {exp}",
            Unexpected(unexp)
        ))
    }
}

/// serde's wording for an unexpected value, except that a float is not printed.
struct Unexpected<'a>(de::Unexpected<'a>);

impl fmt::Display for Unexpected<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use de::Unexpected::*;
        match self.0 {
            Bool(b) => write!(f, "boolean `{b}`"),
            Unsigned(n) => write!(f, "integer `{n}`"),
            Signed(n) => write!(f, "integer `{n}`"),
            Float(_) => f.write_str("floating point number"),
            Str(s) => write!(f, "string \"{s}\""),
            Unit => f.write_str("unit value"),
            Option => f.write_str("Option value"),
            Seq => f.write_str("sequence"),
            Map => f.write_str("map"),
            Other(s) => f.write_str(s),
            _ => f.write_str("unexpected value"),
        }
    }
}

/// Decodes `v` as a `T`.
pub fn from_value<T: DeserializeOwned>(v: JsValue) -> Result<T, Error> {
    T::deserialize(Deserializer(v))
}

/// A serde `Deserializer` over one JS value.
pub struct Deserializer(JsValue);

impl From<JsValue> for Deserializer {
    fn from(v: JsValue) -> Self {
        Self(v)
    }
}

impl Deserializer {
    fn is_nullish(&self) -> bool {
        self.0.is_null() || self.0.is_undefined()
    }

    /// The value as an integer when it is a number without a fraction that
    /// a double holds exactly.
    fn safe_integer(&self) -> Option<i64> {
        if Number::is_safe_integer(&self.0) {
            self.0.as_f64().map(|n| n as i64)
        } else {
            None
        }
    }

    #[cold]
    fn invalid(&self, exp: &dyn Expected) -> Error {
        let v = &self.0;
        let text;
        let unexp = if self.is_nullish() {
            de::Unexpected::Unit
        } else if let Some(b) = v.as_bool() {
            de::Unexpected::Bool(b)
        } else if let Some(n) = self.safe_integer() {
            de::Unexpected::Signed(n)
        } else if v.as_f64().is_some() {
            de::Unexpected::Float(0.0)
        } else if let Some(s) = v.as_string() {
            text = s;
            de::Unexpected::Str(&text)
        } else if Array::is_array(v) {
            de::Unexpected::Seq
        } else {
            de::Unexpected::Map
        };
        de::Error::invalid_type(unexp, exp)
    }

    fn integer<'de, V: Visitor<'de>>(self, visitor: V, signed: bool) -> Result<V::Value, Error> {
        match self.safe_integer() {
            Some(n) if signed => visitor.visit_i64(n),
            Some(n) if n >= 0 => visitor.visit_u64(n as u64),
            _ => Err(self.invalid(&visitor)),
        }
    }
}

impl<'de> de::Deserializer<'de> for Deserializer {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let v = &self.0;
        if self.is_nullish() {
            visitor.visit_unit()
        } else if let Some(b) = v.as_bool() {
            visitor.visit_bool(b)
        } else if let Some(n) = self.safe_integer() {
            match u64::try_from(n) {
                Ok(u) => visitor.visit_u64(u),
                Err(_) => visitor.visit_i64(n),
            }
        } else if let Some(n) = v.as_f64() {
            visitor.visit_f64(n)
        } else if let Some(s) = v.as_string() {
            visitor.visit_string(s)
        } else if Array::is_array(v) {
            self.deserialize_seq(visitor)
        } else if v.is_object() {
            let entries = Object::entries(v.unchecked_ref());
            visitor.visit_map(Entries {
                entries,
                next: 0,
                value: None,
            })
        } else {
            Err(self.invalid(&visitor))
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0.as_bool() {
            Some(b) => visitor.visit_bool(b),
            None => Err(self.invalid(&visitor)),
        }
    }

    fn deserialize_i8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.integer(visitor, true)
    }

    fn deserialize_i16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.integer(visitor, true)
    }

    fn deserialize_i32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.integer(visitor, true)
    }

    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.integer(visitor, true)
    }

    fn deserialize_u8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.integer(visitor, false)
    }

    fn deserialize_u16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.integer(visitor, false)
    }

    fn deserialize_u32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.integer(visitor, false)
    }

    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.integer(visitor, false)
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0.as_f64() {
            Some(n) => visitor.visit_f64(n),
            None => Err(self.invalid(&visitor)),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_string(visitor)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0.as_string() {
            Some(s) => visitor.visit_string(s),
            None => Err(self.invalid(&visitor)),
        }
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_string(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.is_nullish() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.is_nullish() {
            visitor.visit_unit()
        } else {
            Err(self.invalid(&visitor))
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0.dyn_ref::<Array>() {
            Some(array) => visitor.visit_seq(Elements {
                array: array.clone(),
                next: 0,
            }),
            None => Err(self.invalid(&visitor)),
        }
    }

    /// A plain object, read by the struct's field names (absent fields are
    /// left to serde: `default` or "missing field").
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        if !self.0.is_object() || Array::is_array(&self.0) {
            return Err(self.invalid(&visitor));
        }
        visitor.visit_map(Fields {
            object: self.0,
            fields: fields.iter(),
            value: None,
        })
    }

    /// Unit variants, as strings.
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.0.as_string() {
            Some(s) => visitor.visit_enum(IntoDeserializer::<Error>::into_deserializer(s)),
            None => Err(self.invalid(&visitor)),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        char bytes byte_buf tuple tuple_struct map
    }
}

/// A struct's fields, looked up by name.
struct Fields {
    object: JsValue,
    fields: std::slice::Iter<'static, &'static str>,
    value: Option<JsValue>,
}

impl Fields {
    /// The next field the object has (not `undefined`); its value is kept
    /// for `next_value_seed`. Not generic, so every struct shares it.
    fn next_present(&mut self) -> Option<&'static str> {
        for field in self.fields.by_ref() {
            let v =
                Reflect::get(&self.object, &JsValue::from_str(field)).unwrap_or(JsValue::UNDEFINED);
            if !v.is_undefined() {
                self.value = Some(v);
                return Some(field);
            }
        }
        None
    }
}

impl<'de> de::MapAccess<'de> for Fields {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        match self.next_present() {
            Some(field) => seed.deserialize(field.into_deserializer()).map(Some),
            None => Ok(None),
        }
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, Error> {
        let v = self.value.take().unwrap_or(JsValue::UNDEFINED);
        seed.deserialize(Deserializer(v))
    }
}

/// An object's own `[key, value]` entries, for maps.
struct Entries {
    entries: Array,
    next: u32,
    value: Option<JsValue>,
}

impl<'de> de::MapAccess<'de> for Entries {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        if self.next >= self.entries.length() {
            return Ok(None);
        }
        let pair: Array = self.entries.get(self.next).unchecked_into();
        self.next += 1;
        self.value = Some(pair.get(1));
        seed.deserialize(Deserializer(pair.get(0))).map(Some)
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, Error> {
        let v = self.value.take().unwrap_or(JsValue::UNDEFINED);
        seed.deserialize(Deserializer(v))
    }
}

/// An array's elements.
struct Elements {
    array: Array,
    next: u32,
}

impl<'de> de::SeqAccess<'de> for Elements {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        if self.next >= self.array.length() {
            return Ok(None);
        }
        let v = self.array.get(self.next);
        self.next += 1;
        seed.deserialize(Deserializer(v)).map(Some)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::from_value;
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
        let ours = from_value::<T>(parse(json)).map_err(|e| e.to_string());
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
