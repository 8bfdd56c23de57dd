//! SFU rooms on Janus' VideoRoom: which rooms are in SFU mode, one Janus
//! room per such room, and per member a publisher handle and one multistream
//! subscriber handle opened on the member's behalf.
//!
//! * A room moves to SFU when a member enters past `sfu_threshold` (the Janus
//!   room is created *before* that member is admitted, so a Janus that cannot
//!   be reached refuses only that member, with `SfuUnavailable`); it stays SFU
//!   until it closes, when its Janus room is destroyed.
//! * `sfu_publish` joins the member as a publisher and publishes its offer;
//!   each new publisher is added to every other member's subscriber
//!   (`subscribe`, renegotiated through `sfu_offer` / `sfu_answer`; one offer
//!   outstanding per subscriber, later feeds wait for its answer).
//! * Trickle goes both ways; Janus' own events (its candidates, its
//!   renegotiations when a publisher leaves) reach the member as SFU frames.
//! * When the Janus connection drops, members hear `sfu_state lost`; once a
//!   connection is back, stale rooms of ours are destroyed, every SFU room is
//!   created anew and its members hear `sfu_state ready` (publish and
//!   subscribe again).
//!
//! Clients see userIDs and SDP only: Janus' session, handle, room and feed
//! ids and its secrets stay here.

use super::bridge::{published_tracks, Bridges, Forward, Track};
use super::janus::{HandleEvent, Janus, JanusError, Jsep, PluginReply};
use crate::config::MediaConfig;
use crate::hub::{Encoded, Session};
use crate::service::{Caller, RoomService};
use crate::store::{Departure, Joined, RoomKey, RoomKind};
use rtcroom_protocol::sfu::{
    RoomMode, SfuClientFrame, SfuLink, SfuServerEvent, SfuState, SfuStream, TrackKind,
};
use rtcroom_protocol::ws::IceCandidate;
use rtcroom_protocol::{ApiError, ErrorCode, UserId};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// First wait before reconnecting to Janus; it doubles up to [`RECONNECT_MAX`].
const RECONNECT_FIRST: Duration = Duration::from_millis(200);
/// Longest wait between two connection attempts: while Janus is down every
/// SFU room's media stalls, and the wait after it is back adds to that stall
/// (a 2 s cap was up to 2 s of the 1.3-3 s measured from a restarted Janus
/// listening to video again). A refused local connection costs nothing.
const RECONNECT_MAX: Duration = Duration::from_millis(500);
/// Prefix of the Janus rooms RoomService creates (reconciliation destroys
/// unknown ones with it: one RoomService per Janus).
const ROOM_PREFIX: &str = "rtcroom-";
const PLUGIN: &str = "janus.plugin.videoroom";

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn random_id(prefix: &str) -> String {
    let mut b = [0u8; 8];
    // The OS random source failing is not recoverable for a server minting ids.
    getrandom::fill(&mut b).expect("OS random source unavailable");
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{prefix}{hex}")
}

/// Whether an entry was admitted by creating the room's Janus room.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Admission {
    fresh: bool,
}

/// A member's subscriber handle.
struct Subscriber {
    handle: u64,
    /// Feeds it carries (or was asked to).
    feeds: HashSet<String>,
    /// Offers sent to the member, and answers it sent back. Janus offers on
    /// its own too (when a publisher leaves), so a second offer can cross an
    /// answer: the member answers every offer in order and only the answer
    /// to the latest one goes to Janus.
    offers: u64,
    answers: u64,
}

impl Subscriber {
    fn offer_pending(&self) -> bool {
        self.answers < self.offers
    }
}

/// A member's media on the Janus room.
struct Member {
    feed: String,
    publisher: Option<u64>,
    /// `publish` went to Janus (a new offer is a `configure`).
    publish_sent: bool,
    /// Its PeerConnection is up: Janus lets others subscribe to it only now.
    published: bool,
    subscriber: Option<Subscriber>,
    wants_subscriber: bool,
    /// Its published tracks (from the `configured` reply), for the RTMP bridge.
    tracks: Vec<Track>,
}

impl Member {
    fn new() -> Self {
        Self {
            feed: random_id("f"),
            publisher: None,
            publish_sent: false,
            published: false,
            subscriber: None,
            wants_subscriber: false,
            tracks: Vec::new(),
        }
    }
}

struct RoomState {
    /// The Janus room; `None` while Janus is away.
    janus_room: Option<String>,
    /// `room_mode sfu` was sent to the members.
    announced: bool,
    members: HashMap<UserId, Member>,
}

/// One SFU room.
struct RoomMedia {
    key: RoomKey,
    state: tokio::sync::Mutex<RoomState>,
    /// feed → member, readable by handle event tasks without the room lock.
    feeds: Mutex<HashMap<String, UserId>>,
}

impl RoomMedia {
    /// `feed` is no longer published: no member's subscriber carries it.
    fn forget_feed(&self, st: &mut RoomState, feed: &str) {
        lock(&self.feeds).remove(feed);
        for other in st.members.values_mut() {
            if let Some(sub) = &mut other.subscriber {
                sub.feeds.remove(feed);
            }
        }
    }
}

/// The SFU rooms of this RoomService and its Janus connection.
pub struct Sfu {
    cfg: MediaConfig,
    janus: Mutex<Option<Arc<Janus>>>,
    rooms: Mutex<HashMap<RoomKey, Arc<RoomMedia>>>,
    svc: OnceLock<Weak<RoomService>>,
    /// The RTMP bridge, when `ffmpeg` is configured.
    bridges: Option<Bridges>,
}

fn unavailable(e: &JanusError) -> ApiError {
    ApiError::with_message(
        ErrorCode::SfuUnavailable,
        format!(
            "{}: {}",
            ErrorCode::SfuUnavailable.message(),
            public_reason(e)
        ),
    )
}

fn refused(e: &JanusError) -> ApiError {
    match e {
        JanusError::Plugin { .. } | JanusError::Core { .. } | JanusError::Protocol(_) => {
            ApiError::with_message(
                ErrorCode::SfuRefused,
                format!("{}: {}", ErrorCode::SfuRefused.message(), public_reason(e)),
            )
        }
        _ => unavailable(e),
    }
}

/// What a client may read of a Janus failure: its kind and code, never
/// Janus' text (which can name rooms, feeds and handles).
fn public_reason(e: &JanusError) -> String {
    match e {
        JanusError::Connect(_) | JanusError::Closed => "not connected".into(),
        JanusError::Timeout(d) => format!("no answer within {d:?}"),
        JanusError::Core { code, .. } => format!("Janus error {code}"),
        JanusError::Plugin { code, .. } => format!("VideoRoom error {code}"),
        JanusError::Protocol(_) => "unexpected reply".into(),
    }
}

/// VideoRoom's "no such feed": a publisher gone, or whose PeerConnection is not up (any more).
const NO_SUCH_FEED: i64 = 428;

/// Runs a subscribe/join for `feeds`, leaving out each feed Janus says it
/// does not have (a publisher that left or hung up a moment ago) and trying
/// again, so one stale feed never keeps a member from the others. Returns
/// the reply and the feeds it covered.
async fn with_live_feeds<F, Fut>(
    mut feeds: Vec<String>,
    mut request: F,
) -> (Result<PluginReply, JanusError>, Vec<String>)
where
    F: FnMut(Vec<String>) -> Fut,
    Fut: std::future::Future<Output = Result<PluginReply, JanusError>>,
{
    loop {
        match request(feeds.clone()).await {
            Err(JanusError::Plugin { code, reason }) if code == NO_SUCH_FEED => {
                let before = feeds.len();
                feeds.retain(|f| !reason.contains(f.as_str()));
                if feeds.len() == before || feeds.is_empty() {
                    return (Err(JanusError::Plugin { code, reason }), feeds);
                }
                tracing::debug!("left a stale feed out of a subscription");
            }
            other => return (other, feeds),
        }
    }
}

/// Janus' SDP with its session name (`s=VideoRoom <room id>`) blanked, so
/// the Janus room id stays here.
fn scrub_sdp(sdp: String) -> String {
    if !sdp.contains("\ns=") && !sdp.starts_with("s=") {
        return sdp;
    }
    sdp.split_inclusive('\n')
        .map(|line| {
            if line.starts_with("s=") {
                if line.ends_with("\r\n") {
                    "s=-\r\n"
                } else {
                    "s=-\n"
                }
            } else {
                line
            }
        })
        .collect()
}

fn to_janus_candidate(c: &IceCandidate) -> Option<Value> {
    if c.candidate.is_empty() {
        return None;
    }
    let mut v = json!({"candidate": c.candidate});
    if let Some(mid) = &c.sdp_mid {
        v["sdpMid"] = json!(mid);
    }
    if let Some(i) = c.sdp_m_line_index {
        v["sdpMLineIndex"] = json!(i);
    }
    Some(v)
}

fn from_janus_candidate(c: Option<&Value>) -> IceCandidate {
    match c {
        None => IceCandidate {
            candidate: String::new(),
            sdp_mid: None,
            sdp_m_line_index: None,
            username_fragment: None,
        },
        Some(c) => IceCandidate {
            candidate: c["candidate"].as_str().unwrap_or_default().to_owned(),
            sdp_mid: c["sdpMid"].as_str().map(str::to_owned),
            sdp_m_line_index: c["sdpMLineIndex"].as_u64().map(|i| i as u16),
            username_fragment: None,
        },
    }
}

impl RoomMedia {
    /// The subscriber's active tracks, by member (Janus' feed ids left out).
    fn streams(&self, data: &Value) -> Vec<SfuStream> {
        let feeds = lock(&self.feeds);
        data["streams"]
            .as_array()
            .map(|streams| {
                streams
                    .iter()
                    .filter(|s| s["active"] != false)
                    .filter_map(|s| {
                        let kind = match s["type"].as_str()? {
                            "audio" => TrackKind::Audio,
                            "video" => TrackKind::Video,
                            _ => return None,
                        };
                        let user = feeds.get(s["feed_id"].as_str()?)?.clone();
                        Some(SfuStream {
                            mid: s["mid"].as_str()?.to_owned(),
                            user_id: user,
                            kind,
                        })
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Sfu {
    /// SFU rooms on the Janus of `cfg` (connected by [`Sfu::start`]).
    pub fn new(cfg: MediaConfig) -> Self {
        let bridges = cfg
            .ffmpeg
            .clone()
            .map(|f| Bridges::new(f, cfg.admin_key.clone()));
        Self {
            cfg,
            janus: Mutex::new(None),
            rooms: Mutex::new(HashMap::new()),
            svc: OnceLock::new(),
            bridges,
        }
    }

    /// Members an SFU-capable room holds.
    pub fn capacity(&self) -> usize {
        self.cfg.max_members_sfu
    }

    /// Connects to Janus and keeps connecting until `shutdown`.
    pub fn start(self: &Arc<Self>, svc: &Arc<RoomService>, shutdown: CancellationToken) {
        let _ = self.svc.set(Arc::downgrade(svc));
        if let Some(b) = &self.bridges {
            b.stop_on(shutdown.clone());
        }
        let me = self.clone();
        tokio::spawn(async move { me.supervise(shutdown).await });
    }

    /// Every Janus id RoomService holds now (session, handles, rooms, feeds):
    /// for tests asserting that none reaches a client.
    pub async fn janus_ids(&self) -> Vec<String> {
        let mut ids = Vec::new();
        if let Some(j) = lock(&self.janus).clone() {
            ids.push(j.session_id().to_string());
        }
        let rooms: Vec<_> = lock(&self.rooms).values().cloned().collect();
        for room in rooms {
            let st = room.state.lock().await;
            ids.extend(st.janus_room.clone());
            for m in st.members.values() {
                ids.push(m.feed.clone());
                ids.extend(m.publisher.map(|h| h.to_string()));
                ids.extend(m.subscriber.as_ref().map(|s| s.handle.to_string()));
            }
        }
        ids
    }

    /// The Janus room of an SFU room (for tests and metrics).
    pub async fn janus_room_of(&self, key: &RoomKey) -> Option<String> {
        let room = lock(&self.rooms).get(key).cloned()?;
        let st = room.state.lock().await;
        st.janus_room.clone()
    }

    fn current(&self) -> Result<Arc<Janus>, ApiError> {
        lock(&self.janus)
            .clone()
            .filter(|j| !j.closed().is_cancelled())
            .ok_or_else(|| unavailable(&JanusError::Closed))
    }

    fn service(&self) -> Option<Arc<RoomService>> {
        self.svc.get().and_then(Weak::upgrade)
    }

    fn send_to(&self, app: u64, user: &UserId, event: &SfuServerEvent) {
        if let Some(svc) = self.service() {
            svc.hub.deliver(app, [user], &Encoded::of(event));
        }
    }

    // ----- Janus connection -----

    async fn supervise(self: Arc<Self>, shutdown: CancellationToken) {
        let Some(url) = self.cfg.janus_url.clone() else {
            return;
        };
        let mut backoff = RECONNECT_FIRST;
        let mut warned = false;
        while !shutdown.is_cancelled() {
            let connected = tokio::select! {
                c = Janus::connect(&url, &self.cfg.api_secret) => c,
                _ = shutdown.cancelled() => break,
            };
            match connected {
                Ok(janus) => {
                    tracing::info!(url, "connected to Janus");
                    warned = false;
                    backoff = RECONNECT_FIRST;
                    *lock(&self.janus) = Some(janus.clone());
                    self.reconcile(&janus).await;
                    tokio::select! {
                        _ = janus.closed().cancelled() => {}
                        _ = shutdown.cancelled() => { janus.close(); break; }
                    }
                    tracing::warn!(url, "lost the Janus connection");
                    *lock(&self.janus) = None;
                    self.lost().await;
                }
                Err(e) => {
                    if !warned {
                        tracing::warn!(url, "Janus unreachable ({e}); retrying");
                        warned = true;
                    }
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(backoff) => {}
                _ = shutdown.cancelled() => break,
            }
            backoff = (backoff * 2).min(RECONNECT_MAX);
        }
        if let Some(j) = lock(&self.janus).take() {
            j.close();
        }
    }

    /// The RTMP bridge, when configured.
    pub fn bridges(&self) -> Option<&Bridges> {
        self.bridges.as_ref()
    }

    /// Janus went away: every handle is gone; members are told.
    async fn lost(&self) {
        if let Some(b) = &self.bridges {
            b.stop_all();
        }
        let rooms: Vec<_> = lock(&self.rooms).values().cloned().collect();
        for room in rooms {
            let mut st = room.state.lock().await;
            if st.janus_room.take().is_none() {
                continue;
            }
            for m in st.members.values_mut() {
                *m = Member::new();
            }
            lock(&room.feeds).clear();
            let users: Vec<UserId> = st.members.keys().cloned().collect();
            drop(st);
            self.tell_room(&room.key, users, SfuState::Lost).await;
        }
    }

    async fn tell_room(&self, key: &RoomKey, known: Vec<UserId>, state: SfuState) {
        let Some(svc) = self.service() else { return };
        let members: Vec<UserId> = match svc.store.members(key).await {
            Ok(m) => m.iter().map(|p| p.user_id.clone()).collect(),
            Err(_) => known,
        };
        let event = Encoded::of(&SfuServerEvent::SfuState {
            room_id: key.room.clone(),
            state,
        });
        svc.hub.deliver(key.app, &members, &event);
    }

    /// A (new) connection: destroy Janus rooms of ours that we no longer
    /// know, (re)create every SFU room, and tell members it is back.
    async fn reconcile(&self, janus: &Arc<Janus>) {
        let mut ours: HashSet<String> = HashSet::new();
        let rooms: Vec<_> = lock(&self.rooms).values().cloned().collect();
        for room in &rooms {
            if let Some(r) = &room.state.lock().await.janus_room {
                ours.insert(r.clone());
            }
        }
        match self.list_rooms(janus).await {
            Ok(listed) => {
                for r in listed
                    .into_iter()
                    .filter(|r| r.starts_with(ROOM_PREFIX) && !ours.contains(r))
                {
                    tracing::info!("destroying stale Janus room");
                    let _ = self.destroy_janus_room(janus, &r).await;
                }
            }
            Err(e) => tracing::warn!("listing Janus rooms failed: {e}"),
        }
        for room in rooms {
            let mut st = room.state.lock().await;
            if st.janus_room.is_some() {
                continue;
            }
            match self.create_janus_room(janus).await {
                Ok(r) => {
                    st.janus_room = Some(r);
                    self.start_ingests(&room, &st);
                    let users: Vec<UserId> = st.members.keys().cloned().collect();
                    drop(st);
                    self.tell_room(&room.key, users, SfuState::Ready).await;
                }
                Err(e) => {
                    tracing::warn!(room = %room.key.room, "re-creating the Janus room failed: {e}")
                }
            }
        }
    }

    /// A handle for room-level requests (create, destroy, list).
    async fn admin_handle(&self, janus: &Janus) -> Result<u64, JanusError> {
        let (h, _events) = janus.attach(PLUGIN).await?;
        Ok(h)
    }

    async fn list_rooms(&self, janus: &Janus) -> Result<Vec<String>, JanusError> {
        let h = self.admin_handle(janus).await?;
        let reply = janus
            .message(
                h,
                json!({"request": "list", "admin_key": self.cfg.admin_key}),
                None,
            )
            .await;
        let _ = janus.detach(h).await;
        let reply = reply?;
        Ok(reply.data["list"]
            .as_array()
            .map(|l| {
                l.iter()
                    .filter_map(|r| r["room"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn create_janus_room(&self, janus: &Janus) -> Result<String, JanusError> {
        let room = random_id(ROOM_PREFIX);
        let h = self.admin_handle(janus).await?;
        let reply = janus
            .message(
                h,
                json!({
                    "request": "create",
                    "room": room,
                    "admin_key": self.cfg.admin_key,
                    "permanent": false,
                    "is_private": true,
                    "publishers": self.cfg.max_members_sfu,
                    // Bridged to RTMP (H.264 only): browsers must send H.264,
                    // constrained baseline, the profile every Chromium has.
                    "videocodec": if self.bridges.is_some() { "h264" } else { "h264,vp8" },
                    "h264_profile": "42e01f",
                    "audiocodec": "opus",
                    // nginx-rtmp keeps no GOP: an RTMP player waits for the next keyframe.
                    "fir_freq": if self.bridges.is_some() { 1 } else { 2 },
                    "notify_joining": false,
                }),
                None,
            )
            .await;
        let _ = janus.detach(h).await;
        reply?;
        Ok(room)
    }

    async fn destroy_janus_room(&self, janus: &Janus, room: &str) -> Result<(), JanusError> {
        let h = self.admin_handle(janus).await?;
        let reply = janus
            .message(
                h,
                json!({"request": "destroy", "room": room, "admin_key": self.cfg.admin_key}),
                None,
            )
            .await;
        let _ = janus.detach(h).await;
        reply.map(drop)
    }

    // ----- room lifecycle (called by RoomService) -----

    /// Before a member enters: whether the room stays mesh, is SFU already,
    /// or must become SFU now — then its Janus room is created first, and a
    /// Janus that cannot be reached refuses this member only.
    /// With the RTMP bridge, a room with a mini-program member (`rtmp`: the
    /// newcomer is one) is SFU whatever its size.
    pub async fn admit(
        &self,
        svc: &RoomService,
        key: &RoomKey,
        kind: RoomKind,
        rtmp: bool,
    ) -> Result<Admission, ApiError> {
        if kind != RoomKind::Multi || lock(&self.rooms).contains_key(key) {
            return Ok(Admission { fresh: false });
        }
        let count = svc.store.members(key).await.map(|m| m.len()).unwrap_or(0);
        let bridged = self
            .bridges
            .as_ref()
            .is_some_and(|b| rtmp || b.has_rtmp_member(key));
        if count < self.cfg.sfu_threshold && !bridged {
            return Ok(Admission { fresh: false });
        }
        let janus = self.current()?;
        let janus_room = self
            .create_janus_room(&janus)
            .await
            .map_err(|e| unavailable(&e))?;
        let room = Arc::new(RoomMedia {
            key: key.clone(),
            state: tokio::sync::Mutex::new(RoomState {
                janus_room: Some(janus_room.clone()),
                announced: false,
                members: HashMap::new(),
            }),
            feeds: Mutex::new(HashMap::new()),
        });
        let raced = {
            let mut rooms = lock(&self.rooms);
            if rooms.contains_key(key) {
                true
            } else {
                rooms.insert(key.clone(), room);
                false
            }
        };
        if raced {
            let _ = self.destroy_janus_room(&janus, &janus_room).await;
            return Ok(Admission { fresh: false });
        }
        tracing::info!(room = %key.room, members = count + 1, "room moves to SFU");
        Ok(Admission { fresh: true })
    }

    /// The member was not admitted after all: a Janus room made for it alone goes.
    pub fn abandon(self: &Arc<Self>, key: &RoomKey, admission: Admission) {
        if admission.fresh {
            self.room_gone(key);
        }
    }

    /// After a member entered (and `pusher_join` went out): `room_mode sfu`
    /// to everyone when the room just moved, else to the newcomer.
    /// A mini-program member (`rtmp`) starts the bridges of the room's
    /// published browser members.
    pub async fn entered(
        &self,
        svc: &RoomService,
        key: &RoomKey,
        user: &UserId,
        joined: &Joined,
        rtmp: bool,
    ) {
        let Some(room) = lock(&self.rooms).get(key).cloned() else {
            return;
        };
        let mut st = room.state.lock().await;
        st.members.entry(user.clone()).or_insert_with(Member::new);
        if let (Some(b), true) = (&self.bridges, rtmp) {
            b.add_rtmp_member(key, user);
            let published: Vec<UserId> = st
                .members
                .iter()
                .filter(|(u, m)| m.published && !b.is_rtmp_member(key, u))
                .map(|(u, _)| u.clone())
                .collect();
            for u in published {
                self.start_bridge(&room, &st, &u);
            }
        }
        self.start_ingests(&room, &st);
        let event = Encoded::of(&SfuServerEvent::RoomMode {
            room_id: key.room.clone(),
            mode: RoomMode::Sfu,
        });
        if st.announced {
            svc.hub.deliver(key.app, [user], &event);
        } else {
            st.announced = true;
            let all = joined.room.pushers.iter().map(|p| &p.user_id);
            svc.hub.deliver(key.app, all, &event);
        }
    }

    /// Whether `key` is an SFU room.
    pub fn has_room(&self, key: &RoomKey) -> bool {
        lock(&self.rooms).contains_key(key)
    }

    /// `room_mode sfu` again to one member of an SFU room (it re-fetched the room).
    pub fn remind(&self, svc: &RoomService, key: &RoomKey, user: &UserId) {
        if lock(&self.rooms).contains_key(key) {
            let event = Encoded::of(&SfuServerEvent::RoomMode {
                room_id: key.room.clone(),
                mode: RoomMode::Sfu,
            });
            svc.hub.deliver(key.app, [user], &event);
        }
    }

    /// A member left (or the room closed with it): its handles go, or the
    /// whole Janus room when ours is gone.
    pub fn departed(self: &Arc<Self>, dep: &Departure) {
        if let Some(b) = &self.bridges {
            b.stop(&dep.room, &dep.pusher.user_id);
            let was_rtmp = b.stop_ingest(&dep.room, &dep.pusher.user_id)
                || b.is_rtmp_member(&dep.room, &dep.pusher.user_id);
            if !was_rtmp
                && !dep
                    .remaining
                    .iter()
                    .any(|u| !b.is_rtmp_member(&dep.room, u))
            {
                // The last browser member left: nobody watches the ingests.
                b.stop_ingests(&dep.room);
            }
            if b.remove_member(&dep.room, &dep.pusher.user_id) {
                // No mini-program member left: nobody watches the bridges.
                b.stop_room(&dep.room);
            }
            if dep.closed.is_some() || dep.remaining.is_empty() {
                b.forget_room(&dep.room);
            }
        }
        if !lock(&self.rooms).contains_key(&dep.room) {
            return;
        }
        if dep.closed.is_some() || dep.remaining.is_empty() {
            self.room_gone(&dep.room);
            return;
        }
        let Some(room) = lock(&self.rooms).get(&dep.room).cloned() else {
            return;
        };
        let user = dep.pusher.user_id.clone();
        let me = self.clone();
        tokio::spawn(async move {
            let mut st = room.state.lock().await;
            let Some(m) = st.members.remove(&user) else {
                return;
            };
            room.forget_feed(&mut st, &m.feed);
            drop(st);
            if let Ok(janus) = me.current() {
                for h in m
                    .publisher
                    .into_iter()
                    .chain(m.subscriber.map(|s| s.handle))
                {
                    let _ = janus.detach(h).await;
                }
            }
        });
    }

    /// Our room closed: its Janus room is destroyed.
    pub fn room_gone(self: &Arc<Self>, key: &RoomKey) {
        if let Some(b) = &self.bridges {
            b.forget_room(key);
        }
        let Some(room) = lock(&self.rooms).remove(key) else {
            return;
        };
        let me = self.clone();
        tokio::spawn(async move {
            let mut st = room.state.lock().await;
            let Ok(janus) = me.current() else { return };
            for m in std::mem::take(&mut st.members).into_values() {
                for h in m
                    .publisher
                    .into_iter()
                    .chain(m.subscriber.map(|s| s.handle))
                {
                    let _ = janus.detach(h).await;
                }
            }
            if let Some(r) = st.janus_room.take() {
                if let Err(e) = me.destroy_janus_room(&janus, &r).await {
                    tracing::warn!(room = %room.key.room, "destroying the Janus room failed: {e}");
                }
            }
        });
    }

    // ----- frames from members -----

    /// One SFU frame of a member.
    pub async fn handle(
        self: &Arc<Self>,
        svc: &RoomService,
        caller: &Caller,
        session: &Session,
        frame: SfuClientFrame,
    ) -> Result<(), ApiError> {
        let key = RoomKey {
            app: caller.key.app,
            room: frame.room_id().clone(),
        };
        let members = svc.store.members(&key).await?;
        if !members.iter().any(|p| p.user_id == caller.key.user) {
            return Err(ErrorCode::NotMember.into());
        }
        let room = lock(&self.rooms)
            .get(&key)
            .cloned()
            .ok_or_else(|| ApiError::new(ErrorCode::NotSfuRoom))?;
        let user = caller.key.user.clone();
        let send = |event: SfuServerEvent| svc.hub.send(session, &Encoded::of(&event));
        let mut st = room.state.lock().await;
        let janus_room = st
            .janus_room
            .clone()
            .ok_or_else(|| unavailable(&JanusError::Closed))?;
        let janus = self.current()?;
        st.members.entry(user.clone()).or_insert_with(Member::new);
        match frame {
            SfuClientFrame::SfuPublish {
                room_id,
                sdp,
                fresh,
            } => {
                if fresh {
                    self.drop_publisher(&room, &mut st, &janus, &user).await;
                }
                let (handle, feed, republish) = {
                    let m = st.members.get(&user).ok_or(ErrorCode::Internal)?;
                    (m.publisher, m.feed.clone(), m.publish_sent)
                };
                let handle = match handle {
                    Some(h) => h,
                    None => {
                        let (h, events) =
                            janus.attach(PLUGIN).await.map_err(|e| unavailable(&e))?;
                        let joined = janus
                            .message(
                                h,
                                json!({"request": "join", "ptype": "publisher", "room": janus_room, "id": feed}),
                                None,
                            )
                            .await;
                        if let Err(e) = joined {
                            let _ = janus.detach(h).await;
                            return Err(refused(&e));
                        }
                        self.watch(&room, &user, (SfuLink::Publisher, h), events);
                        if let Some(m) = st.members.get_mut(&user) {
                            m.publisher = Some(h);
                        }
                        h
                    }
                };
                let offered = published_tracks(&Value::Null, &sdp);
                let request = if republish { "configure" } else { "publish" };
                let reply = janus
                    .message(handle, json!({"request": request}), Some(Jsep::offer(sdp)))
                    .await
                    .map_err(|e| refused(&e))?;
                let mut tracks = published_tracks(&reply.data, "");
                if tracks.is_empty() {
                    tracks = offered;
                }
                let answer = reply.jsep.filter(|j| j.kind == "answer").ok_or_else(|| {
                    ApiError::with_message(ErrorCode::SfuRefused, "media server sent no answer")
                })?;
                send(SfuServerEvent::SfuAnswer {
                    room_id,
                    sdp: scrub_sdp(answer.sdp),
                });
                if let Some(m) = st.members.get_mut(&user) {
                    m.publish_sent = true;
                    m.tracks = tracks;
                }
                lock(&room.feeds).insert(feed, user.clone());
                // The others subscribe once its PeerConnection is up (`webrtcup`).
                Ok(())
            }
            SfuClientFrame::SfuSubscribe { restart, .. } => {
                // A browser member that entered before the room went SFU is
                // known here first: the mini-program members now have a viewer.
                self.start_ingests(&room, &st);
                let sub = st.members.get_mut(&user).map(|m| {
                    m.wants_subscriber = true;
                    m.subscriber.as_ref().map(|s| (s.handle, s.offer_pending()))
                });
                match sub.flatten() {
                    Some((handle, false)) if restart => {
                        let reply = janus
                            .message(
                                handle,
                                json!({"request": "configure", "restart": true}),
                                None,
                            )
                            .await
                            .map_err(|e| refused(&e))?;
                        self.offer_to(&room, &mut st, &user, reply);
                        Ok(())
                    }
                    Some(_) if restart => Ok(()), // the offer out is answered first
                    Some((handle, _)) => {
                        // A new subscriber connection: the old handle goes.
                        if let Some(m) = st.members.get_mut(&user) {
                            m.subscriber = None;
                        }
                        let _ = janus.detach(handle).await;
                        self.refresh_subscriber(&room, &mut st, &janus, &janus_room, &user)
                            .await
                            .map_err(|e| refused(&e))
                    }
                    None => self
                        .refresh_subscriber(&room, &mut st, &janus, &janus_room, &user)
                        .await
                        .map_err(|e| refused(&e)),
                }
            }
            SfuClientFrame::SfuAnswer { sdp, .. } => {
                let sub = st
                    .members
                    .get_mut(&user)
                    .and_then(|m| m.subscriber.as_mut())
                    .filter(|s| s.offer_pending())
                    .ok_or_else(|| {
                        ApiError::with_message(
                            ErrorCode::InvalidParameter,
                            "no subscriber offer awaits an answer",
                        )
                    })?;
                sub.answers += 1;
                if sub.offer_pending() {
                    return Ok(()); // the answer to an offer a newer one replaced
                }
                let handle = sub.handle;
                janus
                    .message(handle, json!({"request": "start"}), Some(Jsep::answer(sdp)))
                    .await
                    .map_err(|e| refused(&e))?;
                // Feeds that published while the offer was out (a failure is
                // logged there; the answer itself was taken).
                let _ = self
                    .refresh_subscriber(&room, &mut st, &janus, &janus_room, &user)
                    .await;
                Ok(())
            }
            SfuClientFrame::SfuCandidate {
                link, candidate, ..
            } => {
                let m = st.members.get(&user).ok_or(ErrorCode::Internal)?;
                let handle = match link {
                    SfuLink::Publisher => m.publisher,
                    SfuLink::Subscriber => m.subscriber.as_ref().map(|s| s.handle),
                }
                .ok_or_else(|| {
                    ApiError::with_message(
                        ErrorCode::InvalidParameter,
                        "that SFU connection is not open",
                    )
                })?;
                drop(st);
                janus
                    .trickle(handle, to_janus_candidate(&candidate))
                    .await
                    .map_err(|e| refused(&e))
            }
        }
    }

    /// Brings `user`'s subscriber up to date with the room's publishers:
    /// joins it with them (first time) or subscribes the missing ones, unless
    /// an offer is already out (the answer comes back here).
    async fn refresh_subscriber(
        self: &Arc<Self>,
        room: &Arc<RoomMedia>,
        st: &mut RoomState,
        janus: &Arc<Janus>,
        janus_room: &str,
        user: &UserId,
    ) -> Result<(), JanusError> {
        let published: Vec<String> = st
            .members
            .iter()
            .filter(|(u, m)| *u != user && m.published)
            .map(|(_, m)| m.feed.clone())
            .collect();
        let Some(m) = st.members.get_mut(user) else {
            return Ok(());
        };
        if !m.wants_subscriber {
            return Ok(());
        }
        let reply = match &mut m.subscriber {
            Some(sub) => {
                let missing: Vec<String> = published
                    .into_iter()
                    .filter(|f| !sub.feeds.contains(f))
                    .collect();
                if sub.offer_pending() || missing.is_empty() {
                    return Ok(());
                }
                let handle = sub.handle;
                let (reply, taken) = with_live_feeds(missing, |feeds| {
                    let streams: Vec<Value> = feeds.iter().map(|f| json!({"feed": f})).collect();
                    janus.message(
                        handle,
                        json!({"request": "subscribe", "streams": streams}),
                        None,
                    )
                })
                .await;
                match reply {
                    Ok(r) => {
                        sub.feeds.extend(taken);
                        r
                    }
                    Err(e) => {
                        tracing::warn!(user = %user, "subscribing new feeds failed: {e}");
                        return Err(e);
                    }
                }
            }
            None => {
                if published.is_empty() {
                    return Ok(()); // joined once someone publishes
                }
                let (h, events) = janus.attach(PLUGIN).await?;
                let (reply, taken) = with_live_feeds(published, |feeds| {
                    let streams: Vec<Value> = feeds.iter().map(|f| json!({"feed": f})).collect();
                    janus.message(
                        h,
                        json!({"request": "join", "ptype": "subscriber", "room": janus_room, "streams": streams}),
                        None,
                    )
                })
                .await;
                let reply = match reply {
                    Ok(r) => r,
                    Err(e) => {
                        let _ = janus.detach(h).await;
                        return Err(e);
                    }
                };
                m.subscriber = Some(Subscriber {
                    handle: h,
                    feeds: taken.into_iter().collect(),
                    offers: 0,
                    answers: 0,
                });
                self.watch(room, user, (SfuLink::Subscriber, h), events);
                reply
            }
        };
        self.offer_to(room, st, user, reply);
        Ok(())
    }

    /// Relays a subscriber offer from Janus to the member.
    fn offer_to(&self, room: &RoomMedia, st: &mut RoomState, user: &UserId, reply: PluginReply) {
        let Some(jsep) = reply.jsep.filter(|j| j.kind == "offer") else {
            return;
        };
        if let Some(sub) = st.members.get_mut(user).and_then(|m| m.subscriber.as_mut()) {
            sub.offers += 1;
        }
        self.send_to(
            room.key.app,
            user,
            &SfuServerEvent::SfuOffer {
                room_id: room.key.room.clone(),
                sdp: scrub_sdp(jsep.sdp),
                streams: room.streams(&reply.data),
            },
        );
    }

    /// A publisher's PeerConnection is up: every other member's subscriber
    /// gets its feed.
    async fn publisher_up(self: &Arc<Self>, room: &Arc<RoomMedia>, user: &UserId) {
        let mut st = room.state.lock().await;
        let (Some(janus_room), Ok(janus)) = (st.janus_room.clone(), self.current()) else {
            return;
        };
        match st.members.get_mut(user) {
            Some(m) => m.published = true,
            None => return,
        }
        if self
            .bridges
            .as_ref()
            .is_some_and(|b| b.has_rtmp_member(&room.key) && !b.is_rtmp_member(&room.key, user))
        {
            self.start_bridge(room, &st, user);
        }
        let others: Vec<UserId> = st.members.keys().filter(|u| *u != user).cloned().collect();
        for other in others {
            // A failure leaves that subscriber as it was; its next answer retries.
            let _ = self
                .refresh_subscriber(room, &mut st, &janus, &janus_room, &other)
                .await;
        }
    }

    /// Starts `user`'s RTMP bridge (its publisher is up; the room has a mini-program member).
    fn start_bridge(&self, room: &RoomMedia, st: &RoomState, user: &UserId) {
        let (Some(b), Some(svc), Some(m), Some(janus_room), Ok(janus)) = (
            &self.bridges,
            self.svc.get(),
            st.members.get(user),
            st.janus_room.clone(),
            self.current(),
        ) else {
            return;
        };
        let (Some(handle), true) = (m.publisher, m.published) else {
            return;
        };
        let Some(service) = svc.upgrade() else { return };
        let stats = service.metrics.bridges.clone();
        b.start(
            svc.clone(),
            stats,
            &room.key,
            user,
            Forward {
                janus,
                handle,
                janus_room,
                feed: m.feed.clone(),
                tracks: m.tracks.clone(),
            },
        );
    }

    /// Starts the ingest of each mini-program member of `room` when it has a
    /// browser member to watch them (and its Janus room is up).
    fn start_ingests(&self, room: &RoomMedia, st: &RoomState) {
        let (Some(b), Some(svc), Some(janus_room), Ok(janus)) = (
            &self.bridges,
            self.svc.get(),
            st.janus_room.clone(),
            self.current(),
        ) else {
            return;
        };
        let key = &room.key;
        if !st.members.keys().any(|u| !b.is_rtmp_member(key, u)) {
            return;
        }
        let Some(service) = svc.upgrade() else { return };
        let Some(me) = service.media.as_ref().map(Arc::downgrade) else {
            return;
        };
        for user in b.rtmp_members(key) {
            if !st.members.contains_key(&user) {
                continue;
            }
            b.start_ingest(
                svc.clone(),
                me.clone(),
                service.metrics.ingests.clone(),
                key,
                &user,
                super::ingest::Target {
                    janus: janus.clone(),
                    janus_room: janus_room.clone(),
                    // A feed id of its own: a restarted ingest never waits
                    // for its predecessor's remote publisher to go.
                    feed: random_id("r"),
                },
            );
        }
    }

    /// A mini-program member pushes again (nginx-rtmp accepted its publish):
    /// its ingests start over at once instead of waiting out a back-off.
    pub async fn rtmp_published(self: &Arc<Self>, app: u64, user: &UserId) {
        let Some(b) = &self.bridges else { return };
        for key in b.rooms_of_rtmp_member(app, user) {
            if !b.stop_ingest(&key, user) {
                continue;
            }
            let Some(room) = lock(&self.rooms).get(&key).cloned() else {
                continue;
            };
            // The old ingest removes its remote publisher as it stops; the
            // new one adds it again.
            tokio::time::sleep(Duration::from_millis(200)).await;
            let st = room.state.lock().await;
            self.start_ingests(&room, &st);
        }
    }

    /// A mini-program member's remote publisher is on the Janus room: the
    /// browser members subscribe to it like to any publisher.
    pub(super) async fn remote_publisher_up(
        self: &Arc<Self>,
        key: &RoomKey,
        user: &UserId,
        feed: &str,
    ) {
        let Some(room) = lock(&self.rooms).get(key).cloned() else {
            return;
        };
        let known = match room.state.lock().await.members.get_mut(user) {
            Some(m) => {
                m.feed = feed.to_owned();
                true
            }
            None => false,
        };
        if known {
            lock(&room.feeds).insert(feed.to_owned(), user.clone());
            self.publisher_up(&room, user).await;
        }
    }

    /// A mini-program member's remote publisher `feed` went (Janus tells the
    /// subscribers itself and renegotiates them).
    pub(super) async fn remote_publisher_down(&self, key: &RoomKey, user: &UserId, feed: &str) {
        let Some(room) = lock(&self.rooms).get(key).cloned() else {
            return;
        };
        let mut st = room.state.lock().await;
        if let Some(m) = st.members.get_mut(user).filter(|m| m.feed == feed) {
            m.published = false;
        }
        room.forget_feed(&mut st, feed);
    }

    /// `user`'s publisher connection is replaced by a new one (`sfu_publish
    /// {fresh}`): its old handle is detached (Janus unpublishes it and
    /// renegotiates the subscribers without it) and it publishes anew under a
    /// new feed id, so nothing of the old one can be taken for the new.
    async fn drop_publisher(
        &self,
        room: &RoomMedia,
        st: &mut RoomState,
        janus: &Janus,
        user: &UserId,
    ) {
        let Some(m) = st.members.get_mut(user) else {
            return;
        };
        let Some(handle) = m.publisher.take() else {
            return;
        };
        m.published = false;
        m.publish_sent = false;
        m.tracks.clear();
        let old = std::mem::replace(&mut m.feed, random_id("f"));
        if let Some(b) = &self.bridges {
            b.stop(&room.key, user);
        }
        room.forget_feed(st, &old);
        tracing::debug!(room = %room.key.room, user = %user, "SFU publisher replaced by a fresh one");
        let _ = janus.detach(handle).await;
    }

    /// Forwards what Janus says on its own about one handle to its member.
    fn watch(
        self: &Arc<Self>,
        room: &Arc<RoomMedia>,
        user: &UserId,
        (link, handle): (SfuLink, u64),
        mut events: tokio::sync::mpsc::UnboundedReceiver<HandleEvent>,
    ) {
        let sfu = self.clone();
        let room = room.clone();
        let user = user.clone();
        tokio::spawn(async move {
            while let Some(ev) = events.recv().await {
                match ev {
                    HandleEvent::Trickle(c) => sfu.send_to(
                        room.key.app,
                        &user,
                        &SfuServerEvent::SfuCandidate {
                            room_id: room.key.room.clone(),
                            link,
                            candidate: from_janus_candidate(c.as_ref()),
                        },
                    ),
                    HandleEvent::Plugin(reply) if link == SfuLink::Subscriber => {
                        // Janus renegotiates by itself when a publisher leaves.
                        if reply.jsep.as_ref().is_some_and(|j| j.kind == "offer") {
                            let mut st = room.state.lock().await;
                            let current = st.members.get(&user).and_then(|m| m.subscriber.as_ref());
                            // Not from a subscriber handle a fresh one replaced.
                            if current.is_some_and(|s| s.handle == handle) {
                                sfu.offer_to(&room, &mut st, &user, reply);
                            }
                        }
                    }
                    HandleEvent::Plugin(_) => {}
                    HandleEvent::WebrtcUp if link == SfuLink::Publisher => {
                        tracing::debug!(room = %room.key.room, user = %user, "SFU publisher up");
                        sfu.publisher_up(&room, &user).await;
                    }
                    HandleEvent::WebrtcUp => {
                        tracing::debug!(room = %room.key.room, user = %user, "SFU subscriber up")
                    }
                    HandleEvent::Hangup(reason) => {
                        tracing::debug!(room = %room.key.room, user = %user, ?link, reason, "SFU link hung up");
                        if link == SfuLink::Publisher {
                            // Janus unpublished it (and dropped its forwards); a
                            // new sfu_publish publishes anew.
                            if let Some(b) = &sfu.bridges {
                                b.stop(&room.key, &user);
                            }
                            let mut st = room.state.lock().await;
                            // Not about a handle a fresh publisher replaced.
                            let feed = st
                                .members
                                .get_mut(&user)
                                .filter(|m| m.publisher == Some(handle))
                                .map(|m| {
                                    m.published = false;
                                    m.publish_sent = false;
                                    m.feed.clone()
                                });
                            if let Some(feed) = feed {
                                for other in st.members.values_mut() {
                                    if let Some(sub) = &mut other.subscriber {
                                        sub.feeds.remove(&feed);
                                    }
                                }
                            }
                        }
                    }
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdp_session_name_is_blanked() {
        let sdp =
            "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=VideoRoom rtcroom-abc\r\nt=0 0\r\n".to_owned();
        assert_eq!(
            scrub_sdp(sdp),
            "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nt=0 0\r\n"
        );
    }
}
