//! Idle connections held: server RSS per connection. For rtcroom a connection
//! is a logged-in session with its WebSocket (no room); for PeerJS a
//! registered peer id with its WebSocket. Nothing is sent while holding.

use super::r1;
use super::relay::Proto;
use crate::client::{PeerJs, Ws};
use crate::http::Http;
use crate::net::Sources;
use crate::stats::rss_kib;
use crate::Target;
use clap::Args;
use futures_util::StreamExt;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::{sleep, sleep_until, Instant};

/// Flags.
#[derive(Args)]
pub struct Opts {
    #[command(flatten)]
    pub target: Target,
    /// Server protocol.
    #[arg(long, value_enum, default_value_t = Proto::Rtcroom)]
    pub proto: Proto,
    /// Connections to hold.
    #[arg(long, default_value_t = 10_000)]
    pub count: usize,
    /// Connections opened per second.
    #[arg(long, default_value_t = 2_000)]
    pub rate: u32,
    /// Seconds to hold before the reading (lets the server settle).
    #[arg(long, default_value_t = 5)]
    pub settle_secs: u64,
}

/// Reads (and drops) whatever arrives, so the socket stays serviced.
async fn drain(mut ws: Ws) {
    while let Some(Ok(_)) = ws.next().await {}
}

/// Runs the scenario.
pub async fn run(o: Opts) -> anyhow::Result<Value> {
    let sources = Arc::new(Sources::new(o.target.sources));
    let pid = o.target.server_pid.unwrap_or(0);
    let rss_before = rss_kib(pid);
    let start = Instant::now();
    let rate = f64::from(o.rate.max(1));
    let workers = 32usize;
    let mut tasks = Vec::new();
    for w in 0..workers {
        let sources = sources.clone();
        let rt = o.target.rtcroom();
        let pj = PeerJs {
            addr: o.target.server,
        };
        let (proto, count) = (o.proto, o.count);
        tasks.push(tokio::spawn(async move {
            let mut ok = 0usize;
            let mut http = match proto {
                Proto::Rtcroom => Http::connect(&sources, rt.addr).await.ok(),
                Proto::Peerjs => None,
            };
            for i in (w..count).step_by(workers) {
                sleep_until(start + Duration::from_secs_f64(i as f64 / rate)).await;
                let id = format!("c{i}");
                let ws = match (proto, http.as_mut()) {
                    (Proto::Rtcroom, Some(http)) => match rt.login(http, &id, &rt.sig(&id)).await {
                        Ok(login) => rt.ws(&sources, &login).await,
                        Err(e) => Err(e),
                    },
                    (Proto::Peerjs, _) => pj.connect(&sources, &id).await,
                    (Proto::Rtcroom, None) => Err(anyhow::anyhow!("no HTTP connection")),
                };
                match ws {
                    Ok(ws) => {
                        tokio::spawn(drain(ws));
                        ok += 1;
                    }
                    Err(e) if ok == 0 => eprintln!("[conns] {id}: {e:#}"),
                    Err(_) => {}
                }
            }
            ok
        }));
    }
    let mut held = 0;
    for t in tasks {
        held += t.await.unwrap_or(0);
    }
    let ramp = start.elapsed().as_secs_f64();
    sleep(Duration::from_secs(o.settle_secs)).await;
    let rss_after = rss_kib(pid);
    let per = (rss_after.saturating_sub(rss_before) * 1024) as f64 / held.max(1) as f64;
    let name = match o.proto {
        Proto::Rtcroom => "rtcroom",
        Proto::Peerjs => "peerjs",
    };
    eprintln!("[conns:{name}] {held} held; RSS {rss_before} → {rss_after} KiB ({per:.0} B each)");
    Ok(json!({
        "scenario": "conns",
        "proto": name,
        "count": o.count,
        "held": held,
        "ramp_secs": r1(ramp),
        "rss_before_kib": rss_before,
        "rss_after_kib": rss_after,
        "rss_per_conn_bytes": per.round(),
    }))
}
