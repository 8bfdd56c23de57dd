//! Counters for `GET /metrics` (Prometheus text format). Plain atomics: a
//! counter bump on the hot path is one relaxed add.

use crate::shards::lock;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Service-wide counters.
#[derive(Default)]
pub struct Metrics {
    /// HTTP commands served.
    pub http_requests: AtomicU64,
    /// Successful logins.
    pub logins: AtomicU64,
    /// WebSocket frames received.
    pub ws_frames_in: AtomicU64,
    /// Room text messages fanned out.
    pub text_messages: AtomicU64,
    /// Room custom messages fanned out.
    pub custom_messages: AtomicU64,
    /// offer/answer/candidate/renegotiate/mesh_release frames relayed.
    pub signals_relayed: AtomicU64,
    /// Members removed for missed heartbeats.
    pub heartbeat_evictions: AtomicU64,
    /// Members removed after their socket stayed closed past the grace period.
    pub disconnect_evictions: AtomicU64,
    /// Sessions logged out for `limits.session_idle_secs` without a socket or request.
    pub idle_sessions: AtomicU64,
    /// Client event reports (`utils/report`) received.
    pub client_reports: AtomicU64,
    /// WebSocket connections closed because a write did not complete in time.
    pub write_timeouts: AtomicU64,
    /// RTMP publishes the on_publish hook allowed.
    pub rtmp_publish_allowed: AtomicU64,
    /// RTMP publishes the on_publish hook refused (all reasons).
    pub rtmp_publish_refused: AtomicU64,
    /// The RTMP bridge's ffmpeg processes (media/bridge.rs).
    pub bridges: std::sync::Arc<crate::media::ffmpeg::ProcessStats>,
    /// The RTMP → WebRTC ingests' ffmpeg processes (media/ingest.rs).
    pub ingests: std::sync::Arc<crate::media::ffmpeg::ProcessStats>,
    /// The debug test members' pushing ffmpeg processes (media/test_member.rs).
    pub test_pushers: std::sync::Arc<crate::media::ffmpeg::ProcessStats>,
    errors: Mutex<BTreeMap<i32, u64>>,
    rtmp_refusals: Mutex<BTreeMap<&'static str, u64>>,
}

/// Gauges read at scrape time.
pub struct Gauges {
    /// Rooms held.
    pub rooms: usize,
    /// Members in rooms.
    pub members: usize,
    /// Login sessions on this node.
    pub sessions: usize,
    /// Open WebSocket connections.
    pub sockets: usize,
    /// Open IM-style sockets (`/im` taps).
    pub im_taps: usize,
    /// Frames sent.
    pub frames_out: u64,
    /// Connections dropped as too slow.
    pub slow_consumers: u64,
}

impl Metrics {
    /// Counts an error answered with `code`.
    pub fn error(&self, code: i32) {
        *lock(&self.errors).entry(code).or_default() += 1;
    }

    /// Errors answered so far with `code`.
    pub fn errors_with(&self, code: i32) -> u64 {
        lock(&self.errors).get(&code).copied().unwrap_or(0)
    }

    /// Counts an RTMP publish refused for `reason` (a short snake_case label).
    pub fn rtmp_refused(&self, reason: &'static str) {
        self.rtmp_publish_refused.fetch_add(1, Ordering::Relaxed);
        *lock(&self.rtmp_refusals).entry(reason).or_default() += 1;
    }

    /// RTMP publishes refused so far for `reason`.
    pub fn rtmp_refused_for(&self, reason: &str) -> u64 {
        lock(&self.rtmp_refusals).get(reason).copied().unwrap_or(0)
    }

    /// Renders the Prometheus exposition.
    pub fn render(&self, g: &Gauges) -> String {
        let mut out = String::with_capacity(2048);
        let mut gauge = |name: &str, help: &str, v: u64| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
        };
        gauge("rtcroom_rooms", "Rooms held.", g.rooms as u64);
        gauge("rtcroom_members", "Members in rooms.", g.members as u64);
        gauge(
            "rtcroom_sessions",
            "Login sessions on this node.",
            g.sessions as u64,
        );
        gauge(
            "rtcroom_sockets",
            "Open WebSocket connections.",
            g.sockets as u64,
        );
        gauge(
            "rtcroom_im_taps",
            "Open IM-style sockets (/im taps).",
            g.im_taps as u64,
        );
        gauge(
            "rtcroom_bridges_running",
            "WebRTC to RTMP bridges (ffmpeg processes) running.",
            self.bridges.running.load(Ordering::Relaxed),
        );
        gauge(
            "rtcroom_ingests_running",
            "RTMP to WebRTC ingests (ffmpeg processes) running.",
            self.ingests.running.load(Ordering::Relaxed),
        );
        let counters: [(&str, &str, u64); 19] = [
            (
                "rtcroom_ingest_starts_total",
                "Ingest ffmpeg processes started (restarts included).",
                self.ingests.starts.load(Ordering::Relaxed),
            ),
            (
                "rtcroom_ingest_restarts_total",
                "Ingest ffmpeg processes restarted after an unexpected exit.",
                self.ingests.restarts.load(Ordering::Relaxed),
            ),
            (
                "rtcroom_bridge_starts_total",
                "Bridge ffmpeg processes started (restarts included).",
                self.bridges.starts.load(Ordering::Relaxed),
            ),
            (
                "rtcroom_bridge_restarts_total",
                "Bridge ffmpeg processes restarted after an unexpected exit.",
                self.bridges.restarts.load(Ordering::Relaxed),
            ),
            (
                "rtcroom_ws_write_timeouts_total",
                "WebSocket connections closed because a write did not complete in time.",
                self.write_timeouts.load(Ordering::Relaxed),
            ),
            (
                "rtcroom_http_requests_total",
                "HTTP commands served.",
                self.http_requests.load(Ordering::Relaxed),
            ),
            (
                "rtcroom_logins_total",
                "Successful logins.",
                self.logins.load(Ordering::Relaxed),
            ),
            (
                "rtcroom_ws_frames_in_total",
                "WebSocket frames received.",
                self.ws_frames_in.load(Ordering::Relaxed),
            ),
            (
                "rtcroom_ws_frames_out_total",
                "WebSocket frames sent.",
                g.frames_out,
            ),
            (
                "rtcroom_text_messages_total",
                "Room text messages.",
                self.text_messages.load(Ordering::Relaxed),
            ),
            (
                "rtcroom_custom_messages_total",
                "Room custom messages.",
                self.custom_messages.load(Ordering::Relaxed),
            ),
            (
                "rtcroom_signals_relayed_total",
                "Offers, answers, candidates, renegotiation requests and mesh releases relayed.",
                self.signals_relayed.load(Ordering::Relaxed),
            ),
            (
                "rtcroom_heartbeat_evictions_total",
                "Members removed for missed heartbeats.",
                self.heartbeat_evictions.load(Ordering::Relaxed),
            ),
            (
                "rtcroom_disconnect_evictions_total",
                "Members removed after their socket stayed closed.",
                self.disconnect_evictions.load(Ordering::Relaxed),
            ),
            (
                "rtcroom_idle_sessions_total",
                "Sessions logged out after staying without a socket or request.",
                self.idle_sessions.load(Ordering::Relaxed),
            ),
            (
                "rtcroom_slow_consumers_total",
                "Connections dropped as too slow.",
                g.slow_consumers,
            ),
            (
                "rtcroom_client_reports_total",
                "Client event reports (utils/report) received.",
                self.client_reports.load(Ordering::Relaxed),
            ),
            (
                "rtcroom_rtmp_publish_allowed_total",
                "RTMP publishes allowed by the on_publish hook.",
                self.rtmp_publish_allowed.load(Ordering::Relaxed),
            ),
            (
                "rtcroom_rtmp_publish_refused_total",
                "RTMP publishes refused by the on_publish hook.",
                self.rtmp_publish_refused.load(Ordering::Relaxed),
            ),
        ];
        for (name, help, v) in counters {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}"
            );
        }
        let _ = writeln!(out, "# HELP rtcroom_errors_total Errors answered, by code.\n# TYPE rtcroom_errors_total counter");
        for (code, n) in lock(&self.errors).iter() {
            let _ = writeln!(out, "rtcroom_errors_total{{code=\"{code}\"}} {n}");
        }
        let _ = writeln!(out, "# HELP rtcroom_rtmp_publish_refusals_total RTMP publishes refused, by reason.\n# TYPE rtcroom_rtmp_publish_refusals_total counter");
        for (reason, n) in lock(&self.rtmp_refusals).iter() {
            let _ = writeln!(
                out,
                "rtcroom_rtmp_publish_refusals_total{{reason=\"{reason}\"}} {n}"
            );
        }
        out
    }
}
