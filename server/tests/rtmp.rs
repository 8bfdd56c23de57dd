//! The mini-program media path for real: nginx-rtmp (started by
//! `scripts/rtmp-server`) asks RoomService's on_publish hook before accepting
//! a push; `ffmpeg` stands in for `<live-pusher>`, `ffprobe` for
//! `<live-player>`. Everything runs on 127.0.0.1. Missing nginx, its rtmp
//! module or ffmpeg fails the test (run `scripts/setup`), never skips it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::*;
use rtcroom_protocol::push_url::{session_push_key, stream_from_url, tx_secret, tx_time_hex};
use rtcroom_protocol::UserId;
use rtcroom_server::service::RoomService;
use serde_json::json;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

const SETUP_HINT: &str = "run scripts/setup (installs nginx, libnginx-mod-rtmp and ffmpeg)";

/// nginx-rtmp started through `scripts/rtmp-server`; stopped (SIGTERM, then
/// SIGKILL) and its run dir removed on drop, panics included.
struct RtmpServer {
    child: Child,
    run_dir: PathBuf,
    port: u16,
}

impl RtmpServer {
    async fn start(port: u16, roomservice: &str) -> Self {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/rtmp-server");
        let run_dir =
            std::env::temp_dir().join(format!("rtcroom-rtmp-test-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&run_dir);
        std::fs::create_dir_all(&run_dir).unwrap();
        let log = std::fs::File::create(run_dir.join("script.log")).unwrap();
        let child = Command::new(&script)
            .env("RTMP_PORT", port.to_string())
            .env("ROOMSERVICE_URL", roomservice)
            .env("RTMP_RUN_DIR", &run_dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
        let mut server = Self {
            child,
            run_dir,
            port,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = server.child.try_wait().unwrap() {
                panic!(
                    "scripts/rtmp-server exited ({status}) before listening:\n{}\n{}\nIf nginx or its rtmp module is missing, {SETUP_HINT}.",
                    server.read("script.log"),
                    server.read("error.log"),
                );
            }
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return server;
            }
            assert!(
                Instant::now() < deadline,
                "nginx-rtmp not listening on {port} after 10 s:\n{}",
                server.read("error.log")
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn read(&self, file: &str) -> String {
        std::fs::read_to_string(self.run_dir.join(file)).unwrap_or_default()
    }
}

impl Drop for RtmpServer {
    fn drop(&mut self) {
        // TERM lets the master stop its worker; KILL would orphan it (and the port).
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!(
                "nginx-rtmp on port {} error log:\n{}",
                self.port,
                self.read("error.log")
            );
        }
        let _ = std::fs::remove_dir_all(&self.run_dir);
    }
}

/// A finished (or, past its time limit, killed) process.
struct Run {
    /// None: killed at the time limit.
    status: Option<ExitStatus>,
    took: Duration,
    stdout: String,
    stderr: String,
}

impl Run {
    fn succeeded(&self) -> bool {
        self.status.is_some_and(|s| s.success())
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "status {:?} after {:?}\nstdout: {}\nstderr: {}",
            self.status, self.took, self.stdout, self.stderr
        )
    }
}

/// Runs `cmd` to completion, killing it after `limit` (blocking: call in spawn_blocking).
fn run(mut cmd: Command, limit: Duration) -> Run {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {:?}: {e}; {SETUP_HINT}", cmd.get_program()));
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Run {
        status,
        took: start.elapsed(),
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

/// `ffmpeg` pushing a 320x240 H.264 test pattern for `secs` seconds, like `<live-pusher>`.
async fn push(url: &str, secs: u32) -> Run {
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-nostdin", "-hide_banner", "-loglevel", "error", "-re"])
        .args(["-f", "lavfi", "-i", "testsrc=size=320x240:rate=15"])
        .args(["-c:v", "libx264", "-preset", "ultrafast", "-g", "15"])
        .args(["-t", &secs.to_string(), "-f", "flv", url]);
    let limit = Duration::from_secs(u64::from(secs) + 15);
    tokio::task::spawn_blocking(move || run(cmd, limit))
        .await
        .unwrap()
}

/// `ffprobe` reading a live stream, like `<live-player>`: `codec,width,height` lines.
async fn probe(url: &str) -> Run {
    let mut cmd = Command::new("ffprobe");
    // Without a short analyzeduration, ffprobe on a live FLV keeps reading for
    // 5 s of stream time, longer than our pushes last, and then waits forever.
    cmd.args(["-v", "error", "-analyzeduration", "1000000"])
        .args(["-show_entries", "stream=codec_name,width,height"])
        .args(["-of", "csv=p=0", url]);
    tokio::task::spawn_blocking(move || run(cmd, Duration::from_secs(10)))
        .await
        .unwrap()
}

async fn push_url_of(c: &Client) -> String {
    c.ok("get_push_url", json!({})).await["pushURL"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn require(tool: &str) {
    match Command::new(tool).arg("-version").output() {
        Ok(out) if out.status.success() => {}
        Ok(out) => panic!("{tool} -version failed ({}); {SETUP_HINT}", out.status),
        Err(e) => panic!("{tool} is not available ({e}); {SETUP_HINT}"),
    }
}

fn allowed(svc: &RoomService) -> u64 {
    svc.metrics.rtmp_publish_allowed.load(Ordering::Relaxed)
}

fn refused(svc: &RoomService) -> u64 {
    svc.metrics.rtmp_publish_refused.load(Ordering::Relaxed)
}

/// Pushes `url`, expects a quick refusal, and that our hook refused it for `reason`.
async fn expect_refused(svc: &RoomService, what: &str, url: &str, reason: &str) {
    let (before, before_reason) = (refused(svc), svc.metrics.rtmp_refused_for(reason));
    let allowed_before = allowed(svc);
    let r = push(url, 3).await;
    assert!(
        r.status.is_some_and(|s| !s.success()),
        "{what}: push should be refused: {r}"
    );
    assert!(
        r.took < Duration::from_secs(5),
        "{what}: refusal should be quick: {r}"
    );
    assert_eq!(
        (refused(svc), svc.metrics.rtmp_refused_for(reason)),
        (before + 1, before_reason + 1),
        "{what}: refused by our on_publish hook for {reason}"
    );
    assert_eq!(allowed(svc), allowed_before, "{what}: nothing allowed");
}

/// `url` with its `key=` query value replaced by `value`.
fn with_param(url: &str, key: &str, value: &str) -> String {
    let (base, query) = url.split_once('?').unwrap();
    let query: Vec<String> = query
        .split('&')
        .map(|kv| match kv.split_once('=') {
            Some((k, _)) if k == key => format!("{k}={value}"),
            _ => kv.to_owned(),
        })
        .collect();
    format!("{base}?{}", query.join("&"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nginx_rtmp_accepts_only_signed_pushes_of_logged_in_members() {
    let t0 = Instant::now();
    require("ffmpeg");
    require("ffprobe");
    let port = free_port();
    let mut cfg = config();
    cfg.live.push_host = format!("127.0.0.1:{port}");
    cfg.live.play_host = format!("127.0.0.1:{port}");
    let srv = Server::start(cfg).await;
    let svc = srv.svc.clone();
    let _rtmp = RtmpServer::start(port, &srv.base).await;

    let alice = srv.login("alice").await;
    let bob = srv.login("bob").await;
    let carol = srv.login("carol.c").await;
    let alice_url = push_url_of(&alice).await;
    let bob_url = push_url_of(&bob).await;
    let carol_url = push_url_of(&carol).await;
    assert!(
        alice_url.starts_with(&format!("rtmp://127.0.0.1:{port}/live/")),
        "{alice_url}"
    );

    // Accepted: Alice pushes her signed URL, before entering any room (as the
    // mini-program does: add_pusher only after live-pusher reports 1002).
    let pushing = tokio::spawn({
        let url = alice_url.clone();
        async move { push(&url, 4).await }
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    while allowed(&svc) == 0 {
        assert!(
            !pushing.is_finished(),
            "push ended before being allowed: {}",
            pushing.await.unwrap()
        );
        assert!(Instant::now() < deadline, "publish not allowed within 10 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let published = t0.elapsed();
    alice
        .ok(
            "add_pusher",
            json!({"roomID": "rtmp-room", "userName": "Alice", "userAvatar": "", "pushURL": alice_url}),
        )
        .await;
    let room = bob.ok("get_pushers", json!({"roomID": "rtmp-room"})).await;
    let accelerate = room["pushers"][0]["accelerateURL"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        accelerate.starts_with(&format!("rtmp://127.0.0.1:{port}/live/")),
        "{accelerate}"
    );
    // Bob's player sees Alice's video on her accelerateURL.
    let seen = probe(&accelerate).await;
    assert!(seen.succeeded(), "ffprobe failed: {seen}");
    assert!(
        seen.stdout.lines().any(|l| l.trim() == "h264,320,240"),
        "ffprobe should see h264 320x240: {seen}"
    );
    let probed = seen.took;
    let pushed = pushing.await.unwrap();
    assert!(
        pushed.succeeded(),
        "signed push should be accepted: {pushed}"
    );
    assert_eq!((allowed(&svc), refused(&svc)), (1, 0));

    // Refused, each by our hook and for its own reason.
    let key = svc.config.live.push_key.clone();
    let alice_stream = stream_from_url(&alice_url).unwrap().to_owned();
    let alice_secret = alice_url.split("txSecret=").nth(1).unwrap()[..32].to_owned();
    let mut tampered = alice_secret.clone().into_bytes();
    tampered[0] = if tampered[0] == b'0' { b'1' } else { b'0' };
    let refusals_from = t0.elapsed();
    expect_refused(
        &svc,
        "tampered txSecret",
        &with_param(
            &alice_url,
            "txSecret",
            std::str::from_utf8(&tampered).unwrap(),
        ),
        "bad_secret",
    )
    .await;

    let past = tx_time_hex(now_s() - 60);
    let expired = with_param(
        &with_param(&alice_url, "txTime", &past),
        "txSecret",
        &tx_secret(&session_push_key(&key, &alice.token), &alice_stream, &past),
    );
    expect_refused(&svc, "expired txTime", &expired, "expired").await;

    // Bob's stream name with Alice's signature.
    let (bob_base, _) = bob_url.split_once('?').unwrap();
    let (_, alice_query) = alice_url.split_once('?').unwrap();
    expect_refused(
        &svc,
        "another member's stream name",
        &format!("{bob_base}?{alice_query}"),
        "bad_secret",
    )
    .await;

    // A stream name that is nobody's, even correctly signed with the key.
    let tx_time = tx_time_hex(now_s() + 600);
    let stranger = format!(
        "rtmp://127.0.0.1:{port}/live/8888_x?txSecret={}&txTime={tx_time}",
        tx_secret(&key, "8888_x", &tx_time)
    );
    expect_refused(&svc, "unknown stream name", &stranger, "unknown_stream").await;

    expect_refused(
        &svc,
        "unsigned URL",
        alice_url.split_once('?').unwrap().0,
        "unsigned",
    )
    .await;

    // Alice's play URL (every member reads it from get_pushers) is not a push URL.
    expect_refused(
        &svc,
        "a member's accelerateURL pushed to",
        &accelerate,
        "bad_secret",
    )
    .await;

    // Carol's URL is correctly signed, but she logged out; logging in again
    // does not revive it.
    carol.ok("logout", json!({})).await;
    expect_refused(&svc, "logged-out user", &carol_url, "no_session").await;
    let _carol_again = srv.login("carol.c").await;
    expect_refused(
        &svc,
        "push URL of an earlier session",
        &carol_url,
        "bad_secret",
    )
    .await;
    let refusals_took = t0.elapsed() - refusals_from;

    // The same counters, as Prometheus sees them.
    let text = reqwest::get(format!("{}/metrics", srv.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        "rtcroom_rtmp_publish_allowed_total 1",
        "rtcroom_rtmp_publish_refused_total 8",
        "rtcroom_rtmp_publish_refusals_total{reason=\"bad_secret\"} 4",
        "rtcroom_rtmp_publish_refusals_total{reason=\"no_session\"} 1",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} in:\n{text}");
    }
    eprintln!(
        "rtmp timings: publish allowed at {published:?}, ffprobe {probed:?}, 8 refusals {refusals_took:?}, total {:?}",
        t0.elapsed()
    );
}

/// The hook's HTTP contract without nginx: 200 allows, 403 refuses, and the
/// first `name` (nginx's) wins over one the pusher appends to its query.
#[tokio::test]
async fn on_publish_answers_200_or_403() {
    let srv = Server::start(config()).await;
    let alice = srv.login("alice").await;
    let url = push_url_of(&alice).await;
    let (path, query) = url.split_once('?').unwrap();
    let stream = stream_from_url(path).unwrap();
    let hook = format!("{}/weapp/utils/rtmp_on_publish", srv.base);
    let post = |body: String| {
        let hook = hook.clone();
        async move {
            let r = reqwest::Client::new()
                .post(hook)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .unwrap();
            r.status().as_u16()
        }
    };
    let form = |app: &str, name: &str, args: &str| {
        format!("app={app}&flashver=FMLE/3.0&swfurl=&tcurl=rtmp://127.0.0.1/{app}&pageurl=&addr=127.0.0.1&clientid=1&call=publish&name={name}&type=live&{args}")
    };
    assert_eq!(post(form("live", stream, query)).await, 200);
    assert_eq!(post(form("other", stream, query)).await, 403);
    assert_eq!(post(form("live", stream, "")).await, 403);
    assert_eq!(post(String::new()).await, 403);
    let bob_stream = srv.svc.stream_of(APP, &UserId::new("bob").unwrap());
    assert_eq!(
        post(form("live", &bob_stream, &format!("{query}&name={stream}"))).await,
        403
    );
    assert_eq!(
        srv.svc.metrics.rtmp_publish_allowed.load(Ordering::Relaxed),
        1
    );
    assert_eq!(
        srv.svc.metrics.rtmp_publish_refused.load(Ordering::Relaxed),
        4
    );
}
