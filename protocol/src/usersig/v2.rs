//! TLS sig v2: HMAC-SHA256 with the app's secret key, `"TLS.ver":"2.0"`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::Serialize;
use serde_json::{Map, Value};
use sha2::Sha256;

use super::{compress_encode, AppKeys, SigVersion, UserSigError, VerifiedSig};

type HmacSha256 = Hmac<Sha256>;

/// The v2 JSON in the field order of the official Python and Go generators.
#[derive(Serialize)]
struct SigDocV2<'a> {
    #[serde(rename = "TLS.ver")]
    ver: &'static str,
    #[serde(rename = "TLS.identifier")]
    identifier: &'a str,
    #[serde(rename = "TLS.sdkappid")]
    sdkappid: u64,
    #[serde(rename = "TLS.expire")]
    expire: i64,
    #[serde(rename = "TLS.time")]
    time: i64,
    #[serde(rename = "TLS.userbuf", skip_serializing_if = "Option::is_none")]
    userbuf: Option<&'a str>,
    #[serde(rename = "TLS.sig")]
    sig: &'a str,
}

/// The HMAC over the v2 content lines, keyed with the secret key's UTF-8 bytes.
fn mac(
    secret_key: &str,
    identifier: &str,
    sdk_app_id: u64,
    time: i64,
    expire: i64,
    userbuf_b64: Option<&str>,
) -> HmacSha256 {
    let mut content = format!(
        "TLS.identifier:{identifier}\nTLS.sdkappid:{sdk_app_id}\nTLS.time:{time}\nTLS.expire:{expire}\n"
    );
    if let Some(b) = userbuf_b64 {
        content.push_str("TLS.userbuf:");
        content.push_str(b);
        content.push('\n');
    }
    let mut mac =
        HmacSha256::new_from_slice(secret_key.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(content.as_bytes());
    mac
}

/// Generate a v2 sig (HMAC-SHA256) exactly like Tencent's official tls-sig-api-v2 generators; `userbuf` optional.
///
/// `expire_secs` is the lifetime (`TLS.expire`), `now` the issue time (`TLS.time`).
/// JSON field order follows the Python/Go generators; zlib level 6 as Node/Python.
pub fn gen_v2(
    sdk_app_id: u64,
    secret_key: &str,
    identifier: &str,
    expire_secs: i64,
    now: i64,
    userbuf: Option<&[u8]>,
) -> String {
    let userbuf_b64 = userbuf.map(|b| STANDARD.encode(b));
    let tag = mac(
        secret_key,
        identifier,
        sdk_app_id,
        now,
        expire_secs,
        userbuf_b64.as_deref(),
    )
    .finalize()
    .into_bytes();
    let sig = STANDARD.encode(tag);
    let doc = SigDocV2 {
        ver: "2.0",
        identifier,
        sdkappid: sdk_app_id,
        expire: expire_secs,
        time: now,
        userbuf: userbuf_b64.as_deref(),
        sig: &sig,
    };
    let json = serde_json::to_vec(&doc).expect("serializing strings and integers cannot fail");
    compress_encode(&json)
}

/// Check a decoded v2 object: fields, sdkAppID, identifier, HMAC. Time is checked by the caller.
pub(super) fn verify_object(
    obj: &Map<String, Value>,
    user_id: &str,
    keys: &AppKeys,
) -> Result<VerifiedSig, UserSigError> {
    let identifier = match obj.get("TLS.identifier") {
        Some(Value::String(s)) => s.as_str(),
        _ => return Err(UserSigError::Json),
    };
    let sdk_app_id = obj
        .get("TLS.sdkappid")
        .and_then(Value::as_u64)
        .ok_or(UserSigError::Json)?;
    let time = obj
        .get("TLS.time")
        .and_then(Value::as_i64)
        .ok_or(UserSigError::Json)?;
    let expire = obj
        .get("TLS.expire")
        .and_then(Value::as_i64)
        .ok_or(UserSigError::Json)?;
    // Absent or null: no userbuf line in the signed content.
    let userbuf_b64 = match obj.get("TLS.userbuf") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.as_str()),
        Some(_) => return Err(UserSigError::Json),
    };
    let userbuf = userbuf_b64
        .map(|s| STANDARD.decode(s).map_err(|_| UserSigError::Json))
        .transpose()?;
    let sig_b64 = match obj.get("TLS.sig") {
        Some(Value::String(s)) => s.as_str(),
        _ => return Err(UserSigError::Json),
    };

    if sdk_app_id != keys.sdk_app_id {
        return Err(UserSigError::AppIdMismatch {
            expected: keys.sdk_app_id,
            found: sdk_app_id,
        });
    }
    if identifier != user_id {
        return Err(UserSigError::IdentifierMismatch);
    }
    let secret_key = keys
        .secret_key
        .as_deref()
        .ok_or(UserSigError::NoKeyForVersion)?;
    let presented = STANDARD
        .decode(sig_b64)
        .map_err(|_| UserSigError::BadSignature)?;
    // The content is rebuilt from the userbuf string exactly as it appears in
    // the JSON, as the Node and Python generators sign it.
    mac(
        secret_key,
        identifier,
        sdk_app_id,
        time,
        expire,
        userbuf_b64,
    )
    .verify_slice(&presented)
    .map_err(|_| UserSigError::BadSignature)?;

    Ok(VerifiedSig {
        version: SigVersion::V2,
        identifier: identifier.to_owned(),
        sdk_app_id,
        time,
        expire,
        userbuf,
    })
}
