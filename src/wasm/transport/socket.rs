//! One socket for both hosts: the browser's `WebSocket` or the mini-program's
//! `SocketTask`, wired to the driver the same way (its text frames go to
//! [`socket_text`], its end, once, to [`socket_closed`]). Both hand their
//! handlers an event with `data` (a message) or `code` and `reason` (the
//! close), so the handlers are one set of closures.
//!
//! The browser's socket is the platform's `WebSocket` itself, not gloo-net's
//! stream over it: that one adds a futures channel, four closures and a
//! reader task (5.2 KB gzip of wasm and glue, docs/client-size.md); the
//! browser's HTTP stays on gloo-net.

#[cfg(feature = "wx")]
use super::object;
use crate::core::ConnId;
use crate::wasm::driver::{socket_closed, socket_text, Weak};
use crate::wasm::js;
#[cfg(feature = "wx")]
use js_sys::Object;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::prelude::*;

#[cfg(feature = "browser")]
#[wasm_bindgen]
extern "C" {
    /// The browser's `WebSocket`.
    pub type WebSocket;
    #[wasm_bindgen(constructor, catch)]
    fn new(url: &str) -> Result<WebSocket, JsValue>;
    #[wasm_bindgen(method, setter)]
    fn set_onmessage(this: &WebSocket, f: &JsValue);
    #[wasm_bindgen(method, setter)]
    fn set_onclose(this: &WebSocket, f: &JsValue);
    #[wasm_bindgen(method, catch, js_name = send)]
    fn send_text(this: &WebSocket, text: &str) -> Result<(), JsValue>;
    #[wasm_bindgen(method, js_name = close)]
    fn close_web(this: &WebSocket);
}

#[cfg(feature = "wx")]
#[wasm_bindgen]
extern "C" {
    /// What the mini-program's `connectSocket` returns.
    #[derive(Clone)]
    pub type SocketTask;
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

/// The host's socket object.
enum Task {
    /// A browser `WebSocket`: an error event is always followed by its close.
    #[cfg(feature = "browser")]
    Web(WebSocket),
    /// A mini-program `SocketTask`: an error may end it without a close.
    #[cfg(feature = "wx")]
    Wx(SocketTask),
}

impl Task {
    fn close(&self) {
        match self {
            #[cfg(feature = "browser")]
            Task::Web(ws) => ws.close_web(),
            #[cfg(feature = "wx")]
            Task::Wx(task) => {
                let _ = task.close(&Object::new());
            }
        }
    }
}

/// One open (or opening) socket with its handlers; dropping it closes it
/// without a report.
pub struct Socket {
    task: Task,
    state: Rc<State>,
}

type Handler = Closure<dyn FnMut(JsValue)>;

struct State {
    conn: ConnId,
    driver: Weak,
    /// Closed by the core: report nothing more.
    quiet: Cell<bool>,
    /// Its end was reported already.
    reported: Cell<bool>,
    /// Closed by `drop_connection`: no frame is read after it (its end is
    /// still reported).
    dropped: Cell<bool>,
    /// The message, close (and error) handlers, freed on close.
    closures: RefCell<Option<(Handler, Handler, Option<Handler>)>>,
}

impl State {
    /// Reports the socket's end to the driver, once, unless the core closed it.
    fn report(&self, reason: String) {
        if !self.quiet.get() && !self.reported.replace(true) {
            socket_closed(&self.driver, self.conn, reason);
        }
    }
}

impl Socket {
    /// Opens a browser `WebSocket` to `url`.
    #[cfg(feature = "browser")]
    pub fn open_web(url: &str, conn: ConnId, driver: Weak) -> Result<Self, String> {
        let ws = WebSocket::new(url).map_err(|e| js::describe(&e))?;
        Ok(Self::wire(Task::Web(ws), conn, driver))
    }

    /// Wires a mini-program `SocketTask` that `connectSocket` returned.
    #[cfg(feature = "wx")]
    pub fn from_task(task: SocketTask, conn: ConnId, driver: Weak) -> Self {
        Self::wire(Task::Wx(task), conn, driver)
    }

    fn wire(task: Task, conn: ConnId, driver: Weak) -> Self {
        let state = Rc::new(State {
            conn,
            driver,
            quiet: Cell::new(false),
            reported: Cell::new(false),
            dropped: Cell::new(false),
            closures: RefCell::new(None),
        });
        let on_message = {
            let state = state.clone();
            Closure::<dyn FnMut(JsValue)>::new(move |ev: JsValue| {
                if state.quiet.get() || state.reported.get() || state.dropped.get() {
                    return;
                }
                let data = js::get(&ev, "data");
                if data.is_string() {
                    socket_text(&state.driver, state.conn, &data);
                }
            })
        };
        // The closures live until the socket's close (wx has no way to remove
        // them); the close handler frees them and itself (an owned closure
        // dropped while it runs is freed when it returns).
        let on_close = {
            let state = state.clone();
            Closure::<dyn FnMut(JsValue)>::new(move |ev: JsValue| {
                state.closures.borrow_mut().take();
                let code = js::get_uint(&ev, "code").unwrap_or(0);
                let reason = js::get_string(&ev, "reason").unwrap_or_default();
                state.report(format!("closed: {code} {reason}"));
            })
        };
        let on_error = match &task {
            #[cfg(feature = "browser")]
            Task::Web(ws) => {
                ws.set_onmessage(on_message.as_ref());
                ws.set_onclose(on_close.as_ref());
                None
            }
            #[cfg(feature = "wx")]
            Task::Wx(t) => {
                let on_error = {
                    let state = state.clone();
                    let t = t.clone();
                    Closure::<dyn FnMut(JsValue)>::new(move |err: JsValue| {
                        let msg = js::get_string(&err, "errMsg").unwrap_or_default();
                        state.report(format!("error: {msg}"));
                        let _ = t.close(&Object::new());
                    })
                };
                t.on_message(on_message.as_ref());
                t.on_error(on_error.as_ref());
                t.on_close(on_close.as_ref());
                Some(on_error)
            }
        };
        *state.closures.borrow_mut() = Some((on_message, on_close, on_error));
        Socket { task, state }
    }

    /// Sends a text frame (a socket that is not open reports its close).
    pub fn send(&self, text: &str) {
        let _ = match &self.task {
            #[cfg(feature = "browser")]
            Task::Web(ws) => ws.send_text(text),
            #[cfg(feature = "wx")]
            Task::Wx(task) => task.send(&object(&[("data", &text.into())])),
        };
    }

    /// Closes it as a network drop would; the close is reported. A browser's
    /// close event waits for the closing handshake, so its end is reported
    /// at once (after the caller's turn: the driver may be borrowed now).
    pub fn drop_connection(&self) {
        self.state.dropped.set(true);
        self.task.close();
        #[cfg(feature = "browser")]
        #[allow(irrefutable_let_patterns)] // the browser-only build has one kind of task
        if let Task::Web(_) = self.task {
            let state = self.state.clone();
            wasm_bindgen_futures::spawn_local(async move { state.report("closed".into()) });
        }
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.state.quiet.set(true);
        self.task.close();
    }
}
