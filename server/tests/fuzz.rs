//! Bounded-time mutation fuzzing of the three parsers that take untrusted
//! bytes: the UserSig decoder (bytes, and JSON re-packed through zlib and
//! base64url so mutations reach the inner layers), HTTP command bodies (over
//! real HTTP), and WebSocket frames (over a real socket). Each target runs for
//! `RTCROOM_FUZZ_SECS` seconds (default 3) from a seed printed on failure
//! (`RTCROOM_FUZZ_SEED` replays one). The properties: no panic, no hang, every
//! answer is a well-formed `{code, message}` / frame, the server stays up and
//! its state consistent.
#![allow(clippy::unwrap_used)]

mod common;
use common::*;
use futures_util::{SinkExt, StreamExt};
use rtcroom_protocol::usersig::{self, base64url, AppKeys, VerifyOptions};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

/// xorshift64*: small, deterministic, seedable.
struct Rng(u64);

impl Rng {
    fn from_env() -> Self {
        let seed = std::env::var("RTCROOM_FUZZ_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
                    | 1
            });
        eprintln!("fuzz seed {seed} (RTCROOM_FUZZ_SEED={seed} replays it)");
        Self(seed)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn budget() -> Duration {
    let secs = std::env::var("RTCROOM_FUZZ_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3.0);
    Duration::from_secs_f64(secs)
}

/// Interesting bytes to insert: JSON structure, escapes, huge numbers, UTF-8 edges.
const TOKENS: &[&[u8]] = &[
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"",
    b":",
    b",",
    b"\\",
    b"\\u0000",
    b"\\ud800",
    b"null",
    b"true",
    b"-1",
    b"1e999",
    b"18446744073709551616",
    b"0",
    b"\xff",
    b"\xc3",
    b"\xe2\x82",
    b"\x00",
    b"\"type\"",
    b"\"roomID\"",
    b"\"to\"",
    b"\"sdp\"",
    b"\"reqID\"",
    b"\"TLS.sig\"",
    b"\"TLS.ver\"",
    b"\"TLS.identifier\"",
    b"\"TLS.sdkappid\"",
    b"\"TLS.time\"",
    b"\"TLS.expire\"",
];

/// One random mutation of `data` (byte edits, token splices, truncation, duplication).
fn mutate(rng: &mut Rng, data: &mut Vec<u8>) {
    for _ in 0..=rng.below(4) {
        let len = data.len();
        match rng.below(7) {
            0 if len > 0 => {
                let i = rng.below(len);
                data[i] = rng.next() as u8;
            }
            1 => {
                let i = rng.below(len + 1);
                data.insert(i, rng.next() as u8);
            }
            2 if len > 0 => {
                let i = rng.below(len);
                let n = rng.below(len - i).max(1);
                data.drain(i..i + n);
            }
            3 => {
                let i = rng.below(len + 1);
                let t = TOKENS[rng.below(TOKENS.len())];
                data.splice(i..i, t.iter().copied());
            }
            4 if len > 0 => data.truncate(rng.below(len)),
            5 if len > 0 && len < 100_000 => {
                let i = rng.below(len);
                let n = rng.below(len - i).max(1);
                let chunk: Vec<u8> = data[i..i + n].to_vec();
                let at = rng.below(len + 1);
                data.splice(at..at, chunk);
            }
            _ => {
                let i = rng.below(len + 1);
                let digits = format!("{}", rng.next());
                data.splice(i..i, digits.bytes());
            }
        }
    }
}

fn inflate(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    flate2::read::ZlibDecoder::new(bytes)
        .take(1 << 20)
        .read_to_end(&mut out)
        .ok()?;
    Some(out)
}

fn deflate(bytes: &[u8]) -> Vec<u8> {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    z.write_all(bytes).unwrap();
    z.finish().unwrap()
}

#[test]
fn usersig_decoder_survives_mutated_sigs() {
    let mut rng = Rng::from_env();
    let now = now_s();
    let keys = AppKeys {
        sdk_app_id: APP,
        secret_key: Some(SECRET.into()),
        public_key_pem: None,
    };
    let opts = VerifyOptions::at(now);
    let seeds: Vec<String> = ["alice", "bob.b", "李雷", "x"]
        .iter()
        .map(|u| usersig::gen_v2(APP, SECRET, u, 3600, now, None))
        .chain([usersig::gen_v2(
            APP,
            SECRET,
            "buf",
            3600,
            now,
            Some(b"userbuf"),
        )])
        .collect();
    let inner: Vec<Vec<u8>> = seeds
        .iter()
        .map(|s| inflate(&base64url::decode(s).unwrap()).unwrap())
        .collect();
    let end = Instant::now() + budget();
    let (mut runs, mut accepted, mut slowest) = (0u64, 0u64, Duration::ZERO);
    while Instant::now() < end {
        let i = rng.below(seeds.len());
        // Half the cases mutate the outer text, half the inner JSON (re-packed).
        let sig = if rng.below(2) == 0 {
            let mut bytes = seeds[i].as_bytes().to_vec();
            mutate(&mut rng, &mut bytes);
            String::from_utf8_lossy(&bytes).into_owned()
        } else {
            let mut json = inner[i].clone();
            mutate(&mut rng, &mut json);
            base64url::encode(&deflate(&json))
        };
        let t = Instant::now();
        let user = ["alice", "bob.b", "李雷", "x", "buf"][i];
        if usersig::verify(&sig, user, &keys, &opts).is_ok() {
            accepted += 1;
        }
        slowest = slowest.max(t.elapsed());
        runs += 1;
    }
    eprintln!("usersig: {runs} mutated sigs, {accepted} still valid, slowest {slowest:?}");
    assert!(runs > 1000, "only {runs} runs");
    assert!(slowest < Duration::from_secs(2), "one sig took {slowest:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_bodies_always_get_a_coded_answer() {
    let mut rng = Rng::from_env();
    let srv = Server::start(config()).await;
    let alice = srv.login("alice").await;
    alice.enter("r").await;
    let seeds: &[(&str, Value)] = &[
        (
            "add_pusher",
            json!({"roomID": "r", "userName": "A", "userAvatar": "a.png", "pushURL": "", "roomInfo": "i"}),
        ),
        (
            "create_room",
            json!({"roomID": "c", "roomInfo": "info", "userID": "alice"}),
        ),
        ("get_room_list", json!({"index": 0, "cnt": 20})),
        ("get_pushers", json!({"roomID": "r"})),
        (
            "pusher_heartbeat",
            json!({"roomID": "r", "userID": "alice"}),
        ),
        ("delete_pusher", json!({"roomID": "zz"})),
        ("get_push_url", json!({"userID": "alice", "roomID": "r"})),
        // Another user: a mutation that still logs in must not replace alice's
        // session (her token is used for every other call and the final check).
        (
            "login",
            json!({"sdkAppID": APP, "userID": "mallory", "userSig": sig("mallory")}),
        ),
    ];
    let end = Instant::now() + budget();
    let mut runs = 0u64;
    let mut codes = std::collections::BTreeMap::new();
    while Instant::now() < end {
        let (cmd, seed) = &seeds[rng.below(seeds.len())];
        let mut body = seed.to_string().into_bytes();
        mutate(&mut rng, &mut body);
        let url = if *cmd == "login" {
            format!("{}/login", srv.room_base())
        } else {
            format!("{}/{cmd}?{}", alice.base, alice.auth())
        };
        let r = alice
            .http
            .post(url)
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            200,
            "{cmd} {:?}",
            String::from_utf8_lossy(&body)
        );
        let v: Value = r.json().await.unwrap();
        let code = v["code"].as_i64().unwrap_or_else(|| panic!("no code: {v}"));
        assert!(v["message"].is_string(), "{v}");
        *codes.entry(code).or_insert(0u64) += 1;
        runs += 1;
    }
    eprintln!("http: {runs} mutated bodies, answers by code {codes:?}");
    assert!(runs > 100, "only {runs} runs");
    // Still serving, state consistent: alice's room still lists her.
    let p = alice.ok("get_pushers", json!({"roomID": "r"})).await;
    assert!(
        p["pushers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["userID"] == "alice"),
        "{p}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_frames_always_get_a_well_formed_answer() {
    let mut rng = Rng::from_env();
    let mut cfg = config();
    cfg.limits.messages_per_second = 1_000_000;
    cfg.limits.messages_burst = 1_000_000;
    let srv = Server::start(cfg).await;
    let (alice, bob) = (srv.login("alice").await, srv.login("bob").await);
    alice.enter("r").await;
    bob.enter("r").await;
    let ws = alice.ws().await;
    let bw = bob.ws().await;
    let (mut tx, mut rx) = ws.stream.split();
    // Bob reads (and checks) whatever reaches him, so his queue never backs up.
    let bob_reader = tokio::spawn(async move {
        let mut s = bw.stream;
        let mut n = 0u64;
        while let Some(Ok(m)) = s.next().await {
            if let Message::Text(t) = m {
                let v: Value = serde_json::from_str(t.as_str()).expect("bob got a JSON frame");
                assert!(v["type"].is_string() && v["seq"].is_u64(), "{v}");
                n += 1;
            }
        }
        n
    });
    let reader = tokio::spawn(async move {
        let mut n = 0u64;
        while let Some(Ok(m)) = rx.next().await {
            if let Message::Text(t) = m {
                let v: Value = serde_json::from_str(t.as_str()).expect("a JSON frame");
                assert!(v["type"].is_string() && v["seq"].is_u64(), "{v}");
                if v["type"] == "error" {
                    assert!(v["code"].is_i64() && v["message"].is_string(), "{v}");
                }
                if v["type"] == "pong" && v["final"].is_null() {
                    n += 1;
                }
            }
        }
        n
    });
    let seeds = [
        json!({"type": "ping", "reqID": 1}),
        json!({"type": "room_text", "roomID": "r", "text": "hi", "reqID": 2}),
        json!({"type": "room_custom", "roomID": "r", "cmd": "c", "msg": "m", "reqID": 3}),
        json!({"type": "offer", "roomID": "r", "to": "bob", "sdp": "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n", "reqID": 4}),
        json!({"type": "answer", "roomID": "r", "to": "bob", "sdp": "v=0\r\n", "reqID": 5}),
        json!({"type": "candidate", "roomID": "r", "to": "bob", "candidate": {"candidate": "candidate:1 1 udp 1 127.0.0.1 9 typ host", "sdpMid": "0", "sdpMLineIndex": 0}, "reqID": 6}),
        json!({"type": "renegotiate", "roomID": "r", "to": "bob", "reqID": 7}),
        json!({"type": "mesh_release", "roomID": "r", "to": "bob", "reqID": 8}),
    ];
    let end = Instant::now() + budget();
    let mut runs = 0u64;
    while Instant::now() < end {
        let mut frame = seeds[rng.below(seeds.len())].to_string().into_bytes();
        mutate(&mut rng, &mut frame);
        let msg = match String::from_utf8(frame) {
            Ok(text) => Message::Text(text.into()),
            Err(e) => Message::Binary(e.into_bytes().into()),
        };
        tx.send(msg).await.unwrap();
        runs += 1;
    }
    // The connection is still alive and answering.
    tx.send(Message::Text(json!({"type": "ping"}).to_string().into()))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _ = tx.close().await;
    let pongs = tokio::time::timeout(Duration::from_secs(10), reader)
        .await
        .expect("reader ends after close")
        .unwrap();
    eprintln!("ws: {runs} mutated frames sent, {pongs} pongs back");
    assert!(runs > 1000, "only {runs} runs");
    assert!(pongs >= 1, "the final ping was answered");
    let p = bob.ok("get_pushers", json!({"roomID": "r"})).await;
    assert_eq!(p["pushers"].as_array().unwrap().len(), 2, "{p}");
    bob_reader.abort();
}
