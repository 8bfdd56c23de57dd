//! Small unsigned integers serialized as `u64` (`#[serde(serialize_with = …)]`).
//! serde_json writes each integer type with a printer of its own (itoa's,
//! one per type); the client writes `u64`s anyway, so its `u32` and `u16`
//! fields written through these leave one printer in the wasm
//! (docs/client-size.md). The JSON is the same.

use serde::Serializer;

/// A `u32` or `u16` field, written as the `u64` it fits in.
pub fn field<T: Copy + Into<u64>, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64((*v).into())
}

/// An optional one (`null` when absent, unless skipped).
pub fn opt<T: Copy + Into<u64>, S: Serializer>(v: &Option<T>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => s.serialize_some(&(*v).into()),
        None => s.serialize_none(),
    }
}
