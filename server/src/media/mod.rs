//! The media server behind rooms too large for a mesh: RoomService drives a
//! Janus VideoRoom on its members' behalf ([`sfu`]) over Janus' WebSocket API
//! ([`janus`]). Off unless `[media] janus_url` is configured; then a
//! `multi_room` past `sfu_threshold` members moves to SFU mode.
//!
//! With `[media] ffmpeg` too, browser members of rooms with a mini-program
//! member are bridged to RTMP ([`bridge`], ffmpeg supervised by [`ffmpeg`]),
//! and mini-program members to the browsers ([`ingest`]).
//!
//! The functions here are the few hooks the rest of the server calls; each
//! does nothing without a media server.

pub mod bridge;
pub mod ffmpeg;
pub mod ingest;
pub mod janus;
pub mod sfu;
pub mod test_member;

pub use sfu::{Admission, Sfu};

use crate::hub::Session;
use crate::service::{Caller, RoomService};
use crate::store::{Departure, Joined, RoomKey, RoomKind};
use rtcroom_protocol::sfu::{SfuClientEnvelope, SfuClientFrame};
use rtcroom_protocol::{ApiError, UserId};

/// The media server of `config`, if one is configured.
pub fn from_config(config: &crate::config::Config) -> Option<std::sync::Arc<Sfu>> {
    config.media.janus_url.as_ref()?;
    Some(std::sync::Arc::new(Sfu::new(config.media.clone())))
}

/// Members a `multi_room` holds: `max_members_sfu` with a media server.
pub fn room_capacity(svc_config: &crate::config::Config) -> usize {
    match &svc_config.media.janus_url {
        Some(_) => svc_config
            .media
            .max_members_sfu
            .max(svc_config.limits.max_members),
        None => svc_config.limits.max_members,
    }
}

/// An SFU frame (`sfu_*`), parsed, when a media server is configured;
/// `None` for every other frame (and for all frames without one, so they
/// are answered exactly as before).
pub fn parse_frame(svc: &RoomService, text: &str) -> Option<Result<SfuClientEnvelope, ApiError>> {
    svc.media.as_ref()?;
    #[derive(serde::Deserialize)]
    struct Type<'a> {
        #[serde(rename = "type", borrow)]
        ty: std::borrow::Cow<'a, str>,
    }
    let ty: Type<'_> = serde_json::from_str(text).ok()?;
    if !SfuClientFrame::is_sfu_type(&ty.ty) {
        return None;
    }
    Some(crate::json::parse_body(text.as_bytes()))
}

/// Handles one SFU frame of `caller`.
pub async fn handle_frame(
    svc: &RoomService,
    caller: &Caller,
    session: &Session,
    frame: SfuClientFrame,
) -> Result<(), ApiError> {
    match &svc.media {
        Some(sfu) => sfu.handle(svc, caller, session, frame).await,
        None => Err(rtcroom_protocol::ErrorCode::UnknownCommand.into()),
    }
}

/// Before a member enters: moves the room to SFU when it must (see
/// [`Sfu::admit`]); `rtmp`: the newcomer is a mini-program member (its
/// `add_pusher` carried a `pushURL`).
pub async fn admit(
    svc: &RoomService,
    key: &RoomKey,
    kind: RoomKind,
    rtmp: bool,
) -> Result<Admission, ApiError> {
    match &svc.media {
        Some(sfu) => sfu.admit(svc, key, kind, rtmp).await,
        None => Ok(Admission::default()),
    }
}

/// The member was refused after [`admit`].
pub fn abandon(svc: &RoomService, key: &RoomKey, admission: Admission) {
    if let Some(sfu) = &svc.media {
        sfu.abandon(key, admission);
    }
}

/// A member entered (after its `pusher_join` went out); `rtmp` as in [`admit`].
pub async fn entered(svc: &RoomService, key: &RoomKey, user: &UserId, joined: &Joined, rtmp: bool) {
    if let Some(sfu) = &svc.media {
        sfu.entered(svc, key, user, joined, rtmp).await;
    }
}

/// Whether the room's media runs on the SFU now (no mesh signaling then).
pub fn is_sfu(svc: &RoomService, key: &RoomKey) -> bool {
    svc.media.as_ref().is_some_and(|sfu| sfu.has_room(key))
}

/// The `accelerateURL` of a browser member (no `pushURL`) when the RTMP
/// bridge is configured: the signed play URL of its own stream, which the
/// bridge pushes while the room has a mini-program member.
pub fn bridged_play_url(svc: &RoomService, caller: &Caller, now_s: i64) -> Option<String> {
    svc.media.as_ref()?.bridges()?;
    let stream = svc.stream_of(caller.key.app, &caller.key.user);
    Some(svc.signer().accelerate_url(&stream, now_s))
}

/// A member re-fetched its room (`get_pushers`, e.g. after `welcome
/// {resumed: false}`): in an SFU room it hears `room_mode` again.
pub fn fetched(svc: &RoomService, caller: &Caller, room: &rtcroom_protocol::http::RoomSummary) {
    if let Some(sfu) = &svc.media {
        if room.pushers.iter().any(|p| p.user_id == caller.key.user) {
            let key = RoomKey {
                app: caller.key.app,
                room: room.room_id.clone(),
            };
            sfu.remind(svc, &key, &caller.key.user);
        }
    }
}

/// nginx-rtmp accepted `user`'s push: its ingests (RTMP → Janus) restart now.
pub fn rtmp_published(svc: &RoomService, user: &crate::store::UserKey) {
    if let Some(sfu) = svc.media.clone() {
        let user = user.clone();
        tokio::spawn(async move { sfu.rtmp_published(user.app, &user.user).await });
    }
}

/// A member left, or the room closed with its departure.
pub fn departed(svc: &RoomService, dep: &Departure) {
    if let Some(sfu) = &svc.media {
        sfu.departed(dep);
    }
}

/// A room was destroyed.
pub fn room_gone(svc: &RoomService, key: &RoomKey) {
    if let Some(sfu) = &svc.media {
        sfu.room_gone(key);
    }
}
