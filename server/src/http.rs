//! The HTTP/1.1 accept loop: one hyper connection per socket, with the
//! timeouts a public server needs and axum's `serve` does not set —
//! request headers must arrive within `http.header_timeout_ms` (slowloris),
//! a kept-alive connection idle that long is closed, a request body must
//! arrive within `http.body_timeout_ms` — and a shutdown deadline: after
//! the shutdown token fires, connections get `http.shutdown_grace_ms` to
//! finish their requests, then they are dropped. WebSocket upgrades leave
//! this loop (their own task watches the shutdown token).

use crate::config::HttpConfig;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tower_http::timeout::RequestBodyTimeoutLayer;

/// Accepts and serves connections until `shutdown`, then drains them within the grace period.
pub async fn serve(
    app: Router,
    listener: TcpListener,
    cfg: &HttpConfig,
    shutdown: CancellationToken,
) {
    let app = app.layer(RequestBodyTimeoutLayer::new(Duration::from_millis(
        cfg.body_timeout_ms,
    )));
    let header_timeout = Duration::from_millis(cfg.header_timeout_ms);
    let mut conns = JoinSet::new();
    loop {
        // Reap finished connections so the set holds only live ones.
        while conns.try_join_next().is_some() {}
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = shutdown.cancelled() => break,
        };
        let tcp = match accepted {
            Ok((tcp, _)) => tcp,
            Err(e) => {
                // Out of file descriptors and the like: wait instead of spinning.
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let service = TowerToHyperService::new(app.clone());
        let shutdown = shutdown.clone();
        conns.spawn(async move {
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout);
            let conn = builder
                .serve_connection(TokioIo::new(tcp), service)
                .with_upgrades();
            tokio::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = shutdown.cancelled() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
    }
    drop(listener);
    let grace = Duration::from_millis(cfg.shutdown_grace_ms);
    let drained =
        tokio::time::timeout(grace, async { while conns.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        tracing::info!(
            left = conns.len(),
            "shutdown grace over: dropping the connections still open"
        );
    }
    conns.abort_all();
}
