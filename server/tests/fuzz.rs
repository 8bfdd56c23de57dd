//! Property-based fuzzing (proptest, stable toolchain) of the three parsers
//! that take untrusted bytes: the UserSig decoder, HTTP command bodies (over
//! real HTTP) and WebSocket frames (over a real socket).
//!
//! Inputs are structured but hostile — valid-looking UserSigs with a field
//! changed or an encoding layer broken, the body of every command and every
//! client frame type with values of the wrong type, huge or odd Unicode —
//! and then, for part of the cases, mutated byte by byte (edits, JSON-token
//! splices, truncation, duplication). The properties: every input gets a
//! well-formed answer with a code in bounded time (no panic, hang, non-200
//! answer or dropped socket), a UserSig is accepted exactly when it is
//! authentic and in time, and the server's state stays consistent.
//!
//! Bounds: each target runs `PROPTEST_CASES` cases (default per target below)
//! or until `RTCROOM_FUZZ_SECS` seconds (default 4) have passed, whichever
//! comes first. A failure shrinks to a minimal input, prints it with the run's
//! `PROPTEST_RNG_SEED`, and proptest appends its seed to
//! `tests/proptest-regressions/fuzz.txt`, whose cases run first every time.
#![allow(clippy::unwrap_used)]

mod common;
use common::*;
use futures_util::{SinkExt, StreamExt};
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, RngSeed, TestCaseError, TestRunner};
use rtcroom_protocol::command;
use rtcroom_protocol::error::ErrorCode;
use rtcroom_protocol::ids::{RoomId, UserId};
use rtcroom_protocol::usersig::{self, base64url, AppKeys, VerifyOptions};
use rtcroom_protocol::ws::{ClientFrame, IceCandidate};
use serde_json::{json, Map, Value};
use std::cell::{Cell, RefCell};
use std::fmt::Debug;
use std::io::Write;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

// ---------------------------------------------------------------- runner ----

/// Runs `property` over `strategy` within the case and time budget; panics
/// with the minimal failing input and the seed that replays the run.
fn fuzz<S>(
    target: &str,
    default_cases: u32,
    strategy: S,
    property: impl Fn(S::Value) -> Result<(), TestCaseError>,
) where
    S: Strategy,
    S::Value: Debug,
{
    let mut config = Config::default(); // reads PROPTEST_* from the environment
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = default_cases;
    }
    let seed = match config.rng_seed {
        RngSeed::Fixed(s) => s,
        RngSeed::Random => {
            let s = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64;
            config.rng_seed = RngSeed::Fixed(s);
            s
        }
    };
    if std::env::var_os("PROPTEST_DISABLE_FAILURE_PERSISTENCE").is_none() {
        config.failure_persistence = Some(Box::new(FileFailurePersistence::Direct(
            "tests/proptest-regressions/fuzz.txt",
        )));
    }
    let secs: f64 = std::env::var("RTCROOM_FUZZ_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(4.0);
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    // Past the deadline the remaining cases pass without running, except
    // once a case failed: then shrinking must see the real verdicts.
    let (ran, failing) = (Cell::new(0u64), Cell::new(false));
    let mut runner = TestRunner::new(config);
    let started = Instant::now();
    let result = runner.run(&strategy, |input| {
        if !failing.get() && Instant::now() >= deadline {
            return Ok(());
        }
        ran.set(ran.get() + 1);
        failing.set(true); // a panic inside `property` leaves it set
        let verdict = property(input);
        failing.set(verdict.is_err());
        verdict
    });
    eprintln!(
        "fuzz {target}: {} cases in {:.1} s (PROPTEST_RNG_SEED={seed} replays them)",
        ran.get(),
        started.elapsed().as_secs_f64()
    );
    if let Err(e) = result {
        panic!("fuzz {target} failed: {e} (PROPTEST_RNG_SEED={seed} replays the run)");
    }
}

// ------------------------------------------------------- byte mutations ----

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

/// One byte-level edit; positions are taken modulo the data's length, so a
/// shrunk case stays meaningful.
#[derive(Debug, Clone)]
enum Mutation {
    Set(usize, u8),
    Insert(usize, u8),
    Delete(usize, usize),
    Token(usize, usize),
    Truncate(usize),
    Duplicate(usize, usize, usize),
    Digits(usize, u64),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let at = any::<usize>();
    prop_oneof![
        (at, any::<u8>()).prop_map(|(i, b)| Mutation::Set(i, b)),
        (at, any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        (at, 1..64usize).prop_map(|(i, n)| Mutation::Delete(i, n)),
        (at, 0..TOKENS.len()).prop_map(|(i, t)| Mutation::Token(i, t)),
        at.prop_map(Mutation::Truncate),
        (at, 1..256usize, at).prop_map(|(i, n, to)| Mutation::Duplicate(i, n, to)),
        (at, any::<u64>()).prop_map(|(i, d)| Mutation::Digits(i, d)),
    ]
}

/// Up to `max` mutations (none in about half the cases).
fn mutations(max: usize) -> impl Strategy<Value = Vec<Mutation>> {
    prop_oneof![Just(Vec::new()), prop::collection::vec(mutation(), 1..=max)]
}

fn apply(data: &mut Vec<u8>, edits: &[Mutation]) {
    for m in edits {
        let len = data.len();
        let pos = |i: usize| i % (len + 1);
        match *m {
            Mutation::Set(i, b) if len > 0 => data[i % len] = b,
            Mutation::Insert(i, b) => data.insert(pos(i), b),
            Mutation::Delete(i, n) if len > 0 => {
                let i = i % len;
                data.drain(i..(i + n).min(len));
            }
            Mutation::Token(i, t) => {
                let i = pos(i);
                data.splice(i..i, TOKENS[t].iter().copied());
            }
            Mutation::Truncate(i) => data.truncate(pos(i)),
            Mutation::Duplicate(i, n, to) if len > 0 && len < 100_000 => {
                let i = i % len;
                let chunk = data[i..(i + n).min(len)].to_vec();
                let to = pos(to);
                data.splice(to..to, chunk);
            }
            Mutation::Digits(i, d) => {
                let i = pos(i);
                data.splice(i..i, d.to_string().into_bytes());
            }
            _ => {}
        }
    }
}

// --------------------------------------------------------- hostile JSON ----

/// Unicode that breaks naive code: NUL, BOM, RTL override, astral emoji,
/// combining marks, quotes and escapes, path and markup look-alikes.
const ODD_TEXT: &[&str] = &[
    "",
    "\u{0}",
    "\u{feff}",
    "\u{202e}gpj.exe",
    "🎉👨‍👩‍👧",
    "e\u{301}\u{301}\u{301}",
    "a\"b\\c",
    "<script>alert(1)</script>",
    "../../etc/passwd",
    "李雷",
    " ",
    "\r\n",
    "%00",
];

/// A JSON value of any type, often the wrong one: odd or huge strings, edge
/// numbers, nested arrays and objects.
fn hostile_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        prop::sample::select(vec![0.5f64, -1e308, 1e308, f64::MIN_POSITIVE]).prop_map(|f| json!(f)),
        prop::sample::select(ODD_TEXT).prop_map(Value::from),
        "\\PC{0,40}".prop_map(Value::from),
        // Huge: past every field cap (the body limit is 2 MB).
        (1usize..300_000, prop::sample::select(vec!["x", "é", "🎉"]))
            .prop_map(|(n, c)| Value::from(c.repeat(n))),
    ];
    leaf.prop_recursive(2, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map("[a-zA-Z.]{1,12}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// What happens to one field of a seed object.
#[derive(Debug, Clone)]
enum FieldEdit {
    Keep,
    Remove,
    Replace(Value),
}

fn field_edit() -> impl Strategy<Value = FieldEdit> {
    prop_oneof![
        2 => Just(FieldEdit::Keep),
        1 => Just(FieldEdit::Remove),
        3 => hostile_value().prop_map(FieldEdit::Replace),
    ]
}

/// A seed object with some fields removed or replaced, maybe an extra one.
fn hostile_object(seed: &Value) -> impl Strategy<Value = Value> {
    let seed = seed.as_object().cloned().unwrap_or_default();
    let n = seed.len();
    (
        prop::collection::vec(field_edit(), n),
        prop::option::of(("[a-zA-Z]{1,10}", hostile_value())),
    )
        .prop_map(move |(edits, extra)| {
            let mut obj = Map::new();
            for ((k, v), e) in seed.iter().zip(edits) {
                match e {
                    FieldEdit::Keep => {
                        obj.insert(k.clone(), v.clone());
                    }
                    FieldEdit::Remove => {}
                    FieldEdit::Replace(x) => {
                        obj.insert(k.clone(), x);
                    }
                }
            }
            if let Some((k, v)) = extra {
                obj.insert(k, v);
            }
            Value::Object(obj)
        })
}

// -------------------------------------------------------------- UserSig ----

const USERS: &[&str] = &["alice", "bob.b", "李雷", "x"];
const SIGNED_FIELDS: &[&str] = &[
    "TLS.identifier",
    "TLS.sdkappid",
    "TLS.time",
    "TLS.expire",
    "TLS.userbuf",
    "TLS.sig",
];

/// How the (maybe tampered) JSON becomes the sig text.
#[derive(Debug, Clone)]
enum Encoding {
    /// zlib at this level, then Tencent's base64url.
    Proper(u32),
    /// Standard base64 (`+/=`) instead of Tencent's alphabet.
    StandardBase64(u32),
    /// No zlib layer.
    Uncompressed,
    /// The zlib stream cut at this fraction (per mille).
    TruncatedZlib(u16),
    /// A zlib stream of this many zero bytes in front of the JSON (a bomb past the 64 KiB JSON cap when large).
    Padded(usize),
}

fn encoding() -> impl Strategy<Value = Encoding> {
    prop_oneof![
        6 => (0u32..=9).prop_map(Encoding::Proper),
        1 => (0u32..=9).prop_map(Encoding::StandardBase64),
        1 => Just(Encoding::Uncompressed),
        1 => (0u16..1000).prop_map(Encoding::TruncatedZlib),
        1 => (1usize..200_000).prop_map(Encoding::Padded),
    ]
}

#[derive(Debug, Clone)]
struct SigCase {
    /// Who signs and who presents it.
    signer: usize,
    presenter: usize,
    /// `TLS.time` relative to now, and `TLS.expire`.
    time_offset: i64,
    expire: i64,
    userbuf: Option<Vec<u8>>,
    /// One field of the inner JSON replaced (index into the object's keys), or none.
    tamper: Option<(usize, FieldEdit)>,
    json_edits: Vec<Mutation>,
    encoding: Encoding,
    text_edits: Vec<Mutation>,
}

fn sig_case() -> impl Strategy<Value = SigCase> {
    let time_offset = prop_oneof![
        -1000i64..1000,
        Just(i64::MIN / 2),
        Just(i64::MAX / 2),
        -100_000i64..100_000
    ];
    let expire = prop_oneof![
        Just(3600i64),
        -10i64..10,
        0i64..200_000,
        Just(i64::MAX),
        Just(i64::MIN)
    ];
    (
        (0..USERS.len(), 0..USERS.len()),
        (time_offset, expire),
        prop::option::of(prop::collection::vec(any::<u8>(), 0..40)),
        prop::option::weighted(0.4, (0usize..8, field_edit())),
        prop::option::weighted(0.3, mutations(4)).prop_map(Option::unwrap_or_default),
        encoding(),
        prop::option::weighted(0.3, mutations(4)).prop_map(Option::unwrap_or_default),
    )
        .prop_map(
            |(
                (signer, presenter),
                (time_offset, expire),
                userbuf,
                tamper,
                json_edits,
                encoding,
                text_edits,
            )| SigCase {
                signer,
                presenter,
                time_offset,
                expire,
                userbuf,
                tamper,
                json_edits,
                encoding,
                text_edits,
            },
        )
}

fn zlib(bytes: &[u8], level: u32) -> Vec<u8> {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(level));
    z.write_all(bytes).unwrap();
    z.finish().unwrap()
}

/// Builds the sig text and says whether it must verify (None: no oracle,
/// the bytes were mutated).
fn build_sig(c: &SigCase, now: i64, opts: &VerifyOptions) -> (String, Option<bool>) {
    let time = now.saturating_add(c.time_offset);
    let signed = usersig::gen_v2(
        APP,
        SECRET,
        USERS[c.signer],
        c.expire,
        time,
        c.userbuf.as_deref(),
    );
    let inner = usersig::decode_object(&signed).unwrap();
    let mut obj = inner.clone();
    let mut changed_signed = false;
    let mut changed_ver = false;
    if let Some((i, edit)) = &c.tamper {
        let key = obj.keys().nth(i % obj.len()).unwrap().clone();
        let before = obj.get(&key).cloned();
        match edit {
            FieldEdit::Keep => {}
            FieldEdit::Remove => {
                obj.remove(&key);
            }
            FieldEdit::Replace(v) => {
                obj.insert(key.clone(), v.clone());
            }
        }
        if obj.get(&key) != before.as_ref() {
            changed_signed |= SIGNED_FIELDS.contains(&key.as_str());
            changed_ver |= key == "TLS.ver";
        }
    }
    let mut json = serde_json::to_vec(&Value::Object(obj)).unwrap();
    apply(&mut json, &c.json_edits);
    let mut oracle = c.json_edits.is_empty() && c.text_edits.is_empty();
    let mut within_caps = true;
    let text = match c.encoding {
        Encoding::Proper(level) => base64url::encode(&zlib(&json, level)),
        Encoding::StandardBase64(level) => {
            use base64::Engine;
            let t = base64::engine::general_purpose::STANDARD.encode(zlib(&json, level));
            // Without `+`, `/` or `=` it is also valid base64url: no oracle then.
            oracle &= t.contains(['+', '/', '=']);
            t
        }
        Encoding::Uncompressed => base64url::encode(&json),
        Encoding::TruncatedZlib(pm) => {
            let z = zlib(&json, 6);
            let keep = z.len() * usize::from(pm) / 1000;
            base64url::encode(&z[..keep.min(z.len().saturating_sub(1))])
        }
        Encoding::Padded(n) => {
            let mut padded = vec![b' '; n];
            padded.extend_from_slice(&json);
            // Whitespace before JSON is still JSON: valid below the caps, refused past them.
            let t = base64url::encode(&zlib(&padded, 9));
            within_caps = padded.len() <= usersig::MAX_JSON_LEN && t.len() <= usersig::MAX_SIG_LEN;
            t
        }
    };
    let mut bytes = text.into_bytes();
    apply(&mut bytes, &c.text_edits);
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let in_time =
        time <= now.saturating_add(opts.max_clock_skew) && now <= time.saturating_add(c.expire);
    let authentic_encoding =
        matches!(c.encoding, Encoding::Proper(_) | Encoding::Padded(_)) && within_caps;
    let must_verify =
        authentic_encoding && !changed_signed && !changed_ver && c.signer == c.presenter && in_time;
    (text, oracle.then_some(must_verify))
}

#[test]
fn usersig_decoder_answers_every_sig_with_its_verdict() {
    let now = now_s();
    let keys = AppKeys {
        sdk_app_id: APP,
        secret_key: Some(SECRET.into()),
        public_key_pem: None,
    };
    let opts = VerifyOptions::at(now);
    fuzz("usersig", 20_000, sig_case(), |c| {
        let (text, expected) = build_sig(&c, now, &opts);
        let user = USERS[c.presenter];
        let t = Instant::now();
        let verdict = usersig::verify(&text, user, &keys, &opts);
        let took = t.elapsed();
        prop_assert!(took < Duration::from_secs(1), "one sig took {took:?}");
        match (&verdict, expected) {
            (Ok(v), _) => {
                // Whatever the bytes, an accepted sig names the presenter, our app, and is in time.
                prop_assert_eq!(&v.identifier, user);
                prop_assert_eq!(v.sdk_app_id, APP);
                prop_assert!(
                    expected != Some(false),
                    "accepted a sig that must fail: {text}"
                );
            }
            (Err(e), Some(true)) => prop_assert!(false, "refused an authentic sig ({e}): {text}"),
            (Err(e), _) => prop_assert!(!e.to_string().is_empty()),
        }
        Ok(())
    });
}

// ----------------------------------------------------------- HTTP bodies ----

/// A valid body for each command (`login`'s credentials travel in the query
/// string; its body is fuzzed like the others).
fn command_seeds() -> Vec<(&'static str, Value)> {
    vec![
        (
            "login",
            json!({"sdkAppID": APP, "userID": "mallory", "userSig": sig("mallory")}),
        ),
        ("logout", json!({})),
        ("get_push_url", json!({"userID": "alice", "roomID": "r"})),
        ("get_room_list", json!({"index": 0, "cnt": 20})),
        ("get_pushers", json!({"roomID": "r"})),
        (
            "create_room",
            json!({"roomID": "c", "roomInfo": "info", "userID": "alice"}),
        ),
        (
            "add_pusher",
            json!({"roomID": "r", "userName": "A", "userAvatar": "a.png", "pushURL": "", "roomInfo": "i"}),
        ),
        ("delete_pusher", json!({"roomID": "zz", "userID": "alice"})),
        ("destroy_room", json!({"roomID": "zz", "userID": "alice"})),
        (
            "pusher_heartbeat",
            json!({"roomID": "r", "userID": "alice"}),
        ),
    ]
}

#[derive(Debug, Clone)]
struct BodyCase {
    command: usize,
    body: Value,
    edits: Vec<Mutation>,
}

fn body_case(seeds: &[(&'static str, Value)]) -> impl Strategy<Value = BodyCase> {
    prop::strategy::Union::new(seeds.iter().enumerate().map(|(command, (_, seed))| {
        (hostile_object(seed), mutations(6))
            .prop_map(move |(body, edits)| BodyCase {
                command,
                body,
                edits,
            })
            .boxed()
    }))
}

/// Bodies over this get HTTP 413 without JSON (axum's default limit; PROTOCOL.md).
const BODY_LIMIT: usize = 2 * 1024 * 1024;

/// Checks a reply is `{code, message}` with a code of the protocol.
fn well_formed(v: &Value) -> Result<i64, TestCaseError> {
    let code = v["code"]
        .as_i64()
        .ok_or_else(|| TestCaseError::fail(format!("no code: {v}")))?;
    prop_assert!(v["message"].is_string(), "no message: {v}");
    let known = i32::try_from(code).ok().and_then(ErrorCode::from_code);
    prop_assert!(code == 0 || known.is_some(), "unknown code {code}: {v}");
    prop_assert!(known != Some(ErrorCode::Internal), "internal error: {v}");
    Ok(code)
}

#[test]
fn http_bodies_always_get_a_coded_answer() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let seeds = command_seeds();
    let names: Vec<&str> = seeds.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        names,
        command::NAMES,
        "one seed body per command, in table order"
    );
    let (srv, alice, carol) = rt.block_on(async {
        let srv = Server::start(config()).await;
        let alice = srv.login("alice").await;
        alice.enter("r").await;
        let carol = srv.login("carol").await;
        (srv, alice, carol)
    });
    // `logout` runs as carol (logged in again whenever it succeeded), the rest as alice.
    let carol = RefCell::new(carol);
    let codes = RefCell::new(std::collections::BTreeMap::<i64, u64>::new());
    fuzz("http", 3_000, body_case(&seeds), |c| {
        let (cmd, _) = &seeds[c.command];
        let mut body = c.body.to_string().into_bytes();
        apply(&mut body, &c.edits);
        rt.block_on(async {
            let url = match *cmd {
                "login" => format!("{}/login", srv.room_base()),
                "logout" => format!("{}/logout?{}", alice.base, carol.borrow().auth()),
                _ => format!("{}/{cmd}?{}", alice.base, alice.auth()),
            };
            let send = alice.http.post(url).body(body.clone()).send();
            let r = tokio::time::timeout(Duration::from_secs(10), send)
                .await
                .map_err(|_| TestCaseError::fail("no answer within 10 s"))?
                .map_err(|e| TestCaseError::fail(format!("request failed: {e}")))?;
            if body.len() > BODY_LIMIT {
                prop_assert_eq!(r.status(), 413, "{} body of {} bytes", cmd, body.len());
                return Ok(());
            }
            prop_assert_eq!(
                r.status(),
                200,
                "{} {:?}",
                cmd,
                String::from_utf8_lossy(&body)
            );
            let v: Value = r
                .json()
                .await
                .map_err(|e| TestCaseError::fail(format!("not JSON: {e}")))?;
            let code = well_formed(&v)?;
            *codes.borrow_mut().entry(code).or_default() += 1;
            if *cmd == "logout" && code == 0 {
                *carol.borrow_mut() = srv.login("carol").await;
            }
            Ok(())
        })
    });
    eprintln!("http answers by code: {:?}", codes.borrow());
    // Still serving, state consistent: alice's room still lists her.
    rt.block_on(async {
        let p = alice.ok("get_pushers", json!({"roomID": "r"})).await;
        assert!(
            p["pushers"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["userID"] == "alice"),
            "{p}"
        );
    });
}

// ------------------------------------------------------ WebSocket frames ----

/// One valid frame of every client frame type (the match fails to compile
/// when a type is added without a seed).
fn frame_seeds() -> Vec<Value> {
    let to = || UserId::new("bob").unwrap();
    let room = || RoomId::new("r").unwrap();
    let frames = [
        ClientFrame::Ping,
        ClientFrame::RoomText { room_id: room(), text: "hi".into() },
        ClientFrame::RoomCustom { room_id: room(), cmd: "c".into(), msg: "m".into() },
        ClientFrame::Offer { room_id: room(), to: to(), sdp: "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n".into() },
        ClientFrame::Answer { room_id: room(), to: to(), sdp: "v=0\r\n".into() },
        ClientFrame::Candidate {
            room_id: room(),
            to: to(),
            candidate: serde_json::from_value::<IceCandidate>(json!({
                "candidate": "candidate:1 1 udp 1 127.0.0.1 9 typ host", "sdpMid": "0", "sdpMLineIndex": 0
            }))
            .unwrap(),
        },
        ClientFrame::Renegotiate { room_id: room(), to: to() },
        ClientFrame::MeshRelease { room_id: room(), to: to() },
    ];
    frames
        .iter()
        .map(|f| {
            match f {
                ClientFrame::Ping
                | ClientFrame::RoomText { .. }
                | ClientFrame::RoomCustom { .. }
                | ClientFrame::Offer { .. }
                | ClientFrame::Answer { .. }
                | ClientFrame::Candidate { .. }
                | ClientFrame::Renegotiate { .. }
                | ClientFrame::MeshRelease { .. } => {}
            }
            let mut v = serde_json::to_value(f).unwrap();
            v["reqID"] = json!(7);
            v
        })
        .collect()
}

#[derive(Debug, Clone)]
struct FrameCase {
    frame: Value,
    edits: Vec<Mutation>,
    binary: bool,
}

fn frame_case(seeds: &[Value]) -> impl Strategy<Value = FrameCase> {
    prop::strategy::Union::new(seeds.iter().map(|seed| {
        (
            hostile_object(seed),
            mutations(6),
            prop::bool::weighted(0.05),
        )
            .prop_map(|(frame, edits, binary)| FrameCase {
                frame,
                edits,
                binary,
            })
            .boxed()
    }))
}

/// Checks one server frame: JSON with a type and a seq; errors carry a known code.
fn check_frame(t: &str) -> Result<Value, String> {
    let v: Value = serde_json::from_str(t).map_err(|e| format!("not JSON ({e}): {t}"))?;
    if !(v["type"].is_string() && v["seq"].is_u64()) {
        return Err(format!("no type/seq: {v}"));
    }
    if v["type"] == "error" {
        let code = v["code"]
            .as_i64()
            .and_then(|c| i32::try_from(c).ok())
            .and_then(ErrorCode::from_code);
        if code.is_none() || !v["message"].is_string() || code == Some(ErrorCode::Internal) {
            return Err(format!("bad error frame: {v}"));
        }
    }
    Ok(v)
}

#[test]
fn websocket_frames_always_get_a_well_formed_answer() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut cfg = config();
    cfg.limits.messages_per_second = 1_000_000;
    cfg.limits.messages_burst = 1_000_000;
    // A case whose frame is too large to read drops alice's socket; the next
    // case reconnects well within this, so she stays a member of "r".
    cfg.heartbeat.socket_grace_ms = 60_000;
    let (_srv, alice, bob, ws, bob_reader) = rt.block_on(async {
        let srv = Server::start(cfg).await;
        let (alice, bob) = (srv.login("alice").await, srv.login("bob").await);
        alice.enter("r").await;
        bob.enter("r").await;
        let ws = alice.ws().await;
        let bw = bob.ws().await;
        // Bob reads (and checks) whatever reaches him, so his queue never backs up.
        let bob_reader = tokio::spawn(async move {
            let mut s = bw.stream;
            while let Some(Ok(m)) = s.next().await {
                if let Message::Text(t) = m {
                    check_frame(t.as_str()).unwrap();
                }
            }
        });
        (srv, alice, bob, ws, bob_reader)
    });
    // A case that closed the socket fails; the next starts on a new one, so
    // shrinking sees each case's own verdict.
    let ws = RefCell::new(Some(ws.stream));
    let next_probe = Cell::new(1_000_000u32);
    let seeds = frame_seeds();
    fuzz("ws", 3_000, frame_case(&seeds), |c| {
        let mut bytes = c.frame.to_string().into_bytes();
        apply(&mut bytes, &c.edits);
        let msg = match String::from_utf8(bytes) {
            Ok(text) if !c.binary => Message::Text(text.into()),
            Ok(text) => Message::Binary(text.into_bytes().into()),
            Err(e) => Message::Binary(e.into_bytes().into()),
        };
        // Then a ping with a fresh reqID: its ack proves the frame was handled and the socket stays.
        let probe = next_probe.get();
        next_probe.set(probe + 1);
        let mut slot = ws.borrow_mut();
        rt.block_on(async {
            if slot.is_none() {
                *slot = Some(alice.ws().await.stream);
            }
            let ws = slot.as_mut().unwrap();
            let verdict = probe_after(ws, msg, probe).await;
            if !matches!(verdict, Ok(SocketAfter::Open)) {
                *slot = None;
            }
            verdict.map(|_| ())
        })
    });
    rt.block_on(async {
        let p = bob.ok("get_pushers", json!({"roomID": "r"})).await;
        assert_eq!(p["pushers"].as_array().unwrap().len(), 2, "{p}");
        assert!(
            !bob_reader.is_finished(),
            "bob's socket stayed open and his frames well-formed"
        );
        bob_reader.abort();
    });
}

type Stream =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The socket after a case.
enum SocketAfter {
    Open,
    Dropped,
}

/// Frames past this are not read at all (the codec's limit, 4 × `max_frame_bytes`;
/// PROTOCOL.md): the server closes the socket with 1009 instead of answering 1005.
const UNREAD_FRAME_BYTES: usize = 4 * 64 * 1024;

/// Sends `msg`, then a ping with reqID `probe`, and reads until its ack (or,
/// for a frame too large to read, until the connection ends).
async fn probe_after(
    ws: &mut Stream,
    msg: Message,
    probe: u32,
) -> Result<SocketAfter, TestCaseError> {
    if msg.len() > UNREAD_FRAME_BYTES {
        let _ = ws.send(msg).await;
        let ended = tokio::time::timeout(Duration::from_secs(10), async {
            while let Some(Ok(m)) = ws.next().await {
                if let Message::Text(t) = m {
                    check_frame(t.as_str()).map_err(TestCaseError::fail)?;
                }
            }
            Ok::<(), TestCaseError>(())
        });
        ended
            .await
            .map_err(|_| TestCaseError::fail("an unreadable frame did not end the connection"))??;
        return Ok(SocketAfter::Dropped);
    }
    ws.send(msg)
        .await
        .map_err(|e| TestCaseError::fail(format!("send: {e}")))?;
    ws.send(Message::Text(
        json!({"type": "ping", "reqID": probe}).to_string().into(),
    ))
    .await
    .map_err(|e| TestCaseError::fail(format!("send: {e}")))?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let m = tokio::time::timeout_at(deadline, ws.next())
            .await
            .map_err(|_| TestCaseError::fail("no ack of the probe within 10 s"))?;
        match m {
            Some(Ok(Message::Text(t))) => {
                let v = check_frame(t.as_str()).map_err(TestCaseError::fail)?;
                if v["type"] == "ack" && v["reqID"] == probe {
                    return Ok(SocketAfter::Open);
                }
            }
            Some(Ok(Message::Close(f))) => {
                return Err(TestCaseError::fail(format!("socket closed: {f:?}")))
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(TestCaseError::fail(format!("socket error: {e}"))),
            None => return Err(TestCaseError::fail("socket ended")),
        }
    }
}
