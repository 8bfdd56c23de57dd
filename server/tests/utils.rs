//! The original's remaining `utils/` helpers over real HTTP: the test-URL
//! helpers (debug mode only, the original's field names) and `report`
//! (accepted, counted in `/metrics`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use serde_json::Value;

async fn get(url: String) -> (u16, Value) {
    let r = reqwest::get(url).await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test]
async fn test_urls_exist_in_debug_mode_only() {
    let mut c = config();
    c.debug = true;
    let srv = Server::start(c).await;
    let (status, v) = get(format!("{}/weapp/utils/get_test_pushurl", srv.base)).await;
    assert_eq!((status, v["code"].as_i64()), (200, Some(0)), "{v}");
    let push = v["url_push"].as_str().unwrap();
    assert!(
        push.starts_with("rtmp://") && push.contains("txSecret="),
        "{push}"
    );
    let stream = push.split('?').next().unwrap().rsplit('/').next().unwrap();
    // nginx-rtmp's on_publish hook accepts it, as it would a member's push URL.
    assert_eq!(publish(&srv, push).await, 200, "on_publish refused {push}");
    assert_eq!(
        v["url_play_rtmp"].as_str().unwrap(),
        format!("rtmp://127.0.0.1:1935/live/{stream}")
    );
    assert!(v["url_play_acc"].as_str().unwrap().contains(stream));
    assert_eq!(
        (v["url_play_flv"].as_str(), v["url_play_hls"].as_str()),
        (Some(""), Some(""))
    );
    let (_, acc) = get(format!("{}/weapp/utils/get_test_rtmpaccurl", srv.base)).await;
    assert_eq!(acc["code"], 0);
    let acc = acc["url_rtmpacc"].as_str().unwrap();
    assert!(
        acc.starts_with("rtmp://") && acc.contains("txSecret="),
        "{acc}"
    );
    srv.shutdown.cancel();

    let srv = Server::start(config()).await;
    for cmd in ["get_test_pushurl", "get_test_rtmpaccurl"] {
        let (status, v) = get(format!("{}/weapp/utils/{cmd}", srv.base)).await;
        assert_eq!(
            (status, v["code"].as_i64()),
            (404, Some(1010)),
            "{cmd}: {v}"
        );
    }
    srv.shutdown.cancel();
}

#[tokio::test]
async fn reports_are_accepted_and_counted() {
    let srv = Server::start(config()).await;
    let http = reqwest::Client::new();
    let url = format!("{}/weapp/utils/report", srv.base);
    let body = r#"{"reportID":1,"data":{"str_roomid":"r","int64_tc_add_pusher":42}}"#;
    for _ in 0..2 {
        let v = post_json(&http, &url, body).await;
        assert_eq!(v["code"], 0, "{v}");
    }
    let v = post_json(&http, &url, "{").await;
    assert_eq!(v["code"], 1001, "broken JSON: {v}");
    let metrics = reqwest::get(format!("{}/metrics", srv.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics
            .lines()
            .any(|l| l == "rtcroom_client_reports_total 2"),
        "{metrics}"
    );
    srv.shutdown.cancel();
}

#[tokio::test]
async fn the_test_mini_program_member_is_debug_only_and_needs_the_bridge() {
    let add = |base: String| async move {
        let r = reqwest::Client::new()
            .post(format!("{base}/weapp/utils/debug_add_test_member"))
            .body(r#"{"roomID":"r1"}"#)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json::<Value>().await.unwrap())
    };
    let srv = Server::start(config()).await;
    let (status, v) = add(srv.base.clone()).await;
    assert_eq!((status, v["code"].as_i64()), (404, Some(1010)), "{v}");
    srv.shutdown.cancel();

    // Debug mode without Janus and ffmpeg: refused with its own code.
    let mut c = config();
    c.debug = true;
    let srv = Server::start(c).await;
    let (status, v) = add(srv.base.clone()).await;
    assert_eq!((status, v["code"].as_i64()), (200, Some(1035)), "{v}");
    srv.shutdown.cancel();
}
