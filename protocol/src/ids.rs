//! Validated identifiers. Both travel as plain JSON strings; deserializing an
//! invalid one fails, so handlers never see an empty or oversized id.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Longest accepted id, in bytes (Tencent IM group ids allow 48, identifiers 32;
/// we leave head-room for ids minted by other systems).
pub const MAX_ID_LEN: usize = 64;

/// Why a string is not a valid id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// The id is empty.
    #[error("id is empty")]
    Empty,
    /// The id is longer than [`MAX_ID_LEN`] bytes.
    #[error("id is longer than {MAX_ID_LEN} bytes")]
    TooLong,
    /// The id contains whitespace or a control character.
    #[error("id contains whitespace or control characters")]
    BadChar,
}

fn validate(s: &str) -> Result<(), IdError> {
    if s.is_empty() {
        return Err(IdError::Empty);
    }
    if s.len() > MAX_ID_LEN {
        return Err(IdError::TooLong);
    }
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(IdError::BadChar);
    }
    Ok(())
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Validates and wraps `s`.
            pub fn new(s: impl Into<String>) -> Result<Self, IdError> {
                let s = s.into();
                validate(&s)?;
                Ok(Self(s))
            }
            /// The id as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl $crate::read::Read for $name {
            fn read<D: $crate::read::Doc>(v: &D) -> Result<Self, $crate::read::ReadError> {
                Self::new(<String as $crate::read::Read>::read(v)?).map_err(|e| $crate::read::ReadError::other(&e))
            }
        }
        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(s: String) -> Result<Self, IdError> {
                Self::new(s)
            }
        }
        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }
    };
}

id_type!(
    /// A room identifier (`roomID` on the wire).
    RoomId
);
id_type!(
    /// A user identifier (`userID` on the wire); the UserSig `identifier`.
    UserId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_ids() {
        assert!(RoomId::new("room_1a2b3c4d_5e6f").is_ok());
        assert!(UserId::new("用户-1@example").is_ok());
    }

    #[test]
    fn rejects_bad_ids() {
        assert_eq!(UserId::new(""), Err(IdError::Empty));
        assert_eq!(UserId::new("a".repeat(65)), Err(IdError::TooLong));
        assert_eq!(RoomId::new("a b"), Err(IdError::BadChar));
        assert_eq!(RoomId::new("a\u{0}"), Err(IdError::BadChar));
    }

    #[test]
    fn serde_validates() {
        let ok: RoomId = serde_json::from_str("\"r1\"").unwrap();
        assert_eq!(ok.as_str(), "r1");
        assert!(serde_json::from_str::<RoomId>("\"\"").is_err());
        assert_eq!(serde_json::to_string(&ok).unwrap(), "\"r1\"");
    }
}
