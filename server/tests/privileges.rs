//! Room privileges (Tencent's PrivateMapKey, as TRTC uses it): with
//! `[[apps]] require_privilege = true`, `create_room` needs the create bit and
//! `add_pusher` the enter and publish bits (and create when it makes the
//! room), for that user and that room, in a key made by Tencent's official
//! npm `tls-sig-api-v2` (`genPrivateMapKey`, `genPrivateMapKeyWithStringRoomID`).
//! Each refusal has its own code.
#![allow(clippy::unwrap_used)]

mod common;
use common::*;
use serde_json::{json, Value};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const CREATE: u32 = 1;
const ENTER: u32 = 2;
const SEND_AUDIO: u32 = 4;
const SEND_VIDEO: u32 = 16;
const ALL: u32 = 255;

fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../protocol/tests/interop")
}

/// Keys from the official generator: `reqs` are `{id, room, priv, expire, now}`.
fn official_keys(reqs: &[Value]) -> Vec<String> {
    static INSTALL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let dir = interop_dir();
    let _once = INSTALL.lock().unwrap_or_else(|p| p.into_inner());
    if !dir
        .join("node_modules/tls-sig-api-v2/package.json")
        .exists()
    {
        let status = Command::new("npm")
            .args(["install", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .status()
            .expect("npm (needed for the official generator)");
        assert!(status.success());
    }
    let input: Vec<Value> = reqs
        .iter()
        .map(|r| {
            let mut o = json!({
                "app": APP, "key": SECRET, "id": r["id"], "expire": r["expire"],
                "now": r["now"], "priv": r["priv"],
            });
            match &r["room"] {
                Value::Number(n) => {
                    o["kind"] = "privmap".into();
                    o["roomid"] = Value::Number(n.clone());
                }
                s => {
                    o["kind"] = "privmap_str".into();
                    o["roomstr"] = s.clone();
                }
            }
            o
        })
        .collect();
    let mut child = Command::new("node")
        .arg("gen.js")
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("node");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(Value::Array(input).to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let v: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    v.iter()
        .map(|s| s["sig"].as_str().unwrap().to_owned())
        .collect()
}

fn key_req(id: &str, room: Value, privs: u32) -> Value {
    json!({"id": id, "room": room, "priv": privs, "expire": 600, "now": now_s()})
}

async fn privileged_server() -> Server {
    let mut cfg = config();
    cfg.apps[0].require_privilege = true;
    Server::start(cfg).await
}

fn code(v: &Value) -> i64 {
    v["code"].as_i64().unwrap()
}

#[tokio::test]
async fn the_right_key_works_and_each_wrong_one_has_its_code() {
    let srv = privileged_server().await;
    let alice = srv.login("alice").await;
    let bob = srv.login("bob").await;
    let keys = official_keys(&[
        key_req("alice", json!("room_priv"), ALL), // 0 right (string room)
        key_req("alice", json!("room_other"), ALL), // 1 another room
        key_req("carol", json!("room_priv"), ALL), // 2 another user
        key_req("bob", json!("room_priv"), ALL & !ENTER), // 3 no enter bit
        json!({"id": "bob", "room": "room_priv", "priv": ALL, "expire": 10, "now": now_s() - 100}), // 4 expired
        key_req("bob", json!("room_priv"), ENTER | SEND_VIDEO), // 5 right for bob (enter + publish)
        key_req("alice", json!(4242), CREATE | ENTER | SEND_AUDIO), // 6 numeric room
        key_req("bob", json!("room_priv"), ENTER),              // 7 no publish bit
        key_req("alice", json!("room_new"), ALL & !CREATE),     // 8 no create bit
    ]);

    // Missing key.
    let v = alice
        .call(
            "create_room",
            json!({"roomID": "room_priv", "roomInfo": "i"}),
        )
        .await;
    assert_eq!(code(&v), 1023, "{v}");
    // Wrong room, wrong user, expired, no create bit: each its own code.
    let create = |k: &str, room: &str| json!({"roomID": room, "roomInfo": "i", "privateMapKey": k});
    let v = alice
        .call("create_room", create(&keys[1], "room_priv"))
        .await;
    assert_eq!(code(&v), 1025, "wrong room: {v}");
    let v = alice
        .call("create_room", create(&keys[2], "room_priv"))
        .await;
    assert_eq!(code(&v), 1024, "wrong user: {v}");
    let v = alice
        .call("create_room", create(&keys[8], "room_new"))
        .await;
    assert_eq!(code(&v), 1027, "no create bit: {v}");
    // A tampered key fails as a UserSig would (bad signature).
    let mut tampered = keys[0].clone();
    tampered.push('A');
    let v = alice
        .call("create_room", create(&tampered, "room_priv"))
        .await;
    assert!((7001..=7011).contains(&code(&v)), "tampered: {v}");
    // Assigned ids cannot have a key.
    let v = alice
        .call(
            "create_room",
            json!({"roomInfo": "i", "privateMapKey": keys[0]}),
        )
        .await;
    assert_eq!(code(&v), 1025, "{v}");

    // The right key: create, then enter (add_pusher) with it.
    alice.ok("create_room", create(&keys[0], "room_priv")).await;
    let enter = |k: &str| json!({"roomID": "room_priv", "userName": "n", "userAvatar": "", "privateMapKey": k});
    let v = alice
        .call(
            "add_pusher",
            json!({"roomID": "room_priv", "userName": "n", "userAvatar": ""}),
        )
        .await;
    assert_eq!(code(&v), 1023, "{v}");
    alice.ok("add_pusher", enter(&keys[0])).await;

    // bob: no enter bit, expired, no publish bit, alice's key; then his own.
    let v = bob.call("add_pusher", enter(&keys[3])).await;
    assert_eq!(code(&v), 1027, "no enter bit: {v}");
    let v = bob.call("add_pusher", enter(&keys[4])).await;
    assert_eq!(code(&v), 1026, "expired: {v}");
    let v = bob.call("add_pusher", enter(&keys[7])).await;
    assert_eq!(code(&v), 1027, "no publish bit: {v}");
    let v = bob.call("add_pusher", enter(&keys[0])).await;
    assert_eq!(code(&v), 1024, "alice's key: {v}");
    let pushers = alice
        .ok("get_pushers", json!({"roomID": "room_priv"}))
        .await;
    assert_eq!(pushers["pushers"].as_array().unwrap().len(), 1, "{pushers}");
    bob.ok("add_pusher", enter(&keys[5])).await;
    let pushers = alice
        .ok("get_pushers", json!({"roomID": "room_priv"}))
        .await;
    assert_eq!(pushers["pushers"].as_array().unwrap().len(), 2, "{pushers}");

    // genPrivateMapKey's numeric room ids match the room written as that number;
    // add_pusher that creates the room needs the create bit, which this key has.
    alice
        .ok(
            "add_pusher",
            json!({"roomID": "4242", "userName": "n", "userAvatar": "", "privateMapKey": keys[6]}),
        )
        .await;
}

#[tokio::test]
async fn add_pusher_that_creates_the_room_needs_the_create_bit() {
    let srv = privileged_server().await;
    let alice = srv.login("alice").await;
    let keys = official_keys(&[
        key_req("alice", json!("fresh"), ENTER | SEND_AUDIO | SEND_VIDEO),
        key_req("alice", json!("fresh"), CREATE | ENTER | SEND_VIDEO),
    ]);
    let enter =
        |k: &str| json!({"roomID": "fresh", "userName": "n", "userAvatar": "", "privateMapKey": k});
    let v = alice.call("add_pusher", enter(&keys[0])).await;
    assert_eq!(code(&v), 1027, "{v}");
    alice.ok("add_pusher", enter(&keys[1])).await;
}

#[tokio::test]
async fn apps_without_the_switch_need_no_key() {
    let srv = Server::start(config()).await;
    let alice = srv.login("alice").await;
    alice
        .ok("create_room", json!({"roomID": "open", "roomInfo": "i"}))
        .await;
    alice
        .ok(
            "add_pusher",
            json!({"roomID": "open", "userName": "n", "userAvatar": ""}),
        )
        .await;
}
