//! A real `redis-server` for the multi-node tests (cluster, store parity):
//! on a free loopback port, no persistence, its own temp dir.

use super::free_port;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `redis-server` of this test, killed (by pid) and its dir removed on drop.
pub struct Redis {
    pub child: Child,
    pub port: u16,
    dir: PathBuf,
}

impl Redis {
    /// Starts one, or None (said loudly) when redis-server is not installed.
    pub fn start() -> Option<Self> {
        if Command::new("redis-server")
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .is_err()
        {
            assert!(
                std::env::var_os("RTCROOM_REQUIRE_REDIS").is_none(),
                "redis-server is required"
            );
            eprintln!("SKIPPED: redis-server is not installed (scripts/setup installs it)");
            return None;
        }
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("rtcroom-redis-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(&dir)
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(Self { child, port, dir })
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
