//! Bodies of the RoomService HTTP API (`POST {base}/{command}`), with the
//! original RTCRoom field names. Every answer is HTTP 200 with
//! `{"code": 0, "message": "...", ...fields}`; see [`Reply`].
//!
//! Requests made after `login` carry `?userID=..&token=..` ([`AuthQuery`]);
//! a `userID` in the body, where the original had one, must match it.

use crate::ids::{RoomId, UserId};
use crate::read::wire_struct;
use serde::{Deserialize, Deserializer, Serialize};

/// The reply envelope: `code` 0 and the command's fields, or an error code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reply<T> {
    /// 0 on success, else an [`crate::ErrorCode`] number.
    pub code: i32,
    /// Human-readable status.
    pub message: String,
    /// The command's own fields (flattened next to `code`).
    #[serde(flatten)]
    pub body: T,
}

/// An empty reply body, for commands that answer only `{code, message}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Empty {}

/// `?userID=..&token=..`, carried by every call after `login`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthQuery {
    /// The logged-in user.
    #[serde(rename = "userID")]
    pub user_id: Option<String>,
    /// The token `login` returned.
    pub token: Option<String>,
}

/// `login` parameters: in the query string (original) or a JSON body (ours).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginRequest {
    /// The Tencent IM sdkAppID the UserSig was issued for.
    #[serde(rename = "sdkAppID", default, deserialize_with = "opt_u64_lenient")]
    pub sdk_app_id: Option<u64>,
    /// Legacy IM account type; accepted and ignored unless configured.
    #[serde(rename = "accountType", alias = "accType", default)]
    pub account_type: Option<String>,
    /// The user logging in (UserSig identifier).
    #[serde(rename = "userID", default)]
    pub user_id: Option<String>,
    /// The UserSig (TLS signature v2, or v1 when a public key is configured).
    #[serde(rename = "userSig", default)]
    pub user_sig: Option<String>,
}

wire_struct! {
    /// An ICE server handed to clients (STUN/TURN), from the server's config.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct IceServer {
        /// `stun:` / `turn:` / `turns:` URLs.
        pub urls: Vec<String> = "urls",
        /// TURN username, if any.
        #[serde(skip_serializing_if = "Option::is_none")]
        pub username: Option<String> = "username",
        /// TURN credential, if any.
        #[serde(skip_serializing_if = "Option::is_none")]
        pub credential: Option<String> = "credential",
    }
}

wire_struct! {
    /// `login` answer.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct LoginResponse {
        /// The user now logged in.
        pub user_id: UserId = "userID",
        /// Opaque token for `?token=` on later calls and the WebSocket.
        pub token: String = "token",
        /// Seconds the token stays valid without use (each use extends it).
        pub token_ttl: u64 = "tokenTTL",
        /// How often a member should call `pusher_heartbeat`, in seconds.
        pub heartbeat_interval: u64 = "heartbeatInterval",
        /// ICE servers for WebRTC clients; empty unless configured.
        pub ice_servers: Vec<IceServer> = "iceServers" or default,
    }
}

/// `get_push_url` request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetPushUrlRequest {
    /// Must match the query's userID when present.
    #[serde(rename = "userID", default)]
    pub user_id: Option<UserId>,
    /// The room the stream is for, when known.
    #[serde(rename = "roomID", default)]
    pub room_id: Option<RoomId>,
}

wire_struct! {
    /// `get_push_url` answer.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct GetPushUrlResponse {
        /// Signed RTMP push URL.
        pub push_url: String = "pushURL",
    }
}

/// `get_room_list` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetRoomListRequest {
    /// Offset of the first room.
    #[serde(default, serialize_with = "crate::as_u64::field")]
    pub index: u32,
    /// How many rooms at most (original field name `cnt`).
    #[serde(
        default = "default_cnt",
        alias = "count",
        serialize_with = "crate::as_u64::field"
    )]
    pub cnt: u32,
}

fn default_cnt() -> u32 {
    20
}

impl Default for GetRoomListRequest {
    fn default() -> Self {
        Self {
            index: 0,
            cnt: default_cnt(),
        }
    }
}

wire_struct! {
    /// A member as other members see it.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Pusher {
        /// Member id.
        pub user_id: UserId = "userID",
        /// Display name.
        pub user_name: String = "userName" or default,
        /// Avatar URL.
        pub user_avatar: String = "userAvatar" or default,
        /// Signed low-latency play URL of the member's RTMP stream ("" for WebRTC-only members).
        pub accelerate_url: String = "accelerateURL" or default,
        /// The member's place in the room's join order (ours), present only for
        /// members whose `add_pusher` asked for it (`joinOrder: true`): between
        /// two members that both carry one, the later joiner offers
        /// ([`offers_to`]). Stable while the member stays in.
        #[serde(skip_serializing_if = "Option::is_none")]
        pub join_order: Option<u64> = "joinOrder",
    }
}

/// The offerer rule: whether the member `me` (with its
/// [`Pusher::join_order`], if any) makes the WebRTC offer to `other`. Both
/// sides compute it from the same two ids and orders, so two offers never
/// cross. Both with a join order: the later joiner offers — the newcomer,
/// which learns the members from `add_pusher`'s answer one relay hop before
/// they learn of it (equal orders, from two servers, fall back to the ids).
/// Otherwise (an original server, or a client that did not ask for one): the
/// `userID` that sorts first (byte-wise) offers.
pub fn offers_to(
    me: &UserId,
    my_order: Option<u64>,
    other: &UserId,
    other_order: Option<u64>,
) -> bool {
    match (my_order, other_order) {
        (Some(a), Some(b)) if a != b => a > b,
        _ => me.as_str() < other.as_str(),
    }
}

wire_struct! {
    /// A room as `get_room_list` and `get_pushers` describe it.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct RoomSummary {
        /// Room id.
        pub room_id: RoomId = "roomID",
        /// Free-form room description given at creation (often JSON text).
        pub room_info: String = "roomInfo" or default,
        /// The member who created (activated) the room.
        pub room_creator: UserId = "roomCreator",
        /// Unsigned mixed-stream play URL ("" when no push domain is configured).
        pub mixed_play_url: String = "mixedPlayURL" or default,
        /// Custom field (LiveRoom heritage; always a JSON object string).
        pub custom: String = "custom" or default,
        /// Members in the room.
        pub pushers: Vec<Pusher> = "pushers" or default,
        /// Number of members (ours; `pushers.len()`).
        #[serde(serialize_with = "crate::as_u64::field")]
        pub member_count: u32 = "memberCount" or default,
        /// Creation time, unix milliseconds (ours).
        pub create_time: u64 = "createTime" or default,
    }
}

wire_struct! {
    /// `get_room_list` answer.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct GetRoomListResponse {
        /// The requested page of active rooms, oldest first.
        pub rooms: Vec<RoomSummary> = "rooms",
        /// Active rooms in all (ours).
        #[serde(serialize_with = "crate::as_u64::field")]
        pub total: u32 = "total" or default,
    }
}

/// `get_pushers` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetPushersRequest {
    /// The room.
    #[serde(rename = "roomID")]
    pub room_id: RoomId,
}

/// `get_pushers` answer: the room, flattened.
pub type GetPushersResponse = RoomSummary;

/// `create_room` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateRoomRequest {
    /// Must match the query's userID when present.
    #[serde(rename = "userID", default)]
    pub user_id: Option<UserId>,
    /// Free-form description (kept as given; ≤ the configured size).
    #[serde(rename = "roomInfo", default)]
    pub room_info: String,
    /// Wanted id; the server assigns `room_xxxxxxxx_xxxx` when absent or empty.
    #[serde(
        rename = "roomID",
        default,
        deserialize_with = "opt_room_id_empty_is_none"
    )]
    pub room_id: Option<RoomId>,
    /// Room privilege ticket (Tencent's PrivateMapKey) for this user and
    /// room, required when the app is configured with `require_privilege`.
    #[serde(
        rename = "privateMapKey",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub private_map_key: Option<String>,
}

wire_struct! {
    /// `create_room` answer.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct CreateRoomResponse {
        /// The room's id (given or assigned).
        pub room_id: RoomId = "roomID",
    }
}

/// Body of the commands that name a room and (optionally) the caller:
/// `destroy_room`, `delete_pusher`, `pusher_heartbeat`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomUserRequest {
    /// The room.
    #[serde(rename = "roomID")]
    pub room_id: RoomId,
    /// Must match the query's userID when present.
    #[serde(rename = "userID", default)]
    pub user_id: Option<UserId>,
}

/// `add_pusher` request: enter a room (creating it when it does not exist).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddPusherRequest {
    /// The room.
    #[serde(rename = "roomID")]
    pub room_id: RoomId,
    /// Must match the query's userID when present.
    #[serde(rename = "userID", default)]
    pub user_id: Option<UserId>,
    /// Display name shown to others.
    #[serde(rename = "userName", default)]
    pub user_name: String,
    /// Avatar URL shown to others.
    #[serde(rename = "userAvatar", default)]
    pub user_avatar: String,
    /// The RTMP push URL from `get_push_url` ("" for WebRTC clients).
    #[serde(rename = "pushURL", default)]
    pub push_url: String,
    /// Room description, used when this call creates the room.
    #[serde(rename = "roomInfo", default)]
    pub room_info: Option<String>,
    /// Room privilege ticket (Tencent's PrivateMapKey) for this user and
    /// room, required when the app is configured with `require_privilege`.
    #[serde(
        rename = "privateMapKey",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub private_map_key: Option<String>,
    /// Ask for a [`Pusher::join_order`] on our entry (ours): this client
    /// keeps the join-order offerer rule. Original servers ignore it.
    #[serde(rename = "joinOrder", default, skip_serializing_if = "is_false")]
    pub join_order: bool,
    /// The newcomer's first WebRTC offer (SDP), made before it knows who is
    /// in the room (ours). The server relays it, right after `pusher_join`,
    /// as an `offer` from the newcomer to one member the newcomer offers to
    /// by [`offers_to`] (the earliest joiner with a join order) and names
    /// that member in [`AddPusherResponse::offered_to`]; so the first offer
    /// needs neither the roster first nor the socket. Mesh rooms only;
    /// original servers ignore it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offer: Option<String>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

wire_struct! {
    /// `add_pusher` answer.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct AddPusherResponse {
        /// The room entered.
        pub room_id: RoomId = "roomID",
        /// The members right after this join, the caller included (ours; the
        /// original answered `roomID` only): what `get_pushers` would answer, so a
        /// client can start signaling without asking it. Absent when the list
        /// would not fit `limits.max_response_bytes` (then ask `get_pushers`).
        #[serde(skip_serializing_if = "Option::is_none")]
        pub pushers: Option<Vec<Pusher>> = "pushers",
        /// The member [`AddPusherRequest::offer`] was relayed to (ours): the
        /// newcomer's peer to it has its offer out and awaits the answer. Absent
        /// when no offer came, no member fits, or the room runs on the SFU.
        #[serde(skip_serializing_if = "Option::is_none")]
        pub offered_to: Option<UserId> = "offeredTo",
    }
}

/// `GET /weapp/utils/get_login_info?userID=` answer (debug mode only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginInfo {
    /// The (possibly generated) user id.
    #[serde(rename = "userID")]
    pub user_id: UserId,
    /// The app the sig is for.
    #[serde(rename = "sdkAppID")]
    pub sdk_app_id: u64,
    /// Legacy account type (note: `accType` here, `accountType` in `login`).
    #[serde(rename = "accType")]
    pub acc_type: String,
    /// A fresh UserSig for `userID`.
    #[serde(rename = "userSig")]
    pub user_sig: String,
}

/// Accepts `123`, `"123"` or null for an optional u64 (query strings and old
/// clients send numbers as text).
fn opt_u64_lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    struct V;
    impl serde::de::Visitor<'_> for V {
        type Value = Option<u64>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an unsigned integer or a string holding one")
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Self::Value, E> {
            u64::try_from(v)
                .map(Some)
                .map_err(|_| E::custom("negative sdkAppID"))
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
            if v.is_empty() {
                return Ok(None);
            }
            v.parse()
                .map(Some)
                .map_err(|_| E::custom("sdkAppID is not a number"))
        }
        fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    }
    d.deserialize_any(V)
}

/// The mini-program sends `roomID: ""` to mean "assign one".
fn opt_room_id_empty_is_none<'de, D: Deserializer<'de>>(d: D) -> Result<Option<RoomId>, D::Error> {
    let s: Option<String> = Option::deserialize(d)?;
    match s {
        None => Ok(None),
        Some(s) if s.is_empty() => Ok(None),
        Some(s) => RoomId::new(s).map(Some).map_err(serde::de::Error::custom),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_flattens_body() {
        let r = Reply {
            code: 0,
            message: "ok".into(),
            body: CreateRoomResponse {
                room_id: RoomId::new("r1").unwrap(),
            },
        };
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"code":0,"message":"ok","roomID":"r1"}"#
        );
    }

    #[test]
    fn login_accepts_numbers_and_strings() {
        let a: LoginRequest =
            serde_json::from_str(r#"{"sdkAppID":"1400000001","userID":"u"}"#).unwrap();
        let b: LoginRequest =
            serde_json::from_str(r#"{"sdkAppID":1400000001,"accType":"0"}"#).unwrap();
        assert_eq!(a.sdk_app_id, Some(1_400_000_001));
        assert_eq!(b.sdk_app_id, Some(1_400_000_001));
        assert_eq!(b.account_type.as_deref(), Some("0"));
    }

    #[test]
    fn create_room_empty_id_means_assign() {
        let r: CreateRoomRequest = serde_json::from_str(r#"{"roomID":"","roomInfo":"x"}"#).unwrap();
        assert_eq!(r.room_id, None);
        assert!(serde_json::from_str::<CreateRoomRequest>(r#"{"roomID":"a b"}"#).is_err());
    }

    #[test]
    fn room_list_defaults_like_the_mini_program() {
        let r: GetRoomListRequest = serde_json::from_str("{}").unwrap();
        assert_eq!((r.index, r.cnt), (0, 20));
    }
}

/// `utils/get_test_pushurl` answer (debug mode only): a fresh test stream's
/// push URL and its play URLs, in the original's field names. A play URL
/// this server's media path cannot serve (FLV, HLS) is empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestPushUrls {
    /// Signed RTMP push URL.
    pub url_push: String,
    /// HTTP-FLV play URL ("" here: nginx-rtmp serves RTMP only).
    pub url_play_flv: String,
    /// RTMP play URL.
    pub url_play_rtmp: String,
    /// HLS play URL ("" here).
    pub url_play_hls: String,
    /// Signed low-latency (accelerate) RTMP play URL.
    pub url_play_acc: String,
}

/// `utils/get_test_rtmpaccurl` answer (debug mode only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestRtmpAccUrl {
    /// Signed low-latency (accelerate) RTMP play URL of a test stream.
    pub url_rtmpacc: String,
}

/// `utils/debug_add_test_member` answer (debug mode only): the test
/// mini-program member RoomService made, pushing a test pattern into the room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestMemberAdded {
    /// The room it entered.
    #[serde(rename = "roomID")]
    pub room_id: RoomId,
    /// Its userID (`test-…`).
    #[serde(rename = "userID")]
    pub user_id: UserId,
    /// The signed RTMP push URL its ffmpeg pushes to.
    #[serde(rename = "pushURL")]
    pub push_url: String,
}

/// `utils/report` body: a client's event report (`report.js` of the 2018
/// mini-program, Android `HttpRequests.report`). Accepted and logged only.
#[cfg(feature = "server")]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientReport {
    /// Which report (the mini-program sends 1).
    #[serde(rename = "reportID", default)]
    pub report_id: serde_json::Value,
    /// Its fields (`int64_tc_*` timings, `str_*` labels).
    #[serde(default)]
    pub data: serde_json::Value,
}
