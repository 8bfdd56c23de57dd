//! HTTP timeouts against slow and silent clients, on real sockets: headers
//! that never finish, a kept-alive connection that goes quiet, a body that
//! stalls, and a half-sent request at shutdown. Each used to hold its
//! connection (and a file descriptor) open forever.
#![allow(clippy::unwrap_used)]

mod common;
use common::*;
use rtcroom_server::config::Config;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn timeouts() -> Config {
    let mut c = config();
    c.http.header_timeout_ms = 500;
    c.http.body_timeout_ms = 500;
    c.http.shutdown_grace_ms = 300;
    c
}

/// Reads (and discards) until the server closes; the time that took, or None after `limit`.
async fn closed_after(tcp: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let t = Instant::now();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout_at(
            tokio::time::Instant::from_std(t + limit),
            tcp.read(&mut buf),
        )
        .await
        {
            Ok(Ok(0)) | Ok(Err(_)) => return Some(t.elapsed()),
            Ok(Ok(_)) => continue,
            Err(_) => return None,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_that_never_finish_are_cut_off_and_healthz_stays_up() {
    let srv = Server::start(timeouts()).await;
    let mut slow = Vec::new();
    for _ in 0..100 {
        let mut tcp = TcpStream::connect(srv.addr).await.unwrap();
        tcp.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-a: ")
            .await
            .unwrap();
        slow.push(tcp);
    }
    let r = reqwest::get(format!("{}/healthz", srv.base)).await.unwrap();
    assert_eq!(r.status(), 200);
    let mut worst = Duration::ZERO;
    for tcp in &mut slow {
        let took = closed_after(tcp, Duration::from_secs(5))
            .await
            .expect("a connection whose headers never finish must be closed");
        worst = worst.max(took);
    }
    eprintln!("100 slowloris connections all closed, the last after {worst:?}");
}

#[tokio::test]
async fn a_kept_alive_connection_that_goes_quiet_is_closed() {
    let srv = Server::start(timeouts()).await;
    let mut tcp = TcpStream::connect(srv.addr).await.unwrap();
    tcp.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 512];
    let n = tcp.read(&mut buf).await.unwrap();
    assert!(
        buf[..n].starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&buf[..n])
    );
    let took = closed_after(&mut tcp, Duration::from_secs(5))
        .await
        .expect("an idle keep-alive connection must be closed");
    eprintln!("idle keep-alive closed after {took:?}");
}

#[tokio::test]
async fn a_body_that_stalls_is_cut_off() {
    let srv = Server::start(timeouts()).await;
    let alice = srv.login("alice").await;
    let mut tcp = TcpStream::connect(srv.addr).await.unwrap();
    let head = format!(
        "POST /weapp/rtc_room/get_room_list?{} HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{{\"index\":",
        alice.auth()
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    let took = closed_after(&mut tcp, Duration::from_secs(5))
        .await
        .expect("a request whose body stalls must be answered and closed");
    eprintln!("stalled body closed after {took:?}");
}

#[tokio::test]
async fn a_half_sent_request_does_not_keep_the_server_alive_after_shutdown() {
    let mut cfg = timeouts();
    cfg.http.header_timeout_ms = 60_000; // only the shutdown deadline can end it
    let srv = Server::start(cfg).await;
    let mut tcp = TcpStream::connect(srv.addr).await.unwrap();
    tcp.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let t = Instant::now();
    srv.shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(3), srv.task)
        .await
        .expect("serve() must return within the shutdown grace")
        .unwrap()
        .unwrap();
    eprintln!(
        "server stopped {:?} after shutdown with a half-sent request",
        t.elapsed()
    );
    drop(tcp);
}
