//! Server addresses: the normalized `serverDomain`, each command's URL and the
//! WebSocket URL, with percent-encoded query strings.

use super::input::LoginParams;
use rtcroom_protocol::ClientError;
use rtcroom_protocol::{ApiError, UserId};

/// The RoomService base, e.g. `https://host/weapp/multi_room`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Urls {
    http: String,
    ws: String,
}

impl Urls {
    /// Trims spaces and trailing `/`; the scheme must be `http` or `https`.
    pub(crate) fn parse(domain: &str) -> Result<Self, ApiError> {
        let http = domain.trim().trim_end_matches('/');
        let lower = http.to_ascii_lowercase();
        let (scheme_len, ws_scheme) = if lower.starts_with("https://") {
            ("https://".len(), "wss://")
        } else if lower.starts_with("http://") {
            ("http://".len(), "ws://")
        } else {
            return Err(ClientError::InvalidArgument.with_message(format!(
                "serverDomain must start with http(s)://: \"{domain}\""
            )));
        };
        // The scheme is ASCII, so `scheme_len` is a char boundary.
        let rest = http.get(scheme_len..).unwrap_or_default();
        if rest.is_empty() || rest.starts_with('/') {
            return Err(ClientError::InvalidArgument.with_message("serverDomain has no host"));
        }
        Ok(Self {
            http: http.to_owned(),
            ws: format!("{ws_scheme}{rest}/ws"),
        })
    }

    /// `{base}/login?sdkAppID=&accountType=&userID=&userSig=`.
    pub(crate) fn login(&self, p: &LoginParams) -> String {
        // `format!`, not `to_string`: std gives integers a `to_string` printer of
        // their own, a second copy in the wasm (docs/client-size.md).
        let app = format!("{}", p.sdk_app_id);
        with_query(
            format!("{}/login", self.http),
            &[
                ("sdkAppID", &app),
                ("accountType", &p.account_type),
                ("userID", p.user_id.as_str()),
                ("userSig", &p.user_sig),
            ],
        )
    }

    /// `{base}/{cmd}?userID=..&token=..`.
    pub(crate) fn command(&self, cmd: &str, user: &UserId, token: &str) -> String {
        with_query(
            format!("{}/{cmd}", self.http),
            &[("userID", user.as_str()), ("token", token)],
        )
    }

    /// `{ws base}/ws?userID=..&token=..[&lastSeq=n]`.
    pub(crate) fn ws(&self, user: &UserId, token: &str, last_seq: Option<u64>) -> String {
        let seq = last_seq.map(|n| format!("{n}")); // not `to_string`: see `login`
        let mut q = vec![("userID", user.as_str()), ("token", token)];
        if let Some(seq) = &seq {
            q.push(("lastSeq", seq));
        }
        with_query(self.ws.clone(), &q)
    }
}

fn with_query(mut url: String, pairs: &[(&str, &str)]) -> String {
    for (i, (k, v)) in pairs.iter().enumerate() {
        url.push(if i == 0 { '?' } else { '&' });
        url.push_str(k);
        url.push('=');
        encode_into(&mut url, v);
    }
    url
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn encode_into(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xF)]));
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn user(s: &str) -> UserId {
        UserId::new(s).unwrap()
    }

    #[test]
    fn strips_trailing_slashes_and_maps_schemes() {
        let u = Urls::parse(" https://h.example/weapp/multi_room// ").unwrap();
        assert_eq!(
            u.command("get_pushers", &user("a"), "t"),
            "https://h.example/weapp/multi_room/get_pushers?userID=a&token=t"
        );
        assert_eq!(
            u.ws(&user("a"), "t", Some(7)),
            "wss://h.example/weapp/multi_room/ws?userID=a&token=t&lastSeq=7"
        );
        let u = Urls::parse("HTTP://127.0.0.1:8080/").unwrap();
        assert_eq!(
            u.ws(&user("a"), "t", None),
            "ws://127.0.0.1:8080/ws?userID=a&token=t"
        );
    }

    #[test]
    fn rejects_other_schemes_and_empty_hosts() {
        for bad in ["", "ftp://x", "example.com", "https://", "http:///"] {
            let e = Urls::parse(bad).unwrap_err();
            assert_eq!(e.code, ClientError::InvalidArgument.code(), "{bad}");
        }
    }

    #[test]
    fn encodes_query_values() {
        let u = Urls::parse("http://h").unwrap();
        let p = LoginParams {
            server_domain: "http://h".into(),
            sdk_app_id: 1_400_000_001,
            account_type: "0".into(),
            user_id: user("用户@x"),
            user_sig: "ab*c-d_e+/=&".into(),
            user_name: String::new(),
            user_avatar: String::new(),
        };
        assert_eq!(
            u.login(&p),
            "http://h/login?sdkAppID=1400000001&accountType=0\
             &userID=%E7%94%A8%E6%88%B7%40x&userSig=ab%2Ac-d_e%2B%2F%3D%26"
        );
    }
}
