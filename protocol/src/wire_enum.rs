//! Unit-only enums whose wire form is a string (`"left"`, `"publisher"`, …),
//! defined from one table by [`wire_enum!`](crate::wire_enum::wire_enum):
//! each variant with its wire name, written once, and `Serialize` /
//! `Deserialize` from the same names.
//!
//! Why not serde's derive: for every enum it writes its own identifier visitor
//! and enum access, and the wasm client kept one copy per enum (each inlined
//! where a frame field is read). Here every enum shares one name-to-index
//! reader ([`variant_index`]) per format, and writes its name with
//! `serialize_str`, which is what serde_json writes for a unit variant.
//! A name the table does not have fails with serde's own `unknown variant`
//! error, as the derive's did.

use serde::de::{Deserializer, Error, Visitor};
use std::fmt;

/// Defines a unit-only enum and its string wire form from one table:
/// `Variant = "wire_name"`. The enum gets `NAMES` (wire names in declaration
/// order), `wire_name()`, `Serialize` and `Deserialize`; the caller's
/// attributes (docs, derives without serde's) are kept.
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $(
                $(#[$vdoc:meta])*
                $variant:ident = $wire:literal
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        pub enum $name {
            $(
                $(#[$vdoc])*
                $variant,
            )*
        }

        impl $name {
            /// Every variant's wire name, in declaration order.
            pub const NAMES: &'static [&'static str] = &[$($wire),*];
            /// Every variant, in the order of [`Self::NAMES`].
            const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The variant's name on the wire.
            pub fn wire_name(self) -> &'static str {
                match self {
                    $($name::$variant => $wire,)*
                }
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.wire_name())
            }
        }

        impl $crate::read::Read for $name {
            fn read<D: $crate::read::Doc>(v: &D) -> Result<Self, $crate::read::ReadError> {
                let i = $crate::read::variant(v, Self::NAMES)?;
                Self::ALL
                    .get(i)
                    .copied()
                    .ok_or_else(|| $crate::read::ReadError::invalid("a variant in range"))
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let i = $crate::wire_enum::variant_index(d, Self::NAMES)?;
                Self::ALL
                    .get(i)
                    .copied()
                    .ok_or_else(|| serde::de::Error::custom("variant out of range"))
            }
        }
    };
}
pub(crate) use wire_enum;

/// Reads a string and returns its index in `names`; a string not in it is
/// serde's `unknown variant` error. One copy per format for every
/// [`wire_enum!`] enum.
pub fn variant_index<'de, D: Deserializer<'de>>(
    d: D,
    names: &'static [&'static str],
) -> Result<usize, D::Error> {
    d.deserialize_str(Name(names))
}

/// The visitor of [`variant_index`].
struct Name(&'static [&'static str]);

impl Visitor<'_> for Name {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a variant name")
    }

    fn visit_str<E: Error>(self, v: &str) -> Result<usize, E> {
        self.0
            .iter()
            .position(|n| *n == v)
            .ok_or_else(|| E::unknown_variant(v, self.0))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use crate::sfu::{RoomMode, SfuLink, SfuState, TrackKind};
    use crate::ws::{CloseReason, CustomCmd, QuitReason, TextCmd};
    use serde::de::DeserializeOwned;
    use serde::Serialize;
    use std::fmt::Debug;

    /// Every variant writes its table name as a JSON string and reads back;
    /// the names are the ones serde's derive gave (`rename_all = "snake_case"`,
    /// or the variant's own name for the two `cmd`s).
    fn round_trip<T>(all: &[T], names: &[&str], expected: &[&str])
    where
        T: Serialize + DeserializeOwned + PartialEq + Debug + Copy,
    {
        assert_eq!(names, expected);
        assert_eq!(all.len(), names.len());
        for (v, name) in all.iter().zip(names) {
            let json = serde_json::to_string(v).unwrap();
            assert_eq!(json, format!("\"{name}\""));
            assert_eq!(serde_json::from_str::<T>(&json).unwrap(), *v);
            let value = serde_json::Value::String((*name).into());
            assert_eq!(serde_json::from_value::<T>(value).unwrap(), *v);
        }
        let e = serde_json::from_str::<T>("\"nope\"")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("unknown variant `nope`, expected "), "{e}");
        assert!(serde_json::from_str::<T>("1").is_err());
        assert!(serde_json::from_str::<T>("null").is_err());
    }

    #[test]
    fn every_wire_enum_round_trips() {
        round_trip(
            &[
                QuitReason::Left,
                QuitReason::Timeout,
                QuitReason::Disconnected,
            ],
            QuitReason::NAMES,
            &["left", "timeout", "disconnected"],
        );
        round_trip(
            &[CloseReason::Destroyed, CloseReason::CreatorLeft],
            CloseReason::NAMES,
            &["destroyed", "creator_left"],
        );
        round_trip(
            &[RoomMode::Mesh, RoomMode::Sfu],
            RoomMode::NAMES,
            &["mesh", "sfu"],
        );
        round_trip(
            &[SfuLink::Publisher, SfuLink::Subscriber],
            SfuLink::NAMES,
            &["publisher", "subscriber"],
        );
        round_trip(
            &[SfuState::Lost, SfuState::Ready],
            SfuState::NAMES,
            &["lost", "ready"],
        );
        round_trip(
            &[TrackKind::Audio, TrackKind::Video],
            TrackKind::NAMES,
            &["audio", "video"],
        );
        round_trip(
            &[TextCmd::CustomTextMsg],
            TextCmd::NAMES,
            &["CustomTextMsg"],
        );
        round_trip(
            &[CustomCmd::CustomCmdMsg],
            CustomCmd::NAMES,
            &["CustomCmdMsg"],
        );
    }

    #[test]
    fn the_error_lists_the_names() {
        let e = serde_json::from_value::<CloseReason>("x".into()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown variant `x`, expected `destroyed` or `creator_left`"
        );
    }
}
