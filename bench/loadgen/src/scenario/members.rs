//! Concurrent members held by one server, in rooms of 4: ramp to a target
//! (login + add_pusher + WebSocket with its `welcome`), then hold them while
//! they keep alive as our client does, and read the server's RSS and CPU.
//!
//! Phase 1 (WebSocket keep-alive): each member sends the client's JSON `ping`
//! every `--ws-ping-ms` and answers the server's WebSocket pings.
//! Phase 2 (adds HTTP heartbeats): `pusher_heartbeat` every
//! `--http-heartbeat-secs` per member, as the client's heartbeat timer does,
//! sent over a pool of `--workers` keep-alive HTTP connections.

use super::r1;
use crate::client::{Login, Rtcroom, Ws};
use crate::http::Http;
use crate::net::Sources;
use crate::stats::{fd_limit, member_cap, rss_kib, CpuMeter, Latency};
use crate::Target;
use clap::Args;
use futures_util::{SinkExt, StreamExt};
use rtcroom_protocol::ws::ClientFrame;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::{sleep, sleep_until, Instant};
use tokio_tungstenite::tungstenite::Message;

/// Flags.
#[derive(Args)]
pub struct Opts {
    #[command(flatten)]
    pub target: Target,
    /// Members to reach.
    #[arg(long, default_value_t = 50_000)]
    pub members: usize,
    /// Members per room.
    #[arg(long, default_value_t = 4)]
    pub room_size: usize,
    /// Joins per second while ramping.
    #[arg(long, default_value_t = 2_000)]
    pub rate: u32,
    /// HTTP connections (and tasks) doing the joins and the heartbeats.
    #[arg(long, default_value_t = 64)]
    pub workers: usize,
    /// Give up ramping after this long.
    #[arg(long, default_value_t = 240)]
    pub ramp_timeout_secs: u64,
    /// Length of each idle phase.
    #[arg(long, default_value_t = 20)]
    pub idle_secs: u64,
    /// Client JSON `ping` period (the client's default is 10 s).
    #[arg(long, default_value_t = 10_000)]
    pub ws_ping_ms: u64,
    /// `pusher_heartbeat` period in phase 2 (the server tells clients 5 s); 0 skips phase 2.
    #[arg(long, default_value_t = 5)]
    pub http_heartbeat_secs: u64,
}

struct Shared {
    alive: AtomicUsize,
    frames_in: AtomicU64,
    failures: AtomicUsize,
    stop: AtomicBool,
    joined: Mutex<Vec<(Login, String)>>,
}

/// Holds one member's socket: reads everything, pings on schedule.
async fn hold(mut ws: Ws, first_ping: Duration, every: Duration, shared: Arc<Shared>) {
    let mut next_ping = Instant::now() + first_ping;
    loop {
        tokio::select! {
            m = ws.next() => match m {
                Some(Ok(Message::Text(_))) => { shared.frames_in.fetch_add(1, Ordering::Relaxed); }
                Some(Ok(Message::Close(_)) | Err(_)) | None => break,
                Some(Ok(_)) => {}
            },
            _ = sleep_until(next_ping) => {
                if ws.send(super::client_frame(&ClientFrame::Ping)).await.is_err() {
                    break;
                }
                next_ping += every;
            }
        }
    }
    shared.alive.fetch_sub(1, Ordering::Relaxed);
}

async fn join_one(
    rt: &Rtcroom,
    http: &mut Http,
    sources: &Sources,
    i: usize,
    room_size: usize,
) -> anyhow::Result<(Login, String, Ws)> {
    let user = format!("m{i}");
    let login = rt.login(http, &user, &rt.sig(&user)).await?;
    let room = format!("r{}", i / room_size.max(1));
    rt.add_pusher(http, &login, &room).await?;
    let ws = rt.ws(sources, &login).await?;
    Ok((login, room, ws))
}

/// Runs the scenario.
pub async fn run(o: Opts) -> anyhow::Result<Value> {
    let rt = o.target.rtcroom();
    let sources = Arc::new(Sources::new(o.target.sources));
    let pid = o.target.server_pid.unwrap_or(0);
    let shared = Arc::new(Shared {
        alive: AtomicUsize::new(0),
        frames_in: AtomicU64::new(0),
        failures: AtomicUsize::new(0),
        stop: AtomicBool::new(false),
        joined: Mutex::new(Vec::with_capacity(o.members.min(1 << 20))),
    });
    // Each member is one socket on each side: neither process can hold more
    // members than its open-file limit (less the HTTP pool and a margin).
    let server_fds = fd_limit(pid);
    let own_fds = fd_limit(std::process::id());
    let cap = member_cap([server_fds, own_fds], o.workers, o.members);
    let attempted = o.members.min(cap);
    if attempted < o.members {
        eprintln!(
            "[members] open-file limits (server {server_fds:?}, loadgen {own_fds:?}) allow {attempted} of {} members",
            o.members
        );
    }
    let rss_before = rss_kib(pid);
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let deadline = start + Duration::from_secs(o.ramp_timeout_secs);
    let ping_every = Duration::from_millis(o.ws_ping_ms.max(100));
    eprintln!(
        "[members] ramping to {} at {}/s (rooms of {})",
        attempted, o.rate, o.room_size
    );

    let mut workers = Vec::new();
    for _ in 0..o.workers.max(1) {
        let (rt, sources, shared, next) =
            (rt.clone(), sources.clone(), shared.clone(), next.clone());
        let (n, rate, room_size) = (attempted, f64::from(o.rate.max(1)), o.room_size);
        workers.push(tokio::spawn(async move {
            let mut http = match Http::connect(&sources, rt.addr).await {
                Ok(h) => h,
                Err(e) => {
                    eprintln!("[members] worker could not connect: {e:#}");
                    return;
                }
            };
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n || shared.stop.load(Ordering::Relaxed) {
                    return;
                }
                sleep_until(start + Duration::from_secs_f64(i as f64 / rate)).await;
                if Instant::now() > deadline {
                    shared.stop.store(true, Ordering::Relaxed);
                    return;
                }
                match join_one(&rt, &mut http, &sources, i, room_size).await {
                    Ok((login, room, ws)) => {
                        shared.alive.fetch_add(1, Ordering::Relaxed);
                        // Spread first pings over one period.
                        let first = ping_every.mul_f64((i % 997) as f64 / 997.0);
                        tokio::spawn(hold(ws, first, ping_every, shared.clone()));
                        if let Ok(mut j) = shared.joined.lock() {
                            j.push((login, room));
                        }
                    }
                    Err(e) => {
                        let f = shared.failures.fetch_add(1, Ordering::Relaxed) + 1;
                        if f <= 5 {
                            eprintln!("[members] join {i} failed: {e:#}");
                        }
                        if f > 100 + i / 100 {
                            eprintln!("[members] too many failures ({f}); stopping the ramp");
                            shared.stop.store(true, Ordering::Relaxed);
                        }
                        if let Ok(h) = Http::connect(&sources, rt.addr).await {
                            http = h;
                        }
                    }
                }
                if i > 0 && i % 10_000 == 0 {
                    eprintln!(
                        "[members] {i} joined in {:.1} s, server RSS {} MiB",
                        start.elapsed().as_secs_f64(),
                        rss_kib(pid) / 1024
                    );
                }
            }
        }));
    }
    for w in workers {
        let _ = w.await;
    }
    let ramp_secs = start.elapsed().as_secs_f64();
    sleep(Duration::from_secs(2)).await; // let pusher_join fan-outs settle
    let reached = shared.alive.load(Ordering::Relaxed);
    let rss_after = rss_kib(pid);
    let per_member = if reached > 0 {
        (rss_after.saturating_sub(rss_before) * 1024) as f64 / reached as f64
    } else {
        0.0
    };
    eprintln!(
        "[members] reached {reached} in {ramp_secs:.1} s; server RSS {rss_before} → {rss_after} KiB ({per_member:.0} B/member)"
    );

    // Phase 1: WebSocket keep-alive only.
    let idle = Duration::from_secs(o.idle_secs);
    let frames0 = shared.frames_in.load(Ordering::Relaxed);
    let (server, me) = (CpuMeter::start(pid), CpuMeter::start(std::process::id()));
    sleep(idle).await;
    let (_, server_ws_pct) = server.read();
    let (_, loadgen_ws_pct) = me.read();
    let frames_ws = shared.frames_in.load(Ordering::Relaxed) - frames0;
    eprintln!("[members] idle (WS keep-alive): server CPU {server_ws_pct:.1}% of one core");

    // Phase 2: plus HTTP pusher_heartbeat.
    let mut http_phase = Value::Null;
    if o.http_heartbeat_secs > 0 {
        let joined: Arc<Vec<(Login, String)>> = Arc::new(
            shared
                .joined
                .lock()
                .map(|mut j| std::mem::take(&mut *j))
                .unwrap_or_default(),
        );
        let period = Duration::from_secs(o.http_heartbeat_secs);
        let (server, me) = (CpuMeter::start(pid), CpuMeter::start(std::process::id()));
        let t0 = Instant::now();
        let end = t0 + idle;
        let errors = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        let nw = o.workers.max(1);
        for w in 0..nw {
            let (rt, sources, joined, errors) =
                (rt.clone(), sources.clone(), joined.clone(), errors.clone());
            tasks.push(tokio::spawn(async move {
                let mut lat = Vec::new();
                let Ok(mut http) = Http::connect(&sources, rt.addr).await else {
                    return lat;
                };
                let n = joined.len().max(1);
                for cycle in 0u32.. {
                    for k in (w..joined.len()).step_by(nw) {
                        let at = t0 + period * cycle + period.mul_f64(k as f64 / n as f64);
                        if at >= end {
                            return lat;
                        }
                        sleep_until(at).await;
                        let (login, room) = &joined[k];
                        if rt.heartbeat(&mut http, login, room).await.is_err() {
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                        lat.push(at.elapsed());
                    }
                }
                lat
            }));
        }
        let mut lat = Vec::new();
        for t in tasks {
            lat.extend(t.await.unwrap_or_default());
        }
        let (_, server_pct) = server.read();
        let (_, loadgen_pct) = me.read();
        let secs = t0.elapsed().as_secs_f64();
        eprintln!("[members] idle (+ HTTP heartbeats): server CPU {server_pct:.1}% of one core");
        http_phase = json!({
            "secs": r1(secs),
            "heartbeats_per_sec": r1(lat.len() as f64 / secs),
            "heartbeat_errors": errors.load(Ordering::Relaxed),
            "heartbeat_latency": Latency::of(lat),
            "server_cpu_pct": r1(server_pct),
            "loadgen_cpu_pct": r1(loadgen_pct),
        });
    }
    let rss_end = rss_kib(pid);
    Ok(json!({
        "scenario": "members",
        "target": o.members,
        "attempted": attempted,
        "fd_limit_server": server_fds,
        "fd_limit_loadgen": own_fds,
        "room_size": o.room_size,
        "reached": reached,
        "still_connected": shared.alive.load(Ordering::Relaxed),
        "failures": shared.failures.load(Ordering::Relaxed),
        "ramp_secs": r1(ramp_secs),
        "joins_per_sec": r1(reached as f64 / ramp_secs.max(1e-9)),
        "rss_before_kib": rss_before,
        "rss_after_kib": rss_after,
        "rss_end_kib": rss_end,
        "rss_per_member_bytes": per_member.round(),
        "idle_ws": {
            "secs": o.idle_secs,
            "ws_ping_ms": o.ws_ping_ms,
            "frames_in": frames_ws,
            "server_cpu_pct": r1(server_ws_pct),
            "loadgen_cpu_pct": r1(loadgen_ws_pct),
        },
        "idle_http": http_phase,
    }))
}
