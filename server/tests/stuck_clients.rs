//! Clients that stop reading, on real sockets: a raw TCP client completes the
//! WebSocket handshake and then never reads again (its receive buffer is
//! made tiny so the server's writes back up quickly). The server must drop
//! it within a bounded time, close its TCP connection, and run the normal
//! cleanup (the member leaves its rooms after the grace period), instead of
//! holding its queue and its room seat forever.
#![allow(clippy::unwrap_used)]

mod common;
use common::*;
use rtcroom_server::config::Config;
use serde_json::json;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

fn stuck_config() -> Config {
    let mut c = config();
    c.limits.messages_per_second = 1_000_000;
    c.limits.messages_burst = 1_000_000;
    c.limits.write_timeout_ms = 500;
    // Long enough that only the socket path (not heartbeats) can remove the member.
    c.heartbeat.timeout_secs = 120;
    c.heartbeat.ws_ping_ms = 1000;
    c
}

/// Opens `user`'s WebSocket by hand and returns the TCP stream right after
/// the 101 answer, with a receive buffer of a few KB that nobody reads.
async fn stuck_socket(srv: &Server, c: &Client) -> TcpStream {
    let sock = TcpSocket::new_v4().unwrap();
    sock.set_recv_buffer_size(4096).unwrap();
    let mut tcp = sock.connect(srv.addr).await.unwrap();
    let req = format!(
        "GET /weapp/rtc_room/ws?{} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        c.auth(),
        srv.addr
    );
    tcp.write_all(req.as_bytes()).await.unwrap();
    // Read the handshake answer byte by byte so nothing after it is consumed.
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut b = [0u8; 1];
        tcp.read_exact(&mut b).await.unwrap();
        head.push(b[0]);
    }
    assert!(
        head.starts_with(b"HTTP/1.1 101"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    tcp
}

/// The next `pusher_quit`, failing after 15 s (pings keep `expect` waiting forever).
async fn expect_quit(ws: &mut Ws) -> serde_json::Value {
    tokio::time::timeout(Duration::from_secs(15), ws.expect("pusher_quit"))
        .await
        .expect("no pusher_quit within 15 s: the stuck member is still in the room")
}

/// Reads until EOF or error; true if the peer closed within `limit`.
async fn closes_within(tcp: &mut TcpStream, limit: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match tokio::time::timeout_at(deadline, tcp.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_dropped_closed_and_leaves_its_rooms() {
    let srv = Server::start(stuck_config()).await;
    let (alice, bob) = (srv.login("alice").await, srv.login("bob").await);
    let mut aw = alice.ws().await;
    alice.enter("r").await;
    bob.enter("r").await;
    aw.expect("pusher_join").await;
    let mut stuck = stuck_socket(&srv, &bob).await;
    // The 101 goes out before the upgraded socket is registered: wait for it.
    let registered = tokio::time::Instant::now() + Duration::from_secs(2);
    while srv.svc.hub.connections.load(Ordering::Relaxed) < 2
        && tokio::time::Instant::now() < registered
    {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(srv.svc.hub.connections.load(Ordering::Relaxed), 2);

    // Alice talks; Bob's socket backs up (tiny receive buffer, never read).
    let text = "x".repeat(4000);
    let sent = 3000;
    let t = Instant::now();
    for _ in 0..sent {
        aw.send_text(json!({"type": "room_text", "roomID": "r", "text": text}).to_string())
            .await;
    }
    let quit = expect_quit(&mut aw).await;
    let dropped_in = t.elapsed();
    assert_eq!(
        (quit["pusher"]["userID"].as_str(), quit["reason"].as_str()),
        (Some("bob"), Some("disconnected")),
        "{quit}"
    );
    assert!(dropped_in < Duration::from_secs(10), "took {dropped_in:?}");
    // Only Alice's connection is left, and Bob's TCP connection was closed.
    assert_eq!(srv.svc.hub.connections.load(Ordering::Relaxed), 1);
    assert!(
        closes_within(&mut stuck, Duration::from_secs(5)).await,
        "the server should close a dropped client's TCP connection"
    );
    let p = alice.ok("get_pushers", json!({"roomID": "r"})).await;
    assert_eq!(p["pushers"].as_array().unwrap().len(), 1, "{p}");
    eprintln!("stuck client: {sent} x 4 KB sent, left the room {dropped_in:?} after the first one");
}

/// The same when the queue never fills: a member that stops reading while a
/// few big frames are in flight is closed by the write timeout, instead of
/// its reader (idle after 3 pings) waiting on a writer blocked forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_blocked_mid_flush_ends_the_connection() {
    let mut cfg = stuck_config();
    cfg.limits.max_message_bytes = 60_000;
    let srv = Server::start(cfg).await;
    let (alice, bob) = (srv.login("alice").await, srv.login("bob").await);
    let mut aw = alice.ws().await;
    alice.enter("r").await;
    bob.enter("r").await;
    aw.expect("pusher_join").await;
    let mut stuck = stuck_socket(&srv, &bob).await;
    // Far fewer frames than the queue holds (200 of 257), enough to fill the
    // socket buffers (12 MB) and block the writer mid-flush.
    let text = "y".repeat(60_000);
    for _ in 0..200 {
        aw.send_text(json!({"type": "room_text", "roomID": "r", "text": text}).to_string())
            .await;
    }
    let t = Instant::now();
    let quit = expect_quit(&mut aw).await;
    assert_eq!(quit["pusher"]["userID"], "bob");
    let took = t.elapsed();
    assert!(took < Duration::from_secs(10), "took {took:?}");
    assert!(closes_within(&mut stuck, Duration::from_secs(5)).await);
    assert_eq!(srv.svc.hub.connections.load(Ordering::Relaxed), 1);
    eprintln!("blocked-writer client left the room after {took:?}");
}

/// Reconnecting and getting stuck again, over and over, leaves nothing behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_stuck_reconnects_leave_no_connection_behind() {
    let srv = Server::start(stuck_config()).await;
    let (alice, bob) = (srv.login("alice").await, srv.login("bob").await);
    let mut aw = alice.ws().await;
    alice.enter("r").await;
    let text = "z".repeat(4000);
    let mut sockets = Vec::new();
    for round in 0..3 {
        bob.enter("r").await;
        sockets.push(stuck_socket(&srv, &bob).await);
        for _ in 0..3000 {
            aw.send_text(json!({"type": "room_text", "roomID": "r", "text": text}).to_string())
                .await;
        }
        let quit = expect_quit(&mut aw).await;
        assert_eq!(quit["pusher"]["userID"], "bob", "round {round}");
        assert_eq!(
            srv.svc.hub.connections.load(Ordering::Relaxed),
            1,
            "round {round}"
        );
    }
}
