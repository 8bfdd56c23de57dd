//! [`JsLike`] for serde_json's `Value` (what `JSON.parse` would give, with
//! `undefined` for an absent field), and the native round-trip tests: every
//! serde data-model shape written by serde_json and read back through
//! [`from_value`] as it is, and what serde_json rejects rejected too.

use super::{from_value, JsLike};
use serde_json::Value;

/// A JSON value, or `undefined`.
#[derive(Debug, Clone)]
pub struct Json(Option<Value>);

impl JsLike for Json {
    fn is_undefined(&self) -> bool {
        self.0.is_none()
    }

    fn is_nullish(&self) -> bool {
        matches!(self.0, None | Some(Value::Null))
    }

    fn as_bool(&self) -> Option<bool> {
        self.0.as_ref()?.as_bool()
    }

    fn as_f64(&self) -> Option<f64> {
        self.0.as_ref()?.as_f64()
    }

    fn as_string(&self) -> Option<String> {
        self.0.as_ref()?.as_str().map(str::to_owned)
    }

    fn array_len(&self) -> Option<u32> {
        self.0.as_ref()?.as_array().map(|a| a.len() as u32)
    }

    fn at(&self, i: u32) -> Self {
        Json(self.0.as_ref().and_then(|v| v.get(i as usize)).cloned())
    }

    fn is_plain_object(&self) -> bool {
        matches!(self.0, Some(Value::Object(_)))
    }

    fn get(&self, key: &str) -> Self {
        Json(self.0.as_ref().and_then(|v| v.get(key)).cloned())
    }

    fn entries(&self) -> Vec<(String, Self)> {
        match &self.0 {
            Some(Value::Object(m)) => m
                .iter()
                .map(|(k, v)| (k.clone(), Json(Some(v.clone()))))
                .collect(),
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde::de::DeserializeOwned;
    use serde::{Deserialize, Serialize};
    use std::collections::BTreeMap;
    use std::fmt::Debug;

    fn decode<T: DeserializeOwned>(json: &str) -> Result<T, String> {
        let v: Value = serde_json::from_str(json).unwrap();
        from_value::<T, _>(Json(Some(v))).map_err(|e| e.to_string())
    }

    /// Written by serde_json, read back by ours (and by serde_json) as it was.
    fn round_trip<T: Serialize + DeserializeOwned + PartialEq + Debug>(v: &T) {
        let json = serde_json::to_string(v).unwrap();
        assert_eq!(&decode::<T>(&json).unwrap(), v, "{json}");
        assert_eq!(&serde_json::from_str::<T>(&json).unwrap(), v, "{json}");
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Unit;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Newtype(String);

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct TupleStruct(u8, i64, bool);

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    enum External {
        Unit,
        Newtype(u32),
        Tuple(u8, String),
        Struct { a: i16, b: Option<String> },
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(tag = "type", rename_all = "snake_case")]
    enum Internal {
        Ping,
        Say { text: String },
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(tag = "t", content = "c")]
    enum Adjacent {
        Empty,
        Value(f64),
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(untagged)]
    enum Untagged {
        Number(u64),
        Text(String),
    }

    /// One field of every serde data-model type.
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Every {
        b: bool,
        i8: i8,
        i16: i16,
        i32: i32,
        i64: i64,
        u8: u8,
        u16: u16,
        u32: u32,
        u64: u64,
        f32: f32,
        f64: f64,
        c: char,
        s: String,
        bytes: Vec<u8>,
        none: Option<u8>,
        some: Option<String>,
        unit: (),
        unit_struct: Unit,
        newtype: Newtype,
        seq: Vec<External>,
        tuple: (u8, String, bool),
        tuple_struct: TupleStruct,
        map: BTreeMap<String, i32>,
        nested: Option<Box<Every>>,
        internal: Vec<Internal>,
        adjacent: Vec<Adjacent>,
        untagged: Vec<Untagged>,
        #[serde(default)]
        defaulted: u32,
    }

    fn every(nested: Option<Box<Every>>) -> Every {
        Every {
            b: true,
            i8: -8,
            i16: -16_000,
            i32: -2_000_000_000,
            i64: -9_007_199_254_740_991,
            u8: 255,
            u16: 65_535,
            u32: 4_294_967_295,
            u64: 9_007_199_254_740_991,
            f32: 1.5,
            f64: -0.25,
            c: 'é',
            s: "a \"quoted\" ünïcödé line\n".into(),
            bytes: vec![0, 1, 255],
            none: None,
            some: Some(String::new()),
            unit: (),
            unit_struct: Unit,
            newtype: Newtype("n".into()),
            seq: vec![
                External::Unit,
                External::Newtype(7),
                External::Tuple(1, "t".into()),
                External::Struct { a: -1, b: None },
                External::Struct {
                    a: 2,
                    b: Some("b".into()),
                },
            ],
            tuple: (3, "x".into(), false),
            tuple_struct: TupleStruct(9, -9, true),
            map: [("k".to_owned(), 1), ("z".to_owned(), -1)].into(),
            nested,
            internal: vec![Internal::Ping, Internal::Say { text: "hi".into() }],
            adjacent: vec![Adjacent::Empty, Adjacent::Value(2.5)],
            untagged: vec![Untagged::Number(4), Untagged::Text("four".into())],
            defaulted: 0,
        }
    }

    #[test]
    fn every_data_model_shape_round_trips() {
        round_trip(&every(Some(Box::new(every(None)))));
        round_trip(&External::Unit);
        round_trip(&External::Struct { a: 1, b: None });
        round_trip(&vec![Some(1u8), None]);
        round_trip(&BTreeMap::<String, Vec<u8>>::new());
    }

    #[test]
    fn the_protocol_types_round_trip() {
        use rtcroom_protocol::http::{LoginResponse, Pusher, RoomSummary};
        use rtcroom_protocol::sfu::{RoomMode, SfuLink, SfuState, SfuStream, TrackKind};
        use rtcroom_protocol::ws::{IceCandidate, QuitReason};
        use rtcroom_protocol::{ApiError, RoomId, UserId};
        round_trip(&LoginResponse {
            user_id: UserId::new("u").unwrap(),
            token: "t".into(),
            token_ttl: 60,
            heartbeat_interval: 5,
            ice_servers: vec![],
        });
        round_trip(&RoomSummary {
            room_id: RoomId::new("r").unwrap(),
            room_info: "{\"a\":1}".into(),
            room_creator: UserId::new("a").unwrap(),
            mixed_play_url: String::new(),
            custom: String::new(),
            pushers: vec![Pusher {
                user_id: UserId::new("a").unwrap(),
                user_name: "A".into(),
                user_avatar: String::new(),
                accelerate_url: "rtmp://x".into(),
                join_order: Some(1_764_000_000_000_001),
            }],
            member_count: 1,
            create_time: 1_700_000_000_000,
        });
        round_trip(&IceCandidate {
            candidate: "c".into(),
            sdp_mid: Some("0".into()),
            sdp_m_line_index: Some(0),
            username_fragment: None,
        });
        round_trip(&QuitReason::Disconnected);
        // The string-valued enums of `wire_enum!`, every variant.
        for v in [QuitReason::Left, QuitReason::Timeout] {
            round_trip(&v);
        }
        round_trip(&rtcroom_protocol::ws::CloseReason::CreatorLeft);
        for v in [RoomMode::Mesh, RoomMode::Sfu] {
            round_trip(&v);
        }
        for v in [SfuLink::Publisher, SfuLink::Subscriber] {
            round_trip(&v);
        }
        for v in [SfuState::Lost, SfuState::Ready] {
            round_trip(&v);
        }
        round_trip(&vec![SfuStream {
            mid: "1".into(),
            user_id: UserId::new("a").unwrap(),
            kind: TrackKind::Audio,
        }]);
        assert!(decode::<SfuLink>("\"sideways\"").is_err());
        round_trip(&ApiError {
            code: -1,
            message: "m".into(),
        });
    }

    #[test]
    fn absent_and_null_fields() {
        #[derive(Debug, PartialEq, Deserialize)]
        struct S {
            a: Option<u8>,
            #[serde(default)]
            b: u8,
        }
        assert_eq!(decode::<S>("{}").unwrap(), S { a: None, b: 0 });
        assert_eq!(decode::<S>(r#"{"a":null}"#).unwrap(), S { a: None, b: 0 });
        assert!(decode::<S>(r#"{"b":null}"#).is_err());
    }

    #[test]
    fn rejects_what_serde_json_rejects_with_its_words_but_no_float() {
        let both = |json: &str| {
            assert!(serde_json::from_str::<Every>(json).is_err(), "{json}");
            decode::<Every>(json).unwrap_err()
        };
        assert_eq!(both("{}"), "missing field `b`");
        let e = decode::<i32>("1.5").unwrap_err();
        assert_eq!(e, "invalid type: floating point number, expected i32");
        assert_eq!(
            decode::<u8>("256").unwrap_err(),
            "invalid value: integer `256`, expected u8"
        );
        assert_eq!(
            decode::<External>(r#""Nope""#).unwrap_err(),
            "unknown variant `Nope`, expected one of `Unit`, `Newtype`, `Tuple`, `Struct`"
        );
        assert!(decode::<External>(r#"{"Unit":null,"Newtype":1}"#).is_err());
        assert!(decode::<External>(r#"{"Newtype":"x"}"#).is_err());
        assert!(decode::<External>("[]").is_err());
        assert!(decode::<(u8, u8)>("[1]").is_err());
        assert!(decode::<Vec<u8>>(r#"{"0":1}"#).is_err());
        assert!(decode::<char>(r#""ab""#).is_err());
        assert!(
            decode::<u64>("9007199254740993").is_err(),
            "not a safe integer"
        );
    }
}
