//! Live push/play URL signing (Tencent "anti-leech" txSecret/txTime) and
//! the member stream names they sign.
//!
//! `txTime` is the expiry second as upper-case hex; `txSecret` is the
//! lower-case hex `md5(key + streamName + txTime)`, the formula Tencent's
//! CDN uses. What differs is the key:
//!
//! * **push** URLs are signed with a key derived from the push key *and the
//!   login session* ([`session_push_key`]), so a push URL stops working when
//!   its session ends (logout, a newer login, expiry) and is never revived by
//!   the next login;
//! * **play** URLs (`accelerateURL`) are signed with a separate play key
//!   ([`play_key`]), so a play URL, which every member can read, is never a
//!   valid push URL.
//!
//! nginx-rtmp's `on_publish` hands the stream name and the query back to
//! RoomService, which calls [`PushSigner::check_push`] with the stream user's
//! current session. Stream names are `{bizid}_{sdkAppID}_{escaped userID}`
//! ([`member_stream`]); [`parse_member_stream`] is its exact inverse.

use md5::{Digest, Md5};

/// Why a (stream, txSecret, txTime) triple was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PushUrlError {
    /// `txTime` is not 1–16 hex digits fitting a non-negative i64.
    #[error("txTime is malformed")]
    MalformedTxTime,
    /// `txSecret` does not match `md5(key + stream + txTime)`.
    #[error("txSecret does not match")]
    BadSecret,
    /// `now` is past `txTime`.
    #[error("push URL expired")]
    Expired,
}

/// Config of the live push/play signer.
#[derive(Clone)]
pub struct PushSigner {
    /// RTMP ingest host (`bizid.livepush.myqcloud.com` in the original; nginx-rtmp here).
    pub push_host: String,
    /// Play host for accelerate (RTMP) and mixed (FLV) URLs.
    pub play_host: String,
    /// Tencent live "bizid"; also the stream-name prefix `{bizid}_`.
    pub bizid: String,
    /// Anti-leech key (`pushSecretKey`); push and play keys are derived from it.
    pub key: String,
    /// Lifetime of a signed URL in seconds.
    pub valid_secs: i64,
}

impl std::fmt::Debug for PushSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the key.
        f.debug_struct("PushSigner")
            .field("push_host", &self.push_host)
            .field("play_host", &self.play_host)
            .field("bizid", &self.bizid)
            .field("key", &"<redacted>")
            .field("valid_secs", &self.valid_secs)
            .finish()
    }
}

/// Default URL lifetime: one day (the original's 7 days outlived every
/// session; push URLs are bound to the session anyway).
pub const DEFAULT_VALID_SECS: i64 = 24 * 3600;

/// `md5(key + stream + tx_time_hex)` as lower-case hex, exactly as presented
/// (the hex case of `tx_time_hex` matters).
pub fn tx_secret(key: &str, stream: &str, tx_time_hex: &str) -> String {
    let mut h = Md5::new();
    h.update(key.as_bytes());
    h.update(stream.as_bytes());
    h.update(tx_time_hex.as_bytes());
    hex::encode(h.finalize())
}

/// Upper-case hex of a unix second (negative values clamp to 0).
pub fn tx_time_hex(expiry: i64) -> String {
    format!("{:X}", expiry.max(0))
}

/// The key that signs one session's push URLs: `hex(md5(key + "\0push\0" + session))`.
/// `session` is an opaque per-login value (RoomService uses the login token,
/// which never appears in the URL).
pub fn session_push_key(key: &str, session: &str) -> String {
    let mut h = Md5::new();
    h.update(key.as_bytes());
    h.update(b"\0push\0");
    h.update(session.as_bytes());
    hex::encode(h.finalize())
}

/// The key that signs play URLs: `hex(md5(key + "\0play"))`, never a push key.
pub fn play_key(key: &str) -> String {
    let mut h = Md5::new();
    h.update(key.as_bytes());
    h.update(b"\0play");
    hex::encode(h.finalize())
}

impl PushSigner {
    /// `?bizid=..&txSecret=..&txTime=..` for `stream`, valid until `now + valid_secs`.
    fn signed_query(&self, key: &str, stream: &str, now: i64) -> String {
        let tx_time = tx_time_hex(now.saturating_add(self.valid_secs));
        let secret = tx_secret(key, stream, &tx_time);
        format!("?bizid={}&txSecret={secret}&txTime={tx_time}", self.bizid)
    }

    /// `rtmp://{push_host}/live/{stream}?bizid=..&txSecret=..&txTime=..`, signed
    /// for login session `session` (see [`session_push_key`]).
    pub fn push_url(&self, stream: &str, session: &str, now: i64) -> String {
        format!(
            "rtmp://{}/live/{stream}{}",
            self.push_host,
            self.signed_query(&session_push_key(&self.key, session), stream, now)
        )
    }

    /// The same stream on `play_host`, signed with the play key (low-latency play URL).
    pub fn accelerate_url(&self, stream: &str, now: i64) -> String {
        format!(
            "rtmp://{}/live/{stream}{}",
            self.play_host,
            self.signed_query(&play_key(&self.key), stream, now)
        )
    }

    /// `https://{play_host}/live/{stream}.flv`, unsigned.
    pub fn mixed_play_url(&self, stream: &str) -> String {
        format!("https://{}/live/{stream}.flv", self.play_host)
    }

    /// Checks a (stream, txSecret, txTime) triple, as nginx-rtmp on_publish
    /// presents it, against the push URLs of login session `session`: Ok, or
    /// a distinct error for bad secret / expired / malformed txTime. A play
    /// URL, or a push URL of another session, is a bad secret.
    ///
    /// Order: txTime shape, then secret (compared in constant time, hex case
    /// ignored), then expiry (`now > txTime` is expired).
    pub fn check_push(
        &self,
        stream: &str,
        session: &str,
        tx_secret_presented: &str,
        tx_time: &str,
        now: i64,
    ) -> Result<(), PushUrlError> {
        let expiry = parse_tx_time(tx_time)?;
        let expected = tx_secret(&session_push_key(&self.key, session), stream, tx_time);
        let presented = tx_secret_presented.to_ascii_lowercase();
        if !ct_eq(expected.as_bytes(), presented.as_bytes()) {
            return Err(PushUrlError::BadSecret);
        }
        if now > expiry {
            return Err(PushUrlError::Expired);
        }
        Ok(())
    }
}

/// 1–16 hex digits (either case, no sign) that fit a non-negative i64.
fn parse_tx_time(s: &str) -> Result<i64, PushUrlError> {
    if s.is_empty() || s.len() > 16 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(PushUrlError::MalformedTxTime);
    }
    i64::from_str_radix(s, 16).map_err(|_| PushUrlError::MalformedTxTime)
}

/// Constant-time equality for equal-length inputs (length is not secret).
fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Extract the stream name (last path segment before '?') from a push URL.
///
/// `rtmp://host/live/8888_alice?bizid=..` → `8888_alice`. `None` when the URL
/// has no `scheme://host/` part or the last segment is empty.
pub fn stream_from_url(url: &str) -> Option<&str> {
    let before_query = url.split(['?', '#']).next()?;
    let (_, rest) = before_query.split_once("://")?;
    let (_host, path) = rest.split_once('/')?;
    let name = path.rsplit('/').next()?;
    (!name.is_empty()).then_some(name)
}

/// A member's stream name `{bizid}_{app}_{user}`, with every byte of `user`
/// other than `[A-Za-z0-9-]` written `_xx` (lower-case hex), so the name is
/// URL-safe and belongs to exactly one user.
pub fn member_stream(bizid: &str, app: u64, user: &str) -> String {
    let mut out = format!("{bizid}_{app}_");
    for b in user.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' {
            out.push(b as char);
        } else {
            out.push_str(&format!("_{b:02x}"));
        }
    }
    out
}

/// The inverse of [`member_stream`]: `(app, user)` when `stream` is exactly
/// what `member_stream(bizid, app, user)` makes of some app and string
/// (canonical decimal app, canonical escapes, UTF-8), else `None`.
pub fn parse_member_stream(bizid: &str, stream: &str) -> Option<(u64, String)> {
    let rest = stream.strip_prefix(bizid)?.strip_prefix('_')?;
    let (app, escaped) = rest.split_once('_')?;
    let app_id: u64 = app.parse().ok()?;
    if app_id.to_string() != app {
        return None;
    }
    let mut out = Vec::with_capacity(escaped.len());
    let mut bytes = escaped.bytes();
    while let Some(b) = bytes.next() {
        if b.is_ascii_alphanumeric() || b == b'-' {
            out.push(b);
        } else if b == b'_' {
            let hex = |c: Option<u8>| match c {
                Some(c @ b'0'..=b'9') => Some(c - b'0'),
                Some(c @ b'a'..=b'f') => Some(c - b'a' + 10),
                _ => None,
            };
            let byte = hex(bytes.next())? << 4 | hex(bytes.next())?;
            // A byte that member_stream keeps verbatim is never escaped.
            if byte.is_ascii_alphanumeric() || byte == b'-' {
                return None;
            }
            out.push(byte);
        } else {
            return None;
        }
    }
    Some((app_id, String::from_utf8(out).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000;
    const WEEK: i64 = 7 * 24 * 3600;

    fn signer() -> PushSigner {
        PushSigner {
            push_host: "push.example.com".into(),
            play_host: "play.example.com".into(),
            bizid: "8888".into(),
            key: "abcdef0123456789".into(),
            valid_secs: WEEK,
        }
    }

    // python3 -c 'import hashlib; t=format(1700000000+604800,"X"); print(t, hashlib.md5(("abcdef0123456789"+"8888_alice_ab12"+t).encode()).hexdigest())'
    // -> 655D2B80 e8c2544a4addae2ba001b3b2a8d4508e
    const VEC_TIME: &str = "655D2B80";
    const VEC_SECRET: &str = "e8c2544a4addae2ba001b3b2a8d4508e";
    const PY_PUSH: &str = "e147a5df7e577abdcf53444ac67cdce2";
    const PY_PLAY: &str = "eadbcb95f27c06a3b5f15dec1f3f8891";

    fn query_of(url: &str) -> (String, String) {
        let q = url.split_once('?').unwrap().1;
        let get = |k: &str| {
            q.split('&')
                .find_map(|kv| kv.strip_prefix(k).and_then(|v| v.strip_prefix('=')))
                .unwrap()
                .to_owned()
        };
        (get("txSecret"), get("txTime"))
    }

    #[test]
    fn known_vector() {
        assert_eq!(tx_time_hex(NOW + WEEK), VEC_TIME);
        assert_eq!(
            tx_secret("abcdef0123456789", "8888_alice_ab12", VEC_TIME),
            VEC_SECRET
        );
        let s = signer();
        let push_key = session_push_key(&s.key, "tok");
        assert_eq!(
            s.push_url("8888_alice_ab12", "tok", NOW),
            format!(
                "rtmp://push.example.com/live/8888_alice_ab12?bizid=8888&txSecret={}&txTime={VEC_TIME}",
                tx_secret(&push_key, "8888_alice_ab12", VEC_TIME)
            )
        );
        assert_eq!(
            s.accelerate_url("8888_alice_ab12", NOW),
            format!(
                "rtmp://play.example.com/live/8888_alice_ab12?bizid=8888&txSecret={}&txTime={VEC_TIME}",
                tx_secret(&play_key(&s.key), "8888_alice_ab12", VEC_TIME)
            )
        );
        assert_eq!(
            s.mixed_play_url("8888_alice_ab12"),
            "https://play.example.com/live/8888_alice_ab12.flv"
        );
    }

    #[test]
    fn derived_keys_match_python() {
        // python3 -c 'import hashlib; print(hashlib.md5(b"k\0push\0t").hexdigest(), hashlib.md5(b"k\0play").hexdigest())'
        assert_eq!(session_push_key("k", "t"), PY_PUSH);
        assert_eq!(play_key("k"), PY_PLAY);
    }

    #[test]
    fn check_accepts_own_urls_until_expiry() {
        let s = signer();
        let url = s.push_url("8888_bob", "tok", NOW);
        let stream = stream_from_url(&url).unwrap();
        let (secret, time) = query_of(&url);
        s.check_push(stream, "tok", &secret, &time, NOW).unwrap();
        s.check_push(stream, "tok", &secret.to_ascii_uppercase(), &time, NOW)
            .unwrap();
        s.check_push(stream, "tok", &secret, &time, NOW + WEEK)
            .unwrap();
        assert_eq!(
            s.check_push(stream, "tok", &secret, &time, NOW + WEEK + 1),
            Err(PushUrlError::Expired)
        );
    }

    #[test]
    fn a_play_url_is_never_a_push_url() {
        let s = signer();
        // Minted in the same second, for the same stream: still different.
        let push = s.push_url("8888_alice", "tok", NOW);
        let play = s.accelerate_url("8888_alice", NOW);
        assert_ne!(query_of(&push).0, query_of(&play).0);
        let (secret, time) = query_of(&play);
        assert_eq!(
            s.check_push("8888_alice", "tok", &secret, &time, NOW),
            Err(PushUrlError::BadSecret)
        );
        // Nor is the plain (pre-session) Tencent signature with the raw key.
        let raw = tx_secret(&s.key, "8888_alice", &time);
        assert_eq!(
            s.check_push("8888_alice", "tok", &raw, &time, NOW),
            Err(PushUrlError::BadSecret)
        );
    }

    #[test]
    fn a_push_url_belongs_to_its_session() {
        let s = signer();
        let (secret, time) = query_of(&s.push_url("8888_alice", "old", NOW));
        assert_eq!(
            s.check_push("8888_alice", "new", &secret, &time, NOW),
            Err(PushUrlError::BadSecret)
        );
    }

    #[test]
    fn check_errors() {
        let s = signer();
        let (secret, time) = query_of(&s.push_url("8888_alice_ab12", "t", NOW));
        assert_eq!(
            s.check_push("8888_alice_ab12", "t", &secret, &time, NOW),
            Ok(())
        );
        // Other stream, key, time or secret.
        assert_eq!(
            s.check_push("8888_mallory", "t", &secret, &time, NOW),
            Err(PushUrlError::BadSecret)
        );
        let other = PushSigner {
            key: "k2".into(),
            ..signer()
        };
        assert_eq!(
            other.check_push("8888_alice_ab12", "t", &secret, &time, NOW),
            Err(PushUrlError::BadSecret)
        );
        assert_eq!(
            s.check_push("8888_alice_ab12", "t", &secret, "655D2B81", NOW),
            Err(PushUrlError::BadSecret)
        );
        // The secret covers txTime as presented, so its hex case matters.
        assert_eq!(
            s.check_push(
                "8888_alice_ab12",
                "t",
                &secret,
                &time.to_ascii_lowercase(),
                NOW
            ),
            Err(PushUrlError::BadSecret)
        );
        for bad in [
            "",
            "xyz",
            "+655D2B80",
            "-1",
            "8000000000000000",
            "00000000000000001",
        ] {
            assert_eq!(
                s.check_push("8888_alice_ab12", "t", &secret, bad, NOW),
                Err(PushUrlError::MalformedTxTime),
                "{bad:?}"
            );
        }
        for bad in ["", "e8c2", "é", &"0".repeat(1000)] {
            assert_eq!(
                s.check_push("8888_alice_ab12", "t", bad, &time, NOW),
                Err(PushUrlError::BadSecret)
            );
        }
    }

    #[test]
    fn stream_extraction() {
        let cases = [
            ("rtmp://h/live/8888_a?bizid=1&txSecret=x", Some("8888_a")),
            ("rtmp://h/live/8888_a", Some("8888_a")),
            ("rtmp://h:1935/app/live/s#frag", Some("s")),
            ("https://h/live/s.flv", Some("s.flv")),
            ("rtmp://h/live/?x", None),
            ("rtmp://h", None),
            ("8888_a?x", None),
            ("", None),
            ("?://", None),
        ];
        for (url, want) in cases {
            assert_eq!(stream_from_url(url), want, "{url}");
        }
    }

    #[test]
    fn member_streams_round_trip() {
        for (app, user, want) in [
            (1_400_000_001, "alice", "8888_1400000001_alice"),
            (7, "a_b", "8888_7_a_5fb"),
            (7, "李雷", "8888_7__e6_9d_8e_e9_9b_b7"),
        ] {
            let stream = member_stream("8888", app, user);
            assert_eq!(stream, want);
            assert_eq!(
                parse_member_stream("8888", &stream),
                Some((app, user.to_owned()))
            );
        }
        for bad in [
            "8888_07_a",
            "8888_7_a_41",
            "8888_7_a_2",
            "9999_7_a",
            "8888_7__ff",
        ] {
            assert_eq!(parse_member_stream("8888", bad), None, "{bad}");
        }
    }

    #[test]
    fn no_key_in_debug_and_negative_times_clamp() {
        assert!(!format!("{:?}", signer()).contains("abcdef0123456789"));
        assert_eq!(tx_time_hex(-5), "0");
        let s = PushSigner {
            valid_secs: i64::MAX,
            ..signer()
        };
        assert!(s
            .push_url("x", "t", NOW)
            .ends_with("&txTime=7FFFFFFFFFFFFFFF"));
    }
}
