//! The transport seam: how a host moves HTTP requests and socket frames. The
//! driver sees only [`Transport`] and [`Socket`]; each host implements the
//! same three things (POST a request and return its status and text, open a
//! socket whose text frames and close go to the driver, send and close it):
//!
//! * [`browser`] — gloo-net's `fetch` and the platform's `WebSocket` (no
//!   host object given).
//! * [`wx`] — a `wx`-style host object (`{request, connectSocket}` with the
//!   mini-program's signatures), for runtimes without `fetch`/`WebSocket`.
//!
//! Replies and frames are decoded by [`super::decode`], once for both.
//!
//! Each host's build carries only its own transport (cargo features
//! `browser` and `wx`, docs/client-size.md): the other one is ~1–2 KB gzip
//! of wasm that host never runs. Both may be on (the native tests and clippy).

#[cfg(not(any(feature = "browser", feature = "wx")))]
compile_error!("the wasm client needs a transport: enable feature `browser` or `wx`");

#[cfg(feature = "browser")]
mod browser;
mod socket;
#[cfg(feature = "wx")]
mod wx;

pub use socket::Socket;

use super::{decode, js};
use crate::core::{ClientError, ConnId, HttpRequest, ReplyBody};
use js_sys::{Object, Reflect};
use rtcroom_protocol::ApiError;
use wasm_bindgen::JsValue;

/// `{k: v, …}`.
fn object(pairs: &[(&str, &JsValue)]) -> Object {
    let o = Object::new();
    for (k, v) in pairs {
        let _ = Reflect::set(&o, &JsValue::from_str(k), v);
    }
    o
}

/// How long one HTTP request may take (the Android client used 5 s; phones
/// on mobile networks need more).
pub const HTTP_TIMEOUT_MS: u32 = 15_000;

/// The host's way to the network.
#[derive(Clone)]
pub enum Transport {
    /// `fetch` and `WebSocket` (browsers, workers).
    #[cfg(feature = "browser")]
    Browser,
    /// A `wx`-style host object (WeChat mini-programs).
    #[cfg(feature = "wx")]
    Wx(wx::Host),
}

impl Transport {
    /// `undefined`/`null` → the browser's; an object → a `wx`-style host
    /// (refused with code -1012 when it lacks `request` or `connectSocket`,
    /// or when this build has not that host's transport).
    pub fn new(host: JsValue) -> Result<Self, ApiError> {
        if host.is_undefined() || host.is_null() {
            #[cfg(feature = "browser")]
            return Ok(Transport::Browser);
            #[cfg(not(feature = "browser"))]
            return Err(ClientError::InvalidArgument
                .with_message("this is the mini-program build: pass a wx-style host object"));
        }
        #[cfg(feature = "wx")]
        return wx::Host::new(host).map(Transport::Wx);
        #[cfg(not(feature = "wx"))]
        Err(ClientError::InvalidArgument
            .with_message("this is the browser build: it takes no host object"))
    }

    /// POSTs `req`'s JSON body and decodes the reply.
    pub async fn post(&self, req: &HttpRequest) -> Result<ReplyBody, ApiError> {
        let body = js::to_json(&req.body)
            .ok_or_else(|| ClientError::InvalidArgument.with_message("body not serializable"))?;
        let (status, reply) = match self {
            #[cfg(feature = "browser")]
            Transport::Browser => browser::post(req.cmd, &req.url, body).await?,
            #[cfg(feature = "wx")]
            Transport::Wx(host) => host.post(req.cmd, &req.url, body).await?,
        };
        decode::reply(req.cmd, req.expect, status, &reply)
    }

    /// Opens `url`; its frames and its close go to `driver`, tagged `conn`.
    pub fn connect(
        &self,
        url: &str,
        conn: ConnId,
        driver: super::driver::Weak,
    ) -> Result<Socket, String> {
        match self {
            #[cfg(feature = "browser")]
            Transport::Browser => Socket::open_web(url, conn, driver),
            #[cfg(feature = "wx")]
            Transport::Wx(host) => host.connect(url, conn, driver),
        }
    }
}
