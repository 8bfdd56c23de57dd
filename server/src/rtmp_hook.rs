//! nginx-rtmp's `on_publish` hook: whether an RTMP push may start.
//!
//! The mini-program's `<live-pusher>` pushes to the signed URL from
//! `get_push_url`; nginx-rtmp, before accepting the publish, POSTs an
//! `application/x-www-form-urlencoded` form to `{prefix}/utils/rtmp_on_publish`:
//! its own fields first (`app`, `flashver`, `swfurl`, `tcurl`, `pageurl`,
//! `addr`, `clientid`, `call=publish`, `name`, `type`), then the push URL's
//! query string appended verbatim (`bizid`, `txSecret`, `txTime`, …). A 2xx
//! answer lets the publish go on; anything else makes nginx refuse it.
//!
//! Because the pusher's query comes last and verbatim, a URL ending in
//! `&name=someone_else` repeats a field: the first occurrence (nginx's) wins.
//!
//! A publish is allowed when the app is `live`, the stream name is one
//! [`RoomService::stream_of`] hands out, the stream's user has a live login
//! session, and `txSecret`/`txTime` sign that name for *that session* (see
//! [`rtcroom_protocol::push_url`]) and have not expired: a play URL, or a push
//! URL of an ended session, is refused as `bad_secret`. Room membership is
//! not required: the mini-program starts pushing before `add_pusher`.

use crate::service::{now_ms, RoomService};
use crate::store::UserKey;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rtcroom_protocol::push_url::PushUrlError;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// The only RTMP application members push to.
pub const LIVE_APP: &str = "live";

/// Why a publish was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The body is not a URL-encoded form.
    #[error("body is not a URL-encoded form")]
    MalformedForm,
    /// `call` is not `publish` (the hook was wired to another notification).
    #[error("not a publish notification")]
    NotPublish,
    /// The RTMP application is not `live`.
    #[error("application is not `live`")]
    WrongApp,
    /// The stream name is not one this service hands out.
    #[error("stream name is not a member stream of this service")]
    UnknownStream,
    /// `txSecret` or `txTime` is missing.
    #[error("push URL is not signed (txSecret/txTime missing)")]
    Unsigned,
    /// `txTime` is not hex.
    #[error("txTime is malformed")]
    MalformedTxTime,
    /// `txSecret` does not sign this stream name and `txTime`.
    #[error("txSecret does not match the stream name and txTime")]
    BadSecret,
    /// `txTime` is in the past.
    #[error("push URL expired")]
    Expired,
    /// The stream's user is not logged in.
    #[error("the stream's user has no live login session")]
    NoSession,
}

impl Refusal {
    /// Short label for metrics.
    pub fn label(self) -> &'static str {
        match self {
            Self::MalformedForm => "malformed_form",
            Self::NotPublish => "not_publish",
            Self::WrongApp => "wrong_app",
            Self::UnknownStream => "unknown_stream",
            Self::Unsigned => "unsigned",
            Self::MalformedTxTime => "malformed_tx_time",
            Self::BadSecret => "bad_secret",
            Self::Expired => "expired",
            Self::NoSession => "no_session",
        }
    }
}

impl From<PushUrlError> for Refusal {
    fn from(e: PushUrlError) -> Self {
        match e {
            PushUrlError::MalformedTxTime => Self::MalformedTxTime,
            PushUrlError::Expired => Self::Expired,
            // BadSecret, and any reason added later: refuse as a bad signature.
            _ => Self::BadSecret,
        }
    }
}

/// The first value of `key` in the form (nginx's own fields precede the
/// pusher's query, so the first occurrence is the trustworthy one).
fn field<'a>(form: &'a [(String, String)], key: &str) -> Option<&'a str> {
    form.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// Decides one publish; `Ok` names the user whose stream it is.
pub async fn check_publish(
    svc: &RoomService,
    form: &[(String, String)],
    now_ms: u64,
) -> Result<UserKey, Refusal> {
    if field(form, "call") != Some("publish") {
        return Err(Refusal::NotPublish);
    }
    if field(form, "app") != Some(LIVE_APP) {
        return Err(Refusal::WrongApp);
    }
    let name = field(form, "name").unwrap_or_default();
    let user = svc.user_of_stream(name).ok_or(Refusal::UnknownStream)?;
    let (Some(secret), Some(tx_time)) = (field(form, "txSecret"), field(form, "txTime")) else {
        return Err(Refusal::Unsigned);
    };
    let session = svc
        .store
        .session_of_user(&user, now_ms)
        .await
        .ok_or(Refusal::NoSession)?;
    let now_s = (now_ms / 1000) as i64;
    svc.signer()
        .check_push(name, &session.token, secret, tx_time, now_s)?;
    Ok(user)
}

/// `POST {prefix}/utils/rtmp_on_publish`: 200 allows the publish, 403 refuses it.
pub async fn on_publish(State(svc): State<Arc<RoomService>>, body: Bytes) -> Response {
    let form = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body);
    let result = match &form {
        Ok(form) => check_publish(&svc, form, now_ms()).await,
        Err(_) => Err(Refusal::MalformedForm),
    };
    let form = form.unwrap_or_default();
    // Debug-formatted: these are the pusher's bytes, keep control characters out of the log.
    let name = field(&form, "name").unwrap_or_default();
    let addr = field(&form, "addr").unwrap_or_default();
    match result {
        Ok(user) => {
            svc.metrics
                .rtmp_publish_allowed
                .fetch_add(1, Ordering::Relaxed);
            tracing::info!(stream = ?name, user = %user.user, app = user.app, addr = ?addr, "rtmp publish allowed");
            crate::media::rtmp_published(&svc, &user);
            (StatusCode::OK, "ok\n").into_response()
        }
        Err(why) => {
            svc.metrics.rtmp_refused(why.label());
            tracing::info!(stream = ?name, addr = ?addr, reason = why.label(), "rtmp publish refused: {why}");
            (StatusCode::FORBIDDEN, format!("{why}\n")).into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::config::{AppConfig, Config};
    use crate::store::{MemoryStore, SessionRecord};
    use rtcroom_protocol::push_url::{play_key, session_push_key, tx_secret, tx_time_hex};
    use rtcroom_protocol::UserId;

    const APP: u64 = 7;
    const NOW: i64 = 1_700_000_000;
    const NOW_MS: u64 = NOW as u64 * 1000;

    fn svc() -> RoomService {
        let mut config = Config::default();
        config.live.push_key = "push-key".into();
        config.apps.push(AppConfig {
            sdk_app_id: APP,
            secret_key: Some("k".into()),
            public_key: None,
            private_key: None,
            account_type: "0".into(),
            max_rooms: None,
            require_privilege: false,
        });
        RoomService::new(config, Arc::new(MemoryStore::new()))
    }

    fn key(user: &str) -> UserKey {
        UserKey {
            app: APP,
            user: UserId::new(user).unwrap(),
        }
    }

    async fn log_in(svc: &RoomService, user: &str, token: &str) {
        svc.store
            .put_session(SessionRecord {
                token: token.into(),
                user: key(user),
                expires_at: NOW_MS + 60_000,
            })
            .await
            .unwrap();
    }

    /// The form nginx-rtmp sends for a push to `url` (as observed from nginx 1.22).
    fn form(app: &str, url_path_and_query: &str) -> Vec<(String, String)> {
        let (name, args) = url_path_and_query
            .split_once('?')
            .unwrap_or((url_path_and_query, ""));
        let body = format!(
            "app={app}&flashver=FMLE/3.0%20(compatible%3B%20Lavf59.27&swfurl=&tcurl=rtmp://127.0.0.1:1935/{app}\
             &pageurl=&addr=127.0.0.1&clientid=1&call=publish&name={name}&type=live&{args}"
        );
        serde_urlencoded::from_str(&body).unwrap()
    }

    fn signed(svc: &RoomService, user: &str, token: &str) -> String {
        let url = svc
            .signer()
            .push_url(&svc.stream_of(APP, &key(user).user), token, NOW);
        url.rsplit_once('/').unwrap().1.to_owned()
    }

    #[tokio::test]
    async fn a_logged_in_users_own_signed_stream_is_allowed() {
        let svc = svc();
        log_in(&svc, "a.b", "t").await;
        let f = form("live", &signed(&svc, "a.b", "t"));
        assert_eq!(check_publish(&svc, &f, NOW_MS).await, Ok(key("a.b")));
    }

    #[tokio::test]
    async fn a_play_url_is_refused_as_a_push_url() {
        let svc = svc();
        log_in(&svc, "alice", "t").await;
        let play = svc
            .signer()
            .accelerate_url(&svc.stream_of(APP, &key("alice").user), NOW);
        let play = play.rsplit_once('/').unwrap().1;
        assert_eq!(
            check_publish(&svc, &form("live", play), NOW_MS).await,
            Err(Refusal::BadSecret)
        );
    }

    #[tokio::test]
    async fn a_push_url_dies_with_its_session_and_stays_dead_after_the_next_login() {
        let svc = svc();
        log_in(&svc, "alice", "t1").await;
        let url = signed(&svc, "alice", "t1");
        assert!(check_publish(&svc, &form("live", &url), NOW_MS)
            .await
            .is_ok());
        svc.store.remove_session("t1").await;
        assert_eq!(
            check_publish(&svc, &form("live", &url), NOW_MS).await,
            Err(Refusal::NoSession)
        );
        log_in(&svc, "alice", "t2").await;
        assert_eq!(
            check_publish(&svc, &form("live", &url), NOW_MS).await,
            Err(Refusal::BadSecret)
        );
        let fresh = signed(&svc, "alice", "t2");
        assert!(check_publish(&svc, &form("live", &fresh), NOW_MS)
            .await
            .is_ok());
    }

    #[tokio::test]
    async fn each_refusal_has_its_reason() {
        let svc = svc();
        log_in(&svc, "alice", "t").await;
        let alice = signed(&svc, "alice", "t");
        let bob = signed(&svc, "bob", "tb");
        let (alice_stream, alice_query) = alice.split_once('?').unwrap();
        let bob_stream = bob.split_once('?').unwrap().0;
        let check = |f: Vec<(String, String)>| {
            let svc = &svc;
            async move { check_publish(svc, &f, NOW_MS).await }
        };

        assert_eq!(check(form("other", &alice)).await, Err(Refusal::WrongApp));
        let mut play = form("live", &alice);
        play.iter_mut().find(|(k, _)| k == "call").unwrap().1 = "play".into();
        assert_eq!(check(play).await, Err(Refusal::NotPublish));
        assert_eq!(check(vec![]).await, Err(Refusal::NotPublish));
        assert_eq!(
            check(form("live", &format!("random?{alice_query}"))).await,
            Err(Refusal::UnknownStream)
        );
        assert_eq!(
            check(form("live", alice_stream)).await,
            Err(Refusal::Unsigned)
        );
        let tampered = alice.replace("txSecret=", "txSecret=0");
        assert_eq!(
            check(form("live", &tampered)).await,
            Err(Refusal::BadSecret)
        );
        // Correctly signed, but expired.
        let past = tx_time_hex(NOW - 1);
        let expired = format!(
            "{alice_stream}?txSecret={}&txTime={past}",
            tx_secret(&session_push_key("push-key", "t"), alice_stream, &past)
        );
        assert_eq!(check(form("live", &expired)).await, Err(Refusal::Expired));
        // The raw key and the play key sign nothing pushable.
        for k in ["push-key".to_owned(), play_key("push-key")] {
            let t = tx_time_hex(NOW + 60);
            let url = format!(
                "{alice_stream}?txSecret={}&txTime={t}",
                tx_secret(&k, alice_stream, &t)
            );
            assert_eq!(check(form("live", &url)).await, Err(Refusal::BadSecret));
        }
        assert_eq!(
            check(form(
                "live",
                &format!("{alice_stream}?txSecret=00&txTime=zz")
            ))
            .await,
            Err(Refusal::MalformedTxTime)
        );
        // Bob's URL is correctly signed, but Bob is not logged in.
        assert_eq!(check(form("live", &bob)).await, Err(Refusal::NoSession));
        // Alice's signature on Bob's stream name, Bob logged in.
        log_in(&svc, "bob", "tb").await;
        assert_eq!(
            check(form("live", &format!("{bob_stream}?{alice_query}"))).await,
            Err(Refusal::BadSecret)
        );
    }

    #[tokio::test]
    async fn repeated_fields_from_the_pushers_query_do_not_override_nginxs() {
        let svc = svc();
        log_in(&svc, "alice", "t").await;
        let bob = signed(&svc, "bob", "tb");
        let (bob_stream, bob_query) = bob.split_once('?').unwrap();
        // Bob (logged out) appends name/app/call to point the check at Alice.
        let evil = form(
            "live",
            &format!(
                "{bob_stream}?{bob_query}&name={}&call=publish&app=live",
                svc.stream_of(APP, &key("alice").user)
            ),
        );
        assert_eq!(
            check_publish(&svc, &evil, NOW_MS).await,
            Err(Refusal::NoSession)
        );
    }
}
