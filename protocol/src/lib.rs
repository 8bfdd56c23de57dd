//! Wire protocol shared by the rtcroom client and RoomService.
//!
//! * [`ids`] — validated newtype identifiers (`RoomId`, `UserId`).
//! * [`error`] — stable numeric error codes and the `{code, message}` reply.
//! * [`http`] — request and response bodies of the RoomService HTTP API,
//!   with the original RTCRoom wire names (`roomID`, `pushURL`, …).
//! * [`ws`] — WebSocket frames, named by direction (`ClientFrame`, `ServerFrame`).
//! * [`sfu`] — the WebSocket frames of rooms whose media goes through the SFU.
//! * `usersig`, `push_url` (feature `server`) — TLS UserSig verification and
//!   live-push URL signing, which need secrets and so live on the server only.

pub mod error;
pub mod http;
pub mod ids;
pub mod sfu;
pub mod ws;

#[cfg(feature = "server")]
pub mod push_url;
#[cfg(feature = "server")]
pub mod usersig;

pub use error::{ApiError, ErrorCode};
pub use ids::{IdError, RoomId, UserId};
