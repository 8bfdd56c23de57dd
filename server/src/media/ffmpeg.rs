//! A supervised child process (the bridge's ffmpeg): started, restarted on
//! exit with back-off, killed when its owner stops it, and never outliving
//! RoomService.
//!
//! * Each child is the leader of its own process group (`process_group(0)`),
//!   so it is found (and could be signalled) by group, apart from
//!   RoomService's.
//! * It is started through util-linux `setpriv --pdeathsig KILL --`, which
//!   sets `prctl(PR_SET_PDEATHSIG, SIGKILL)` and then execs the program (same
//!   pid): when RoomService dies — SIGTERM, SIGKILL, a crash — the kernel
//!   kills the child. The workspace forbids `unsafe_code`, so no `pre_exec`
//!   here; setpriv (util-linux, present on every Debian) does it for us. The
//!   death signal follows the *thread* that spawned the child: children are
//!   spawned from tokio's worker threads, which live as long as the runtime.
//!   Without setpriv the child starts without it (a warning says so).
//! * `kill_on_drop`: dropping the supervising task (runtime shutdown) kills it too.
//! * Its stderr goes to the log line by line.

use async_trait::async_trait;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio_util::sync::CancellationToken;

/// Counters of supervised processes (exported as metrics).
#[derive(Debug, Default)]
pub struct ProcessStats {
    /// Processes running now.
    pub running: AtomicU64,
    /// Starts, first ones included.
    pub starts: AtomicU64,
    /// Restarts after an unexpected exit (or a failed start-up step).
    pub restarts: AtomicU64,
}

/// One command line.
#[derive(Debug, Clone)]
pub struct CommandLine {
    /// The program.
    pub program: String,
    /// Its arguments.
    pub args: Vec<String>,
}

/// What a supervised process is for: its command line (asked again before
/// each start) and what to do once it runs.
#[async_trait]
pub trait Job: Send {
    /// The command line of the next start; `None` gives up for good.
    async fn command(&mut self) -> Option<CommandLine>;
    /// Runs after each start; an error kills the child and restarts it.
    async fn started(&mut self, child: &mut Child, attempt: u64) -> Result<(), String>;
    /// Runs once, after the last child is gone.
    async fn stopped(&mut self);
}

fn setpriv() -> Option<&'static str> {
    static FOUND: OnceLock<Option<String>> = OnceLock::new();
    FOUND
        .get_or_init(|| {
            let path = std::env::var_os("PATH")?;
            std::env::split_paths(&path)
                .map(|d| d.join("setpriv"))
                .find(|p| p.is_file())
                .map(|p| p.to_string_lossy().into_owned())
        })
        .as_deref()
}

/// Spawns `line` in its own process group, with a parent-death signal,
/// stderr to the log under `label`.
pub fn spawn(line: &CommandLine, label: &str) -> std::io::Result<Child> {
    let mut cmd = match setpriv() {
        Some(setpriv) => {
            let mut c = Command::new(setpriv);
            c.args(["--pdeathsig", "KILL", "--"]).arg(&line.program);
            c
        }
        None => {
            tracing::warn!(
                label,
                "setpriv not found: the child is not killed if RoomService dies"
            );
            Command::new(&line.program)
        }
    };
    cmd.args(&line.args)
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = cmd.spawn()?;
    if let Some(stderr) = child.stderr.take() {
        let label = label.to_owned();
        let pid = child.id().unwrap_or_default();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                tracing::info!(target: "rtcroom_server::ffmpeg", label, pid, "{line}");
            }
        });
    }
    Ok(child)
}

const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(8);
/// A child that ran this long is healthy: the next restart starts from [`FIRST_BACKOFF`].
const HEALTHY: Duration = Duration::from_secs(10);

/// Runs `job` until `cancel`: starts its process, restarts it whenever it
/// exits (back-off 0.25 s doubling to 8 s), kills it when cancelled.
pub async fn supervise(
    label: String,
    mut job: impl Job,
    cancel: CancellationToken,
    stats: &ProcessStats,
) {
    let mut backoff = FIRST_BACKOFF;
    let mut attempt = 0u64;
    while !cancel.is_cancelled() {
        let Some(line) = job.command().await else {
            tracing::warn!(label, "giving up: no command line");
            break;
        };
        let mut child = match spawn(&line, &label) {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(label, program = line.program, "cannot start: {e}");
                if !sleep_or_cancel(&cancel, &mut backoff).await {
                    break;
                }
                stats.restarts.fetch_add(1, Ordering::Relaxed);
                continue;
            }
        };
        let at = Instant::now();
        stats.starts.fetch_add(1, Ordering::Relaxed);
        stats.running.fetch_add(1, Ordering::Relaxed);
        tracing::info!(label, pid = child.id(), attempt, "started");
        let ready = tokio::select! {
            r = job.started(&mut child, attempt) => r,
            _ = cancel.cancelled() => Ok(()),
        };
        let exited = match ready {
            Err(why) => {
                tracing::warn!(label, "start-up failed: {why}");
                None
            }
            Ok(()) => tokio::select! {
                status = child.wait() => Some(status),
                _ = cancel.cancelled() => None,
            },
        };
        if exited.is_none() {
            let _ = child.start_kill();
        }
        let _ = child.wait().await;
        stats.running.fetch_sub(1, Ordering::Relaxed);
        attempt += 1;
        if cancel.is_cancelled() {
            break;
        }
        if let Some(status) = exited {
            tracing::warn!(label, ?status, ran = ?at.elapsed(), "exited; restarting");
        }
        if at.elapsed() >= HEALTHY {
            backoff = FIRST_BACKOFF;
        }
        if !sleep_or_cancel(&cancel, &mut backoff).await {
            break;
        }
        stats.restarts.fetch_add(1, Ordering::Relaxed);
    }
    job.stopped().await;
    tracing::info!(label, "stopped");
}

/// Sleeps the back-off (then doubles it); false when cancelled meanwhile.
async fn sleep_or_cancel(cancel: &CancellationToken, backoff: &mut Duration) -> bool {
    let d = *backoff;
    *backoff = (*backoff * 2).min(MAX_BACKOFF);
    tokio::select! {
        _ = tokio::time::sleep(d) => true,
        _ = cancel.cancelled() => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    struct Sleeper {
        secs: &'static str,
        stopped: Arc<AtomicU64>,
    }

    #[async_trait]
    impl Job for Sleeper {
        async fn command(&mut self) -> Option<CommandLine> {
            Some(CommandLine {
                program: "sleep".into(),
                args: vec![self.secs.into()],
            })
        }
        async fn started(&mut self, _: &mut Child, _: u64) -> Result<(), String> {
            Ok(())
        }
        async fn stopped(&mut self) {
            self.stopped.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[tokio::test]
    async fn a_child_that_exits_is_restarted_and_a_cancelled_one_killed() {
        let stats = Arc::new(ProcessStats::default());
        let stopped = Arc::new(AtomicU64::new(0));
        let cancel = CancellationToken::new();
        let task = {
            let (stats, cancel, stopped) = (stats.clone(), cancel.clone(), stopped.clone());
            tokio::spawn(async move {
                let job = Sleeper {
                    secs: "0.05",
                    stopped,
                };
                supervise("t".into(), job, cancel, &stats).await
            })
        };
        tokio::time::sleep(Duration::from_millis(1200)).await;
        assert!(stats.restarts.load(Ordering::Relaxed) >= 2, "{stats:?}");
        cancel.cancel();
        task.await.expect("supervisor");
        assert_eq!(stats.running.load(Ordering::Relaxed), 0);
        assert_eq!(stopped.load(Ordering::Relaxed), 1);

        // A long-running child dies with its cancellation.
        let cancel = CancellationToken::new();
        let task = {
            let (stats, cancel, stopped) = (stats.clone(), cancel.clone(), stopped.clone());
            tokio::spawn(async move {
                let job = Sleeper {
                    secs: "30",
                    stopped,
                };
                supervise("t".into(), job, cancel, &stats).await
            })
        };
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(stats.running.load(Ordering::Relaxed), 1);
        let t = Instant::now();
        cancel.cancel();
        task.await.expect("supervisor");
        assert!(t.elapsed() < Duration::from_secs(2));
        assert_eq!(stats.running.load(Ordering::Relaxed), 0);
    }
}
