//! The WebRTC → RTMP bridge: browser members of a room with a mini-program
//! member are pushed into nginx-rtmp, each under its own stream name, so a
//! `<live-player>` plays them from their `accelerateURL`.
//!
//! * **Who is a mini-program member**: one whose `add_pusher` carried a
//!   `pushURL` (RoomService already checks it is that user's own signed
//!   stream); browsers enter with an empty `pushURL`. Kept here per room, for
//!   as long as the member stays (one RoomService per room's media).
//! * While a room has one, it runs in SFU mode whatever its size (see
//!   [`super::Sfu::admit`]), its Janus room takes H.264 only (constrained
//!   baseline, `42e01f`), and for each browser member whose publisher is up a
//!   bridge runs: ffmpeg reads an SDP of ours (Opus on one even UDP port,
//!   H.264 on another, payload types 111 and 96), copies H.264, encodes AAC,
//!   and pushes FLV to the member's signed push URL (minted for that
//!   member's login session, so it passes `on_publish` like any pusher).
//!   Once ffmpeg holds its ports, Janus `rtp_forward`s (admin key) the
//!   publisher's audio and video to them with those payload types, and a
//!   keyframe is asked so a player starts at once.
//! * A bridge stops when its member leaves or unpublishes, when the room's
//!   last mini-program member leaves, when the room closes or Janus goes
//!   away; ffmpeg is supervised by [`super::ffmpeg`] (restarts with
//!   back-off; after a restart the forward is still there, a keyframe is
//!   asked again).

use super::ffmpeg::{self, CommandLine, Job, ProcessStats};
use super::janus::Janus;
use crate::service::{now_ms, RoomService};
use crate::store::{RoomKey, UserKey};
use async_trait::async_trait;
use rtcroom_protocol::sfu::TrackKind;
use rtcroom_protocol::UserId;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::net::UdpSocket;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};
use tokio::process::Child;
use tokio_util::sync::CancellationToken;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Payload types of the forwarded RTP (and of ffmpeg's SDP).
const OPUS_PT: u8 = 111;
const H264_PT: u8 = 96;

/// One published track of a Janus publisher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Track {
    /// Audio or video.
    pub kind: TrackKind,
    /// Its `mid` on the publisher's PeerConnection.
    pub mid: String,
    /// Janus' codec name (`opus`, `h264`, `vp8`), when it said.
    pub codec: Option<String>,
}

/// The published tracks, from Janus' `configured` reply (`streams`), else
/// from the offer's `m=` sections and their `a=mid`.
pub fn published_tracks(reply: &Value, offer: &str) -> Vec<Track> {
    let from_reply: Vec<Track> = reply["streams"]
        .as_array()
        .map(|s| {
            s.iter()
                .filter(|s| s["disabled"] != true)
                .filter_map(|s| {
                    let kind = match s["type"].as_str()? {
                        "audio" => TrackKind::Audio,
                        "video" => TrackKind::Video,
                        _ => return None,
                    };
                    Some(Track {
                        kind,
                        mid: s["mid"].as_str()?.to_owned(),
                        codec: s["codec"].as_str().map(str::to_owned),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    if !from_reply.is_empty() {
        return from_reply;
    }
    let mut out = Vec::new();
    let mut kind = None;
    for line in offer.lines() {
        if let Some(m) = line.strip_prefix("m=") {
            kind = match m.split(' ').next() {
                Some("audio") => Some(TrackKind::Audio),
                Some("video") => Some(TrackKind::Video),
                _ => None,
            };
        } else if let (Some(k), Some(mid)) = (kind, line.strip_prefix("a=mid:")) {
            out.push(Track {
                kind: k,
                mid: mid.trim().to_owned(),
                codec: None,
            });
            kind = None;
        }
    }
    out
}

/// What a bridge needs of a Janus publisher.
pub struct Forward {
    /// The Janus connection.
    pub janus: Arc<Janus>,
    /// The publisher's handle (keyframe requests go there).
    pub handle: u64,
    /// Its Janus room.
    pub janus_room: String,
    /// Its feed id.
    pub feed: String,
    /// Its tracks.
    pub tracks: Vec<Track>,
}

/// The bridges of this RoomService and the mini-program members they serve.
pub struct Bridges {
    ffmpeg: String,
    admin_key: String,
    rtmp_members: Mutex<HashMap<RoomKey, HashSet<UserId>>>,
    running: Mutex<HashMap<(RoomKey, UserId), CancellationToken>>,
    /// The mini-program members' ingests ([`super::ingest`]) running now.
    ingests: Mutex<HashMap<(RoomKey, UserId), CancellationToken>>,
    /// Parent of every bridge's token: cancelled at shutdown.
    root: CancellationToken,
}

impl Bridges {
    /// Bridges that run `ffmpeg` and forward with `admin_key`.
    pub fn new(ffmpeg: String, admin_key: String) -> Self {
        Self {
            ffmpeg,
            admin_key,
            rtmp_members: Mutex::new(HashMap::new()),
            running: Mutex::new(HashMap::new()),
            ingests: Mutex::new(HashMap::new()),
            root: CancellationToken::new(),
        }
    }

    /// Stops every bridge when `shutdown` fires.
    pub fn stop_on(&self, shutdown: CancellationToken) {
        let root = self.root.clone();
        tokio::spawn(async move {
            shutdown.cancelled().await;
            root.cancel();
        });
    }

    /// A token cancelled at shutdown (for other processes of the bridge's kind).
    pub fn child_token(&self) -> CancellationToken {
        self.root.child_token()
    }

    /// `user` entered `key` as a mini-program member.
    pub fn add_rtmp_member(&self, key: &RoomKey, user: &UserId) {
        lock(&self.rtmp_members)
            .entry(key.clone())
            .or_default()
            .insert(user.clone());
    }

    /// Forgets a member; true when the room has no mini-program member left
    /// (and had one before).
    pub fn remove_member(&self, key: &RoomKey, user: &UserId) -> bool {
        let mut all = lock(&self.rtmp_members);
        let Some(set) = all.get_mut(key) else {
            return false;
        };
        if !set.remove(user) {
            return false;
        }
        if set.is_empty() {
            all.remove(key);
            return true;
        }
        false
    }

    /// Whether `key` has a mini-program member.
    pub fn has_rtmp_member(&self, key: &RoomKey) -> bool {
        lock(&self.rtmp_members)
            .get(key)
            .is_some_and(|s| !s.is_empty())
    }

    /// Whether `user` is a mini-program member of `key`.
    pub fn is_rtmp_member(&self, key: &RoomKey, user: &UserId) -> bool {
        lock(&self.rtmp_members)
            .get(key)
            .is_some_and(|s| s.contains(user))
    }

    /// Bridges running now, by room and member (for tests).
    pub fn running(&self) -> Vec<(RoomKey, UserId)> {
        lock(&self.running).keys().cloned().collect()
    }

    /// Starts `user`'s bridge in `key` unless one runs.
    pub fn start(
        &self,
        svc: Weak<RoomService>,
        stats: Arc<ProcessStats>,
        key: &RoomKey,
        user: &UserId,
        fwd: Forward,
    ) {
        if !fwd.tracks.iter().any(|t| t.kind == TrackKind::Video) {
            tracing::info!(room = %key.room, user = %user, "no video published: no bridge");
            return;
        }
        if let Some(t) = fwd
            .tracks
            .iter()
            .find(|t| t.kind == TrackKind::Video && t.codec.as_deref().is_some_and(|c| c != "h264"))
        {
            tracing::warn!(room = %key.room, user = %user, codec = ?t.codec, "video is not H.264: no bridge (RTMP carries H.264 only)");
            return;
        }
        let token = {
            let mut running = lock(&self.running);
            if running.contains_key(&(key.clone(), user.clone())) {
                return;
            }
            let token = self.root.child_token();
            running.insert((key.clone(), user.clone()), token.clone());
            token
        };
        let job = BridgeJob {
            svc,
            user: UserKey {
                app: key.app,
                user: user.clone(),
            },
            ffmpeg: self.ffmpeg.clone(),
            admin_key: self.admin_key.clone(),
            fwd,
            dir: None,
            ports: HashMap::new(),
            forwarders: Vec::new(),
        };
        let label = format!("bridge {}/{}", key.room, user);
        tracing::info!(room = %key.room, user = %user, "bridge starts");
        tokio::spawn(async move { ffmpeg::supervise(label, job, token, &stats).await });
    }

    /// Ingests running now, by room and member (for tests).
    pub fn ingests(&self) -> Vec<(RoomKey, UserId)> {
        lock(&self.ingests).keys().cloned().collect()
    }

    /// Mini-program members of `key`.
    pub fn rtmp_members(&self, key: &RoomKey) -> Vec<UserId> {
        lock(&self.rtmp_members)
            .get(key)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Rooms where `user` of `app` is a mini-program member.
    pub fn rooms_of_rtmp_member(&self, app: u64, user: &UserId) -> Vec<RoomKey> {
        lock(&self.rtmp_members)
            .iter()
            .filter(|(k, s)| k.app == app && s.contains(user))
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// Starts mini-program member `user`'s ingest into `target` unless one runs.
    pub fn start_ingest(
        &self,
        svc: Weak<RoomService>,
        sfu: Weak<super::Sfu>,
        stats: Arc<ProcessStats>,
        key: &RoomKey,
        user: &UserId,
        target: super::ingest::Target,
    ) {
        let token = {
            let mut ingests = lock(&self.ingests);
            if ingests.contains_key(&(key.clone(), user.clone())) {
                return;
            }
            let token = self.root.child_token();
            ingests.insert((key.clone(), user.clone()), token.clone());
            token
        };
        let job = super::ingest::IngestJob::new(
            svc,
            sfu,
            key.clone(),
            user.clone(),
            self.ffmpeg.clone(),
            target,
        );
        let label = format!("ingest {}/{}", key.room, user);
        tracing::info!(room = %key.room, user = %user, "ingest starts");
        tokio::spawn(async move { ffmpeg::supervise(label, job, token, &stats).await });
    }

    /// Stops `user`'s ingest in `key`, if one runs; whether one did.
    pub fn stop_ingest(&self, key: &RoomKey, user: &UserId) -> bool {
        match lock(&self.ingests).remove(&(key.clone(), user.clone())) {
            Some(t) => {
                tracing::info!(room = %key.room, user = %user, "ingest stops");
                t.cancel();
                true
            }
            None => false,
        }
    }

    /// Stops every ingest of `key` (nobody left to watch them).
    pub fn stop_ingests(&self, key: &RoomKey) {
        lock(&self.ingests).retain(|(k, _), t| {
            if k == key {
                t.cancel();
                false
            } else {
                true
            }
        });
    }

    /// Stops `user`'s bridge in `key`, if one runs.
    pub fn stop(&self, key: &RoomKey, user: &UserId) {
        if let Some(t) = lock(&self.running).remove(&(key.clone(), user.clone())) {
            tracing::info!(room = %key.room, user = %user, "bridge stops");
            t.cancel();
        }
    }

    /// Stops every bridge of `key`.
    pub fn stop_room(&self, key: &RoomKey) {
        let mut running = lock(&self.running);
        running.retain(|(k, _), t| {
            if k == key {
                t.cancel();
                false
            } else {
                true
            }
        });
    }

    /// `key` closed: its bridges and ingests stop and its mini-program members are forgotten.
    pub fn forget_room(&self, key: &RoomKey) {
        self.stop_room(key);
        self.stop_ingests(key);
        lock(&self.rtmp_members).remove(key);
    }

    /// Stops every bridge and ingest (Janus went away: every forward and
    /// remote publisher is gone).
    pub fn stop_all(&self) {
        for (_, t) in lock(&self.running).drain() {
            t.cancel();
        }
        for (_, t) in lock(&self.ingests).drain() {
            t.cancel();
        }
    }
}

/// Two free consecutive UDP ports on 127.0.0.1, the first even (ffmpeg
/// reads RTP on it and RTCP on the next).
fn free_port_pair() -> std::io::Result<u16> {
    for _ in 0..64 {
        let probe = UdpSocket::bind("127.0.0.1:0")?;
        let base = probe.local_addr()?.port() & !1;
        drop(probe);
        if base < 1024 || base == u16::MAX - 1 {
            continue;
        }
        if let (Ok(_a), Ok(_b)) = (
            UdpSocket::bind(("127.0.0.1", base)),
            UdpSocket::bind(("127.0.0.1", base + 1)),
        ) {
            return Ok(base);
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::AddrInUse,
        "no free UDP port pair",
    ))
}

/// Whether someone (ffmpeg) holds UDP `port` on 127.0.0.1.
fn port_taken(port: u16) -> bool {
    matches!(UdpSocket::bind(("127.0.0.1", port)), Err(e) if e.kind() == std::io::ErrorKind::AddrInUse)
}

/// The minimal SDP ffmpeg reads the forward with.
fn forward_sdp(ports: &HashMap<TrackKind, u16>) -> String {
    let mut sdp = String::from(
        "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=rtcroom bridge\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n",
    );
    if let Some(p) = ports.get(&TrackKind::Audio) {
        sdp += &format!("m=audio {p} RTP/AVP {OPUS_PT}\r\na=rtpmap:{OPUS_PT} opus/48000/2\r\n");
    }
    if let Some(p) = ports.get(&TrackKind::Video) {
        sdp += &format!(
            "m=video {p} RTP/AVP {H264_PT}\r\na=rtpmap:{H264_PT} H264/90000\r\na=fmtp:{H264_PT} packetization-mode=1\r\n"
        );
    }
    sdp
}

/// ffmpeg's arguments: the forward (SDP) in, FLV with H.264 copied and AAC out.
fn ffmpeg_args(sdp: &str, audio: bool, url: &str) -> Vec<String> {
    let mut args: Vec<String> = [
        "-hide_banner",
        "-nostdin",
        "-nostats",
        "-loglevel",
        "warning",
        "-protocol_whitelist",
        "file,udp,rtp",
        "-fflags",
        "+genpts",
        "-use_wallclock_as_timestamps",
        "1",
        // Start pushing as soon as the keyframe asked for has come (the
        // stream's parameters are in the SDP and in its SPS).
        "-analyzeduration",
        "200000",
        "-fpsprobesize",
        "0",
        "-i",
        sdp,
        "-map",
        "0:v",
    ]
    .map(str::to_owned)
    .into();
    if audio {
        // Wall-clock timestamps jitter by a few ms: resample to them so the
        // AAC encoder gets monotonic audio (else "Queue input is backward in time").
        args.extend(
            [
                "-map",
                "0:a",
                "-af",
                "aresample=async=1000",
                "-c:a",
                "aac",
                "-b:a",
                "64k",
            ]
            .map(str::to_owned),
        );
    }
    args.extend(["-c:v", "copy", "-f", "flv", url].map(str::to_owned));
    args
}

struct BridgeJob {
    svc: Weak<RoomService>,
    user: UserKey,
    ffmpeg: String,
    admin_key: String,
    fwd: Forward,
    dir: Option<PathBuf>,
    ports: HashMap<TrackKind, u16>,
    forwarders: Vec<u64>,
}

impl BridgeJob {
    fn prepare(&mut self) -> std::io::Result<PathBuf> {
        if let Some(dir) = &self.dir {
            return Ok(dir.join("fwd.sdp"));
        }
        let mut b = [0u8; 6];
        getrandom::fill(&mut b).map_err(|e| std::io::Error::other(e.to_string()))?;
        let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
        let dir = std::env::temp_dir().join(format!("rtcroom-bridge-{hex}"));
        std::fs::create_dir_all(&dir)?;
        for t in &self.fwd.tracks {
            if let std::collections::hash_map::Entry::Vacant(e) = self.ports.entry(t.kind) {
                e.insert(free_port_pair()?);
            }
        }
        let path = dir.join("fwd.sdp");
        std::fs::write(&path, forward_sdp(&self.ports))?;
        self.dir = Some(dir);
        Ok(path)
    }

    async fn rtp_forward(&mut self) -> Result<(), String> {
        let streams: Vec<Value> = self
            .fwd
            .tracks
            .iter()
            .filter_map(|t| {
                let port = *self.ports.get(&t.kind)?;
                let pt = if t.kind == TrackKind::Audio {
                    OPUS_PT
                } else {
                    H264_PT
                };
                Some(json!({"mid": t.mid, "host": "127.0.0.1", "port": port, "pt": pt}))
            })
            .collect();
        let reply = self
            .fwd
            .janus
            .message(
                self.fwd.handle,
                json!({
                    "request": "rtp_forward",
                    "room": self.fwd.janus_room,
                    "publisher_id": self.fwd.feed,
                    "host": "127.0.0.1",
                    "admin_key": self.admin_key,
                    "streams": streams,
                }),
                None,
            )
            .await
            .map_err(|e| format!("rtp_forward: {e}"))?;
        self.forwarders = reply.data["forwarders"]
            .as_array()
            .map(|f| f.iter().filter_map(|f| f["stream_id"].as_u64()).collect())
            .unwrap_or_default();
        if self.forwarders.is_empty() {
            return Err(format!("rtp_forward made no forwarder: {}", reply.data));
        }
        Ok(())
    }
}

#[async_trait]
impl Job for BridgeJob {
    async fn command(&mut self) -> Option<CommandLine> {
        let svc = self.svc.upgrade()?;
        let now = now_ms();
        let Some(session) = svc.store.session_of_user(&self.user, now).await else {
            tracing::info!(user = %self.user.user, "no login session: the bridge ends");
            return None;
        };
        let stream = svc.stream_of(self.user.app, &self.user.user);
        let url = svc
            .signer()
            .push_url(&stream, &session.token, (now / 1000) as i64);
        let sdp = match self.prepare() {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!("bridge set-up failed: {e}");
                return None;
            }
        };
        let audio = self.ports.contains_key(&TrackKind::Audio);
        Some(CommandLine {
            program: self.ffmpeg.clone(),
            args: ffmpeg_args(&sdp.to_string_lossy(), audio, &url),
        })
    }

    async fn started(&mut self, child: &mut Child, _attempt: u64) -> Result<(), String> {
        // ffmpeg must hold its ports before Janus sends there (else its first
        // packets, the keyframe among them, are lost).
        let deadline = Instant::now() + Duration::from_secs(5);
        while !self.ports.values().all(|p| port_taken(*p)) {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!("ffmpeg exited at start: {status}"));
            }
            if Instant::now() > deadline {
                return Err("ffmpeg did not open its RTP ports within 5 s".into());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        if self.forwarders.is_empty() {
            self.rtp_forward().await?;
        }
        self.fwd
            .janus
            .message(
                self.fwd.handle,
                json!({"request": "configure", "keyframe": true}),
                None,
            )
            .await
            .map_err(|e| format!("keyframe request: {e}"))?;
        tracing::info!(user = %self.user.user, pid = child.id(), "bridge forwarding; keyframe asked");
        // ffmpeg writes nothing until it has probed the input (0.2 s of it):
        // a keyframe right after that opens the RTMP stream for players that
        // were already waiting (nginx-rtmp keeps no GOP).
        let (janus, handle) = (self.fwd.janus.clone(), self.fwd.handle);
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(400)).await;
            let _ = janus
                .message(
                    handle,
                    json!({"request": "configure", "keyframe": true}),
                    None,
                )
                .await;
        });
        Ok(())
    }

    async fn stopped(&mut self) {
        if !self.fwd.janus.closed().is_cancelled() {
            for id in std::mem::take(&mut self.forwarders) {
                let r = self
                    .fwd
                    .janus
                    .message(
                        self.fwd.handle,
                        json!({
                            "request": "stop_rtp_forward",
                            "room": self.fwd.janus_room,
                            "publisher_id": self.fwd.feed,
                            "stream_id": id,
                            "admin_key": self.admin_key,
                        }),
                        None,
                    )
                    .await;
                if let Err(e) = r {
                    // The publisher may be gone already, and its forwarders with it.
                    tracing::debug!("stop_rtp_forward: {e}");
                }
            }
        }
        if let Some(dir) = self.dir.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracks_come_from_janus_reply_or_else_the_offer() {
        let reply = json!({"streams": [
            {"type": "audio", "mid": "0", "codec": "opus"},
            {"type": "video", "mid": "1", "codec": "h264"},
            {"type": "data", "mid": "2"}]});
        let t = published_tracks(&reply, "");
        assert_eq!(t.len(), 2);
        assert_eq!((t[1].kind, t[1].mid.as_str()), (TrackKind::Video, "1"));
        let offer = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:a0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:v1\r\n";
        let t = published_tracks(&json!({}), offer);
        assert_eq!(
            t.iter()
                .map(|t| (t.kind, t.mid.as_str()))
                .collect::<Vec<_>>(),
            [(TrackKind::Audio, "a0"), (TrackKind::Video, "v1")]
        );
    }

    #[test]
    fn sdp_and_arguments_match_the_probed_recipe() {
        let ports = HashMap::from([(TrackKind::Audio, 5000), (TrackKind::Video, 5002)]);
        let sdp = forward_sdp(&ports);
        assert!(sdp.contains("m=audio 5000 RTP/AVP 111\r\na=rtpmap:111 opus/48000/2\r\n"));
        assert!(sdp.contains("m=video 5002 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"));
        let args = ffmpeg_args("/x/fwd.sdp", true, "rtmp://h/live/s?q").join(" ");
        assert!(args.contains("-fflags +genpts -use_wallclock_as_timestamps 1 "));
        assert!(args.contains(" -i /x/fwd.sdp -map 0:v -map 0:a "));
        assert!(args.contains(" -c:a aac "));
        assert!(args.ends_with("-c:v copy -f flv rtmp://h/live/s?q"));
    }

    #[test]
    fn port_pairs_are_even_and_free() {
        let p = free_port_pair().expect("ports");
        assert_eq!(p % 2, 0);
        assert!(!port_taken(p) && !port_taken(p + 1));
        let _held = UdpSocket::bind(("127.0.0.1", p)).expect("bind");
        assert!(port_taken(p));
    }
}
