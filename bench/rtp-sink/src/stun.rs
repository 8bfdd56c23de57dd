//! The STUN of ICE connectivity checks (RFC 5389 / 8445), only what a
//! receiver needs: parse a Binding request, answer it, and send Binding
//! requests of its own, with MESSAGE-INTEGRITY and FINGERPRINT.

use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::sign::Signer;
use std::net::{IpAddr, SocketAddr};

const MAGIC_COOKIE: u32 = 0x2112_A442;
const BINDING_REQUEST: u16 = 0x0001;
const BINDING_SUCCESS: u16 = 0x0101;
const USERNAME: u16 = 0x0006;
const MESSAGE_INTEGRITY: u16 = 0x0008;
const XOR_MAPPED_ADDRESS: u16 = 0x0020;
const PRIORITY: u16 = 0x0024;
const USE_CANDIDATE: u16 = 0x0025;
const FINGERPRINT: u16 = 0x8028;
const ICE_CONTROLLING: u16 = 0x802A;
const FINGERPRINT_XOR: u32 = 0x5354_554E;

/// A parsed STUN message: its class+method, transaction id and USERNAME.
pub struct Message {
    /// Message type (class and method).
    pub kind: u16,
    /// Transaction id.
    pub transaction: [u8; 12],
    /// USERNAME, when present.
    pub username: Option<String>,
}

impl Message {
    /// Whether this is a Binding request.
    pub fn is_request(&self) -> bool {
        self.kind == BINDING_REQUEST
    }

    /// Whether this is a Binding success response.
    pub fn is_success(&self) -> bool {
        self.kind == BINDING_SUCCESS
    }
}

/// Whether a datagram is STUN (RFC 7983 demultiplexing: first byte 0–3 and the magic cookie).
pub fn is_stun(b: &[u8]) -> bool {
    b.len() >= 20 && b[0] < 4 && u32::from_be_bytes([b[4], b[5], b[6], b[7]]) == MAGIC_COOKIE
}

/// Parses the header and USERNAME of a STUN message (integrity is not checked: loopback only).
pub fn parse(b: &[u8]) -> Option<Message> {
    if !is_stun(b) {
        return None;
    }
    let kind = u16::from_be_bytes([b[0], b[1]]);
    let len = usize::from(u16::from_be_bytes([b[2], b[3]]));
    let body = b.get(20..20 + len)?;
    let mut transaction = [0u8; 12];
    transaction.copy_from_slice(&b[8..20]);
    let mut username = None;
    let mut at = 0;
    while at + 4 <= body.len() {
        let t = u16::from_be_bytes([body[at], body[at + 1]]);
        let l = usize::from(u16::from_be_bytes([body[at + 2], body[at + 3]]));
        let v = body.get(at + 4..at + 4 + l)?;
        if t == USERNAME {
            username = Some(String::from_utf8_lossy(v).into_owned());
        }
        at += 4 + l.div_ceil(4) * 4;
    }
    Some(Message {
        kind,
        transaction,
        username,
    })
}

/// Builds a message from attributes, then appends MESSAGE-INTEGRITY (keyed
/// with `key`) and FINGERPRINT.
fn build(kind: u16, transaction: &[u8; 12], attrs: &[(u16, Vec<u8>)], key: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(128);
    m.extend_from_slice(&kind.to_be_bytes());
    m.extend_from_slice(&[0, 0]);
    m.extend_from_slice(&MAGIC_COOKIE.to_be_bytes());
    m.extend_from_slice(transaction);
    for (t, v) in attrs {
        push_attr(&mut m, *t, v);
    }
    // MESSAGE-INTEGRITY covers the message with its length already counting the attribute.
    set_len(&mut m, 24);
    let mac = hmac_sha1(key, &m);
    push_attr(&mut m, MESSAGE_INTEGRITY, &mac);
    set_len(&mut m, 8);
    let crc = crc32fast::hash(&m) ^ FINGERPRINT_XOR;
    push_attr(&mut m, FINGERPRINT, &crc.to_be_bytes());
    set_len(&mut m, 0);
    m
}

fn push_attr(m: &mut Vec<u8>, t: u16, v: &[u8]) {
    m.extend_from_slice(&t.to_be_bytes());
    // Attribute values here are a few dozen bytes at most.
    m.extend_from_slice(&u16::try_from(v.len()).unwrap_or(0).to_be_bytes());
    m.extend_from_slice(v);
    m.resize(m.len() + (4 - v.len() % 4) % 4, 0);
}

/// Sets the header's length field to the body so far plus `extra` bytes.
fn set_len(m: &mut [u8], extra: usize) {
    let len = u16::try_from(m.len() - 20 + extra).unwrap_or(u16::MAX);
    m[2..4].copy_from_slice(&len.to_be_bytes());
}

fn hmac_sha1(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC keys of any length are valid; openssl fails only on allocation.
    let pkey = PKey::hmac(key).expect("HMAC key");
    let mut signer = Signer::new(MessageDigest::sha1(), &pkey).expect("HMAC-SHA1 signer");
    signer.sign_oneshot_to_vec(data).expect("HMAC-SHA1")
}

/// The success response to `request` from `from`, keyed with our ICE password.
pub fn success(request: &Message, from: SocketAddr, local_pwd: &str) -> Vec<u8> {
    let mut v = vec![0u8, 0x01];
    v.extend_from_slice(&(from.port() ^ (MAGIC_COOKIE >> 16) as u16).to_be_bytes());
    let ip = match from.ip() {
        IpAddr::V4(ip) => u32::from(ip),
        IpAddr::V6(_) => 0, // the bench is IPv4 only
    };
    v.extend_from_slice(&(ip ^ MAGIC_COOKIE).to_be_bytes());
    build(
        BINDING_SUCCESS,
        &request.transaction,
        &[(XOR_MAPPED_ADDRESS, v)],
        local_pwd.as_bytes(),
    )
}

/// A Binding request as the controlling agent nominating the pair
/// (USE-CANDIDATE), keyed with the remote ICE password.
pub fn request(transaction: &[u8; 12], username: &str, remote_pwd: &str) -> Vec<u8> {
    build(
        BINDING_REQUEST,
        transaction,
        &[
            (USERNAME, username.as_bytes().to_vec()),
            (PRIORITY, 0x6E00_01FFu32.to_be_bytes().to_vec()),
            // The highest tie-breaker: any role conflict makes us controlling.
            (ICE_CONTROLLING, u64::MAX.to_be_bytes().to_vec()),
            (USE_CANDIDATE, Vec::new()),
        ],
        remote_pwd.as_bytes(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_parses_back_with_its_username() {
        let m = request(&[7; 12], "a:b", "pwd");
        assert!(is_stun(&m));
        let p = parse(&m).expect("parses");
        assert!(p.is_request());
        assert_eq!(p.username.as_deref(), Some("a:b"));
        assert_eq!(p.transaction, [7; 12]);
        // FINGERPRINT is the last attribute and checks out.
        let n = m.len();
        let crc = u32::from_be_bytes([m[n - 4], m[n - 3], m[n - 2], m[n - 1]]);
        assert_eq!(crc, crc32fast::hash(&m[..n - 8]) ^ FINGERPRINT_XOR);
    }
}
