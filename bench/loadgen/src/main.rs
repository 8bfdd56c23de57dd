//! `rtcroom-loadgen`: the load generator behind `npm run bench`.
//!
//! Each subcommand is one bounded scenario against a server already running on
//! loopback (started by `scripts/bench`); it prints one JSON object with its
//! figures on stdout and progress on stderr. Every loop is bounded in count
//! and in time, and the process exits when the scenario is done.

mod client;
mod http;
mod net;
mod scenario;
mod stats;

use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;

#[derive(Parser)]
#[command(
    name = "rtcroom-loadgen",
    about = "Loopback load scenarios for rtcroom-server and the PeerJS server"
)]
struct Cli {
    #[command(subcommand)]
    scenario: Scenario,
}

/// Where the rtcroom-server is and which app it accepts.
#[derive(Args, Clone)]
struct Target {
    /// Server address (loopback only).
    #[arg(long, default_value = "127.0.0.1:8080")]
    server: SocketAddr,
    /// sdkAppID configured on the server.
    #[arg(long, default_value_t = 1_400_000_001)]
    app: u64,
    /// The app's v2 secret key (UserSigs are minted here).
    #[arg(long, default_value = "bench-secret-key")]
    key: String,
    /// Server process id, for RSS and CPU readings from /proc.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Loopback source addresses to spread client sockets over (127.0.0.2…).
    #[arg(long, default_value_t = 8)]
    sources: u8,
}

#[derive(Subcommand)]
enum Scenario {
    /// Concurrent members held (rooms of 4): RSS per member, CPU while idle.
    Members(scenario::members::Opts),
    /// Join latency (login + add_pusher + get_pushers) at a steady rate.
    Join(scenario::join::Opts),
    /// Room message fan-out: send → last receive, and messages/s sustained.
    Fanout(scenario::fanout::Opts),
    /// Signaling relay throughput between pairs (rtcroom or PeerJS).
    Relay(scenario::relay::Opts),
    /// Idle connections held: server memory per connection (rtcroom or PeerJS).
    Conns(scenario::conns::Opts),
    /// Soak with churn: members held, replaced every second, then everyone
    /// leaves; server RSS and gauges back to baseline?
    Soak(scenario::soak::Opts),
}

fn check_loopback(addr: &SocketAddr) -> anyhow::Result<()> {
    anyhow::ensure!(
        addr.ip().is_loopback(),
        "{addr} is not a loopback address: this generator only loads servers on this machine"
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let limit = net::raise_fd_limit(1 << 20);
    eprintln!("[loadgen] open-file limit {limit}");
    let out = match cli.scenario {
        Scenario::Members(o) => {
            check_loopback(&o.target.server)?;
            scenario::members::run(o).await?
        }
        Scenario::Join(o) => {
            check_loopback(&o.target.server)?;
            scenario::join::run(o).await?
        }
        Scenario::Fanout(o) => {
            check_loopback(&o.target.server)?;
            scenario::fanout::run(o).await?
        }
        Scenario::Relay(o) => {
            check_loopback(&o.target.server)?;
            scenario::relay::run(o).await?
        }
        Scenario::Conns(o) => {
            check_loopback(&o.target.server)?;
            scenario::conns::run(o).await?
        }
        Scenario::Soak(o) => {
            check_loopback(&o.target.server)?;
            scenario::soak::run(o).await?
        }
    };
    println!("{out}");
    // Tens of thousands of sockets and tasks need no orderly teardown.
    std::process::exit(0)
}
