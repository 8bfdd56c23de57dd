//! Live push/play URL signing (Tencent "anti-leech" txSecret/txTime).
//!
//! `txTime` is the expiry second as upper-case hex; `txSecret` is the
//! lower-case hex `md5(key + streamName + txTime)`. nginx-rtmp's `on_publish`
//! hands the stream name and the query back to RoomService, which calls
//! [`PushSigner::check`]. Stream names are put into URLs verbatim: callers
//! must build them from URL-safe characters (e.g. `{bizid}_{userID}`).

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
    /// Anti-leech key (`pushSecretKey`).
    pub key: String,
    /// Lifetime of a signed URL in seconds (original: 7 days).
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

/// Default URL lifetime of the original servers: 7 days.
pub const DEFAULT_VALID_SECS: i64 = 7 * 24 * 3600;

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

impl PushSigner {
    /// The stream name `{bizid}_{sub_id}` used by the original servers.
    pub fn stream_name(&self, sub_id: &str) -> String {
        format!("{}_{}", self.bizid, sub_id)
    }

    /// `?bizid=..&txSecret=..&txTime=..` for `stream`, valid until `now + valid_secs`.
    fn signed_query(&self, stream: &str, now: i64) -> String {
        let tx_time = tx_time_hex(now.saturating_add(self.valid_secs));
        let secret = tx_secret(&self.key, stream, &tx_time);
        format!("?bizid={}&txSecret={secret}&txTime={tx_time}", self.bizid)
    }

    /// `txTime` = upper-case hex of (now + valid_secs); `txSecret` = lower-case hex md5(key + stream + txTime)
    ///
    /// Returns `rtmp://{push_host}/live/{stream}?bizid=..&txSecret=..&txTime=..`.
    pub fn push_url(&self, stream: &str, now: i64) -> String {
        format!(
            "rtmp://{}/live/{stream}{}",
            self.push_host,
            self.signed_query(stream, now)
        )
    }

    /// The same stream on `play_host`, signed the same way (low-latency play URL).
    pub fn accelerate_url(&self, stream: &str, now: i64) -> String {
        format!(
            "rtmp://{}/live/{stream}{}",
            self.play_host,
            self.signed_query(stream, now)
        )
    }

    /// `https://{play_host}/live/{stream}.flv`, unsigned.
    pub fn mixed_play_url(&self, stream: &str) -> String {
        format!("https://{}/live/{stream}.flv", self.play_host)
    }

    /// Check a (stream, txSecret, txTime) triple as nginx-rtmp on_publish will present it: Ok, or a distinct error for bad secret / expired / malformed txTime.
    ///
    /// Order: txTime shape, then secret (compared in constant time, hex case
    /// ignored), then expiry (`now > txTime` is expired).
    pub fn check(
        &self,
        stream: &str,
        tx_secret_presented: &str,
        tx_time: &str,
        now: i64,
    ) -> Result<(), PushUrlError> {
        let expiry = parse_tx_time(tx_time)?;
        let expected = tx_secret(&self.key, stream, tx_time);
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

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000;

    fn signer() -> PushSigner {
        PushSigner {
            push_host: "push.example.com".into(),
            play_host: "play.example.com".into(),
            bizid: "8888".into(),
            key: "abcdef0123456789".into(),
            valid_secs: DEFAULT_VALID_SECS,
        }
    }

    // python3 -c 'import hashlib; t=format(1700000000+604800,"X"); print(t, hashlib.md5(("abcdef0123456789"+"8888_alice_ab12"+t).encode()).hexdigest())'
    // -> 655D2B80 e8c2544a4addae2ba001b3b2a8d4508e
    const VEC_TIME: &str = "655D2B80";
    const VEC_SECRET: &str = "e8c2544a4addae2ba001b3b2a8d4508e";

    #[test]
    fn known_vector() {
        assert_eq!(tx_time_hex(NOW + DEFAULT_VALID_SECS), VEC_TIME);
        assert_eq!(
            tx_secret("abcdef0123456789", "8888_alice_ab12", VEC_TIME),
            VEC_SECRET
        );
        let s = signer();
        assert_eq!(s.stream_name("alice_ab12"), "8888_alice_ab12");
        assert_eq!(
            s.push_url("8888_alice_ab12", NOW),
            format!("rtmp://push.example.com/live/8888_alice_ab12?bizid=8888&txSecret={VEC_SECRET}&txTime={VEC_TIME}")
        );
        assert_eq!(
            s.accelerate_url("8888_alice_ab12", NOW),
            format!("rtmp://play.example.com/live/8888_alice_ab12?bizid=8888&txSecret={VEC_SECRET}&txTime={VEC_TIME}")
        );
        assert_eq!(
            s.mixed_play_url("8888_alice_ab12"),
            "https://play.example.com/live/8888_alice_ab12.flv"
        );
    }

    #[test]
    fn check_accepts_own_urls_until_expiry() {
        let s = signer();
        let url = s.push_url("8888_bob", NOW);
        let stream = stream_from_url(&url).unwrap();
        let q = url.split_once('?').unwrap().1;
        let get = |k: &str| {
            q.split('&')
                .find_map(|kv| kv.strip_prefix(k).and_then(|v| v.strip_prefix('=')))
                .unwrap()
        };
        let (secret, time) = (get("txSecret"), get("txTime"));
        s.check(stream, secret, time, NOW).unwrap();
        s.check(stream, &secret.to_ascii_uppercase(), time, NOW)
            .unwrap();
        s.check(stream, secret, time, NOW + DEFAULT_VALID_SECS)
            .unwrap();
        assert_eq!(
            s.check(stream, secret, time, NOW + DEFAULT_VALID_SECS + 1),
            Err(PushUrlError::Expired)
        );
    }

    #[test]
    fn check_errors() {
        let s = signer();
        assert_eq!(
            s.check("8888_alice_ab12", VEC_SECRET, VEC_TIME, NOW),
            Ok(())
        );
        // Other stream, key, time or secret.
        assert_eq!(
            s.check("8888_mallory", VEC_SECRET, VEC_TIME, NOW),
            Err(PushUrlError::BadSecret)
        );
        let other = PushSigner {
            key: "k2".into(),
            ..signer()
        };
        assert_eq!(
            other.check("8888_alice_ab12", VEC_SECRET, VEC_TIME, NOW),
            Err(PushUrlError::BadSecret)
        );
        assert_eq!(
            s.check("8888_alice_ab12", VEC_SECRET, "655D2B81", NOW),
            Err(PushUrlError::BadSecret)
        );
        // The secret covers txTime as presented, so its hex case matters.
        assert_eq!(
            s.check("8888_alice_ab12", VEC_SECRET, "655d2b80", NOW),
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
                s.check("8888_alice_ab12", VEC_SECRET, bad, NOW),
                Err(PushUrlError::MalformedTxTime),
                "{bad:?}"
            );
        }
        for bad in ["", "e8c2", "é", &"0".repeat(1000)] {
            assert_eq!(
                s.check("8888_alice_ab12", bad, VEC_TIME, NOW),
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
    fn no_key_in_debug_and_negative_times_clamp() {
        assert!(!format!("{:?}", signer()).contains("abcdef0123456789"));
        assert_eq!(tx_time_hex(-5), "0");
        let s = PushSigner {
            valid_secs: i64::MAX,
            ..signer()
        };
        assert!(s.push_url("x", NOW).ends_with("&txTime=7FFFFFFFFFFFFFFF"));
    }
}
