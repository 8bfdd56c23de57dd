//! The IM-style socket `/weapp/im?sdkAppID=&identifier=&userSig=` over real
//! sockets: it gets a copy of its user's frames, is refused with `login`'s
//! code on a bad UserSig, sends room messages as its user, and never replaces
//! the HTTP session or its RoomService socket.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use rtcroom_protocol::usersig;
use serde_json::{json, Value};
use std::time::Duration;

/// Opens a tap; returns the socket after its `welcome`, or the refusal frame.
async fn tap(srv: &Server, app: u64, user: &str, sig: &str) -> Result<Ws, Value> {
    let url = format!(
        "ws://{}/weapp/im?sdkAppID={app}&identifier={}&userSig={}",
        srv.addr,
        urlencode(user),
        urlencode(sig)
    );
    let (stream, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let mut ws = Ws {
        stream,
        last_seq: 0,
        welcome: None,
    };
    let first = ws.next().await;
    if first["type"] == "welcome" {
        assert_eq!(first["userID"], user);
        Ok(ws)
    } else {
        Err(first)
    }
}

/// The next frame of `ty` on a tap within 5 s (tap frames all carry seq 0, so
/// `Ws::next`'s gap check does not apply; the server's pings do not count).
async fn next_of(ws: &mut Ws, ty: &str) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let msg = tokio::time::timeout_at(deadline, futures_util::StreamExt::next(&mut ws.stream))
            .await
            .unwrap_or_else(|_| panic!("no {ty} within 5 s"))
            .expect("tap closed")
            .unwrap();
        if let tokio_tungstenite::tungstenite::Message::Text(t) = msg {
            let v: Value = serde_json::from_str(t.as_str()).unwrap();
            assert_eq!(v["seq"], 0, "tap frames are unnumbered: {v}");
            if v["type"] == ty {
                return v;
            }
        }
    }
}

#[tokio::test]
async fn the_tap_gets_its_users_frames_without_replacing_the_session() {
    let srv = Server::start(config()).await;
    // The tap may come before the login session exists.
    let mut a_tap = tap(&srv, APP, "alice", &sig("alice")).await.unwrap();
    let metrics = reqwest::get(format!("{}/metrics", srv.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.lines().any(|l| l == "rtcroom_im_taps 1"),
        "{metrics}"
    );
    let a = srv.login("alice").await;
    let b = srv.login("bob").await;
    let mut a_ws = a.ws().await;
    a.enter("r").await;
    b.enter("r").await;

    let join = next_of(&mut a_tap, "pusher_join").await;
    assert_eq!(join["pusher"]["userID"], "bob");
    // The RoomService socket gets it too: it was neither replaced nor closed.
    assert_eq!(a_ws.expect("pusher_join").await["pusher"]["userID"], "bob");

    // bob's text (from his RoomService socket) reaches alice's tap, head and all.
    let mut b_ws = b.ws().await;
    b_ws.request(json!({"type": "room_text", "roomID": "r", "text": "hi"}), 1)
        .await;
    let text = next_of(&mut a_tap, "room_text").await;
    assert_eq!(
        (
            text["userID"].as_str(),
            text["text"].as_str(),
            text["head"]["cmd"].as_str(),
            text["head"]["data"]["nickName"].as_str()
        ),
        (
            Some("bob"),
            Some("hi"),
            Some("CustomTextMsg"),
            Some("name-bob")
        )
    );
    // The ack of bob's frame was his socket's alone.
    assert_eq!(a_ws.expect("room_text").await["text"], "hi");

    // The tap speaks as alice: bob gets it; the ack comes back on the tap.
    a_tap
        .send(json!({"type": "room_custom", "roomID": "r", "cmd": "like", "msg": "1", "reqID": 7}))
        .await;
    let ack = next_of(&mut a_tap, "ack").await;
    assert_eq!(ack["reqID"], 7);
    let custom = b_ws.expect("room_custom").await;
    assert_eq!(
        (
            custom["userID"].as_str(),
            custom["head"]["cmd"].as_str(),
            custom["head"]["data"]["cmd"].as_str(),
            custom["head"]["data"]["userName"].as_str()
        ),
        (
            Some("alice"),
            Some("CustomCmdMsg"),
            Some("like"),
            Some("name-alice")
        )
    );
    // ... and a_ws never sees a reply meant for the tap, nor a 1009.
    a_ws.expect_none("ack", Duration::from_millis(200)).await;
    // The HTTP token still works.
    a.ok("pusher_heartbeat", json!({"roomID": "r"})).await;

    // A room the tap's user is not in: the RoomService socket's error.
    a_tap
        .send(json!({"type": "room_text", "roomID": "elsewhere", "text": "x", "reqID": 8}))
        .await;
    let err = next_of(&mut a_tap, "error").await;
    assert_eq!(
        (err["reqID"].as_u64(), err["code"].as_i64()),
        (Some(8), Some(3))
    );
    b.enter("r2").await;
    a_tap
        .send(json!({"type": "room_text", "roomID": "r2", "text": "x", "reqID": 9}))
        .await;
    let err = next_of(&mut a_tap, "error").await;
    assert_eq!(
        (err["reqID"].as_u64(), err["code"].as_i64()),
        (Some(9), Some(5))
    );
    // Signaling is not the IM socket's business.
    a_tap
        .send(json!({"type": "offer", "roomID": "r", "to": "bob", "sdp": "v=0", "reqID": 10}))
        .await;
    assert_eq!(next_of(&mut a_tap, "error").await["code"], 1002);
    a_tap.send(json!({"type": "ping"})).await;
    next_of(&mut a_tap, "pong").await;

    // alice logs in again (a new session): the tap follows it.
    let a2 = srv.login("alice").await;
    a2.enter("r").await;
    b.ok("delete_pusher", json!({"roomID": "r"})).await;
    let quit = next_of(&mut a_tap, "pusher_quit").await;
    assert_eq!(quit["pusher"]["userID"], "bob");

    // The room closes when its creator (alice) leaves: bob's tap is told.
    let mut b_tap = tap(&srv, APP, "bob", &sig("bob")).await.unwrap();
    b.enter("r").await;
    a2.ok("delete_pusher", json!({"roomID": "r"})).await;
    let closed = next_of(&mut b_tap, "room_closed").await;
    assert_eq!(closed["roomID"], "r");
    srv.shutdown.cancel();
}

#[tokio::test]
async fn a_bad_usersig_is_refused_with_logins_code() {
    let srv = Server::start(config()).await;
    let now = now_s();
    let cases = [
        (
            "alice",
            usersig::gen_v2(APP, "wrong-key", "alice", 3600, now, None),
        ),
        ("mallory", sig("alice")),
        (
            "alice",
            usersig::gen_v2(APP, SECRET, "alice", 10, now - 100, None),
        ),
        ("alice", "not-a-sig".to_owned()),
    ];
    for (user, s) in cases {
        let want = srv
            .login_raw(&format!(
                "sdkAppID={APP}&accountType=0&userID={}&userSig={}",
                urlencode(user),
                urlencode(&s)
            ))
            .await["code"]
            .as_i64()
            .unwrap();
        assert!(want >= 7000, "login refuses {user}: {want}");
        let Err(refused) = tap(&srv, APP, user, &s).await else {
            panic!("{user}: the tap was accepted")
        };
        assert_eq!(refused["type"], "error");
        assert_eq!(refused["code"].as_i64(), Some(want), "{user}: {refused}");
    }
    // Missing parameters: login's 4.
    let url = format!("ws://{}/weapp/im?sdkAppID={APP}&identifier=alice", srv.addr);
    let (stream, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let mut ws = Ws {
        stream,
        last_seq: 0,
        welcome: None,
    };
    assert_eq!(ws.next().await["code"], 4);
    assert!(
        ws.next_within(Duration::from_secs(2)).await.is_none(),
        "closed"
    );
    srv.shutdown.cancel();
}
