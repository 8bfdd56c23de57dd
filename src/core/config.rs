//! Tunables of the core. The defaults suit browsers; tests shorten or pin them.

/// Core settings (all times in milliseconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// First reconnect delay; doubles per failed attempt.
    pub reconnect_min_ms: u64,
    /// Longest reconnect delay.
    pub reconnect_max_ms: u64,
    /// Seed for reconnect jitter (each delay `d` becomes one in `d/2..=d`).
    /// `None` disables jitter. Drivers pass a random seed; there is no RNG inside.
    pub jitter_seed: Option<u64>,
    /// Give a socket up when its `welcome` has not come this long after
    /// asking for it (0: wait for the driver to report the close).
    pub connect_timeout_ms: u64,
    /// Send a `ping` frame after this long without sending one (0: never).
    pub ping_interval_ms: u64,
    /// Consider the socket dead and reconnect after this long without any
    /// frame from the server (0: never). Keep it above `ping_interval_ms`.
    pub dead_after_ms: u64,
    /// A frame's call fails with `Timeout` when it has no `ack` this long after
    /// it was queued.
    pub ack_timeout_ms: u64,
    /// Consecutive failed socket attempts, before the session's socket ever
    /// connected, after which the session ends (an `error` event, code -1006).
    pub login_connect_attempts: u32,
    /// Delay before retrying a failed room re-sync.
    pub sync_retry_ms: u64,
    /// A peer connection whose ICE stays `disconnected` this long is
    /// recovered (see `recovery`); `failed` is recovered at once.
    pub media_disconnect_grace_ms: u64,
    /// How long an ICE restart may take before the peer starts over from
    /// scratch (the answering side waits twice this for the offerer's restart);
    /// also the first wait after starting over.
    pub ice_restart_timeout_ms: u64,
    /// Longest wait between two fresh starts of a peer that does not connect.
    pub media_retry_max_ms: u64,
    /// Whether this host can open SFU connections (the browser glue can; the
    /// mini-program, whose media is RTMP, cannot: its room stays as it is and
    /// the server bridges it). Without it `room_mode sfu` changes nothing.
    pub sfu: bool,
    /// During the switch to SFU, a member's mesh peer closes once that
    /// member's SFU video plays, or after this long at the latest.
    pub sfu_switch_timeout_ms: u64,
    /// Failed ICE restarts of one SFU link after which both SFU links start
    /// afresh (new connections, published and subscribed anew).
    pub sfu_ice_restarts: u32,
    /// While the glue makes its spare peer connection (asked for at login),
    /// `enterRoom` waits this long at most for the spare's offer, which its
    /// `add_pusher` then carries to the first member (0: never wait; hosts
    /// whose glue keeps no spare).
    pub spare_offer_wait_ms: u64,
    /// Ask the glue for its spare peer connection when the core is made, not
    /// at `login`: the first room's offer (the engine's first peer
    /// connection, ~10 ms of main thread, and its candidates) is then ready
    /// before the user joins. Only for hosts whose glue keeps spares.
    pub spare_at_start: bool,
    /// Emit [`Event::DebugLog`](super::Event::DebugLog).
    pub debug_log: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            reconnect_min_ms: 250,
            reconnect_max_ms: 8_000,
            jitter_seed: None,
            connect_timeout_ms: 10_000,
            ping_interval_ms: 10_000,
            dead_after_ms: 30_000,
            ack_timeout_ms: 15_000,
            login_connect_attempts: 3,
            sync_retry_ms: 1_000,
            media_disconnect_grace_ms: 2_000,
            ice_restart_timeout_ms: 5_000,
            media_retry_max_ms: 30_000,
            sfu: true,
            sfu_switch_timeout_ms: 8_000,
            sfu_ice_restarts: 3,
            spare_offer_wait_ms: 50,
            spare_at_start: true,
            debug_log: true,
        }
    }
}
