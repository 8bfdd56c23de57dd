//! The loop around the core: inputs are queued, the core handles them one by
//! one, and its outputs are carried out — HTTP, socket, timer, peer actions on
//! the JS media glue, events and promise settlements. JS is only ever called
//! with the driver unborrowed, so a listener may call back into the API.

use super::js;
use super::listeners::Listeners;
use super::socket::Socket;
use super::timer::Timer;
use crate::core::vecmap::VecMap;
use crate::core::{CallId, Client, Input, Output, PeerAction, SdpKind};
use js_sys::Function;
use rtcroom_protocol::{ApiError, UserId};
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use wasm_bindgen::JsValue;

/// The driver's state, behind `Rc`; closures hold [`Weak`] references.
pub type Shared = Rc<Driver>;
/// A weak reference to the driver.
pub type Weak = std::rc::Weak<Driver>;

/// Everything one `RTCRoom` owns.
pub struct Driver {
    pub(super) state: RefCell<State>,
    inbox: RefCell<VecDeque<Input>>,
    pumping: Cell<bool>,
}

/// Mutable parts of the driver.
pub struct State {
    pub(super) client: Client,
    pub(super) media: JsValue,
    pub(super) socket: Option<Socket>,
    timer: Option<Timer>,
    pub(super) pending: VecMap<CallId, (Function, Function)>,
    pub(super) next_call: u64,
    pub(super) listeners: Listeners,
}

/// Milliseconds on the wall clock (the core treats a clock going back as standing still).
pub fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

impl Driver {
    /// A driver around `client`, sending peer actions to `media`.
    pub fn new(client: Client, media: JsValue) -> Shared {
        Rc::new(Driver {
            state: RefCell::new(State {
                client,
                media,
                socket: None,
                timer: None,
                pending: VecMap::new(),
                next_call: 1,
                listeners: Listeners::default(),
            }),
            inbox: RefCell::new(VecDeque::new()),
            pumping: Cell::new(false),
        })
    }
}

/// Feeds `input` to the core and carries out everything that follows.
/// Re-entrant calls (from a listener) queue their input for the running loop.
pub fn pump(d: &Shared, input: Input) {
    d.inbox.borrow_mut().push_back(input);
    if d.pumping.replace(true) {
        return;
    }
    loop {
        let Some(input) = d.inbox.borrow_mut().pop_front() else {
            break;
        };
        let outputs: Vec<Output> = {
            let mut st = d.state.borrow_mut();
            st.client.handle(input, now_ms());
            std::iter::from_fn(|| st.client.poll()).collect()
        };
        for out in outputs {
            perform(d, out);
        }
    }
    d.pumping.set(false);
}

fn perform(d: &Shared, out: Output) {
    match out {
        Output::Http(req) => {
            let weak = Rc::downgrade(d);
            wasm_bindgen_futures::spawn_local(async move {
                let result = super::http::send(&req).await;
                if let Some(d) = weak.upgrade() {
                    pump(&d, Input::HttpReply { id: req.id, result });
                }
            });
        }
        Output::WsConnect { conn, url } => {
            let opened = Socket::open(&url, conn, Rc::downgrade(d));
            let failed = {
                let mut st = d.state.borrow_mut();
                st.socket = None; // closes any previous socket
                match opened {
                    Ok(s) => {
                        st.socket = Some(s);
                        None
                    }
                    Err(e) => Some(js::describe(&e)),
                }
            };
            if let Some(reason) = failed {
                pump(d, Input::WsClosed { conn, reason });
            }
        }
        Output::WsSend { conn, frame } => {
            let st = d.state.borrow();
            if let (Some(s), Some(text)) = (
                st.socket.as_ref().filter(|s| s.conn == conn),
                js::to_json(&frame),
            ) {
                let _ = s.send(&text); // a socket that is not open reports its close
            }
        }
        Output::WsClose { conn } => {
            let mut st = d.state.borrow_mut();
            if st.socket.as_ref().is_some_and(|s| s.conn == conn) {
                st.socket = None;
            }
        }
        Output::Peer(action) => peer(d, action),
        Output::Event(event) => {
            let calls = d.state.borrow().listeners.calls_for(&event);
            for (this, f, args) in calls {
                if let Err(e) = f.apply(&this, &args) {
                    web_sys::console::error_2(&"rtcroom: listener threw".into(), &e);
                }
            }
        }
        Output::CallDone { id, result } => {
            let Some((resolve, reject)) = d.state.borrow_mut().pending.remove(&id) else {
                return;
            };
            let _ = match result {
                Ok(ok) => resolve.call1(&JsValue::UNDEFINED, &super::api::call_ok_value(&ok)),
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

/// Hands a peer action to the JS media glue (`createPeer`, `setRemoteSdp`,
/// `addIce`, `closePeer`); without glue, peer actions are no-ops.
fn peer(d: &Shared, action: PeerAction) {
    let media = d.state.borrow().media.clone();
    if media.is_undefined() || media.is_null() {
        return;
    }
    let (method, user, args): (_, &UserId, _) = match &action {
        PeerAction::Create {
            user: u,
            offerer,
            ice_servers,
        } => (
            "createPeer",
            u,
            vec![JsValue::from_bool(*offerer), js::to_js(ice_servers)],
        ),
        PeerAction::SetRemoteSdp { user: u, kind, sdp } => {
            let kind = match kind {
                SdpKind::Offer => "offer",
                SdpKind::Answer => "answer",
            };
            ("setRemoteSdp", u, vec![kind.into(), sdp.into()])
        }
        PeerAction::AddIce { user: u, candidate } => ("addIce", u, vec![js::to_js(candidate)]),
        PeerAction::Close { user: u } => ("closePeer", u, vec![]),
    };
    let mut all = vec![JsValue::from_str(user.as_str())];
    all.extend(args);
    if let Err(e) = js::call_method(&media, method, &all) {
        let line = format!(
            "media glue failed on {method}({user}): {}",
            js::describe(&e)
        );
        web_sys::console::warn_1(&line.into());
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
        let id = CallId(st.next_call);
        st.next_call += 1;
        st.pending.insert(id, callbacks);
        id
    };
    pump(d, Input::Call { id, call });
    promise
}

/// A promise rejected with `e` (bad arguments, before the core is involved).
pub fn rejected(e: &ApiError) -> js_sys::Promise {
    js_sys::Promise::reject(&js::error_value(e))
}
