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
use std::cell::Cell;
use wasm_bindgen::JsValue;

const LOGIN: &str = r#"{"serverDomain":"http://r.invalid/weapp/rtc_room","sdkAppID":1,"accType":1,"userID":"me","userSig":"s"}"#;
const LOGIN_REPLY: &str = r#"{"code":0,"message":"","userID":"me","token":"t","tokenTTL":60,"heartbeatInterval":5,"iceServers":[]}"#;
const PUSHER: &str = r##""userName":"","userAvatar":"","accelerateURL":"""##;
const CANDIDATE: &str =
    r#"{"candidate":"candidate:1 1 udp 1 10.0.0.1 9 typ host","sdpMid":"0","sdpMLineIndex":0}"#;

thread_local! {
    static DONE: Cell<bool> = const { Cell::new(false) };
}

/// Runs the rehearsal, once per page (later cores find the code compiled).
pub fn rehearse(cfg: &Config) {
    if !DONE.with(|d| d.replace(true)) {
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
    r.frame(r#"{"seq":0,"type":"welcome","userID":"me","resumed":true}"#);
    r.feed("spareOffer", "", "v=0".into(), JsValue::UNDEFINED);
    call(&mut r, 1, "enterRoom", r#"{"roomID":"r"}"#);
    let t = format!(
        r#"{{"code":0,"message":"","roomID":"r","offeredTo":"a","pushers":[{{"userID":"a",{PUSHER},"joinOrder":1}},{{"userID":"me",{PUSHER},"joinOrder":2}}]}}"#
    );
    r.reply(&t);
    for frame in [
        r#"{"seq":1,"type":"answer","roomID":"r","from":"a","sdp":"v=0"}"#.to_owned(),
        format!(
            r#"{{"seq":2,"type":"candidate","roomID":"r","from":"a","candidate":{CANDIDATE}}}"#
        ),
        format!(
            r#"{{"seq":3,"type":"pusher_join","roomID":"r","pusher":{{"userID":"b",{PUSHER},"joinOrder":3}},"offer":"v=0"}}"#
        ),
        r#"{"seq":4,"type":"offer","roomID":"r","from":"b","sdp":"v=0"}"#.to_owned(),
    ] {
        r.frame(&frame);
    }
    r.feed("localSdp", "b", "answer".into(), "v=0".into());
    r.feed("localIce", "b", obj(CANDIDATE), JsValue::UNDEFINED);
    r.feed("peerState", "a", "connected".into(), JsValue::UNDEFINED);
    r.frame(r#"{"seq":5,"type":"ack","reqID":1}"#);
    call(&mut r, 2, "exitRoom", "0");
    r.reply(r#"{"code":0,"message":""}"#);
    call(&mut r, 3, "logout", "0");
    r.reply(r#"{"code":0,"message":""}"#);
    (r.calls_ok, r.sent)
}

struct Rehearsal {
    c: Client,
    /// Requests asked for and not yet answered: their id, command and kind.
    http: Vec<HttpRequest>,
    conn: Option<ConnId>,
    calls_ok: u32,
    sent: u32,
}

impl Rehearsal {
    /// Feeds `input`; each output is serialized as the driver would, then dropped.
    fn step(&mut self, input: Input) {
        self.c.handle(input, 1);
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
