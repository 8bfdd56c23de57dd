//! One module per scenario; each has `Opts` (its flags) and `run`.

pub mod conns;
pub mod fanout;
pub mod join;
pub mod members;
pub mod relay;
pub mod soak;

use crate::client::Rtcroom;
use crate::Target;
use rtcroom_protocol::ws::ClientFrame;
use rtcroom_protocol::{RoomId, UserId};
use tokio_tungstenite::tungstenite::Message;

impl Target {
    /// The rtcroom client for this target.
    pub fn rtcroom(&self) -> Rtcroom {
        Rtcroom {
            addr: self.server,
            app: self.app,
            key: self.key.clone(),
        }
    }
}

/// Rounds to one decimal for the report.
pub fn r1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// A client frame as the socket sends it, built from the protocol's types.
pub fn client_frame(frame: &ClientFrame) -> Message {
    Message::Text(serde_json::to_string(frame).unwrap_or_default().into())
}

/// A scenario's room id (its names are valid by construction).
pub fn room_id(id: &str) -> RoomId {
    RoomId::new(id).unwrap_or_else(|e| panic!("room id {id:?}: {e}"))
}

/// A scenario's user id (its names are valid by construction).
pub fn user_id(id: &str) -> UserId {
    UserId::new(id).unwrap_or_else(|e| panic!("user id {id:?}: {e}"))
}
