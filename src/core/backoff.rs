//! Reconnect delays: exponential back-off with optional "equal jitter" from a
//! seeded xorshift generator, so every run with the same seed is the same.

/// Back-off state for one session.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    min_ms: u64,
    max_ms: u64,
    failures: u32,
    rng: Option<u64>,
}

impl Backoff {
    pub(crate) fn new(min_ms: u64, max_ms: u64, seed: Option<u64>) -> Self {
        Self {
            min_ms: min_ms.max(1),
            max_ms: max_ms.max(min_ms.max(1)),
            failures: 0,
            // xorshift must not start at 0.
            rng: seed.map(|s| if s == 0 { 0x9E37_79B9_7F4A_7C15 } else { s }),
        }
    }

    /// Consecutive failures so far.
    pub(crate) fn failures(&self) -> u32 {
        self.failures
    }

    /// Records a failure and returns how long to wait before the next attempt:
    /// `min·2^(n-1)` capped at `max`, then jittered into its upper half.
    pub(crate) fn fail(&mut self) -> u64 {
        self.failures = self.failures.saturating_add(1);
        let shift = (self.failures - 1).min(20);
        let base = self.min_ms.saturating_mul(1 << shift).min(self.max_ms);
        match self.next_random() {
            // `checked_rem` (the divisor is never 0): no division panic in the wasm.
            Some(r) => (r.checked_rem(base - base / 2 + 1)).map_or(base, |m| base / 2 + m),
            None => base,
        }
    }

    /// A connection succeeded.
    pub(crate) fn reset(&mut self) {
        self.failures = 0;
    }

    fn next_random(&mut self) -> Option<u64> {
        let x = self.rng.as_mut()?;
        *x ^= *x << 13;
        *x ^= *x >> 7;
        *x ^= *x << 17;
        Some(*x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_cap_and_resets() {
        let mut b = Backoff::new(250, 8_000, None);
        let d: Vec<u64> = (0..8).map(|_| b.fail()).collect();
        assert_eq!(d, [250, 500, 1_000, 2_000, 4_000, 8_000, 8_000, 8_000]);
        b.reset();
        assert_eq!(b.fail(), 250);
    }

    #[test]
    fn jitter_stays_in_the_upper_half_and_is_deterministic() {
        let mut a = Backoff::new(250, 8_000, Some(42));
        let mut b = Backoff::new(250, 8_000, Some(42));
        for n in 0..50u32 {
            let base = (250u64 << n.min(20)).min(8_000);
            let d = a.fail();
            assert!(
                (base / 2..=base).contains(&d),
                "{d} not in {}..={base}",
                base / 2
            );
            assert_eq!(d, b.fail());
        }
    }
}
