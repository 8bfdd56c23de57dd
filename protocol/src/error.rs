//! Stable numeric error codes and the `{code, message}` reply shape.
//!
//! Codes below 1000 and 5001 are the original RoomService's (kept so old
//! clients read our answers the same way); 1001–1099 are ours for API misuse,
//! 7001–7099 are UserSig and login failures. A code never changes meaning.

use serde::{Deserialize, Serialize};

/// Every failure the RoomService (or the client core) can report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// An unexpected server-side failure (original: -1).
    Internal,
    /// A required body field is missing (original: 1).
    MissingParameter,
    /// `userID` or `token` is missing from the query string (original: 2).
    MissingCredentials,
    /// The room does not exist (original: 3).
    RoomNotFound,
    /// Only the room creator may do this (original: 3, shared with "room missing").
    NotRoomCreator,
    /// `login` lacks one of its query parameters (original: 4).
    LoginParamsMissing,
    /// The caller is not a member of the room (original: 5).
    NotMember,
    /// The token is unknown or does not belong to `userID` (original: 7).
    AuthFailed,
    /// `roomInfo` exceeds the configured size (original: 10).
    RoomInfoTooLarge,
    /// A room with this `roomID` already exists (original: 11).
    RoomExists,
    /// The room has reached its member limit (original: 5001).
    RoomFull,
    /// The body or frame is not valid JSON.
    MalformedJson,
    /// No such command or frame type.
    UnknownCommand,
    /// A parameter is present but invalid (bad id, wrong type, out of range).
    InvalidParameter,
    /// The token has expired: log in again.
    TokenExpired,
    /// A message exceeds the configured size.
    MessageTooLarge,
    /// Too many messages per second on this connection.
    RateLimited,
    /// The server holds its maximum number of rooms.
    TooManyRooms,
    /// The addressed user is not a member of that room.
    TargetNotInRoom,
    /// The same user logged in again elsewhere; this session is over.
    SessionReplaced,
    /// The endpoint exists only when the server runs in debug mode.
    DebugDisabled,
    /// The server is shutting down.
    ShuttingDown,
    /// The connection could not keep up with its outgoing frames and was closed.
    SlowConsumer,
    /// The room needs the media server (SFU) and it cannot be reached now.
    SfuUnavailable,
    /// An SFU frame for a room that is not in SFU mode.
    NotSfuRoom,
    /// The media server refused the request (e.g. an SDP it cannot use).
    SfuRefused,
    /// UserSig is not valid base64url.
    UserSigBase64,
    /// UserSig does not inflate (zlib).
    UserSigZlib,
    /// UserSig JSON is malformed or lacks fields.
    UserSigJson,
    /// UserSig has an unknown `TLS.ver`.
    UserSigVersion,
    /// UserSig was issued for another sdkAppID.
    UserSigAppIdMismatch,
    /// UserSig was issued for another userID.
    UserSigIdentifierMismatch,
    /// UserSig has expired.
    UserSigExpired,
    /// UserSig's issue time lies in the future.
    UserSigFutureTime,
    /// UserSig's HMAC / ECDSA signature does not verify.
    UserSigBadSignature,
    /// The sdkAppID is not configured on this server.
    UnknownSdkAppId,
    /// No key of the needed kind is configured for this sdkAppID (e.g. a v1 sig without a public key).
    UserSigNoKey,
}

impl ErrorCode {
    /// The stable numeric code sent on the wire.
    pub const fn code(self) -> i32 {
        use ErrorCode::*;
        match self {
            Internal => -1,
            MissingParameter => 1,
            MissingCredentials => 2,
            RoomNotFound | NotRoomCreator => 3,
            LoginParamsMissing => 4,
            NotMember => 5,
            AuthFailed => 7,
            RoomInfoTooLarge => 10,
            RoomExists => 11,
            RoomFull => 5001,
            MalformedJson => 1001,
            UnknownCommand => 1002,
            InvalidParameter => 1003,
            TokenExpired => 1004,
            MessageTooLarge => 1005,
            RateLimited => 1006,
            TooManyRooms => 1007,
            TargetNotInRoom => 1008,
            SessionReplaced => 1009,
            DebugDisabled => 1010,
            ShuttingDown => 1011,
            SlowConsumer => 1012,
            SfuUnavailable => 1013,
            NotSfuRoom => 1014,
            SfuRefused => 1015,
            UserSigBase64 => 7001,
            UserSigZlib => 7002,
            UserSigJson => 7003,
            UserSigVersion => 7004,
            UserSigAppIdMismatch => 7005,
            UserSigIdentifierMismatch => 7006,
            UserSigExpired => 7007,
            UserSigFutureTime => 7008,
            UserSigBadSignature => 7009,
            UnknownSdkAppId => 7010,
            UserSigNoKey => 7011,
        }
    }

    /// A short English description (the default `message`).
    pub const fn message(self) -> &'static str {
        use ErrorCode::*;
        match self {
            Internal => "internal server error",
            MissingParameter => "missing parameter",
            MissingCredentials => "missing userID or token in the query string",
            RoomNotFound => "room does not exist",
            NotRoomCreator => "only the room creator can do this",
            LoginParamsMissing => "login needs sdkAppID, userID and userSig",
            NotMember => "not a member of the room",
            AuthFailed => "authentication failed: unknown token",
            RoomInfoTooLarge => "roomInfo is too large",
            RoomExists => "room already exists",
            RoomFull => "room is full",
            MalformedJson => "malformed JSON",
            UnknownCommand => "unknown command",
            InvalidParameter => "invalid parameter",
            TokenExpired => "token expired: log in again",
            MessageTooLarge => "message is too large",
            RateLimited => "too many messages: slow down",
            TooManyRooms => "the server has reached its room limit",
            TargetNotInRoom => "the addressed user is not in this room",
            SessionReplaced => "logged in again elsewhere",
            DebugDisabled => "only available in debug mode",
            ShuttingDown => "server is shutting down",
            SlowConsumer => "connection too slow: closed",
            SfuUnavailable => "media server unreachable: the room cannot grow beyond mesh now",
            NotSfuRoom => "room is not in SFU mode",
            SfuRefused => "media server refused the request",
            UserSigBase64 => "userSig is not valid base64",
            UserSigZlib => "userSig does not decompress",
            UserSigJson => "userSig content is malformed",
            UserSigVersion => "userSig version is not supported",
            UserSigAppIdMismatch => "userSig was issued for another sdkAppID",
            UserSigIdentifierMismatch => "userSig was issued for another userID",
            UserSigExpired => "userSig has expired",
            UserSigFutureTime => "userSig issue time is in the future",
            UserSigBadSignature => "userSig signature is invalid",
            UnknownSdkAppId => "sdkAppID is not configured on this server",
            UserSigNoKey => "no key configured for this userSig version",
        }
    }

    /// Every code, for documentation and exhaustive tests.
    pub const ALL: &'static [ErrorCode] = &{
        use ErrorCode::*;
        [
            Internal,
            MissingParameter,
            MissingCredentials,
            RoomNotFound,
            NotRoomCreator,
            LoginParamsMissing,
            NotMember,
            AuthFailed,
            RoomInfoTooLarge,
            RoomExists,
            RoomFull,
            MalformedJson,
            UnknownCommand,
            InvalidParameter,
            TokenExpired,
            MessageTooLarge,
            RateLimited,
            TooManyRooms,
            TargetNotInRoom,
            SessionReplaced,
            DebugDisabled,
            ShuttingDown,
            SlowConsumer,
            SfuUnavailable,
            NotSfuRoom,
            SfuRefused,
            UserSigBase64,
            UserSigZlib,
            UserSigJson,
            UserSigVersion,
            UserSigAppIdMismatch,
            UserSigIdentifierMismatch,
            UserSigExpired,
            UserSigFutureTime,
            UserSigBadSignature,
            UnknownSdkAppId,
            UserSigNoKey,
        ]
    };
}

/// An error as it travels: `{"code": n, "message": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message} (code {code})")]
pub struct ApiError {
    /// Stable numeric code (see [`ErrorCode`]).
    pub code: i32,
    /// Human-readable detail.
    pub message: String,
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
