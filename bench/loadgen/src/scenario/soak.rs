//! Soak with churn: ramp to `--members` members (rooms of 4; each logs in,
//! opens its WebSocket, `add_pusher`, then keeps alive as our client does:
//! JSON `ping` on the socket and `pusher_heartbeat` over HTTP), then for
//! `--secs` churn them: every second a bounded fraction leaves — by
//! `delete_pusher` + `logout`, by `logout` alone, or by just dropping its
//! socket — and a new member takes its place, while some members send room
//! text. Then everyone leaves and the generator waits for the server's
//! gauges (`/metrics`: rooms, members, sockets, sessions) to come back to
//! their values before the ramp, reading the server's RSS at baseline, peak
//! and end, and by phase its anonymous RSS and jemalloc's figures
//! (`rtcroom_heap_*_bytes` in `/metrics`).
//!
//! A member that dropped its socket leaves its rooms after the server's
//! grace period, but its session lives until its token lapses; at the end
//! such users come back and `logout` (the session count before that is
//! reported as `sessions_abandoned`).

use super::{r1, room_id};
use crate::client::{Login, Rtcroom, Ws};
use crate::http::{ApiCode, Http};
use crate::net::Sources;
use crate::stats::{fd_limit, member_cap, rss_anon_kib, rss_kib, Latency};
use crate::Target;
use clap::Args;
use futures_util::{SinkExt, StreamExt};
use rtcroom_protocol::ws::ClientFrame;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::{sleep, sleep_until, Instant};
use tokio_tungstenite::tungstenite::Message;

/// Flags.
#[derive(Args)]
pub struct Opts {
    #[command(flatten)]
    pub target: Target,
    /// Members held (each one WebSocket on each side).
    #[arg(long, default_value_t = 10_000)]
    pub members: usize,
    /// Members per room.
    #[arg(long, default_value_t = 4)]
    pub room_size: usize,
    /// Joins per second while ramping.
    #[arg(long, default_value_t = 1_000)]
    pub rate: u32,
    /// Length of the churn phase.
    #[arg(long, default_value_t = 600)]
    pub secs: u64,
    /// Per mille of the members replaced every second (bounded to 1..=members).
    #[arg(long, default_value_t = 10)]
    pub churn_per_mille: u32,
    /// Room text messages sent per second during the churn.
    #[arg(long, default_value_t = 50)]
    pub texts_per_sec: usize,
    /// HTTP connections (and tasks) doing joins, leaves and heartbeats.
    #[arg(long, default_value_t = 32)]
    pub workers: usize,
    /// Client JSON `ping` period (the client's default is 10 s).
    #[arg(long, default_value_t = 10_000)]
    pub ws_ping_ms: u64,
    /// `pusher_heartbeat` period per member (the server tells clients 5 s); 0: none.
    #[arg(long, default_value_t = 5)]
    pub http_heartbeat_secs: u64,
    /// Give up ramping after this long.
    #[arg(long, default_value_t = 120)]
    pub ramp_timeout_secs: u64,
    /// After everyone left: how long to wait for the gauges to return.
    #[arg(long, default_value_t = 90)]
    pub settle_timeout_secs: u64,
}

/// The server's gauges that must come back to where they started.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Gauges {
    rooms: u64,
    members: u64,
    sockets: u64,
    sessions: u64,
}

impl Gauges {
    /// The four gauges from a `/metrics` text (None when one is missing).
    pub fn parse(text: &str) -> Option<Self> {
        let read = |name: &str| {
            text.lines().find_map(|l| {
                let (k, v) = l.split_once(' ')?;
                (k == name).then(|| v.trim().parse::<u64>().ok()).flatten()
            })
        };
        Some(Self {
            rooms: read("rtcroom_rooms")?,
            members: read("rtcroom_members")?,
            sockets: read("rtcroom_sockets")?,
            sessions: read("rtcroom_sessions")?,
        })
    }
}

/// How a churned member leaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Leave {
    /// `delete_pusher`, then close the socket and `logout`.
    DeletePusher,
    /// `logout` (the server leaves its rooms and closes the socket).
    Logout,
    /// Drop the TCP connection without a word; the session is abandoned.
    Drop,
}

impl Leave {
    /// The k-th leave of a run: an even mix of the three.
    fn nth(k: u64) -> Self {
        match k % 3 {
            0 => Self::DeletePusher,
            1 => Self::Logout,
            _ => Self::Drop,
        }
    }
}

/// Members replaced per second: `per_mille` of `members`, at least 1, at most all.
fn churn_per_sec(members: usize, per_mille: u32) -> usize {
    (members * per_mille as usize)
        .div_ceil(1000)
        .clamp(1, members.max(1))
}

/// A small deterministic generator (xorshift64*) for picking members.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % n.max(1)
    }
}

/// What the generator tells a member's socket task.
enum Cmd {
    Text(Message),
    Close,
    Drop,
}

struct Member {
    login: Login,
    room: String,
    socket: mpsc::UnboundedSender<Cmd>,
}

#[derive(Default)]
struct Slot {
    member: Option<Member>,
    busy: bool,
}

enum Job {
    Join(usize),
    Churn(usize, Leave),
    Heartbeat(usize),
    /// Teardown: `delete_pusher` (when true) and `logout`.
    Quit(usize, bool),
    /// The member's room was closed under it (its creator left): enter it
    /// again, as an app does when told `room_closed`.
    Rejoin(usize, String),
    /// Teardown: a user whose socket was dropped comes back and logs out.
    LogoutAbandoned(Login),
}

struct Shared {
    slots: Mutex<Vec<Slot>>,
    abandoned: Mutex<Vec<Login>>,
    errors: Mutex<BTreeMap<String, usize>>,
    alive: AtomicUsize,
    generation: AtomicU64,
    joins: AtomicU64,
    leaves: [AtomicU64; 3],
    heartbeats: AtomicU64,
    texts_sent: AtomicU64,
    frames_in: AtomicU64,
    rooms_closed: AtomicU64,
    rejoins: AtomicU64,
    /// Slots (and their user) told `room_closed`.
    closed: mpsc::UnboundedSender<(usize, String)>,
}

/// Whether a server frame is `room_closed` (no full parse).
fn is_room_closed(frame: &str) -> bool {
    frame.contains("\"type\":\"room_closed\"")
}

impl Shared {
    fn error(&self, what: &str, e: &anyhow::Error) {
        let key = match e.downcast_ref::<ApiCode>() {
            Some(c) => format!("{what}:{}", c.code),
            None => format!("{what}:io"),
        };
        let mut errors = self.errors.lock().unwrap_or_else(|p| p.into_inner());
        let n = errors.entry(key).or_default();
        *n += 1;
        if *n <= 3 {
            eprintln!("[soak] {what} failed: {e:#}");
        }
    }

    fn error_count(&self) -> usize {
        self.errors.lock().map_or(0, |e| e.values().sum())
    }

    fn take(&self, slot: usize) -> Option<Member> {
        self.slots.lock().ok()?.get_mut(slot)?.member.take()
    }

    fn release(&self, slot: usize, member: Option<Member>) {
        if let Ok(mut slots) = self.slots.lock() {
            if let Some(s) = slots.get_mut(slot) {
                if member.is_some() {
                    s.member = member;
                }
                s.busy = false;
            }
        }
    }
}

/// One member's socket: reads everything, pings on schedule, obeys `cmds`.
async fn hold(
    mut ws: Ws,
    slot: usize,
    user: String,
    first_ping: Duration,
    every: Duration,
    mut cmds: mpsc::UnboundedReceiver<Cmd>,
    shared: Arc<Shared>,
) {
    let mut next_ping = Instant::now() + first_ping;
    loop {
        tokio::select! {
            m = ws.next() => match m {
                Some(Ok(Message::Text(t))) => {
                    shared.frames_in.fetch_add(1, Ordering::Relaxed);
                    if is_room_closed(t.as_str()) {
                        shared.rooms_closed.fetch_add(1, Ordering::Relaxed);
                        let _ = shared.closed.send((slot, user.clone()));
                    }
                }
                Some(Ok(Message::Close(_)) | Err(_)) | None => break,
                Some(Ok(_)) => {}
            },
            _ = sleep_until(next_ping) => {
                if ws.send(super::client_frame(&ClientFrame::Ping)).await.is_err() {
                    break;
                }
                next_ping += every;
            }
            c = cmds.recv() => match c {
                Some(Cmd::Text(m)) => {
                    if ws.send(m).await.is_err() {
                        break;
                    }
                }
                Some(Cmd::Close) => {
                    let _ = tokio::time::timeout(Duration::from_secs(2), ws.close(None)).await;
                    break;
                }
                Some(Cmd::Drop) | None => break,
            }
        }
    }
    shared.alive.fetch_sub(1, Ordering::Relaxed);
}

struct Ctx {
    rt: Rtcroom,
    sources: Arc<Sources>,
    shared: Arc<Shared>,
    room_size: usize,
    ping_every: Duration,
}

impl Ctx {
    async fn join(&self, http: &mut Http, slot: usize) -> anyhow::Result<Member> {
        let g = self.shared.generation.fetch_add(1, Ordering::Relaxed);
        let user = format!("s{slot}g{g}");
        let login = self.rt.login(http, &user, &self.rt.sig(&user)).await?;
        let ws = self.rt.ws(&self.sources, &login).await?;
        let room = format!("r{}", slot / self.room_size.max(1));
        self.rt.add_pusher(http, &login, &room).await?;
        let (tx, rx) = mpsc::unbounded_channel();
        self.shared.alive.fetch_add(1, Ordering::Relaxed);
        let first = self.ping_every.mul_f64((g % 997) as f64 / 997.0);
        tokio::spawn(hold(
            ws,
            slot,
            user,
            first,
            self.ping_every,
            rx,
            self.shared.clone(),
        ));
        self.shared.joins.fetch_add(1, Ordering::Relaxed);
        Ok(Member {
            login,
            room,
            socket: tx,
        })
    }

    async fn leave(&self, http: &mut Http, m: Member, how: Leave) {
        let s = &self.shared;
        match how {
            Leave::DeletePusher => {
                if let Err(e) = self.rt.delete_pusher(http, &m.login, &m.room).await {
                    s.error("delete_pusher", &e);
                }
                let _ = m.socket.send(Cmd::Close);
                if let Err(e) = self.rt.logout(http, &m.login).await {
                    s.error("logout", &e);
                }
            }
            Leave::Logout => {
                if let Err(e) = self.rt.logout(http, &m.login).await {
                    s.error("logout", &e);
                }
                let _ = m.socket.send(Cmd::Close);
            }
            Leave::Drop => {
                let _ = m.socket.send(Cmd::Drop);
                if let Ok(mut a) = s.abandoned.lock() {
                    a.push(m.login);
                }
            }
        }
        let i = match how {
            Leave::DeletePusher => 0,
            Leave::Logout => 1,
            Leave::Drop => 2,
        };
        s.leaves[i].fetch_add(1, Ordering::Relaxed);
    }

    async fn run_job(&self, http: &mut Http, job: Job) {
        let s = &self.shared;
        match job {
            Job::Join(slot) => {
                let m = match self.join(http, slot).await {
                    Ok(m) => Some(m),
                    Err(e) => {
                        s.error("join", &e);
                        None
                    }
                };
                s.release(slot, m);
            }
            Job::Churn(slot, how) => {
                if let Some(m) = s.take(slot) {
                    self.leave(http, m, how).await;
                }
                let m = match self.join(http, slot).await {
                    Ok(m) => Some(m),
                    Err(e) => {
                        s.error("join", &e);
                        None
                    }
                };
                s.release(slot, m);
            }
            Job::Heartbeat(slot) => {
                let who = s.slots.lock().ok().and_then(|v| {
                    v.get(slot)
                        .and_then(|x| x.member.as_ref())
                        .map(|m| (m.login.clone(), m.room.clone()))
                });
                if let Some((login, room)) = who {
                    match self.rt.heartbeat(http, &login, &room).await {
                        Ok(()) => {
                            s.heartbeats.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) => s.error("pusher_heartbeat", &e),
                    }
                }
            }
            Job::Quit(slot, delete_first) => {
                if let Some(m) = s.take(slot) {
                    if delete_first {
                        if let Err(e) = self.rt.delete_pusher(http, &m.login, &m.room).await {
                            s.error("delete_pusher", &e);
                        }
                    }
                    if let Err(e) = self.rt.logout(http, &m.login).await {
                        s.error("logout", &e);
                    }
                    let _ = m.socket.send(Cmd::Close);
                }
            }
            Job::Rejoin(slot, user) => {
                let who = s.slots.lock().ok().and_then(|v| {
                    v.get(slot)
                        .and_then(|x| x.member.as_ref())
                        .filter(|m| m.login.user == user)
                        .map(|m| (m.login.clone(), m.room.clone()))
                });
                if let Some((login, room)) = who {
                    match self.rt.add_pusher(http, &login, &room).await {
                        Ok(()) => {
                            s.rejoins.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) => s.error("add_pusher_again", &e),
                    }
                }
            }
            Job::LogoutAbandoned(login) => {
                if let Err(e) = self.rt.logout(http, &login).await {
                    s.error("logout_abandoned", &e);
                }
            }
        }
    }
}

/// Reads `/metrics` once.
async fn read_metrics(http: &mut Option<Http>, sources: &Sources, rt: &Rtcroom) -> Option<String> {
    if http.is_none() {
        *http = Http::connect(sources, rt.addr).await.ok();
    }
    if let Some(Ok(text)) = match http.as_mut() {
        Some(h) => Some(h.get_text("/metrics").await),
        None => None,
    } {
        return Some(text);
    }
    // The keep-alive connection may have been closed while idle: once more.
    let mut fresh = Http::connect(sources, rt.addr).await.ok()?;
    let text = fresh.get_text("/metrics").await.ok()?;
    *http = Some(fresh);
    Some(text)
}

/// Reads the gauges once.
async fn read_gauges(http: &mut Option<Http>, sources: &Sources, rt: &Rtcroom) -> Option<Gauges> {
    Gauges::parse(&read_metrics(http, sources, rt).await?)
}

/// The allocator's figures from a `/metrics` text: `rtcroom_heap_<what>_bytes`
/// by `<what>` (empty when the server does not report them).
pub fn heap_stats(text: &str) -> BTreeMap<String, u64> {
    text.lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(' ')?;
            let what = k.strip_prefix("rtcroom_heap_")?.strip_suffix("_bytes")?;
            Some((what.to_string(), v.trim().parse().ok()?))
        })
        .collect()
}

/// The server's memory at one moment: RSS, its anonymous part, and jemalloc's figures.
async fn memory(http: &mut Option<Http>, sources: &Sources, rt: &Rtcroom, pid: u32) -> Value {
    let heap = read_metrics(http, sources, rt)
        .await
        .map(|t| heap_stats(&t))
        .unwrap_or_default();
    json!({"rss_kib": rss_kib(pid), "rss_anon_kib": rss_anon_kib(pid), "heap_bytes": heap})
}

/// Runs the scenario.
pub async fn run(o: Opts) -> anyhow::Result<Value> {
    let rt = o.target.rtcroom();
    let sources = Arc::new(Sources::new(o.target.sources));
    let pid = o.target.server_pid.unwrap_or(0);
    // One socket per member on each side, plus the HTTP pool and a margin.
    let server_fds = fd_limit(pid);
    let own_fds = fd_limit(std::process::id());
    let cap = member_cap([server_fds, own_fds], o.workers, o.members);
    let n = o.members.min(cap).max(1);
    if n < o.members {
        eprintln!(
            "[soak] open-file limits (server {server_fds:?}, loadgen {own_fds:?}) allow {n} of {} members",
            o.members
        );
    }
    let (closed_tx, mut closed_rx) = mpsc::unbounded_channel();
    let shared = Arc::new(Shared {
        slots: Mutex::new((0..n).map(|_| Slot::default()).collect()),
        abandoned: Mutex::new(Vec::new()),
        errors: Mutex::new(BTreeMap::new()),
        alive: AtomicUsize::new(0),
        generation: AtomicU64::new(0),
        joins: AtomicU64::new(0),
        leaves: Default::default(),
        heartbeats: AtomicU64::new(0),
        texts_sent: AtomicU64::new(0),
        frames_in: AtomicU64::new(0),
        rooms_closed: AtomicU64::new(0),
        rejoins: AtomicU64::new(0),
        closed: closed_tx,
    });
    let ctx = Arc::new(Ctx {
        rt: rt.clone(),
        sources: sources.clone(),
        shared: shared.clone(),
        room_size: o.room_size,
        ping_every: Duration::from_millis(o.ws_ping_ms.max(100)),
    });

    let mut metrics_http = None;
    let baseline = read_gauges(&mut metrics_http, &sources, &rt)
        .await
        .ok_or_else(|| anyhow::anyhow!("cannot read {}/metrics", rt.addr))?;
    let rss_baseline = rss_kib(pid);
    let mut rss_peak = rss_baseline;
    let memory_baseline = memory(&mut metrics_http, &sources, &rt, pid).await;
    eprintln!("[soak] baseline {baseline:?}, server RSS {rss_baseline} KiB");

    // The worker pool: each takes jobs from one queue over its own connection.
    let (jobs, rx) = mpsc::channel::<Job>(n * 2 + 1024);
    let rx = Arc::new(tokio::sync::Mutex::new(rx));
    let mut workers = Vec::new();
    for _ in 0..o.workers.max(1) {
        let (ctx, rx) = (ctx.clone(), rx.clone());
        workers.push(tokio::spawn(async move {
            let mut http = Http::connect(&ctx.sources, ctx.rt.addr).await.ok();
            loop {
                let job = rx.lock().await.recv().await;
                let Some(job) = job else { return };
                if http.is_none() {
                    http = Http::connect(&ctx.sources, ctx.rt.addr).await.ok();
                }
                let Some(h) = http.as_mut() else {
                    ctx.shared
                        .error("connect", &anyhow::anyhow!("no HTTP connection"));
                    continue;
                };
                // A failed answer may leave the connection mid-stream: reconnect.
                let errs = ctx.shared.error_count();
                ctx.run_job(h, job).await;
                if ctx.shared.error_count() != errs {
                    http = None;
                }
            }
        }));
    }
    let busy = |slot: usize| -> Option<bool> {
        let mut slots = shared.slots.lock().ok()?;
        let s = slots.get_mut(slot)?;
        if s.busy {
            return None;
        }
        s.busy = true;
        Some(s.member.is_some())
    };

    // ---- ramp ----
    let start = Instant::now();
    eprintln!(
        "[soak] ramping to {n} at {}/s (rooms of {})",
        o.rate, o.room_size
    );
    let rate = f64::from(o.rate.max(1));
    for slot in 0..n {
        sleep_until(start + Duration::from_secs_f64(slot as f64 / rate)).await;
        if busy(slot).is_some() {
            jobs.send(Job::Join(slot)).await?;
        }
        if slot % 1000 == 0 {
            rss_peak = rss_peak.max(rss_kib(pid));
        }
    }
    let ramp_deadline = start + Duration::from_secs(o.ramp_timeout_secs);
    while shared.joins.load(Ordering::Relaxed) < n as u64 && Instant::now() < ramp_deadline {
        let idle = shared
            .slots
            .lock()
            .map(|s| s.iter().all(|x| !x.busy))
            .unwrap_or(true);
        if idle {
            break;
        }
        sleep(Duration::from_millis(100)).await;
    }
    let ramp_secs = start.elapsed().as_secs_f64();
    let held_after_ramp = shared.alive.load(Ordering::Relaxed);
    let rss_after_ramp = rss_kib(pid);
    rss_peak = rss_peak.max(rss_after_ramp);
    let memory_after_ramp = memory(&mut metrics_http, &sources, &rt, pid).await;
    eprintln!(
        "[soak] {held_after_ramp} members in {ramp_secs:.1} s; server RSS {rss_after_ramp} KiB"
    );

    // ---- churn ----
    let churn = churn_per_sec(n, o.churn_per_mille);
    let hb_period = o.http_heartbeat_secs;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut leave_k = 0u64;
    let mut lag = Vec::new();
    let mut dropped_jobs = 0usize;
    let mut min_held = usize::MAX;
    let t0 = Instant::now();
    eprintln!(
        "[soak] churning {churn} members/s for {} s, {} texts/s",
        o.secs, o.texts_per_sec
    );
    for tick in 0..o.secs {
        let due = t0 + Duration::from_secs(tick);
        sleep_until(due).await;
        lag.push(Instant::now().saturating_duration_since(due));
        for _ in 0..churn {
            let slot = rng.below(n);
            let job = match busy(slot) {
                Some(true) => {
                    leave_k += 1;
                    Job::Churn(slot, Leave::nth(leave_k - 1))
                }
                // An empty slot (its join failed): fill it.
                Some(false) => Job::Join(slot),
                None => continue,
            };
            if jobs.try_send(job).is_err() {
                dropped_jobs += 1;
                shared.release(slot, None);
            }
        }
        while let Ok((slot, user)) = closed_rx.try_recv() {
            if jobs.try_send(Job::Rejoin(slot, user)).is_err() {
                dropped_jobs += 1;
            }
        }
        if hb_period > 0 {
            let p = hb_period as usize;
            for slot in (tick as usize % p..n).step_by(p) {
                if jobs.try_send(Job::Heartbeat(slot)).is_err() {
                    dropped_jobs += 1;
                }
            }
        }
        if let Ok(slots) = shared.slots.lock() {
            for _ in 0..o.texts_per_sec {
                let slot = rng.below(n);
                if let Some(m) = slots[slot].member.as_ref() {
                    let text = super::client_frame(&ClientFrame::RoomText {
                        room_id: room_id(&m.room),
                        text: format!("soak {tick}"),
                    });
                    if m.socket.send(Cmd::Text(text)).is_ok() {
                        shared.texts_sent.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }
        let held = shared.alive.load(Ordering::Relaxed);
        min_held = min_held.min(held);
        rss_peak = rss_peak.max(rss_kib(pid));
        if tick % 10 == 9 {
            let ops: u64 = shared
                .leaves
                .iter()
                .map(|l| l.load(Ordering::Relaxed))
                .sum();
            eprintln!(
                "[soak] {}s: {held} held, {ops} churned, server RSS {} MiB",
                tick + 1,
                rss_kib(pid) / 1024
            );
        }
    }
    let churn_secs = t0.elapsed().as_secs_f64();
    let held_end_of_churn = shared.alive.load(Ordering::Relaxed);
    let gauges_during = read_gauges(&mut metrics_http, &sources, &rt).await;
    let memory_end_of_churn = memory(&mut metrics_http, &sources, &rt, pid).await;
    // Let queued churn and heartbeat jobs finish before the teardown: a
    // churn still running when its slot's `Quit` comes would join a member
    // nobody logs out, and a socket it drops would miss the abandoned list
    // (on a loaded box, 2,352 jobs queued past the churn once left 123
    // sessions that way with the former 30 s bound).
    let drain_deadline = Instant::now() + Duration::from_secs(120);
    let any_busy = || {
        shared
            .slots
            .lock()
            .map(|s| s.iter().any(|x| x.busy))
            .unwrap_or(false)
    };
    while (jobs.capacity() < jobs.max_capacity() || any_busy()) && Instant::now() < drain_deadline {
        sleep(Duration::from_millis(100)).await;
    }
    let drained_before_teardown = jobs.capacity() == jobs.max_capacity() && !any_busy();
    if !drained_before_teardown {
        eprintln!("[soak] churn jobs still running at the teardown (gauges may not come back)");
    }

    // ---- everyone leaves ----
    let t_leave = Instant::now();
    for slot in 0..n {
        jobs.send(Job::Quit(slot, slot % 2 == 0)).await?;
    }
    let abandoned: Vec<Login> = shared
        .abandoned
        .lock()
        .map(|mut a| std::mem::take(&mut *a))
        .unwrap_or_default();
    let n_abandoned = abandoned.len();
    // The sessions gauge before the returning users log out.
    while jobs.capacity() < jobs.max_capacity() && t_leave.elapsed() < Duration::from_secs(60) {
        sleep(Duration::from_millis(100)).await;
    }
    sleep(Duration::from_secs(1)).await;
    let sessions_abandoned = read_gauges(&mut metrics_http, &sources, &rt)
        .await
        .map(|g| g.sessions);
    for login in abandoned {
        jobs.send(Job::LogoutAbandoned(login)).await?;
    }
    drop(jobs);
    for w in workers {
        let _ = w.await;
    }
    let leave_secs = t_leave.elapsed().as_secs_f64();

    // ---- back to baseline? ----
    let t_settle = Instant::now();
    let mut end = read_gauges(&mut metrics_http, &sources, &rt).await;
    while end != Some(baseline) && t_settle.elapsed() < Duration::from_secs(o.settle_timeout_secs) {
        sleep(Duration::from_millis(500)).await;
        end = read_gauges(&mut metrics_http, &sources, &rt).await;
    }
    let settle_secs = t_settle.elapsed().as_secs_f64();
    let back = end == Some(baseline);
    // The allocator returns freed pages after its decay time (jemalloc: ~10 s
    // per stage, and its background thread got to the last pages 20-40 s
    // after the teardown here), the server's sweeper shrinks its emptied
    // tables every check interval: the RSS the server settles at, read for
    // up to 60 s.
    let rss_at_teardown = rss_kib(pid);
    let memory_at_teardown = memory(&mut metrics_http, &sources, &rt, pid).await;
    let mut rss_end = rss_at_teardown;
    for _ in 0..60 {
        sleep(Duration::from_secs(1)).await;
        rss_end = rss_end.min(rss_kib(pid));
    }
    let memory_settled = memory(&mut metrics_http, &sources, &rt, pid).await;
    rss_peak = rss_peak.max(rss_at_teardown);
    eprintln!(
        "[soak] gauges {} baseline after {settle_secs:.1} s: {end:?}; server RSS {rss_baseline} → peak {rss_peak} → end {rss_end} KiB",
        if back { "back to" } else { "NOT back to" }
    );

    let leaves: Vec<u64> = shared
        .leaves
        .iter()
        .map(|l| l.load(Ordering::Relaxed))
        .collect();
    let errors = shared.errors.lock().map(|e| e.clone()).unwrap_or_default();
    let memory_by_phase = json!({
        "baseline": memory_baseline,
        "after_ramp": memory_after_ramp,
        "end_of_churn": memory_end_of_churn,
        "at_teardown": memory_at_teardown,
        "settled": memory_settled,
    });
    Ok(json!({
        "scenario": "soak",
        "target": o.members,
        "attempted": n,
        "fd_limit_server": server_fds,
        "fd_limit_loadgen": own_fds,
        "room_size": o.room_size,
        "ramp_secs": r1(ramp_secs),
        "held_after_ramp": held_after_ramp,
        "held_min_during_churn": if min_held == usize::MAX { 0 } else { min_held },
        "held_end_of_churn": held_end_of_churn,
        "churn_secs": r1(churn_secs),
        "churn_per_sec": churn,
        "churn_ops": leaves.iter().sum::<u64>(),
        "leaves": {"delete_pusher": leaves[0], "logout": leaves[1], "drop_socket": leaves[2]},
        "joins": shared.joins.load(Ordering::Relaxed),
        "heartbeats": shared.heartbeats.load(Ordering::Relaxed),
        "texts_sent": shared.texts_sent.load(Ordering::Relaxed),
        "frames_in": shared.frames_in.load(Ordering::Relaxed),
        "rooms_closed_seen": shared.rooms_closed.load(Ordering::Relaxed),
        "rejoins": shared.rejoins.load(Ordering::Relaxed),
        "jobs_dropped_queue_full": dropped_jobs,
        "errors": errors,
        "errors_total": errors.values().sum::<usize>(),
        "abandoned_sessions": n_abandoned,
        "sessions_before_abandoned_logout": sessions_abandoned,
        "leave_secs": r1(leave_secs),
        "settle_secs": r1(settle_secs),
        "drained_before_teardown": drained_before_teardown,
        "gauges_baseline": baseline,
        "gauges_end_of_churn": gauges_during,
        "gauges_end": end,
        "gauges_back_to_baseline": back,
        "rss_baseline_kib": rss_baseline,
        "rss_after_ramp_kib": rss_after_ramp,
        "rss_peak_kib": rss_peak,
        "rss_at_teardown_kib": rss_at_teardown,
        "rss_end_kib": rss_end,
        "rss_end_over_baseline": (rss_end as f64 / rss_baseline.max(1) as f64 * 100.0).round() / 100.0,
        "memory": memory_by_phase,
        "generator_timer_lag": Latency::of(lag),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_four_gauges_from_metrics_text() {
        let text = "# HELP rtcroom_rooms Rooms held.\n# TYPE rtcroom_rooms gauge\nrtcroom_rooms 3\n\
                    rtcroom_members 11\nrtcroom_sessions 12\nrtcroom_sockets 10\nrtcroom_im_taps 0\n\
                    rtcroom_roomsx 99\n";
        assert_eq!(
            Gauges::parse(text),
            Some(Gauges {
                rooms: 3,
                members: 11,
                sockets: 10,
                sessions: 12
            })
        );
        assert_eq!(Gauges::parse("rtcroom_rooms 1\nrtcroom_members 2\n"), None);
    }

    #[test]
    fn reads_the_heap_figures_from_metrics_text() {
        let text =
            "# TYPE rtcroom_heap_allocated_bytes gauge\nrtcroom_heap_allocated_bytes 901392\n\
                    rtcroom_heap_resident_bytes 6139904\nrtcroom_rooms 0\nrtcroom_heap_x 1\n";
        let heap = heap_stats(text);
        assert_eq!(heap.len(), 2);
        assert_eq!(heap["allocated"], 901_392);
        assert_eq!(heap["resident"], 6_139_904);
        assert!(heap_stats("rtcroom_rooms 0\n").is_empty());
    }

    #[test]
    fn recognizes_room_closed_frames() {
        assert!(is_room_closed(
            r#"{"seq":4,"type":"room_closed","roomID":"r1","reason":"creator_left"}"#
        ));
        assert!(!is_room_closed(
            r#"{"seq":5,"type":"room_text","roomID":"r1","text":"room_closed"}"#
        ));
    }

    #[test]
    fn churn_is_bounded_and_leaves_are_mixed() {
        assert_eq!(churn_per_sec(10_000, 10), 100);
        assert_eq!(churn_per_sec(3, 10), 1);
        assert_eq!(churn_per_sec(5, 5000), 5);
        let kinds: Vec<Leave> = (0..6).map(Leave::nth).collect();
        for k in [Leave::DeletePusher, Leave::Logout, Leave::Drop] {
            assert_eq!(kinds.iter().filter(|&&x| x == k).count(), 2);
        }
    }

    #[test]
    fn picks_stay_in_range_and_spread() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let mut seen = [0usize; 10];
        for _ in 0..10_000 {
            seen[rng.below(10)] += 1;
        }
        assert!(seen.iter().all(|&c| (800..1200).contains(&c)), "{seen:?}");
    }
}
