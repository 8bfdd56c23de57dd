//! `[turn]`: every login answers `iceServers` with TURN REST credentials
//! minted for that user, and every socket's `welcome` (a resume included)
//! mints them again (the coturn round trip is tests/e2e/turn.test.mjs).
#![allow(clippy::unwrap_used)]

mod common;
use common::*;
use rtcroom_server::config::{Config, TurnConfig};

/// The test config with `[turn]` (secret "turn-secret", 600 s).
fn turn_config() -> Config {
    let mut cfg = config();
    cfg.turn = Some(TurnConfig {
        secret: "turn-secret".into(),
        ttl_secs: 600,
        urls: vec!["turn:127.0.0.1:3478?transport=udp".into()],
    });
    cfg
}

/// alice's raw `login` answer.
async fn login_alice(srv: &Server) -> serde_json::Value {
    srv.login_raw(&format!(
        "sdkAppID={APP}&accountType=0&userID=alice&userSig={}",
        urlencode(&sig("alice"))
    ))
    .await
}

#[tokio::test]
async fn each_login_gets_its_own_turn_credentials() {
    let srv = Server::start(turn_config()).await;
    let v = login_alice(&srv).await;
    assert_eq!(v["code"], 0, "{v}");
    let turn = &v["iceServers"][0];
    assert_eq!(turn["urls"][0], "turn:127.0.0.1:3478?transport=udp");
    let username = turn["username"].as_str().unwrap();
    let (expiry, user) = username.split_once(':').unwrap();
    assert_eq!(user, "alice");
    let left = expiry.parse::<i64>().unwrap() - now_s();
    assert!((590..=601).contains(&left), "{left}");
    assert_eq!(
        turn["credential"].as_str().unwrap(),
        rtcroom_server::turn::password("turn-secret", username)
    );
    // Without [turn], no ICE servers at all (never a public STUN server).
    let plain = Server::start(config()).await;
    let v = login_alice(&plain).await;
    assert_eq!(v["iceServers"], serde_json::json!([]));
}

/// The expiry (unix seconds) of a TURN entry, checked against the secret.
fn turn_expiry(turn: &serde_json::Value, user: &str) -> i64 {
    let username = turn["username"].as_str().unwrap();
    let (expiry, who) = username.split_once(':').unwrap();
    assert_eq!(who, user);
    assert_eq!(
        turn["credential"].as_str().unwrap(),
        rtcroom_server::turn::password("turn-secret", username)
    );
    expiry.parse().unwrap()
}

#[tokio::test]
async fn each_welcome_carries_fresh_turn_credentials_a_resume_included() {
    let srv = Server::start(turn_config()).await;
    let v = login_alice(&srv).await;
    let at_login = turn_expiry(&v["iceServers"][0], "alice");
    let alice = srv.login("alice").await;
    let ws = alice.ws().await;
    let welcome = ws.welcome.clone().unwrap();
    let first = turn_expiry(&welcome["iceServers"][0], "alice");
    assert!((590..=601).contains(&(first - now_s())), "{welcome}");
    let seq = ws.last_seq;
    ws.close().await;
    // Later, a resume: its welcome's credentials run a full TTL from now.
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    let ws = alice.ws_with(Some(seq)).await;
    let welcome = ws.welcome.clone().unwrap();
    assert_eq!(welcome["resumed"], true, "{welcome}");
    let resumed = turn_expiry(&welcome["iceServers"][0], "alice");
    assert!(resumed > first && resumed > at_login, "{first} {resumed}");
    assert!((590..=601).contains(&(resumed - now_s())));

    // Without [turn], the welcome says nothing of ICE servers.
    let plain = Server::start(config()).await;
    let bob = plain.login("bob").await;
    let ws = bob.ws().await;
    let welcome = ws.welcome.clone().unwrap();
    assert!(welcome.get("iceServers").is_none(), "{welcome}");
}
