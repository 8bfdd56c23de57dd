//! The command table of the RoomService HTTP API (`POST {base}/{NAME}`): each
//! command's wire name, request body and reply fields, written once here and
//! used by the client core (to build requests and know what to decode) and
//! by the server (to dispatch and parse). A new command is one line below.

use crate::http::{
    AddPusherRequest, AddPusherResponse, CreateRoomRequest, CreateRoomResponse, Empty,
    GetPushUrlRequest, GetPushUrlResponse, GetPushersRequest, GetRoomListRequest,
    GetRoomListResponse, LoginRequest, LoginResponse, RoomSummary, RoomUserRequest,
};

/// One RoomService command.
pub trait Command {
    /// The path segment after the room base (`get_pushers`).
    const NAME: &'static str;
    /// Its JSON body (`login`'s travels in the query string).
    type Request;
    /// The fields of its `code == 0` reply, next to `code` and `message`.
    type Reply;
}

macro_rules! commands {
    ($($(#[$doc:meta])* $ty:ident = $name:literal: $req:ty => $reply:ty;)*) => {
        $(
            $(#[$doc])*
            #[derive(Debug, Clone, Copy, PartialEq, Eq)]
            pub struct $ty;
            impl Command for $ty {
                const NAME: &'static str = $name;
                type Request = $req;
                type Reply = $reply;
            }
        )*
        /// Every command's name, in table order.
        pub const NAMES: &[&str] = &[$($name),*];
    };
}

commands! {
    /// Log in with a UserSig (credentials in the query string) → a token.
    Login = "login": LoginRequest => LoginResponse;
    /// End the session.
    Logout = "logout": Empty => Empty;
    /// A signed RTMP push URL for the caller's stream.
    GetPushUrl = "get_push_url": GetPushUrlRequest => GetPushUrlResponse;
    /// A page of active rooms.
    GetRoomList = "get_room_list": GetRoomListRequest => GetRoomListResponse;
    /// A room with its members.
    GetPushers = "get_pushers": GetPushersRequest => RoomSummary;
    /// Create a room (inactive until its first member).
    CreateRoom = "create_room": CreateRoomRequest => CreateRoomResponse;
    /// Enter a room as a member.
    AddPusher = "add_pusher": AddPusherRequest => AddPusherResponse;
    /// Leave a room.
    DeletePusher = "delete_pusher": RoomUserRequest => Empty;
    /// Destroy a room (creator only).
    DestroyRoom = "destroy_room": RoomUserRequest => Empty;
    /// A member's keep-alive.
    PusherHeartbeat = "pusher_heartbeat": RoomUserRequest => Empty;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_wire_segments() {
        let mut seen = std::collections::HashSet::new();
        for n in NAMES {
            assert!(seen.insert(n), "{n} twice");
            assert!(
                n.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{n}"
            );
        }
        assert_eq!(GetPushers::NAME, "get_pushers");
    }
}
