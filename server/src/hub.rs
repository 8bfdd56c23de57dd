//! Node-local delivery of server frames to login sessions.
//!
//! Each session numbers its frames (`seq` 1, 2, 3, …), keeps the last few in a
//! replay buffer and hands them to its current WebSocket connection, if any.
//! A client that reconnects with `lastSeq=n` gets exactly the frames after `n`
//! when they are still buffered; otherwise `welcome{resumed:false}` and a
//! `resume_gap` frame (code 1019, how many frames were lost) tell it to
//! re-fetch. Events are serialized once per fan-out and given each recipient's
//! `seq` by splicing, so a 50-member room costs one `serde_json` call per
//! message, not fifty. Each recipient's frame is built in one allocation and
//! handed to the socket writer as is ([`Utf8Bytes`] shares the buffer with
//! the replay buffer; nothing is copied again on the way out).
//!
//! With a Redis store ([`crate::cluster`]) numbering and replay move to a
//! per-session Redis stream: `send` and `deliver` go through Redis, and the
//! hub is the pump from this node's inbox ([`Hub::push_numbered`]) and from
//! the session stream on attach ([`Hub::attach_remote`]) to local sockets.

use crate::shards::{lock, Shards};
use crate::store::UserKey;
use axum::extract::ws::Utf8Bytes;
use rtcroom_protocol::http::IceServer;
use rtcroom_protocol::ws::{ServerEvent, ServerFrame};
use rtcroom_protocol::{ApiError, ErrorCode};
use std::collections::VecDeque;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// A serialized event without its `seq`: a JSON object `{"type":…}`.
#[derive(Debug, Clone)]
pub struct Encoded(Arc<str>);

impl Encoded {
    /// Serializes an event once for any number of recipients.
    pub fn new(event: &ServerEvent) -> Self {
        Self::of(event)
    }

    /// An event serialized elsewhere (another node, through Redis).
    pub fn from_json(json: String) -> Self {
        Self(json.into())
    }

    /// Serializes anything that serializes as an event does (a JSON object
    /// whose first field is `type`), e.g. the SDP fast path's borrowed events.
    pub fn of<T: serde::Serialize>(event: &T) -> Self {
        // Serializing our own types of strings and integers into a String cannot fail.
        let json =
            serde_json::to_string(event).unwrap_or_else(|_| String::from("{\"type\":\"pong\"}"));
        Self(json.into())
    }

    /// The event's JSON, without a `seq`.
    pub fn as_json(&self) -> &str {
        &self.0
    }

    /// The frame text for one recipient: `{"seq":N,` + the event's fields.
    fn with_seq(&self, seq: u64) -> Utf8Bytes {
        // `self.0` is a serialized internally-tagged enum, so it starts with
        // `{"type":` and splicing `"seq":N,` after the brace keeps it valid.
        let body = self.0.strip_prefix('{').unwrap_or(&self.0);
        const HEAD: &str = "{\"seq\":";
        let digits = seq.checked_ilog10().map_or(1, |d| d as usize + 1);
        // Exactly sized, so the String becomes the frame's bytes without a copy.
        let mut text = String::with_capacity(HEAD.len() + digits + 1 + body.len());
        text.push_str(HEAD);
        let _ = write!(text, "{seq},"); // writing to a String cannot fail
        text.push_str(body);
        Utf8Bytes::from(text)
    }
}

/// What a connection's writer task receives.
#[derive(Debug)]
pub enum Outgoing {
    /// A frame to send as a text message.
    Frame(Utf8Bytes),
    /// Send this error (already in the queue as a frame) and close.
    Close(ApiError),
}

struct Conn {
    id: u64,
    tx: mpsc::Sender<Outgoing>,
}

struct Outbox {
    last_seq: u64,
    replay: VecDeque<(u64, Utf8Bytes)>,
    /// Bytes of the frames in `replay`.
    replay_bytes: usize,
    conn: Option<Conn>,
    ended: bool,
    /// Unix ms when the last connection went away (None while connected or never connected).
    disconnected_at: Option<u64>,
}

/// One login session's frame stream.
pub struct Session {
    /// The session's token.
    pub token: String,
    /// Its user.
    pub user: UserKey,
    replay_limit: ReplayLimit,
    outbox: Mutex<Outbox>,
}

/// How much of a session's past a resume can replay: at most `frames` frames
/// and `bytes` bytes of them (the newest frame is always kept). Without the
/// byte bound, 256 relayed SDP offers of 3.4 KB pinned 870 KB per session.
#[derive(Debug, Clone, Copy)]
pub struct ReplayLimit {
    /// Frames.
    pub frames: usize,
    /// Bytes.
    pub bytes: usize,
}

/// Result of attaching a connection.
pub struct Attached {
    /// Connection id (pass back to `detach`).
    pub conn_id: u64,
    /// Receives frames for this connection.
    pub rx: mpsc::Receiver<Outgoing>,
    /// Whether the requested resume was honoured.
    pub resumed: bool,
    /// The connection's queue, for waiting until it has room (it does not
    /// keep the queue open: the hub's drop still ends the writer).
    pub replies: mpsc::WeakSender<Outgoing>,
}

impl Session {
    /// Numbers, buffers and sends one event; false if the connection could not take it.
    fn push(&self, event: &Encoded, metrics_out: &AtomicU64) -> bool {
        let mut ob = lock(&self.outbox);
        if ob.ended {
            return true;
        }
        ob.last_seq += 1;
        let text = event.with_seq(ob.last_seq);
        let seq = ob.last_seq;
        ob.replay_bytes += text.len();
        ob.replay.push_back((seq, text.clone()));
        while ob.replay.len() > 1
            && (ob.replay.len() > self.replay_limit.frames
                || ob.replay_bytes > self.replay_limit.bytes)
        {
            if let Some((_, old)) = ob.replay.pop_front() {
                ob.replay_bytes -= old.len();
            }
        }
        Self::hand_over(&mut ob, text, metrics_out)
    }

    /// Sends a keep-alive answer without numbering or buffering it: it carries
    /// the last seq assigned (as `welcome` does), which clients take as
    /// nothing new. Numbered, the pongs of an idle member would fill its
    /// replay buffer (256 frames, ~18 KB) within the hour and push out the
    /// frames a resume needs.
    fn push_unsequenced(&self, event: &Encoded, metrics_out: &AtomicU64) -> bool {
        let mut ob = lock(&self.outbox);
        if ob.ended {
            return true;
        }
        let text = event.with_seq(ob.last_seq);
        Self::hand_over(&mut ob, text, metrics_out)
    }

    fn hand_over(ob: &mut Outbox, text: Utf8Bytes, metrics_out: &AtomicU64) -> bool {
        let Some(conn) = &ob.conn else { return true };
        match conn.tx.try_send(Outgoing::Frame(text)) {
            Ok(()) => {
                metrics_out.fetch_add(1, Ordering::Relaxed);
                true
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                ob.conn = None;
                true
            }
            Err(mpsc::error::TrySendError::Full(_)) => {
                // Too slow: drop the connection (its writer drains and closes);
                // the client resumes from the replay buffer when it comes back.
                ob.conn = None;
                false
            }
        }
    }

    /// Whether a connection is attached now.
    pub fn is_connected(&self) -> bool {
        lock(&self.outbox).conn.is_some()
    }

    /// Unix ms since when the session has had no connection (None: connected, or never was).
    pub fn disconnected_since(&self) -> Option<u64> {
        let ob = lock(&self.outbox);
        if ob.conn.is_some() {
            None
        } else {
            ob.disconnected_at
        }
    }
}

/// All sessions of this node.
#[derive(Default)]
pub struct Hub {
    sessions: Shards<UserKey, Arc<Session>>,
    next_conn: AtomicU64,
    /// Live connections.
    pub connections: AtomicUsize,
    /// Frames handed to connections.
    pub frames_out: AtomicU64,
    /// Connections dropped for being too slow.
    pub slow_consumers: AtomicU64,
    /// IM-style sockets that get a copy of each user's frames ([`crate::im_tap`]).
    pub taps: crate::im_tap::Taps,
    /// With a Redis store: numbering and delivery through Redis.
    cluster: Option<Arc<crate::cluster::Cluster>>,
}

impl Hub {
    /// Numbers and delivers through `cluster` from now on (a Redis store).
    pub fn set_cluster(&mut self, cluster: Arc<crate::cluster::Cluster>) {
        self.cluster = Some(cluster);
    }

    /// The cluster layer, with a Redis store.
    pub fn cluster(&self) -> Option<&Arc<crate::cluster::Cluster>> {
        self.cluster.as_ref()
    }

    /// Starts a session for `user`, ending (and returning) any previous one.
    pub fn open(
        &self,
        token: String,
        user: UserKey,
        replay_limit: ReplayLimit,
    ) -> Option<Arc<Session>> {
        let session = Arc::new(Session {
            token,
            user: user.clone(),
            replay_limit: ReplayLimit {
                frames: replay_limit.frames.max(1),
                bytes: replay_limit.bytes,
            },
            outbox: Mutex::new(Outbox {
                last_seq: 0,
                replay: VecDeque::new(),
                replay_bytes: 0,
                conn: None,
                ended: false,
                disconnected_at: None,
            }),
        });
        self.sessions.lock(&user).insert(user, session)
    }

    /// The user's current session.
    pub fn get(&self, user: &UserKey) -> Option<Arc<Session>> {
        self.sessions.lock(user).get(user).cloned()
    }

    /// The session of `user` if its token is `token`.
    pub fn get_with_token(&self, user: &UserKey, token: &str) -> Option<Arc<Session>> {
        self.get(user).filter(|s| s.token == token)
    }

    /// Removes the user's session if it is still the one with `token`.
    pub fn remove(&self, user: &UserKey, token: &str) -> Option<Arc<Session>> {
        let mut shard = self.sessions.lock(user);
        if shard.get(user).is_some_and(|s| s.token == token) {
            shard.remove(user)
        } else {
            None
        }
    }

    /// Gives back the session table's memory after a peak (see
    /// [`Shards::shrink_sparse`]); the sweeper calls it.
    pub fn shrink_sparse(&self) {
        self.sessions.shrink_sparse();
    }

    /// Number of sessions.
    pub fn session_count(&self) -> usize {
        self.sessions.all().map(|s| s.len()).sum()
    }

    /// Sends `event` to one session.
    pub fn send(&self, session: &Session, event: &Encoded) {
        if let Some(cluster) = &self.cluster {
            let to = vec![(session.user.user.clone(), Some(session.token.clone()))];
            return cluster.enqueue(session.user.app, to, event);
        }
        if !session.push(event, &self.frames_out) {
            self.slow_consumers.fetch_add(1, Ordering::Relaxed);
        }
        self.taps.copy(&session.user, event);
    }

    /// Sends a keep-alive answer (`pong`) to one session, unnumbered.
    pub fn send_unsequenced(&self, session: &Session, event: &Encoded) {
        if !session.push_unsequenced(event, &self.frames_out) {
            self.slow_consumers.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Sends `event` to each listed user's current session.
    pub fn deliver<'a>(
        &self,
        app: u64,
        users: impl IntoIterator<Item = &'a rtcroom_protocol::UserId>,
        event: &Encoded,
    ) {
        if let Some(cluster) = &self.cluster {
            let to = users.into_iter().map(|u| (u.clone(), None)).collect();
            return cluster.enqueue(app, to, event);
        }
        for user in users {
            let key = UserKey {
                app,
                user: user.clone(),
            };
            if let Some(session) = self.get(&key) {
                self.send(&session, event);
            }
        }
    }

    /// A frame numbered in Redis (`seq`) for session `token` of `user`, from
    /// this node's inbox: handed to the socket unless it already went out
    /// (a replay on attach overlaps the inbox); kept until the socket
    /// attaches when there is none yet.
    pub fn push_numbered(&self, user: &UserKey, token: &str, seq: u64, event: &Encoded) {
        let Some(session) = self.get_with_token(user, token) else {
            return;
        };
        let text = event.with_seq(seq);
        {
            let mut ob = lock(&session.outbox);
            if ob.ended || seq <= ob.last_seq {
                return;
            }
            if ob.conn.is_none() {
                ob.replay.push_back((seq, text));
                if ob.replay.len() > session.replay_limit.frames {
                    ob.replay.pop_front();
                }
            } else {
                ob.last_seq = seq;
                if !Session::hand_over(&mut ob, text, &self.frames_out) {
                    self.slow_consumers.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        // IM-style taps on this node see the frame whether or not a socket is attached.
        self.taps.copy(&session.user, event);
    }

    /// A fresh connection id (for [`Self::attach_remote`]).
    pub fn next_conn_id(&self) -> u64 {
        self.next_conn.fetch_add(1, Ordering::Relaxed)
    }

    /// [`Self::attach`] with a Redis store: the welcome carries the session
    /// stream's last seq, then come the frames `remote` read after `last_seq`,
    /// then those this node's inbox brought meanwhile.
    pub fn attach_remote(
        &self,
        session: &Session,
        conn_id: u64,
        last_seq: Option<u64>,
        remote: crate::cluster::RemoteAttach,
        queue: usize,
        ice_servers: Option<Vec<IceServer>>,
    ) -> Attached {
        let (tx, rx) = mpsc::channel(queue.max(16));
        let mut ob = lock(&session.outbox);
        let welcome = ServerFrame {
            seq: remote.last_seq,
            event: ServerEvent::Welcome {
                user_id: session.user.user.clone(),
                resumed: remote.resumed,
                ice_servers,
            },
        };
        let text = serde_json::to_string(&welcome).unwrap_or_default();
        let _ = tx.try_send(Outgoing::Frame(text.into()));
        if let Some(n) = last_seq.filter(|n| !remote.resumed && *n <= remote.last_seq) {
            let _ = tx.try_send(Outgoing::Frame(gap_frame(n, remote.last_seq)));
        }
        for frame in remote.frames {
            if tx.try_send(Outgoing::Frame(frame.into())).is_err() {
                break;
            }
        }
        ob.last_seq = remote.last_seq;
        for (seq, frame) in std::mem::take(&mut ob.replay) {
            if seq > ob.last_seq && tx.try_send(Outgoing::Frame(frame)).is_ok() {
                ob.last_seq = seq;
            }
        }
        ob.replay_bytes = 0;
        let replies = tx.downgrade();
        ob.conn = Some(Conn { id: conn_id, tx });
        ob.disconnected_at = None;
        Attached {
            conn_id,
            rx,
            resumed: remote.resumed,
            replies,
        }
    }

    /// Ends a session: its connection gets `error` (unsequenced by design:
    /// the session's numbering is over) and is closed.
    pub fn end(&self, session: &Session, why: ApiError) {
        let mut ob = lock(&session.outbox);
        ob.ended = true;
        if let Some(conn) = ob.conn.take() {
            let frame = ServerFrame {
                seq: ob.last_seq + 1,
                event: ServerEvent::Error {
                    req_id: None,
                    code: why.code,
                    message: why.message.clone(),
                },
            };
            let text = serde_json::to_string(&frame).unwrap_or_default();
            let _ = conn.tx.try_send(Outgoing::Frame(text.into()));
            let _ = conn.tx.try_send(Outgoing::Close(why));
        }
    }

    /// Attaches a new connection, replacing any other, and queues the welcome
    /// frame (with `ice_servers`, fresh TURN credentials, when given) followed
    /// by the replayed frames after `last_seq`.
    pub fn attach(
        &self,
        session: &Session,
        last_seq: Option<u64>,
        queue: usize,
        ice_servers: Option<Vec<IceServer>>,
    ) -> Attached {
        let (tx, rx) = mpsc::channel(queue.max(16));
        let conn_id = self.next_conn.fetch_add(1, Ordering::Relaxed);
        let mut ob = lock(&session.outbox);
        let oldest = ob
            .replay
            .front()
            .map(|(s, _)| *s)
            .unwrap_or(ob.last_seq + 1);
        let resumed = match last_seq {
            Some(n) => n <= ob.last_seq && n + 1 >= oldest,
            None => false,
        };
        let welcome = ServerFrame {
            seq: ob.last_seq,
            event: ServerEvent::Welcome {
                user_id: session.user.user.clone(),
                resumed,
                ice_servers,
            },
        };
        let text = serde_json::to_string(&welcome).unwrap_or_default();
        let _ = tx.try_send(Outgoing::Frame(text.into()));
        match last_seq {
            // Past the replay window: say so, and how much is lost. (A
            // lastSeq ahead of the session gets welcome{resumed:false} only.)
            Some(n) if !resumed && n <= ob.last_seq => {
                let _ = tx.try_send(Outgoing::Frame(gap_frame(n, ob.last_seq)));
            }
            _ => {}
        }
        if let (true, Some(n)) = (resumed, last_seq) {
            for (_, frame) in ob.replay.iter().filter(|(s, _)| *s > n) {
                // The channel is at least as large as the replay buffer only if
                // configured so; excess replay is dropped and the client sees a gap.
                if tx.try_send(Outgoing::Frame(frame.clone())).is_err() {
                    break;
                }
            }
        }
        let replies = tx.downgrade();
        if let Some(old) = ob.conn.replace(Conn { id: conn_id, tx }) {
            drop(old); // its writer drains and closes
        }
        ob.disconnected_at = None;
        Attached {
            conn_id,
            rx,
            resumed,
            replies,
        }
    }

    /// Detaches connection `conn_id` if it is still the current one.
    /// Detaches connection `conn_id`; true when the session is left without
    /// one (also when the hub had already dropped it as too slow or killed it),
    /// so the caller starts the grace period.
    pub fn detach(&self, session: &Session, conn_id: u64, now: u64) -> bool {
        let mut ob = lock(&session.outbox);
        if ob.conn.as_ref().is_some_and(|c| c.id == conn_id) {
            ob.conn = None;
        } else if ob.conn.is_some() {
            return false; // replaced by a newer connection
        }
        ob.disconnected_at.get_or_insert(now);
        !ob.ended
    }

    /// Drops the session's connection as a network failure would: the client
    /// is expected to reconnect and resume (debug mode, for resilience tests).
    pub fn drop_connection(&self, session: &Session) -> bool {
        lock(&session.outbox).conn.take().is_some()
    }
}

/// `resume_gap`: the frames after `n` up to `last` are no longer buffered.
fn gap_frame(n: u64, last: u64) -> Utf8Bytes {
    let missed = last - n;
    let gap = ServerFrame {
        seq: last,
        event: ServerEvent::ResumeGap {
            code: ErrorCode::ResumeGap.code(),
            message: format!(
                "{missed} frames after lastSeq {n} are no longer buffered: re-fetch the rooms"
            ),
            last_seq: n,
            missed,
        },
    };
    serde_json::to_string(&gap).unwrap_or_default().into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtcroom_protocol::UserId;

    fn user() -> UserKey {
        UserKey {
            app: 1,
            user: UserId::new("u").unwrap(),
        }
    }

    fn frames(n: usize) -> ReplayLimit {
        ReplayLimit {
            frames: n,
            bytes: usize::MAX,
        }
    }

    fn drain(rx: &mut mpsc::Receiver<Outgoing>) -> Vec<ServerFrame> {
        let mut out = Vec::new();
        while let Ok(Outgoing::Frame(t)) = rx.try_recv() {
            out.push(serde_json::from_str(&t).unwrap());
        }
        out
    }

    #[test]
    fn spliced_frames_parse_and_number_from_one() {
        let hub = Hub::default();
        hub.open("t".into(), user(), frames(8));
        let s = hub.get(&user()).unwrap();
        let mut a = hub.attach(&s, None, 16, None);
        hub.send(&s, &Encoded::new(&ServerEvent::Pong));
        hub.send(&s, &Encoded::new(&ServerEvent::Ack { req_id: 9 }));
        let frames = drain(&mut a.rx);
        assert_eq!(frames[0].seq, 0);
        assert!(matches!(
            frames[0].event,
            ServerEvent::Welcome { resumed: false, .. }
        ));
        assert_eq!((frames[1].seq, &frames[1].event), (1, &ServerEvent::Pong));
        assert_eq!(
            (frames[2].seq, &frames[2].event),
            (2, &ServerEvent::Ack { req_id: 9 })
        );
    }

    #[test]
    fn resume_replays_exactly_the_missed_frames() {
        let hub = Hub::default();
        hub.open("t".into(), user(), frames(4));
        let s = hub.get(&user()).unwrap();
        let a = hub.attach(&s, None, 16, None);
        assert!(hub.detach(&s, a.conn_id, 5));
        for i in 0..3 {
            hub.send(&s, &Encoded::new(&ServerEvent::Ack { req_id: i }));
        }
        let mut b = hub.attach(&s, Some(1), 16, None);
        assert!(b.resumed);
        let seqs: Vec<u64> = drain(&mut b.rx).iter().map(|f| f.seq).collect();
        assert_eq!(
            seqs,
            vec![3, 2, 3],
            "welcome carries the last seq, then 2 and 3"
        );
        // Too old: frames 1..=2 fell out of a 4-frame buffer after 3 more.
        for i in 0..3 {
            hub.send(&s, &Encoded::new(&ServerEvent::Ack { req_id: i }));
        }
        let c = hub.attach(&s, Some(1), 16, None);
        assert!(!c.resumed);
    }

    #[test]
    fn pongs_carry_the_last_seq_and_stay_out_of_the_replay_buffer() {
        let hub = Hub::default();
        hub.open("t".into(), user(), frames(4));
        let s = hub.get(&user()).unwrap();
        let mut a = hub.attach(&s, None, 64, None);
        hub.send(&s, &Encoded::new(&ServerEvent::Ack { req_id: 1 }));
        for _ in 0..10 {
            hub.send_unsequenced(&s, &Encoded::new(&ServerEvent::Pong));
        }
        hub.send(&s, &Encoded::new(&ServerEvent::Ack { req_id: 2 }));
        let seqs: Vec<u64> = drain(&mut a.rx).iter().map(|f| f.seq).collect();
        assert_eq!(seqs, [vec![0, 1], vec![1; 10], vec![2]].concat());
        // A resume from 0 still finds frame 1: ten pongs did not push it out.
        let mut b = hub.attach(&s, Some(0), 64, None);
        assert!(b.resumed);
        assert_eq!(drain(&mut b.rx).len(), 1 + 2);
    }

    #[test]
    fn the_replay_buffer_keeps_at_most_its_byte_limit() {
        let hub = Hub::default();
        let limit = ReplayLimit {
            frames: 256,
            bytes: 100,
        };
        hub.open("t".into(), user(), limit);
        let s = hub.get(&user()).unwrap();
        let a = hub.attach(&s, None, 64, None);
        assert!(hub.detach(&s, a.conn_id, 5));
        for i in 0..10 {
            hub.send(&s, &Encoded::new(&ServerEvent::Ack { req_id: i }));
        }
        // Each `{"seq":N,"type":"ack","reqID":N}` is ~33 bytes: three fit in 100.
        assert!(
            !hub.attach(&s, Some(6), 64, None).resumed,
            "frame 7 fell out"
        );
        let mut b = hub.attach(&s, Some(7), 64, None);
        assert!(b.resumed);
        let seqs: Vec<u64> = drain(&mut b.rx).iter().skip(1).map(|f| f.seq).collect();
        assert_eq!(seqs, [8, 9, 10]);
    }

    #[test]
    fn a_full_queue_drops_the_connection_not_the_frames() {
        let hub = Hub::default();
        hub.open("t".into(), user(), frames(64));
        let s = hub.get(&user()).unwrap();
        let _a = hub.attach(&s, None, 16, None);
        for i in 0..40 {
            hub.send(&s, &Encoded::new(&ServerEvent::Ack { req_id: i }));
        }
        assert!(!s.is_connected());
        assert_eq!(hub.slow_consumers.load(Ordering::Relaxed), 1);
        let mut b = hub.attach(&s, Some(10), 64, None);
        assert!(b.resumed);
        assert_eq!(drain(&mut b.rx).len(), 1 + 30);
    }
}
