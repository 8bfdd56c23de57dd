//! TLS sig v1: ECDSA-SHA256 over P-256, string fields (2018 RTCRoom clients).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use p256::pkcs8::{DecodePrivateKey, DecodePublicKey};
use serde::Serialize;
use serde_json::{Map, Value};

use super::{compress_encode, AppKeys, SigVersion, UserSigError, VerifiedSig};

/// The v1 JSON in the field order of the 2018 Node RoomService `getSig`.
#[derive(Serialize)]
struct SigDocV1<'a> {
    #[serde(rename = "TLS.appid_at_3rd")]
    appid_at_3rd: &'a str,
    #[serde(rename = "TLS.account_type")]
    account_type: &'a str,
    #[serde(rename = "TLS.identifier")]
    identifier: &'a str,
    #[serde(rename = "TLS.sdk_appid")]
    sdk_appid: &'a str,
    #[serde(rename = "TLS.time")]
    time: &'a str,
    #[serde(rename = "TLS.expire_after")]
    expire_after: &'a str,
    #[serde(rename = "TLS.sig")]
    sig: &'a str,
}

/// The six v1 content fields, as the decimal strings that were signed.
struct Fields<'a> {
    appid_at_3rd: &'a str,
    account_type: &'a str,
    identifier: &'a str,
    sdk_appid: &'a str,
    time: &'a str,
    expire_after: &'a str,
    /// Some third-party v1 generators (PHP `genSigWithUserbuf`) add a userbuf line.
    userbuf_b64: Option<&'a str>,
}

impl Fields<'_> {
    fn content(&self) -> String {
        let mut s = format!(
            "TLS.appid_at_3rd:{}\nTLS.account_type:{}\nTLS.identifier:{}\nTLS.sdk_appid:{}\nTLS.time:{}\nTLS.expire_after:{}\n",
            self.appid_at_3rd, self.account_type, self.identifier, self.sdk_appid, self.time, self.expire_after
        );
        if let Some(b) = self.userbuf_b64 {
            s.push_str("TLS.userbuf:");
            s.push_str(b);
            s.push('\n');
        }
        s
    }
}

fn signing_key(pem: &str) -> Result<SigningKey, UserSigError> {
    if let Ok(k) = SigningKey::from_pkcs8_pem(pem) {
        return Ok(k);
    }
    // `openssl ecparam -genkey` output (SEC1 "EC PRIVATE KEY") is accepted too.
    p256::SecretKey::from_sec1_pem(pem)
        .map(SigningKey::from)
        .map_err(|_| UserSigError::BadKey("private key is not a P-256 PKCS#8 or SEC1 PEM".into()))
}

fn verifying_key(pem: &str) -> Result<VerifyingKey, UserSigError> {
    VerifyingKey::from_public_key_pem(pem)
        .map_err(|_| UserSigError::BadKey("public key is not a P-256 SPKI PEM".into()))
}

/// Generate a v1 sig (ECDSA-SHA256, private key PEM PKCS#8), values as strings as the 2018 clients did. Used by tests and the debug login helper.
///
/// `TLS.appid_at_3rd` is set to the sdkAppID, as the Node RoomService did.
/// The signature is DER, standard base64. A SEC1 private key PEM is accepted too.
pub fn gen_v1(
    sdk_app_id: u64,
    account_type: &str,
    private_key_pem: &str,
    identifier: &str,
    expire_secs: i64,
    now: i64,
) -> Result<String, UserSigError> {
    let key = signing_key(private_key_pem)?;
    let app = sdk_app_id.to_string();
    let time = now.to_string();
    let expire_after = expire_secs.to_string();
    let fields = Fields {
        appid_at_3rd: &app,
        account_type,
        identifier,
        sdk_appid: &app,
        time: &time,
        expire_after: &expire_after,
        userbuf_b64: None,
    };
    let signature: Signature = key.sign(fields.content().as_bytes());
    let sig = STANDARD.encode(signature.to_der().as_bytes());
    let doc = SigDocV1 {
        appid_at_3rd: &app,
        account_type,
        identifier,
        sdk_appid: &app,
        time: &time,
        expire_after: &expire_after,
        sig: &sig,
    };
    let json = serde_json::to_vec(&doc).expect("serializing strings cannot fail");
    Ok(compress_encode(&json))
}

/// A v1 content field: a string, or (leniently, since some 2018 servers put
/// e.g. `accountType` from a numeric config) an integer, signed as its decimal text.
fn field(obj: &Map<String, Value>, key: &str) -> Result<String, UserSigError> {
    match obj.get(key) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Number(n)) if n.is_i64() || n.is_u64() => Ok(n.to_string()),
        _ => Err(UserSigError::Json),
    }
}

/// Check a decoded v1 object: fields, sdkAppID, identifier, ECDSA. Time is checked by the caller.
pub(super) fn verify_object(
    obj: &Map<String, Value>,
    user_id: &str,
    keys: &AppKeys,
) -> Result<VerifiedSig, UserSigError> {
    let appid_at_3rd = field(obj, "TLS.appid_at_3rd")?;
    let account_type = field(obj, "TLS.account_type")?;
    let identifier = match obj.get("TLS.identifier") {
        Some(Value::String(s)) => s.as_str(),
        _ => return Err(UserSigError::Json),
    };
    let sdk_appid = field(obj, "TLS.sdk_appid")?;
    let time_s = field(obj, "TLS.time")?;
    let expire_s = field(obj, "TLS.expire_after")?;
    let userbuf_b64 = match obj.get("TLS.userbuf") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.as_str()),
        Some(_) => return Err(UserSigError::Json),
    };
    let sig_b64 = match obj.get("TLS.sig") {
        Some(Value::String(s)) => s.as_str(),
        _ => return Err(UserSigError::Json),
    };
    // Parse as numbers (the original Node verifier concatenated the strings
    // `time + expire_after` instead of adding them).
    let sdk_app_id: u64 = sdk_appid.parse().map_err(|_| UserSigError::Json)?;
    let time: i64 = time_s.parse().map_err(|_| UserSigError::Json)?;
    let expire: i64 = expire_s.parse().map_err(|_| UserSigError::Json)?;
    let userbuf = userbuf_b64
        .map(|s| STANDARD.decode(s).map_err(|_| UserSigError::Json))
        .transpose()?;

    if sdk_app_id != keys.sdk_app_id {
        return Err(UserSigError::AppIdMismatch {
            expected: keys.sdk_app_id,
            found: sdk_app_id,
        });
    }
    if identifier != user_id {
        return Err(UserSigError::IdentifierMismatch);
    }
    let pem = keys
        .public_key_pem
        .as_deref()
        .ok_or(UserSigError::NoKeyForVersion)?;
    let key = verifying_key(pem)?;

    let raw = STANDARD
        .decode(sig_b64)
        .map_err(|_| UserSigError::BadSignature)?;
    // DER (what OpenSSL/Java/Node produce), or raw r||s.
    let signature = Signature::from_der(&raw)
        .or_else(|_| Signature::from_slice(&raw))
        .map_err(|_| UserSigError::BadSignature)?;
    let fields = Fields {
        appid_at_3rd: &appid_at_3rd,
        account_type: &account_type,
        identifier,
        sdk_appid: &sdk_appid,
        time: &time_s,
        expire_after: &expire_s,
        userbuf_b64,
    };
    key.verify(fields.content().as_bytes(), &signature)
        .map_err(|_| UserSigError::BadSignature)?;

    Ok(VerifiedSig {
        version: SigVersion::V1,
        identifier: identifier.to_owned(),
        sdk_app_id,
        time,
        expire,
        userbuf,
    })
}
