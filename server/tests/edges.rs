//! The smaller findings, each on real sockets: bursts of bad or binary
//! frames, empty login parameters, unknown room kinds and bad `lastSeq` on
//! the WebSocket, the static directory's dotfiles and symlinks, and an
//! explicit `resume_gap` when a resume falls outside the replay window.
#![allow(clippy::unwrap_used)]

mod common;
use common::*;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

/// Error codes of the next `n` frames.
async fn error_codes(ws: &mut Ws, n: usize) -> BTreeMap<i64, usize> {
    let mut codes = BTreeMap::new();
    for _ in 0..n {
        let f = ws.next().await;
        assert_eq!(f["type"], "error", "{f}");
        *codes.entry(f["code"].as_i64().unwrap()).or_default() += 1;
    }
    codes
}

async fn still_answers(ws: &mut Ws) {
    // Let the rate limit (50/s) refill a little first.
    tokio::time::sleep(Duration::from_millis(300)).await;
    ws.send(json!({"type": "ping"})).await;
    let f = tokio::time::timeout(Duration::from_secs(5), ws.expect("pong"))
        .await
        .expect("the connection should still answer");
    assert_eq!(f["type"], "pong");
}

#[tokio::test]
async fn a_reading_client_survives_a_burst_of_bad_frames() {
    // A short queue, so answers outrunning the writer would overflow it.
    let mut cfg = config();
    cfg.limits.send_queue = 32;
    cfg.limits.replay_frames = 16;
    let srv = Server::start(cfg).await;
    let alice = srv.login("alice").await;
    let mut ws = alice.ws().await;
    for _ in 0..1000 {
        ws.send_text("{".into()).await;
    }
    let codes = error_codes(&mut ws, 1000).await;
    assert_eq!(codes.values().sum::<usize>(), 1000, "{codes:?}");
    assert!(codes[&1001] >= 100 && codes[&1006] > 0, "{codes:?}");
    still_answers(&mut ws).await;
}

#[tokio::test]
async fn binary_frames_are_rate_limited_like_text() {
    let srv = Server::start(config()).await;
    let alice = srv.login("alice").await;
    let mut ws = alice.ws().await;
    for _ in 0..1000 {
        ws.stream
            .send(Message::Binary(vec![0u8; 16].into()))
            .await
            .unwrap();
    }
    let codes = error_codes(&mut ws, 1000).await;
    // The burst allowance (100) is answered 1002, the rest 1006.
    assert!(codes[&1002] <= 150 && codes[&1006] >= 850, "{codes:?}");
    still_answers(&mut ws).await;
}

#[tokio::test]
async fn an_empty_user_sig_is_a_missing_parameter() {
    let srv = Server::start(config()).await;
    let r = srv
        .login_raw(&format!(
            "sdkAppID={APP}&accountType=0&userID=alice&userSig="
        ))
        .await;
    assert_eq!(r["code"], 4, "{r}");
    let r = srv
        .login_raw(&format!("sdkAppID={APP}&accountType=0&userID=&userSig=x"))
        .await;
    assert_eq!(r["code"], 4, "{r}");
}

/// Opens `path` as a WebSocket and returns its first frame.
async fn first_frame(srv: &Server, path: &str) -> Value {
    let url = format!("ws://{}{path}", srv.addr);
    let (mut ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .unwrap_or_else(|e| panic!("{path}: handshake failed: {e}"));
    loop {
        match ws.next().await.unwrap().unwrap() {
            Message::Text(t) => return serde_json::from_str(t.as_str()).unwrap(),
            _ => continue,
        }
    }
}

#[tokio::test]
async fn the_websocket_refuses_unknown_room_kinds_and_bad_last_seq_with_error_frames() {
    let srv = Server::start(config()).await;
    let alice = srv.login("alice").await;
    let f = first_frame(&srv, &format!("/weapp/nope/ws?{}", alice.auth())).await;
    assert_eq!(
        (f["type"].as_str(), f["code"].as_i64()),
        (Some("error"), Some(1002)),
        "{f}"
    );
    let f = first_frame(
        &srv,
        &format!("/weapp/rtc_room/ws?{}&lastSeq=abc", alice.auth()),
    )
    .await;
    assert_eq!(
        (f["type"].as_str(), f["code"].as_i64()),
        (Some("error"), Some(1003)),
        "{f}"
    );
    let f = first_frame(
        &srv,
        &format!("/weapp/rtc_room/ws?{}&lastSeq=-1", alice.auth()),
    )
    .await;
    assert_eq!(f["code"], 1003, "{f}");
    // The known kinds still work.
    for kind in ["rtc_room", "multi_room", "double_room"] {
        let f = first_frame(&srv, &format!("/weapp/{kind}/ws?{}", alice.auth())).await;
        assert_eq!(f["type"], "welcome", "{kind}: {f}");
    }
}

#[tokio::test]
async fn the_static_directory_serves_no_dotfiles_and_no_symlinks_out_of_it() {
    let base = std::env::temp_dir().join(format!("rtcroom-static-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let root = base.join("www");
    std::fs::create_dir_all(root.join("sub")).unwrap();
    std::fs::write(root.join("index.html"), "<p>demo</p>").unwrap();
    std::fs::write(root.join("sub/page.html"), "page").unwrap();
    std::fs::write(root.join(".env"), "SECRET=1").unwrap();
    std::fs::create_dir_all(root.join(".git")).unwrap();
    std::fs::write(root.join(".git/config"), "secret").unwrap();
    std::fs::write(base.join("outside.txt"), "outside").unwrap();
    std::os::unix::fs::symlink(base.join("outside.txt"), root.join("link.txt")).unwrap();
    std::os::unix::fs::symlink(&base, root.join("up")).unwrap();
    std::os::unix::fs::symlink(root.join("index.html"), root.join("inside.html")).unwrap();
    let mut cfg = config();
    cfg.static_dir = Some(root.clone());
    let srv = Server::start(cfg).await;
    let get = |path: &'static str| {
        let url = format!("{}{path}", srv.base);
        async move {
            let r = reqwest::get(url).await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    assert_eq!(get("/").await.0, 200);
    assert_eq!(get("/sub/page.html").await, (200, "page".into()));
    assert_eq!(
        get("/inside.html").await.0,
        200,
        "a symlink within the directory is fine"
    );
    for path in [
        "/.env",
        "/%2eenv",
        "/.git/config",
        "/link.txt",
        "/up/outside.txt",
        "/sub/../.env",
    ] {
        let (status, body) = get(path).await;
        assert_eq!(status, 404, "{path}: {body}");
        assert!(
            !body.contains("SECRET") && !body.contains("outside"),
            "{path}: {body}"
        );
    }
    let _ = std::fs::remove_dir_all(&base);
}

#[tokio::test]
async fn a_resume_past_the_replay_window_is_told_how_many_frames_it_lost() {
    let mut cfg = config();
    cfg.limits.replay_frames = 4;
    let srv = Server::start(cfg).await;
    let (a, b) = (srv.login("alice").await, srv.login("bob").await);
    let mut aw = a.ws().await;
    let bw = b.ws().await;
    a.enter("r").await;
    b.enter("r").await;
    aw.expect("pusher_join").await;
    let seen = bw.last_seq;
    bw.close().await;
    for i in 0..10 {
        let ack = aw
            .request(
                json!({"type": "room_text", "roomID": "r", "text": format!("m{i}")}),
                i,
            )
            .await;
        assert_eq!(ack["type"], "ack");
    }
    // Within the window: resumed, nothing said about a gap.
    let bw = b.ws_with(Some(bw_last(&srv, &b).await - 2)).await;
    assert_eq!(bw.welcome.as_ref().unwrap()["resumed"], true);
    drop(bw);
    // Past it: resumed false, then resume_gap with the count.
    let mut bw = b.ws_with(Some(seen)).await;
    let welcome = bw.welcome.clone().unwrap();
    assert_eq!(welcome["resumed"], false);
    let gap = tokio::time::timeout(Duration::from_secs(2), bw.next())
        .await
        .expect("a resume_gap frame after welcome");
    assert_eq!(gap["type"], "resume_gap", "{gap}");
    assert_eq!(gap["code"], 1019);
    assert_eq!(gap["lastSeq"].as_u64(), Some(seen));
    let last = welcome["seq"].as_u64().unwrap();
    assert_eq!(gap["missed"].as_u64(), Some(last - seen), "{gap}");
    assert!(last - seen >= 10, "{gap}");
}

/// The session's last seq, read from a throwaway welcome.
async fn bw_last(_srv: &Server, c: &Client) -> u64 {
    let ws = c.ws().await;
    let n = ws.last_seq;
    ws.close().await;
    n
}
