//! Two and more users over real HTTP + WebSocket: rooms, members, messages, relay.
#![allow(clippy::unwrap_used)]

mod common;
use common::*;
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn create_list_enter_and_see_each_other() {
    let srv = Server::start(config()).await;
    let a = srv.login("alice").await;
    let b = srv.login("bob").await;

    // Without roomID: the server assigns room_xxxxxxxx_xxxx.
    let assigned = a
        .ok(
            "create_room",
            json!({"userID": "alice", "roomInfo": "{\"name\":\"call\"}"}),
        )
        .await;
    let room = assigned["roomID"].as_str().unwrap().to_owned();
    assert!(
        room.starts_with("room_") && room.len() == "room_xxxxxxxx_xxxx".len(),
        "{room}"
    );
    // With roomID; a second create of the same id is refused (11).
    a.ok("create_room", json!({"roomID": "fixed-1", "roomInfo": "x"}))
        .await;
    assert_eq!(
        a.call("create_room", json!({"roomID": "fixed-1", "roomInfo": "x"}))
            .await["code"],
        11
    );

    // Created rooms are listed only once someone entered.
    let list = b.ok("get_room_list", json!({"index": 0, "cnt": 20})).await;
    assert_eq!(list["rooms"].as_array().unwrap().len(), 0);

    let mut a_ws = a.ws().await;
    a.enter(&room).await;
    let list = b.ok("get_room_list", json!({"index": 0, "cnt": 20})).await;
    let rooms = list["rooms"].as_array().unwrap();
    assert_eq!(rooms.len(), 1);
    assert_eq!(rooms[0]["roomID"], room.as_str());
    assert_eq!(rooms[0]["roomCreator"], "alice");
    assert_eq!(rooms[0]["roomInfo"], "{\"name\":\"call\"}");
    assert_eq!(rooms[0]["memberCount"], 1);

    let mut b_ws = b.ws().await;
    b.enter(&room).await;
    let join = a_ws.expect("pusher_join").await;
    assert_eq!(join["roomID"], room.as_str());
    assert_eq!(join["pusher"]["userID"], "bob");
    assert_eq!(join["pusher"]["userName"], "name-bob");

    let pushers = b.ok("get_pushers", json!({"roomID": room})).await;
    let ids: Vec<&str> = pushers["pushers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["userID"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["alice", "bob"]);
    assert_eq!(pushers["roomCreator"], "alice");

    // B leaves: A is told; the room stays (A is still in it).
    b.ok("delete_pusher", json!({"roomID": room, "userID": "bob"}))
        .await;
    let quit = a_ws.expect("pusher_quit").await;
    assert_eq!(
        (quit["pusher"]["userID"].as_str(), quit["reason"].as_str()),
        (Some("bob"), Some("left"))
    );
    assert_eq!(
        b.call("delete_pusher", json!({"roomID": room})).await["code"],
        5,
        "not a member any more"
    );
    b_ws.expect_none("pusher_quit", Duration::from_millis(200))
        .await;

    // Last one out removes the room.
    a.ok("delete_pusher", json!({"roomID": room})).await;
    assert_eq!(
        b.call("get_pushers", json!({"roomID": room})).await["code"],
        3
    );
    assert_eq!(b.ok("get_room_list", json!({})).await["total"], 0);
}

#[tokio::test]
async fn room_messages_reach_every_other_member_with_stamped_sender() {
    let srv = Server::start(config()).await;
    let (a, b, c) = (
        srv.login("alice").await,
        srv.login("bob").await,
        srv.login("carol").await,
    );
    let (mut aw, mut bw, mut cw) = (a.ws().await, b.ws().await, c.ws().await);
    for cl in [&a, &b, &c] {
        cl.enter("r").await;
    }
    // A name with a quote and a brace would break the original's string-built JSON.
    a.ok(
        "add_pusher",
        json!({"roomID": "r", "userName": "A \"quoted\" }} name", "userAvatar": "x"}),
    )
    .await;

    let ack = aw
        .request(
            json!({"type": "room_text", "roomID": "r", "text": "hello \"all\""}),
            1,
        )
        .await;
    assert_eq!(ack["type"], "ack");
    for ws in [&mut bw, &mut cw] {
        let m = ws.expect("room_text").await;
        assert_eq!(m["userID"], "alice");
        assert_eq!(m["text"], "hello \"all\"");
        assert_eq!(
            m["head"],
            json!({"cmd": "CustomTextMsg", "data": {"nickName": "A \"quoted\" }} name", "headPic": "x"}})
        );
        assert!(m["time"].as_u64().unwrap() > 0);
    }
    aw.expect_none("room_text", Duration::from_millis(200))
        .await;

    // A forged sender in the frame is ignored: the server stamps the token's user.
    let ack = bw.request(json!({"type": "room_custom", "roomID": "r", "cmd": "like", "msg": "{\"n\":1}", "userID": "alice"}), 2).await;
    assert_eq!(ack["type"], "ack");
    for ws in [&mut aw, &mut cw] {
        let m = ws.expect("room_custom").await;
        assert_eq!(m["userID"], "bob");
        assert_eq!(
            m["head"],
            json!({"cmd": "CustomCmdMsg", "data": {"userName": "name-bob", "userAvatar": "a.png", "cmd": "like", "msg": "{\"n\":1}"}})
        );
    }
}

#[tokio::test]
async fn signaling_reaches_only_the_addressed_member_of_the_same_room() {
    let srv = Server::start(config()).await;
    let (a, b, c, d) = (
        srv.login("a").await,
        srv.login("b").await,
        srv.login("c").await,
        srv.login("d").await,
    );
    let (mut aw, mut bw, mut cw, mut dw) = (a.ws().await, b.ws().await, c.ws().await, d.ws().await);
    for cl in [&a, &b, &c] {
        cl.enter("room1").await;
    }
    d.enter("room2").await;

    aw.send(json!({"type": "offer", "roomID": "room1", "to": "b", "sdp": "v=0 offer"}))
        .await;
    let offer = bw.expect("offer").await;
    assert_eq!(
        (offer["from"].as_str(), offer["sdp"].as_str()),
        (Some("a"), Some("v=0 offer"))
    );
    bw.send(json!({"type": "answer", "roomID": "room1", "to": "a", "sdp": "v=0 answer"}))
        .await;
    assert_eq!(aw.expect("answer").await["from"], "b");
    let cand = json!({"candidate": "candidate:1 1 udp 1 127.0.0.1 5000 typ host", "sdpMid": "0", "sdpMLineIndex": 0});
    aw.send(json!({"type": "candidate", "roomID": "room1", "to": "b", "candidate": cand}))
        .await;
    assert_eq!(bw.expect("candidate").await["candidate"], cand);
    cw.expect_none("offer", Duration::from_millis(200)).await;
    cw.expect_none("candidate", Duration::from_millis(50)).await;

    // To a member of another room: refused; from a non-member: refused.
    let e = aw
        .request(
            json!({"type": "offer", "roomID": "room1", "to": "d", "sdp": "x"}),
            5,
        )
        .await;
    assert_eq!(
        (e["type"].as_str(), e["code"].as_i64()),
        (Some("error"), Some(1008))
    );
    let e = dw
        .request(
            json!({"type": "offer", "roomID": "room1", "to": "a", "sdp": "x"}),
            6,
        )
        .await;
    assert_eq!(e["code"], 5);
    let e = dw
        .request(
            json!({"type": "room_text", "roomID": "room1", "text": "spam"}),
            7,
        )
        .await;
    assert_eq!(e["code"], 5);
    let e = aw
        .request(
            json!({"type": "offer", "roomID": "room1", "to": "a", "sdp": "x"}),
            8,
        )
        .await;
    assert_eq!(e["code"], 1003, "signalling yourself");
    dw.expect_none("offer", Duration::from_millis(200)).await;
    aw.expect_none("room_text", Duration::from_millis(50)).await;
}

#[tokio::test]
async fn renegotiate_and_mesh_release_reach_only_the_addressed_member_of_the_same_room() {
    let srv = Server::start(config()).await;
    let (a, b, c, d) = (
        srv.login("a").await,
        srv.login("b").await,
        srv.login("c").await,
        srv.login("d").await,
    );
    let (mut aw, mut bw, mut cw, mut dw) = (a.ws().await, b.ws().await, c.ws().await, d.ws().await);
    for cl in [&a, &b, &c] {
        cl.enter("room1").await;
    }
    d.enter("room2").await;

    // `mesh_release` (the SFU switch) is relayed the same way.
    for (ty, req) in [("renegotiate", 1), ("mesh_release", 11)] {
        let ack = aw
            .request(json!({"type": ty, "roomID": "room1", "to": "b"}), req)
            .await;
        assert_eq!(ack["type"], "ack", "{ty}");
        let r = bw.expect(ty).await;
        assert_eq!(
            (r["roomID"].as_str(), r["from"].as_str()),
            (Some("room1"), Some("a"))
        );
        cw.expect_none(ty, Duration::from_millis(200)).await;
    }

    // To a member of another room, from a non-member, to yourself: refused.
    let e = aw
        .request(
            json!({"type": "renegotiate", "roomID": "room1", "to": "d"}),
            2,
        )
        .await;
    assert_eq!(
        (e["type"].as_str(), e["code"].as_i64()),
        (Some("error"), Some(1008))
    );
    let e = dw
        .request(
            json!({"type": "renegotiate", "roomID": "room1", "to": "a"}),
            3,
        )
        .await;
    assert_eq!(e["code"], 5);
    let e = aw
        .request(
            json!({"type": "renegotiate", "roomID": "room1", "to": "a"}),
            4,
        )
        .await;
    assert_eq!(e["code"], 1003, "signalling yourself");
    let e = aw
        .request(json!({"type": "renegotiate", "roomID": "room1"}), 5)
        .await;
    assert_eq!(e["type"], "error", "no addressee");
    aw.expect_none("renegotiate", Duration::from_millis(200))
        .await;
    dw.expect_none("renegotiate", Duration::from_millis(50))
        .await;

    let metrics = reqwest::get(format!("{}/metrics", srv.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("rtcroom_signals_relayed_total 2\n"),
        "{metrics}"
    );
}

#[tokio::test]
async fn creator_leaving_closes_the_room_and_destroy_is_creator_only() {
    let srv = Server::start(config()).await;
    let (a, b) = (srv.login("alice").await, srv.login("bob").await);
    let mut bw = b.ws().await;
    a.enter("r1").await;
    b.enter("r1").await;
    assert_eq!(
        b.call("destroy_room", json!({"roomID": "r1"})).await["code"],
        3,
        "only the creator"
    );
    a.ok("delete_pusher", json!({"roomID": "r1"})).await;
    let closed = bw.expect("room_closed").await;
    assert_eq!(
        (closed["roomID"].as_str(), closed["reason"].as_str()),
        (Some("r1"), Some("creator_left"))
    );
    assert_eq!(
        b.call("get_pushers", json!({"roomID": "r1"})).await["code"],
        3
    );
    assert_eq!(
        b.call("pusher_heartbeat", json!({"roomID": "r1"})).await["code"],
        5,
        "the room is gone: not a member, as the original answered"
    );
    assert_eq!(
        b.call("delete_pusher", json!({"roomID": "r1"})).await["code"],
        5
    );

    a.enter("r2").await;
    b.enter("r2").await;
    a.ok("destroy_room", json!({"roomID": "r2", "userID": "alice"}))
        .await;
    let closed = bw.expect("room_closed").await;
    assert_eq!(closed["reason"], "destroyed");
    assert_eq!(a.ok("get_room_list", json!({})).await["total"], 0);
}

#[tokio::test]
async fn room_list_pages_and_room_types_are_separate() {
    let srv = Server::start(config()).await;
    let mut users = Vec::new();
    for i in 0..5 {
        users.push(srv.login(&format!("u{i}")).await);
    }
    for (i, u) in users.iter().enumerate() {
        u.enter(&format!("room-{i}")).await;
    }
    let page = users[0]
        .ok("get_room_list", json!({"index": 1, "cnt": 2}))
        .await;
    let ids: Vec<&str> = page["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["roomID"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["room-1", "room-2"], "oldest first");
    assert_eq!(page["total"], 5);

    // double_room holds two; its list is its own.
    let d = srv
        .login_at(&format!("{}/weapp/double_room", srv.base), "d1")
        .await;
    let d2 = srv
        .login_at(&format!("{}/weapp/double_room", srv.base), "d2")
        .await;
    let d3 = srv
        .login_at(&format!("{}/weapp/double_room", srv.base), "d3")
        .await;
    d.enter("pair").await;
    d2.enter("pair").await;
    assert_eq!(
        d3.call("add_pusher", json!({"roomID": "pair"})).await["code"],
        5001
    );
    assert_eq!(d.ok("get_room_list", json!({})).await["total"], 1);
    // multi_room and rtc_room share one list.
    let m = users[0].call("get_room_list", json!({})).await;
    assert_eq!(m["total"], 5);
}

#[tokio::test]
async fn push_urls_are_signed_and_give_members_play_urls() {
    let srv = Server::start(config()).await;
    let (a, b) = (srv.login("alice").await, srv.login("bob").await);
    let url = a
        .ok("get_push_url", json!({"userID": "alice", "roomID": "r"}))
        .await["pushURL"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(url.starts_with("rtmp://127.0.0.1:1935/live/8888_"), "{url}");
    let stream = rtcroom_protocol::push_url::stream_from_url(&url).unwrap();
    let q: std::collections::HashMap<_, _> = url
        .split_once('?')
        .unwrap()
        .1
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .collect();
    srv.svc
        .signer()
        .check_push(stream, &a.token, q["txSecret"], q["txTime"], now_s())
        .unwrap();

    a.ok(
        "add_pusher",
        json!({"roomID": "r", "userName": "A", "userAvatar": "", "pushURL": url}),
    )
    .await;
    let p = b.ok("get_pushers", json!({"roomID": "r"})).await;
    let acc = p["pushers"][0]["accelerateURL"].as_str().unwrap();
    assert!(acc.contains(stream) && acc.contains("txSecret="), "{acc}");
    // No mixer: no mixed play URL (it used to be https on the RTMP port).
    assert_eq!(p["mixedPlayURL"], "");
    // Someone else's push URL is not accepted as yours.
    assert_eq!(
        b.call("add_pusher", json!({"roomID": "r", "pushURL": url}))
            .await["code"],
        1003
    );
}

#[tokio::test]
async fn add_pusher_answers_the_roster_of_its_own_join() {
    let srv = Server::start(config()).await;
    let (a, b) = (srv.login("alice").await, srv.login("bob").await);
    let first = a
        .ok("add_pusher", json!({"roomID": "r", "userName": "A"}))
        .await;
    assert_eq!(first["roomID"], "r");
    assert_eq!(
        first["pushers"],
        json!([{"userID": "alice", "userName": "A", "userAvatar": "", "accelerateURL": ""}])
    );
    let second = b
        .ok("add_pusher", json!({"roomID": "r", "userName": "B"}))
        .await;
    let ids: Vec<&str> = second["pushers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["userID"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["alice", "bob"]);
    // The same members get_pushers lists.
    let listed = b.ok("get_pushers", json!({"roomID": "r"})).await;
    assert_eq!(listed["pushers"], second["pushers"]);
}

#[tokio::test]
async fn join_order_only_when_asked_later_joiners_larger_and_kept_on_a_repeat() {
    let srv = Server::start(config()).await;
    let (a, b, c) = (
        srv.login("alice").await,
        srv.login("bob").await,
        srv.login("carol").await,
    );
    let mut wa = a.ws().await;
    let first = a
        .ok("add_pusher", json!({"roomID": "r", "joinOrder": true}))
        .await;
    let order_a = first["pushers"][0]["joinOrder"].as_u64().unwrap();
    assert!(order_a < 1 << 53, "exact as a JavaScript number");
    let second = b
        .ok("add_pusher", json!({"roomID": "r", "joinOrder": true}))
        .await;
    let order_b = second["pushers"][1]["joinOrder"].as_u64().unwrap();
    assert_eq!(second["pushers"][0]["joinOrder"], order_a);
    assert!(order_b > order_a, "{order_b} after {order_a}");
    let join = wa.expect("pusher_join").await;
    assert_eq!(join["pusher"]["joinOrder"], order_b);
    // A client that does not ask (an original one) gets none.
    let third = c.ok("add_pusher", json!({"roomID": "r"})).await;
    assert!(third["pushers"][2].get("joinOrder").is_none(), "{third}");
    // A repeated add_pusher keeps the member's place.
    let again = b
        .ok("add_pusher", json!({"roomID": "r", "joinOrder": true}))
        .await;
    assert_eq!(again["pushers"][1]["joinOrder"], order_b);
}

#[tokio::test]
async fn add_pusher_leaves_out_a_roster_over_the_response_limit() {
    let mut cfg = config();
    cfg.limits.max_response_bytes = 1024;
    let srv = Server::start(cfg).await;
    let (a, b) = (srv.login("alice").await, srv.login("bob").await);
    a.ok(
        "add_pusher",
        json!({"roomID": "r", "userAvatar": "a".repeat(500)}),
    )
    .await;
    let r = b
        .ok(
            "add_pusher",
            json!({"roomID": "r", "userAvatar": "b".repeat(500)}),
        )
        .await;
    assert_eq!(r["roomID"], "r");
    assert!(r.get("pushers").is_none(), "{r}");
}

#[tokio::test]
async fn add_pusher_relays_the_newcomers_first_offer_in_its_join() {
    let srv = Server::start(config()).await;
    let (a, b, c) = (
        srv.login("alice").await,
        srv.login("bob").await,
        srv.login("carol").await,
    );
    let (mut wa, mut wc) = (a.ws().await, c.ws().await);
    a.ok("add_pusher", json!({"roomID": "r", "joinOrder": true}))
        .await;
    c.ok("add_pusher", json!({"roomID": "r", "joinOrder": true}))
        .await;
    wa.expect("pusher_join").await;
    // Bob enters before his socket is up, his first offer riding along: to
    // the earliest member, alice, inside her pusher_join.
    let entered = b
        .ok(
            "add_pusher",
            json!({"roomID": "r", "joinOrder": true, "offer": "v=0 first"}),
        )
        .await;
    assert_eq!(entered["offeredTo"], "alice", "{entered}");
    let join = wa.expect("pusher_join").await;
    assert_eq!(join["pusher"]["userID"], "bob");
    assert_eq!(join["offer"], "v=0 first", "{join}");
    // Its copy right after, for a client that does not read the field.
    let offer = wa.next().await;
    assert_eq!(offer["type"], "offer", "right after the join: {offer}");
    assert_eq!(offer["from"], "bob");
    assert_eq!(offer["sdp"], "v=0 first");
    // Carol, who answers bob's later offer over the socket, gets neither.
    let join = wc.expect("pusher_join").await;
    assert_eq!(join["pusher"]["userID"], "bob");
    assert!(join.get("offer").is_none(), "{join}");
    wc.expect_none("offer", Duration::from_millis(200)).await;
    // Alice answers at once; bob's first socket asks from seq 0 and gets it.
    wa.send(json!({"type": "answer", "roomID": "r", "to": "bob", "sdp": "v=0 answer"}))
        .await;
    let mut wb = b.ws_with(Some(0)).await;
    assert_eq!(wb.welcome.as_ref().unwrap()["resumed"], true);
    let answer = wb.expect("answer").await;
    assert_eq!(answer["from"], "alice");
    assert_eq!(answer["sdp"], "v=0 answer");
}

#[tokio::test]
async fn a_first_offer_goes_only_to_a_member_expecting_it() {
    let srv = Server::start(config()).await;
    let (a, b, c) = (
        srv.login("alice").await,
        srv.login("bob").await,
        srv.login("carol").await,
    );
    let mut wa = a.ws().await;
    // Alice asked for no join order (an original client): she offers by the ids.
    a.ok("add_pusher", json!({"roomID": "r"})).await;
    let entered = b
        .ok(
            "add_pusher",
            json!({"roomID": "r", "joinOrder": true, "offer": "v=0 first"}),
        )
        .await;
    assert!(entered.get("offeredTo").is_none(), "{entered}");
    wa.expect("pusher_join").await;
    wa.expect_none("offer", Duration::from_millis(300)).await;
    // Too large an offer is refused like a too large relayed frame, before the join.
    let big = "x".repeat(config().limits.max_frame_bytes + 1);
    let refused = c
        .call(
            "add_pusher",
            json!({"roomID": "r", "joinOrder": true, "offer": big}),
        )
        .await;
    assert_eq!(refused["code"], 1005, "{refused}");
    let listed = a.ok("get_pushers", json!({"roomID": "r"})).await;
    assert_eq!(listed["pushers"].as_array().unwrap().len(), 2);
}
