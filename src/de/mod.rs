//! Parsed JSON values into Rust types through serde, for both hosts' wasm
//! edge (JS values from `JSON.parse` or the media glue): the decoding half of
//! serde-wasm-bindgen, kept because it is 12.7 KB gzip smaller in the wasm
//! (docs/client-size.md). It reads every serde data-model shape the way
//! serde_json reads the same JSON: structs field by field from objects,
//! maps from an object's entries, sequences and tuples from arrays, strings,
//! booleans, safe integers and other numbers, `null`/`undefined` as none or
//! unit, and enums externally tagged (`"Unit"` or `{"Variant": value}`).
//!
//! It is generic over [`JsLike`], a JS value's few questions: the wasm build
//! implements it for `JsValue` (`de::js`); the native tests for serde_json's
//! `Value` (`de::json`), which is how every shape is round-tripped without a
//! browser.
//!
//! Its errors never print a float. serde's default `invalid_type` text does
//! (`floating point `1.5``), and that alone kept Rust's float formatting,
//! ~19 KB before gzip, in the wasm.

#[cfg(target_arch = "wasm32")]
pub mod js;
#[cfg(test)]
mod json;

use serde::de::{self, DeserializeOwned, DeserializeSeed, Expected, IntoDeserializer, Visitor};
use std::fmt;

/// What the deserializer asks of a parsed JSON value (as JavaScript sees it:
/// `undefined` is an absent field, `null` a present empty one).
pub trait JsLike: Sized {
    /// `undefined`.
    fn is_undefined(&self) -> bool;
    /// `null` or `undefined`.
    fn is_nullish(&self) -> bool;
    /// A boolean.
    fn as_bool(&self) -> Option<bool>;
    /// A number.
    fn as_f64(&self) -> Option<f64>;
    /// A string.
    fn as_string(&self) -> Option<String>;
    /// An array's length (`None` for anything else).
    fn array_len(&self) -> Option<u32>;
    /// Element `i` of an array (`undefined` past its end).
    fn at(&self, i: u32) -> Self;
    /// Whether it is an object that is not an array (nor `null`).
    fn is_plain_object(&self) -> bool;
    /// Property `key` of an object (`undefined` when absent).
    fn get(&self, key: &str) -> Self;
    /// An object's own `[key, value]` entries, in order.
    fn entries(&self) -> Vec<(String, Self)>;
}

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
pub fn from_value<T: DeserializeOwned, J: JsLike>(v: J) -> Result<T, Error> {
    T::deserialize(Deserializer(v))
}

/// A serde `Deserializer` over one JS value.
pub struct Deserializer<J>(J);

impl<J: JsLike> From<J> for Deserializer<J> {
    fn from(v: J) -> Self {
        Self(v)
    }
}

/// The largest integer a double holds exactly (`Number.MAX_SAFE_INTEGER`).
const MAX_SAFE: f64 = 9_007_199_254_740_991.0;

impl<J: JsLike> Deserializer<J> {
    fn is_nullish(&self) -> bool {
        self.0.is_nullish()
    }

    /// The value as an integer when it is a number without a fraction that
    /// a double holds exactly (`Number.isSafeInteger`).
    fn safe_integer(&self) -> Option<i64> {
        self.0
            .as_f64()
            .filter(|n| n.fract() == 0.0 && n.abs() <= MAX_SAFE)
            .map(|n| n as i64)
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
        } else if v.array_len().is_some() {
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

impl<'de, J: JsLike> de::Deserializer<'de> for Deserializer<J> {
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
        } else if v.array_len().is_some() {
            self.deserialize_seq(visitor)
        } else if v.is_plain_object() {
            visitor.visit_map(Entries {
                entries: v.entries().into_iter(),
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
        match self.0.array_len() {
            Some(len) => visitor.visit_seq(Elements {
                array: self.0,
                len,
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
        if !self.0.is_plain_object() {
            return Err(self.invalid(&visitor));
        }
        visitor.visit_map(Fields {
            object: self.0,
            fields: fields.iter(),
            value: None,
        })
    }

    /// Externally tagged, as serde_json reads it: a unit variant as its
    /// name (`"Left"`), any other as an object of one key (`{"Move": …}`).
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        if let Some(s) = self.0.as_string() {
            return visitor.visit_enum(IntoDeserializer::<Error>::into_deserializer(s));
        }
        if self.0.is_plain_object() {
            let mut entries = self.0.entries();
            if entries.len() == 1 {
                if let Some((tag, value)) = entries.pop() {
                    return visitor.visit_enum(Variant { tag, value });
                }
            }
            return Err(de::Error::invalid_value(
                de::Unexpected::Map,
                &"an object with exactly one key",
            ));
        }
        Err(self.invalid(&visitor))
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        char bytes byte_buf tuple tuple_struct map
    }
}

/// A struct's fields, looked up by name.
struct Fields<J> {
    object: J,
    fields: std::slice::Iter<'static, &'static str>,
    value: Option<J>,
}

impl<J: JsLike> Fields<J> {
    /// The next field the object has (not `undefined`); its value is kept
    /// for `next_value_seed`. Not generic over the struct, so every struct shares it.
    fn next_present(&mut self) -> Option<&'static str> {
        for field in self.fields.by_ref() {
            let v = self.object.get(field);
            if !v.is_undefined() {
                self.value = Some(v);
                return Some(field);
            }
        }
        None
    }
}

impl<'de, J: JsLike> de::MapAccess<'de> for Fields<J> {
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
        match self.value.take() {
            Some(v) => seed.deserialize(Deserializer(v)),
            None => Err(de::Error::custom("value asked for before its key")),
        }
    }
}

/// An object's own `[key, value]` entries, for maps.
struct Entries<J> {
    entries: std::vec::IntoIter<(String, J)>,
    value: Option<J>,
}

impl<'de, J: JsLike> de::MapAccess<'de> for Entries<J> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        let Some((key, value)) = self.entries.next() else {
            return Ok(None);
        };
        self.value = Some(value);
        seed.deserialize(key.into_deserializer()).map(Some)
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, Error> {
        match self.value.take() {
            Some(v) => seed.deserialize(Deserializer(v)),
            None => Err(de::Error::custom("value asked for before its key")),
        }
    }
}

/// An array's elements.
struct Elements<J> {
    array: J,
    len: u32,
    next: u32,
}

impl<'de, J: JsLike> de::SeqAccess<'de> for Elements<J> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        if self.next >= self.len {
            return Ok(None);
        }
        let v = self.array.at(self.next);
        self.next += 1;
        seed.deserialize(Deserializer(v)).map(Some)
    }
}

/// A non-unit enum variant: `{tag: value}`.
struct Variant<J> {
    tag: String,
    value: J,
}

impl<'de, J: JsLike> de::EnumAccess<'de> for Variant<J> {
    type Error = Error;
    type Variant = Deserializer<J>;

    fn variant_seed<S: DeserializeSeed<'de>>(
        self,
        seed: S,
    ) -> Result<(S::Value, Self::Variant), Error> {
        let tag = seed.deserialize(IntoDeserializer::<Error>::into_deserializer(self.tag))?;
        Ok((tag, Deserializer(self.value)))
    }
}

impl<'de, J: JsLike> de::VariantAccess<'de> for Deserializer<J> {
    type Error = Error;

    fn unit_variant(self) -> Result<(), Error> {
        de::Deserialize::deserialize(self)
    }

    fn newtype_variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<S::Value, Error> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, Error> {
        de::Deserializer::deserialize_seq(self, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        de::Deserializer::deserialize_struct(self, "", fields, visitor)
    }
}
