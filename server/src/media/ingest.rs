//! The RTMP → WebRTC bridge: a mini-program member's `<live-pusher>` stream
//! becomes an ordinary publisher of the room's Janus VideoRoom, so browser
//! members subscribe to it like to any other member (their `sfu_offer`
//! streams name its userID).
//!
//! * **How**: a VideoRoom *remote publisher* (`add_remote_publisher`, Janus
//!   ≥ 1.1: the room's one UDP port takes every stream, told apart by SSRC —
//!   `1000 + 10 × mindex`; Opus is mindex 0, H.264 mindex 1) and an ffmpeg that
//!   plays the member's stream from nginx-rtmp (its signed play URL), copies
//!   H.264 (Annex B, `h264_mp4toannexb`: FLV carries SPS/PPS out of band),
//!   encodes AAC to Opus 48 kHz stereo, and sends both as RTP to that port.
//!   Its RTCP (sender reports) goes to the remote publisher's RTCP port, where
//!   Janus latches and sends its keyframe requests back; ffmpeg copies the
//!   pusher's H.264 and cannot make a keyframe, so a browser that subscribes
//!   mid-GOP waits for the pusher's next one (live-pusher's GOP; the test
//!   pusher's is 1 s).
//! * **When**: while the room is SFU (every room with a mini-program member
//!   is) and has at least one browser member to watch; stopped when the
//!   member leaves, when the last browser member leaves, when the room closes
//!   or Janus goes away (then re-added once the room is re-created).
//! * **Supervision**: [`super::ffmpeg::supervise`], like the other direction:
//!   restarted with back-off when ffmpeg exits (the push stopped, nginx
//!   restarted), killed with its member, never outliving RoomService. The
//!   remote publisher stays across restarts and goes when the bridge stops.

use super::ffmpeg::{CommandLine, Job};
use super::janus::Janus;
use super::Sfu;
use crate::service::{now_ms, RoomService};
use crate::store::RoomKey;
use async_trait::async_trait;
use rtcroom_protocol::UserId;
use serde_json::{json, Value};
use std::sync::{Arc, Weak};
use tokio::process::Child;

/// VideoRoom's SSRC scheme for remote publishers: stream `mindex` is
/// `BASE + STEP × mindex` (janus_videoroom.c, `REMOTE_PUBLISHER_*_SSRC`).
const REMOTE_BASE_SSRC: u32 = 1000;
const REMOTE_SSRC_STEP: u32 = 10;
/// The remote publisher's streams, in mindex order.
const AUDIO_MINDEX: u32 = 0;
const VIDEO_MINDEX: u32 = 1;
/// RTP payload size: well under a path MTU once Janus adds SRTP and extensions.
const RTP_PACKET_BYTES: u32 = 1200;
/// ffmpeg gives up on a stalled RTMP read after this long (µs), so the
/// supervisor restarts it.
const RTMP_READ_TIMEOUT_US: &str = "5000000";

/// SSRC of remote publisher stream `mindex`.
fn remote_ssrc(mindex: u32) -> u32 {
    REMOTE_BASE_SSRC + REMOTE_SSRC_STEP * mindex
}

/// The `add_remote_publisher` request for `feed` in `janus_room`.
fn add_request(janus_room: &str, feed: &str, display: &str) -> Value {
    json!({
        "request": "add_remote_publisher",
        "room": janus_room,
        "id": feed,
        "display": display,
        "iface": "127.0.0.1",
        "streams": [
            {"type": "audio", "mindex": AUDIO_MINDEX, "mid": AUDIO_MINDEX.to_string(), "codec": "opus", "stereo": true},
            {"type": "video", "mindex": VIDEO_MINDEX, "mid": VIDEO_MINDEX.to_string(), "codec": "h264"},
        ],
    })
}

/// One RTP output of ffmpeg: stream `map`, SSRC of `mindex`, to Janus' ports.
fn rtp_output(map: &str, codec: &[&str], mindex: u32, pt: u8, port: u16, rtcp: u16) -> Vec<String> {
    let mut out: Vec<String> = vec!["-map".into(), map.into()];
    out.extend(codec.iter().map(|s| (*s).to_owned()));
    out.extend([
        "-ssrc".into(),
        remote_ssrc(mindex).to_string(),
        "-payload_type".into(),
        pt.to_string(),
        "-f".into(),
        "rtp".into(),
        format!("rtp://127.0.0.1:{port}?rtcpport={rtcp}&pkt_size={RTP_PACKET_BYTES}"),
    ]);
    out
}

/// ffmpeg's arguments: the RTMP play URL in, H.264 copied and Opus out as RTP
/// to the remote publisher's `port` (RTCP to `rtcp`).
fn ffmpeg_args(play_url: &str, port: u16, rtcp: u16) -> Vec<String> {
    let mut args: Vec<String> = [
        "-hide_banner",
        "-nostdin",
        "-nostats",
        "-loglevel",
        "warning",
        "-fflags",
        "nobuffer",
        "-flags",
        "low_delay",
        "-rw_timeout",
        RTMP_READ_TIMEOUT_US,
        // FLV streams appear as their first packets come, so ffmpeg probes
        // this long whatever it finds; nginx-rtmp starts a new player at a
        // keyframe with audio held back until then (`wait_key`,
        // `wait_video`), so both streams show up within it.
        "-analyzeduration",
        "1000000",
        "-i",
        play_url,
    ]
    .map(str::to_owned)
    .into();
    args.extend(rtp_output(
        "0:v:0",
        &["-c:v", "copy", "-bsf:v", "h264_mp4toannexb"],
        VIDEO_MINDEX,
        96,
        port,
        rtcp,
    ));
    args.extend(rtp_output(
        "0:a:0",
        &[
            "-c:a",
            "libopus",
            "-ar",
            "48000",
            "-ac",
            "2",
            "-b:a",
            "64k",
            "-application",
            "lowdelay",
        ],
        AUDIO_MINDEX,
        111,
        port,
        rtcp,
    ));
    args
}

/// What an ingest needs of the room's Janus room.
pub struct Target {
    /// The Janus connection.
    pub janus: Arc<Janus>,
    /// The Janus room.
    pub janus_room: String,
    /// The member's feed id there.
    pub feed: String,
}

/// The supervised job of one mini-program member's ingest.
pub struct IngestJob {
    svc: Weak<RoomService>,
    sfu: Weak<Sfu>,
    key: RoomKey,
    user: UserId,
    ffmpeg: String,
    target: Target,
    /// The remote publisher's handle and ports, once added.
    remote: Option<(u64, u16, u16)>,
}

impl IngestJob {
    /// The ingest of `user` (a mini-program member of `key`) into `target`.
    pub fn new(
        svc: Weak<RoomService>,
        sfu: Weak<Sfu>,
        key: RoomKey,
        user: UserId,
        ffmpeg: String,
        target: Target,
    ) -> Self {
        Self {
            svc,
            sfu,
            key,
            user,
            ffmpeg,
            target,
            remote: None,
        }
    }

    /// Adds the remote publisher (once); its handle and ports.
    async fn remote_publisher(&mut self) -> Result<(u64, u16, u16), String> {
        if let Some(r) = self.remote {
            return Ok(r);
        }
        let janus = &self.target.janus;
        let (handle, _events) = janus
            .attach("janus.plugin.videoroom")
            .await
            .map_err(|e| format!("attach: {e}"))?;
        let reply = janus
            .message(
                handle,
                add_request(
                    &self.target.janus_room,
                    &self.target.feed,
                    self.user.as_str(),
                ),
                None,
            )
            .await;
        let reply = match reply {
            Ok(r) => r,
            Err(e) => {
                let _ = janus.detach(handle).await;
                return Err(format!("add_remote_publisher: {e}"));
            }
        };
        let port = |k: &str| reply.data[k].as_u64().and_then(|p| u16::try_from(p).ok());
        let (Some(port), Some(rtcp)) = (port("port"), port("rtcp_port")) else {
            let _ = janus.detach(handle).await;
            return Err(format!(
                "add_remote_publisher gave no ports: {}",
                reply.data
            ));
        };
        self.remote = Some((handle, port, rtcp));
        tracing::info!(room = %self.key.room, user = %self.user, port, rtcp, "remote publisher added");
        if let Some(sfu) = self.sfu.upgrade() {
            sfu.remote_publisher_up(&self.key, &self.user, &self.target.feed)
                .await;
        }
        Ok((handle, port, rtcp))
    }
}

#[async_trait]
impl Job for IngestJob {
    async fn command(&mut self) -> Option<CommandLine> {
        let svc = self.svc.upgrade()?;
        let (_, port, rtcp) = match self.remote_publisher().await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(room = %self.key.room, user = %self.user, "ingest set-up failed: {e}");
                return None;
            }
        };
        let stream = svc.stream_of(self.key.app, &self.user);
        let url = svc
            .signer()
            .accelerate_url(&stream, (now_ms() / 1000) as i64);
        Some(CommandLine {
            program: self.ffmpeg.clone(),
            args: ffmpeg_args(&url, port, rtcp),
        })
    }

    async fn started(&mut self, _child: &mut Child, _attempt: u64) -> Result<(), String> {
        Ok(())
    }

    async fn stopped(&mut self) {
        let Some((handle, _, _)) = self.remote.take() else {
            return;
        };
        let janus = &self.target.janus;
        if !janus.closed().is_cancelled() {
            let r = janus
                .message(
                    handle,
                    json!({"request": "remove_remote_publisher", "room": self.target.janus_room, "id": self.target.feed}),
                    None,
                )
                .await;
            if let Err(e) = r {
                // The room may be destroyed already, and the publisher with it.
                tracing::debug!("remove_remote_publisher: {e}");
            }
            let _ = janus.detach(handle).await;
        }
        if let Some(sfu) = self.sfu.upgrade() {
            sfu.remote_publisher_down(&self.key, &self.user, &self.target.feed)
                .await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssrcs_follow_janus_remote_publisher_scheme() {
        assert_eq!(remote_ssrc(AUDIO_MINDEX), 1000);
        assert_eq!(remote_ssrc(VIDEO_MINDEX), 1010);
        let req = add_request("rtcroom-x", "fabc", "mp1");
        assert_eq!(req["streams"][0]["codec"], "opus");
        assert_eq!(req["streams"][1]["mindex"], 1);
    }

    #[test]
    fn arguments_match_the_probed_recipe() {
        let args = ffmpeg_args("rtmp://h/live/s?q", 20000, 20001).join(" ");
        assert!(args.contains(" -i rtmp://h/live/s?q "));
        assert!(args.contains(
            "-map 0:v:0 -c:v copy -bsf:v h264_mp4toannexb -ssrc 1010 -payload_type 96 -f rtp rtp://127.0.0.1:20000?rtcpport=20001&pkt_size=1200"
        ));
        assert!(args.contains("-map 0:a:0 -c:a libopus -ar 48000 -ac 2 "));
        assert!(args.ends_with("-ssrc 1000 -payload_type 111 -f rtp rtp://127.0.0.1:20000?rtcpport=20001&pkt_size=1200"));
    }
}
