//! The demo's "add a test mini-program member" (debug mode only):
//! `POST {prefix}/utils/debug_add_test_member` with `{"roomID": …}` makes
//! RoomService act as a `<live-pusher>` would, so one machine shows browser ↔
//! mini-program interop: a fresh `test-…` user is logged in, gets its signed
//! push URL, an ffmpeg pushes a test pattern and a tone to it (H.264
//! baseline + AAC over RTMP, through nginx-rtmp's `on_publish` check like
//! any push), and the user enters the room with `add_pusher` and that
//! `pushURL`. From there it is an ordinary mini-program member: the room
//! goes SFU, its push is bridged to the browsers ([`super::ingest`]) and
//! theirs to RTMP ([`super::bridge`]).
//!
//! RoomService heartbeats for it. It leaves (and its ffmpeg stops) when it is
//! alone in the room, when the room is gone, or at shutdown; its ffmpeg is
//! supervised like the bridges' (restarts, parent-death signal).

use super::ffmpeg::{self, CommandLine, Job};
use crate::service::{now_ms, Caller, RoomService};
use crate::store::{RoomKey, RoomKind, UserKey};
use async_trait::async_trait;
use rtcroom_protocol::http::{AddPusherRequest, RoomUserRequest, TestMemberAdded};
use rtcroom_protocol::{ApiError, ErrorCode};
use std::sync::Arc;
use std::time::Duration;
use tokio::process::Child;
use tokio_util::sync::CancellationToken;

/// How long the push gets to be accepted before the member enters.
const PUSH_SETTLE: Duration = Duration::from_millis(1500);

/// ffmpeg as `<live-pusher>`: 640x480 test pattern at 15 fps, one keyframe a
/// second, and a 440 Hz tone, H.264 baseline + AAC, FLV to `url`.
fn pusher_args(url: &str) -> Vec<String> {
    [
        "-hide_banner",
        "-nostdin",
        "-nostats",
        "-loglevel",
        "warning",
        "-re",
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=640x480:rate=15",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=44100",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        "-profile:v",
        "baseline",
        "-preset",
        "ultrafast",
        "-tune",
        "zerolatency",
        "-g",
        "15",
        "-c:a",
        "aac",
        "-b:a",
        "64k",
        "-f",
        "flv",
        url,
    ]
    .map(str::to_owned)
    .into()
}

struct PusherJob {
    ffmpeg: String,
    url: String,
}

#[async_trait]
impl Job for PusherJob {
    async fn command(&mut self) -> Option<CommandLine> {
        Some(CommandLine {
            program: self.ffmpeg.clone(),
            args: pusher_args(&self.url),
        })
    }
    async fn started(&mut self, _: &mut Child, _: u64) -> Result<(), String> {
        Ok(())
    }
    async fn stopped(&mut self) {}
}

/// Makes a test mini-program member push into `room` (see the module docs).
pub async fn add(
    svc: &Arc<RoomService>,
    room: RoomUserRequest,
) -> Result<TestMemberAdded, ApiError> {
    let (app, user) = crate::utils_cmds::test_user(svc)?;
    let (Some(sfu), Some(ffmpeg)) = (&svc.media, svc.config.media.ffmpeg.clone()) else {
        return Err(ErrorCode::BridgeUnavailable.into());
    };
    let Some(bridges) = sfu.bridges() else {
        return Err(ErrorCode::BridgeUnavailable.into());
    };
    let now = now_ms();
    let key = UserKey {
        app,
        user: user.clone(),
    };
    let token = svc.open_session(key.clone(), now).await?;
    let caller = Caller { key, token };
    let stream = svc.stream_of(app, &user);
    let url = svc
        .signer()
        .push_url(&stream, &caller.token, (now / 1000) as i64);
    let stop = bridges.child_token();
    let label = format!("test member {}/{}", room.room_id, user);
    tracing::info!(room = %room.room_id, user = %user, "test mini-program member pushes");
    let stats = svc.metrics.test_pushers.clone();
    tokio::spawn({
        let (stop, job) = (
            stop.clone(),
            PusherJob {
                ffmpeg,
                url: url.clone(),
            },
        );
        async move { ffmpeg::supervise(label, job, stop, &stats).await }
    });
    tokio::time::sleep(PUSH_SETTLE).await;
    let entered = svc
        .add_pusher(
            &caller,
            RoomKind::Multi,
            AddPusherRequest {
                room_id: room.room_id.clone(),
                user_id: None,
                user_name: format!("test pattern ({user})"),
                user_avatar: String::new(),
                push_url: url.clone(),
                room_info: None,
                private_map_key: None,
                join_order: false,
                offer: None,
            },
            now_ms(),
        )
        .await;
    if let Err(e) = entered {
        stop.cancel();
        return Err(e);
    }
    tokio::spawn(stay(svc.clone(), caller, room.room_id.clone(), stop));
    Ok(TestMemberAdded {
        room_id: room.room_id,
        user_id: user,
        push_url: url,
    })
}

/// Heartbeats for the test member until it is alone, the room is gone or
/// `stop` fires; then it leaves and its ffmpeg stops.
async fn stay(
    svc: Arc<RoomService>,
    caller: Caller,
    room_id: rtcroom_protocol::RoomId,
    stop: CancellationToken,
) {
    let every = Duration::from_secs(svc.config.heartbeat.timeout_secs.max(3) / 3);
    let req = RoomUserRequest {
        room_id: room_id.clone(),
        user_id: None,
    };
    let key = RoomKey {
        app: caller.key.app,
        room: room_id,
    };
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.cancelled() => break,
        }
        if svc.heartbeat(&caller, &req, now_ms()).await.is_err() {
            break;
        }
        let alone = svc
            .store
            .members(&key)
            .await
            .map(|m| m.iter().all(|p| p.user_id == caller.key.user))
            .unwrap_or(true);
        if alone {
            let _ = svc.delete_pusher(&caller, &req).await;
            break;
        }
    }
    tracing::info!(room = %key.room, user = %caller.key.user, "test mini-program member leaves");
    stop.cancel();
    svc.logout(&caller).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pusher_speaks_live_pusher_wire() {
        let a = pusher_args("rtmp://h/live/s?x").join(" ");
        assert!(a.contains("-c:v libx264 -pix_fmt yuv420p -profile:v baseline "));
        assert!(a.contains("-c:a aac "));
        assert!(a.ends_with("-f flv rtmp://h/live/s?x"));
    }
}
