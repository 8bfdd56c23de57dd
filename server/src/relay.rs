//! Room messages and the WebRTC signaling relay: what each client frame
//! does once the connection has read it. Room text and custom messages fan
//! out to the sender's fellow members, stamped with its stored name and
//! avatar; offers, answers, candidates and renegotiation requests reach one
//! addressed member, and only when both are in the room. Transport-free: the
//! WebSocket connection ([`crate::ws`]) calls [`handle_text`] and writes what
//! the hub queues.

use crate::hub::{Encoded, Session};
use crate::service::{now_ms, Caller, RoomService};
use crate::store::{RoomKey, UserKey};
use rtcroom_protocol::http::Pusher;
use rtcroom_protocol::ws::*;
use rtcroom_protocol::{ApiError, ErrorCode, RoomId, UserId};
use serde::Deserialize;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Best-effort `reqID` of a frame that failed to parse, so its error can name it.
pub fn lenient_req_id(text: &str) -> Option<u32> {
    #[derive(Deserialize)]
    struct Id {
        #[serde(rename = "reqID")]
        req_id: Option<u32>,
    }
    serde_json::from_str::<Id>(text).ok().and_then(|i| i.req_id)
}

/// Answers a frame (or the connection) with an `error` frame.
pub fn reply_error(svc: &RoomService, session: &Session, req_id: Option<u32>, e: ApiError) {
    svc.metrics.error(e.code);
    // Frames are numbered in Redis in a cluster: with Redis away this answer
    // cannot be, so it goes out unnumbered (carrying the last seq, like `pong`).
    let unnumbered = e.is(ErrorCode::StoreUnavailable);
    let event = Encoded::new(&ServerEvent::Error {
        req_id,
        code: e.code,
        message: e.message,
    });
    if unnumbered {
        svc.hub.send_unsequenced(session, &event);
    } else {
        svc.hub.send(session, &event);
    }
}

/// Handles one text frame from `caller`: size check, the SDP fast path, or
/// a parsed [`ClientFrame`]; the answer (`ack`/`error`/`pong`) goes to `session`.
pub async fn handle_text(svc: &RoomService, caller: &Caller, session: &Session, text: &str) {
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
    sender: &UserKey,
    room: &RoomId,
) -> Result<(RoomKey, Arc<[Pusher]>, Pusher), ApiError> {
    let key = RoomKey {
        app: sender.app,
        room: room.clone(),
    };
    let members = svc.store.members(&key).await?;
    let me = members
        .iter()
        .find(|p| p.user_id == sender.user)
        .cloned()
        .ok_or_else(|| ApiError::new(ErrorCode::NotMember))?;
    Ok((key, members, me))
}

/// `what` (a frame, a message) of `len` bytes against its limit `max`.
pub fn check_size(what: &str, len: usize, max: usize) -> Result<(), ApiError> {
    if len > max {
        return Err(ApiError::with_message(
            ErrorCode::MessageTooLarge,
            format!("{what} is {len} bytes; the limit is {max}"),
        ));
    }
    Ok(())
}

/// A room text message from `sender` to the other members, its head stamped
/// from the sender's membership (never from the frame).
pub async fn room_text(
    svc: &RoomService,
    sender: &UserKey,
    room_id: RoomId,
    text: String,
) -> Result<(), ApiError> {
    check_size("message", text.len(), svc.config.limits.max_message_bytes)?;
    let (key, members, me) = members_with_sender(svc, sender, &room_id).await?;
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
        time: now_ms(),
    });
    fan_out(svc, &key, &members, &sender.user, &event);
    svc.metrics.text_messages.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

/// A room custom message (`cmd`, `msg`) from `sender`, stamped like [`room_text`].
pub async fn room_custom(
    svc: &RoomService,
    sender: &UserKey,
    room_id: RoomId,
    cmd: String,
    msg: String,
) -> Result<(), ApiError> {
    let max = svc.config.limits.max_message_bytes;
    check_size("message", cmd.len() + msg.len(), max)?;
    let (key, members, me) = members_with_sender(svc, sender, &room_id).await?;
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
        time: now_ms(),
    });
    fan_out(svc, &key, &members, &sender.user, &event);
    svc.metrics.custom_messages.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

/// What one parsed frame does.
async fn handle_frame(
    svc: &RoomService,
    caller: &Caller,
    session: &Session,
    frame: ClientFrame,
) -> Result<(), ApiError> {
    match frame {
        ClientFrame::Ping => {
            svc.hub
                .send_unsequenced(session, &Encoded::new(&ServerEvent::Pong));
            Ok(())
        }
        ClientFrame::RoomText { room_id, text } => room_text(svc, &caller.key, room_id, text).await,
        ClientFrame::RoomCustom { room_id, cmd, msg } => {
            room_custom(svc, &caller.key, room_id, cmd, msg).await
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
    let (key, members, _) = members_with_sender(svc, &caller.key, room).await?;
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
