//! Client-side error codes: failures the client core reports itself (misuse
//! of the API, calls cut short, lost connections) and the transport failures
//! its driver reports as [`ApiError`]s, in the same one-table form as the
//! server's [`crate::ErrorCode`], so every code of the protocol is defined in
//! this crate once. They use the range -1001..=-1099, which no server code
//! uses, and like server codes they never change meaning.

use crate::error::codes;
use crate::ApiError;

codes! {
    /// A failure that happens on the client, not in RoomService.
    pub enum ClientError {
        /// The call needs a logged-in session (-1001).
        NotLoggedIn = -1001, "not logged in";
        /// `login` while logged in or logging in (-1002).
        AlreadyLoggedIn = -1002, "already logged in";
        /// The call needs to be in a room (-1003).
        NotInRoom = -1003, "not in a room";
        /// `createRoom`/`enterRoom` while in a room or entering one (-1004).
        AlreadyInRoom = -1004, "already in a room";
        /// The call was cut short by `exitRoom`, `logout` or the room closing (-1005).
        Cancelled = -1005, "cancelled";
        /// The WebSocket could not be opened while logging in (-1006).
        ConnectFailed = -1006, "could not connect to the room service";
        /// The frame was sent but the connection dropped and the server could not
        /// replay its answer; it may or may not have arrived (-1007).
        ConnectionLost = -1007, "connection lost before the server answered";
        /// No answer in time: no `ack` for a frame (core) or no HTTP response (driver) (-1008).
        Timeout = -1008, "timed out";
        /// Driver: the HTTP request could not be sent or got no response (-1009).
        Network = -1009, "network error";
        /// Driver: the reply was not the expected JSON (-1010).
        BadReply = -1010, "malformed reply from the server";
        /// Driver: the server answered with a non-2xx HTTP status (-1011).
        HttpStatus = -1011, "unexpected HTTP status";
        /// A call argument is invalid, e.g. a `serverDomain` that is not http(s) (-1012).
        InvalidArgument = -1012, "invalid argument";
        /// An SFU link's ICE restarts kept failing: both SFU connections start
        /// afresh (publish and subscribe anew); a notice, the client recovers
        /// by itself (-1017).
        SfuFreshStart = -1017, "SFU media did not recover: publishing and subscribing afresh";
    }
}

impl ClientError {
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
