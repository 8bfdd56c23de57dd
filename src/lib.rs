//! rtcroom client: the sans-IO room core and (on wasm32) its one driver.
//!
//! * [`core`] — the client state machine: feed it inputs, drain its outputs.
//! * `wasm` (wasm32 only) — the driver for browsers and mini-programs alike
//!   and the exported `RoomCore` class; the hosts differ only in transport
//!   (cargo features `browser` and `wx`, one build per host). It reads parsed
//!   JSON through the protocol's readers (`rtcroom_protocol::read`).

pub mod core;

#[cfg(target_arch = "wasm32")]
pub mod wasm;
#[cfg(target_arch = "wasm32")]
pub use wasm::RoomCore;

pub use rtcroom_protocol as protocol;
