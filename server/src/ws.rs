//! The WebSocket endpoint `{prefix}/{kind}/ws?userID=&token=[&lastSeq=]`:
//! attaches a connection to its login session and moves frames. What a
//! frame does is [`crate::relay`]'s business; this module owns the socket.
//!
//! Each connection is a **reader** (this task: client frames in, rate
//! limit, idle timeout) and a **writer** (a spawned task: the session's
//! queued frames and pings out, every write bounded by
//! `limits.write_timeout_ms`). Whichever ends first cancels the other, and
//! [`finish`] is the one close path: the socket is dropped (so its TCP
//! connection closes even when the peer stopped reading), the connection
//! count drops, the session is detached and its grace period starts.
//! A bad frame gets an error frame; the connection and every room stay as
//! they were. A frame too large to read at all closes the socket with 1009.

use crate::hub::{Outgoing, Session};
use crate::rate_limit::RateLimit;
use crate::relay::{handle_text, lenient_req_id, reply_error};
use crate::service::{now_ms, Caller, RoomService};
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use rtcroom_protocol::http::AuthQuery;
use rtcroom_protocol::ws::*;
use rtcroom_protocol::{ApiError, ErrorCode};
use serde::Deserialize;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Query string of the upgrade request (all text, so a malformed value is
/// answered with an error frame rather than a bare HTTP 400).
#[derive(Debug, Default, Deserialize)]
pub struct WsQuery {
    #[serde(rename = "userID")]
    user_id: Option<String>,
    token: Option<String>,
    #[serde(rename = "lastSeq")]
    last_seq: Option<String>,
}

/// What an upgrade request asks for, or why it cannot have it.
fn parse_upgrade(
    kind: Option<&str>,
    query: Option<&str>,
) -> Result<(AuthQuery, Option<u64>), ApiError> {
    if let Some(kind) = kind {
        if crate::store::RoomKind::from_segment(kind).is_none() {
            return Err(ApiError::with_message(
                ErrorCode::UnknownCommand,
                format!("unknown room type {kind}"),
            ));
        }
    }
    let q: WsQuery = match query {
        None | Some("") => WsQuery::default(),
        Some(q) => serde_urlencoded::from_str(q).map_err(|e| {
            ApiError::with_message(ErrorCode::InvalidParameter, format!("query string: {e}"))
        })?,
    };
    let last_seq = match q.last_seq.as_deref() {
        None => None,
        Some(n) => Some(n.parse::<u64>().map_err(|_| {
            ApiError::with_message(
                ErrorCode::InvalidParameter,
                format!("lastSeq {n:?} is not a non-negative integer"),
            )
        })?),
    };
    let auth = AuthQuery {
        user_id: q.user_id,
        token: q.token,
    };
    Ok((auth, last_seq))
}

/// Close code sent when the session cannot (or can no longer) use the socket.
pub const CLOSE_POLICY: u16 = 4000;

/// Close code for a frame past the codec's limit (RFC 6455 1009, "message too
/// big"): such a frame is never read, so it cannot get a 1005 error frame.
pub const CLOSE_TOO_BIG: u16 = 1009;

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

/// `GET {prefix}/ws`: see [`upgrade_kind`].
pub async fn upgrade(
    svc: State<Arc<RoomService>>,
    query: RawQuery,
    shutdown: axum::Extension<CancellationToken>,
    ws: WebSocketUpgrade,
) -> Response {
    upgrade_to(svc.0, None, query.0, shutdown.0, ws).await
}

/// `GET {prefix}/{kind}/ws`: check the room kind and the query, authenticate,
/// then upgrade. Failures still upgrade so the client reads a proper `error`
/// frame (the same code HTTP would answer) instead of a bare failed handshake.
pub async fn upgrade_kind(
    svc: State<Arc<RoomService>>,
    Path(kind): Path<String>,
    query: RawQuery,
    shutdown: axum::Extension<CancellationToken>,
    ws: WebSocketUpgrade,
) -> Response {
    upgrade_to(svc.0, Some(kind), query.0, shutdown.0, ws).await
}

async fn upgrade_to(
    svc: Arc<RoomService>,
    kind: Option<String>,
    query: Option<String>,
    shutdown: CancellationToken,
    ws: WebSocketUpgrade,
) -> Response {
    let mut last_seq = None;
    let attached = match parse_upgrade(kind.as_deref(), query.as_deref()) {
        Ok((auth, seq)) => {
            last_seq = seq;
            match svc.authenticate(&auth, now_ms()).await {
                Ok(caller) => match svc.session_of(&caller) {
                    Some(session) => Ok((caller, session)),
                    None => Err(ApiError::with_message(
                        ErrorCode::AuthFailed,
                        "session is not on this server",
                    )),
                },
                Err(e) => Err(e),
            }
        }
        Err(e) => Err(e),
    };
    // Let oversized frames through the codec so we can answer them with an error.
    let codec_limit = svc
        .config
        .limits
        .max_frame_bytes
        .saturating_mul(4)
        .max(1 << 16);
    ws.max_message_size(codec_limit)
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .on_upgrade(move |socket| async move {
            match attached {
                Ok((caller, session)) => {
                    run(svc, caller, session, last_seq, socket, shutdown).await
                }
                Err(e) => {
                    svc.metrics.error(e.code);
                    reject(socket, e).await
                }
            }
        })
}

/// Answers a refused upgrade with an `error` frame, then closes with 4000.
pub async fn reject(mut socket: WebSocket, e: ApiError) {
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

/// Free queue slots the reader waits for before handling the next frame, so
/// the answers to a client's own frames (ack, error, pong) slow its reading
/// down instead of filling the queue and getting it dropped as too slow.
const REPLY_ROOM: usize = 8;

/// Why a connection ended (for the log).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// The client closed, or its socket failed.
    Closed,
    /// Nothing read for three ping intervals.
    Idle,
    /// The client sent a frame past the codec's limit (4 × `max_frame_bytes`).
    TooBig,
    /// A write did not complete within `limits.write_timeout_ms`.
    WriteTimeout,
    /// The hub took the connection away (replaced, too slow, session over).
    Dropped,
    /// The server is shutting down.
    Shutdown,
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
    // With [turn], every connection's welcome re-mints the TURN credentials
    // (a full TTL from now): a session living past login's TTL, or resuming
    // after a long absence, never holds expired ones.
    let ice_servers = svc
        .config
        .turn
        .is_some()
        .then(|| svc.ice_servers(&caller.key.user, crate::service::now_ms()));
    let queue = limits.send_queue.max(limits.replay_frames + 1);
    let attached = match svc.hub.cluster() {
        None => svc.hub.attach(&session, last_seq, queue, ice_servers),
        Some(cluster) => {
            // Frames the inbox brings while the session stream is read wait
            // in the session (it has no connection now), then follow the replay.
            svc.hub.drop_connection(&session);
            let conn_id = svc.hub.next_conn_id();
            match cluster
                .attach_socket(&caller.token, conn_id, last_seq)
                .await
            {
                Ok(remote) => {
                    svc.hub
                        .attach_remote(&session, conn_id, last_seq, remote, queue, ice_servers)
                }
                Err(e) => {
                    svc.metrics.error(e.code);
                    return reject(socket, e).await;
                }
            }
        }
    };
    svc.hub.connections.fetch_add(1, Ordering::Relaxed);
    let (sink, stream) = socket.split();
    let done = CancellationToken::new();
    let write_timeout = Duration::from_millis(limits.write_timeout_ms);
    let writer = tokio::spawn(write_loop(
        sink,
        attached.rx,
        Duration::from_millis(svc.config.heartbeat.ws_ping_ms),
        write_timeout,
        shutdown,
        done.clone(),
    ));
    let read_end = read_loop(&svc, &caller, &session, stream, attached.replies, &done).await;
    done.cancel();
    finish(&svc, caller, &session, attached.conn_id, writer, read_end).await;
}

/// The one close path of a connection, run after its reader ended: waits for
/// the writer (each of its writes is bounded; past that it is aborted, which
/// drops the socket and closes the TCP connection), sends the close frame the
/// reader's end calls for, then detaches the session and starts its grace
/// period.
async fn finish(
    svc: &Arc<RoomService>,
    caller: Caller,
    session: &Session,
    conn_id: u64,
    mut writer: tokio::task::JoinHandle<(End, Sink)>,
    read_end: End,
) {
    let limit = Duration::from_millis(svc.config.limits.write_timeout_ms);
    let bound = limit.saturating_mul(2) + Duration::from_millis(100);
    let write_end = match tokio::time::timeout(bound, &mut writer).await {
        Ok(Ok((end, mut sink))) => {
            if read_end == End::TooBig {
                let close = close_frame(CLOSE_TOO_BIG, "frame too large");
                let _ = bounded(limit, sink.send(close)).await;
            }
            end
        }
        Ok(Err(_)) => End::Closed,
        Err(_) => {
            writer.abort();
            End::WriteTimeout
        }
    };
    if write_end == End::WriteTimeout || read_end == End::WriteTimeout {
        svc.metrics.write_timeouts.fetch_add(1, Ordering::Relaxed);
    }
    tracing::debug!(user = %caller.key.user, ?read_end, ?write_end, "socket closed");
    svc.hub.connections.fetch_sub(1, Ordering::Relaxed);
    if svc.hub.detach(session, conn_id, now_ms()) {
        if let Some(cluster) = svc.hub.cluster() {
            cluster
                .detach_socket(&caller.token, conn_id, now_ms())
                .await;
        }
        let grace = Duration::from_millis(svc.config.heartbeat.socket_grace_ms);
        let svc = svc.clone();
        tokio::spawn(async move {
            tokio::time::sleep(grace).await;
            svc.disconnect_expired(&caller.key, &caller.token, now_ms())
                .await;
        });
    }
}

/// Client frames in, until the client closes, goes idle, or the writer ends.
async fn read_loop(
    svc: &RoomService,
    caller: &Caller,
    session: &Session,
    mut stream: SplitStream<WebSocket>,
    replies: mpsc::WeakSender<Outgoing>,
    done: &CancellationToken,
) -> End {
    let limits = &svc.config.limits;
    let idle = Duration::from_millis(svc.config.heartbeat.ws_ping_ms) * 3;
    let mut rate = RateLimit::new(limits, Instant::now());
    loop {
        // Back-pressure: wait until this connection's queue has room for our answers.
        if let Some(tx) = replies.upgrade() {
            tokio::select! {
                _ = tx.reserve_many(REPLY_ROOM) => {}
                _ = done.cancelled() => return End::Dropped,
            }
        }
        let next = tokio::select! {
            n = tokio::time::timeout(idle, stream.next()) => n,
            _ = done.cancelled() => return End::Dropped,
        };
        let msg = match next {
            Ok(Some(Ok(m))) => m,
            Ok(Some(Err(e))) => return read_error_end(e),
            Ok(None) => return End::Closed,
            Err(_) => return End::Idle,
        };
        // Binary frames count against the rate limit like text frames.
        let text = match msg {
            Message::Text(text) => Some(text),
            Message::Binary(_) => None,
            Message::Close(_) => return End::Closed,
            Message::Ping(_) | Message::Pong(_) => continue,
        };
        svc.metrics.ws_frames_in.fetch_add(1, Ordering::Relaxed);
        if !rate.allow(Instant::now()) {
            let req_id = text.as_ref().and_then(|t| lenient_req_id(t.as_str()));
            reply_error(svc, session, req_id, ErrorCode::RateLimited.into());
            continue;
        }
        match text {
            Some(text) => handle_text(svc, caller, session, text.as_str()).await,
            None => reply_error(
                svc,
                session,
                None,
                ApiError::with_message(
                    ErrorCode::UnknownCommand,
                    "binary frames are not supported",
                ),
            ),
        }
    }
}

/// How a failed read ends the connection: a frame past the codec's size
/// limit gets its close frame, any other failure just ends it.
fn read_error_end(e: axum::Error) -> End {
    use tokio_tungstenite::tungstenite::Error;
    match e.into_inner().downcast_ref::<Error>() {
        Some(Error::Capacity(_)) => End::TooBig,
        _ => End::Closed,
    }
}

/// Runs one write within `limit`: `Err` says how it failed.
async fn bounded<F: std::future::Future<Output = Result<(), axum::Error>>>(
    limit: Duration,
    write: F,
) -> Result<(), End> {
    match tokio::time::timeout(limit, write).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) => Err(End::Closed),
        Err(_) => Err(End::WriteTimeout),
    }
}

fn close_frame(code: u16, reason: impl Into<Utf8Bytes>) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }))
}

/// The writing half of a connection's socket.
type Sink = SplitSink<WebSocket, Message>;

/// The session's frames and pings out, until the hub drops the connection,
/// the server shuts down, the reader ends, or a write times out. Gives the
/// socket back for [`finish`]'s close frame.
async fn write_loop(
    mut sink: Sink,
    mut rx: mpsc::Receiver<Outgoing>,
    ping_every: Duration,
    limit: Duration,
    shutdown: CancellationToken,
    done: CancellationToken,
) -> (End, Sink) {
    let end = write_frames(&mut sink, &mut rx, ping_every, limit, &shutdown, &done).await;
    // A dropped connection got its close frame in write_frames; a failed or
    // stuck one gets none.
    if end == End::Shutdown {
        let _ = bounded(limit, sink.send(close_frame(1001, "server shutting down"))).await;
    }
    done.cancel();
    (end, sink)
}

async fn write_frames(
    sink: &mut Sink,
    rx: &mut mpsc::Receiver<Outgoing>,
    ping_every: Duration,
    limit: Duration,
    shutdown: &CancellationToken,
    done: &CancellationToken,
) -> End {
    let mut ping = tokio::time::interval(ping_every);
    ping.tick().await;
    loop {
        let out = tokio::select! {
            out = rx.recv() => out,
            _ = ping.tick() => {
                if let Err(end) = bounded(limit, sink.send(Message::Ping(Default::default()))).await {
                    return end;
                }
                continue;
            }
            _ = shutdown.cancelled() => return End::Shutdown,
            _ = done.cancelled() => return End::Closed,
        };
        let text = match out {
            Some(Outgoing::Frame(text)) => text,
            Some(Outgoing::Close(e)) => {
                let _ = bounded(limit, sink.send(close_frame(CLOSE_POLICY, e.message))).await;
                return End::Dropped;
            }
            None => {
                // Replaced by a newer connection or dropped as too slow.
                let close = close_frame(CLOSE_POLICY, "connection replaced or too slow");
                let _ = bounded(limit, sink.send(close)).await;
                return End::Dropped;
            }
        };
        // Merge frames already queued behind this one into one write.
        let (mut pending, mut close, mut batch) = (Some(text), None, 0);
        while let Some(text) = pending.take() {
            if let Err(end) = bounded(limit, sink.feed(Message::Text(text))).await {
                return end;
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
        if let Err(end) = bounded(limit, sink.flush()).await {
            return end;
        }
        if let Some(e) = close {
            let _ = bounded(limit, sink.send(close_frame(CLOSE_POLICY, e.message))).await;
            return End::Dropped;
        }
    }
}
