//! `limits.session_idle_secs`: a session with no socket and no HTTP call for
//! that long is logged out (rooms left, members told), while a session whose
//! socket stays connected is kept — on real sockets, with a 1 s idle time.
#![allow(clippy::unwrap_used)]

mod common;
use common::*;
use serde_json::json;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Polls `cond` every 50 ms until it holds (fails after `within`).
async fn wait_until(within: Duration, what: &str, cond: impl Fn() -> bool) {
    let t = Instant::now();
    while !cond() {
        assert!(t.elapsed() < within, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn socketless_sessions_are_logged_out_after_the_idle_time_connected_ones_stay() {
    let mut cfg = config();
    cfg.limits.session_idle_secs = 1;
    let srv = Server::start(cfg).await;
    let (a, b, c) = (
        srv.login("alice").await,
        srv.login("bob").await,
        srv.login("carol").await,
    );
    let mut aw = a.ws().await;
    let bw = b.ws().await;
    a.enter("r").await;
    b.enter("r").await;
    c.enter("r").await; // HTTP only: no socket, never calls again
    let t = Instant::now();
    bw.close().await; // bob's socket drops and never comes back

    // carol is logged out for idleness: her room is told, long before the
    // 20 s heartbeat timeout would have removed her.
    let mut quits = Vec::new();
    while quits.len() < 2 {
        let q = aw.expect("pusher_quit").await;
        quits.push((
            q["pusher"]["userID"].as_str().unwrap().to_owned(),
            q["reason"].as_str().unwrap().to_owned(),
        ));
    }
    quits.sort();
    assert_eq!(
        quits,
        [
            ("bob".to_owned(), "disconnected".to_owned()),
            ("carol".to_owned(), "timeout".to_owned())
        ]
    );
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());

    // bob's and carol's sessions go; alice's (socket open, no HTTP call
    // since she entered) stays.
    wait_until(Duration::from_secs(10), "two idle sessions", || {
        srv.svc.metrics.idle_sessions.load(Ordering::Relaxed) == 2
    })
    .await;
    assert_eq!(srv.svc.hub.session_count(), 1);
    tokio::time::sleep(Duration::from_millis(1500)).await; // past another idle period
    assert_eq!(srv.svc.metrics.idle_sessions.load(Ordering::Relaxed), 2);

    for gone in [&b, &c] {
        let v = gone.call("get_pushers", json!({"roomID": "r"})).await;
        assert_eq!(v["code"], 7, "{} after reaping: {v}", gone.user);
    }
    let p = a.ok("get_pushers", json!({"roomID": "r"})).await;
    let ids: Vec<&str> = p["pushers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["userID"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["alice"]);
    aw.send(json!({"type": "ping"})).await;
    assert_eq!(aw.expect("pong").await["type"], "pong");
}

#[tokio::test]
async fn an_idle_time_within_the_socket_grace_is_refused() {
    let mut cfg = config();
    cfg.heartbeat.socket_grace_ms = 10_000;
    cfg.limits.session_idle_secs = 5;
    assert!(cfg.validate().is_err());
    cfg.limits.session_idle_secs = 0; // never
    assert!(cfg.validate().is_ok());
}
