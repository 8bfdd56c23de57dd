//! rtcroom client: the sans-IO room core and (on wasm32) its browser driver.
//!
//! * [`core`] — the client state machine: feed it inputs, drain its outputs.
//! * `browser` (wasm32 only) — the driver on fetch / WebSocket / setTimeout and
//!   the exported `RTCRoom` class.

pub mod core;

#[cfg(target_arch = "wasm32")]
pub mod browser;
#[cfg(target_arch = "wasm32")]
pub use browser::RTCRoom;
#[cfg(all(target_arch = "wasm32", feature = "host"))]
pub mod host;

pub use rtcroom_protocol as protocol;
