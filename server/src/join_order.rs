//! The join order handed to members whose `add_pusher` asks for it
//! (`Pusher::join_order`): between two such members the later joiner makes
//! the WebRTC offer. Values are wall-clock tenths of milliseconds made
//! strictly increasing within this process, so joins through one node are
//! ordered exactly and joins through two nodes about as they happened; both
//! sides of a pair read the same two values, so whatever they are, the rule
//! agrees with itself (ties break by `userID`). They have 14 digits until the
//! year 2286: a JavaScript number holds them exactly, and so does the Redis
//! store's Lua `cjson`, which writes numbers with 14 significant digits (a
//! microsecond clock, 16 digits, came back rounded and unreadable as an
//! integer).

use crate::store::Millis;
use std::sync::atomic::{AtomicU64, Ordering};

static LAST: AtomicU64 = AtomicU64::new(0);

/// The next join order at `now` (unix milliseconds).
pub fn next(now: Millis) -> u64 {
    let floor = now.saturating_mul(10);
    let mut last = LAST.load(Ordering::Relaxed);
    loop {
        let order = floor.max(last + 1);
        match LAST.compare_exchange_weak(last, order, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return order,
            Err(seen) => last = seen,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strictly_increasing_even_within_a_millisecond() {
        let a = next(1_700_000_000_000);
        let b = next(1_700_000_000_000);
        let c = next(1_600_000_000_000);
        assert!(a < b && b < c, "{a} {b} {c}");
        assert!(c < 100_000_000_000_000, "{c} has more than 14 digits");
    }
}
