#![allow(clippy::unwrap_used)]
//! Interop with Tencent's official UserSig generators.
//!
//! * npm `tls-sig-api-v2` (required): `npm install` runs in `tests/interop/`
//!   when `node_modules` is missing; the test fails if node/npm are absent.
//! * PyPI `tls-sig-api-v2` (optional): installed into `tests/interop/.venv`;
//!   skipped, with a printed reason, when pip cannot install it.
//!
//! Run: `cargo test --test interop -- --nocapture`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rtcroom_protocol::usersig::{
    base64url, decode_object, gen_v1, gen_v2, verify, AppKeys, SigVersion, UserSigError,
    VerifyOptions,
};
use serde_json::{json, Value};

const APP: u64 = 1_400_000_000;
const KEY: &str = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e";
const NOW: i64 = 1_700_000_000;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop")
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn keys() -> AppKeys {
    AppKeys {
        sdk_app_id: APP,
        secret_key: Some(KEY.into()),
        public_key_pem: Some(std::fs::read_to_string(fixture("v1_public.pem")).unwrap()),
    }
}

/// `npm install` once per test process, only when node_modules is missing.
fn ensure_npm_package() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        if dir()
            .join("node_modules/tls-sig-api-v2/package.json")
            .exists()
        {
            return;
        }
        let status = Command::new("npm")
            .args(["install", "--no-audit", "--no-fund"])
            .current_dir(dir())
            .status()
            .unwrap_or_else(|e| panic!("cannot run npm (required for this test): {e}"));
        assert!(status.success(), "npm install failed: {status}");
    });
}

/// Pipe `input` as JSON into `program script` in tests/interop and parse its JSON stdout.
fn run_json(program: &Path, script: &str, input: &Value) -> Vec<Value> {
    let mut child = Command::new(program)
        .arg(script)
        .current_dir(dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{} {script} failed: {}",
        program.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    match serde_json::from_slice(&out.stdout).unwrap() {
        Value::Array(a) => a,
        other => panic!("expected a JSON array, got {other}"),
    }
}

fn node(script: &str, input: &Value) -> Vec<Value> {
    ensure_npm_package();
    run_json(Path::new("node"), script, input)
}

fn sig_of(v: &Value) -> &str {
    v["sig"].as_str().unwrap()
}

/// Re-encode a sig's JSON after `edit`, keeping its signature.
fn tamper(sig: &str, edit: impl FnOnce(&mut serde_json::Map<String, Value>)) -> String {
    use std::io::Write as _;
    let mut obj = decode_object(sig).unwrap();
    edit(&mut obj);
    let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(serde_json::to_string(&obj).unwrap().as_bytes())
        .unwrap();
    base64url::encode(&enc.finish().unwrap())
}

/// PrivateMapKey userbuf as documented: ver, u16 account len, account, then
/// u32 sdkappid, roomid, expiry, privilegeMap, accountType, [u16 len, roomStr].
fn privmap_userbuf(id: &str, room: u32, expiry: u32, privs: u32, roomstr: Option<&str>) -> Vec<u8> {
    let mut b = vec![u8::from(roomstr.is_some())];
    b.extend_from_slice(&(id.len() as u16).to_be_bytes());
    b.extend_from_slice(id.as_bytes());
    for n in [APP as u32, room, expiry, privs, 0] {
        b.extend_from_slice(&n.to_be_bytes());
    }
    if let Some(r) = roomstr {
        b.extend_from_slice(&(r.len() as u16).to_be_bytes());
        b.extend_from_slice(r.as_bytes());
    }
    b
}

#[test]
fn official_npm_sigs_verify() {
    let big_buf: Vec<u8> = (0..1000u32).map(|i| (i * 7 + 3) as u8).collect();
    let reqs = json!([
        {"kind": "user", "app": APP, "key": KEY, "id": "xiaojun", "expire": 86400 * 180, "now": NOW},
        {"kind": "user", "app": APP, "key": KEY, "id": "user_1-A", "expire": 60, "now": NOW + 12345},
        {"kind": "user", "app": 1_400_123_456u64, "key": "another key", "id": "u", "expire": 1, "now": NOW},
        {"kind": "user", "app": APP, "key": KEY, "id": "用户\"q\"", "expire": 300, "now": NOW},
        {"kind": "privmap", "app": APP, "key": KEY, "id": "xiaojun", "expire": 300, "now": NOW, "roomid": 10000, "priv": 255},
        {"kind": "privmap_str", "app": APP, "key": KEY, "id": "alice", "expire": 600, "now": NOW, "roomstr": "room_abc", "priv": 42},
        {"kind": "userbuf", "app": APP, "key": KEY, "id": "bob", "expire": 3600, "now": NOW, "userbuf_b64": STANDARD.encode(&big_buf)},
    ]);
    let sigs = node("gen.js", &reqs);
    let reqs = reqs.as_array().unwrap();
    assert_eq!(sigs.len(), reqs.len());
    for (r, s) in reqs.iter().zip(&sigs) {
        let app = r["app"].as_u64().unwrap();
        let id = r["id"].as_str().unwrap();
        let now = r["now"].as_i64().unwrap();
        let expire = r["expire"].as_i64().unwrap();
        let k = AppKeys {
            sdk_app_id: app,
            secret_key: Some(r["key"].as_str().unwrap().into()),
            public_key_pem: None,
        };
        let v = verify(sig_of(s), id, &k, &VerifyOptions::at(now))
            .unwrap_or_else(|e| panic!("{r}: {e}"));
        assert_eq!(
            (
                v.version,
                v.identifier.as_str(),
                v.sdk_app_id,
                v.time,
                v.expire
            ),
            (SigVersion::V2, id, app, now, expire)
        );
        let want_buf = match r["kind"].as_str().unwrap() {
            "user" => None,
            "privmap" => Some(privmap_userbuf(id, 10000, (now + expire) as u32, 255, None)),
            "privmap_str" => Some(privmap_userbuf(
                id,
                0,
                (now + expire) as u32,
                42,
                Some("room_abc"),
            )),
            _ => Some(big_buf.clone()),
        };
        assert_eq!(v.userbuf, want_buf, "{r}");
        assert_eq!(
            verify(sig_of(s), id, &k, &VerifyOptions::at(now + expire + 1)),
            Err(UserSigError::Expired)
        );
    }

    // Tampered official sigs: any signed field changed → BadSignature.
    let official = sig_of(&sigs[0]);
    for edit in [
        |o: &mut serde_json::Map<String, Value>| {
            o.insert("TLS.time".into(), json!(NOW + 1));
        },
        |o: &mut serde_json::Map<String, Value>| {
            o.insert("TLS.expire".into(), json!(86400 * 365));
        },
        |o: &mut serde_json::Map<String, Value>| {
            o.insert("TLS.userbuf".into(), json!("AA=="));
        },
    ] {
        assert_eq!(
            verify(
                &tamper(official, edit),
                "xiaojun",
                &keys(),
                &VerifyOptions::at(NOW + 2)
            ),
            Err(UserSigError::BadSignature)
        );
    }
}

#[test]
fn our_v2_sigs_match_npm_package() {
    let cases: Vec<(&str, i64, i64, Option<Vec<u8>>)> = vec![
        ("xiaojun", 86400 * 180, NOW, None),
        ("user_1-A", 60, NOW + 99, None),
        ("用户\"q\"\\", 300, NOW, None),
        ("bob", 3600, NOW, Some(b"abc".to_vec())),
        ("carol", 3600, NOW, Some((0..=255u8).collect())),
    ];
    let mut reqs = Vec::new();
    for (id, expire, now, buf) in &cases {
        reqs.push(json!({
            "sig": gen_v2(APP, KEY, id, *expire, *now, buf.as_deref()),
            "app": APP, "key": KEY, "id": id, "expire": expire, "now": now,
            "userbuf_b64": buf.as_ref().map(|b| STANDARD.encode(b)),
        }));
    }
    // A tampered one: TLS.expire raised, MAC kept.
    let good = gen_v2(APP, KEY, "eve", 60, NOW, None);
    let bad = tamper(&good, |o| {
        o.insert("TLS.expire".into(), json!(6000));
    });
    reqs.push(json!({"sig": bad, "app": APP, "key": KEY, "id": "eve", "expire": 6000, "now": NOW}));

    let res = node("check.js", &Value::Array(reqs));
    let (tampered, ours) = res.split_last().unwrap();
    for r in ours {
        assert_eq!(r["hmac_ok"], true, "{r}");
        assert_eq!(r["same_doc"], true, "{r}");
    }
    assert_eq!(tampered["hmac_ok"], false, "{tampered}");
    assert_eq!(
        verify(&bad, "eve", &keys(), &VerifyOptions::at(NOW)),
        Err(UserSigError::BadSignature)
    );
}

#[test]
fn v1_interop_with_node_crypto() {
    let priv_path = fixture("v1_private_pkcs8.pem");
    let sec1_path = fixture("v1_private_sec1.pem");
    let pub_path = fixture("v1_public.pem");
    // 2018-style sigs from node's crypto.createSign (random k, so both low-
    // and high-S signatures occur across 16 of them).
    let reqs: Vec<Value> = (0..16)
        .map(|i| {
            let key = if i % 2 == 0 { &priv_path } else { &sec1_path };
            json!({"kind": "v1", "app": APP, "acctype": 12345, "id": format!("user{i}"),
                   "expire": 2_592_000, "now": NOW + i, "private_key_path": key})
        })
        .collect();
    let sigs = node("gen.js", &Value::Array(reqs));
    for (i, s) in sigs.iter().enumerate() {
        let v = verify(
            sig_of(s),
            &format!("user{i}"),
            &keys(),
            &VerifyOptions::at(NOW + 100),
        )
        .unwrap_or_else(|e| panic!("{i}: {e}"));
        assert_eq!(
            (v.version, v.time, v.expire),
            (SigVersion::V1, NOW + i as i64, 2_592_000)
        );
    }
    let tampered = tamper(sig_of(&sigs[0]), |o| {
        o.insert("TLS.expire_after".into(), json!("99999999"));
    });
    assert_eq!(
        verify(&tampered, "user0", &keys(), &VerifyOptions::at(NOW)),
        Err(UserSigError::BadSignature)
    );

    // Reverse: our gen_v1 checked by node's crypto.createVerify.
    let pem = std::fs::read_to_string(&priv_path).unwrap();
    let ours = gen_v1(APP, "0", &pem, "dave", 86400, NOW).unwrap();
    let reqs = json!([
        {"sig": ours, "public_key_path": pub_path},
        {"sig": tamper(&ours, |o| { o.insert("TLS.time".into(), json!("1")); }), "public_key_path": pub_path},
    ]);
    let res = node("check.js", &reqs);
    assert_eq!(res[0]["ecdsa_ok"], true, "{}", res[0]);
    assert_eq!(res[1]["ecdsa_ok"], false, "{}", res[1]);
}

/// The venv's python with the PyPI package, or why not.
fn python_with_package() -> Result<PathBuf, String> {
    static PY: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    PY.get_or_init(|| {
        let venv = dir().join(".venv");
        let py = venv.join("bin/python");
        let has_pkg = |py: &Path| {
            Command::new(py)
                .args(["-c", "import TLSSigAPIv2"])
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        if has_pkg(&py) {
            return Ok(py);
        }
        let made = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .map_err(|e| format!("python3 not runnable: {e}"))?;
        if !made.success() {
            return Err(format!("python3 -m venv failed: {made}"));
        }
        let pip = Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "tls-sig-api-v2==1.1"])
            .status()
            .map_err(|e| format!("pip not runnable: {e}"))?;
        if !pip.success() || !has_pkg(&py) {
            return Err(format!("pip install tls-sig-api-v2 failed ({pip})"));
        }
        Ok(py)
    })
    .clone()
}

#[test]
fn pypi_package_interop() {
    let py = match python_with_package() {
        Ok(py) => py,
        Err(why) => {
            eprintln!("SKIPPED pypi_package_interop: {why}");
            return;
        }
    };
    let cases: Vec<(&str, i64, i64, Option<Vec<u8>>)> = vec![
        ("xiaojun", 86400 * 180, NOW, None),
        ("user_1-A", 60, NOW + 7, None),
        ("用户\"q\"", 300, NOW, None),
        ("bob", 3600, NOW, Some(b"abc".to_vec())),
        ("carol", 3600, NOW, Some((0..=255u8).collect())),
    ];
    let req = |mode: &str,
               id: &str,
               expire: i64,
               now: i64,
               buf: &Option<Vec<u8>>,
               sig: Option<String>| {
        json!({"mode": mode, "app": APP, "key": KEY, "id": id, "expire": expire, "now": now,
               "userbuf_b64": buf.as_ref().map(|b| STANDARD.encode(b)), "sig": sig})
    };
    // Theirs → our verify.
    let gen: Vec<Value> = cases
        .iter()
        .map(|(id, e, n, b)| req("gen", id, *e, *n, b, None))
        .collect();
    let sigs = run_json(&py, "gen.py", &Value::Array(gen));
    for ((id, expire, now, buf), s) in cases.iter().zip(&sigs) {
        let v = verify(sig_of(s), id, &keys(), &VerifyOptions::at(*now))
            .unwrap_or_else(|e| panic!("{id}: {e}"));
        assert_eq!((v.time, v.expire, &v.userbuf), (*now, *expire, buf));
    }
    let bad = tamper(sig_of(&sigs[0]), |o| {
        o.insert("TLS.identifier".into(), json!("mallory"));
    });
    assert_eq!(
        verify(&bad, "mallory", &keys(), &VerifyOptions::at(NOW)),
        Err(UserSigError::BadSignature)
    );
    // Ours → decoded with the package's base64_decode_url, compared with its own doc.
    let check: Vec<Value> = cases
        .iter()
        .map(|(id, e, n, b)| {
            req(
                "check",
                id,
                *e,
                *n,
                b,
                Some(gen_v2(APP, KEY, id, *e, *n, b.as_deref())),
            )
        })
        .collect();
    for r in run_json(&py, "gen.py", &Value::Array(check)) {
        assert_eq!(r["same_doc"], true, "{r}");
    }
}
