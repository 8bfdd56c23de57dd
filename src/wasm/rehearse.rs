//! One join rehearsed on a scratch core when a `RoomCore` is made. The
//! engine compiles a wasm function on its first call, so without this the
//! user's first login and join pay for compiling every path they run
//! (docs/BENCHMARKS.md: ~30 ms of a cold join against Chromium with eager
//! compilation). The scratch core reads the wire's own texts as the
//! transports decode them and the glue's reports as `feed` reads them; its
//! outputs are serialized as the driver would send them, then dropped:
//! nothing leaves, no socket, no request, no peer connection.

use super::{decode, feed, js};
use crate::core::{CallId, Client, Config, ConnId, HttpRequest, Input, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use wasm_bindgen::JsValue;

// The wire's texts, as short as the readers take them (optional fields left
// out, one-letter ids): the same readers and rules run as for the server's.
const LOGIN: &str = r#"{"serverDomain":"http://r","sdkAppID":1,"userID":"me","userSig":"s"}"#;
const LOGIN_REPLY: &str = r#"{"code":0,"message":"","userID":"me","token":"t","tokenTTL":60,"heartbeatInterval":5,"iceServers":[]}"#;
const ENTER_REPLY: &str = r#"{"code":0,"message":"","roomID":"r","offeredTo":"a","pushers":[{"userID":"a","joinOrder":1},{"userID":"me","joinOrder":2}]}"#;
const OK: &str = r#"{"code":0,"message":""}"#;
/// An ICE candidate, as the server relays it and as the glue reports one.
macro_rules! candidate {
    () => {
        r#"{"candidate":"c","sdpMid":"0","sdpMLineIndex":0}"#
    };
}
/// The frames after the entry: the offered member's answer and candidate,
/// a newcomer with its offer, and that offer again as a plain `offer`.
const FRAMES: [&str; 4] = [
    r#"{"seq":1,"type":"answer","roomID":"r","from":"a","sdp":"v=0"}"#,
    concat!(
        r#"{"seq":2,"type":"candidate","roomID":"r","from":"a","candidate":"#,
        candidate!(),
        "}"
    ),
    r#"{"seq":3,"type":"pusher_join","roomID":"r","pusher":{"userID":"b","joinOrder":3},"offer":"v=0"}"#,
    r#"{"seq":4,"type":"offer","roomID":"r","from":"b","sdp":"v=0"}"#,
];

/// Set by the first rehearsal (a plain static, not a `thread_local!`: its
/// access check would bring std's `AccessError` and its panic text along).
static DONE: AtomicBool = AtomicBool::new(false);

/// Runs the rehearsal, once per page (later cores find the code compiled).
pub fn rehearse(cfg: &Config) {
    if !DONE.swap(true, Ordering::Relaxed) {
        run(cfg);
    }
}

/// One rehearsed join: how many of its four calls succeeded and how many
/// frames it would have sent (its answer and candidate).
fn run(cfg: &Config) -> (u32, u32) {
    let mut r = Rehearsal {
        c: Client::new(Config {
            spare_at_start: false,
            spare_offer_wait_ms: 0,
            ..cfg.clone()
        }),
        http: Vec::new(),
        conn: None,
        calls_ok: 0,
        sent: 0,
        now: 0,
    };
    let obj = |text: &str| js_sys::JSON::parse(text).unwrap_or(JsValue::UNDEFINED);
    let call = |r: &mut Rehearsal, id, name, arg: &str| {
        if let Ok(call) = super::api::call_arg(name, &obj(arg), &JsValue::UNDEFINED) {
            r.step(Input::Call {
                id: CallId(id),
                call,
            });
        }
    };
    call(&mut r, 0, "login", LOGIN);
    r.reply(LOGIN_REPLY);
    r.step(Input::Timeout); // the socket's open, on a turn of its own
    r.frame(r#"{"seq":0,"type":"welcome","userID":"me","resumed":true}"#);
    r.feed("spareOffer", "", "v=0".into(), JsValue::UNDEFINED);
    call(&mut r, 1, "enterRoom", r#"{"roomID":"r"}"#);
    r.reply(ENTER_REPLY);
    for frame in FRAMES {
        r.frame(frame);
    }
    r.feed("localSdp", "b", "answer".into(), "v=0".into());
    r.feed("localIce", "b", obj(candidate!()), JsValue::UNDEFINED);
    r.feed("peerState", "a", "connected".into(), JsValue::UNDEFINED);
    r.frame(r#"{"seq":5,"type":"ack","reqID":1}"#);
    call(&mut r, 2, "exitRoom", "0");
    r.reply(OK);
    call(&mut r, 3, "logout", "0");
    r.reply(OK);
    (r.calls_ok, r.sent)
}

struct Rehearsal {
    c: Client,
    /// Requests asked for and not yet answered: their id, command and kind.
    http: Vec<HttpRequest>,
    conn: Option<ConnId>,
    calls_ok: u32,
    sent: u32,
    now: u64,
}

impl Rehearsal {
    /// Feeds `input`; each output is serialized as the driver would, then dropped.
    fn step(&mut self, input: Input) {
        self.now += 1; // each step 1 ms on: the socket opens on a timer turn after login's
        self.c.handle(input, self.now);
        while let Some(out) = self.c.poll() {
            match out {
                Output::Http(req) => {
                    let _ = js::to_json(&req.body);
                    self.http.push(req);
                }
                Output::WsConnect { conn, .. } => self.conn = Some(conn),
                Output::WsSend { frame, .. } => {
                    self.sent += 1;
                    drop(js::to_json(&frame));
                }
                Output::Event(event) => drop(js::to_js(&event)),
                Output::CallDone { result, .. } => drop(match result {
                    Ok(ok) => {
                        self.calls_ok += 1;
                        js::to_js(&ok)
                    }
                    Err(e) => js::error_value(&e),
                }),
                _ => {}
            }
        }
    }

    /// The oldest open request's reply.
    fn reply(&mut self, text: &str) {
        if self.http.is_empty() {
            return;
        }
        let req = self.http.remove(0);
        let result = decode::reply(req.cmd, req.expect, 200, &JsValue::from_str(text));
        self.step(Input::HttpReply { id: req.id, result });
    }

    /// A frame on the socket the core opened.
    fn frame(&mut self, text: &str) {
        if let Some(conn) = self.conn {
            self.step(decode::frame(conn, &JsValue::from_str(text)));
        }
    }

    /// A report of the media glue.
    fn feed(&mut self, what: &str, subject: &str, a: JsValue, b: JsValue) {
        if let Ok(Some(input)) = feed::input(what, subject, a, &b) {
            self.step(input);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::*;

    wasm_bindgen_test_configure!(run_in_browser);

    /// The wire texts still read: every call succeeds and the answer and its
    /// candidate go out (a protocol change that broke them would leave the
    /// join's paths cold).
    #[wasm_bindgen_test]
    fn the_rehearsal_runs_a_whole_join() {
        assert_eq!(run(&Config::default()), (4, 2));
    }
}
