//! Percentiles and the server process's memory and CPU, read from `/proc`.

use serde::Serialize;
use std::time::Duration;

/// Latency summary in milliseconds.
#[derive(Debug, Serialize, Default, Clone, Copy)]
pub struct Latency {
    /// Samples.
    pub n: usize,
    /// Median.
    pub p50_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Largest sample.
    pub max_ms: f64,
}

impl Latency {
    /// Summarizes `samples` (any order).
    pub fn of(mut samples: Vec<Duration>) -> Self {
        if samples.is_empty() {
            return Self::default();
        }
        samples.sort_unstable();
        let at = |q: f64| {
            let i = ((samples.len() as f64 * q).ceil() as usize).clamp(1, samples.len()) - 1;
            samples[i].as_secs_f64() * 1000.0
        };
        Self {
            n: samples.len(),
            p50_ms: at(0.50),
            p99_ms: at(0.99),
            max_ms: at(1.0),
        }
    }
}

/// Resident set size of `pid` in KiB (`VmRSS`), 0 when unreadable.
pub fn rss_kib(pid: u32) -> u64 {
    status_kib(pid, "VmRSS:")
}

/// The anonymous part of `pid`'s RSS in KiB (`RssAnon`: heap and stacks, not
/// the binary's mapped text), 0 when unreadable.
pub fn rss_anon_kib(pid: u32) -> u64 {
    status_kib(pid, "RssAnon:")
}

fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// The soft open-file limit of `pid` (`Max open files` in `/proc/<pid>/limits`).
pub fn fd_limit(pid: u32) -> Option<u64> {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// How many members (one socket on each side) both processes can hold, given
/// their open-file limits: the lower one, less the HTTP pool (`workers`) and a
/// margin; `wanted` when neither limit is known.
pub fn member_cap(limits: [Option<u64>; 2], workers: usize, wanted: usize) -> usize {
    let reserve = (workers + 200) as u64;
    limits
        .into_iter()
        .flatten()
        .map(|l| l.saturating_sub(reserve) as usize)
        .min()
        .unwrap_or(wanted)
}

/// CPU time (user + system) of `pid` so far, in seconds.
pub fn cpu_secs(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the parenthesized command name; utime and stime are the
    // 14th and 15th fields of the line, in USER_HZ (100 on Linux) ticks.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    (ticks(11) + ticks(12)) as f64 / 100.0
}

/// CPU use of a process over a span of wall time.
pub struct CpuMeter {
    pid: u32,
    cpu0: f64,
    t0: std::time::Instant,
}

impl CpuMeter {
    /// Starts measuring `pid`.
    pub fn start(pid: u32) -> Self {
        Self {
            pid,
            cpu0: cpu_secs(pid),
            t0: std::time::Instant::now(),
        }
    }

    /// (CPU seconds used, percent of one core) since the start.
    pub fn read(&self) -> (f64, f64) {
        let used = cpu_secs(self.pid) - self.cpu0;
        let wall = self.t0.elapsed().as_secs_f64().max(1e-9);
        (used, 100.0 * used / wall)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let ms = |v: u64| Duration::from_millis(v);
        let l = Latency::of((1..=100).rev().map(ms).collect());
        assert_eq!(
            (l.n, l.p50_ms, l.p99_ms, l.max_ms),
            (100, 50.0, 99.0, 100.0)
        );
        assert_eq!(Latency::of(vec![ms(7)]).p99_ms, 7.0);
        assert_eq!(Latency::of(Vec::new()).n, 0);
    }

    #[test]
    fn reads_this_process_from_proc() {
        let me = std::process::id();
        assert!(rss_kib(me) > 0);
        assert!(fd_limit(me).is_some_and(|n| n > 0));
        assert!(cpu_secs(me) >= 0.0);
    }
}
