//! Caps on every free-text field a member can store on the server, and on
//! the answers that carry them: a 1.9 MB `userName` used to ride on every
//! room message and every room list (76 MB for one `get_room_list`).
#![allow(clippy::unwrap_used)]

mod common;
use common::*;
use serde_json::json;

#[tokio::test]
async fn oversized_names_avatars_and_push_urls_get_their_own_codes() {
    let srv = Server::start(config()).await;
    let alice = srv.login("alice").await;
    let big = "n".repeat(1_900_000);
    let enter = |extra: serde_json::Value| {
        let mut body =
            json!({"roomID": "r", "userName": "A", "userAvatar": "a.png", "pushURL": ""});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    let r = alice
        .call("add_pusher", enter(json!({"userName": big})))
        .await;
    assert_eq!(
        r["code"],
        1013,
        "{}",
        &r.to_string()[..200.min(r.to_string().len())]
    );
    let r = alice
        .call(
            "add_pusher",
            enter(json!({"userAvatar": "a".repeat(10_000)})),
        )
        .await;
    assert_eq!(r["code"], 1014, "{r}");
    let stream_url = alice.ok("get_push_url", json!({})).await["pushURL"]
        .as_str()
        .unwrap()
        .to_owned();
    let long_url = format!("{stream_url}&pad={}", "p".repeat(10_000));
    let r = alice
        .call("add_pusher", enter(json!({"pushURL": long_url})))
        .await;
    assert_eq!(r["code"], 1015, "{r}");
    let r = alice
        .call(
            "create_room",
            json!({"roomID": "q", "roomInfo": "i".repeat(2000)}),
        )
        .await;
    assert_eq!(r["code"], 10, "{r}");
    // At the limits, everything is accepted.
    alice
        .ok(
            "add_pusher",
            enter(json!({"userName": "n".repeat(256), "userAvatar": "a".repeat(1024)})),
        )
        .await;
    // Nothing was stored by the refused calls: one member, with the capped name.
    let p = alice.ok("get_pushers", json!({"roomID": "r"})).await;
    assert_eq!(p["pushers"][0]["userName"].as_str().unwrap().len(), 256);
}

#[tokio::test]
async fn room_lists_are_cut_to_the_response_limit_and_page_on() {
    let mut cfg = config();
    cfg.limits.max_response_bytes = 4096;
    let srv = Server::start(cfg).await;
    let mut users = Vec::new();
    for i in 0..10 {
        let u = srv.login(&format!("u{i}")).await;
        u.ok(
            "add_pusher",
            json!({"roomID": format!("r{i}"), "userName": "n".repeat(200), "userAvatar": "a".repeat(500), "roomInfo": "i".repeat(300)}),
        )
        .await;
        users.push(u);
    }
    let mut seen = 0;
    let mut pages = 0;
    while seen < 10 {
        let url = format!("{}/get_room_list?{}", users[0].base, users[0].auth());
        let text = users[0]
            .http
            .post(url)
            .body(json!({"index": seen, "cnt": 100}).to_string())
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(text.len() <= 4096, "answer of {} bytes", text.len());
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            (v["code"].as_i64(), v["total"].as_u64()),
            (Some(0), Some(10))
        );
        let n = v["rooms"].as_array().unwrap().len();
        assert!(n > 0, "a page makes progress");
        seen += n;
        pages += 1;
    }
    assert!(pages > 1, "10 rooms of ~1.2 KB do not fit one 4 KB page");
}
