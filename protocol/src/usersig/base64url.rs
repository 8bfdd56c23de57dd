//! Tencent's "base64url": standard base64 with `+`→`*`, `/`→`-`, `=`→`_`.
//!
//! This is *not* RFC 4648 base64url (there `-` stands for `+`). Decoding
//! accepts the Tencent alphabet only, with or without `_` padding.

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine;

use super::UserSigError;

/// Standard alphabet, padding optional on decode.
const STANDARD_INDIFFERENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Encode `bytes` with the Tencent alphabet (always padded with `_`).
pub fn encode(bytes: &[u8]) -> String {
    STANDARD
        .encode(bytes)
        .chars()
        .map(|c| match c {
            '+' => '*',
            '/' => '-',
            '=' => '_',
            other => other,
        })
        .collect()
}

/// Decode a Tencent-alphabet string. Characters of the standard alphabet that
/// the Tencent one replaces (`+`, `/`, `=`) are rejected, as is anything else
/// outside `A–Z a–z 0–9 * - _`.
pub fn decode(s: &str) -> Result<Vec<u8>, UserSigError> {
    let mut std = Vec::with_capacity(s.len());
    for b in s.bytes() {
        std.push(match b {
            b'*' => b'+',
            b'-' => b'/',
            b'_' => b'=',
            b'+' | b'/' | b'=' => return Err(UserSigError::Base64),
            other => other,
        });
    }
    STANDARD_INDIFFERENT
        .decode(&std)
        .map_err(|_| UserSigError::Base64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_all_lengths() {
        let data: Vec<u8> = (0..=255u8).collect();
        for n in 0..data.len() {
            let enc = encode(&data[..n]);
            assert!(!enc.contains(['+', '/', '=']), "{enc}");
            assert_eq!(decode(&enc).unwrap(), &data[..n]);
        }
    }

    #[test]
    fn known_vector() {
        // python3 -c 'import base64; print(base64.b64encode(bytes([0xfb,0xff,0xfe,0x01])))'  -> +//+AQ==
        assert_eq!(encode(&[0xfb, 0xff, 0xfe, 0x01]), "*--*AQ__");
        assert_eq!(decode("*--*AQ__").unwrap(), [0xfb, 0xff, 0xfe, 0x01]);
        // Padding may be omitted.
        assert_eq!(decode("*--*AQ").unwrap(), [0xfb, 0xff, 0xfe, 0x01]);
    }

    #[test]
    fn rejects_standard_and_garbage() {
        for bad in ["+//+AQ==", "ab c", "abc$", "a", "AQ_=", "é"] {
            assert_eq!(decode(bad), Err(UserSigError::Base64), "{bad:?}");
        }
    }
}
