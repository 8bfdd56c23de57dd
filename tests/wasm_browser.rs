//! The real wasm `RoomCore` API (the one both hosts use, here on the browser
//! transport) in a real browser (headless Chromium through
//! `wasm-pack test --headless --chrome`) against a real RoomService that
//! `scripts/test-wasm` starts on 127.0.0.1 inside a loopback-only network
//! namespace. Identities come from the server's debug `get_login_info`.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use js_sys::{Array, Function, Object, Promise, Reflect};
use rtcroom::RoomCore;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const SERVER: &str = match option_env!("RTCROOM_TEST_SERVER") {
    Some(s) => s,
    None => "http://127.0.0.1:18765",
};

fn obj(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (k, v) in pairs {
        Reflect::set(&o, &(*k).into(), v).unwrap();
    }
    o.into()
}

fn get(v: &JsValue, k: &str) -> JsValue {
    Reflect::get(v, &k.into()).unwrap()
}

async fn sleep(ms: i32) {
    let p = Promise::new(&mut |resolve, _| {
        web_sys::window()
            .unwrap()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .unwrap();
    });
    JsFuture::from(p).await.unwrap();
}

async fn await_ok(p: Promise) -> JsValue {
    match JsFuture::from(p).await {
        Ok(v) => v,
        Err(e) => panic!(
            "call rejected: code {:?} {:?}",
            get(&e, "code"),
            get(&e, "message")
        ),
    }
}

async fn fetch_json(url: &str) -> JsValue {
    let resp = JsFuture::from(web_sys::window().unwrap().fetch_with_str(url))
        .await
        .unwrap();
    let resp: web_sys::Response = resp.dyn_into().unwrap();
    JsFuture::from(resp.json().unwrap()).await.unwrap()
}

/// Every event a room fired, as (type, data).
#[derive(Clone, Default)]
struct Events(Rc<RefCell<Vec<Fired>>>);

/// One fired event: its type and data.
type Fired = (String, JsValue);

impl Events {
    /// The `onEvent` callback that records into this log.
    fn callback(&self) -> Function {
        let log = self.0.clone();
        let f = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
            let name = get(&e, "type").as_string().unwrap();
            log.borrow_mut().push((name, get(&e, "data")));
        });
        let func = f.as_ref().unchecked_ref::<Function>().clone();
        f.forget(); // test-only: lives as long as the page
        func
    }

    fn named(&self, name: &str) -> Vec<JsValue> {
        self.0
            .borrow()
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, a)| a.clone())
            .collect()
    }

    /// Waits until at least `n` events called `name` arrived (fails after 8 s).
    async fn wait_for(&self, name: &str, n: usize) -> Vec<JsValue> {
        for _ in 0..160 {
            let got = self.named(name);
            if got.len() >= n {
                return got;
            }
            sleep(50).await;
        }
        panic!(
            "waited 8 s for {n} {name} events, got {}",
            self.named(name).len()
        );
    }
}

/// A media glue that records the peer actions the core asks for.
fn recording_media() -> (JsValue, Array) {
    let calls = Array::new();
    let media = Object::new();
    for method in [
        "createPeer",
        "setRemoteSdp",
        "addIce",
        "restartIce",
        "closePeer",
    ] {
        let calls = calls.clone();
        let f = Closure::<dyn FnMut(JsValue, JsValue)>::new(move |user: JsValue, arg: JsValue| {
            calls.push(&Array::of3(&method.into(), &user, &arg));
        });
        Reflect::set(&media, &method.into(), f.as_ref()).unwrap();
        f.forget();
    }
    (media.into(), calls)
}

async fn logged_in(user: &str) -> (RoomCore, Events, Array) {
    let info = fetch_json(&format!(
        "{SERVER}/weapp/utils/get_login_info?userID={user}"
    ))
    .await;
    assert_eq!(get(&info, "code"), 0);
    let (media, calls) = recording_media();
    let events = Events::default();
    let room = RoomCore::new(
        JsValue::UNDEFINED,
        media,
        obj(&[("debug", false.into()), ("reconnectMinMs", 50.into())]),
        events.callback(),
    )
    .unwrap();
    let params = obj(&[
        ("serverDomain", format!("{SERVER}/weapp/rtc_room/").into()),
        ("sdkAppID", get(&info, "sdkAppID")),
        ("accType", get(&info, "accType")),
        ("userID", user.into()),
        ("userSig", get(&info, "userSig")),
        ("userName", format!("Name {user}").into()),
    ]);
    let me = await_ok(room.call("login", params, JsValue::UNDEFINED)).await;
    assert_eq!(get(&me, "userID"), user);
    assert!(room.is_logged_in());
    (room, events, calls)
}

fn unique(prefix: &str) -> String {
    format!("{prefix}{}", (js_sys::Math::random() * 1e9) as u64)
}

#[wasm_bindgen_test]
async fn two_rooms_in_one_page_create_enter_message_resume_and_leave() {
    let (a_id, b_id) = (unique("wa"), unique("wb"));
    let (a, a_ev, a_calls) = logged_in(&a_id).await;
    let (b, b_ev, b_calls) = logged_in(&b_id).await;

    // Create without a roomID: the server assigns one; roomInfo may be an object.
    let info = obj(&[("name", "wasm call".into())]);
    let created =
        await_ok(a.call("createRoom", obj(&[("roomInfo", info)]), JsValue::UNDEFINED)).await;
    let room_id = get(&created, "roomID").as_string().unwrap();
    assert!(room_id.starts_with("room_"), "{room_id}");

    let list = await_ok(b.call(
        "getRoomList",
        obj(&[("index", 0.into()), ("count", 50.into())]),
        JsValue::UNDEFINED,
    ))
    .await;
    let rooms: Array = get(&list, "rooms").dyn_into().unwrap();
    let listed = rooms
        .iter()
        .find(|r| get(r, "roomID") == room_id.as_str())
        .expect("room listed");
    assert_eq!(get(&listed, "roomInfo"), "{\"name\":\"wasm call\"}");
    assert_eq!(get(&listed, "roomCreator"), a_id.as_str());

    await_ok(b.call(
        "enterRoom",
        obj(&[("roomID", room_id.clone().into())]),
        JsValue::UNDEFINED,
    ))
    .await;
    let list = b_ev.wait_for("getPusherList", 1).await;
    let pushers: Array = list[0].clone().dyn_into().unwrap();
    assert_eq!(pushers.length(), 1, "the list excludes ourselves");
    assert_eq!(get(&pushers.get(0), "userID"), a_id.as_str());
    let join = a_ev.wait_for("pusherJoin", 1).await;
    assert_eq!(get(&join[0], "userID"), b_id.as_str());
    assert_eq!(get(&join[0], "userName"), format!("Name {b_id}").as_str());

    // One peer each, and exactly one side offers: the later joiner (both
    // carry a join order), whichever userID sorts first.
    sleep(100).await;
    let a_create = a_calls
        .iter()
        .find(|c| Array::from(c).get(0) == "createPeer")
        .expect("a createPeer");
    let b_create = b_calls
        .iter()
        .find(|c| Array::from(c).get(0) == "createPeer")
        .expect("b createPeer");
    let a_offers = Array::from(&a_create).get(2).as_bool().unwrap();
    let b_offers = Array::from(&b_create).get(2).as_bool().unwrap();
    assert_ne!(a_offers, b_offers);
    assert!(b_offers, "b joined later: b offers");

    // Messages both ways with the sender stamped.
    await_ok(a.call("sendRoomTextMsg", "hello from a".into(), JsValue::UNDEFINED)).await;
    let m = b_ev.wait_for("recvRoomTextMsg", 1).await;
    assert_eq!(
        (
            get(&m[0], "roomID").as_string(),
            get(&m[0], "userID").as_string()
        ),
        (Some(room_id.clone()), Some(a_id.clone()))
    );
    assert_eq!(get(&m[0], "text"), "hello from a");
    await_ok(b.call("sendRoomCustomMsg", "like".into(), "{\"n\":1}".into())).await;
    let m = a_ev.wait_for("recvRoomCustomMsg", 1).await;
    assert_eq!(
        (
            get(&m[0], "userID").as_string(),
            get(&m[0], "cmd").as_string(),
            get(&m[0], "msg").as_string()
        ),
        (
            Some(b_id.clone()),
            Some("like".into()),
            Some("{\"n\":1}".into())
        )
    );

    // A socket dropped mid-room: messages sent meanwhile arrive once, in order.
    b.simulate_disconnect();
    for i in 0..5 {
        await_ok(a.call(
            "sendRoomTextMsg",
            format!("while away {i}").into(),
            JsValue::UNDEFINED,
        ))
        .await;
    }
    b_ev.wait_for("recvRoomTextMsg", 6).await;
    sleep(500).await;
    let texts: Vec<String> = b_ev
        .named("recvRoomTextMsg")
        .iter()
        .map(|m| get(m, "text").as_string().unwrap())
        .collect();
    assert_eq!(
        texts,
        [
            "hello from a",
            "while away 0",
            "while away 1",
            "while away 2",
            "while away 3",
            "while away 4"
        ]
    );
    let states: Vec<String> = b_ev
        .named("connectionStateChange")
        .iter()
        .map(|s| s.as_string().unwrap())
        .collect();
    assert!(
        states.contains(&"reconnecting".to_owned())
            && states.last().map(String::as_str) == Some("connected"),
        "{states:?}"
    );
    assert!(
        a_ev.named("pusherQuit").is_empty(),
        "a short drop is not a quit"
    );

    // Leaving: the other side hears it; bad input is a clear error, not a crash.
    await_ok(b.call("exitRoom", JsValue::UNDEFINED, JsValue::UNDEFINED)).await;
    let quit = a_ev.wait_for("pusherQuit", 1).await;
    assert_eq!(get(&quit[0], "userID"), b_id.as_str());
    let err = JsFuture::from(b.call("sendRoomTextMsg", "nobody hears".into(), JsValue::UNDEFINED))
        .await
        .unwrap_err();
    assert_eq!(get(&err, "code"), -1003, "not in a room");
    let err = JsFuture::from(b.call(
        "enterRoom",
        obj(&[("roomID", "".into())]),
        JsValue::UNDEFINED,
    ))
    .await
    .unwrap_err();
    assert_eq!(get(&err, "code"), -1012, "empty roomID");
    await_ok(a.call("exitRoom", JsValue::UNDEFINED, JsValue::UNDEFINED)).await;
    await_ok(a.call("logout", JsValue::UNDEFINED, JsValue::UNDEFINED)).await;
    await_ok(b.call("logout", JsValue::UNDEFINED, JsValue::UNDEFINED)).await;
    assert!(!a.is_logged_in());
}

#[wasm_bindgen_test]
async fn wrong_user_sig_rejects_with_the_server_code() {
    let room = RoomCore::new(
        JsValue::UNDEFINED,
        JsValue::UNDEFINED,
        JsValue::UNDEFINED,
        Function::new_no_args(""),
    )
    .unwrap();
    let info = fetch_json(&format!(
        "{SERVER}/weapp/utils/get_login_info?userID=someone"
    ))
    .await;
    let params = obj(&[
        ("serverDomain", format!("{SERVER}/weapp/rtc_room").into()),
        ("sdkAppID", get(&info, "sdkAppID")),
        ("userID", "someone-else".into()),
        ("userSig", get(&info, "userSig")),
    ]);
    let err = JsFuture::from(room.call("login", params, JsValue::UNDEFINED))
        .await
        .unwrap_err();
    assert_eq!(get(&err, "code"), 7006, "identifier mismatch");
    assert!(err.is_instance_of::<js_sys::Error>());
    let err = JsFuture::from(room.call(
        "login",
        obj(&[("serverDomain", "x".into())]),
        JsValue::UNDEFINED,
    ))
    .await
    .unwrap_err();
    assert_eq!(get(&err, "code"), -1012);
}

#[wasm_bindgen_test]
fn a_media_glue_missing_a_method_is_refused_at_construction() {
    let (media, _) = recording_media();
    Reflect::delete_property(media.unchecked_ref::<Object>(), &"addIce".into()).unwrap();
    let err = RoomCore::new(
        JsValue::UNDEFINED,
        media,
        JsValue::UNDEFINED,
        Function::new_no_args(""),
    )
    .err()
    .expect("refused");
    assert_eq!(get(&err, "code"), -1012);
    assert!(get(&err, "message").as_string().unwrap().contains("addIce"));
}
