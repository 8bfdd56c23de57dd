//! The one wasm driver, for both hosts: runs the sans-IO
//! [`crate::core::Client`] (the pump, calls, timers, sockets) and exports it
//! to JavaScript as the `RoomCore` class. What differs between the browser and
//! the WeChat mini-program is only how bytes travel: `transport` (gloo-net
//! `fetch` + `WebSocket` in browsers, a `wx`-style host object in
//! mini-programs). WebRTC stays in the JS glue (`www/lib/media.js`), reached
//! through one typed entry point (`media`); arguments and events are shaped
//! for each host by its thin JS `RTCRoom` class.
//!
//! Unwrap policy: nothing here unwraps a value from JS or the network; JS
//! exceptions become `{code, message}` rejections or `onDebugLog` lines.

mod api;
mod decode;
mod driver;
mod feed;
mod js;
mod media;
mod rehearse;
mod timer;
mod transport;

pub use api::RoomCore;

/// The heap: talc instead of std's dlmalloc (-2.8 KB gzip of wasm,
/// docs/client-size.md). Safe to build only on single-threaded wasm, which
/// this target is (talc checks it at compile time).
#[global_allocator]
static HEAP: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
