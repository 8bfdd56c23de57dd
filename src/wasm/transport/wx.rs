//! The mini-program transport: a `wx`-style host object handed in by the JS
//! glue (`wx` itself does), used through `request` and `connectSocket` with
//! the mini-program's signatures. Nothing here needs `fetch`, `WebSocket` or
//! `window`, which the mini-program runtime lacks.

use super::socket::{Socket, SocketTask};
use super::{object, HTTP_TIMEOUT_MS};
use crate::core::{ClientError, ConnId};
use crate::wasm::driver::Weak;
use crate::wasm::js;
use js_sys::{Object, Promise};
use rtcroom_protocol::ApiError;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen]
extern "C" {
    /// An object with `request(options)` and `connectSocket(options)`.
    #[derive(Clone)]
    pub type Host;
    #[wasm_bindgen(method, catch)]
    fn request(this: &Host, options: &Object) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch, js_name = connectSocket)]
    fn connect_socket(this: &Host, options: &Object) -> Result<SocketTask, JsValue>;
}

impl Host {
    /// Checks `host` has `request` and `connectSocket` (code -1012 otherwise).
    pub fn new(host: JsValue) -> Result<Self, ApiError> {
        for method in ["request", "connectSocket"] {
            if !js::get(&host, method).is_function() {
                return Err(ClientError::InvalidArgument
                    .with_message(format!("host object has no {method}() method")));
            }
        }
        Ok(host.unchecked_into())
    }

    /// `request({method: 'POST', dataType: 'text', …})`: the status and the
    /// reply's `data` (its text, or the value a runtime parsed it into).
    pub async fn post(
        &self,
        cmd: &str,
        url: &str,
        body: String,
    ) -> Result<(u16, JsValue), ApiError> {
        let mut slot = None;
        let done = Promise::new(&mut |resolve, reject| slot = Some((resolve, reject)));
        let Some((success, fail)) = slot else {
            return Err(ClientError::Network.with_message(format!("{cmd}: no promise")));
        };
        let header = object(&[("content-type", &"application/json".into())]);
        let options = object(&[
            ("url", &url.into()),
            ("method", &"POST".into()),
            ("data", &body.into()),
            ("header", &header.into()),
            ("timeout", &HTTP_TIMEOUT_MS.into()),
            ("dataType", &"text".into()),
            ("responseType", &"text".into()),
            ("success", &success.into()),
            ("fail", &fail.into()),
        ]);
        self.request(&options).map_err(|e| {
            ClientError::Network.with_message(format!("{cmd}: {}", js::describe(&e)))
        })?;
        match JsFuture::from(done).await {
            Ok(res) => {
                let status = js::get_uint(&res, "statusCode").unwrap_or(0);
                // Text, or what a runtime that parsed the JSON anyway made of it.
                let data = js::get(&res, "data");
                Ok((u16::try_from(status).unwrap_or(0), data))
            }
            Err(e) => {
                let msg = js::get_string(&e, "errMsg").unwrap_or_else(|| "request:fail".into());
                // Not `str::contains`: its two-way searcher alone is ~5 KB gzip of wasm.
                let timed_out = msg.as_bytes().windows(7).any(|w| w == b"timeout");
                let code = if timed_out {
                    ClientError::Timeout
                } else {
                    ClientError::Network
                };
                Err(code.with_message(format!("{cmd}: {msg}")))
            }
        }
    }

    /// `connectSocket({url})`; its frames and its end (once) go to `driver`.
    pub fn connect(&self, url: &str, conn: ConnId, driver: Weak) -> Result<Socket, String> {
        let task = self
            .connect_socket(&object(&[("url", &url.into())]))
            .map_err(|e| js::describe(&e))?;
        Ok(Socket::from_task(task, conn, driver))
    }
}
