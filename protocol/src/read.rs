//! The client's readers of the protocol's documents (server frames, HTTP
//! replies, the media glue's ICE candidates): each type read field by field
//! from a parsed JSON value by its wire name, without serde.
//!
//! Why not serde's derive on the client: a derived `Deserialize` walks the
//! document's keys, matches each against the struct's names through an
//! identifier visitor, checks for duplicates, fills one slot per field and
//! drops the partly read value at every error. In the wasm client that was
//! ~10 KB gzip (docs/client-size.md). A client holds the document already
//! parsed (`JSON.parse`) and can ask for a property by name, so each type
//! here asks for its fields one after another.
//!
//! The wire names are still written once: [`wire_struct!`](crate::read::wire_struct)
//! defines a struct, its serde attributes (the server keeps serde) and its
//! [`Read`] from one table, as `server_events!` does for the frame types and
//! `wire_enum!` for string enums. The tests read every shape both ways
//! (serde_json and [`Read`] over the same JSON) and check they agree, on
//! success and on failure.
//!
//! Rules, as serde's derive applies them: an absent field is `None` for an
//! `Option`, the default for a `or default` field, "missing field" for any
//! other; `null` is `None` for an `Option` and a type error for any other;
//! unknown fields are ignored. Numbers are JavaScript's: an integer is a
//! number without a fraction within ±2^53 (`JSON.parse` cannot tell `1`
//! from `1.0`, serde_json can). What only serde's derive accepts, and no
//! server sends: a struct written as an array (its sequence form) and a
//! frame whose `type` is a number (the variant's index). Type errors are
//! worded "invalid type: expected …" (serde also names what it found).

use std::fmt;

/// A parsed JSON value as a client holds it (the wasm driver: a `JsValue`
/// from `JSON.parse`).
pub trait Doc: Sized {
    /// Property `key` of an object; `None` when absent (or not an object).
    fn get(&self, key: &str) -> Option<Self>;
    /// `null`.
    fn is_null(&self) -> bool;
    /// An object that is neither an array nor `null`.
    fn is_object(&self) -> bool;
    /// A boolean.
    fn as_bool(&self) -> Option<bool>;
    /// A number.
    fn as_f64(&self) -> Option<f64>;
    /// A string.
    fn as_string(&self) -> Option<String>;
    /// An array's length (`None` for anything else).
    fn array_len(&self) -> Option<u32>;
    /// Element `i` of an array (`i` below its length).
    fn at(&self, i: u32) -> Self;
}

/// Why a value did not read (serde's wording where serde has one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadError(String);

impl ReadError {
    /// A required field is absent: "missing field `key`".
    #[cold]
    #[inline(never)]
    pub fn missing(key: &'static str) -> Self {
        ReadError(format!("missing field `{key}`"))
    }

    /// A value of the wrong type: "invalid type: expected …".
    #[cold]
    #[inline(never)]
    pub fn invalid(expected: &'static str) -> Self {
        ReadError(format!("invalid type: expected {expected}"))
    }

    /// A string that names no variant, in serde's words.
    #[cold]
    #[inline(never)]
    pub fn unknown_variant(got: &str, names: &'static [&'static str]) -> Self {
        let mut msg = String::from("unknown variant `");
        msg.push_str(got);
        msg.push_str("`, expected ");
        if names.len() > 2 {
            msg.push_str("one of ");
        }
        for (i, name) in names.iter().enumerate() {
            if i > 0 {
                msg.push_str(if names.len() == 2 { " or " } else { ", " });
            }
            msg.push('`');
            msg.push_str(name);
            msg.push('`');
        }
        ReadError(msg)
    }

    /// Any other failure (an id that does not validate, …).
    #[cold]
    #[inline(never)]
    pub fn other(msg: &dyn fmt::Display) -> Self {
        ReadError(format!("{msg}")) // `format!`'s one shared path, not an inlined `to_string`
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ReadError {}

/// A type read from a [`Doc`].
pub trait Read: Sized {
    /// Reads `v` (present: not absent; maybe `null`).
    fn read<D: Doc>(v: &D) -> Result<Self, ReadError>;

    /// What an absent field is: `None` means "missing field".
    fn absent() -> Option<Self> {
        None
    }
}

/// Field `key` of `d` (absent: [`Read::absent`] or "missing field").
pub fn field<T: Read, D: Doc>(d: &D, key: &'static str) -> Result<T, ReadError> {
    match d.get(key) {
        Some(v) => T::read(&v),
        None => T::absent().ok_or_else(|| ReadError::missing(key)),
    }
}

/// Field `key` of `d`, its type's default when absent (serde's `default`).
pub fn field_or_default<T: Read + Default, D: Doc>(
    d: &D,
    key: &'static str,
) -> Result<T, ReadError> {
    match d.get(key) {
        Some(v) => T::read(&v),
        None => Ok(T::default()),
    }
}

/// Checks `v` is an object before its fields are read (one message for
/// every struct: their names would be ~0.4 KB of wasm data).
pub fn object<D: Doc>(v: &D) -> Result<(), ReadError> {
    if v.is_object() {
        Ok(())
    } else {
        Err(ReadError::invalid("an object"))
    }
}

/// The index of the string `v` in `names` (a [`wire_enum!`](crate::wire_enum::wire_enum)'s).
pub fn variant<D: Doc>(v: &D, names: &'static [&'static str]) -> Result<usize, ReadError> {
    let s = String::read(v)?;
    names
        .iter()
        .position(|n| *n == s)
        .ok_or_else(|| ReadError::unknown_variant(&s, names))
}

impl<T: Read> Read for Option<T> {
    fn read<D: Doc>(v: &D) -> Result<Self, ReadError> {
        if v.is_null() {
            Ok(None)
        } else {
            T::read(v).map(Some)
        }
    }

    fn absent() -> Option<Self> {
        Some(None)
    }
}

impl<T: Read> Read for Vec<T> {
    fn read<D: Doc>(v: &D) -> Result<Self, ReadError> {
        // A loop, not `map(..).collect::<Result<_, _>>()`: that one's
        // adapter was ~1 KB of wasm per element type.
        let len = v
            .array_len()
            .ok_or_else(|| ReadError::invalid("a sequence"))?;
        let mut out = Vec::with_capacity(len as usize);
        for i in 0..len {
            out.push(T::read(&v.at(i))?);
        }
        Ok(out)
    }
}

impl Read for String {
    fn read<D: Doc>(v: &D) -> Result<Self, ReadError> {
        v.as_string().ok_or_else(|| ReadError::invalid("a string"))
    }
}

impl Read for bool {
    fn read<D: Doc>(v: &D) -> Result<Self, ReadError> {
        v.as_bool().ok_or_else(|| ReadError::invalid("a boolean"))
    }
}

/// The largest integer a double holds exactly (`Number.MAX_SAFE_INTEGER`).
const MAX_SAFE: f64 = 9_007_199_254_740_991.0;

/// `v` as an integer: a number without a fraction within ±2^53
/// (`Number.isSafeInteger`). One copy for every integer type.
fn safe_integer<D: Doc>(v: &D) -> Option<i64> {
    v.as_f64()
        .filter(|n| n.fract() == 0.0 && n.abs() <= MAX_SAFE)
        .map(|n| n as i64)
}

macro_rules! integers {
    ($($ty:ty),*) => {
        $(impl Read for $ty {
            fn read<D: Doc>(v: &D) -> Result<Self, ReadError> {
                safe_integer(v)
                    .and_then(|n| <$ty>::try_from(n).ok())
                    .ok_or_else(|| ReadError::invalid(stringify!($ty)))
            }
        })*
    };
}
integers!(u16, u32, u64, i32);

/// Defines a struct from one table — each field with its wire name, and
/// `or default` where an absent field takes its type's default — with its
/// serde attributes (`rename`, `default`) and its [`Read`] from the same
/// table. The caller's attributes (docs, derives, `skip_serializing_if`) are
/// kept.
macro_rules! wire_struct {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $(
                $(#[$fattr:meta])*
                pub $field:ident: $fty:ty = $key:literal $(or $def:ident)?
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        pub struct $name {
            $(
                $(#[$fattr])*
                #[serde(rename = $key $(, $def)?)]
                pub $field: $fty,
            )*
        }

        impl $crate::read::Read for $name {
            fn read<D: $crate::read::Doc>(v: &D) -> Result<Self, $crate::read::ReadError> {
                $crate::read::object(v)?;
                Ok($name {
                    $($field: $crate::read::wire_struct!(@field v, $key $(, $def)?)?,)*
                })
            }
        }
    };
    (@field $v:ident, $key:literal) => {
        $crate::read::field($v, $key)
    };
    (@field $v:ident, $key:literal, default) => {
        $crate::read::field_or_default($v, $key)
    };
}
pub(crate) use wire_struct;

/// [`Doc`] for serde_json's `Value`: how native clients and the tests read.
#[cfg(any(test, feature = "json"))]
impl Doc for serde_json::Value {
    fn get(&self, key: &str) -> Option<Self> {
        self.as_object()?.get(key).cloned()
    }

    fn is_null(&self) -> bool {
        serde_json::Value::is_null(self)
    }

    fn is_object(&self) -> bool {
        serde_json::Value::is_object(self)
    }

    fn as_bool(&self) -> Option<bool> {
        serde_json::Value::as_bool(self)
    }

    fn as_f64(&self) -> Option<f64> {
        serde_json::Value::as_f64(self)
    }

    fn as_string(&self) -> Option<String> {
        self.as_str().map(str::to_owned)
    }

    fn array_len(&self) -> Option<u32> {
        self.as_array().and_then(|a| u32::try_from(a.len()).ok())
    }

    fn at(&self, i: u32) -> Self {
        self[i as usize].clone()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::error::ApiError;
    use crate::frame::decode_any_frame;
    use crate::http::{
        AddPusherResponse, CreateRoomResponse, GetPushUrlResponse, GetRoomListResponse, IceServer,
        LoginResponse, Pusher, RoomSummary,
    };
    use crate::ids::{RoomId, UserId};
    use crate::sfu::{SfuServerEvent, SfuStream};
    use crate::ws::{CustomHead, IceCandidate, QuitReason, ServerFrame, TextHead};
    use serde::de::DeserializeOwned;
    use serde_json::{json, Value};
    use std::fmt::Debug;

    /// Values put in place of a field: every JSON type, ids that do not
    /// validate, integers out of every range used. Not an array of one
    /// string: serde's derive reads a struct from an array too (its
    /// sequence form, `["u1"]` as a `Pusher`), which the readers do not.
    fn replacements() -> Vec<Value> {
        vec![
            Value::Null,
            json!(true),
            json!(7),
            json!(-1),
            json!(1.5),
            json!(70000),
            json!(4294967296u64),
            json!(""),
            json!("a b"),
            json!("x"),
            json!([]),
            json!([7]),
            json!({}),
        ]
    }

    /// `v` and every document one change away from it, at any depth: each
    /// field removed or replaced by each of [`replacements`], each array
    /// element replaced.
    fn mutations(v: &Value) -> Vec<Value> {
        let mut out = vec![v.clone()];
        match v {
            Value::Object(map) => {
                for (k, child) in map {
                    let mut removed = map.clone();
                    removed.remove(k);
                    out.push(Value::Object(removed));
                    let mut edits: Vec<Value> = replacements();
                    edits.extend(mutations(child).into_iter().skip(1));
                    for e in edits {
                        let mut m = map.clone();
                        m.insert(k.clone(), e);
                        out.push(Value::Object(m));
                    }
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    let mut edits: Vec<Value> = replacements();
                    edits.extend(mutations(child).into_iter().skip(1));
                    for e in edits {
                        let mut a = items.clone();
                        a[i] = e;
                        out.push(Value::Array(a));
                    }
                }
            }
            _ => {}
        }
        out
    }

    /// `read` and serde's derive agree on `doc`, every mutation of it and
    /// every replacement of it: the same value, or both an error (with
    /// serde's words for a missing field or an unknown variant, when `words`
    /// and both say so; a struct given as an array is serde's sequence form,
    /// which has other words). `serde_only`: documents only serde accepts.
    /// Returns how many were rejected.
    fn agree_by<T, F>(doc: Value, read: F, words: bool, serde_only: fn(&Value) -> bool) -> usize
    where
        T: DeserializeOwned + PartialEq + Debug,
        F: Fn(&Value) -> Result<T, ReadError>,
    {
        let mut rejected = 0;
        for m in mutations(&doc).into_iter().chain(replacements()) {
            let serde = serde_json::from_value::<T>(m.clone());
            match (read(&m), serde) {
                (Ok(ours), Ok(theirs)) => assert_eq!(ours, theirs, "{m}"),
                (Err(ours), Err(theirs)) => {
                    rejected += 1;
                    let (ours, theirs) = (ours.to_string(), theirs.to_string());
                    let named = |e: &str| {
                        e.starts_with("missing field") || e.starts_with("unknown variant")
                    };
                    if words && named(&ours) && named(&theirs) {
                        assert_eq!(ours, theirs, "{m}");
                    }
                }
                (Err(_), Ok(_)) if serde_only(&m) => {}
                (ours, theirs) => panic!("{m}: read {ours:?}, serde {theirs:?}"),
            }
        }
        rejected
    }

    fn agree<T: Read + DeserializeOwned + PartialEq + Debug>(doc: Value) -> usize {
        agree_by(doc, T::read, true, |_| false)
    }

    fn pusher() -> Value {
        json!({"userID": "u1", "userName": "N \"q\"", "userAvatar": "a.png",
               "accelerateURL": "rtmp://x", "joinOrder": 3})
    }

    fn candidate() -> Value {
        json!({"candidate": "candidate:1 1 udp 1 127.0.0.1 9 typ host", "sdpMid": "0",
               "sdpMLineIndex": 1, "usernameFragment": "uf"})
    }

    fn room() -> Value {
        json!({"roomID": "r", "roomInfo": "i", "roomCreator": "a", "mixedPlayURL": "m",
               "custom": "{}", "pushers": [pusher()], "memberCount": 1, "createTime": 1700000000000u64})
    }

    #[test]
    fn every_struct_reads_like_serde_on_every_mutation() {
        assert!(agree::<Pusher>(pusher()) > 0);
        assert!(agree::<Pusher>(json!({"userID": "u1"})) > 0);
        assert!(agree::<IceCandidate>(candidate()) > 0);
        assert!(agree::<IceCandidate>(json!({"candidate": ""})) > 0);
        assert!(
            agree::<IceServer>(
                json!({"urls": ["stun:s", "turn:t"], "username": "a", "credential": "c"})
            ) > 0
        );
        assert!(
            agree::<TextHead>(
                json!({"cmd": "CustomTextMsg", "data": {"nickName": "n", "headPic": "p"}})
            ) > 0
        );
        assert!(
            agree::<CustomHead>(json!({"cmd": "CustomCmdMsg",
            "data": {"userName": "n", "userAvatar": "", "cmd": "c", "msg": "m"}}))
                > 0
        );
        assert!(agree::<SfuStream>(json!({"mid": "0", "userID": "u", "kind": "video"})) > 0);
        assert!(agree::<ApiError>(json!({"code": -1, "message": "internal", "extra": [1]})) > 0);
        assert!(
            agree::<LoginResponse>(
                json!({"code": 0, "message": "ok", "userID": "u1", "token": "t",
            "tokenTTL": 86400, "heartbeatInterval": 5, "iceServers": [{"urls": ["stun:s"]}]})
            ) > 0
        );
        assert!(agree::<GetPushUrlResponse>(json!({"pushURL": "rtmp://h/live/s"})) > 0);
        assert!(agree::<RoomSummary>(room()) > 0);
        assert!(agree::<RoomSummary>(json!({"roomID": "r", "roomCreator": "a"})) > 0);
        assert!(agree::<GetRoomListResponse>(json!({"rooms": [room()], "total": 1})) > 0);
        assert!(agree::<CreateRoomResponse>(json!({"roomID": "r"})) > 0);
        assert!(agree::<AddPusherResponse>(json!({"roomID": "r", "pushers": [pusher()]})) > 0);
        assert!(agree::<AddPusherResponse>(json!({"roomID": "r"})) > 0);
        assert!(agree::<QuitReason>(json!("timeout")) > 0);
        assert!(agree::<UserId>(json!("u1")) > 0);
        assert!(agree::<RoomId>(json!("r1")) > 0);
        assert!(agree::<Vec<u64>>(json!([0, 9007199254740991u64])) > 0);
        assert!(agree::<Option<i32>>(json!(-2147483648)) > 0);
    }

    #[test]
    fn every_frame_decodes_like_serde_on_every_mutation() {
        let frames = [
            json!({"seq": 1, "type": "welcome", "userID": "u", "resumed": true,
                   "iceServers": [{"urls": ["turn:t"], "username": "a", "credential": "c"}]}),
            json!({"seq": 2, "type": "pong"}),
            json!({"seq": 3, "type": "ack", "reqID": 7}),
            json!({"seq": 4, "type": "error", "reqID": 8, "code": 5, "message": "m"}),
            json!({"seq": 5, "type": "pusher_join", "roomID": "r", "pusher": pusher()}),
            json!({"seq": 5, "type": "pusher_join", "roomID": "r", "pusher": pusher(), "offer": "v=0"}),
            json!({"seq": 6, "type": "pusher_quit", "roomID": "r", "pusher": pusher(), "reason": "left"}),
            json!({"seq": 7, "type": "room_closed", "roomID": "r", "reason": "creator_left"}),
            json!({"seq": 8, "type": "room_text", "roomID": "r", "userID": "u", "text": "hi", "time": 1,
                   "head": {"cmd": "CustomTextMsg", "data": {"nickName": "n", "headPic": "p"}}}),
            json!({"seq": 9, "type": "room_custom", "roomID": "r", "userID": "u", "time": 2,
                   "head": {"cmd": "CustomCmdMsg", "data": {"userName": "n", "userAvatar": "", "cmd": "c", "msg": "m"}}}),
            json!({"seq": 10, "type": "offer", "roomID": "r", "from": "a", "sdp": "v=0"}),
            json!({"seq": 11, "type": "candidate", "roomID": "r", "from": "a", "candidate": candidate()}),
            json!({"seq": 12, "type": "resume_gap", "code": 1019, "message": "lost", "lastSeq": 4, "missed": 300}),
        ];
        for f in frames {
            let ty = f["type"].as_str().unwrap().to_owned();
            // serde's words differ here: its `flatten` reads a buffered copy; and
            // it takes a number as the `type` (the variant's index), we do not.
            let numbered = |m: &Value| m["type"].is_number();
            let n = agree_by::<ServerFrame, _>(f, crate::frame::decode_frame, false, numbered);
            assert!(n > 0, "{ty}");
        }
        let sfu = [
            json!({"type": "room_mode", "roomID": "r", "mode": "sfu"}),
            json!({"type": "sfu_answer", "roomID": "r", "sdp": "v=0"}),
            json!({"type": "sfu_offer", "roomID": "r", "sdp": "v=0",
                   "streams": [{"mid": "0", "userID": "u", "kind": "video"}]}),
            json!({"type": "sfu_candidate", "roomID": "r", "link": "publisher", "candidate": candidate()}),
            json!({"type": "sfu_state", "roomID": "r", "state": "ready"}),
        ];
        for f in sfu {
            let mut with_seq = f.clone();
            with_seq["seq"] = json!(3);
            let read = |v: &Value| {
                let ty: String = field(v, "type")?;
                SfuServerEvent::decode_fields(&ty, v)
            };
            assert!(agree_by::<SfuServerEvent, _>(f, read, false, |m| m["type"].is_number()) > 0);
            assert!(matches!(
                decode_any_frame(&with_seq).unwrap(),
                crate::frame::AnyServerFrame::Sfu { seq: 3, .. }
            ));
        }
    }

    #[test]
    fn the_errors_use_serdes_words_where_it_has_them() {
        let e = Pusher::read(&json!({})).unwrap_err();
        assert_eq!(e.to_string(), "missing field `userID`");
        let e = QuitReason::read(&json!("gone")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown variant `gone`, expected one of `left`, `timeout`, `disconnected`"
        );
        let e = u32::read(&json!(-1)).unwrap_err();
        assert_eq!(e.to_string(), "invalid type: expected u32");
        let e = Pusher::read(&json!("u")).unwrap_err();
        assert_eq!(e.to_string(), "invalid type: expected an object");
    }

    #[test]
    fn numbers_are_javascripts() {
        // JSON.parse cannot tell 1 from 1.0, so an integral float is an integer
        // here (serde_json rejects it); a fraction or an unsafe integer is not.
        assert_eq!(u64::read(&json!(1.0)), Ok(1));
        assert!(serde_json::from_value::<u64>(json!(1.0)).is_err());
        assert!(u64::read(&json!(1.5)).is_err());
        assert!(u64::read(&json!(9007199254740992u64)).is_err());
        assert!(i32::read(&json!(2147483648u64)).is_err());
    }
}
