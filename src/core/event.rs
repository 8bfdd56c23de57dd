//! Events for the application, mirroring Android's `IRTCRoomListener`
//! (`onGetPusherList`, `onPusherJoin`, …) plus the connection state.

use rtcroom_protocol::http::Pusher;
use rtcroom_protocol::sfu::{RoomMode, SfuState};
use rtcroom_protocol::{ApiError, RoomId, UserId};
use serde::Serialize;

/// Something the application should hear about. Serializes as
/// `{"type": "pusherJoin", "data": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(
    tag = "type",
    content = "data",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Event {
    /// The room's other members, once after entering (`onGetPusherList`).
    GetPusherList(Vec<Pusher>),
    /// A member entered (`onPusherJoin`); reported once per member.
    PusherJoin(Pusher),
    /// A member left (`onPusherQuit`).
    PusherQuit(Pusher),
    /// A text message (`onRecvRoomTextMsg`).
    RecvRoomTextMsg {
        /// The room.
        #[serde(rename = "roomID")]
        room_id: RoomId,
        /// Sender.
        #[serde(rename = "userID")]
        user_id: UserId,
        /// Sender's name (`nickName` in the message head).
        user_name: String,
        /// Sender's avatar (`headPic` in the message head).
        user_avatar: String,
        /// The message.
        text: String,
        /// Server time, unix milliseconds.
        time: u64,
    },
    /// A custom message (`onRecvRoomCustomMsg`).
    RecvRoomCustomMsg {
        /// The room.
        #[serde(rename = "roomID")]
        room_id: RoomId,
        /// Sender.
        #[serde(rename = "userID")]
        user_id: UserId,
        /// Sender's name.
        user_name: String,
        /// Sender's avatar.
        user_avatar: String,
        /// Application command.
        cmd: String,
        /// Application payload.
        msg: String,
        /// Server time, unix milliseconds.
        time: u64,
    },
    /// The room we were in is gone (`onRoomClosed`); every peer is closed.
    RoomClosed {
        /// The room.
        #[serde(rename = "roomID")]
        room_id: RoomId,
    },
    /// Diagnostics (`onDebugLog`), when [`Config::debug_log`](super::Config::debug_log) is on.
    DebugLog(String),
    /// A failure not tied to a call (`onError`), e.g. the session was replaced.
    Error {
        /// Server or client code.
        code: i32,
        /// Detail.
        message: String,
    },
    /// The room socket's state changed.
    ConnectionStateChange(ConnectionState),
    /// The room's media now goes through the SFU (`mode: "sfu"`); views and
    /// member events stay as they were.
    RoomMode {
        /// The room.
        #[serde(rename = "roomID")]
        room_id: RoomId,
        /// Its media mode.
        mode: RoomMode,
    },
    /// The media server's connection state in an SFU room: `lost` (media
    /// stalls, messages still flow), then `ready` (the client re-publishes
    /// and re-subscribes by itself).
    SfuStateChange(SfuState),
    /// A reconnect came too late to resume: `missed` frames (room messages,
    /// member changes, signaling) were lost for good. The member list is
    /// re-fetched by itself (joins and quits are reported as usual); room
    /// messages among the lost ones are gone.
    ResumeGap {
        /// [`ErrorCode::ResumeGap`](rtcroom_protocol::ErrorCode::ResumeGap) (1019).
        code: i32,
        /// Detail.
        message: String,
        /// The `lastSeq` the client resumed from.
        last_seq: u64,
        /// How many frames were lost.
        missed: u64,
    },
}

impl Event {
    /// An [`Event::Error`] from an [`ApiError`].
    pub fn error(e: &ApiError) -> Self {
        Event::Error {
            code: e.code,
            message: e.message.clone(),
        }
    }
}

/// The room socket's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ConnectionState {
    /// No session (logged out, or the session ended).
    Disconnected,
    /// Logged in; the first connection is being made.
    Connecting,
    /// Connected: events flow.
    Connected,
    /// The connection dropped; retrying with back-off, then resuming.
    Reconnecting,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// One casing rule across the wasm edge: the wire's names (`roomID`,
    /// `userID`, `pushURL`), in events and call results alike.
    #[test]
    fn events_and_results_use_the_wire_casing() {
        let room_id = RoomId::new("r").unwrap();
        let user_id = UserId::new("u").unwrap();
        let text = Event::RecvRoomTextMsg {
            room_id: room_id.clone(),
            user_id: user_id.clone(),
            user_name: "n".into(),
            user_avatar: "a".into(),
            text: "hi".into(),
            time: 1,
        };
        assert_eq!(
            serde_json::to_string(&text).unwrap(),
            r#"{"type":"recvRoomTextMsg","data":{"roomID":"r","userID":"u","userName":"n","userAvatar":"a","text":"hi","time":1}}"#
        );
        let closed = Event::RoomClosed { room_id };
        assert_eq!(
            serde_json::to_string(&closed).unwrap(),
            r#"{"type":"roomClosed","data":{"roomID":"r"}}"#
        );
        use crate::core::CallOk;
        let results = [
            (
                CallOk::LoggedIn { user_id },
                r#"{"type":"loggedIn","userID":"u"}"#,
            ),
            (
                CallOk::PushUrl {
                    push_url: "rtmp://x".into(),
                },
                r#"{"type":"pushUrl","pushURL":"rtmp://x"}"#,
            ),
        ];
        for (ok, json) in results {
            assert_eq!(serde_json::to_string(&ok).unwrap(), json);
        }
    }
}
