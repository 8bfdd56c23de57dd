//! TURN REST credentials for coturn's `use-auth-secret` mode (the scheme of
//! draft-uberti-behave-turn-rest): username `expiry:userID` (expiry a unix
//! second), password base64(HMAC-SHA1(secret, username)). coturn recomputes
//! the password from the username and refuses it once the expiry passed, so
//! nothing is shared between RoomService and coturn but the secret.

use crate::config::TurnConfig;
use base64::Engine;
use hmac::{Hmac, Mac};
use rtcroom_protocol::http::IceServer;

/// The password coturn expects for `username`.
pub fn password(secret: &str, username: &str) -> String {
    // HMAC accepts keys of any length.
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(username.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// The ICE server entry for `user`, valid from `now_s` for `cfg.ttl_secs`.
pub fn ice_server(cfg: &TurnConfig, user: &str, now_s: u64) -> IceServer {
    let username = format!("{}:{user}", now_s.saturating_add(cfg.ttl_secs));
    IceServer {
        urls: cfg.urls.clone(),
        credential: Some(password(&cfg.secret, &username)),
        username: Some(username),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_turn_rest_formula() {
        // python3 -c 'import hmac,hashlib,base64; print(base64.b64encode(hmac.new(b"s3cret", b"1700000600:alice", hashlib.sha1).digest()).decode())'
        assert_eq!(
            password("s3cret", "1700000600:alice"),
            "bUIJIVaC05oyFgKsQvKAparqg1Q="
        );
        let cfg = TurnConfig {
            secret: "s3cret".into(),
            ttl_secs: 600,
            urls: vec!["turn:127.0.0.1:3478".into()],
        };
        let s = ice_server(&cfg, "alice", 1_700_000_000);
        assert_eq!(s.username.as_deref(), Some("1700000600:alice"));
        assert_eq!(
            s.credential.as_deref(),
            Some("bUIJIVaC05oyFgKsQvKAparqg1Q=")
        );
        assert_eq!(s.urls, cfg.urls);
        assert!(!format!("{cfg:?}").contains("s3cret"));
    }
}
