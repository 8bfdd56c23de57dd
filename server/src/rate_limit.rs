//! The frames-per-second token bucket both sockets apply to their clients
//! (`limits.messages_per_second`, `limits.messages_burst`).

use crate::config::Limits;
use std::time::Instant;

/// A token bucket: `burst` frames at once, refilled at `per_sec`.
pub struct RateLimit {
    tokens: f64,
    burst: f64,
    per_sec: f64,
    last: Instant,
}

impl RateLimit {
    /// A full bucket with the configured rate and burst.
    pub fn new(limits: &Limits, now: Instant) -> Self {
        let burst = f64::from(limits.messages_burst.max(1));
        Self {
            tokens: burst,
            burst,
            per_sec: f64::from(limits.messages_per_second),
            last: now,
        }
    }

    /// Takes one token if there is one.
    pub fn allow(&mut self, now: Instant) -> bool {
        let dt = now.duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + dt * self.per_sec).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}
