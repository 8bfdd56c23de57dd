//! SFU rooms against a real Janus (started by `scripts/janus-server`): the
//! control plane RoomService drives — a room crossing `sfu_threshold`
//! announces SFU mode; publish / subscribe / renegotiation relay real Janus
//! SDP; non-members are refused; Janus rooms are destroyed with ours; a
//! killed and restarted Janus is reconnected and its rooms re-created; a
//! Janus that is down refuses only the member who would exceed mesh; a
//! member's fresh publisher (`sfu_publish {fresh}`) replaces its Janus
//! handle and feed; and no frame a client receives carries a Janus secret or id.
//!
//! Janus gathers ICE candidates for the SDP it makes, so every test runs in a
//! loopback-only network namespace of its own with the veth pair of
//! NOTES.md: `janus_in_namespace` re-runs this binary's `ns_*` tests inside
//! `unshare -n` (root needed; missing janus fails the test, never skips it).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::*;
use rtcroom_server::config::MediaConfig;
use rtcroom_server::media::janus::Janus;
use rtcroom_server::store::RoomKey;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const IN_NETNS: &str = "RTCROOM_JANUS_TEST_NETNS";

#[test]
fn janus_in_namespace() {
    if std::env::var_os(IN_NETNS).is_some() {
        return; // the inner run: the ns_* tests do the work
    }
    let exe = std::env::current_exe().unwrap();
    let script = r#"
        set -e
        ip link set lo up
        ip link add rtc0 type veth peer name rtc1
        ip addr add 10.77.0.1/24 dev rtc0
        ip link set rtc0 up
        ip link set rtc1 up
        exec "$0" --ignored --test-threads=1 --nocapture ns_
    "#;
    let status = Command::new("unshare")
        .args(["-n", "bash", "-c", script])
        .arg(&exe)
        .env(IN_NETNS, "1")
        .status()
        .expect("cannot run unshare (util-linux; root needed for network namespaces)");
    assert!(
        status.success(),
        "the Janus tests failed inside their namespace: {status}"
    );
}

/// A Janus started through `scripts/janus-server`; killed on drop.
struct JanusProc {
    child: Option<Child>,
    port: u16,
    api_secret: String,
    admin_key: String,
    run_dir: PathBuf,
}

impl JanusProc {
    fn new(port: u16) -> Self {
        let run_dir =
            std::env::temp_dir().join(format!("rtcroom-janus-test-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&run_dir);
        std::fs::create_dir_all(&run_dir).unwrap();
        Self {
            child: None,
            port,
            api_secret: format!("api-{port}-secret"),
            admin_key: format!("admin-{port}-key"),
            run_dir,
        }
    }

    async fn start(&mut self) {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/janus-server");
        let log = std::fs::File::create(self.run_dir.join("janus.log")).unwrap();
        let rtp = 20000 + (self.port % 100) * 100;
        let child = Command::new(&script)
            .env("JANUS_WS_PORT", self.port.to_string())
            .env("JANUS_API_SECRET", &self.api_secret)
            .env("JANUS_ADMIN_KEY", &self.admin_key)
            .env("JANUS_RTP_PORTS", format!("{rtp}-{}", rtp + 99))
            .env("JANUS_ICE_ENFORCE", "rtc0")
            .env("JANUS_RUN_DIR", &self.run_dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(15);
        while tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .is_err()
        {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("janus exited ({status}) before listening:\n{}\nIf janus is missing, run scripts/setup.", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "janus did not listen:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.run_dir.join("janus.log")).unwrap_or_default()
    }

    fn url(&self) -> String {
        format!("ws://127.0.0.1:{}", self.port)
    }

    fn media(&self, threshold: usize) -> MediaConfig {
        MediaConfig {
            janus_url: Some(self.url()),
            api_secret: self.api_secret.clone(),
            admin_key: self.admin_key.clone(),
            sfu_threshold: threshold,
            max_members_sfu: 16,
            ffmpeg: None,
        }
    }

    /// The VideoRoom rooms Janus holds, asked over a session of our own.
    async fn rooms(&self) -> Vec<String> {
        let j = Janus::connect(&self.url(), &self.api_secret).await.unwrap();
        let (h, _) = j.attach("janus.plugin.videoroom").await.unwrap();
        let reply = j
            .message(
                h,
                json!({"request": "list", "admin_key": self.admin_key}),
                None,
            )
            .await
            .unwrap();
        j.close();
        reply.data["list"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["room"].as_str().unwrap().to_owned())
            .collect()
    }
}

impl JanusProc {
    /// The participant ids (feeds) Janus has joined in VideoRoom `room`.
    async fn participants(&self, room: &str) -> Vec<String> {
        let j = Janus::connect(&self.url(), &self.api_secret).await.unwrap();
        let (h, _) = j.attach("janus.plugin.videoroom").await.unwrap();
        let reply = j
            .message(
                h,
                json!({"request": "listparticipants", "room": room}),
                None,
            )
            .await
            .unwrap();
        j.close();
        let mut ids: Vec<String> = reply.data["participants"]
            .as_array()
            .unwrap_or_else(|| panic!("no participants list: {}", reply.data))
            .iter()
            .map(|p| p["id"].as_str().unwrap().to_owned())
            .collect();
        ids.sort();
        ids
    }
}

impl Drop for JanusProc {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.run_dir);
    }
}

async fn server_with(media: MediaConfig) -> Server {
    // RUST_LOG=rtcroom_server=debug shows RoomService's side of the Janus exchange.
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .try_init();
    let mut c = config();
    c.media = media;
    Server::start(c).await
}

/// Waits until RoomService holds a Janus session.
async fn wait_connected(s: &Server) {
    let sfu = s.svc.media.clone().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while sfu.janus_ids().await.is_empty() {
        assert!(
            Instant::now() < deadline,
            "RoomService did not connect to Janus"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn key(room: &str) -> RoomKey {
    RoomKey {
        app: APP,
        room: rtcroom_protocol::RoomId::new(room).unwrap(),
    }
}

/// Collects every frame one client receives, for the secrets check.
struct Member {
    ws: Ws,
    seen: Vec<String>,
}

impl Member {
    async fn new(c: &Client) -> Self {
        Self {
            ws: c.ws().await,
            seen: Vec::new(),
        }
    }
    /// The next frame; fails after 5 s (WebSocket pings do not count).
    async fn next(&mut self) -> Value {
        let v = tokio::time::timeout(Duration::from_secs(5), self.ws.next())
            .await
            .expect("no frame within 5 s");
        self.seen.push(v.to_string());
        v
    }
    async fn expect(&mut self, ty: &str) -> Value {
        loop {
            let v = self.next().await;
            if v["type"] == ty {
                return v;
            }
        }
    }
    async fn request(&mut self, mut v: Value, req_id: u32) -> Value {
        v["reqID"] = json!(req_id);
        self.ws.send(v).await;
        loop {
            let f = self.next().await;
            if (f["type"] == "ack" || f["type"] == "error") && f["reqID"] == req_id {
                return f;
            }
        }
    }
    /// Frames (types) until quiet for `d`.
    async fn drain(&mut self, d: Duration) -> Vec<Value> {
        let mut out = Vec::new();
        while let Some(v) = self.ws.next_within(d).await {
            self.seen.push(v.to_string());
            out.push(v);
        }
        out
    }
}

fn hex(n: usize) -> String {
    let mut b = vec![0u8; n];
    getrandom::fill(&mut b).unwrap();
    b.iter()
        .map(|x| format!("{x:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// A browser-like sendonly offer (Opus + VP8 + H.264), as Chromium would make it.
fn publisher_offer() -> String {
    let fp = hex(32);
    let common = format!(
        "c=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\na=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=ice-options:trickle\r\na=fingerprint:sha-256 {fp}\r\na=setup:actpass\r\n"
    );
    format!(
        "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\na=extmap-allow-mixed\r\na=msid-semantic: WMS s\r\n\
m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n{common}a=mid:0\r\na=sendonly\r\na=msid:s a\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1\r\na=ssrc:1001 cname:c\r\n\
m=video 9 UDP/TLS/RTP/SAVPF 96 102\r\n{common}a=mid:1\r\na=sendonly\r\na=msid:s v\r\na=rtcp-mux\r\na=rtcp-rsize\r\na=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 nack\r\na=rtcp-fb:96 nack pli\r\na=rtcp-fb:96 ccm fir\r\na=rtpmap:102 H264/90000\r\na=rtcp-fb:102 nack pli\r\na=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\na=ssrc:2002 cname:c\r\n"
    )
}

fn assert_no_secrets(frames: &[String], janus: &JanusProc, ids: &[String]) {
    assert!(!ids.is_empty());
    for f in frames {
        assert!(!f.contains(&janus.api_secret), "api_secret leaked: {f}");
        assert!(!f.contains(&janus.admin_key), "admin_key leaked: {f}");
        for id in ids {
            assert!(!f.contains(id.as_str()), "Janus id {id} leaked: {f}");
        }
    }
}

#[tokio::test]
#[ignore = "run inside its network namespace by janus_in_namespace"]
async fn ns_room_past_threshold_goes_sfu_and_relays_janus_sdp() {
    let mut janus = JanusProc::new(free_port());
    janus.start().await;
    let s = server_with(janus.media(2)).await;
    wait_connected(&s).await;
    let (a, b, c, d, outsider) = (
        s.login("alice").await,
        s.login("bob").await,
        s.login("carol").await,
        s.login("dave").await,
        s.login("eve").await,
    );
    let (mut wa, mut wb, mut wc, mut wd, mut we) = (
        Member::new(&a).await,
        Member::new(&b).await,
        Member::new(&c).await,
        Member::new(&d).await,
        Member::new(&outsider).await,
    );
    a.enter("big").await;
    b.enter("big").await;
    wa.expect("pusher_join").await;
    // Two members: still mesh, and SFU frames say so.
    let e = wa
        .request(
            json!({"type": "sfu_publish", "roomID": "big", "sdp": publisher_offer()}),
            1,
        )
        .await;
    assert_eq!(e["code"], 1021, "{e}");
    assert!(wb
        .drain(Duration::from_millis(200))
        .await
        .iter()
        .all(|f| f["type"] != "room_mode"));
    assert!(janus.rooms().await.is_empty(), "no Janus room while mesh");
    a.ok("get_pushers", json!({"roomID": "big"})).await;
    assert!(
        wa.drain(Duration::from_millis(200))
            .await
            .iter()
            .all(|f| f["type"] != "room_mode"),
        "a mesh room has no room_mode"
    );

    // The third member takes it past the threshold: pusher_join, then room_mode, in order.
    c.enter("big").await;
    for w in [&mut wa, &mut wb] {
        let j = w.next().await;
        assert_eq!(
            (j["type"].as_str(), j["pusher"]["userID"].as_str()),
            (Some("pusher_join"), Some("carol")),
            "{j}"
        );
        let m = w.next().await;
        assert_eq!(
            (m["type"].as_str(), m["mode"].as_str(), m["roomID"].as_str()),
            (Some("room_mode"), Some("sfu"), Some("big")),
            "{m}"
        );
    }
    assert_eq!(wc.expect("room_mode").await["mode"], "sfu");
    let jroom = s
        .svc
        .media
        .as_ref()
        .unwrap()
        .janus_room_of(&key("big"))
        .await
        .unwrap();
    assert_eq!(janus.rooms().await, vec![jroom.clone()]);

    // A fourth: only the newcomer hears the mode.
    d.enter("big").await;
    assert_eq!(wd.expect("room_mode").await["mode"], "sfu");
    // Re-fetching the room (as after welcome{resumed:false}) tells the mode again.
    d.ok("get_pushers", json!({"roomID": "big"})).await;
    assert_eq!(wd.expect("room_mode").await["mode"], "sfu");
    let more = wa.drain(Duration::from_millis(300)).await;
    assert_eq!(
        more.iter().filter(|f| f["type"] == "room_mode").count(),
        0,
        "{more:?}"
    );

    // Non-members may neither publish nor subscribe.
    for (i, f) in [
        json!({"type": "sfu_publish", "roomID": "big", "sdp": publisher_offer()}),
        json!({"type": "sfu_subscribe", "roomID": "big"}),
        json!({"type": "sfu_candidate", "roomID": "big", "link": "publisher", "candidate": {"candidate": ""}}),
    ]
    .into_iter()
    .enumerate()
    {
        let e = we.request(f, 10 + i as u32).await;
        assert_eq!(e["code"], 5, "{e}");
    }

    // Bob subscribes before anyone publishes: no offer yet.
    assert_eq!(
        wb.request(json!({"type": "sfu_subscribe", "roomID": "big"}), 2)
            .await["type"],
        "ack"
    );
    // Alice publishes: Janus answers (sendonly offer → recvonly answer, its own DTLS fingerprint).
    // Janus lets others subscribe to a feed only once its PeerConnection is up, which needs a
    // real browser: subscriber offers and renegotiation are proven by tests/e2e/sfu.test.mjs.
    let ack = wa
        .request(
            json!({"type": "sfu_publish", "roomID": "big", "sdp": publisher_offer()}),
            3,
        )
        .await;
    assert_eq!(ack["type"], "ack", "{ack}");
    let ans = wa
        .seen
        .iter()
        .rev()
        .find(|f| f.contains("\"sfu_answer\""))
        .cloned()
        .unwrap();
    let ans: Value = serde_json::from_str(&ans).unwrap();
    let sdp = ans["sdp"].as_str().unwrap();
    assert!(
        sdp.contains("a=fingerprint") && sdp.contains("m=video") && sdp.contains("a=recvonly"),
        "{sdp}"
    );
    assert!(
        sdp.contains("\r\ns=-\r\n"),
        "the session name (Janus room id) is blanked: {sdp}"
    );
    // A bad offer is refused with a code, and the session goes on.
    let bad = wd
        .request(
            json!({"type": "sfu_publish", "roomID": "big", "sdp": "v=0\r\nnot an sdp"}),
            3,
        )
        .await;
    assert_eq!(bad["code"], 1022, "{bad}");
    // Trickle on an open link is accepted; on a link never opened it is not.
    let t = wa
        .request(json!({"type": "sfu_candidate", "roomID": "big", "link": "publisher", "candidate": {"candidate": "candidate:1 1 udp 2122260223 10.77.0.1 50000 typ host", "sdpMid": "0", "sdpMLineIndex": 0}}), 4)
        .await;
    assert_eq!(t["type"], "ack", "{t}");
    let t = wa
        .request(json!({"type": "sfu_candidate", "roomID": "big", "link": "publisher", "candidate": {"candidate": ""}}), 5)
        .await;
    assert_eq!(t["type"], "ack", "end of candidates: {t}");
    let t = wc
        .request(json!({"type": "sfu_candidate", "roomID": "big", "link": "subscriber", "candidate": {"candidate": ""}}), 5)
        .await;
    assert_eq!(t["code"], 1003, "{t}");
    // An answer nobody asked for.
    let r = wb
        .request(
            json!({"type": "sfu_answer", "roomID": "big", "sdp": "v=0"}),
            9,
        )
        .await;
    assert_eq!(r["code"], 1003, "{r}");
    // Malformed SFU frames get the codes of every frame (an unknown enum value reads as 1002).
    let r = wb.request(json!({"type": "sfu_candidate", "roomID": "big", "link": "sideways", "candidate": {"candidate": ""}}), 10).await;
    assert_eq!(r["code"], 1002, "{r}");
    let r = wb
        .request(json!({"type": "sfu_publish", "roomID": "big"}), 11)
        .await;
    assert_eq!(r["code"], 1, "{r}");

    // No frame any client got names a Janus secret or id.
    let ids = s.svc.media.as_ref().unwrap().janus_ids().await;
    assert!(
        ids.len() > 1 + 1 + 4, // session, room, 4 feeds, at least one handle
        "session, room, feeds, handles: {ids:?}"
    );
    for w in [&mut wa, &mut wb, &mut wc, &mut wd, &mut we] {
        w.drain(Duration::from_millis(100)).await;
        assert_no_secrets(&w.seen, &janus, &ids);
    }

    // Everyone leaves: the Janus room goes with ours.
    // Members first (their handles go), the creator last (the room closes).
    for cl in [&d, &c, &b, &a] {
        cl.ok("delete_pusher", json!({"roomID": "big"})).await;
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while !janus.rooms().await.is_empty() {
        assert!(Instant::now() < deadline, "the Janus room outlived ours");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    s.shutdown.cancel();
}

#[tokio::test]
#[ignore = "run inside its network namespace by janus_in_namespace"]
async fn ns_destroy_room_destroys_the_janus_room_and_threshold_zero_is_always_sfu() {
    let mut janus = JanusProc::new(free_port());
    janus.start().await;
    let s = server_with(janus.media(0)).await;
    wait_connected(&s).await;
    let a = s.login("alice").await;
    let mut wa = Member::new(&a).await;
    a.enter("solo").await;
    assert_eq!(wa.expect("room_mode").await["mode"], "sfu");
    assert_eq!(janus.rooms().await.len(), 1);
    a.ok("destroy_room", json!({"roomID": "solo"})).await;
    let deadline = Instant::now() + Duration::from_secs(5);
    while !janus.rooms().await.is_empty() {
        assert!(
            Instant::now() < deadline,
            "destroy_room left the Janus room"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    s.shutdown.cancel();
}

#[tokio::test]
#[ignore = "run inside its network namespace by janus_in_namespace"]
async fn ns_janus_restart_is_reconnected_and_rooms_recreated() {
    let mut janus = JanusProc::new(free_port());
    janus.start().await;
    let s = server_with(janus.media(1)).await;
    wait_connected(&s).await;
    let (a, b) = (s.login("alice").await, s.login("bob").await);
    let (mut wa, mut wb) = (Member::new(&a).await, Member::new(&b).await);
    a.enter("r").await;
    b.enter("r").await;
    wa.expect("room_mode").await;
    wb.expect("room_mode").await;
    assert_eq!(
        wa.request(
            json!({"type": "sfu_publish", "roomID": "r", "sdp": publisher_offer()}),
            1
        )
        .await["type"],
        "ack"
    );
    let before = janus.rooms().await;
    assert_eq!(before.len(), 1);

    janus.kill();
    for w in [&mut wa, &mut wb] {
        let st = w.expect("sfu_state").await;
        assert_eq!(
            (st["roomID"].as_str(), st["state"].as_str()),
            (Some("r"), Some("lost"))
        );
    }
    // While Janus is away: SFU frames get a clear code; room messages still flow.
    let e = wa
        .request(
            json!({"type": "sfu_publish", "roomID": "r", "sdp": publisher_offer()}),
            2,
        )
        .await;
    assert_eq!(e["code"], 1020, "{e}");
    wa.ws
        .send(json!({"type": "room_text", "roomID": "r", "text": "still here"}))
        .await;
    assert_eq!(wb.expect("room_text").await["text"], "still here");

    let t0 = Instant::now();
    janus.start().await;
    for w in [&mut wa, &mut wb] {
        let st = w.expect("sfu_state").await;
        assert_eq!(st["state"], "ready", "{st}");
    }
    println!(
        "Janus back → sfu_state ready: {} ms",
        t0.elapsed().as_millis()
    );
    let now = janus.rooms().await;
    let jroom = s
        .svc
        .media
        .as_ref()
        .unwrap()
        .janus_room_of(&key("r"))
        .await
        .unwrap();
    assert_eq!(now, vec![jroom]);
    // Publishing works again on the new Janus room.
    assert_eq!(
        wb.request(json!({"type": "sfu_subscribe", "roomID": "r"}), 3)
            .await["type"],
        "ack"
    );
    assert_eq!(
        wa.request(
            json!({"type": "sfu_publish", "roomID": "r", "sdp": publisher_offer()}),
            4
        )
        .await["type"],
        "ack"
    );
    assert!(wa.seen.iter().any(|f| f.contains("\"sfu_answer\"")));
    let ids = s.svc.media.as_ref().unwrap().janus_ids().await;
    assert_no_secrets(&wa.seen, &janus, &ids);
    assert_no_secrets(&wb.seen, &janus, &ids);
    s.shutdown.cancel();
}

#[tokio::test]
#[ignore = "run inside its network namespace by janus_in_namespace"]
async fn ns_janus_down_refuses_only_the_member_past_mesh() {
    let janus = JanusProc::new(free_port()); // never started
    let s = server_with(janus.media(2)).await;
    let (a, b, c) = (
        s.login("alice").await,
        s.login("bob").await,
        s.login("carol").await,
    );
    let mut wa = Member::new(&a).await;
    a.enter("m").await;
    b.enter("m").await;
    wa.expect("pusher_join").await;
    let r = c
        .call(
            "add_pusher",
            json!({"roomID": "m", "userName": "c", "userAvatar": "", "pushURL": ""}),
        )
        .await;
    assert_eq!(r["code"], 1020, "{r}");
    assert!(
        r["message"].as_str().unwrap().contains("media server"),
        "{r}"
    );
    let frames = wa.drain(Duration::from_millis(300)).await;
    assert!(
        frames
            .iter()
            .all(|f| f["type"] != "pusher_join" && f["type"] != "room_mode"),
        "{frames:?}"
    );
    let room = a.ok("get_pushers", json!({"roomID": "m"})).await;
    assert_eq!(
        room["pushers"].as_array().unwrap().len(),
        2,
        "the mesh call goes on: {room}"
    );
    s.shutdown.cancel();
}

#[tokio::test]
#[ignore = "run inside its network namespace by janus_in_namespace"]
async fn ns_fresh_publish_and_subscribe_replace_the_members_janus_handles() {
    let mut janus = JanusProc::new(free_port());
    janus.start().await;
    let s = server_with(janus.media(0)).await;
    wait_connected(&s).await;
    let sfu = s.svc.media.clone().unwrap();
    let (a, b) = (s.login("alice").await, s.login("bob").await);
    let (mut wa, mut wb) = (Member::new(&a).await, Member::new(&b).await);
    a.enter("fresh").await;
    b.enter("fresh").await;
    wa.expect("room_mode").await;
    wb.expect("room_mode").await;
    let jroom = sfu.janus_room_of(&key("fresh")).await.unwrap();
    let publish = |fresh: bool| json!({"type": "sfu_publish", "roomID": "fresh", "sdp": publisher_offer(), "fresh": fresh});
    let answers = |w: &Member| {
        w.seen
            .iter()
            .filter(|f| f.contains("\"sfu_answer\""))
            .count()
    };

    // Alice's first publisher, then an ICE-restart offer on the same connection.
    assert_eq!(wa.request(publish(false), 1).await["type"], "ack");
    let first = janus.participants(&jroom).await;
    assert_eq!(first.len(), 1, "{first:?}");
    let ids_before = sfu.janus_ids().await;
    assert_eq!(wa.request(publish(false), 2).await["type"], "ack");
    assert_eq!(
        janus.participants(&jroom).await,
        first,
        "a re-publish keeps its handle and feed"
    );
    assert_eq!(sfu.janus_ids().await, ids_before);

    // Its restarts kept failing: a new PeerConnection, offered with `fresh`.
    assert_eq!(wa.request(publish(true), 3).await["type"], "ack");
    assert_eq!(answers(&wa), 3, "every publish answered");
    let second = janus.participants(&jroom).await;
    assert_eq!(second.len(), 1, "the old publisher left Janus: {second:?}");
    assert_ne!(second, first, "published anew under a new feed");
    let ids_after = sfu.janus_ids().await;
    let gone: Vec<_> = ids_before
        .iter()
        .filter(|id| !ids_after.contains(id))
        .collect();
    assert_eq!(gone.len(), 2, "the old feed and handle: {gone:?}");
    // The new handle is the one trickle goes to, and its restarts configure it.
    let t = wa
        .request(json!({"type": "sfu_candidate", "roomID": "fresh", "link": "publisher", "candidate": {"candidate": "candidate:1 1 udp 2122260223 10.77.0.1 50000 typ host", "sdpMid": "0", "sdpMLineIndex": 0}}), 4)
        .await;
    assert_eq!(t["type"], "ack", "{t}");
    assert_eq!(wa.request(publish(false), 5).await["type"], "ack");
    assert_eq!(janus.participants(&jroom).await, second);
    // A fresh publish of a member that never published is a first publish.
    assert_eq!(wb.request(publish(true), 6).await["type"], "ack");
    assert_eq!(janus.participants(&jroom).await.len(), 2);

    // Subscribing again without `restart` (a new subscriber connection) is
    // taken every time; the offers themselves need a publisher that is up,
    // which takes a browser (tests/e2e/sfu_client.test.mjs).
    for id in [7, 8] {
        let r = wb
            .request(json!({"type": "sfu_subscribe", "roomID": "fresh"}), id)
            .await;
        assert_eq!(r["type"], "ack", "{r}");
    }
    let ids = sfu.janus_ids().await;
    for w in [&mut wa, &mut wb] {
        w.drain(Duration::from_millis(100)).await;
        assert_no_secrets(&w.seen, &janus, &ids);
    }
    s.shutdown.cancel();
}
