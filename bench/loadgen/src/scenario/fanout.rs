//! Room message fan-out: one sender and `--receivers` members in one room.
//!
//! Phase 1 (latency): `room_text` at a steady `--rate`; for each message the
//! time from send to its *last* receiver getting it.
//! Phase 2 (throughput): the sender keeps `--window` messages in flight (sent
//! but not yet received by every member) for `--throughput-secs`; messages
//! per second that reached the whole room.

use super::{r1, room_id};
use crate::client::{Login, Ws};
use crate::http::Http;
use crate::net::Sources;
use crate::stats::{CpuMeter, Latency};
use crate::Target;
use clap::Args;
use futures_util::{SinkExt, StreamExt};
use rtcroom_protocol::ws::ClientFrame;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::{sleep, sleep_until, timeout, Instant};
use tokio_tungstenite::tungstenite::Message;

/// Flags.
#[derive(Args)]
pub struct Opts {
    #[command(flatten)]
    pub target: Target,
    /// Members receiving each message (the sender is one more).
    #[arg(long, default_value_t = 50)]
    pub receivers: usize,
    /// Messages per second in the latency phase.
    #[arg(long, default_value_t = 100)]
    pub rate: u32,
    /// Seconds of the latency phase.
    #[arg(long, default_value_t = 10)]
    pub secs: u64,
    /// Messages in flight in the throughput phase.
    #[arg(long, default_value_t = 64)]
    pub window: u64,
    /// Seconds of the throughput phase.
    #[arg(long, default_value_t = 10)]
    pub throughput_secs: u64,
}

const ROOM: &str = "fanout";

struct Receiver {
    /// Messages of phase 2 received.
    count: AtomicU64,
    /// Phase 1 arrival times, by message number.
    arrivals: Mutex<Vec<Option<Instant>>>,
}

/// The message number in a `room_text` frame's `"text":"N"` (no full parse:
/// the receivers must not be what limits the rate).
fn message_number(frame: &str) -> Option<usize> {
    if !frame.contains("\"room_text\"") {
        return None;
    }
    let rest = &frame[frame.find("\"text\":\"")? + 8..];
    let end = rest.find('"')?;
    rest[..end].parse().ok()
}

async fn receive(mut ws: Ws, me: Arc<Receiver>, phase1: usize, progress: Arc<Notify>) {
    while let Some(Ok(msg)) = ws.next().await {
        let Message::Text(t) = msg else { continue };
        let Some(n) = message_number(t.as_str()) else {
            continue;
        };
        if n < phase1 {
            if let Ok(mut a) = me.arrivals.lock() {
                a[n] = Some(Instant::now());
            }
        } else {
            me.count.fetch_add(1, Ordering::Relaxed);
            progress.notify_one();
        }
    }
}

fn text_frame(n: usize) -> Message {
    super::client_frame(&ClientFrame::RoomText {
        room_id: room_id(ROOM),
        text: n.to_string(),
    })
}

/// Runs the scenario.
pub async fn run(o: Opts) -> anyhow::Result<Value> {
    let rt = o.target.rtcroom();
    let sources = Sources::new(o.target.sources);
    let pid = o.target.server_pid.unwrap_or(0);
    let mut http = Http::connect(&sources, rt.addr).await?;
    let phase1 = (u64::from(o.rate) * o.secs) as usize;
    let mut members: Vec<(Login, Ws)> = Vec::new();
    for i in 0..=o.receivers {
        let user = format!("f{i}");
        let login = rt.login(&mut http, &user, &rt.sig(&user)).await?;
        rt.add_pusher(&mut http, &login, ROOM).await?;
        let ws = rt.ws(&sources, &login).await?;
        members.push((login, ws));
    }
    let (_, mut sender) = members.remove(0);
    // The sender's socket also gets pusher_join frames from later members: drain them.
    while timeout(Duration::from_millis(300), sender.next())
        .await
        .is_ok()
    {}
    let progress = Arc::new(Notify::new());
    let receivers: Vec<Arc<Receiver>> = members
        .into_iter()
        .map(|(_, ws)| {
            let r = Arc::new(Receiver {
                count: AtomicU64::new(0),
                arrivals: Mutex::new(vec![None; phase1]),
            });
            tokio::spawn(receive(ws, r.clone(), phase1, progress.clone()));
            r
        })
        .collect();
    sleep(Duration::from_millis(500)).await; // pusher_join frames drain
    eprintln!(
        "[fanout] 1 sender, {} receivers; {phase1} messages at {}/s",
        receivers.len(),
        o.rate
    );

    // Phase 1: latency at a steady rate.
    let start = Instant::now();
    let mut sent_at = Vec::with_capacity(phase1);
    let mut late = Vec::with_capacity(phase1);
    for n in 0..phase1 {
        let due = start + Duration::from_secs_f64(n as f64 / f64::from(o.rate.max(1)));
        sleep_until(due).await;
        late.push(Instant::now().saturating_duration_since(due));
        sent_at.push(Instant::now());
        sender.send(text_frame(n)).await?;
    }
    let complete = |rs: &[Arc<Receiver>]| {
        rs.iter().all(|r| {
            r.arrivals
                .lock()
                .map(|a| a.iter().all(Option::is_some))
                .unwrap_or(true)
        })
    };
    let wait_until = Instant::now() + Duration::from_secs(5);
    while !complete(&receivers) && Instant::now() < wait_until {
        sleep(Duration::from_millis(50)).await;
    }
    let mut lat = Vec::with_capacity(phase1);
    let mut lost = 0usize;
    for (n, sent) in sent_at.iter().enumerate() {
        let mut last = None;
        for r in &receivers {
            let at = r.arrivals.lock().ok().and_then(|a| a[n]);
            match at {
                Some(t) => last = Some(last.map_or(t, |l: Instant| l.max(t))),
                None => {
                    last = None;
                    lost += 1;
                    break;
                }
            }
        }
        if let Some(t) = last {
            lat.push(t - *sent);
        }
    }
    let latency = Latency::of(lat);
    eprintln!(
        "[fanout] send → last receive p50 {:.2} ms, p99 {:.2} ms ({lost} incomplete)",
        latency.p50_ms, latency.p99_ms
    );

    // Phase 2: messages per second the room sustains.
    let window = o.window.max(1);
    let min_received = |rs: &[Arc<Receiver>]| {
        rs.iter()
            .map(|r| r.count.load(Ordering::Relaxed))
            .min()
            .unwrap_or(0)
    };
    let cpu = CpuMeter::start(pid);
    let t0 = Instant::now();
    let end = t0 + Duration::from_secs(o.throughput_secs);
    let mut sent: u64 = 0;
    while Instant::now() < end {
        if sent < min_received(&receivers) + window {
            sender.send(text_frame(phase1 + sent as usize)).await?;
            sent += 1;
        } else {
            let _ = timeout(Duration::from_millis(100), progress.notified()).await;
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    let delivered = min_received(&receivers);
    let (_, cpu_pct) = cpu.read();
    let per_sec = delivered as f64 / secs;
    eprintln!(
        "[fanout] sustained {per_sec:.0} messages/s to the whole room (server CPU {cpu_pct:.0}%)"
    );
    Ok(json!({
        "scenario": "fanout",
        "receivers": receivers.len(),
        "latency_phase": {
            "rate": o.rate,
            "messages": phase1,
            "incomplete": lost,
            "send_to_last_receive": latency,
            "generator_timer_lateness": Latency::of(late),
        },
        "throughput_phase": {
            "window": window,
            "secs": r1(secs),
            "messages_to_whole_room": delivered,
            "messages_per_sec": r1(per_sec),
            "deliveries_per_sec": r1(per_sec * receivers.len() as f64),
            "server_cpu_pct": r1(cpu_pct),
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_message_number_in_a_room_text_frame() {
        let frame = r#"{"seq":9,"type":"room_text","roomID":"fanout","userID":"f0","head":{"cmd":"CustomTextMsg","data":{"nickName":"f0","headPic":""}},"text":"42","time":1}"#;
        assert_eq!(message_number(frame), Some(42));
        assert_eq!(
            message_number(r#"{"seq":1,"type":"pusher_join","text":"1"}"#),
            None
        );
        assert_eq!(
            message_number(r#"{"seq":1,"type":"room_text","text":"x"}"#),
            None
        );
    }
}
