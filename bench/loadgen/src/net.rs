//! Sockets for many clients on one machine: a raised file-descriptor limit and
//! client sockets spread over several loopback source addresses (bound before
//! connecting), so tens of thousands of connections to one server port do not
//! run out of ephemeral ports (about 28,000 per source address).

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::net::{TcpSocket, TcpStream};

/// Raises this process's open-file limit to `want` (soft and hard when
/// allowed, else the soft limit up to the hard one); returns the limit in force.
pub fn raise_fd_limit(want: u64) -> u64 {
    if rlimit::setrlimit(rlimit::Resource::NOFILE, want, want).is_ok() {
        return want;
    }
    rlimit::increase_nofile_limit(want).unwrap_or(0)
}

/// Loopback source addresses, used in turn.
pub struct Sources {
    addrs: Vec<IpAddr>,
    next: AtomicUsize,
}

impl Sources {
    /// `n` addresses: 127.0.0.2, 127.0.0.3, … (the whole 127/8 is local on Linux).
    pub fn new(n: u8) -> Self {
        let addrs = (0..n.max(1))
            .map(|i| IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2 + i)))
            .collect();
        Self {
            addrs,
            next: AtomicUsize::new(0),
        }
    }

    /// Connects to `dst` from the next source address; retries briefly when
    /// the kernel is out of ports or the listen backlog overflowed.
    pub async fn connect(&self, dst: SocketAddr) -> io::Result<TcpStream> {
        let mut last = None;
        for attempt in 0..5u32 {
            let src = self.addrs[self.next.fetch_add(1, Ordering::Relaxed) % self.addrs.len()];
            match Self::connect_from(src, dst).await {
                Ok(s) => return Ok(s),
                Err(e) => {
                    last = Some(e);
                    tokio::time::sleep(Duration::from_millis(20 << attempt)).await;
                }
            }
        }
        Err(last.unwrap_or_else(|| io::Error::other("connect failed")))
    }

    async fn connect_from(src: IpAddr, dst: SocketAddr) -> io::Result<TcpStream> {
        let socket = TcpSocket::new_v4()?;
        socket.bind(SocketAddr::new(src, 0))?;
        let stream = socket.connect(dst).await?;
        stream.set_nodelay(true)?;
        Ok(stream)
    }
}
