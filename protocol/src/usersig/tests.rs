//! Unit tests of the UserSig codec. Fixture keys live in `tests/fixtures/`.

use super::*;

const APP: u64 = 1_400_000_000;
/// The demo key from Tencent's own tls-sig-api-v2 README/tests.
const KEY: &str = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e";
const NOW: i64 = 1_700_000_000;
const PRIV_PKCS8: &str = include_str!("../../tests/fixtures/v1_private_pkcs8.pem");
const PRIV_SEC1: &str = include_str!("../../tests/fixtures/v1_private_sec1.pem");
const PUB: &str = include_str!("../../tests/fixtures/v1_public.pem");
const OTHER_PUB: &str = include_str!("../../tests/fixtures/other_public.pem");

fn keys() -> AppKeys {
    AppKeys {
        sdk_app_id: APP,
        secret_key: Some(KEY.into()),
        public_key_pem: Some(PUB.into()),
    }
}

fn at(now: i64) -> VerifyOptions {
    VerifyOptions::at(now)
}

/// base64url(zlib(json)): a sig with arbitrary content.
fn craft(json: &str) -> String {
    compress_encode(json.as_bytes())
}

fn json_of(sig: &str) -> Map<String, Value> {
    decode_object(sig).unwrap()
}

fn reencode(obj: &Map<String, Value>) -> String {
    craft(&serde_json::to_string(obj).unwrap())
}

// ---------- v2 ----------

#[test]
fn v2_round_trip_without_userbuf() {
    let sig = gen_v2(APP, KEY, "alice", 86400, NOW, None);
    let v = verify(&sig, "alice", &keys(), &at(NOW + 10)).unwrap();
    assert_eq!(
        v,
        VerifiedSig {
            version: SigVersion::V2,
            identifier: "alice".into(),
            sdk_app_id: APP,
            time: NOW,
            expire: 86400,
            userbuf: None
        }
    );
    assert_eq!(v.expires_at(), NOW + 86400);
}

#[test]
fn v2_round_trip_with_userbuf() {
    let buf = [0u8, 1, 2, 0xff, b'x'];
    let sig = gen_v2(APP, KEY, "bob", 300, NOW, Some(&buf));
    let v = verify(&sig, "bob", &keys(), &at(NOW)).unwrap();
    assert_eq!(v.userbuf.as_deref(), Some(&buf[..]));
    // An empty userbuf is still a userbuf (line present, empty base64).
    let sig = gen_v2(APP, KEY, "bob", 300, NOW, Some(&[]));
    let v = verify(&sig, "bob", &keys(), &at(NOW)).unwrap();
    assert_eq!(v.userbuf, Some(vec![]));
}

#[test]
fn v2_json_layout_matches_official_generators() {
    let sig = gen_v2(APP, KEY, "xiaojun", 86400, NOW, None);
    let json = inflate_limited(&base64url::decode(&sig).unwrap()).unwrap();
    // HMAC computed independently:
    // python3 -c "import hmac,hashlib,base64; print(base64.b64encode(hmac.new(b'5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e', b'TLS.identifier:xiaojun\nTLS.sdkappid:1400000000\nTLS.time:1700000000\nTLS.expire:86400\n', hashlib.sha256).digest()).decode())"
    assert_eq!(
        std::str::from_utf8(&json).unwrap(),
        r#"{"TLS.ver":"2.0","TLS.identifier":"xiaojun","TLS.sdkappid":1400000000,"TLS.expire":86400,"TLS.time":1700000000,"TLS.sig":"SNF4FmVCPucoXsBOpbVF3fFCf57JPm0ezZ1jeVILlVc="}"#
    );
}

#[test]
fn v2_official_node_and_python_vectors() {
    // node -e 'Date.now=()=>1700000000*1000; const A=require("tls-sig-api-v2").Api;
    //   const a=new A(1400000000,"5bd2…3b5e"); console.log(a.genUserSig("xiaojun",86400));
    //   console.log(a.genPrivateMapKey("xiaojun",300,10000,255))'       (tls-sig-api-v2@1.0.2)
    let node_plain = "eJyrVgrxCdYrSy1SslIy0jNQ0gHzM1NS80oy0zLBwhWZiflZpXlQqeKU7MSCgswUJStDEwMogMiUZOamKlkZmqOKplYUZBalKllZmJnAhIoz05WslIL93EzccsOcA0qT8yOKnfwLksLcjNPcnNNMzb0Ccg1Sq6IMs1LDPH1ywpJtlWoBGRkxcA__";
    let node_privmap = "eJxVjU0LgkAURf-L2xoympUMtHgEWWShJEHutJmxUTPxq5Hov0eWi*7iwj1ncZ8QuEe94xVQMHUCk2FLxotGCjlgJaN72hY-VbMsKkvJgBoW*eVrGnnjQI3FP*WqlBUHOh1BW-MqbgVQQMQNd-JrbJZGnB-6IEHE1cUPT17vIiJ69qdxfJYJUCDa3trNrXwbrGeZZqeN70S5IiJRzIgePFREhGfBii7MlvB6A36tQqM_";
    // python: time.time=lambda:1700000000; TLSSigAPIv2(1400000000,"5bd2…3b5e")
    //   .gen_sig("xiaojun",86400) / .gen_sig_with_userbuf("xiaojun",86400,b"abc")  (PyPI tls-sig-api-v2 1.1)
    let py_plain = "eJyrVgrxCdYrSy1SslJQMtIzUNJRAItkpqTmlWSmZUIkKjIT87NK82CSxSnZiQUFmSlAKUMTAyiAyqVWFGQWpQJlLMxM4IIlmbkgIUNzNMXFmekg44P93EzccsOcA0qT8yOKnfwLksLcjNPcnNNMzb0Ccg1Sq6IMs1LDPH1ywpJtlWoBk68y0A__";
    let py_userbuf = "eJyrVgrxCdYrSy1SslJQMtIzUNJRAItkpqTmlWSmZUIkKjIT87NK82CSxSnZiQUFmSlAKUMTAyiAyqVWFGQWpQJlLMxM4IIlmbkgIUNzNMWlxalFSaVpICsiw72y4OZnpoOE-BOTjMsi0nMiTUwDkiuqtIODszJSKpzCSzNCHCvCMioifdLKwrLcM-y9DGyVagF2rTqB";

    for sig in [node_plain, py_plain] {
        let v = verify(sig, "xiaojun", &keys(), &at(NOW)).unwrap();
        assert_eq!((v.time, v.expire, v.userbuf), (NOW, 86400, None));
    }
    let v = verify(py_userbuf, "xiaojun", &keys(), &at(NOW)).unwrap();
    assert_eq!(v.userbuf.as_deref(), Some(&b"abc"[..]));

    // PrivateMapKey userbuf layout (big-endian): ver, u16 len, account,
    // sdkappid, roomid, now+expire, privilegeMap, accountType.
    let v = verify(node_privmap, "xiaojun", &keys(), &at(NOW)).unwrap();
    assert_eq!(v.expire, 300);
    let mut want = vec![0u8, 0, 7];
    want.extend_from_slice(b"xiaojun");
    for n in [1_400_000_000u32, 10000, 1_700_000_300, 255, 0] {
        want.extend_from_slice(&n.to_be_bytes());
    }
    assert_eq!(v.userbuf.unwrap(), want);
}

#[test]
fn v2_large_sdkappid_and_unicode_identifier() {
    let k = AppKeys {
        sdk_app_id: u64::MAX,
        ..keys()
    };
    let id = "用户_\"q\"\\";
    let sig = gen_v2(u64::MAX, KEY, id, 60, NOW, None);
    let v = verify(&sig, id, &k, &at(NOW)).unwrap();
    assert_eq!(v.sdk_app_id, u64::MAX);
    assert_eq!(v.identifier, id);
}

#[test]
fn v2_numbers_must_be_numbers() {
    let mut obj = json_of(&gen_v2(APP, KEY, "a", 60, NOW, None));
    obj.insert("TLS.sdkappid".into(), Value::String(APP.to_string()));
    assert_eq!(
        verify(&reencode(&obj), "a", &keys(), &at(NOW)),
        Err(UserSigError::Json)
    );
    let mut obj = json_of(&gen_v2(APP, KEY, "a", 60, NOW, None));
    obj.insert("TLS.time".into(), serde_json::json!(1.7e9));
    assert_eq!(
        verify(&reencode(&obj), "a", &keys(), &at(NOW)),
        Err(UserSigError::Json)
    );
}

#[test]
fn v2_missing_fields_are_json_errors() {
    for field in [
        "TLS.identifier",
        "TLS.sdkappid",
        "TLS.time",
        "TLS.expire",
        "TLS.sig",
    ] {
        let mut obj = json_of(&gen_v2(APP, KEY, "a", 60, NOW, None));
        obj.remove(field);
        assert_eq!(
            verify(&reencode(&obj), "a", &keys(), &at(NOW)),
            Err(UserSigError::Json),
            "{field}"
        );
    }
    let mut obj = json_of(&gen_v2(APP, KEY, "a", 60, NOW, None));
    obj.insert("TLS.userbuf".into(), Value::String("not base64!".into()));
    assert_eq!(
        verify(&reencode(&obj), "a", &keys(), &at(NOW)),
        Err(UserSigError::Json)
    );
}

// ---------- v1 ----------

#[test]
fn v1_round_trip_pkcs8_and_sec1() {
    for pem in [PRIV_PKCS8, PRIV_SEC1] {
        let sig = gen_v1(APP, "12345", pem, "carol", 2_592_000, NOW).unwrap();
        let v = verify(&sig, "carol", &keys(), &at(NOW + 100)).unwrap();
        assert_eq!(
            v,
            VerifiedSig {
                version: SigVersion::V1,
                identifier: "carol".into(),
                sdk_app_id: APP,
                time: NOW,
                expire: 2_592_000,
                userbuf: None
            }
        );
    }
}

#[test]
fn v1_json_values_are_strings() {
    let sig = gen_v1(APP, "0", PRIV_PKCS8, "carol", 60, NOW).unwrap();
    let obj = json_of(&sig);
    assert!(obj.values().all(Value::is_string), "{obj:?}");
    assert!(!obj.contains_key("TLS.ver"));
    assert_eq!(obj["TLS.appid_at_3rd"], "1400000000");
    assert_eq!(obj["TLS.time"], "1700000000");
    assert_eq!(obj["TLS.expire_after"], "60");
}

/// Re-sign a v1 object's content fields with the fixture key.
fn sign_v1(obj: &mut Map<String, Value>, raw_rs: bool) {
    use p256::ecdsa::signature::Signer;
    use p256::pkcs8::DecodePrivateKey;
    let key = p256::ecdsa::SigningKey::from_pkcs8_pem(PRIV_PKCS8).unwrap();
    let s = |k: &str| match &obj[k] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let mut content = String::new();
    for k in [
        "TLS.appid_at_3rd",
        "TLS.account_type",
        "TLS.identifier",
        "TLS.sdk_appid",
        "TLS.time",
        "TLS.expire_after",
    ] {
        content.push_str(&format!("{k}:{}\n", s(k)));
    }
    if obj.contains_key("TLS.userbuf") {
        content.push_str(&format!("TLS.userbuf:{}\n", s("TLS.userbuf")));
    }
    let sig: p256::ecdsa::Signature = key.sign(content.as_bytes());
    let bytes = if raw_rs {
        sig.to_bytes().to_vec()
    } else {
        sig.to_der().as_bytes().to_vec()
    };
    obj.insert("TLS.sig".into(), Value::String(STANDARD.encode(bytes)));
}

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

#[test]
fn v1_accepts_raw_rs_numeric_account_type_and_userbuf() {
    let base = json_of(&gen_v1(APP, "0", PRIV_PKCS8, "carol", 60, NOW).unwrap());

    let mut obj = base.clone();
    sign_v1(&mut obj, true);
    verify(&reencode(&obj), "carol", &keys(), &at(NOW)).unwrap();

    let mut obj = base.clone();
    obj.insert("TLS.account_type".into(), serde_json::json!(12345));
    sign_v1(&mut obj, false);
    verify(&reencode(&obj), "carol", &keys(), &at(NOW)).unwrap();

    let mut obj = base.clone();
    obj.insert("TLS.userbuf".into(), Value::String(STANDARD.encode(b"hi")));
    obj.insert("TLS.version".into(), Value::String("201512300000".into()));
    sign_v1(&mut obj, false);
    let v = verify(&reencode(&obj), "carol", &keys(), &at(NOW)).unwrap();
    assert_eq!(v.userbuf.as_deref(), Some(&b"hi"[..]));
}

#[test]
fn v1_expiry_is_a_sum_not_a_concatenation() {
    // Node bug: parseInt("1000" + 10) = 100010.
    let sig = gen_v1(APP, "0", PRIV_PKCS8, "carol", 10, 1000).unwrap();
    let o = VerifyOptions {
        now: 1010,
        max_clock_skew: 0,
    };
    verify(&sig, "carol", &keys(), &o).unwrap();
    let o = VerifyOptions { now: 1011, ..o };
    assert_eq!(
        verify(&sig, "carol", &keys(), &o),
        Err(UserSigError::Expired)
    );
}

#[test]
fn v1_bad_fields() {
    let base = json_of(&gen_v1(APP, "0", PRIV_PKCS8, "carol", 60, NOW).unwrap());
    for (k, v) in [
        ("TLS.time", serde_json::json!("17e8")),
        ("TLS.sdk_appid", serde_json::json!("-1")),
        ("TLS.expire_after", serde_json::json!(1.5)),
        ("TLS.identifier", serde_json::json!(7)),
        ("TLS.sig", serde_json::json!(null)),
    ] {
        let mut obj = base.clone();
        obj.insert(k.into(), v);
        assert_eq!(
            verify(&reencode(&obj), "carol", &keys(), &at(NOW)),
            Err(UserSigError::Json),
            "{k}"
        );
    }
}

// ---------- every error variant ----------

#[test]
fn error_base64() {
    for bad in ["", "abc$", "eJ+r", "a", "é"] {
        assert_eq!(
            verify(bad, "a", &keys(), &at(NOW)),
            Err(UserSigError::Base64),
            "{bad:?}"
        );
    }
    let long = "A".repeat(MAX_SIG_LEN + 4);
    assert_eq!(
        verify(&long, "a", &keys(), &at(NOW)),
        Err(UserSigError::Base64)
    );
}

#[test]
fn error_zlib() {
    let not_zlib = base64url::encode(b"definitely not a zlib stream");
    assert_eq!(
        verify(&not_zlib, "a", &keys(), &at(NOW)),
        Err(UserSigError::Zlib)
    );
    // A bomb: 1 MiB of spaces inflates past MAX_JSON_LEN.
    let bomb = craft(&" ".repeat(1 << 20));
    assert_eq!(
        verify(&bomb, "a", &keys(), &at(NOW)),
        Err(UserSigError::Zlib)
    );
}

#[test]
fn error_zlib_or_json_on_truncation_never_ok() {
    let sig = gen_v2(APP, KEY, "a", 60, NOW, None);
    let bytes = base64url::decode(&sig).unwrap();
    for n in 1..bytes.len() {
        let r = verify(&base64url::encode(&bytes[..n]), "a", &keys(), &at(NOW));
        assert!(
            matches!(r, Err(UserSigError::Zlib | UserSigError::Json)),
            "{n}: {r:?}"
        );
    }
}

#[test]
fn error_json() {
    for j in ["not json", "[1,2]", "\"s\"", "{\"TLS.ver\":2}", "{}}"] {
        assert_eq!(
            verify(&craft(j), "a", &keys(), &at(NOW)),
            Err(UserSigError::Json),
            "{j}"
        );
    }
}

#[test]
fn error_unknown_version() {
    let mut obj = json_of(&gen_v2(APP, KEY, "a", 60, NOW, None));
    obj.insert("TLS.ver".into(), Value::String("3.0".into()));
    assert_eq!(
        verify(&reencode(&obj), "a", &keys(), &at(NOW)),
        Err(UserSigError::UnknownVersion("3.0".into()))
    );
    assert_eq!(
        verify(&craft(r#"{"TLS.sig":"x"}"#), "a", &keys(), &at(NOW)),
        Err(UserSigError::UnknownVersion(String::new()))
    );
    // Untrusted text in the error is capped.
    let mut obj = json_of(&gen_v2(APP, KEY, "a", 60, NOW, None));
    obj.insert("TLS.ver".into(), Value::String("x".repeat(1000)));
    assert_eq!(
        verify(&reencode(&obj), "a", &keys(), &at(NOW)),
        Err(UserSigError::UnknownVersion("x".repeat(32)))
    );
}

#[test]
fn error_app_id_mismatch() {
    let v2 = gen_v2(APP + 1, KEY, "a", 60, NOW, None);
    let v1 = gen_v1(APP + 1, "0", PRIV_PKCS8, "a", 60, NOW).unwrap();
    for sig in [v2, v1] {
        assert_eq!(
            verify(&sig, "a", &keys(), &at(NOW)),
            Err(UserSigError::AppIdMismatch {
                expected: APP,
                found: APP + 1
            })
        );
    }
}

#[test]
fn error_identifier_mismatch() {
    let v2 = gen_v2(APP, KEY, "alice", 60, NOW, None);
    let v1 = gen_v1(APP, "0", PRIV_PKCS8, "alice", 60, NOW).unwrap();
    for sig in [v2, v1] {
        for who in ["mallory", "Alice", "alice ", ""] {
            assert_eq!(
                verify(&sig, who, &keys(), &at(NOW)),
                Err(UserSigError::IdentifierMismatch)
            );
        }
    }
}

#[test]
fn error_expired_boundary() {
    let v2 = gen_v2(APP, KEY, "a", 60, NOW, None);
    let v1 = gen_v1(APP, "0", PRIV_PKCS8, "a", 60, NOW).unwrap();
    for sig in [v2, v1] {
        verify(&sig, "a", &keys(), &at(NOW + 60)).unwrap();
        assert_eq!(
            verify(&sig, "a", &keys(), &at(NOW + 61)),
            Err(UserSigError::Expired)
        );
    }
    // Overflowing sums saturate (effectively never expires) instead of wrapping.
    let sig = gen_v2(APP, KEY, "a", i64::MAX, NOW, None);
    verify(&sig, "a", &keys(), &at(i64::MAX)).unwrap();
    verify(&sig, "a", &keys(), &at(NOW + 1_000_000_000)).unwrap();
    // A negative lifetime is simply expired.
    let sig = gen_v2(APP, KEY, "a", -1, NOW, None);
    assert_eq!(
        verify(&sig, "a", &keys(), &at(NOW)),
        Err(UserSigError::Expired)
    );
}

#[test]
fn error_future_time_boundary() {
    let v2 = gen_v2(APP, KEY, "a", 60, NOW + 300, None);
    let v1 = gen_v1(APP, "0", PRIV_PKCS8, "a", 60, NOW + 300).unwrap();
    for sig in [v2, v1] {
        verify(&sig, "a", &keys(), &at(NOW)).unwrap();
        assert_eq!(
            verify(&sig, "a", &keys(), &at(NOW - 1)),
            Err(UserSigError::FutureTime)
        );
        let strict = VerifyOptions {
            now: NOW,
            max_clock_skew: 0,
        };
        assert_eq!(
            verify(&sig, "a", &keys(), &strict),
            Err(UserSigError::FutureTime)
        );
    }
}

#[test]
fn error_bad_signature_v2() {
    let base = json_of(&gen_v2(APP, KEY, "a", 60, NOW, Some(b"u")));
    // Each signed field changed, signature kept.
    for (k, v) in [
        ("TLS.time", serde_json::json!(NOW - 1)),
        ("TLS.expire", serde_json::json!(61)),
        ("TLS.userbuf", serde_json::json!("dg==")),
        ("TLS.sig", serde_json::json!("AAAA")),
        ("TLS.sig", serde_json::json!("not base64")),
    ] {
        let mut obj = base.clone();
        obj.insert(k.into(), v);
        assert_eq!(
            verify(&reencode(&obj), "a", &keys(), &at(NOW)),
            Err(UserSigError::BadSignature),
            "{k}"
        );
    }
    let mut obj = base.clone();
    obj.remove("TLS.userbuf");
    assert_eq!(
        verify(&reencode(&obj), "a", &keys(), &at(NOW)),
        Err(UserSigError::BadSignature)
    );
    // Flip one bit of the MAC.
    let mut mac = STANDARD.decode(base["TLS.sig"].as_str().unwrap()).unwrap();
    mac[31] ^= 1;
    let mut obj = base.clone();
    obj.insert("TLS.sig".into(), Value::String(STANDARD.encode(mac)));
    assert_eq!(
        verify(&reencode(&obj), "a", &keys(), &at(NOW)),
        Err(UserSigError::BadSignature)
    );
    // Wrong secret key.
    let other = AppKeys {
        secret_key: Some("other".into()),
        ..keys()
    };
    let sig = gen_v2(APP, KEY, "a", 60, NOW, None);
    assert_eq!(
        verify(&sig, "a", &other, &at(NOW)),
        Err(UserSigError::BadSignature)
    );
}

#[test]
fn error_bad_signature_v1() {
    let sig = gen_v1(APP, "0", PRIV_PKCS8, "a", 60, NOW).unwrap();
    let base = json_of(&sig);
    for (k, v) in [
        ("TLS.time", "1699999999"),
        ("TLS.expire_after", "61"),
        ("TLS.account_type", "1"),
        ("TLS.appid_at_3rd", "0"),
        ("TLS.sig", "AAAA"),
        ("TLS.sig", "%%%"),
    ] {
        let mut obj = base.clone();
        obj.insert(k.into(), Value::String(v.into()));
        assert_eq!(
            verify(&reencode(&obj), "a", &keys(), &at(NOW)),
            Err(UserSigError::BadSignature),
            "{k}"
        );
    }
    let other = AppKeys {
        public_key_pem: Some(OTHER_PUB.into()),
        ..keys()
    };
    assert_eq!(
        verify(&sig, "a", &other, &at(NOW)),
        Err(UserSigError::BadSignature)
    );
}

#[test]
fn error_no_key_for_version() {
    let v1 = gen_v1(APP, "0", PRIV_PKCS8, "a", 60, NOW).unwrap();
    let only_v2 = AppKeys {
        public_key_pem: None,
        ..keys()
    };
    assert_eq!(
        verify(&v1, "a", &only_v2, &at(NOW)),
        Err(UserSigError::NoKeyForVersion)
    );
    let v2 = gen_v2(APP, KEY, "a", 60, NOW, None);
    let only_v1 = AppKeys {
        secret_key: None,
        ..keys()
    };
    assert_eq!(
        verify(&v2, "a", &only_v1, &at(NOW)),
        Err(UserSigError::NoKeyForVersion)
    );
}

#[test]
fn error_bad_key() {
    let v1 = gen_v1(APP, "0", PRIV_PKCS8, "a", 60, NOW).unwrap();
    for pem in ["garbage", PRIV_PKCS8, ""] {
        let k = AppKeys {
            public_key_pem: Some(pem.into()),
            ..keys()
        };
        assert!(
            matches!(verify(&v1, "a", &k, &at(NOW)), Err(UserSigError::BadKey(_))),
            "{pem:?}"
        );
    }
    for pem in ["garbage", PUB] {
        assert!(matches!(
            gen_v1(APP, "0", pem, "a", 60, NOW),
            Err(UserSigError::BadKey(_))
        ));
    }
}

// ---------- hygiene ----------

#[test]
fn messages_and_debug_hold_no_secrets() {
    let k = keys();
    assert!(!format!("{k:?}").contains(KEY));
    let e = UserSigError::BadKey("public key is not a P-256 SPKI PEM".into());
    assert!(!e.to_string().contains("BEGIN"));
}

/// Small deterministic PRNG (xorshift64*) so the no-panic sweep needs no extra crate.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

#[test]
fn never_panics_on_mutated_input() {
    let v2 = gen_v2(APP, KEY, "a", 60, NOW, Some(b"u"));
    let v1 = gen_v1(APP, "0", PRIV_PKCS8, "a", 60, NOW).unwrap();
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789*-_+/= \0";
    let mut rng = Rng(0x1234_5678_9abc_def1);
    for base in [&v2, &v1] {
        let orig = base.as_bytes();
        for _ in 0..3000 {
            let mut s = orig.to_vec();
            for _ in 0..(1 + rng.next() % 3) {
                let i = (rng.next() as usize) % s.len();
                s[i] = alphabet[(rng.next() as usize) % alphabet.len()];
            }
            let s = String::from_utf8(s).unwrap();
            if let Ok(v) = verify(&s, "a", &keys(), &at(NOW)) {
                // Only mutations that decode to the same content may pass.
                assert_eq!(v.identifier, "a");
            }
        }
        // Random JSON-ish payloads, compressed properly.
        for _ in 0..500 {
            let n = (rng.next() % 200) as usize;
            let chars = b"{}[]\":,0123456789.-eTLS.verxyz";
            let j: String = (0..n)
                .map(|_| chars[(rng.next() as usize) % chars.len()] as char)
                .collect();
            let _ = verify(&craft(&j), "a", &keys(), &at(NOW));
        }
    }
}
