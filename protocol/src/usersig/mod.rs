//! UserSig: Tencent TLS login tickets, v2 (HMAC-SHA256) and v1 (ECDSA P-256).
//!
//! A UserSig is `base64url(zlib(json))` where `base64url` is Tencent's alphabet
//! (see [`base64url`]). The JSON says which version it is: v2 carries
//! `"TLS.ver":"2.0"` and numeric fields; v1 (the 2018 RTCRoom clients) has no
//! `TLS.ver`, string fields and an ECDSA signature.
//!
//! [`verify`] handles both; [`gen_v2`] and [`gen_v1`] produce them. Nothing in
//! this module reads the clock: the caller passes `now` (unix seconds).

pub mod base64url;
pub mod privilege;
mod v1;
mod v2;

use std::io::Read;

use serde_json::{Map, Value};

pub use v1::gen_v1;
pub use v2::gen_v2;

/// Longest UserSig string accepted (characters). Real ones are a few hundred.
pub const MAX_SIG_LEN: usize = 16 * 1024;
/// Largest inflated JSON accepted (bytes); guards against zlib bombs.
pub const MAX_JSON_LEN: usize = 64 * 1024;
/// Default for [`VerifyOptions::max_clock_skew`] (seconds).
pub const DEFAULT_MAX_CLOCK_SKEW: i64 = 300;

/// All failures of decoding/verifying a UserSig. Each variant is distinct; the server maps them to numeric codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UserSigError {
    /// Not valid base64 in Tencent's alphabet (`*`, `-`, `_`), or too long.
    #[error("userSig is not valid base64url")]
    Base64,
    /// The decoded bytes are not a zlib stream (or inflate too large).
    #[error("userSig does not inflate")]
    Zlib,
    /// Not the expected JSON object: bad syntax, missing field or wrong type.
    #[error("userSig content is not the expected JSON")]
    Json,
    /// `TLS.ver` is not `"2.0"` and the object does not look like v1.
    #[error("unknown userSig version {0:?}")]
    UnknownVersion(String),
    /// The sig was issued for another sdkAppID.
    #[error("userSig is for sdkAppID {found}, expected {expected}")]
    AppIdMismatch {
        /// The sdkAppID the server checked against.
        expected: u64,
        /// The sdkAppID inside the sig.
        found: u64,
    },
    /// The identifier in the sig is not the userID presented.
    #[error("userSig identifier does not match userID")]
    IdentifierMismatch,
    /// `now > time + expire`.
    #[error("userSig expired")]
    Expired,
    /// `TLS.time` is further in the future than the allowed clock skew.
    #[error("userSig time is in the future")]
    FutureTime,
    /// HMAC (v2) or ECDSA (v1) check failed.
    #[error("userSig signature check failed")]
    BadSignature,
    /// No key configured for this sig's version (v1 needs a public key, v2 a secret key).
    #[error("no key configured for this userSig version")]
    NoKeyForVersion,
    /// The configured key cannot be used; the text says why (never the key itself).
    #[error("configured key unusable: {0}")]
    BadKey(String),
}

/// Keys the server holds for one sdkAppID.
#[derive(Clone, Default)]
pub struct AppKeys {
    /// The sdkAppID sigs must be issued for.
    pub sdk_app_id: u64,
    /// v2 HMAC secret key (the console's "secret key" string; its UTF-8 bytes are the HMAC key).
    pub secret_key: Option<String>,
    /// v1 ECDSA P-256 public key, PEM SPKI (`-----BEGIN PUBLIC KEY-----`).
    pub public_key_pem: Option<String>,
}

impl std::fmt::Debug for AppKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret key.
        f.debug_struct("AppKeys")
            .field("sdk_app_id", &self.sdk_app_id)
            .field(
                "secret_key",
                &self.secret_key.as_ref().map(|_| "<redacted>"),
            )
            .field("public_key_pem", &self.public_key_pem.is_some())
            .finish()
    }
}

/// Which TLS sig format a UserSig used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SigVersion {
    /// ECDSA-SHA256 with a key pair, string fields (2018 RTCRoom clients).
    V1,
    /// HMAC-SHA256 with the secret key, `TLS.ver` = `"2.0"`.
    V2,
}

/// What a verified sig says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedSig {
    /// Format of the sig.
    pub version: SigVersion,
    /// `TLS.identifier` (equal to the userID presented).
    pub identifier: String,
    /// `TLS.sdkappid` (v2) / `TLS.sdk_appid` (v1).
    pub sdk_app_id: u64,
    /// `TLS.time`: issue time, unix seconds.
    pub time: i64,
    /// `TLS.expire` (v2) / `TLS.expire_after` (v1): lifetime in seconds.
    pub expire: i64,
    /// Decoded `TLS.userbuf`, if present.
    pub userbuf: Option<Vec<u8>>,
}

impl VerifiedSig {
    /// Unix second after which the sig is no longer valid.
    pub fn expires_at(&self) -> i64 {
        self.time.saturating_add(self.expire)
    }
}

/// Clock inputs of [`verify`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifyOptions {
    /// Current time, unix seconds.
    pub now: i64,
    /// How far `TLS.time` may lie in the future (seconds); default [`DEFAULT_MAX_CLOCK_SKEW`].
    pub max_clock_skew: i64,
}

impl VerifyOptions {
    /// Options at `now` with the default clock skew.
    pub fn at(now: i64) -> Self {
        Self {
            now,
            max_clock_skew: DEFAULT_MAX_CLOCK_SKEW,
        }
    }
}

/// Verify `sig` presented by `user_id` for app `keys` (v2 or v1, detected from the JSON).
///
/// Checks, in order: encoding, JSON shape, version, sdkAppID, identifier,
/// key availability, signature, then time (future, expired). Time errors are
/// therefore only reported for authentic sigs.
pub fn verify(
    sig: &str,
    user_id: &str,
    keys: &AppKeys,
    opts: &VerifyOptions,
) -> Result<VerifiedSig, UserSigError> {
    let obj = decode_object(sig)?;
    let verified = match detect_version(&obj)? {
        SigVersion::V2 => v2::verify_object(&obj, user_id, keys)?,
        SigVersion::V1 => v1::verify_object(&obj, user_id, keys)?,
    };
    check_time(verified.time, verified.expire, opts)?;
    Ok(verified)
}

/// Decode a UserSig to its JSON object without checking anything else.
/// Useful for diagnostics; never trust the result.
pub fn decode_object(sig: &str) -> Result<Map<String, Value>, UserSigError> {
    if sig.is_empty() || sig.len() > MAX_SIG_LEN {
        return Err(UserSigError::Base64);
    }
    let compressed = base64url::decode(sig)?;
    let json = inflate_limited(&compressed)?;
    match serde_json::from_slice::<Value>(&json) {
        Ok(Value::Object(obj)) => Ok(obj),
        _ => Err(UserSigError::Json),
    }
}

fn inflate_limited(compressed: &[u8]) -> Result<Vec<u8>, UserSigError> {
    let mut out = Vec::new();
    let limit = u64::try_from(MAX_JSON_LEN)
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    flate2::read::ZlibDecoder::new(compressed)
        .take(limit)
        .read_to_end(&mut out)
        .map_err(|_| UserSigError::Zlib)?;
    if out.len() > MAX_JSON_LEN {
        return Err(UserSigError::Zlib);
    }
    Ok(out)
}

fn detect_version(obj: &Map<String, Value>) -> Result<SigVersion, UserSigError> {
    match obj.get("TLS.ver") {
        Some(Value::String(v)) if v == "2.0" => Ok(SigVersion::V2),
        // Untrusted text goes into the error: keep it short.
        Some(Value::String(v)) => Err(UserSigError::UnknownVersion(v.chars().take(32).collect())),
        Some(_) => Err(UserSigError::Json),
        None if obj.contains_key("TLS.sdk_appid") || obj.contains_key("TLS.expire_after") => {
            Ok(SigVersion::V1)
        }
        None => Err(UserSigError::UnknownVersion(String::new())),
    }
}

fn check_time(time: i64, expire: i64, opts: &VerifyOptions) -> Result<(), UserSigError> {
    if time > opts.now.saturating_add(opts.max_clock_skew.max(0)) {
        return Err(UserSigError::FutureTime);
    }
    if opts.now > time.saturating_add(expire) {
        return Err(UserSigError::Expired);
    }
    Ok(())
}

/// zlib-compress (default level 6, as Node `zlib.deflateSync` and Python
/// `zlib.compress` do) and encode with the Tencent alphabet.
fn compress_encode(json: &[u8]) -> String {
    use std::io::Write;
    let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing into a Vec cannot fail.
    enc.write_all(json)
        .expect("zlib compression into a Vec is infallible");
    let compressed = enc
        .finish()
        .expect("zlib compression into a Vec is infallible");
    base64url::encode(&compressed)
}

#[cfg(test)]
mod tests;
