//! Client-side error codes: failures the client core reports itself (misuse
//! of the API, calls cut short, lost connections) and the transport failures
//! its driver reports as [`ApiError`]s. Beside the server's [`crate::ErrorCode`]
//! so that every code of the protocol is defined in this crate, once. They use the range -1001..=-1099, which no server
//! code uses, and like server codes they never change meaning.

use crate::ApiError;

/// A failure that happens on the client, not in RoomService.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ClientError {
    /// The call needs a logged-in session (-1001).
    NotLoggedIn,
    /// `login` while logged in or logging in (-1002).
    AlreadyLoggedIn,
    /// The call needs to be in a room (-1003).
    NotInRoom,
    /// `createRoom`/`enterRoom` while in a room or entering one (-1004).
    AlreadyInRoom,
    /// The call was cut short by `exitRoom`, `logout` or the room closing (-1005).
    Cancelled,
    /// The WebSocket could not be opened while logging in (-1006).
    ConnectFailed,
    /// The frame was sent but the connection dropped and the server could not
    /// replay its answer; it may or may not have arrived (-1007).
    ConnectionLost,
    /// No answer in time: no `ack` for a frame (core) or no HTTP response (driver) (-1008).
    Timeout,
    /// Driver: the HTTP request could not be sent or got no response (-1009).
    Network,
    /// Driver: the reply was not the expected JSON (-1010).
    BadReply,
    /// Driver: the server answered with a non-2xx HTTP status (-1011).
    HttpStatus,
    /// A call argument is invalid, e.g. a `serverDomain` that is not http(s) (-1012).
    InvalidArgument,
}

impl ClientError {
    /// The stable numeric code.
    pub const fn code(self) -> i32 {
        use ClientError::*;
        match self {
            NotLoggedIn => -1001,
            AlreadyLoggedIn => -1002,
            NotInRoom => -1003,
            AlreadyInRoom => -1004,
            Cancelled => -1005,
            ConnectFailed => -1006,
            ConnectionLost => -1007,
            Timeout => -1008,
            Network => -1009,
            BadReply => -1010,
            HttpStatus => -1011,
            InvalidArgument => -1012,
        }
    }

    /// A short English description (the default `message`).
    pub const fn message(self) -> &'static str {
        use ClientError::*;
        match self {
            NotLoggedIn => "not logged in",
            AlreadyLoggedIn => "already logged in",
            NotInRoom => "not in a room",
            AlreadyInRoom => "already in a room",
            Cancelled => "cancelled",
            ConnectFailed => "could not connect to the room service",
            ConnectionLost => "connection lost before the server answered",
            Timeout => "timed out",
            Network => "network error",
            BadReply => "malformed reply from the server",
            HttpStatus => "unexpected HTTP status",
            InvalidArgument => "invalid argument",
        }
    }

    /// Every client code, for documentation and exhaustive tests.
    pub const ALL: &'static [ClientError] = &{
        use ClientError::*;
        [
            NotLoggedIn,
            AlreadyLoggedIn,
            NotInRoom,
            AlreadyInRoom,
            Cancelled,
            ConnectFailed,
            ConnectionLost,
            Timeout,
            Network,
            BadReply,
            HttpStatus,
            InvalidArgument,
        ]
    };

    /// This error as it travels, with its default message.
    pub fn api(self) -> ApiError {
        ApiError {
            code: self.code(),
            message: self.message().to_owned(),
        }
    }

    /// This error with a more specific message.
    pub fn with_message(self, message: impl Into<String>) -> ApiError {
        ApiError {
            code: self.code(),
            message: message.into(),
        }
    }
}

impl From<ClientError> for ApiError {
    fn from(e: ClientError) -> Self {
        e.api()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;
    use std::collections::HashSet;

    #[test]
    fn client_codes_are_unique_and_disjoint_from_server_codes() {
        let server: HashSet<i32> = ErrorCode::ALL.iter().map(|c| c.code()).collect();
        let mut seen = HashSet::new();
        for c in ClientError::ALL {
            assert!((-1099..=-1001).contains(&c.code()), "{c:?}");
            assert!(seen.insert(c.code()), "duplicate {}", c.code());
            assert!(
                !server.contains(&c.code()),
                "collides with server {}",
                c.code()
            );
        }
    }
}
