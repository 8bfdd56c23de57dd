//! The loop around the core, the same for every host: inputs are queued, the
//! core handles them one by one, and its outputs are carried out — HTTP and
//! sockets on the host's [`Transport`], the one timer, peer actions on the
//! [`Media`] glue, events to the host's event callback and promise
//! settlements. JS is only ever called with the driver unborrowed, so a
//! listener may call back into the API.

use super::js;
use super::media::Media;
use super::timer::Timer;
use super::transport::{Socket, Transport};
use crate::core::vecmap::VecMap;
use crate::core::{CallId, Client, ClientError, ConnId, Input, Output};
use js_sys::Function;
use rtcroom_protocol::ApiError;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use wasm_bindgen::JsValue;

/// The driver's state, behind `Rc`; closures hold [`Weak`] references.
pub type Shared = Rc<Driver>;
/// A weak reference to the driver.
pub type Weak = std::rc::Weak<Driver>;

/// Everything one `RoomCore` owns.
pub struct Driver {
    pub(super) state: RefCell<State>,
    inbox: RefCell<VecDeque<Input>>,
    pumping: Cell<bool>,
}

/// Mutable parts of the driver.
pub struct State {
    pub(super) client: Client,
    transport: Transport,
    media: Media,
    on_event: Function,
    pub(super) socket: Option<(ConnId, Socket)>,
    timer: Option<Timer>,
    pending: VecMap<CallId, (Function, Function)>,
    next_call: u64,
    /// After `shutdown`: calls fail at once, nothing more is carried out.
    closed: bool,
}

/// Milliseconds on the wall clock (the core treats a clock going back as standing still).
pub fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

impl Driver {
    /// A driver around `client`.
    pub fn new(client: Client, transport: Transport, media: Media, on_event: Function) -> Shared {
        Rc::new(Driver {
            state: RefCell::new(State {
                client,
                transport,
                media,
                on_event,
                socket: None,
                timer: None,
                pending: VecMap::new(),
                next_call: 1,
                closed: false,
            }),
            inbox: RefCell::new(VecDeque::new()),
            pumping: Cell::new(false),
        })
    }
}

/// Feeds `input` to the core and carries out everything that follows.
/// Re-entrant calls (from a listener) queue their input for the running loop.
/// Never inlined: it holds the whole core, and each caller (socket, HTTP,
/// timer, API) would otherwise carry a copy of it in the wasm.
#[inline(never)]
pub fn pump(d: &Shared, input: Input) {
    d.inbox.borrow_mut().push_back(input);
    if d.pumping.replace(true) {
        return;
    }
    // Events wait until nothing else is queued: what the glue feeds back at
    // once (a spare offer already made, from the peer action of an entry's
    // roster) is sent before the listeners for that roster run (several ms of
    // page work); outputs keep their order among themselves, events too.
    let mut events = VecDeque::new();
    loop {
        let next = d.inbox.borrow_mut().pop_front(); // unborrowed before JS runs
        if let Some(input) = next {
            let outputs: Vec<Output> = {
                let mut st = d.state.borrow_mut();
                if st.closed {
                    continue;
                }
                st.client.handle(input, now_ms());
                std::iter::from_fn(|| st.client.poll()).collect()
            };
            for out in outputs {
                match out {
                    Output::Event(event) => events.push_back(event),
                    other => perform(d, other),
                }
            }
        } else if let Some(event) = events.pop_front() {
            emit(d, &event);
        } else {
            break;
        }
    }
    d.pumping.set(false);
}

/// Hands `event` to the host's event callback.
fn emit(d: &Shared, event: &crate::core::Event) {
    let f = d.state.borrow().on_event.clone();
    if let Err(e) = f.call1(&JsValue::UNDEFINED, &js::to_js(event)) {
        web_sys::console::error_2(&"rtcroom: listener threw".into(), &e);
    }
}

/// A text frame from socket `conn` (a JS string; for the transports).
pub fn socket_text(d: &Weak, conn: ConnId, text: &JsValue) {
    if let Some(d) = d.upgrade() {
        pump(&d, super::decode::frame(conn, text));
    }
}

/// Socket `conn` closed or failed (for the transports).
pub fn socket_closed(d: &Weak, conn: ConnId, reason: String) {
    if let Some(d) = d.upgrade() {
        pump(&d, Input::WsClosed { conn, reason });
    }
}

fn perform(d: &Shared, out: Output) {
    match out {
        Output::Http(req) => {
            let weak = Rc::downgrade(d);
            let transport = d.state.borrow().transport.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let result = transport.post(&req).await;
                if let Some(d) = weak.upgrade() {
                    pump(&d, Input::HttpReply { id: req.id, result });
                }
            });
        }
        Output::WsConnect { conn, url } => {
            let old = d.state.borrow_mut().socket.take();
            drop(old); // at most one socket: the old one closes, unreported
            let opened = {
                let transport = d.state.borrow().transport.clone();
                transport.connect(&url, conn, Rc::downgrade(d))
            };
            match opened {
                Ok(s) => d.state.borrow_mut().socket = Some((conn, s)),
                Err(reason) => pump(d, Input::WsClosed { conn, reason }),
            }
        }
        Output::WsSend { conn, frame } => send_on(d, conn, js::to_json(&frame)),
        Output::WsSendSfu { conn, frame } => send_on(d, conn, js::to_json(&frame)),
        Output::WsClose { conn } => {
            let old = {
                let mut st = d.state.borrow_mut();
                match &st.socket {
                    Some((c, _)) if *c == conn => st.socket.take(),
                    _ => None,
                }
            };
            drop(old);
        }
        Output::Peer(action) => {
            let result = d.state.borrow().media.apply(&action);
            if let Err(line) = result {
                web_sys::console::warn_1(&line.into());
            }
        }
        Output::Event(event) => emit(d, &event),
        Output::CallDone { id, result } => {
            let Some((resolve, reject)) = d.state.borrow_mut().pending.remove(&id) else {
                return;
            };
            let _ = match result {
                Ok(ok) => resolve.call1(&JsValue::UNDEFINED, &js::to_js(&ok)),
                Err(e) => reject.call1(&JsValue::UNDEFINED, &js::error_value(&e)),
            };
        }
        Output::Timer { at_ms } => {
            let weak = Rc::downgrade(d);
            let delay = at_ms.saturating_sub(now_ms());
            let timer = Timer::after(delay, move || {
                if let Some(d) = weak.upgrade() {
                    pump(&d, Input::Timeout);
                }
            });
            d.state.borrow_mut().timer = timer;
        }
    }
}

/// Sends a frame's JSON `text` on socket `conn`, if that is still the socket
/// (one copy for both frame tables: the caller serializes).
fn send_on(d: &Shared, conn: ConnId, text: Option<String>) {
    let st = d.state.borrow();
    if let (Some((_, s)), Some(text)) = (st.socket.as_ref().filter(|(c, _)| *c == conn), text) {
        s.send(&text);
    }
}

/// Registers a call's promise callbacks and feeds the call in.
pub fn start_call(d: &Shared, call: crate::core::Call) -> js_sys::Promise {
    let mut slot = None;
    let promise = js_sys::Promise::new(&mut |resolve, reject| slot = Some((resolve, reject)));
    let Some(callbacks) = slot else {
        return promise;
    };
    let id = {
        let mut st = d.state.borrow_mut();
        if st.closed {
            drop(st);
            return rejected(&ClientError::NotLoggedIn.with_message("the room core is shut down"));
        }
        let id = CallId(st.next_call);
        st.next_call += 1;
        st.pending.insert(id, callbacks);
        id
    };
    pump(d, Input::Call { id, call });
    promise
}

/// Stops everything without a word to the server: the socket and the timer
/// go, pending calls fail with `Cancelled`, later calls with `NotLoggedIn`.
pub fn shutdown(d: &Shared) {
    let (socket, timer, pending) = {
        let mut st = d.state.borrow_mut();
        st.closed = true;
        let pending = std::mem::take(&mut st.pending);
        (st.socket.take(), st.timer.take(), pending)
    };
    drop((socket, timer));
    let e = js::error_value(&ClientError::Cancelled.api());
    for (_, reject) in pending.into_values() {
        let _ = reject.call1(&JsValue::UNDEFINED, &e);
    }
}

/// A promise rejected with `e` (bad arguments, before the core is involved).
pub fn rejected(e: &ApiError) -> js_sys::Promise {
    js_sys::Promise::reject(&js::error_value(e))
}
