//! Two real `rtcroom-server` processes sharing one real `redis-server`
//! (started here on a free loopback port, in a temp dir, without persistence):
//! members on different nodes do everything together, the last seat has one
//! winner, room messages from two nodes arrive in one order exactly once, and
//! a member whose node froze resumes on the other node from the shared log.
//!
//! Without `redis-server` on PATH each test says so on stderr and passes
//! (scripts/setup installs it; set RTCROOM_REQUIRE_REDIS=1 to fail instead).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::redis_server::Redis;
use common::*;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "rtcroom-cluster-{tag}-{}-{}",
        std::process::id(),
        free_port()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// One `rtcroom-server` node, killed (by pid) on drop.
struct Node {
    child: Child,
    base: String,
    dir: PathBuf,
}

/// Node configuration: the test app, short timers, limits that let the
/// ordering test send fast.
fn node_toml(extra: &str) -> String {
    format!(
        "listen = \"127.0.0.1:0\"\n\
         [[apps]]\nsdk_app_id = {APP}\nsecret_key = \"{SECRET}\"\n\
         [heartbeat]\ncheck_interval_ms = 200\nsocket_grace_ms = 500\nws_ping_ms = 5000\ntimeout_secs = 3\n\
         [limits]\nmessages_per_second = 100000\nmessages_burst = 100000\nreplay_frames = 4096\n\
         replay_bytes = 16777216\nsend_queue = 8192\nmax_rooms_per_user = 64\n{extra}\n\
         [store]\nnode_ttl_ms = 1500\n"
    )
}

impl Node {
    fn start(redis: &Redis, id: &str, limits: &str) -> Self {
        Self::start_with(&redis.url(), id, limits)
    }

    /// A node on `store` (`memory` or a Redis URL).
    fn start_with(store: &str, id: &str, limits: &str) -> Self {
        let dir = temp_dir(id);
        let config = dir.join("rtcroom.toml");
        std::fs::write(&config, node_toml(limits)).unwrap();
        let log = std::fs::File::create(dir.join("stderr.log")).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_rtcroom-server"))
            .arg("--config")
            .arg(&config)
            .args(["--store", store, "--node-id", id])
            .env(
                "RUST_LOG",
                std::env::var("RTCROOM_NODE_LOG").unwrap_or("warn".into()),
            )
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .unwrap();
        let (base, first) = server_base(&mut child);
        assert!(
            base.starts_with("http://127.0.0.1:"),
            "node {id} did not start: {first} {}",
            std::fs::read_to_string(dir.join("stderr.log")).unwrap_or_default()
        );
        Self { child, base, dir }
    }

    fn room_base(&self) -> String {
        format!("{}/weapp/rtc_room", self.base)
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill {sig}");
    }

    async fn metrics(&self) -> String {
        reqwest::get(format!("{}/metrics", self.base))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// Logs `user` in on this node.
    async fn login(&self, user: &str) -> Client {
        login_at(&self.room_base(), user).await
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-CONT", &self.child.id().to_string()])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::env::var_os("RTCROOM_KEEP_LOGS").is_none() {
            let _ = std::fs::remove_dir_all(&self.dir);
        } else {
            eprintln!("node log kept in {}", self.dir.display());
        }
    }
}

/// The same session, talking to another node.
fn on(client: &Client, node: &Node) -> Client {
    Client {
        http: client.http.clone(),
        base: node.room_base(),
        user: client.user.clone(),
        token: client.token.clone(),
    }
}

fn two_nodes(limits: &str) -> Option<(Redis, Node, Node)> {
    let redis = Redis::start()?;
    let a = Node::start(&redis, "node-a", limits);
    let b = Node::start(&redis, "node-b", limits);
    Some((redis, a, b))
}

/// alice on node A and `other` on node B, each with a socket, both in room
/// `r` (alice has seen the other's join).
async fn alice_on_a_and_on_b(na: &Node, nb: &Node, other: &str) -> (Client, Client, Ws, Ws) {
    let alice = na.login("alice").await;
    let them = nb.login(other).await;
    let (mut aw, tw) = (alice.ws().await, them.ws().await);
    alice.enter("r").await;
    them.enter("r").await;
    aw.expect("pusher_join").await;
    (alice, them, aw, tw)
}

#[tokio::test]
async fn members_on_two_nodes_do_everything_together() {
    let Some((_redis, na, nb)) = two_nodes("") else {
        return;
    };
    let alice = na.login("alice").await;
    let bob = nb.login("bob").await;
    let mut aw = alice.ws().await;
    let mut bw = bob.ws().await;

    // Create on A (assigned id), listed on B once alice entered.
    let room = alice.ok("create_room", json!({"roomInfo": "call"})).await["roomID"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(bob.ok("get_room_list", json!({})).await["total"], 0);
    alice.enter(&room).await;
    let list = bob
        .ok("get_room_list", json!({"index": 0, "cnt": 10}))
        .await;
    assert_eq!(list["total"], 1, "{list}");
    assert_eq!(list["rooms"][0]["roomID"], room.as_str());
    assert_eq!(list["rooms"][0]["roomCreator"], "alice");
    assert_eq!(list["rooms"][0]["roomInfo"], "call");

    // Bob enters on B: alice (on A) is told.
    let entered = bob.enter(&room).await;
    assert_eq!(entered["pushers"].as_array().unwrap().len(), 2, "{entered}");
    let join = aw.expect("pusher_join").await;
    assert_eq!(join["pusher"]["userID"], "bob");
    assert_eq!(join["pusher"]["userName"], "name-bob");
    let pushers = bob.ok("get_pushers", json!({"roomID": room})).await;
    let ids: Vec<&str> = pushers["pushers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["userID"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["alice", "bob"]);

    // Text and custom messages, both ways, acknowledged through Redis.
    let ack = aw
        .request(
            json!({"type": "room_text", "roomID": room, "text": "hi bob"}),
            1,
        )
        .await;
    assert_eq!(ack["type"], "ack", "{ack}");
    let text = bw.expect("room_text").await;
    assert_eq!(
        (text["userID"].as_str(), text["text"].as_str()),
        (Some("alice"), Some("hi bob"))
    );
    assert_eq!(text["head"]["data"]["nickName"], "name-alice");
    bw.send(json!({"type": "room_custom", "roomID": room, "cmd": "c", "msg": "m"}))
        .await;
    let custom = aw.expect("room_custom").await;
    assert_eq!(custom["head"]["data"]["cmd"], "c");
    assert_eq!(custom["head"]["data"]["msg"], "m");

    // Signaling relay across nodes.
    bw.send(json!({"type": "offer", "roomID": room, "to": "alice", "sdp": "v=0 offer"}))
        .await;
    let offer = aw.expect("offer").await;
    assert_eq!(
        (offer["from"].as_str(), offer["sdp"].as_str()),
        (Some("bob"), Some("v=0 offer"))
    );
    aw.send(json!({"type": "answer", "roomID": room, "to": "bob", "sdp": "v=0 answer"}))
        .await;
    assert_eq!(bw.expect("answer").await["sdp"], "v=0 answer");
    aw.send(json!({"type": "candidate", "roomID": room, "to": "bob",
        "candidate": {"candidate": "candidate:1 1 udp 1 127.0.0.1 9 typ host", "sdpMid": "0", "sdpMLineIndex": 0}}))
        .await;
    let cand = bw.expect("candidate").await;
    assert_eq!(cand["from"], "alice");
    aw.send(json!({"type": "renegotiate", "roomID": room, "to": "bob"}))
        .await;
    assert_eq!(bw.expect("renegotiate").await["from"], "alice");
    let nobody = aw
        .request(
            json!({"type": "offer", "roomID": room, "to": "carol", "sdp": "x"}),
            2,
        )
        .await;
    assert_eq!(nobody["code"], 1008, "{nobody}");

    // Heartbeats on either node; bob leaves and comes back.
    bob.ok("pusher_heartbeat", json!({"roomID": room})).await;
    on(&bob, &na)
        .ok("pusher_heartbeat", json!({"roomID": room}))
        .await;
    bob.ok("delete_pusher", json!({"roomID": room})).await;
    let quit = aw.expect("pusher_quit").await;
    assert_eq!(
        (quit["pusher"]["userID"].as_str(), quit["reason"].as_str()),
        (Some("bob"), Some("left"))
    );
    bob.enter(&room).await;
    aw.expect("pusher_join").await;

    // Only the creator destroys; bob (on B) is told the room closed.
    assert_eq!(
        bob.call("destroy_room", json!({"roomID": room})).await["code"],
        3
    );
    alice.ok("destroy_room", json!({"roomID": room})).await;
    let closed = bw.expect("room_closed").await;
    assert_eq!(
        (closed["roomID"].as_str(), closed["reason"].as_str()),
        (Some(room.as_str()), Some("destroyed"))
    );
    assert_eq!(
        bob.call("get_pushers", json!({"roomID": room})).await["code"],
        3
    );
    assert_eq!(alice.ok("get_room_list", json!({})).await["total"], 0);

    // Creator leaving closes the room for members on the other node.
    alice.enter("second").await;
    bob.enter("second").await;
    aw.expect("pusher_join").await;
    alice.ok("delete_pusher", json!({"roomID": "second"})).await;
    let closed = bw.expect("room_closed").await;
    assert_eq!(closed["reason"], "creator_left", "{closed}");

    let ma = na.metrics().await;
    assert!(
        ma.contains("rtcroom_cluster_cross_node_frames_total{node=\"node-a\"}"),
        "{ma}"
    );
    assert!(
        !ma.contains("rtcroom_cluster_cross_node_frames_total{node=\"node-a\"} 0\n"),
        "{ma}"
    );
    assert!(ma.contains("rtcroom_redis_round_trips_total{node=\"node-a\"}"));
}

#[tokio::test]
async fn two_nodes_admitting_the_last_seat_at_once_one_wins() {
    let Some((_redis, na, nb)) = two_nodes("max_members = 2") else {
        return;
    };
    let owner = na.login("owner").await;
    let on_a = na.login("carol").await;
    let on_b = nb.login("dave").await;
    let entry =
        |room: &str| json!({"roomID": room, "userName": "x", "userAvatar": "", "pushURL": ""});
    for i in 0..20 {
        let room = format!("seat-{i}");
        owner.enter(&room).await;
        let (a, b) = tokio::join!(
            on_a.call("add_pusher", entry(&room)),
            on_b.call("add_pusher", entry(&room))
        );
        let mut codes = [a["code"].as_i64().unwrap(), b["code"].as_i64().unwrap()];
        codes.sort_unstable();
        assert_eq!(codes, [0, 5001], "room {room}: {a} {b}");
        let pushers = owner.ok("get_pushers", json!({"roomID": room})).await;
        assert_eq!(pushers["pushers"].as_array().unwrap().len(), 2);
        assert_eq!(pushers["memberCount"], 2);
    }
}

/// Room texts as `(sender, text)` until `n` arrived.
async fn collect_texts(ws: &mut Ws, n: usize) -> Vec<(String, String)> {
    let mut got = Vec::with_capacity(n);
    while got.len() < n {
        let f = ws.expect("room_text").await;
        got.push((
            f["userID"].as_str().unwrap().to_owned(),
            f["text"].as_str().unwrap().to_owned(),
        ));
    }
    got
}

#[tokio::test]
async fn room_messages_from_two_nodes_arrive_in_one_order_exactly_once() {
    let Some((_redis, na, nb)) = two_nodes("") else {
        return;
    };
    const N: usize = 1000;
    let (alice, carol) = (na.login("alice").await, na.login("carol").await);
    let (bob, dave) = (nb.login("bob").await, nb.login("dave").await);
    let (aw, bw, mut cw, mut dw) = (
        alice.ws().await,
        bob.ws().await,
        carol.ws().await,
        dave.ws().await,
    );
    for c in [&alice, &bob, &carol, &dave] {
        c.enter("busy").await;
    }
    let send = |mut ws: Ws, who: &'static str| async move {
        for i in 0..N {
            ws.send(json!({"type": "room_text", "roomID": "busy", "text": format!("{who}-{i}")}))
                .await;
        }
        ws
    };
    let started = Instant::now();
    // Alice and bob send at once; everyone reads (Ws checks each seq is the
    // previous + 1: no frame lost or repeated).
    let (sa, sb, c_got, d_got) = tokio::join!(
        tokio::spawn(async move {
            let mut ws = send(aw, "a").await;
            collect_texts(&mut ws, N).await
        }),
        tokio::spawn(async move {
            let mut ws = send(bw, "b").await;
            collect_texts(&mut ws, N).await
        }),
        collect_texts(&mut cw, 2 * N),
        collect_texts(&mut dw, 2 * N),
    );
    eprintln!(
        "2 x {N} messages through two nodes in {:?}",
        started.elapsed()
    );
    let (a_got, b_got) = (sa.unwrap(), sb.unwrap());
    assert_eq!(c_got, d_got, "carol (A) and dave (B) saw one order");
    let from = |got: &[(String, String)], who: &str| -> Vec<String> {
        got.iter()
            .filter(|(u, _)| u == who)
            .map(|(_, t)| t.clone())
            .collect()
    };
    let want =
        |who: &str| -> Vec<String> { (0..N).map(|i| format!("{}-{i}", &who[..1])).collect() };
    assert_eq!(
        from(&c_got, "alice"),
        want("a"),
        "each sender's messages in its order"
    );
    assert_eq!(from(&c_got, "bob"), want("b"));
    // The senders got the other's messages in the same relative order.
    assert_eq!(
        a_got,
        c_got
            .iter()
            .filter(|(u, _)| u == "bob")
            .cloned()
            .collect::<Vec<_>>()
    );
    assert_eq!(
        b_got,
        c_got
            .iter()
            .filter(|(u, _)| u == "alice")
            .cloned()
            .collect::<Vec<_>>()
    );
    let interleaved = c_got.windows(2).filter(|w| w[0].0 != w[1].0).count();
    eprintln!("sender changes in the merged order: {interleaved}");
}

#[tokio::test]
async fn a_member_whose_node_froze_resumes_on_the_other_node_exactly_once() {
    let Some((_redis, na, nb)) = two_nodes("") else {
        return;
    };
    let (alice, bob, mut aw, mut bw) = alice_on_a_and_on_b(&na, &nb, "bob").await;
    for i in 0..5 {
        aw.send(json!({"type": "room_text", "roomID": "r", "text": format!("before-{i}")}))
            .await;
    }
    assert_eq!(collect_texts(&mut bw, 5).await.len(), 5);
    let seen = bw.last_seq;

    nb.signal("-STOP");
    for i in 0..50 {
        aw.send(json!({"type": "room_text", "roomID": "r", "text": format!("during-{i}")}))
            .await;
    }
    drop(bw); // the frozen node's socket is gone for bob
    let bob_on_a = on(&bob, &na);
    let mut bw = bob_on_a.ws_with(Some(seen)).await;
    assert_eq!(
        bw.welcome.as_ref().unwrap()["resumed"],
        true,
        "{:?}",
        bw.welcome
    );
    bw.last_seq = seen; // the replay continues right after what bob saw
    let during: Vec<String> = collect_texts(&mut bw, 50)
        .await
        .into_iter()
        .map(|(_, t)| t)
        .collect();
    assert_eq!(
        during,
        (0..50).map(|i| format!("during-{i}")).collect::<Vec<_>>()
    );
    // New frames reach bob on A, and nothing twice.
    aw.send(json!({"type": "room_text", "roomID": "r", "text": "after"}))
        .await;
    assert_eq!(collect_texts(&mut bw, 1).await[0].1, "after");
    bw.expect_none("room_text", Duration::from_millis(300))
        .await;

    // B wakes up: its stale socket's grace period must not evict bob, who lives on A now.
    nb.signal("-CONT");
    // Both keep reading (a socket nobody reads stops answering pings).
    tokio::join!(
        aw.expect_none("pusher_quit", Duration::from_millis(1500)),
        bw.expect_none("room_text", Duration::from_millis(1500)),
    );
    let pushers = alice.ok("get_pushers", json!({"roomID": "r"})).await;
    assert_eq!(pushers["pushers"].as_array().unwrap().len(), 2, "{pushers}");
}

/// Sends one RESP command to the test's Redis (no client library in tests).
fn redis_command(redis: &Redis, args: &[&str]) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", redis.port)).unwrap();
    let mut cmd = format!("*{}\r\n", args.len());
    for a in args {
        cmd.push_str(&format!("${}\r\n{a}\r\n", a.len()));
    }
    s.write_all(cmd.as_bytes()).unwrap();
    let mut buf = [0u8; 512];
    let n = s.read(&mut buf).unwrap();
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[tokio::test]
async fn redis_connections_killed_mid_traffic_lose_nothing() {
    let Some((redis, na, nb)) = two_nodes("") else {
        return;
    };
    const N: usize = 300;
    let (_alice, _carol, mut aw, mut cw) = alice_on_a_and_on_b(&na, &nb, "carol").await;
    let reader = tokio::spawn(async move { collect_texts(&mut cw, N).await });
    let mut retried = 0;
    for i in 0..N {
        if i % 100 == 50 {
            // Every node's connections (commands and the blocking inbox reads).
            let killed = redis_command(&redis, &["CLIENT", "KILL", "TYPE", "normal"]);
            assert!(killed.starts_with(':'), "{killed}");
        }
        // A message is sent once it is acknowledged; 1030 (Redis away) means send again.
        loop {
            let text = json!({"type": "room_text", "roomID": "r", "text": format!("m{i}")});
            let answer = aw.request(text, i as u32 + 1).await;
            if answer["type"] == "ack" {
                break;
            }
            assert_eq!(answer["code"], 1030, "{answer}");
            retried += 1;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let got: Vec<String> = tokio::time::timeout(Duration::from_secs(30), reader)
        .await
        .expect("carol got every message")
        .unwrap()
        .into_iter()
        .map(|(_, t)| t)
        .collect();
    assert_eq!(got, (0..N).map(|i| format!("m{i}")).collect::<Vec<_>>());
    eprintln!("{retried} sends answered 1030 and sent again");
    let m = na.metrics().await;
    assert!(
        !m.contains("rtcroom_redis_errors_total{node=\"node-a\"} 0\n") || retried == 0,
        "{m}"
    );
}

#[tokio::test]
async fn redis_down_answers_1030_and_sockets_stay_up() {
    let Some((mut redis, na, _nb)) = two_nodes("") else {
        return;
    };
    let alice = na.login("alice").await;
    let mut aw = alice.ws().await;
    alice.enter("r").await;
    let _ = redis.child.kill();
    let _ = redis.child.wait();
    let v = alice.call("get_pushers", json!({"roomID": "r"})).await;
    assert_eq!(v["code"], 1030, "{v}");
    // A login cannot open its session without Redis: it says so (not a token that fails later).
    let login: Value = reqwest::Client::new()
        .post(format!(
            "{}/login?sdkAppID={APP}&accountType=0&userID=bob&userSig={}",
            na.room_base(),
            urlencode(&sig("bob"))
        ))
        .body("")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(login["code"], 1030, "{login}");
    assert!(login.get("token").is_none(), "{login}");
    // Its answer cannot be numbered in Redis: it comes unnumbered (the last seq, as pong does).
    aw.send(json!({"type": "room_text", "roomID": "r", "text": "x", "reqID": 7}))
        .await;
    let frame = loop {
        use futures_util::StreamExt;
        let msg = tokio::time::timeout(Duration::from_secs(5), aw.stream.next())
            .await
            .expect("an answer")
            .unwrap()
            .unwrap();
        if let tokio_tungstenite::tungstenite::Message::Text(t) = msg {
            break serde_json::from_str::<Value>(t.as_str()).unwrap();
        }
    };
    assert_eq!(
        (
            frame["type"].as_str(),
            frame["code"].as_i64(),
            frame["reqID"].as_u64()
        ),
        (Some("error"), Some(1030), Some(7)),
        "{frame}"
    );
    assert_eq!(frame["seq"].as_u64(), Some(aw.last_seq));
    aw.send(json!({"type": "ping"})).await;
    assert_eq!(
        aw.expect("pong").await["type"],
        "pong",
        "the socket is still served"
    );
}

#[tokio::test]
async fn a_killed_nodes_members_are_reported_quit() {
    let Some((_redis, na, nb)) = two_nodes("") else {
        return;
    };
    let (alice, _bob, mut aw, _bw) = alice_on_a_and_on_b(&na, &nb, "bob").await;
    let killed = Instant::now();
    nb.signal("-KILL");
    // Node TTL 1.5 s, heartbeat timeout 3 s: well within 15 s.
    let quit = loop {
        let f = aw
            .next_within(Duration::from_secs(15))
            .await
            .expect("bob reported quit");
        if f["type"] == "pusher_quit" {
            break f;
        }
    };
    assert_eq!(quit["pusher"]["userID"], "bob");
    eprintln!(
        "bob reported quit {:?} after his node died ({})",
        killed.elapsed(),
        quit["reason"]
    );
    let pushers = alice.ok("get_pushers", json!({"roomID": "r"})).await;
    assert_eq!(pushers["pushers"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn every_node_restarted_keeps_rooms_rosters_and_sessions() {
    let Some((redis, na, nb)) = two_nodes("") else {
        return;
    };
    let alice = na.login("alice").await;
    let bob = nb.login("bob").await;
    let mut bw = bob.ws().await;
    alice.enter("kept").await;
    bob.enter("kept").await;
    let mut aw = alice.ws().await;
    aw.send(json!({"type": "room_text", "roomID": "kept", "text": "before restart"}))
        .await;
    assert_eq!(collect_texts(&mut bw, 1).await[0].1, "before restart");
    let seen = bw.last_seq;
    drop((aw, bw));
    drop((na, nb));
    let na = Node::start(&redis, "node-a", "");
    let nb = Node::start(&redis, "node-b", "");
    let alice = on(&alice, &na);
    let list = alice.ok("get_room_list", json!({})).await;
    assert_eq!(list["total"], 1, "{list}");
    let ids: Vec<&str> = list["rooms"][0]["pushers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["userID"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["alice", "bob"]);
    // Bob's session lives in Redis: he resumes on the new node B with his old token.
    let bob = on(&bob, &nb);
    let mut bw = bob.ws_with(Some(seen)).await;
    assert_eq!(bw.welcome.as_ref().unwrap()["resumed"], true);
    let mut aw = alice.ws().await;
    aw.send(json!({"type": "room_text", "roomID": "kept", "text": "after restart"}))
        .await;
    assert_eq!(collect_texts(&mut bw, 1).await[0].1, "after restart");
}

/// p50 and p99 of `samples` (milliseconds).
fn percentiles(mut samples: Vec<f64>) -> (f64, f64) {
    samples.sort_by(|a, b| a.total_cmp(b));
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.99))
}

/// Figures for docs/BENCHMARKS.md, not a bar: `cargo test -p rtcroom-server
/// --test cluster measure -- --ignored --nocapture`.
#[tokio::test]
#[ignore]
async fn measure_latency_cross_node_vs_same_node_and_join_redis_vs_memory() {
    let Some((_redis, na, nb)) = two_nodes("") else {
        return;
    };
    let (alice, carol, bob) = (
        na.login("alice").await,
        na.login("carol").await,
        nb.login("bob").await,
    );
    let (mut aw, mut cw, mut bw) = (alice.ws().await, carol.ws().await, bob.ws().await);
    for c in [&alice, &carol, &bob] {
        c.enter("lat").await;
    }
    // Each text reaches bob (node B) and carol (node A, like alice): time both.
    let (mut cross, mut same) = (Vec::new(), Vec::new());
    for i in 0..1000 {
        let t = Instant::now();
        aw.send(json!({"type": "room_text", "roomID": "lat", "text": format!("{i}")}))
            .await;
        let (b, c) = tokio::join!(
            async {
                bw.expect("room_text").await;
                t.elapsed().as_secs_f64() * 1e3
            },
            async {
                cw.expect("room_text").await;
                t.elapsed().as_secs_f64() * 1e3
            }
        );
        cross.push(b);
        same.push(c);
    }
    let (c50, c99) = percentiles(cross);
    let (s50, s99) = percentiles(same);
    eprintln!("room text A->B (cross-node): p50 {c50:.2} ms p99 {c99:.2} ms");
    eprintln!("room text A->A (same node, through Redis): p50 {s50:.2} ms p99 {s99:.2} ms");
    let memory = Node::start_with("memory", "memory-node", "");
    for (name, node) in [("redis", &na), ("memory", &memory)] {
        let mut joins = Vec::new();
        for i in 0..300 {
            let c = node.login(&format!("j{i}")).await;
            let t = Instant::now();
            c.enter(&format!("join-{name}-{}", i / 3)).await;
            joins.push(t.elapsed().as_secs_f64() * 1e3);
        }
        let (p50, p99) = percentiles(joins);
        eprintln!("add_pusher on {name}: p50 {p50:.2} ms p99 {p99:.2} ms");
    }
}

#[tokio::test]
async fn a_drained_nodes_members_resume_on_the_other_node() {
    let Some((_redis, na, nb)) = two_nodes("") else {
        return;
    };
    let (_alice, bob, mut aw, mut bw) = alice_on_a_and_on_b(&na, &nb, "bob").await;
    nb.signal("-TERM");
    // B tells its sockets to go (close 1001) and stops.
    assert!(
        bw.next_within(Duration::from_secs(10)).await.is_none(),
        "closed"
    );
    let seen = bw.last_seq;
    aw.send(json!({"type": "room_text", "roomID": "r", "text": "while moving"}))
        .await;
    let mut bw = on(&bob, &na).ws_with(Some(seen)).await;
    assert_eq!(bw.welcome.as_ref().unwrap()["resumed"], true);
    bw.last_seq = seen;
    assert_eq!(collect_texts(&mut bw, 1).await[0].1, "while moving");
    let (_, _) = tokio::join!(
        aw.expect_none("pusher_quit", Duration::from_millis(1500)),
        bw.expect_none("room_text", Duration::from_millis(1500)),
    );
}

#[tokio::test]
async fn logging_in_again_on_another_node_ends_the_old_session() {
    let Some((_redis, na, nb)) = two_nodes("") else {
        return;
    };
    let old = na.login("alice").await;
    let mut old_ws = old.ws().await;
    let new = nb.login("alice").await;
    let e = old_ws.expect("error").await;
    assert_eq!(e["code"], 1009, "{e}");
    assert!(
        old_ws.next_within(Duration::from_secs(2)).await.is_none(),
        "old socket closed"
    );
    assert_eq!(
        old.call("get_room_list", json!({})).await["code"],
        7,
        "old token is gone"
    );
    new.ok("get_room_list", json!({})).await;
}
