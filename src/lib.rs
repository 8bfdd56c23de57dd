//! rtcroom client: the sans-IO room core and (on wasm32) its browser driver.
//!
//! This crate is filled in by the client issue; for now it only re-exports the
//! shared protocol so the workspace builds end to end.

pub use rtcroom_protocol as protocol;
