//! Every failure answers with its own code; the connection and other rooms
//! carry on untouched.
#![allow(clippy::unwrap_used)]

mod common;
use common::*;
use flate2::write::ZlibEncoder;
use futures_util::SinkExt;
use rtcroom_protocol::usersig::{self, base64url};
use serde_json::{json, Value};
use std::io::Write;
use std::time::Duration;

fn deflate_b64(bytes: &[u8]) -> String {
    let mut z = ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(bytes).unwrap();
    base64url::encode(&z.finish().unwrap())
}

async fn login_code(srv: &Server, app: u64, user: &str, sig: &str) -> Value {
    srv.login_raw(&format!(
        "sdkAppID={app}&accountType=0&userID={}&userSig={}",
        urlencode(user),
        urlencode(sig)
    ))
    .await
}

#[tokio::test]
async fn login_failures_each_have_their_code() {
    let srv = Server::start(config()).await;
    let now = now_s();
    let good = usersig::gen_v2(APP, SECRET, "alice", 3600, now, None);
    assert_eq!(login_code(&srv, APP, "alice", &good).await["code"], 0);
    // JSON body instead of the query string works too.
    let v: Value = reqwest::Client::new()
        .post(format!("{}/login", srv.room_base()))
        .body(
            json!({"sdkAppID": APP, "accountType": "0", "userID": "alice", "userSig": good})
                .to_string(),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["code"], 0, "{v}");

    let cases: Vec<(&str, Value)> = vec![
        ("missing params", srv.login_raw("sdkAppID=1&userID=alice").await),
        ("bad hmac", login_code(&srv, APP, "alice", &usersig::gen_v2(APP, "wrong-key", "alice", 3600, now, None)).await),
        ("expired", login_code(&srv, APP, "alice", &usersig::gen_v2(APP, SECRET, "alice", 10, now - 100, None)).await),
        ("future", login_code(&srv, APP, "alice", &usersig::gen_v2(APP, SECRET, "alice", 3600, now + 3600, None)).await),
        ("wrong app", login_code(&srv, OTHER_APP, "alice", &good).await),
        ("unknown app", login_code(&srv, 42, "alice", &good).await),
        ("wrong identifier", login_code(&srv, APP, "mallory", &good).await),
        ("bad base64", login_code(&srv, APP, "alice", "!!!not base64!!!").await),
        ("bad zlib", login_code(&srv, APP, "alice", &base64url::encode(b"not zlib at all")).await),
        ("bad json", login_code(&srv, APP, "alice", &deflate_b64(b"{nope")).await),
        ("unknown version", login_code(&srv, APP, "alice", &deflate_b64(br#"{"TLS.ver":"9.9","TLS.identifier":"alice","TLS.sdkappid":1400000001,"TLS.time":1,"TLS.expire":1,"TLS.sig":"AA=="}"#)).await),
    ];
    let expected = [
        4, 7009, 7007, 7008, 7005, 7010, 7006, 7001, 7002, 7003, 7004,
    ];
    for ((name, reply), code) in cases.iter().zip(expected) {
        assert_eq!(reply["code"], code, "{name}: {reply}");
        assert!(
            !reply["message"].as_str().unwrap().is_empty(),
            "{name} has a message"
        );
    }
}

#[tokio::test]
async fn v1_ecdsa_sigs_verify_with_a_configured_public_key() {
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/../protocol/tests/fixtures");
    let private = std::fs::read_to_string(format!("{fixtures}/v1_private_pkcs8.pem")).unwrap();
    let public = std::fs::read_to_string(format!("{fixtures}/v1_public.pem")).unwrap();
    let mut cfg = config();
    cfg.apps[1].secret_key = None;
    cfg.apps[1].public_key = Some(public);
    let srv = Server::start(cfg).await;
    let sig = usersig::gen_v1(OTHER_APP, "0", &private, "old-client", 3600, now_s()).unwrap();
    assert_eq!(
        login_code(&srv, OTHER_APP, "old-client", &sig).await["code"],
        0
    );
    // A v2 sig for an app with only a v1 key: no key for that version.
    let v2 = usersig::gen_v2(OTHER_APP, "x", "old-client", 3600, now_s(), None);
    assert_eq!(
        login_code(&srv, OTHER_APP, "old-client", &v2).await["code"],
        7011
    );
}

#[tokio::test]
async fn http_misuse_each_have_their_code() {
    let mut cfg = config();
    cfg.limits.max_rooms = 3;
    cfg.limits.max_rooms_per_app = Some(3); // the server-wide limit (1007), not the per-app share (1018)
    cfg.limits.max_members = 2;
    let srv = Server::start(cfg).await;
    let a = srv.login("alice").await;
    let http = reqwest::Client::new();
    let post = |url: String, body: &'static str| {
        let http = http.clone();
        async move {
            http.post(url)
                .body(body)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let base = srv.room_base();
    assert_eq!(
        post(format!("{base}/get_room_list"), "{}").await["code"],
        2,
        "no credentials"
    );
    assert_eq!(
        post(format!("{base}/get_room_list?userID=alice"), "{}").await["code"],
        2,
        "no token"
    );
    assert_eq!(
        post(format!("{base}/get_room_list?userID=alice&token=bad"), "{}").await["code"],
        7,
        "bad token"
    );
    assert_eq!(
        post(
            format!("{base}/get_room_list?userID=bob&token={}", a.token),
            "{}"
        )
        .await["code"],
        7,
        "someone else's token"
    );
    assert_eq!(
        a.call_raw("get_pushers", "{\"roomID\":".into()).await["code"],
        1001,
        "malformed JSON"
    );
    assert_eq!(
        a.call("frobnicate", json!({})).await["code"],
        1002,
        "unknown command"
    );
    assert_eq!(
        post(
            format!("{}/weapp/chat_room/get_room_list?{}", srv.base, a.auth()),
            "{}"
        )
        .await["code"],
        1002,
        "unknown room type"
    );
    assert_eq!(
        a.call("get_pushers", json!({})).await["code"],
        1,
        "missing field"
    );
    assert_eq!(
        a.call("get_pushers", json!({"roomID": 12})).await["code"],
        1003,
        "wrong type"
    );
    assert_eq!(
        a.call("get_pushers", json!({"roomID": "x".repeat(65)}))
            .await["code"],
        1003,
        "id too long"
    );
    assert_eq!(
        a.call("get_pushers", json!({"roomID": "nope"})).await["code"],
        3,
        "no such room"
    );
    assert_eq!(
        a.call("pusher_heartbeat", json!({"roomID": "nope"})).await["code"],
        5,
        "no such room: not a member (the original's code)"
    );
    assert_eq!(
        a.call("delete_pusher", json!({"roomID": "nope"})).await["code"],
        5,
        "no such room: not a member (Android's exitRoom takes 5 as success)"
    );
    assert_eq!(
        a.call("create_room", json!({"roomInfo": "x".repeat(1025)}))
            .await["code"],
        10,
        "roomInfo too large"
    );
    assert_eq!(
        a.call("create_room", json!({"roomInfo": "x", "userID": "bob"}))
            .await["code"],
        1003,
        "body userID must match"
    );

    // Room full, too many rooms.
    let (b, c) = (srv.login("bob").await, srv.login("carol").await);
    a.enter("full").await;
    b.enter("full").await;
    assert_eq!(
        c.call("add_pusher", json!({"roomID": "full"})).await["code"],
        5001
    );
    a.ok("create_room", json!({"roomInfo": ""})).await;
    a.ok("create_room", json!({"roomInfo": ""})).await;
    assert_eq!(
        a.call("create_room", json!({"roomInfo": ""})).await["code"],
        1007
    );
    assert_eq!(
        c.call("add_pusher", json!({"roomID": "another"})).await["code"],
        1007
    );

    // The room everyone was in is untouched by all of the above.
    let p = c.ok("get_pushers", json!({"roomID": "full"})).await;
    assert_eq!(p["pushers"].as_array().unwrap().len(), 2);
    // Errors are counted by code.
    let metrics = reqwest::get(format!("{}/metrics", srv.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("rtcroom_errors_total{code=\"5001\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("rtcroom_members 2"), "{metrics}");
}

#[tokio::test]
async fn websocket_misuse_gets_error_frames_and_the_connection_carries_on() {
    let mut cfg = config();
    cfg.limits.max_message_bytes = 100;
    cfg.limits.max_frame_bytes = 1000;
    let srv = Server::start(cfg).await;
    let (a, b) = (srv.login("alice").await, srv.login("bob").await);
    let (mut aw, mut bw) = (a.ws().await, b.ws().await);
    a.enter("r").await;
    b.enter("r").await;

    aw.send_text("{not json".into()).await;
    assert_eq!(aw.expect("error").await["code"], 1001);
    let e = aw.request(json!({"type": "teleport"}), 1).await;
    assert_eq!(e["code"], 1002);
    let e = aw
        .request(json!({"type": "room_text", "roomID": "r"}), 2)
        .await;
    assert_eq!(e["code"], 1, "missing text");
    let e = aw
        .request(
            json!({"type": "room_text", "roomID": "r", "text": "x".repeat(101)}),
            3,
        )
        .await;
    assert_eq!(e["code"], 1005, "message too large");
    let e = aw
        .request(
            json!({"type": "offer", "roomID": "r", "to": "bob", "sdp": "x".repeat(2000)}),
            4,
        )
        .await;
    assert_eq!(e["code"], 1005, "frame too large");
    let e = aw
        .request(
            json!({"type": "room_text", "roomID": "nowhere", "text": "hi"}),
            5,
        )
        .await;
    assert_eq!(e["code"], 3);
    aw.stream
        .send(tokio_tungstenite::tungstenite::Message::Binary(
            vec![1, 2, 3].into(),
        ))
        .await
        .unwrap();
    assert_eq!(aw.expect("error").await["code"], 1002);
    bw.expect_none("room_text", Duration::from_millis(100))
        .await;

    // Still connected and working.
    let ack = aw
        .request(
            json!({"type": "room_text", "roomID": "r", "text": "still here"}),
            6,
        )
        .await;
    assert_eq!(ack["type"], "ack");
    assert_eq!(bw.expect("room_text").await["text"], "still here");
    let pong = {
        aw.send(json!({"type": "ping"})).await;
        aw.expect("pong").await
    };
    assert_eq!(pong["type"], "pong");
}

/// A frame past the codec's limit (4 × `max_frame_bytes`, at least 64 KiB) is
/// never read, so it cannot get a 1005 frame: the socket closes with 1009
/// ("message too big") and the session carries on on a new socket.
#[tokio::test]
async fn a_frame_past_the_codec_limit_closes_with_1009() {
    use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
    use tokio_tungstenite::tungstenite::Message;
    let mut cfg = config();
    cfg.limits.max_frame_bytes = 1000;
    let srv = Server::start(cfg).await;
    let a = srv.login("alice").await;
    let mut aw = a.ws().await;
    aw.send_text("x".repeat(70_000)).await;
    let close = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match futures_util::StreamExt::next(&mut aw.stream).await {
                Some(Ok(Message::Close(f))) => return f,
                Some(Ok(_)) => continue,
                other => panic!("socket ended without a close frame: {other:?}"),
            }
        }
    })
    .await
    .expect("no close frame within 10 s")
    .expect("a close frame with a code");
    assert_eq!(close.code, CloseCode::Size, "{close:?}");
    let mut again = a.ws().await;
    let pong = {
        again.send(json!({"type": "ping"})).await;
        again.expect("pong").await
    };
    assert_eq!(pong["type"], "pong");
}

#[tokio::test]
async fn flooding_is_rate_limited_per_connection() {
    let mut cfg = config();
    cfg.limits.messages_per_second = 5;
    cfg.limits.messages_burst = 5;
    let srv = Server::start(cfg).await;
    let (a, b) = (srv.login("alice").await, srv.login("bob").await);
    let (mut aw, mut bw) = (a.ws().await, b.ws().await);
    a.enter("r").await;
    b.enter("r").await;
    for i in 0..20 {
        aw.send(json!({"type": "room_text", "roomID": "r", "text": format!("{i}"), "reqID": i}))
            .await;
    }
    let (mut acks, mut limited) = (0, 0);
    while acks + limited < 20 {
        let f = aw.next().await;
        match (f["type"].as_str(), f["code"].as_i64()) {
            (Some("ack"), _) => acks += 1,
            (Some("error"), Some(1006)) => limited += 1,
            _ => {}
        }
    }
    assert!(
        (5..=7).contains(&acks),
        "burst of 5 (+refill) accepted, got {acks}"
    );
    assert_eq!(acks + limited, 20);
    let mut got = 0;
    while bw.next_within(Duration::from_millis(300)).await.is_some() {
        got += 1;
    }
    assert_eq!(got, acks, "only accepted messages were delivered");
    // Other connections are unaffected.
    let ack = bw
        .request(
            json!({"type": "room_text", "roomID": "r", "text": "fine"}),
            99,
        )
        .await;
    assert_eq!(ack["type"], "ack");
}

#[tokio::test]
async fn websocket_with_a_bad_token_gets_an_error_frame() {
    let srv = Server::start(config()).await;
    let url = format!(
        "ws://{}/weapp/rtc_room/ws?userID=alice&token=nope",
        srv.addr
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    use futures_util::StreamExt;
    let msg = ws.next().await.unwrap().unwrap();
    let v: Value = serde_json::from_str(msg.to_text().unwrap()).unwrap();
    assert_eq!(
        (v["type"].as_str(), v["code"].as_i64()),
        (Some("error"), Some(7))
    );
}

#[tokio::test]
async fn debug_login_helper_exists_only_in_debug_mode() {
    let srv = Server::start(config()).await;
    let r = reqwest::get(format!(
        "{}/weapp/utils/get_login_info?userID=alice",
        srv.base
    ))
    .await
    .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], 1010);

    let mut cfg = config();
    cfg.debug = true;
    let srv = Server::start(cfg).await;
    for path in ["get_login_info", "get_login_info_debug"] {
        let info: Value = reqwest::get(format!("{}/weapp/utils/{path}?userID=alice", srv.base))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(info["code"], 0, "{info}");
        assert_eq!(info["accType"], "0");
        let q = format!(
            "sdkAppID={}&accountType=0&userID=alice&userSig={}",
            info["sdkAppID"],
            urlencode(info["userSig"].as_str().unwrap())
        );
        assert_eq!(
            srv.login_raw(&q).await["code"],
            0,
            "the minted identity logs in"
        );
    }
    let anon: Value = reqwest::get(format!("{}/weapp/utils/get_login_info", srv.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(anon["userID"].as_str().unwrap().starts_with("user_"));
    assert_eq!(
        reqwest::get(format!("{}/healthz", srv.base))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "ok\n"
    );
}
