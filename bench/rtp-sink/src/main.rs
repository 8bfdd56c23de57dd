//! `rtp-sink`: the cheap WebRTC receiver of bench/janus-load.mjs. Many Janus
//! subscriber transports on one UDP socket: it answers each offer, does ICE
//! (answers Janus' checks and nominates as the controlling agent) and the
//! DTLS-SRTP handshake, then counts what Janus sends from the SRTP packets'
//! clear headers (SRTP encrypts only the payload): packets, losses from
//! sequence gaps, video frames from marker bits, audio frames as packets. It
//! never decrypts, decodes or sends RTCP, so a receiver costs a few
//! microseconds per packet and Janus is what the load measures.
//!
//! Control: JSON lines on stdin, one answer line each on stdout:
//! `{"op":"answer","id":…,"group":…,"offer":SDP}` → `{"id":…,"answer":SDP,"port":…}` (or
//! `"error"`; the transports of one group, a room, share a socket and a thread);
//! `{"op":"stats"}` → `{"stats":{id:{"state":…,"streams":{ssrc:{kind,packetsReceived,packetsLost,frames}}}}}`.
//! The first line out is `{"ready":IP}`. It exits when stdin closes.
//!
//! Usage: `rtp-sink [IP]` (the address Janus reaches, default 10.77.0.1: the
//! veth of the test namespaces, Janus' `ice_enforce_list`).

mod dtls;
mod sdp;
mod stun;

use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::net::{SocketAddr, UdpSocket};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Connectivity checks go out this often until the handshake is done, then as keepalives.
const CHECK_EVERY: Duration = Duration::from_millis(200);
const KEEPALIVE_EVERY: Duration = Duration::from_millis(2000);
/// Receive buffer asked per socket.
const RECV_BUFFER_BYTES: usize = 4 << 20;

#[derive(Deserialize)]
struct Request {
    op: String,
    id: Option<String>,
    offer: Option<String>,
    /// Transports of one group share a socket and its thread.
    group: Option<String>,
}

/// One received RTP stream (SSRC).
struct Stream {
    kind: String,
    packets: u64,
    first_seq: u64,
    max_seq: u64,
    frames: u64,
}

/// One subscriber transport.
struct Peer {
    id: String,
    local_pwd: String,
    /// `remote_ufrag:local_ufrag`, the USERNAME of our checks.
    check_username: String,
    remote_pwd: String,
    candidates: Vec<SocketAddr>,
    kinds: HashMap<u8, String>,
    ice_ok: bool,
    dtls: Option<dtls::Handshake>,
    last_check: Option<Instant>,
    streams: HashMap<u32, Stream>,
}

struct State {
    peers: Vec<Peer>,
    by_addr: HashMap<SocketAddr, usize>,
    by_ufrag: HashMap<String, usize>,
}

fn random_hex(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    // openssl's CSPRNG fails only when it cannot seed, which would fail the DTLS set-up too.
    openssl::rand::rand_bytes(&mut b).expect("random bytes");
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Extends a 16-bit sequence number to the one nearest `max`.
fn extend_seq(seq: u16, max: u64) -> u64 {
    let base = (max & !0xFFFF) | u64::from(seq);
    [base.wrapping_sub(0x10000), base, base + 0x10000]
        .into_iter()
        .filter(|c| *c < u64::MAX / 2)
        .min_by_key(|c| c.abs_diff(max))
        .unwrap_or(base)
}

impl Peer {
    fn count_rtp(&mut self, b: &[u8]) {
        if b.len() < 12 {
            return;
        }
        let pt = b[1] & 0x7F;
        if (64..=95).contains(&pt) {
            return; // RTCP (RFC 5761 demultiplexing)
        }
        let seq = u16::from_be_bytes([b[2], b[3]]);
        let ssrc = u32::from_be_bytes([b[8], b[9], b[10], b[11]]);
        let kind = self
            .kinds
            .get(&pt)
            .cloned()
            .unwrap_or_else(|| "other".into());
        let s = self.streams.entry(ssrc).or_insert_with(|| Stream {
            kind,
            packets: 0,
            first_seq: 0x10000 + u64::from(seq),
            max_seq: 0x10000 + u64::from(seq),
            frames: 0,
        });
        let ext = extend_seq(seq, s.max_seq);
        s.max_seq = s.max_seq.max(ext);
        s.first_seq = s.first_seq.min(ext);
        s.packets += 1;
        if s.kind != "video" || b[1] & 0x80 != 0 {
            s.frames += 1;
        }
    }

    fn stats(&self) -> Value {
        let streams: Map<String, Value> = self
            .streams
            .iter()
            .map(|(ssrc, s)| {
                let expected = s.max_seq - s.first_seq + 1;
                (
                    ssrc.to_string(),
                    json!({"kind": s.kind, "packetsReceived": s.packets,
                           "packetsLost": expected.saturating_sub(s.packets), "frames": s.frames}),
                )
            })
            .collect();
        let state = match &self.dtls {
            Some(h) if h.done => "connected",
            Some(_) => "dtls",
            None if self.ice_ok => "ice",
            None => "new",
        };
        json!({"state": state, "streams": streams})
    }
}

/// Everything the socket thread does with one datagram.
fn on_datagram(st: &mut State, sock: &UdpSocket, id: &dtls::Identity, b: &[u8], from: SocketAddr) {
    if stun::is_stun(b) {
        let Some(m) = stun::parse(b) else { return };
        if m.is_request() {
            let local_ufrag = m
                .username
                .as_deref()
                .and_then(|u| u.split(':').next())
                .unwrap_or("");
            let Some(&i) = st.by_ufrag.get(local_ufrag) else {
                return;
            };
            st.by_addr.insert(from, i);
            let _ = sock.send_to(&stun::success(&m, from, &st.peers[i].local_pwd), from);
        } else if m.is_success() {
            if let Some(&i) = st.by_addr.get(&from) {
                let p = &mut st.peers[i];
                p.ice_ok = true;
                if p.dtls.is_none() {
                    start_dtls(p, sock, id, from);
                }
            }
        }
        return;
    }
    let Some(&i) = st.by_addr.get(&from) else {
        return;
    };
    let p = &mut st.peers[i];
    match b.first() {
        Some(20..=63) => {
            if let Some(h) = p.dtls.as_mut() {
                h.input(b);
                for d in h.output() {
                    let _ = sock.send_to(&d, from);
                }
            }
        }
        Some(128..=191) => p.count_rtp(b),
        _ => {}
    }
}

fn start_dtls(p: &mut Peer, sock: &UdpSocket, id: &dtls::Identity, to: SocketAddr) {
    match dtls::Handshake::start(id) {
        Ok(mut h) => {
            for d in h.output() {
                let _ = sock.send_to(&d, to);
            }
            p.dtls = Some(h);
        }
        Err(e) => eprintln!("rtp-sink: {}: DTLS set-up failed: {e}", p.id),
    }
}

/// Timers: connectivity checks, keepalives, stalled handshakes.
fn on_tick(st: &mut State, sock: &UdpSocket, id: &dtls::Identity) {
    let now = Instant::now();
    for p in &mut st.peers {
        let connected = p.dtls.as_ref().is_some_and(|h| h.done);
        let every = if connected {
            KEEPALIVE_EVERY
        } else {
            CHECK_EVERY
        };
        if p.last_check.is_none_or(|t| now.duration_since(t) >= every) {
            p.last_check = Some(now);
            let mut tx = [0u8; 12];
            // As random_hex: cannot fail once openssl is up.
            openssl::rand::rand_bytes(&mut tx).expect("random bytes");
            let req = stun::request(&tx, &p.check_username, &p.remote_pwd);
            for c in &p.candidates {
                let _ = sock.send_to(&req, c);
            }
        }
        if p.dtls.as_ref().is_some_and(dtls::Handshake::stalled) {
            if let Some(e) = p.dtls.as_ref().and_then(|h| h.failed.clone()) {
                eprintln!(
                    "rtp-sink: {}: DTLS handshake failed ({e}); starting over",
                    p.id
                );
            }
            if let Some(&to) = p.candidates.first() {
                start_dtls(p, sock, id, to);
            }
        }
    }
}

/// One UDP socket and the thread receiving on it, for the transports of one group (a room):
/// each socket's receive buffer then absorbs a room's bursts, not every room's.
struct Group {
    state: Arc<Mutex<State>>,
    local: SocketAddr,
}

impl Group {
    fn start(ip: &str, identity: Arc<dtls::Identity>) -> std::io::Result<Self> {
        let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None)?;
        // The six publishers of a room send their keyframes together (one
        // ffmpeg, one clip): Janus relays ~30 copies of a keyframe at once.
        // Capped by net.core.rmem_max; the bench reports the socket's drops.
        sock.set_recv_buffer_size(RECV_BUFFER_BYTES)?;
        let addr: SocketAddr = format!("{ip}:0").parse().map_err(|e| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("{ip}: {e}"))
        })?;
        sock.bind(&addr.into())?;
        let sock: UdpSocket = sock.into();
        let local = sock.local_addr()?;
        sock.set_read_timeout(Some(Duration::from_millis(20)))?;
        let state = Arc::new(Mutex::new(State {
            peers: Vec::new(),
            by_addr: HashMap::new(),
            by_ufrag: HashMap::new(),
        }));
        let shared = state.clone();
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 2048];
            let mut last_tick = Instant::now();
            loop {
                let got = sock.recv_from(&mut buf);
                let mut st = shared.lock().unwrap_or_else(PoisonError::into_inner);
                if let Ok((n, from)) = got {
                    on_datagram(&mut st, &sock, &identity, &buf[..n], from);
                }
                if last_tick.elapsed() >= Duration::from_millis(20) {
                    last_tick = Instant::now();
                    on_tick(&mut st, &sock, &identity);
                }
            }
        });
        Ok(Self { state, local })
    }
}

fn main() {
    let ip = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "10.77.0.1".into());
    let identity = Arc::new(dtls::Identity::new().expect("certificate and DTLS context"));
    let mut groups: HashMap<String, Group> = HashMap::new();
    let out = std::io::stdout();
    let say = |v: Value| {
        let mut o = out.lock();
        let _ = writeln!(o, "{v}");
        let _ = o.flush();
    };
    say(json!({"ready": ip}));
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        let req: Request = match serde_json::from_str(&line) {
            Ok(r) => r,
            Err(e) => {
                say(json!({"error": format!("bad request: {e}")}));
                continue;
            }
        };
        match req.op.as_str() {
            "answer" => {
                let id = req.id.unwrap_or_default();
                let offer = match sdp::parse(req.offer.as_deref().unwrap_or("")) {
                    Ok(o) => o,
                    Err(e) => {
                        say(json!({"id": id, "error": e}));
                        continue;
                    }
                };
                let key = req.group.unwrap_or_default();
                if !groups.contains_key(&key) {
                    match Group::start(&ip, identity.clone()) {
                        Ok(g) => {
                            groups.insert(key.clone(), g);
                        }
                        Err(e) => {
                            say(json!({"id": id, "error": format!("socket on {ip}: {e}")}));
                            continue;
                        }
                    }
                }
                let group = &groups[&key];
                let (ufrag, pwd) = (random_hex(4), random_hex(12));
                let answer = sdp::answer(
                    &offer,
                    &sdp::Local {
                        ufrag: &ufrag,
                        pwd: &pwd,
                        fingerprint: &identity.fingerprint,
                        addr: group.local,
                    },
                );
                let mut st = group.state.lock().unwrap_or_else(PoisonError::into_inner);
                let i = st.peers.len();
                for c in &offer.candidates {
                    st.by_addr.insert(*c, i);
                }
                st.by_ufrag.insert(ufrag.clone(), i);
                st.peers.push(Peer {
                    id: id.clone(),
                    local_pwd: pwd,
                    check_username: format!("{}:{ufrag}", offer.ufrag),
                    remote_pwd: offer.pwd.clone(),
                    candidates: offer.candidates.clone(),
                    kinds: offer.kinds.clone(),
                    ice_ok: false,
                    dtls: None,
                    last_check: None,
                    streams: HashMap::new(),
                });
                drop(st);
                say(json!({"id": id, "answer": answer, "port": group.local.port()}));
            }
            "stats" => {
                let mut stats = Map::new();
                for g in groups.values() {
                    let st = g.state.lock().unwrap_or_else(PoisonError::into_inner);
                    stats.extend(st.peers.iter().map(|p| (p.id.clone(), p.stats())));
                }
                say(json!({ "stats": stats }));
            }
            other => say(json!({"error": format!("unknown op {other}")})),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::extend_seq;

    #[test]
    fn sequence_numbers_extend_across_wraps() {
        assert_eq!(extend_seq(5, 0x1_0003), 0x1_0005);
        assert_eq!(extend_seq(2, 0x1_FFFE), 0x2_0002);
        assert_eq!(extend_seq(0xFFFE, 0x2_0001), 0x1_FFFE);
    }
}
