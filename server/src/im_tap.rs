//! The IM-style socket `GET {prefix}/im?sdkAppID=&identifier=&userSig=`, for
//! clients built on Tencent's web IM SDK (the 2018 mini-program demo, through
//! `miniprogram-adapter/compat/webim_wx.js`). Such an IM layer only ever holds
//! the sdkAppID, the identifier (userID) and the UserSig, never the
//! RoomService token, so this socket is authenticated by the UserSig exactly
//! as `login` checks it.
//!
//! A connection is a *tap* on its user: it receives a copy of every event the
//! user's current login session gets (`pusher_join`, `pusher_quit`,
//! `room_closed`, `room_text`, `room_custom`, signaling; not the replies
//! `ack` / `error` / `pong` meant for the session's own socket), whether the
//! session exists yet or is replaced later. It never opens, replaces or
//! resumes a session, so the user's HTTP token and RoomService socket keep
//! working. It may send `ping`, `room_text` and `room_custom` as that user,
//! with the checks and rate limit of the RoomService socket; its own
//! replies (`welcome`, `ack`, `error`, `pong`) go to it alone. Tap frames
//! carry `seq: 0`: a tap is not resumable (the client re-fetches instead).

use crate::hub::Encoded;
use crate::rate_limit::RateLimit;
use crate::relay;
use crate::service::{now_ms, RoomService};
use crate::shards::Shards;
use crate::store::UserKey;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{RawQuery, State};
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};
use rtcroom_protocol::http::LoginRequest;
use rtcroom_protocol::ws::*;
use rtcroom_protocol::{ApiError, ErrorCode};
use serde::Deserialize;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Taps one user may hold at once; the oldest goes when another comes.
const MAX_TAPS_PER_USER: usize = 4;

/// Frames queued per tap before it counts as too slow and is closed.
const TAP_QUEUE: usize = 256;

/// Close code for a refused or ended tap (as on the RoomService socket).
const CLOSE_POLICY: u16 = 4000;

struct Tap {
    id: u64,
    tx: mpsc::Sender<Utf8Bytes>,
}

/// Every user's taps on this node.
#[derive(Default)]
pub struct Taps {
    by_user: Shards<UserKey, Vec<Tap>>,
    next_id: AtomicU64,
    /// Taps open now: while 0 (no IM-style clients), a copy costs one load.
    open: AtomicUsize,
}

/// `{"seq":0,` + the event's fields.
fn unnumbered(event: &Encoded) -> Utf8Bytes {
    let json = event.as_json();
    let body = json.strip_prefix('{').unwrap_or(json);
    Utf8Bytes::from(format!("{{\"seq\":0,{body}"))
}

/// Replies meant for the socket that asked, not copies for a tap.
fn is_reply(event: &Encoded) -> bool {
    ["ack", "error", "pong", "welcome"].iter().any(|t| {
        event
            .as_json()
            .strip_prefix("{\"type\":\"")
            .and_then(|rest| rest.strip_prefix(t))
            .is_some_and(|rest| rest.starts_with('"'))
    })
}

impl Taps {
    fn add(&self, user: &UserKey) -> (u64, mpsc::Receiver<Utf8Bytes>) {
        let (tx, rx) = mpsc::channel(TAP_QUEUE);
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut shard = self.by_user.lock(user);
        let list = shard.entry(user.clone()).or_default();
        if list.len() >= MAX_TAPS_PER_USER {
            list.remove(0); // its writer sees the channel close and ends
        } else {
            self.open.fetch_add(1, Ordering::Relaxed);
        }
        list.push(Tap { id, tx });
        (id, rx)
    }

    fn remove(&self, user: &UserKey, id: u64) {
        let mut shard = self.by_user.lock(user);
        if let Some(list) = shard.get_mut(user) {
            let before = list.len();
            list.retain(|t| t.id != id);
            self.open.fetch_sub(before - list.len(), Ordering::Relaxed);
            if list.is_empty() {
                shard.remove(user);
            }
        }
    }

    /// Copies `event` to each of `user`'s taps (replies excepted). A tap that
    /// cannot keep up is dropped; its client reconnects and re-fetches.
    pub fn copy(&self, user: &UserKey, event: &Encoded) {
        if self.open.load(Ordering::Relaxed) == 0 || is_reply(event) {
            return;
        }
        let mut shard = self.by_user.lock(user);
        let Some(list) = shard.get_mut(user) else {
            return;
        };
        let text = unnumbered(event);
        let before = list.len();
        list.retain(|t| t.tx.try_send(text.clone()).is_ok());
        self.open.fetch_sub(before - list.len(), Ordering::Relaxed);
        if list.is_empty() {
            shard.remove(user);
        }
    }

    /// Taps open now (all users).
    pub fn count(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }
}

#[derive(Deserialize, Default)]
struct TapQuery {
    #[serde(rename = "sdkAppID")]
    sdk_app_id: Option<String>,
    identifier: Option<String>,
    #[serde(rename = "userSig")]
    user_sig: Option<String>,
}

/// The UserSig check of `login`, on the IM SDK's parameter names.
fn authenticate(svc: &RoomService, query: Option<&str>) -> Result<UserKey, ApiError> {
    let q: TapQuery = match query {
        None | Some("") => TapQuery::default(),
        Some(q) => serde_urlencoded::from_str(q).map_err(|e| {
            ApiError::with_message(ErrorCode::InvalidParameter, format!("query string: {e}"))
        })?,
    };
    let sdk_app_id = match q.sdk_app_id.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(s) => Some(s.parse::<u64>().map_err(|_| {
            ApiError::with_message(ErrorCode::InvalidParameter, "sdkAppID is not a number")
        })?),
    };
    let req = LoginRequest {
        sdk_app_id,
        account_type: None,
        user_id: q.identifier,
        user_sig: q.user_sig,
    };
    svc.verify_user_sig(req, now_ms())
}

/// `GET {prefix}/im`: verify the UserSig, then upgrade. A refusal still
/// upgrades so the client reads an `error` frame with `login`'s code.
pub async fn upgrade(
    State(svc): State<Arc<RoomService>>,
    RawQuery(query): RawQuery,
    shutdown: axum::Extension<CancellationToken>,
    ws: WebSocketUpgrade,
) -> Response {
    let user = authenticate(&svc, query.as_deref());
    if let Err(e) = &user {
        svc.metrics.error(e.code);
    }
    let codec_limit = svc
        .config
        .limits
        .max_frame_bytes
        .saturating_mul(4)
        .max(1 << 16);
    let shutdown = shutdown.0.clone();
    ws.max_message_size(codec_limit)
        .on_upgrade(move |socket| async move {
            match user {
                Ok(user) => run(svc, user, socket, shutdown).await,
                Err(e) => crate::ws::reject(socket, e).await,
            }
        })
}

fn error_frame(req_id: Option<u32>, e: &ApiError) -> Utf8Bytes {
    let frame = ServerFrame {
        seq: 0,
        event: ServerEvent::Error {
            req_id,
            code: e.code,
            message: e.message.clone(),
        },
    };
    serde_json::to_string(&frame).unwrap_or_default().into()
}

/// Frames the tap itself asked for, and the copies: one queue, one writer.
struct Replies(mpsc::Sender<Utf8Bytes>);

impl Replies {
    fn send(&self, event: &ServerEvent) {
        let frame = serde_json::to_string(&ServerFrame {
            seq: 0,
            event: event.clone(),
        })
        .unwrap_or_default();
        let _ = self.0.try_send(frame.into());
    }

    fn error(&self, svc: &RoomService, req_id: Option<u32>, e: ApiError) {
        svc.metrics.error(e.code);
        let _ = self.0.try_send(error_frame(req_id, &e));
    }
}

async fn run(svc: Arc<RoomService>, user: UserKey, socket: WebSocket, shutdown: CancellationToken) {
    let (tap_id, mut copies) = svc.hub.taps.add(&user);
    let (reply_tx, mut replies) = mpsc::channel::<Utf8Bytes>(64);
    let replies_out = Replies(reply_tx);
    replies_out.send(&ServerEvent::Welcome {
        user_id: user.user.clone(),
        resumed: false,
        ice_servers: None,
    });
    let (mut sink, mut stream) = socket.split();
    let ping_every = Duration::from_millis(svc.config.heartbeat.ws_ping_ms);
    let done = CancellationToken::new();
    let writer = {
        let done = done.clone();
        tokio::spawn(async move {
            let mut ping = tokio::time::interval(ping_every);
            ping.tick().await;
            loop {
                // Biased: the welcome (queued first) goes out before any copy.
                let out = tokio::select! {
                    biased;
                    t = replies.recv() => t.map(Message::Text),
                    t = copies.recv() => match t {
                        Some(t) => Some(Message::Text(t)),
                        None => Some(Message::Close(Some(CloseFrame {
                            code: CLOSE_POLICY,
                            reason: Utf8Bytes::from_static("tap replaced or too slow"),
                        }))),
                    },
                    _ = ping.tick() => Some(Message::Ping(Default::default())),
                    _ = shutdown.cancelled() => Some(Message::Close(Some(CloseFrame {
                        code: 1001,
                        reason: Utf8Bytes::from_static("server shutting down"),
                    }))),
                    _ = done.cancelled() => None,
                };
                let Some(msg) = out else { break };
                let closing = matches!(msg, Message::Close(_));
                if sink.send(msg).await.is_err() || closing {
                    break;
                }
            }
            done.cancel();
        })
    };
    let limits = &svc.config.limits;
    let mut rate = RateLimit::new(limits, Instant::now());
    let idle = ping_every * 3;
    loop {
        let next = tokio::select! {
            n = tokio::time::timeout(idle, stream.next()) => n,
            _ = done.cancelled() => break,
        };
        let text = match next {
            Ok(Some(Ok(Message::Text(t)))) => t,
            Ok(Some(Ok(Message::Binary(_)))) => {
                replies_out.error(
                    &svc,
                    None,
                    ApiError::with_message(
                        ErrorCode::UnknownCommand,
                        "binary frames are not supported",
                    ),
                );
                continue;
            }
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
            _ => break, // closed, failed or idle
        };
        svc.metrics.ws_frames_in.fetch_add(1, Ordering::Relaxed);
        let req_id = relay::lenient_req_id(text.as_str());
        if !rate.allow(Instant::now()) {
            replies_out.error(&svc, req_id, ErrorCode::RateLimited.into());
            continue;
        }
        match handle(&svc, &user, text.as_str(), &replies_out).await {
            Ok(()) => {
                if let Some(req_id) = req_id {
                    replies_out.send(&ServerEvent::Ack { req_id });
                }
            }
            Err(e) => replies_out.error(&svc, req_id, e),
        }
    }
    done.cancel();
    let _ = writer.await;
    svc.hub.taps.remove(&user, tap_id);
}

async fn handle(
    svc: &RoomService,
    user: &UserKey,
    text: &str,
    replies: &Replies,
) -> Result<(), ApiError> {
    relay::check_size("frame", text.len(), svc.config.limits.max_frame_bytes)?;
    let env: ClientEnvelope = crate::json::parse_body(text.as_bytes())?;
    match env.frame {
        ClientFrame::Ping => {
            replies.send(&ServerEvent::Pong);
            Ok(())
        }
        ClientFrame::RoomText { room_id, text } => relay::room_text(svc, user, room_id, text).await,
        ClientFrame::RoomCustom { room_id, cmd, msg } => {
            relay::room_custom(svc, user, room_id, cmd, msg).await
        }
        _ => Err(ApiError::with_message(
            ErrorCode::UnknownCommand,
            "the IM socket carries ping, room_text and room_custom only",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtcroom_protocol::RoomId;

    #[test]
    fn replies_are_not_copied_and_events_are_unnumbered() {
        assert!(is_reply(&Encoded::new(&ServerEvent::Pong)));
        assert!(is_reply(&Encoded::new(&ServerEvent::Ack { req_id: 1 })));
        let closed = Encoded::new(&ServerEvent::RoomClosed {
            room_id: RoomId::new("r").unwrap_or_else(|_| unreachable!()),
            reason: CloseReason::Destroyed,
        });
        assert!(!is_reply(&closed));
        let text = unnumbered(&closed);
        let v: serde_json::Value = serde_json::from_str(text.as_str()).unwrap_or_default();
        assert_eq!(v["seq"], 0);
        assert_eq!(v["type"], "room_closed");
    }

    #[test]
    fn a_user_holds_at_most_four_taps() {
        let taps = Taps::default();
        let user = UserKey {
            app: 1,
            user: rtcroom_protocol::UserId::new("u").unwrap_or_else(|_| unreachable!()),
        };
        let mut rxs: Vec<_> = (0..5).map(|_| taps.add(&user).1).collect();
        assert_eq!(taps.count(), MAX_TAPS_PER_USER);
        assert!(rxs[0].try_recv().is_err());
        taps.copy(&user, &Encoded::new(&ServerEvent::Pong));
        assert!(rxs[1].try_recv().is_err(), "a pong is not copied");
        let closed = Encoded::new(&ServerEvent::RoomClosed {
            room_id: RoomId::new("r").unwrap_or_else(|_| unreachable!()),
            reason: CloseReason::Destroyed,
        });
        drop(rxs.remove(1)); // a tap whose socket went away is dropped on the next copy
        taps.copy(&user, &closed);
        assert_eq!(taps.count(), MAX_TAPS_PER_USER - 1);
        assert!(rxs[1].try_recv().is_ok(), "the others got it");
        for id in 0..10 {
            taps.remove(&user, id);
        }
        assert_eq!(taps.count(), 0);
    }
}
