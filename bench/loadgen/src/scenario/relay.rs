//! Signaling relay throughput: `--pairs` pairs of peers, each side sending
//! offer/answer-sized frames (`--size` bytes of SDP) to the other through the
//! server, with at most `--window` frames in flight per direction, for
//! `--secs` after a `--warmup`. The same generator drives rtcroom (`offer` /
//! `answer` between the two members of a room) and the PeerJS server
//! (`OFFER` / `ANSWER` to a peer id), each in its own protocol.

use super::{r1, room_id, user_id};
use crate::client::{PeerJs, Ws};
use crate::http::Http;
use crate::net::Sources;
use crate::stats::{rss_kib, CpuMeter};
use crate::Target;
use clap::{Args, ValueEnum};
use futures_util::{FutureExt, SinkExt, StreamExt};
use rtcroom_protocol::ws::ClientFrame;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::{sleep_until, Instant};
use tokio_tungstenite::tungstenite::Message;

/// Which server.
#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Proto {
    /// rtcroom-server.
    Rtcroom,
    /// The PeerJS server (npm `peer`).
    Peerjs,
}

/// Flags.
#[derive(Args)]
pub struct Opts {
    #[command(flatten)]
    pub target: Target,
    /// Server protocol.
    #[arg(long, value_enum, default_value_t = Proto::Rtcroom)]
    pub proto: Proto,
    /// Pairs of peers.
    #[arg(long, default_value_t = 50)]
    pub pairs: usize,
    /// Bytes of SDP per frame.
    #[arg(long, default_value_t = 3_000)]
    pub size: usize,
    /// Frames in flight per direction.
    #[arg(long, default_value_t = 16)]
    pub window: u64,
    /// Seconds before measuring (JIT warm-up for node).
    #[arg(long, default_value_t = 2)]
    pub warmup: u64,
    /// Seconds measured.
    #[arg(long, default_value_t = 10)]
    pub secs: u64,
}

/// SDP-like text of about `size` bytes (CRLF lines, as browsers write it).
fn fake_sdp(size: usize) -> String {
    let mut s =
        String::from("v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n");
    let mut i = 0;
    while s.len() < size {
        s.push_str(&format!(
            "a=rtpmap:{} VP8/90000\r\na=rtcp-fb:{} nack pli\r\na=fmtp:{} apt={}\r\n",
            96 + i % 32,
            96 + i % 32,
            97 + i % 32,
            96 + i % 32
        ));
        i += 1;
    }
    s.truncate(size);
    s
}

fn frame(proto: Proto, offer: bool, to: &str, room: &str, sdp: &str) -> Message {
    let kind = if offer { "offer" } else { "answer" };
    let v = match proto {
        Proto::Rtcroom => return super::client_frame(&signal(offer, to, room, sdp)),
        Proto::Peerjs => json!({
            "type": kind.to_uppercase(),
            "dst": to,
            "payload": {
                "sdp": {"type": kind, "sdp": sdp},
                "type": "media",
                "connectionId": "mc_bench0000000",
                "metadata": null,
            },
        }),
    };
    Message::Text(v.to_string().into())
}

/// Our offer or answer to `to`, as the protocol types it.
fn signal(offer: bool, to: &str, room: &str, sdp: &str) -> ClientFrame {
    let (room_id, to, sdp) = (room_id(room), user_id(to), sdp.to_owned());
    if offer {
        ClientFrame::Offer { room_id, to, sdp }
    } else {
        ClientFrame::Answer { room_id, to, sdp }
    }
}

/// One side of a pair: sends while its window allows, counts what arrives.
struct Side {
    received: AtomicU64,
    wake: Notify,
}

async fn run_side(
    mut ws: Ws,
    out: Message,
    me: Arc<Side>,
    peer: Arc<Side>,
    window: u64,
    end: Instant,
    total: Arc<AtomicU64>,
) {
    let mut sent: u64 = 0;
    let on_msg = |m: Option<Result<Message, _>>| -> bool {
        match m {
            Some(Ok(Message::Text(_))) => {
                me.received.fetch_add(1, Ordering::Relaxed);
                total.fetch_add(1, Ordering::Relaxed);
                me.wake.notify_one(); // unused by me; the peer waits on its own
                peer.wake.notify_one();
                true
            }
            Some(Ok(_)) => true,
            _ => false,
        }
    };
    loop {
        if Instant::now() >= end {
            return;
        }
        if sent < peer.received.load(Ordering::Relaxed) + window {
            if ws.send(out.clone()).await.is_err() {
                return;
            }
            sent += 1;
            while let Some(m) = ws.next().now_or_never() {
                if !on_msg(m) {
                    return;
                }
            }
        } else {
            tokio::select! {
                m = ws.next() => if !on_msg(m) { return },
                _ = me.wake.notified() => {}
                _ = sleep_until(end) => return,
            }
        }
    }
}

/// Runs the scenario.
pub async fn run(o: Opts) -> anyhow::Result<Value> {
    let sources = Sources::new(o.target.sources);
    let pid = o.target.server_pid.unwrap_or(0);
    let sdp = fake_sdp(o.size);
    let mut pairs: Vec<[(String, Ws); 2]> = Vec::with_capacity(o.pairs);
    let rss_before = rss_kib(pid);
    match o.proto {
        Proto::Rtcroom => {
            let rt = o.target.rtcroom();
            let mut http = Http::connect(&sources, rt.addr).await?;
            for i in 0..o.pairs {
                let room = format!("p{i}");
                let mut side = Vec::new();
                for who in ["a", "b"] {
                    let user = format!("{who}{i}");
                    let login = rt.login(&mut http, &user, &rt.sig(&user)).await?;
                    rt.add_pusher(&mut http, &login, &room).await?;
                    side.push((user, rt.ws(&sources, &login).await?));
                }
                let [a, b]: [(String, Ws); 2] = side
                    .try_into()
                    .map_err(|_| anyhow::anyhow!("two sides expected"))?;
                pairs.push([a, b]);
            }
        }
        Proto::Peerjs => {
            let pj = PeerJs {
                addr: o.target.server,
            };
            for i in 0..o.pairs {
                let a = format!("a{i}");
                let b = format!("b{i}");
                let wa = pj.connect(&sources, &a).await?;
                let wb = pj.connect(&sources, &b).await?;
                pairs.push([(a, wa), (b, wb)]);
            }
        }
    }
    let rss_connected = rss_kib(pid);
    let total = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let end = start + Duration::from_secs(o.warmup + o.secs);
    let mut tasks = Vec::new();
    for (i, [(a, wa), (b, wb)]) in pairs.into_iter().enumerate() {
        let room = format!("p{i}");
        let sa = Arc::new(Side {
            received: AtomicU64::new(0),
            wake: Notify::new(),
        });
        let sb = Arc::new(Side {
            received: AtomicU64::new(0),
            wake: Notify::new(),
        });
        let fa = frame(o.proto, true, &b, &room, &sdp);
        let fb = frame(o.proto, false, &a, &room, &sdp);
        tasks.push(tokio::spawn(run_side(
            wa,
            fa,
            sa.clone(),
            sb.clone(),
            o.window,
            end,
            total.clone(),
        )));
        tasks.push(tokio::spawn(run_side(
            wb,
            fb,
            sb,
            sa,
            o.window,
            end,
            total.clone(),
        )));
    }
    sleep_until(start + Duration::from_secs(o.warmup)).await;
    let n0 = total.load(Ordering::Relaxed);
    let t0 = Instant::now();
    let cpu = CpuMeter::start(pid);
    let own = CpuMeter::start(std::process::id());
    sleep_until(end).await;
    let (_, loadgen_pct) = own.read();
    let n1 = total.load(Ordering::Relaxed);
    let secs = t0.elapsed().as_secs_f64();
    let (cpu_secs, cpu_pct) = cpu.read();
    let rss_peak = rss_kib(pid);
    for t in tasks {
        let _ = t.await;
    }
    let per_sec = (n1 - n0) as f64 / secs;
    let name = match o.proto {
        Proto::Rtcroom => "rtcroom",
        Proto::Peerjs => "peerjs",
    };
    eprintln!("[relay:{name}] {per_sec:.0} frames/s relayed, server CPU {cpu_pct:.0}%");
    Ok(json!({
        "scenario": "relay",
        "proto": name,
        "pairs": o.pairs,
        "frame_sdp_bytes": o.size,
        "frame_bytes": frame(o.proto, true, "b0", "p0", &sdp).len(),
        "window": o.window,
        "secs": r1(secs),
        "relayed": n1 - n0,
        "messages_per_sec": r1(per_sec),
        "server_cpu_pct": r1(cpu_pct),
        "loadgen_cpu_pct": r1(loadgen_pct),
        "messages_per_server_cpu_sec": r1((n1 - n0) as f64 / cpu_secs.max(1e-9)),
        "rss_before_kib": rss_before,
        "rss_connected_kib": rss_connected,
        "rss_under_load_kib": rss_peak,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_carry_an_sdp_of_the_asked_size_in_each_protocol() {
        let sdp = fake_sdp(3_000);
        assert_eq!(sdp.len(), 3_000);
        assert!(sdp.starts_with("v=0\r\n"));
        let Message::Text(t) = frame(Proto::Rtcroom, true, "b0", "p0", &sdp) else {
            panic!("text frame expected")
        };
        let v: Value = serde_json::from_str(t.as_str()).expect("JSON");
        assert_eq!(
            (v["type"].as_str(), v["to"].as_str(), v["roomID"].as_str()),
            (Some("offer"), Some("b0"), Some("p0"))
        );
        assert_eq!(v["sdp"].as_str(), Some(sdp.as_str()));
        let Message::Text(t) = frame(Proto::Peerjs, false, "a0", "p0", &sdp) else {
            panic!("text frame expected")
        };
        let v: Value = serde_json::from_str(t.as_str()).expect("JSON");
        assert_eq!(
            (v["type"].as_str(), v["dst"].as_str()),
            (Some("ANSWER"), Some("a0"))
        );
        assert_eq!(v["payload"]["sdp"]["sdp"].as_str(), Some(sdp.as_str()));
    }
}
