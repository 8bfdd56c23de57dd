//! The sans-IO RTCRoom client core: login, rooms, members, WebRTC signaling
//! and room messages as a state machine with no sockets, no clock and no
//! JSON of its own (str0m / quinn-proto style).
//!
//! # Driving it
//!
//! ```text
//! loop {
//!     client.handle(input, now_ms);          // an API call, a reply, a frame, a timer
//!     while let Some(out) = client.poll() {  // then drain every output
//!         match out {
//!             Output::Http(req)             => POST req.body to req.url; later
//!                                              Input::HttpReply { id: req.id, result }
//!             Output::WsConnect { conn, url } => open a WebSocket; its frames arrive as
//!                                              Input::WsFrame { conn, frame }, its end as
//!                                              Input::WsClosed { conn, .. }
//!             Output::WsSend { conn, frame } => send frame on conn
//!             Output::WsClose { conn }      => close conn, report nothing more about it
//!             Output::Peer(action)          => RTCPeerConnection work; its local SDP and
//!                                              candidates come back as Input::LocalSdp / LocalIce,
//!                                              its ICE state as Input::PeerState
//!             Output::Event(e)              => the application's listener
//!             Output::CallDone { id, result } => resolve the API call `id`
//!             Output::Timer { at_ms }       => (re)arm one timer → Input::Timeout
//!         }
//!     }
//! }
//! ```
//!
//! # Formats stay in the driver
//!
//! Request bodies ([`RequestBody`]) and socket frames
//! ([`ClientEnvelope`](rtcroom_protocol::ws::ClientEnvelope)) leave as typed
//! `Serialize` values; incoming frames arrive decoded
//! ([`ServerFrame`](rtcroom_protocol::ws::ServerFrame)), by [`decode_frame`]
//! from the document the driver's host parsed ([`rtcroom_protocol::read::Doc`]). An HTTP reply is
//! decoded in two steps by the driver: `{code, message}` as
//! [`ApiError`](rtcroom_protocol::ApiError), and, when `code == 0`, the body
//! through [`decode_reply`] with the request's [`ReplyKind`]. Transport
//! failures are `ApiError`s too, with the client codes of [`ClientError`]. So
//! the core never parses JSON; the wasm driver (`src/wasm`, one for both
//! hosts) reads parsed JS values through the protocol's readers and writes with serde_json.
//!
//! # Rules the core keeps
//!
//! * Every [`Call`] completes exactly once ([`Output::CallDone`]); misuse
//!   (entering while not logged in, or while in a room, …) fails at once.
//! * One peer connection per other member. **Offerer rule:** of two members,
//!   the one whose `userID` sorts first (byte-wise) offers and the other
//!   answers; both compute it alike, so offers never cross (no glare).
//!   Remote candidates that come before the remote SDP are held until it.
//! * Server frames are numbered: duplicates are dropped, a gap reconnects and
//!   resumes from `lastSeq`, a lost session re-syncs the member list.
//! * A peer connection whose media path breaks (ICE `failed`, or
//!   `disconnected` too long) restarts ICE, then starts over from scratch
//!   (`renegotiate`) if that fails ([`recovery`]).
//! * `login` completes on the socket's first `welcome`; the socket then
//!   reconnects with back-off until `logout` or a session-ending error
//!   (`SessionReplaced`, `AuthFailed`, `TokenExpired`).
//!
//! # Unwrap policy
//!
//! Nothing here unwraps or indexes into anything that came from the network
//! or the driver; impossible states are ignored with a debug log, never a panic.

mod api;
mod backoff;
mod client;
mod config;
mod event;
mod heartbeat;
mod ids;
mod input;
mod outbox;
mod output;
mod peers;
mod recovery;
mod reply;
mod requests;
mod resume;
mod room;
mod roster;
mod session;
mod sfu;
mod signaling;
mod socket;
mod url;
pub(crate) mod vecmap;

#[cfg(test)]
mod tests;

pub use client::Client;
pub use config::Config;
pub use event::{ConnectionState, Event};
pub use ids::{CallId, ConnId, RequestId};
pub use input::{Call, Input, LoginParams, SdpKind};
pub use output::{CallOk, HttpRequest, Output, PeerAction, RequestBody};
pub use recovery::PeerState;
pub use reply::{decode_reply, ReplyBody, ReplyKind};
pub use rtcroom_protocol::frame::decode_frame;
pub use rtcroom_protocol::ClientError;
