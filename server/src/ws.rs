//! The WebSocket endpoint `{prefix}/{kind}/ws?userID=&token=[&lastSeq=]`:
//! attaches a connection to its login session, relays room messages and
//! WebRTC signaling between members of the same room, and answers every
//! frame that carries a `reqID` with `ack` or `error`. A bad frame gets an
//! error frame; the connection and every room stay as they were.

use crate::hub::{Encoded, Outgoing, Session};
use crate::service::{now_ms, Caller, RoomService};
use crate::store::RoomKey;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};
use rtcroom_protocol::http::{AuthQuery, Pusher};
use rtcroom_protocol::ws::*;
use rtcroom_protocol::{ApiError, ErrorCode, RoomId, UserId};
use serde::Deserialize;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// Query string of the upgrade request.
#[derive(Debug, Deserialize)]
pub struct WsQuery {
    #[serde(rename = "userID")]
    user_id: Option<String>,
    token: Option<String>,
    #[serde(rename = "lastSeq")]
    last_seq: Option<u64>,
}

/// Close code sent when the session cannot (or can no longer) use the socket.
const CLOSE_POLICY: u16 = 4000;

/// Bytes the codec reads into at a time. tungstenite's default (128 KiB) is
/// zero-filled on the first read, so an idle member cost 128 KiB of RSS; a
/// page holds a typical frame (SDP offers included) and the buffer still grows
/// for a larger one.
const READ_BUFFER: usize = 4096;

/// Frames are queued in the codec until this many bytes, then written; the
/// writer flushes whenever its queue is empty, so this only merges frames that
/// were already waiting (one `write` for a burst instead of one per frame).
const WRITE_BUFFER: usize = 8192;

/// Frames merged into one flush at most.
const WRITE_BATCH: usize = 64;

/// `GET …/ws`: authenticate, then upgrade. Failures still upgrade so the
/// client reads a proper `error` frame instead of a bare failed handshake.
pub async fn upgrade(
    State(svc): State<Arc<RoomService>>,
    Query(q): Query<WsQuery>,
    shutdown: axum::Extension<CancellationToken>,
    ws: WebSocketUpgrade,
) -> Response {
    let auth = AuthQuery {
        user_id: q.user_id,
        token: q.token,
    };
    let attached = match svc.authenticate(&auth, now_ms()).await {
        Ok(caller) => match svc.session_of(&caller) {
            Some(session) => Ok((caller, session)),
            None => Err(ApiError::with_message(
                ErrorCode::AuthFailed,
                "session is not on this server",
            )),
        },
        Err(e) => Err(e),
    };
    // Let oversized frames through the codec so we can answer them with an error.
    let codec_limit = svc
        .config
        .limits
        .max_frame_bytes
        .saturating_mul(4)
        .max(1 << 16);
    let shutdown = shutdown.0.clone();
    ws.max_message_size(codec_limit)
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .on_upgrade(move |socket| async move {
            match attached {
                Ok((caller, session)) => {
                    run(svc, caller, session, q.last_seq, socket, shutdown).await
                }
                Err(e) => reject(socket, e).await,
            }
        })
}

async fn reject(mut socket: WebSocket, e: ApiError) {
    let frame = ServerFrame {
        seq: 0,
        event: ServerEvent::Error {
            req_id: None,
            code: e.code,
            message: e.message.clone(),
        },
    };
    let text = serde_json::to_string(&frame).unwrap_or_default();
    let _ = socket.send(Message::Text(text.into())).await;
    let close = CloseFrame {
        code: CLOSE_POLICY,
        reason: Utf8Bytes::from(e.message),
    };
    let _ = socket.send(Message::Close(Some(close))).await;
}

/// Token bucket for frames per second.
struct RateLimit {
    tokens: f64,
    burst: f64,
    per_sec: f64,
    last: Instant,
}

impl RateLimit {
    fn allow(&mut self, now: Instant) -> bool {
        let dt = now.duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + dt * self.per_sec).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

async fn run(
    svc: Arc<RoomService>,
    caller: Caller,
    session: Arc<Session>,
    last_seq: Option<u64>,
    socket: WebSocket,
    shutdown: CancellationToken,
) {
    let limits = &svc.config.limits;
    let attached = svc.hub.attach(
        &session,
        last_seq,
        limits.send_queue.max(limits.replay_frames + 1),
    );
    svc.hub.connections.fetch_add(1, Ordering::Relaxed);
    let (mut sink, mut stream) = socket.split();
    let ping_every = Duration::from_millis(svc.config.heartbeat.ws_ping_ms);
    let conn_done = CancellationToken::new();

    let writer = {
        let conn_done = conn_done.clone();
        let shutdown = shutdown.clone();
        let mut rx = attached.rx;
        tokio::spawn(async move {
            let mut ping = tokio::time::interval(ping_every);
            ping.tick().await;
            loop {
                tokio::select! {
                    out = rx.recv() => match out {
                        Some(Outgoing::Frame(text)) => {
                            // Merge frames already queued behind this one into one write.
                            let (mut pending, mut close, mut ok) = (Some(text), None, true);
                            let mut batch = 0;
                            while let Some(text) = pending.take() {
                                if sink.feed(Message::Text(text)).await.is_err() {
                                    ok = false;
                                    break;
                                }
                                batch += 1;
                                if batch == WRITE_BATCH {
                                    break;
                                }
                                match rx.try_recv() {
                                    Ok(Outgoing::Frame(t)) => pending = Some(t),
                                    Ok(Outgoing::Close(e)) => close = Some(e),
                                    Err(_) => {}
                                }
                            }
                            if !ok || sink.flush().await.is_err() {
                                break;
                            }
                            if let Some(e) = close {
                                let close = CloseFrame { code: CLOSE_POLICY, reason: Utf8Bytes::from(e.message) };
                                let _ = sink.send(Message::Close(Some(close))).await;
                                break;
                            }
                        }
                        Some(Outgoing::Close(e)) => {
                            let close = CloseFrame { code: CLOSE_POLICY, reason: Utf8Bytes::from(e.message) };
                            let _ = sink.send(Message::Close(Some(close))).await;
                            break;
                        }
                        None => {
                            // Replaced by a newer connection or dropped as too slow.
                            let close = CloseFrame { code: CLOSE_POLICY, reason: Utf8Bytes::from_static("connection replaced or too slow") };
                            let _ = sink.send(Message::Close(Some(close))).await;
                            break;
                        }
                    },
                    _ = ping.tick() => {
                        if sink.send(Message::Ping(Default::default())).await.is_err() {
                            break;
                        }
                    }
                    _ = shutdown.cancelled() => {
                        let close = CloseFrame { code: 1001, reason: Utf8Bytes::from_static("server shutting down") };
                        let _ = sink.send(Message::Close(Some(close))).await;
                        break;
                    }
                    _ = conn_done.cancelled() => break,
                }
            }
            conn_done.cancel();
        })
    };

    let idle = ping_every * 3;
    let mut rate = RateLimit {
        tokens: f64::from(limits.messages_burst.max(1)),
        burst: f64::from(limits.messages_burst.max(1)),
        per_sec: f64::from(limits.messages_per_second),
        last: Instant::now(),
    };
    loop {
        let next = tokio::select! {
            n = tokio::time::timeout(idle, stream.next()) => n,
            _ = conn_done.cancelled() => break,
        };
        let msg = match next {
            Ok(Some(Ok(m))) => m,
            Ok(Some(Err(_)) | None) => break,
            Err(_) => {
                tracing::debug!(user = %caller.key.user, "socket idle: closing");
                break;
            }
        };
        match msg {
            Message::Text(text) => {
                svc.metrics.ws_frames_in.fetch_add(1, Ordering::Relaxed);
                if !rate.allow(Instant::now()) {
                    let req_id = lenient_req_id(text.as_str());
                    reply_error(&svc, &session, req_id, ErrorCode::RateLimited.into());
                    continue;
                }
                handle_text(&svc, &caller, &session, text.as_str()).await;
            }
            Message::Binary(_) => {
                reply_error(
                    &svc,
                    &session,
                    None,
                    ApiError::with_message(
                        ErrorCode::UnknownCommand,
                        "binary frames are not supported",
                    ),
                );
            }
            Message::Close(_) => break,
            Message::Ping(_) | Message::Pong(_) => {}
        }
    }
    conn_done.cancel();
    let _ = writer.await;
    svc.hub.connections.fetch_sub(1, Ordering::Relaxed);
    if svc.hub.detach(&session, attached.conn_id, now_ms()) {
        let grace = Duration::from_millis(svc.config.heartbeat.socket_grace_ms);
        let svc = svc.clone();
        tokio::spawn(async move {
            tokio::time::sleep(grace).await;
            svc.disconnect_expired(&caller.key, &caller.token, now_ms())
                .await;
        });
    }
}

/// Best-effort `reqID` of a frame that failed to parse, so its error can name it.
fn lenient_req_id(text: &str) -> Option<u32> {
    #[derive(Deserialize)]
    struct Id {
        #[serde(rename = "reqID")]
        req_id: Option<u32>,
    }
    serde_json::from_str::<Id>(text).ok().and_then(|i| i.req_id)
}

fn reply_error(svc: &RoomService, session: &Session, req_id: Option<u32>, e: ApiError) {
    svc.metrics.error(e.code);
    let event = ServerEvent::Error {
        req_id,
        code: e.code,
        message: e.message,
    };
    svc.hub.send(session, &Encoded::new(&event));
}

async fn handle_text(svc: &RoomService, caller: &Caller, session: &Session, text: &str) {
    if text.len() > svc.config.limits.max_frame_bytes {
        let e = ApiError::with_message(
            ErrorCode::MessageTooLarge,
            format!(
                "frame is {} bytes; the limit is {}",
                text.len(),
                svc.config.limits.max_frame_bytes
            ),
        );
        return reply_error(svc, session, lenient_req_id(text), e);
    }
    if let Some(frame) = crate::sdp_relay::parse(text) {
        let req_id = frame.req_id;
        let result = relay_sdp(svc, caller, frame).await;
        return answer(svc, session, result, req_id);
    }
    if let Some(parsed) = crate::media::parse_frame(svc, text) {
        return match parsed {
            Ok(env) => {
                let result = crate::media::handle_frame(svc, caller, session, env.frame).await;
                answer(svc, session, result, env.req_id)
            }
            Err(e) => reply_error(svc, session, lenient_req_id(text), e),
        };
    }
    let env: ClientEnvelope = match crate::json::parse_body(text.as_bytes()) {
        Ok(env) => env,
        Err(e) => return reply_error(svc, session, lenient_req_id(text), e),
    };
    let result = handle_frame(svc, caller, session, env.frame).await;
    answer(svc, session, result, env.req_id);
}

/// Acknowledges a frame that carried a `reqID`, or reports its failure.
fn answer(svc: &RoomService, session: &Session, result: Result<(), ApiError>, req_id: Option<u32>) {
    match (result, req_id) {
        (Ok(()), Some(req_id)) => svc
            .hub
            .send(session, &Encoded::new(&ServerEvent::Ack { req_id })),
        (Ok(()), None) => {}
        (Err(e), req_id) => reply_error(svc, session, req_id, e),
    }
}

/// The room's members, with the sender checked to be one of them.
async fn members_with_sender(
    svc: &RoomService,
    caller: &Caller,
    room: &RoomId,
) -> Result<(RoomKey, Arc<[Pusher]>, Pusher), ApiError> {
    let key = RoomKey {
        app: caller.key.app,
        room: room.clone(),
    };
    let members = svc.store.members(&key).await?;
    let me = members
        .iter()
        .find(|p| p.user_id == caller.key.user)
        .cloned()
        .ok_or_else(|| ApiError::new(ErrorCode::NotMember))?;
    Ok((key, members, me))
}

fn check_message_size(svc: &RoomService, len: usize) -> Result<(), ApiError> {
    let max = svc.config.limits.max_message_bytes;
    if len > max {
        return Err(ApiError::with_message(
            ErrorCode::MessageTooLarge,
            format!("message is {len} bytes; the limit is {max}"),
        ));
    }
    Ok(())
}

async fn handle_frame(
    svc: &RoomService,
    caller: &Caller,
    session: &Session,
    frame: ClientFrame,
) -> Result<(), ApiError> {
    let time = now_ms();
    match frame {
        ClientFrame::Ping => {
            svc.hub
                .send_unsequenced(session, &Encoded::new(&ServerEvent::Pong));
            Ok(())
        }
        ClientFrame::RoomText { room_id, text } => {
            check_message_size(svc, text.len())?;
            let (key, members, me) = members_with_sender(svc, caller, &room_id).await?;
            let head = TextHead {
                cmd: TextCmd::CustomTextMsg,
                data: TextHeadData {
                    nick_name: me.user_name,
                    head_pic: me.user_avatar,
                },
            };
            let event = Encoded::new(&ServerEvent::RoomText {
                room_id,
                user_id: me.user_id,
                head,
                text,
                time,
            });
            fan_out(svc, &key, &members, &caller.key.user, &event);
            svc.metrics.text_messages.fetch_add(1, Ordering::Relaxed);
            Ok(())
        }
        ClientFrame::RoomCustom { room_id, cmd, msg } => {
            check_message_size(svc, cmd.len() + msg.len())?;
            let (key, members, me) = members_with_sender(svc, caller, &room_id).await?;
            let head = CustomHead {
                cmd: CustomCmd::CustomCmdMsg,
                data: CustomHeadData {
                    user_name: me.user_name,
                    user_avatar: me.user_avatar,
                    cmd,
                    msg,
                },
            };
            let event = Encoded::new(&ServerEvent::RoomCustom {
                room_id,
                user_id: me.user_id,
                head,
                time,
            });
            fan_out(svc, &key, &members, &caller.key.user, &event);
            svc.metrics.custom_messages.fetch_add(1, Ordering::Relaxed);
            Ok(())
        }
        signal => match signal.into_relay(caller.key.user.clone()) {
            Some((room_id, to, event)) => relay(svc, caller, &to, &room_id, event).await,
            None => Err(ApiError::with_message(
                ErrorCode::Internal,
                "frame is not relayed",
            )),
        },
    }
}

fn fan_out(svc: &RoomService, key: &RoomKey, members: &[Pusher], sender: &UserId, event: &Encoded) {
    svc.hub.deliver(
        key.app,
        members.iter().map(|p| &p.user_id).filter(|u| *u != sender),
        event,
    );
}

/// Checks that `caller` may signal `to` in `room` (both members, not itself).
async fn relay_target(
    svc: &RoomService,
    caller: &Caller,
    to: &UserId,
    room: &RoomId,
) -> Result<RoomKey, ApiError> {
    if *to == caller.key.user {
        return Err(ApiError::with_message(
            ErrorCode::InvalidParameter,
            "cannot signal yourself",
        ));
    }
    let (key, members, _) = members_with_sender(svc, caller, room).await?;
    if !members.iter().any(|p| p.user_id == *to) {
        return Err(ErrorCode::TargetNotInRoom.into());
    }
    Ok(key)
}

/// Relays a signaling frame to one member of a room both are in.
async fn relay(
    svc: &RoomService,
    caller: &Caller,
    to: &UserId,
    room: &RoomId,
    event: ServerEvent,
) -> Result<(), ApiError> {
    let key = relay_target(svc, caller, to, room).await?;
    svc.hub.deliver(key.app, [to], &Encoded::new(&event));
    svc.metrics.signals_relayed.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

/// Relays an offer or answer with its SDP passed through verbatim (see [`crate::sdp_relay`]).
async fn relay_sdp(
    svc: &RoomService,
    caller: &Caller,
    frame: crate::sdp_relay::SdpFrame<'_>,
) -> Result<(), ApiError> {
    let key = relay_target(svc, caller, &frame.to, &frame.room_id).await?;
    let event = Encoded::of(&crate::sdp_relay::SdpEvent {
        kind: frame.kind,
        room_id: &frame.room_id,
        from: &caller.key.user,
        sdp: frame.sdp,
    });
    svc.hub.deliver(key.app, [&frame.to], &event);
    svc.metrics.signals_relayed.fetch_add(1, Ordering::Relaxed);
    Ok(())
}
