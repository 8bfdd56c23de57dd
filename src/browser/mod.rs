//! The browser driver: runs the sans-IO [`crate::core::Client`] on `fetch`,
//! `WebSocket` and `setTimeout`, and exports the RTCRoom API to JavaScript
//! as the `RTCRoom` class. WebRTC itself stays in the JS glue (`www/lib/`),
//! which receives the core's peer actions and feeds back local SDP and ICE.
//!
//! Unwrap policy: nothing here unwraps a value from JS or the network; JS
//! exceptions become `{code, message}` rejections or `onDebugLog` lines.

mod api;
mod de;
mod driver;
mod http;
mod js;
mod listeners;
mod ser;
mod socket;
mod timer;

pub use api::RTCRoom;
