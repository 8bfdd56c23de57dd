//! `rtcroom-server`: loads the configuration (file, env, flags), starts
//! logging and serves until SIGTERM or Ctrl-C.

use anyhow::Context;
use clap::Parser;
use rtcroom_server::config::{Cli, Config};
use std::io::Write;
use tokio_util::sync::CancellationToken;

/// jemalloc instead of glibc's malloc: glibc kept the peak heap of a
/// 10,000-member soak after everyone left (RSS 4.8 → 180.6 → 180.6 MiB);
/// jemalloc's background thread returns freed pages to the OS after its
/// decay time (see docs/BENCHMARKS.md, soak).
#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tower_http=warn".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    // Without the background thread jemalloc purges only when it allocates again,
    // so an idle server after a peak would keep its pages.
    if let Err(e) = tikv_jemalloc_ctl::background_thread::write(true) {
        tracing::warn!("jemalloc background thread not started: {e}");
    }
    rtcroom_server::heap::report_jemalloc();
    tracing::info!("jemalloc: {}", rtcroom_server::heap::describe_jemalloc());
    let cli = Cli::parse();
    let config = Config::load(&cli)?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    let addr = listener.local_addr()?;
    let debug_mode = config.debug;
    let prefix = config.prefix.clone();
    let svc = rtcroom_server::build_from_config(config).await?;
    tracing::info!(%addr, debug_mode, "RoomService listening");
    // The banner goes to stdout for scripts to read; a closed stdout must not stop the server.
    let mut out = std::io::stdout();
    let _ = writeln!(out, "rtcroom RoomService on http://{addr}/  (API: http://{addr}{prefix}/rtc_room/, health: http://{addr}/healthz)");
    if debug_mode {
        let _ = writeln!(
            out,
            "debug identity: curl 'http://{addr}{prefix}/utils/get_login_info?userID=alice'"
        );
    }
    let _ = out.flush();
    let shutdown = CancellationToken::new();
    tokio::spawn(signal_handler(shutdown.clone()));
    rtcroom_server::serve(svc, listener, shutdown).await?;
    tracing::info!("stopped");
    Ok(())
}

async fn signal_handler(shutdown: CancellationToken) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!("cannot listen for SIGTERM: {e}");
                    let _ = ctrl_c.await;
                    shutdown.cancel();
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    tracing::info!("shutting down");
    shutdown.cancel();
}
