//! Wire protocol shared by the rtcroom client and RoomService.
//!
//! * [`ids`] — validated newtype identifiers (`RoomId`, `UserId`).
//! * [`command`] — the HTTP command table: each command's name, request and reply.
//! * [`client_error`] — the client's own codes (-1001…), beside the server's.
//! * [`error`] — stable numeric error codes and the `{code, message}` reply.
//! * [`http`] — request and response bodies of the RoomService HTTP API,
//!   with the original RTCRoom wire names (`roomID`, `pushURL`, …).
//! * [`frame`] — server frames decoded field by field (small wasm decoders).
//! * [`ws`] — WebSocket frames, named by direction (`ClientFrame`, `ServerFrame`).
//! * [`sfu`] — the WebSocket frames of rooms whose media goes through the SFU.
//! * `usersig`, `push_url` (feature `server`) — TLS UserSig verification and
//!   live-push URL signing, which need secrets and so live on the server only.

pub mod as_u64;
pub mod client_error;
pub mod command;
pub mod error;
pub mod frame;
pub mod http;
pub mod ids;
pub mod read;
pub mod sfu;
pub mod wire_enum;
pub mod ws;

#[cfg(feature = "server")]
pub mod push_url;
#[cfg(feature = "server")]
pub mod usersig;

pub use client_error::ClientError;
pub use error::{ApiError, ErrorCode};
pub use ids::{IdError, RoomId, UserId};
