//! Heartbeats, socket grace, resume after a dropped socket, session replacement
//! and graceful shutdown — on real sockets with short timeouts.
#![allow(clippy::unwrap_used)]

mod common;
use common::*;
use rtcroom_server::config::Config;
use serde_json::json;
use std::time::{Duration, Instant};

#[tokio::test]
async fn a_silent_member_is_removed_after_the_heartbeat_timeout() {
    let mut cfg = config();
    cfg.heartbeat.timeout_secs = 1;
    let srv = Server::start(cfg).await;
    let (a, b, c) = (
        srv.login("alice").await,
        srv.login("bob").await,
        srv.login("carol").await,
    );
    let mut aw = a.ws().await;
    a.enter("r").await;
    b.enter("r").await; // HTTP only, never beats again
    c.enter("r").await; // HTTP only, keeps beating
    let start = Instant::now();
    let beating = tokio::spawn(async move {
        for _ in 0..12 {
            c.ok(
                "pusher_heartbeat",
                json!({"roomID": "r", "userID": "carol"}),
            )
            .await;
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    });
    let quit = aw.expect("pusher_quit").await;
    let waited = start.elapsed();
    assert_eq!(
        (quit["pusher"]["userID"].as_str(), quit["reason"].as_str()),
        (Some("bob"), Some("timeout"))
    );
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(3),
        "{waited:?}"
    );
    beating.await.unwrap();
    // alice (socket open, no HTTP beats) and carol (beating) are still in.
    let p = a.ok("get_pushers", json!({"roomID": "r"})).await;
    let ids: Vec<&str> = p["pushers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["userID"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["alice", "carol"]);
    assert_eq!(
        srv.svc
            .metrics
            .heartbeat_evictions
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
}

#[tokio::test]
async fn a_closed_socket_that_stays_away_past_the_grace_period_leaves() {
    let srv = Server::start(config()).await;
    let (a, b) = (srv.login("alice").await, srv.login("bob").await);
    let mut aw = a.ws().await;
    let bw = b.ws().await;
    a.enter("r").await;
    b.enter("r").await;
    let t = Instant::now();
    bw.close().await;
    let quit = aw.expect("pusher_quit").await;
    assert_eq!(quit["reason"], "disconnected");
    assert!(
        t.elapsed() >= Duration::from_millis(300),
        "grace respected: {:?}",
        t.elapsed()
    );
}

#[tokio::test]
async fn a_socket_back_within_the_grace_period_resumes_without_loss_or_duplicates() {
    let srv = Server::start(config()).await;
    let (a, b) = (srv.login("alice").await, srv.login("bob").await);
    let mut aw = a.ws().await;
    let mut bw = b.ws().await;
    a.enter("r").await;
    b.enter("r").await;
    aw.expect("pusher_join").await;
    aw.send(json!({"type": "room_text", "roomID": "r", "text": "m0"}))
        .await;
    assert_eq!(bw.expect("room_text").await["text"], "m0");
    let seen = bw.last_seq;
    bw.close().await; // dropped mid-room

    for i in 1..=3 {
        let ack = aw
            .request(
                json!({"type": "room_text", "roomID": "r", "text": format!("m{i}")}),
                i,
            )
            .await;
        assert_eq!(ack["type"], "ack");
    }
    let mut bw = b.ws_with(Some(seen)).await;
    assert_eq!(bw.welcome.as_ref().unwrap()["resumed"], true);
    bw.last_seq = seen; // the replayed frames continue right after what we saw
    let texts: Vec<String> = [bw.next().await, bw.next().await, bw.next().await]
        .iter()
        .map(|f| f["text"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(texts, vec!["m1", "m2", "m3"]);
    bw.expect_none("room_text", Duration::from_millis(500))
        .await;
    // Still a member (came back within the grace period): messages keep flowing.
    aw.send(json!({"type": "room_text", "roomID": "r", "text": "m4"}))
        .await;
    assert_eq!(bw.expect("room_text").await["text"], "m4");
    aw.expect_none("pusher_quit", Duration::from_millis(400))
        .await;
}

#[tokio::test]
async fn resuming_from_too_far_back_asks_the_client_to_refetch() {
    let mut cfg = config();
    cfg.limits.replay_frames = 2;
    let srv = Server::start(cfg).await;
    let (a, b) = (srv.login("alice").await, srv.login("bob").await);
    let mut aw = a.ws().await;
    let bw = b.ws().await;
    a.enter("r").await;
    b.enter("r").await;
    bw.close().await;
    for i in 0..5 {
        aw.request(
            json!({"type": "room_text", "roomID": "r", "text": format!("m{i}")}),
            i,
        )
        .await;
    }
    let bw = b.ws_with(Some(0)).await;
    assert_eq!(bw.welcome.as_ref().unwrap()["resumed"], false);
    assert_eq!(bw.welcome.as_ref().unwrap()["seq"], 5);
}

#[tokio::test]
async fn logging_in_again_ends_the_old_session() {
    let srv = Server::start(config()).await;
    let old = srv.login("alice").await;
    let mut old_ws = old.ws().await;
    let new = srv.login("alice").await;
    let e = old_ws.expect("error").await;
    assert_eq!(e["code"], 1009);
    assert!(
        old_ws.next_within(Duration::from_secs(2)).await.is_none(),
        "old socket closed"
    );
    assert_eq!(old.call("get_room_list", json!({})).await["code"], 7);
    new.ok("get_room_list", json!({})).await;
}

#[tokio::test]
async fn logout_leaves_rooms_and_invalidates_the_token() {
    let srv = Server::start(config()).await;
    let (a, b) = (srv.login("alice").await, srv.login("bob").await);
    let mut aw = a.ws().await;
    a.enter("r").await;
    b.enter("r").await;
    b.ok("logout", json!({})).await;
    assert_eq!(aw.expect("pusher_quit").await["pusher"]["userID"], "bob");
    assert_eq!(b.call("get_room_list", json!({})).await["code"], 7);
}

#[tokio::test]
async fn tokens_expire() {
    let mut cfg = config();
    cfg.token_ttl_secs = 1;
    let srv = Server::start(cfg).await;
    let a = srv.login("alice").await;
    a.ok("get_room_list", json!({})).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let v = a.call("get_room_list", json!({})).await;
    assert_eq!(v["code"], 1004, "expired token refused: {v}");
}

#[tokio::test]
async fn shutdown_closes_sockets_and_returns() {
    let srv = Server::start(config()).await;
    let a = srv.login("alice").await;
    let mut aw = a.ws().await;
    srv.shutdown.cancel();
    assert!(
        aw.next_within(Duration::from_secs(3)).await.is_none(),
        "socket closed by shutdown"
    );
    tokio::time::timeout(Duration::from_secs(5), srv.task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(
        reqwest::get(format!("{}/healthz", srv.base)).await.is_err(),
        "no longer listening"
    );
}

#[tokio::test]
async fn debug_mode_drops_a_socket_server_side_and_the_client_resumes() {
    let srv = Server::start(Config {
        debug: true,
        ..config()
    })
    .await;
    let (a, b) = (srv.login("alice").await, srv.login("bob").await);
    let mut aw = a.ws().await;
    let mut bw = b.ws().await;
    a.enter("r").await;
    b.enter("r").await;
    aw.expect("pusher_join").await;
    let drop_url = format!(
        "{}/weapp/utils/debug_drop_socket?userID=bob&sdkAppID={APP}",
        srv.base
    );
    let v: serde_json::Value = reqwest::Client::new()
        .post(&drop_url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["code"], 0, "{v}");
    assert!(
        bw.next_within(Duration::from_secs(2)).await.is_none(),
        "bob's socket closed by the server"
    );
    let seen = bw.last_seq;
    aw.request(
        json!({"type": "room_text", "roomID": "r", "text": "during the drop"}),
        1,
    )
    .await;
    let mut bw = b.ws_with(Some(seen)).await;
    assert_eq!(bw.welcome.as_ref().unwrap()["resumed"], true);
    bw.last_seq = seen;
    assert_eq!(bw.expect("room_text").await["text"], "during the drop");
    aw.expect_none("pusher_quit", Duration::from_millis(500))
        .await;
    // Not in debug mode: no such endpoint.
    let plain = Server::start(config()).await;
    let r = reqwest::Client::new()
        .post(format!(
            "{}/weapp/utils/debug_drop_socket?userID=bob",
            plain.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}
