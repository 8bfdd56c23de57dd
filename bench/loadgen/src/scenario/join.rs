//! Join latency at a steady arrival rate: each join is a new user doing
//! `login` + `add_pusher` + `get_pushers` (rooms of 4) on a keep-alive HTTP
//! connection. Arrivals are scheduled open-loop (join `i` is due at
//! `start + i / rate`) and latency counts from the due time, so a stalled
//! server shows up in the tail instead of slowing the arrivals down.

use super::r1;
use crate::http::Http;
use crate::net::Sources;
use crate::stats::{rss_kib, CpuMeter, Latency};
use crate::Target;
use clap::Args;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::{sleep_until, Instant};

/// Flags.
#[derive(Args)]
pub struct Opts {
    #[command(flatten)]
    pub target: Target,
    /// Joins per second.
    #[arg(long, default_value_t = 1_000)]
    pub rate: u32,
    /// Seconds of steady load.
    #[arg(long, default_value_t = 10)]
    pub secs: u64,
    /// Concurrent HTTP connections available to the arrivals.
    #[arg(long, default_value_t = 128)]
    pub workers: usize,
    /// Members per room.
    #[arg(long, default_value_t = 4)]
    pub room_size: usize,
}

#[derive(Default)]
struct Samples {
    total: Vec<Duration>,
    login: Vec<Duration>,
    add: Vec<Duration>,
    get: Vec<Duration>,
    /// How late the generator's own timer woke for each due time: the
    /// machine's scheduling noise, which the join latency includes.
    late: Vec<Duration>,
    errors: usize,
}

/// Runs the scenario.
pub async fn run(o: Opts) -> anyhow::Result<Value> {
    let rt = o.target.rtcroom();
    let sources = Arc::new(Sources::new(o.target.sources));
    let pid = o.target.server_pid.unwrap_or(0);
    let n = (u64::from(o.rate) * o.secs) as usize;
    // Sigs are the app server's work, not the join's: mint them up front.
    let sigs: Arc<Vec<(String, String)>> = Arc::new(
        (0..n)
            .map(|i| {
                let user = format!("j{i}");
                let sig = rt.sig(&user);
                (user, sig)
            })
            .collect(),
    );
    let mut conns = Vec::with_capacity(o.workers);
    for _ in 0..o.workers.max(1) {
        conns.push(Http::connect(&sources, rt.addr).await?);
    }
    eprintln!(
        "[join] {n} joins at {}/s over {} connections",
        o.rate,
        conns.len()
    );
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now() + Duration::from_millis(200);
    let rate = f64::from(o.rate.max(1));
    let cpu = CpuMeter::start(pid);
    let mut tasks = Vec::new();
    for mut http in conns {
        let (rt, sigs, next) = (rt.clone(), sigs.clone(), next.clone());
        let room_size = o.room_size.max(1);
        tasks.push(tokio::spawn(async move {
            let mut s = Samples::default();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= sigs.len() {
                    return s;
                }
                let due = start + Duration::from_secs_f64(i as f64 / rate);
                sleep_until(due).await;
                s.late.push(Instant::now().saturating_duration_since(due));
                let (user, sig) = &sigs[i];
                let room = format!("jr{}", i / room_size);
                let t0 = Instant::now();
                let result = async {
                    let login = rt.login(&mut http, user, sig).await?;
                    let t1 = Instant::now();
                    rt.add_pusher(&mut http, &login, &room).await?;
                    let t2 = Instant::now();
                    rt.get_pushers(&mut http, &login, &room).await?;
                    Ok::<_, anyhow::Error>((t1, t2, Instant::now()))
                }
                .await;
                match result {
                    Ok((t1, t2, t3)) => {
                        s.total.push(t3 - due);
                        s.login.push(t1 - t0);
                        s.add.push(t2 - t1);
                        s.get.push(t3 - t2);
                    }
                    Err(e) => {
                        s.errors += 1;
                        if s.errors <= 3 {
                            eprintln!("[join] join {i} failed: {e:#}");
                        }
                    }
                }
            }
        }));
    }
    let mut all = Samples::default();
    for t in tasks {
        let s = t.await?;
        all.total.extend(s.total);
        all.login.extend(s.login);
        all.add.extend(s.add);
        all.get.extend(s.get);
        all.late.extend(s.late);
        all.errors += s.errors;
    }
    let secs = start.elapsed().as_secs_f64();
    let (_, cpu_pct) = cpu.read();
    let done = all.total.len();
    let total = Latency::of(all.total);
    eprintln!(
        "[join] p50 {:.2} ms, p99 {:.2} ms ({done} joins, {} errors)",
        total.p50_ms, total.p99_ms, all.errors
    );
    Ok(json!({
        "scenario": "join",
        "rate": o.rate,
        "secs": o.secs,
        "joins": done,
        "errors": all.errors,
        "achieved_per_sec": r1(done as f64 / secs),
        "latency": total,
        "login": Latency::of(all.login),
        "add_pusher": Latency::of(all.add),
        "get_pushers": Latency::of(all.get),
        "generator_timer_lateness": Latency::of(all.late),
        "server_cpu_pct": r1(cpu_pct),
        "server_rss_kib": rss_kib(pid),
    }))
}
