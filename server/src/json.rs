//! Turning untrusted JSON into typed values with a precise error code:
//! broken JSON, an unknown command, a missing field and a bad value each get
//! their own code.

use rtcroom_protocol::{ApiError, ErrorCode};
use serde::de::DeserializeOwned;

/// The error code for a serde_json failure.
pub fn classify(e: &serde_json::Error) -> ApiError {
    use serde_json::error::Category;
    let text = e.to_string();
    let code = match e.classify() {
        Category::Syntax | Category::Eof | Category::Io => ErrorCode::MalformedJson,
        Category::Data if text.starts_with("unknown variant") => ErrorCode::UnknownCommand,
        Category::Data if text.starts_with("missing field") => ErrorCode::MissingParameter,
        Category::Data => ErrorCode::InvalidParameter,
    };
    ApiError::with_message(code, format!("{}: {text}", code.message()))
}

/// Parses a request body; an empty body counts as `{}` (old clients send "").
pub fn parse_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| classify(&e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtcroom_protocol::http::GetPushersRequest;
    use rtcroom_protocol::ws::ClientEnvelope;

    #[test]
    fn each_failure_has_its_code() {
        assert_eq!(
            parse_body::<GetPushersRequest>(b"{").unwrap_err().code,
            1001
        );
        assert_eq!(parse_body::<GetPushersRequest>(b"").unwrap_err().code, 1);
        assert_eq!(
            parse_body::<GetPushersRequest>(br#"{"roomID":5}"#)
                .unwrap_err()
                .code,
            1003
        );
        assert_eq!(
            parse_body::<GetPushersRequest>(br#"{"roomID":""}"#)
                .unwrap_err()
                .code,
            1003
        );
        assert_eq!(
            parse_body::<ClientEnvelope>(br#"{"type":"fly"}"#)
                .unwrap_err()
                .code,
            1002
        );
        assert!(parse_body::<GetPushersRequest>(br#"{"roomID":"r"}"#).is_ok());
    }
}
