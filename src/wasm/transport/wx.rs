//! The mini-program transport: a `wx`-style host object handed in by the JS
//! glue (`wx` itself does), used through `request` and `connectSocket` with
//! the mini-program's signatures. Nothing here needs `fetch`, `WebSocket` or
//! `window`, which the mini-program runtime lacks.

use super::HTTP_TIMEOUT_MS;
use crate::core::{ClientError, ConnId};
use crate::wasm::driver::{socket_closed, socket_text, Weak};
use crate::wasm::js;
use js_sys::{Object, Promise, Reflect};
use rtcroom_protocol::ApiError;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
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

    /// What `connectSocket` returns.
    #[derive(Clone)]
    type SocketTask;
    #[wasm_bindgen(method, js_name = onMessage)]
    fn on_message(this: &SocketTask, f: &JsValue);
    #[wasm_bindgen(method, js_name = onClose)]
    fn on_close(this: &SocketTask, f: &JsValue);
    #[wasm_bindgen(method, js_name = onError)]
    fn on_error(this: &SocketTask, f: &JsValue);
    #[wasm_bindgen(method, catch)]
    fn send(this: &SocketTask, options: &Object) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch)]
    fn close(this: &SocketTask, options: &Object) -> Result<(), JsValue>;
}

/// `{k: v, …}`.
fn object(pairs: &[(&str, &JsValue)]) -> Object {
    let o = Object::new();
    for (k, v) in pairs {
        let _ = Reflect::set(&o, &JsValue::from_str(k), v);
    }
    o
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

    /// `request({method: 'POST', dataType: 'text', …})`: the status and the reply's text.
    pub async fn post(
        &self,
        cmd: &str,
        url: &str,
        body: String,
    ) -> Result<(u16, String), ApiError> {
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
                let data = js::get(&res, "data");
                // A runtime that parsed the JSON anyway: write it back as text.
                let text = match data.as_string() {
                    Some(t) => t,
                    None => js_sys::JSON::stringify(&data)
                        .ok()
                        .and_then(|s| s.as_string())
                        .unwrap_or_default(),
                };
                Ok((u16::try_from(status).unwrap_or(0), text))
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
        let state = Rc::new(State::default());
        let closed = {
            let (state, driver) = (state.clone(), driver.clone());
            move |reason: String| {
                if !state.quiet.get() && !state.reported.replace(true) {
                    socket_closed(&driver, conn, reason);
                }
            }
        };
        let on_message = {
            let state = state.clone();
            Closure::<dyn FnMut(JsValue)>::new(move |res: JsValue| {
                if state.quiet.get() || state.reported.get() {
                    return;
                }
                if let Some(text) = js::get(&res, "data").as_string() {
                    socket_text(&driver, conn, &text);
                }
            })
        };
        let on_error = {
            let closed = closed.clone();
            let task = task.clone();
            Closure::<dyn FnMut(JsValue)>::new(move |err: JsValue| {
                let msg = js::get_string(&err, "errMsg").unwrap_or_default();
                closed(format!("error: {msg}"));
                let _ = task.close(&Object::new());
            })
        };
        // The closures live until the task's close (wx has no way to remove
        // them); the close handler frees them and itself.
        let on_close = {
            let state = state.clone();
            Closure::once_into_js(move |res: JsValue| {
                state.closures.borrow_mut().take();
                let code = js::get_uint(&res, "code").unwrap_or(0);
                let reason = js::get_string(&res, "reason").unwrap_or_default();
                closed(format!("closed: {code} {reason}"));
            })
        };
        task.on_message(on_message.as_ref());
        task.on_error(on_error.as_ref());
        task.on_close(&on_close);
        *state.closures.borrow_mut() = Some((on_message, on_error));
        Ok(Socket { task, state })
    }
}

/// One `SocketTask` with its handlers.
pub struct Socket {
    task: SocketTask,
    state: Rc<State>,
}

type Handler = Closure<dyn FnMut(JsValue)>;

#[derive(Default)]
struct State {
    /// Closed by the core: report nothing more.
    quiet: Cell<bool>,
    /// Its end was reported already.
    reported: Cell<bool>,
    /// `onMessage` and `onError`, freed on close.
    closures: RefCell<Option<(Handler, Handler)>>,
}

impl Socket {
    /// Sends a text frame (a socket that is not open reports its close).
    pub fn send(&self, text: &str) {
        let _ = self.task.send(&object(&[("data", &text.into())]));
    }

    /// Closes it; the close is reported.
    pub fn drop_connection(&self) {
        let _ = self.task.close(&Object::new());
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.state.quiet.set(true);
        self.drop_connection();
    }
}
