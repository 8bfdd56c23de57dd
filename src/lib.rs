//! rtcroom client: the sans-IO room core and (on wasm32) its one driver.
//!
//! * [`core`] — the client state machine: feed it inputs, drain its outputs.
//! * `wasm` (wasm32 only) — the driver for browsers and mini-programs alike
//!   and the exported `RoomCore` class; the hosts differ only in transport.
//! * [`de`] — serde values out of parsed JSON as JS holds it (both hosts).

pub mod core;
pub mod de;

#[cfg(target_arch = "wasm32")]
pub mod wasm;
#[cfg(target_arch = "wasm32")]
pub use wasm::RoomCore;

pub use rtcroom_protocol as protocol;
