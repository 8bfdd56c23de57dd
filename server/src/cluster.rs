//! Several RoomService nodes sharing rooms through Redis: delivery across
//! nodes, the node registry, and resume on any node.
//!
//! - **Numbering.** A session's frames are numbered in Redis, not in a node:
//!   [`crate::hub::Hub::deliver`] and [`crate::hub::Hub::send`] hand each
//!   event to [`Cluster::enqueue`]; one task per node sends the queue in
//!   pipelines of `deliver.lua`, which gives every recipient's session the
//!   next `seq`, appends the frame to that session's stream
//!   (`rtc:ss:{token}`, entry ID `0-seq`, the last `replay_frames` kept) and,
//!   once per node, the event and its `(user, token, seq)` list to the inbox
//!   stream of each node holding a recipient's socket (`rtc:inbox:{node}`).
//!   One script per event: all sessions see the events of all nodes in one
//!   order. A delivery carries an id, so a pipeline retried after a lost
//!   connection numbers nothing twice.
//! - **Inbox.** Each node reads its inbox with `XREAD BLOCK` on a connection
//!   of its own, from the last entry it read (a reconnect loses nothing), and
//!   hands frames to local sockets ([`crate::hub::Hub::push_numbered`]).
//! - **Resume anywhere.** A socket attaching runs `attach.lua`: the session's
//!   frames go to this node's inbox from then on, and the frames after
//!   `lastSeq` come back from the session stream.
//! - **Registry.** `rtc:node:{id}` is refreshed every third of
//!   `store.node_ttl_ms`; a session whose node key lapsed counts as
//!   disconnected, so the other nodes' sweepers time its members out.
//!
//! Cost per event: one script (pipelined) plus one inbox entry per node
//! with recipients, and one `XREAD` answer on each such node.

use crate::config::StoreConfig;
use crate::hub::Encoded;
use crate::service::RoomService;
use crate::store::redis_store::{script, unavailable, RedisStats, PREFIX};
use crate::store::UserKey;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::streams::{StreamReadOptions, StreamReadReply};
use redis::{AsyncCommands, Script};
use rtcroom_protocol::{ApiError, UserId};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Events waiting for the deliverer at most (beyond: dropped and counted).
const QUEUE: usize = 65_536;
/// Deliveries sent in one pipeline at most.
const BATCH: usize = 256;
/// How long one `XREAD` blocks (milliseconds).
const BLOCK_MS: usize = 1_000;
/// A delivery is retried this long while Redis is unreachable, then dropped.
const RETRY_FOR: Duration = Duration::from_secs(30);

/// One event for a list of recipients: `(user, Some(token))` is that session
/// only (answers to a connection), `(user, None)` the user's current session.
struct Delivery {
    id: u64,
    app: u64,
    body: Encoded,
    to: Vec<(UserId, Option<String>)>,
}

/// What attaching a socket found in the session stream.
#[derive(Debug)]
pub struct RemoteAttach {
    /// The session's last seq.
    pub last_seq: u64,
    /// Whether the frames after the asked `lastSeq` are all here.
    pub resumed: bool,
    /// Those frames, numbered, oldest first.
    pub frames: Vec<String>,
}

/// Counters of the cluster layer (`/metrics`).
#[derive(Debug, Default)]
pub struct ClusterStats {
    /// Events handed to Redis.
    pub deliveries: AtomicU64,
    /// Frames for sockets on other nodes.
    pub cross_node_out: AtomicU64,
    /// Frames for sockets on this node that went through Redis.
    pub same_node_out: AtomicU64,
    /// Frames read from this node's inbox.
    pub inbox_in: AtomicU64,
    /// Pipelines sent again after a failure.
    pub retries: AtomicU64,
    /// Events given up on (queue full, or Redis away past the retry time).
    pub dropped: AtomicU64,
}

/// This node's cluster layer.
pub struct Cluster {
    node: String,
    boot: String,
    url: String,
    replay_frames: usize,
    node_ttl_ms: u64,
    con: ConnectionManager,
    /// Round trips and errors of this node (store and cluster).
    pub redis: Arc<RedisStats>,
    /// Delivery counters.
    pub stats: ClusterStats,
    deliver: Script,
    attach: Script,
    detach: Script,
    attached: Script,
    next_id: AtomicU64,
    tx: mpsc::Sender<Delivery>,
    rx: Mutex<Option<mpsc::Receiver<Delivery>>>,
}

fn manager_config() -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_connection_timeout(Duration::from_secs(1))
        .set_response_timeout(Duration::from_millis(BLOCK_MS as u64 + 2_000))
        .set_number_of_retries(2)
        .set_max_delay(500)
}

impl Cluster {
    /// Connects to Redis (failing when it cannot be reached now) and returns
    /// the cluster layer and the store sharing its connection.
    pub async fn connect(
        store: &StoreConfig,
        replay_frames: usize,
    ) -> anyhow::Result<(Arc<Self>, crate::store::RedisStore)> {
        let client = redis::Client::open(store.url.as_str())?;
        let con = ConnectionManager::new_with_config(client, manager_config()).await?;
        let redis = Arc::new(RedisStats::default());
        let (tx, rx) = mpsc::channel(QUEUE);
        let mut boot = [0u8; 6];
        getrandom::fill(&mut boot)?;
        let cluster = Arc::new(Self {
            node: store.node_id.clone(),
            boot: boot.iter().fold(String::new(), |mut s, b| {
                let _ = write!(s, "{b:02x}");
                s
            }),
            url: store.url.clone(),
            replay_frames: replay_frames.max(1),
            node_ttl_ms: store.node_ttl_ms,
            con: con.clone(),
            redis: redis.clone(),
            stats: ClusterStats::default(),
            deliver: script(include_str!("store/lua/deliver.lua")),
            attach: script(include_str!("store/lua/attach.lua")),
            detach: script(include_str!("store/lua/detach.lua")),
            attached: script(include_str!("store/lua/attached.lua")),
            next_id: AtomicU64::new(0),
            tx,
            rx: Mutex::new(Some(rx)),
        });
        cluster.register().await?;
        Ok((cluster, crate::store::RedisStore::new(con, redis)))
    }

    /// This node's id.
    pub fn node(&self) -> &str {
        &self.node
    }

    async fn register(&self) -> redis::RedisResult<()> {
        let mut con = self.con.clone();
        self.redis.round_trips.fetch_add(1, Ordering::Relaxed);
        let key = format!("{PREFIX}node:{}", self.node);
        con.pset_ex(key, &self.boot, self.node_ttl_ms).await
    }

    /// Queues `body` for the recipients (never waits: a full queue drops it and counts).
    pub fn enqueue(&self, app: u64, to: Vec<(UserId, Option<String>)>, body: &Encoded) {
        if to.is_empty() {
            return;
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let d = Delivery {
            id,
            app,
            body: body.clone(),
            to,
        };
        if self.tx.try_send(d).is_err() {
            self.stats.dropped.fetch_add(1, Ordering::Relaxed);
            tracing::warn!("cluster delivery queue full: event dropped");
        }
    }

    /// Starts the registry heartbeat, the deliverer and the inbox reader.
    pub fn start(self: &Arc<Self>, svc: Arc<RoomService>, shutdown: CancellationToken) {
        let me = self.clone();
        let stop = shutdown.clone();
        tokio::spawn(async move {
            let mut tick =
                tokio::time::interval(Duration::from_millis((me.node_ttl_ms / 3).max(100)));
            loop {
                tokio::select! {
                    _ = tick.tick() => {
                        if let Err(e) = me.register().await {
                            unavailable(&me.redis, &e);
                        }
                    }
                    _ = stop.cancelled() => break,
                }
            }
        });
        let rx = crate::shards::lock(&self.rx).take();
        if let Some(rx) = rx {
            tokio::spawn(self.clone().deliverer(rx, shutdown.clone()));
        }
        tokio::spawn(self.clone().inbox_reader(svc, shutdown));
    }

    fn invocation<'a>(&'a self, d: &Delivery) -> redis::ScriptInvocation<'a> {
        let mut inv = self.deliver.prepare_invoke();
        inv.arg(format!("{}:{}:{}", self.node, self.boot, d.id))
            .arg(d.app)
            .arg(d.body.as_json())
            .arg(self.replay_frames);
        for (user, token) in &d.to {
            inv.arg(user.as_str()).arg(token.as_deref().unwrap_or(""));
        }
        inv
    }

    async fn deliverer(self: Arc<Self>, mut rx: mpsc::Receiver<Delivery>, stop: CancellationToken) {
        let mut con = self.con.clone();
        let mut batch = Vec::with_capacity(BATCH);
        loop {
            let first = tokio::select! {
                d = rx.recv() => d,
                _ = stop.cancelled() => None,
            };
            let Some(first) = first else { return };
            batch.push(first);
            while batch.len() < BATCH {
                match rx.try_recv() {
                    Ok(d) => batch.push(d),
                    Err(_) => break,
                }
            }
            self.send_batch(&mut con, &batch).await;
            batch.clear();
        }
    }

    /// Sends one pipeline of deliveries, again until it is through (each
    /// delivery is idempotent by id) or Redis stayed away past [`RETRY_FOR`].
    async fn send_batch(&self, con: &mut ConnectionManager, batch: &[Delivery]) {
        let started = tokio::time::Instant::now();
        let mut backoff = Duration::from_millis(20);
        loop {
            let mut pipe = redis::pipe();
            let invocations: Vec<_> = batch.iter().map(|d| self.invocation(d)).collect();
            for inv in &invocations {
                pipe.invoke_script(inv);
            }
            self.redis.round_trips.fetch_add(1, Ordering::Relaxed);
            match pipe.query_async::<Vec<(u64, Vec<String>)>>(&mut *con).await {
                Ok(results) => {
                    self.stats
                        .deliveries
                        .fetch_add(batch.len() as u64, Ordering::Relaxed);
                    for (_, remote) in results {
                        for pair in remote.chunks(2) {
                            let n: u64 = pair.get(1).and_then(|n| n.parse().ok()).unwrap_or(0);
                            let counter = if pair[0] == self.node {
                                &self.stats.same_node_out
                            } else {
                                &self.stats.cross_node_out
                            };
                            counter.fetch_add(n, Ordering::Relaxed);
                        }
                    }
                    return;
                }
                Err(e) if e.kind() == redis::ErrorKind::NoScriptError => {
                    // Redis restarted (or flushed its scripts): load and go again.
                    self.redis.round_trips.fetch_add(1, Ordering::Relaxed);
                    if let Err(e) = self.deliver.prepare_invoke().load_async(con).await {
                        unavailable(&self.redis, &e);
                    }
                }
                Err(e) => {
                    unavailable(&self.redis, &e);
                    if started.elapsed() > RETRY_FOR {
                        self.stats
                            .dropped
                            .fetch_add(batch.len() as u64, Ordering::Relaxed);
                        tracing::error!(
                            "redis away for {RETRY_FOR:?}: {} events dropped",
                            batch.len()
                        );
                        return;
                    }
                    self.stats.retries.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_millis(500));
                }
            }
        }
    }

    async fn inbox_reader(self: Arc<Self>, svc: Arc<RoomService>, stop: CancellationToken) {
        let key = format!("{PREFIX}inbox:{}", self.node);
        let mut con = loop {
            let made = match redis::Client::open(self.url.as_str()) {
                Ok(client) => ConnectionManager::new_with_config(client, manager_config()).await,
                Err(e) => Err(e),
            };
            match made {
                Ok(con) => break con,
                Err(e) => {
                    unavailable(&self.redis, &e);
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_millis(200)) => {}
                        _ = stop.cancelled() => return,
                    }
                }
            }
        };
        // Start after what is there: older entries were for this node's previous life.
        let mut last = loop {
            self.redis.round_trips.fetch_add(1, Ordering::Relaxed);
            let newest: redis::RedisResult<redis::streams::StreamRangeReply> =
                con.xrevrange_count(&key, "+", "-", 1).await;
            match newest {
                Ok(r) => break r.ids.first().map_or("0-0".to_owned(), |e| e.id.clone()),
                Err(e) => {
                    unavailable(&self.redis, &e);
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        };
        let opts = StreamReadOptions::default().block(BLOCK_MS).count(512);
        loop {
            self.redis.round_trips.fetch_add(1, Ordering::Relaxed);
            let (keys, ids) = ([&key], [&last]);
            let read = tokio::select! {
                r = con.xread_options::<_, _, Option<StreamReadReply>>(&keys, &ids, &opts) => r,
                _ = stop.cancelled() => return,
            };
            let reply = match read {
                Ok(Some(reply)) => reply,
                Ok(None) => continue,
                Err(e) => {
                    unavailable(&self.redis, &e);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            for entry in reply.keys.into_iter().flat_map(|k| k.ids) {
                last.clone_from(&entry.id);
                if let (Some(app), Some(user), Some(token)) = (
                    entry.get::<u64>("app"),
                    entry.get::<String>("user"),
                    entry.get::<String>("end"),
                ) {
                    let Ok(user) = UserId::new(user) else {
                        continue;
                    };
                    if let Some(s) = svc.hub.remove(&UserKey { app, user }, &token) {
                        let replaced = rtcroom_protocol::ErrorCode::SessionReplaced;
                        svc.hub.end(&s, replaced.into());
                    }
                    continue;
                }
                let (Some(app), Some(body), Some(to)) = (
                    entry.get::<u64>("app"),
                    entry.get::<String>("body"),
                    entry.get::<String>("to"),
                ) else {
                    continue;
                };
                let body = Encoded::from_json(body);
                let mut fields = to.split('\n');
                while let (Some(user), Some(token), Some(seq)) =
                    (fields.next(), fields.next(), fields.next())
                {
                    let (Ok(user), Ok(seq)) = (UserId::new(user), seq.parse::<u64>()) else {
                        continue;
                    };
                    self.stats.inbox_in.fetch_add(1, Ordering::Relaxed);
                    svc.hub
                        .push_numbered(&UserKey { app, user }, token, seq, &body);
                }
            }
        }
    }

    /// Attaches a socket of `token` (connection `conn_id`) on this node and
    /// reads the frames after `last_seq` from the session stream.
    pub async fn attach_socket(
        &self,
        token: &str,
        conn_id: u64,
        last_seq: Option<u64>,
    ) -> Result<RemoteAttach, ApiError> {
        let mut inv = self.attach.prepare_invoke();
        inv.arg(token)
            .arg(&self.node)
            .arg(last_seq.map(|n| n.to_string()).unwrap_or_default())
            .arg(format!("{}:{conn_id}", self.boot));
        let mut con = self.con.clone();
        self.redis.round_trips.fetch_add(1, Ordering::Relaxed);
        let v: Vec<redis::Value> = inv
            .invoke_async(&mut con)
            .await
            .map_err(|e| unavailable(&self.redis, &e))?;
        let int = |i: usize| {
            v.get(i)
                .and_then(|x| redis::from_redis_value::<i64>(x).ok())
                .unwrap_or(0)
        };
        if int(0) < 0 {
            return Err(ApiError::with_message(
                rtcroom_protocol::ErrorCode::AuthFailed,
                "session ended",
            ));
        }
        let frames = v
            .iter()
            .skip(2)
            .filter_map(|x| redis::from_redis_value::<String>(x).ok())
            .collect();
        Ok(RemoteAttach {
            last_seq: int(0) as u64,
            resumed: int(1) == 1,
            frames,
        })
    }

    /// Records that connection `conn_id` of `token` on this node closed at `now`.
    pub async fn detach_socket(&self, token: &str, conn_id: u64, now: u64) {
        let mut inv = self.detach.prepare_invoke();
        inv.arg(token)
            .arg(format!("{}:{conn_id}", self.boot))
            .arg(now);
        let mut con = self.con.clone();
        self.redis.round_trips.fetch_add(1, Ordering::Relaxed);
        if let Err(e) = inv.invoke_async::<i64>(&mut con).await {
            unavailable(&self.redis, &e);
        }
    }

    /// Where a session's socket is: `(connected on a live node, node id)`;
    /// `token` None asks about the user's current session.
    pub async fn socket_of(&self, user: &UserKey, token: Option<&str>) -> (bool, String) {
        let (connected, node, _) = self.session_socket(user, token).await;
        (connected, node)
    }

    /// [`Self::socket_of`] and the session's token.
    async fn session_socket(&self, user: &UserKey, token: Option<&str>) -> (bool, String, String) {
        let mut inv = self.attached.prepare_invoke();
        inv.arg(token.unwrap_or(""))
            .arg(user.app)
            .arg(user.user.as_str());
        let mut con = self.con.clone();
        self.redis.round_trips.fetch_add(1, Ordering::Relaxed);
        match inv.invoke_async::<(i64, String, String)>(&mut con).await {
            Ok((c, node, token)) => (c == 1, node, token),
            Err(e) => {
                unavailable(&self.redis, &e);
                // Unknown: say connected, so nobody is evicted while Redis is away.
                (true, String::new(), String::new())
            }
        }
    }

    /// The user's current session and the node its socket is on, when that is
    /// another node (asked before a new login replaces it).
    pub async fn session_elsewhere(&self, user: &UserKey) -> Option<(String, String)> {
        let (_, node, token) = self.session_socket(user, None).await;
        (!node.is_empty() && node != self.node && !token.is_empty()).then_some((token, node))
    }

    /// Tells `node` that session `token` of `user` was replaced by a newer
    /// login: its socket there gets 1009 and closes.
    pub async fn end_on(&self, node: &str, user: &UserKey, token: &str) {
        let mut con = self.con.clone();
        self.redis.round_trips.fetch_add(1, Ordering::Relaxed);
        let added: redis::RedisResult<String> = redis::cmd("XADD")
            .arg(format!("{PREFIX}inbox:{node}"))
            .arg("*")
            .arg("app")
            .arg(user.app)
            .arg("user")
            .arg(user.user.as_str())
            .arg("end")
            .arg(token)
            .query_async(&mut con)
            .await;
        if let Err(e) = added {
            unavailable(&self.redis, &e);
        }
    }

    /// The cluster's lines of `/metrics`.
    pub fn render(&self, out: &mut String) {
        let c = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let lines = [
            (
                "rtcroom_cluster_deliveries_total",
                "Events handed to Redis for numbering and delivery.",
                c(&self.stats.deliveries),
            ),
            (
                "rtcroom_cluster_cross_node_frames_total",
                "Frames for sockets on other nodes.",
                c(&self.stats.cross_node_out),
            ),
            (
                "rtcroom_cluster_same_node_frames_total",
                "Frames for sockets on this node, through Redis.",
                c(&self.stats.same_node_out),
            ),
            (
                "rtcroom_cluster_inbox_frames_total",
                "Frames read from this node's inbox stream.",
                c(&self.stats.inbox_in),
            ),
            (
                "rtcroom_cluster_delivery_retries_total",
                "Delivery pipelines sent again after a Redis failure.",
                c(&self.stats.retries),
            ),
            (
                "rtcroom_cluster_dropped_total",
                "Events given up on (queue full or Redis away too long).",
                c(&self.stats.dropped),
            ),
            (
                "rtcroom_redis_round_trips_total",
                "Commands, scripts and pipelines sent to Redis.",
                c(&self.redis.round_trips),
            ),
            (
                "rtcroom_redis_errors_total",
                "Redis round trips that failed.",
                c(&self.redis.errors),
            ),
        ];
        for (name, help, value) in lines {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name}{{node=\"{}\"}} {value}",
                self.node
            );
        }
    }
}
