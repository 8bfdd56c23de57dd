//! PrivateMapKey: Tencent's room privilege ticket (TRTC), a v2 UserSig whose
//! `TLS.userbuf` names the user, the app, the room, an expiry and the
//! privilege bits — what the official `tls-sig-api-v2` `genPrivateMapKey` /
//! `genPrivateMapKeyWithStringRoomID` produce.
//!
//! The userbuf (all integers big-endian): version (1 byte: 0 numeric room,
//! 1 string room), account length (2) and account, then sdkappid, roomid,
//! expiry (unix second), privilege bits, account type (4 each), and for a
//! string room a 2-byte length and the room string (roomid is 0 then).
//!
//! [`check`] verifies the sig like a UserSig (same keys, same clock), parses
//! the userbuf and checks user, app, room, expiry and bits, each failure with
//! its own [`PrivilegeError`].

use super::{decode_object, verify, AppKeys, UserSigError, VerifyOptions};

/// Privilege bits of the userbuf.
pub mod bits {
    /// Create the room.
    pub const CREATE: u32 = 1;
    /// Enter the room.
    pub const ENTER: u32 = 2;
    /// Send audio.
    pub const SEND_AUDIO: u32 = 4;
    /// Send video.
    pub const SEND_VIDEO: u32 = 16;
    /// Publish: send audio or video (either bit grants it).
    pub const PUBLISH: u32 = SEND_AUDIO | SEND_VIDEO;
}

/// The room a key is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyRoom {
    /// `genPrivateMapKey`: a numeric room id.
    Number(u32),
    /// `genPrivateMapKeyWithStringRoomID`.
    Str(String),
}

/// A parsed PrivateMapKey userbuf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivateMap {
    /// The user it was issued to.
    pub account: String,
    /// The app.
    pub sdk_app_id: u32,
    /// The room.
    pub room: KeyRoom,
    /// Unix second after which it is void.
    pub expiry: u32,
    /// The [`bits`] granted.
    pub privileges: u32,
    /// Legacy account type.
    pub account_type: u32,
}

/// Why a privilege key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PrivilegeError {
    /// The app requires a key and none was given.
    #[error("this app requires a privateMapKey for the room")]
    Missing,
    /// The key does not verify as a UserSig of this app (its own code says why).
    #[error("privateMapKey: {0}")]
    Sig(UserSigError),
    /// The sig carries no userbuf, or one that is not a PrivateMapKey's.
    #[error("privateMapKey has no valid privilege map")]
    Malformed,
    /// Issued to another user.
    #[error("privateMapKey was issued to another user")]
    WrongUser,
    /// Issued for another room (or another app).
    #[error("privateMapKey is for another room")]
    WrongRoom,
    /// Expired (the sig's or the map's expiry).
    #[error("privateMapKey has expired")]
    Expired,
    /// A needed privilege bit is not granted.
    #[error("privateMapKey does not grant {0}")]
    NotGranted(&'static str),
}

/// Parses a PrivateMapKey userbuf.
pub fn parse_userbuf(b: &[u8]) -> Option<PrivateMap> {
    let mut r = Reader(b);
    let version = r.take(1)?[0];
    let len = usize::from(r.u16()?);
    let account = String::from_utf8(r.take(len)?.to_vec()).ok()?;
    let sdk_app_id = r.u32()?;
    let roomid = r.u32()?;
    let expiry = r.u32()?;
    let privileges = r.u32()?;
    let account_type = r.u32()?;
    let room = match version {
        0 => KeyRoom::Number(roomid),
        1 => {
            let len = usize::from(r.u16()?);
            KeyRoom::Str(String::from_utf8(r.take(len)?.to_vec()).ok()?)
        }
        _ => return None,
    };
    r.0.is_empty().then_some(PrivateMap {
        account,
        sdk_app_id,
        room,
        expiry,
        privileges,
        account_type,
    })
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }
    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Option<u32> {
        self.take(4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
}

/// Whether `room` (our room id) is the key's room: a numeric key matches the
/// room id written as that number, a string key the same string.
fn same_room(key: &KeyRoom, room: &str) -> bool {
    match key {
        KeyRoom::Number(n) => room == n.to_string(),
        KeyRoom::Str(s) => s == room,
    }
}

/// Checks `key` grants `user` every bit group of `needed` (each group is
/// granted when any of its bits is: pass [`bits::PUBLISH`] as one group) in
/// `room` of the app `keys`.
pub fn check(
    key: Option<&str>,
    user: &str,
    room: &str,
    needed: &[(u32, &'static str)],
    keys: &AppKeys,
    opts: &VerifyOptions,
) -> Result<PrivateMap, PrivilegeError> {
    let key = key
        .filter(|k| !k.is_empty())
        .ok_or(PrivilegeError::Missing)?;
    // Verified against its own identifier, so another user's key is told apart.
    let issued_to = decode_object(key)
        .map_err(PrivilegeError::Sig)?
        .get("TLS.identifier")
        .and_then(|v| v.as_str().map(str::to_owned))
        .ok_or(PrivilegeError::Sig(UserSigError::Json))?;
    let verified = verify(key, &issued_to, keys, opts).map_err(|e| match e {
        UserSigError::Expired => PrivilegeError::Expired,
        e => PrivilegeError::Sig(e),
    })?;
    let map = verified
        .userbuf
        .as_deref()
        .and_then(parse_userbuf)
        .ok_or(PrivilegeError::Malformed)?;
    if issued_to != user || map.account != user {
        return Err(PrivilegeError::WrongUser);
    }
    if u64::from(map.sdk_app_id) != keys.sdk_app_id || !same_room(&map.room, room) {
        return Err(PrivilegeError::WrongRoom);
    }
    if opts.now > i64::from(map.expiry) {
        return Err(PrivilegeError::Expired);
    }
    if let Some((_, name)) = needed.iter().find(|(b, _)| map.privileges & b == 0) {
        return Err(PrivilegeError::NotGranted(name));
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn buf(version: u8, id: &str, room: u32, roomstr: Option<&str>) -> Vec<u8> {
        let mut b = vec![version];
        b.extend_from_slice(&(id.len() as u16).to_be_bytes());
        b.extend_from_slice(id.as_bytes());
        for n in [1_400_000_000u32, room, 1_700_000_300, 255, 0] {
            b.extend_from_slice(&n.to_be_bytes());
        }
        if let Some(r) = roomstr {
            b.extend_from_slice(&(r.len() as u16).to_be_bytes());
            b.extend_from_slice(r.as_bytes());
        }
        b
    }

    #[test]
    fn parses_both_layouts_and_refuses_short_or_long_ones() {
        let m = parse_userbuf(&buf(0, "ann", 10_000, None)).unwrap();
        assert_eq!(
            (m.account.as_str(), &m.room),
            ("ann", &KeyRoom::Number(10_000))
        );
        assert_eq!((m.expiry, m.privileges), (1_700_000_300, 255));
        let m = parse_userbuf(&buf(1, "ann", 0, Some("room_a"))).unwrap();
        assert_eq!(m.room, KeyRoom::Str("room_a".into()));
        let full = buf(1, "ann", 0, Some("room_a"));
        for n in 0..full.len() {
            assert!(parse_userbuf(&full[..n]).is_none(), "{n}");
        }
        let mut long = full.clone();
        long.push(0);
        assert!(parse_userbuf(&long).is_none());
        assert!(parse_userbuf(&buf(2, "ann", 0, None)).is_none());
    }

    #[test]
    fn rooms_match_by_number_or_string() {
        assert!(same_room(&KeyRoom::Number(42), "42"));
        assert!(!same_room(&KeyRoom::Number(42), "042"));
        assert!(same_room(&KeyRoom::Str("r".into()), "r"));
        assert!(!same_room(&KeyRoom::Str("r".into()), "R"));
    }
}
