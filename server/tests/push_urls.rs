//! Push and play URLs as an attacker sees them, through the on_publish hook's
//! HTTP contract (the nginx-rtmp round trip is in `rtmp.rs`): a member's
//! play URL is never accepted as a push URL, and a push URL lives no longer
//! than the login session it was minted for.
#![allow(clippy::unwrap_used)]

mod common;
use common::*;
use serde_json::json;

async fn push_url(c: &Client) -> String {
    c.ok("get_push_url", json!({})).await["pushURL"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_members_play_url_is_not_a_push_url() {
    let srv = Server::start(config()).await;
    let (alice, mallory) = (srv.login("alice").await, srv.login("mallory").await);
    let url = push_url(&alice).await;
    alice
        .ok(
            "add_pusher",
            json!({"roomID": "r", "userName": "A", "userAvatar": "", "pushURL": url}),
        )
        .await;
    // Mallory, in no room at all, reads Alice's accelerateURL from the room list.
    let list = mallory.ok("get_room_list", json!({})).await;
    let play = list["rooms"][0]["pushers"][0]["accelerateURL"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(play.contains("txSecret="), "{play}");
    assert_eq!(publish(&srv, &url).await, 200, "alice's own push URL");
    assert_eq!(
        publish(&srv, &play).await,
        403,
        "alice's play URL must not publish onto her stream"
    );
}

#[tokio::test]
async fn a_push_url_ends_with_its_session_and_the_next_login_does_not_revive_it() {
    let srv = Server::start(config()).await;
    let alice = srv.login("alice").await;
    let url = push_url(&alice).await;
    assert_eq!(publish(&srv, &url).await, 200);
    alice.ok("logout", json!({})).await;
    assert_eq!(publish(&srv, &url).await, 403, "after logout");
    let again = srv.login("alice").await;
    assert_eq!(publish(&srv, &url).await, 403, "after the next login");
    assert_eq!(publish(&srv, &push_url(&again).await).await, 200);
    // A newer login replaces the session: the previous session's URL stops.
    let old = push_url(&again).await;
    let _third = srv.login("alice").await;
    assert_eq!(publish(&srv, &old).await, 403, "after a newer login");
}

#[tokio::test]
async fn push_urls_expire_within_a_day() {
    let srv = Server::start(config()).await;
    let alice = srv.login("alice").await;
    let url = push_url(&alice).await;
    let tx_time = url.split("txTime=").nth(1).unwrap();
    let expiry = i64::from_str_radix(tx_time, 16).unwrap();
    let lifetime = expiry - now_s();
    assert!(
        (0..=24 * 3600).contains(&lifetime),
        "push URL valid for {lifetime} s"
    );
}
