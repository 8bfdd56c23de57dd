//! `[turn]`: every login answers `iceServers` with TURN REST credentials
//! minted for that user (the coturn round trip is tests/e2e/turn.test.mjs).
#![allow(clippy::unwrap_used)]

mod common;
use common::*;
use rtcroom_server::config::TurnConfig;

#[tokio::test]
async fn each_login_gets_its_own_turn_credentials() {
    let mut cfg = config();
    cfg.turn = Some(TurnConfig {
        secret: "turn-secret".into(),
        ttl_secs: 600,
        urls: vec!["turn:127.0.0.1:3478?transport=udp".into()],
    });
    let srv = Server::start(cfg).await;
    let v = srv
        .login_raw(&format!(
            "sdkAppID={APP}&accountType=0&userID=alice&userSig={}",
            urlencode(&sig("alice"))
        ))
        .await;
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
    let v = plain
        .login_raw(&format!(
            "sdkAppID={APP}&accountType=0&userID=alice&userSig={}",
            urlencode(&sig("alice"))
        ))
        .await;
    assert_eq!(v["iceServers"], serde_json::json!([]));
}
