//! Stable numeric error codes and the `{code, message}` reply shape.
//!
//! Codes below 1000 and 5001 are the original RoomService's (kept so old
//! clients read our answers the same way); 1001–1099 are ours for API misuse,
//! 7001–7099 are UserSig and login failures. A code never changes meaning.

use crate::read::wire_struct;
use serde::{Deserialize, Serialize};

/// One table of codes: each variant with its doc, wire number and default
/// message, written once; generates the enum, `code()`, `message()` and `ALL`.
macro_rules! codes {
    ($(#[$meta:meta])* pub enum $name:ident {
        $($(#[$doc:meta])* $variant:ident = $code:literal, $message:literal;)*
    }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$doc])* $variant,)*
        }

        impl $name {
            /// The stable numeric code sent on the wire.
            pub const fn code(self) -> i32 {
                match self {
                    $($name::$variant => $code,)*
                }
            }

            /// A short English description (the default `message`).
            pub const fn message(self) -> &'static str {
                match self {
                    $($name::$variant => $message,)*
                }
            }

            /// Every code, for documentation and exhaustive tests.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];
        }
    };
}
pub(crate) use codes;

codes! {
    /// Every failure the RoomService (or the client core) can report.
    pub enum ErrorCode {
        /// An unexpected server-side failure (original: -1).
        Internal = -1, "internal server error";
        /// A required body field is missing (original: 1).
        MissingParameter = 1, "missing parameter";
        /// `userID` or `token` is missing from the query string (original: 2).
        MissingCredentials = 2, "missing userID or token in the query string";
        /// The room does not exist (original: 3).
        RoomNotFound = 3, "room does not exist";
        /// Only the room creator may do this (original: 3, shared with "room missing").
        NotRoomCreator = 3, "only the room creator can do this";
        /// `login` lacks one of its query parameters (original: 4).
        LoginParamsMissing = 4, "login needs sdkAppID, userID and userSig";
        /// The caller is not a member of the room (original: 5).
        NotMember = 5, "not a member of the room";
        /// The token is unknown or does not belong to `userID` (original: 7).
        AuthFailed = 7, "authentication failed: unknown token";
        /// `roomInfo` exceeds the configured size (original: 10).
        RoomInfoTooLarge = 10, "roomInfo is too large";
        /// A room with this `roomID` already exists (original: 11).
        RoomExists = 11, "room already exists";
        /// The room has reached its member limit (original: 5001).
        RoomFull = 5001, "room is full";
        /// The body or frame is not valid JSON.
        MalformedJson = 1001, "malformed JSON";
        /// No such command or frame type.
        UnknownCommand = 1002, "unknown command";
        /// A parameter is present but invalid (bad id, wrong type, out of range).
        InvalidParameter = 1003, "invalid parameter";
        /// The token has expired: log in again.
        TokenExpired = 1004, "token expired: log in again";
        /// A message exceeds the configured size.
        MessageTooLarge = 1005, "message is too large";
        /// Too many messages per second on this connection.
        RateLimited = 1006, "too many messages: slow down";
        /// The server holds its maximum number of rooms.
        TooManyRooms = 1007, "the server has reached its room limit";
        /// The addressed user is not a member of that room.
        TargetNotInRoom = 1008, "the addressed user is not in this room";
        /// The same user logged in again elsewhere; this session is over.
        SessionReplaced = 1009, "logged in again elsewhere";
        /// The endpoint exists only when the server runs in debug mode.
        DebugDisabled = 1010, "only available in debug mode";
        /// The server is shutting down.
        ShuttingDown = 1011, "server is shutting down";
        /// The connection could not keep up with its outgoing frames and was closed.
        SlowConsumer = 1012, "connection too slow: closed";
        /// `userName` exceeds the configured size.
        UserNameTooLarge = 1013, "userName is too large";
        /// `userAvatar` exceeds the configured size.
        UserAvatarTooLarge = 1014, "userAvatar is too large";
        /// `pushURL` exceeds the configured size.
        PushUrlTooLarge = 1015, "pushURL is too large";
        /// The answer would exceed the configured response size.
        ResponseTooLarge = 1016, "the answer would be too large";
        /// The user is in its maximum number of rooms.
        TooManyRoomsForUser = 1017, "you are in too many rooms";
        /// The app holds its maximum number of rooms (its share of the server).
        AppRoomQuota = 1018, "this app has reached its room quota";
        /// A resume asked for frames no longer buffered: some were lost (see `resume_gap`).
        ResumeGap = 1019, "frames were lost: re-fetch the rooms";
        /// The room needs the media server (SFU) and it cannot be reached now.
        SfuUnavailable = 1020, "media server unreachable: the room cannot grow beyond mesh now";
        /// An SFU frame for a room that is not in SFU mode.
        NotSfuRoom = 1021, "room is not in SFU mode";
        /// The media server refused the request (e.g. an SDP it cannot use).
        SfuRefused = 1022, "media server refused the request";
        /// The app requires a `privateMapKey` for the room and none was given.
        PrivilegeKeyMissing = 1023, "a privateMapKey is required for this room";
        /// The `privateMapKey` was issued to another user.
        PrivilegeWrongUser = 1024, "privateMapKey was issued to another user";
        /// The `privateMapKey` is for another room (or app).
        PrivilegeWrongRoom = 1025, "privateMapKey is for another room";
        /// The `privateMapKey` has expired.
        PrivilegeExpired = 1026, "privateMapKey has expired";
        /// The `privateMapKey` does not grant what was asked (create, enter, publish).
        PrivilegeNotGranted = 1027, "privateMapKey does not grant this";
        /// The `privateMapKey` verifies but carries no valid privilege map.
        PrivilegeKeyMalformed = 1028, "privateMapKey has no valid privilege map";
        /// The shared store of a multi-node deployment (Redis) cannot be reached now; try again.
        StoreUnavailable = 1030, "shared store unreachable: try again";
        /// A test mini-program member needs the RTMP bridge (`[media]
        /// janus_url` and `ffmpeg`) and an app to log it into.
        BridgeUnavailable = 1035, "the RTMP bridge is not configured on this server";
        /// UserSig is not valid base64url.
        UserSigBase64 = 7001, "userSig is not valid base64";
        /// UserSig does not inflate (zlib).
        UserSigZlib = 7002, "userSig does not decompress";
        /// UserSig JSON is malformed or lacks fields.
        UserSigJson = 7003, "userSig content is malformed";
        /// UserSig has an unknown `TLS.ver`.
        UserSigVersion = 7004, "userSig version is not supported";
        /// UserSig was issued for another sdkAppID.
        UserSigAppIdMismatch = 7005, "userSig was issued for another sdkAppID";
        /// UserSig was issued for another userID.
        UserSigIdentifierMismatch = 7006, "userSig was issued for another userID";
        /// UserSig has expired.
        UserSigExpired = 7007, "userSig has expired";
        /// UserSig's issue time lies in the future.
        UserSigFutureTime = 7008, "userSig issue time is in the future";
        /// UserSig's HMAC / ECDSA signature does not verify.
        UserSigBadSignature = 7009, "userSig signature is invalid";
        /// The sdkAppID is not configured on this server.
        UnknownSdkAppId = 7010, "sdkAppID is not configured on this server";
        /// No key of the needed kind is configured for this sdkAppID (e.g. a v1 sig without a public key).
        UserSigNoKey = 7011, "no key configured for this userSig version";
    }
}

wire_struct! {
    /// An error as it travels: `{"code": n, "message": "..."}`.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
    #[error("{message} (code {code})")]
    pub struct ApiError {
        /// Stable numeric code (see [`ErrorCode`]).
        pub code: i32 = "code",
        /// Human-readable detail.
        pub message: String = "message",
    }
}

impl ApiError {
    /// An error with the code's default message.
    pub fn new(code: ErrorCode) -> Self {
        Self {
            code: code.code(),
            message: code.message().to_owned(),
        }
    }

    /// An error with the code and a more specific message.
    pub fn with_message(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code: code.code(),
            message: message.into(),
        }
    }
}

impl ErrorCode {
    /// The code with this wire number (the first, for the shared 3).
    pub fn from_code(code: i32) -> Option<ErrorCode> {
        ErrorCode::ALL.iter().copied().find(|c| c.code() == code)
    }
}

impl ApiError {
    /// Whether this error carries `code`'s number (logic compares typed codes, not integers).
    pub fn is(&self, code: ErrorCode) -> bool {
        self.code == code.code()
    }
}

impl From<ErrorCode> for ApiError {
    fn from(code: ErrorCode) -> Self {
        Self::new(code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_except_the_original_shared_three() {
        let mut seen = HashSet::new();
        for c in ErrorCode::ALL {
            if *c == ErrorCode::NotRoomCreator {
                assert_eq!(c.code(), ErrorCode::RoomNotFound.code());
                continue;
            }
            assert!(seen.insert(c.code()), "duplicate code {}", c.code());
        }
    }

    #[test]
    fn original_codes_are_kept() {
        assert_eq!(ErrorCode::MissingParameter.code(), 1);
        assert_eq!(ErrorCode::NotMember.code(), 5);
        assert_eq!(ErrorCode::AuthFailed.code(), 7);
        assert_eq!(ErrorCode::RoomExists.code(), 11);
        assert_eq!(ErrorCode::RoomFull.code(), 5001);
    }

    #[test]
    fn api_error_serializes_as_code_and_message() {
        let e = ApiError::new(ErrorCode::RoomFull);
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"code":5001,"message":"room is full"}"#
        );
    }
}
