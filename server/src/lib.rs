//! rtcroom RoomService: room and member management, UserSig login, room
//! messages, heartbeats, WebRTC signaling relay and signed live-push URLs,
//! wire-compatible with the original Tencent RTCRoom RoomService.
//!
//! [`serve`] runs it on a listener until a shutdown token fires; the binary
//! (`rtcroom-server`) adds configuration loading, logging and signals.

pub mod api;
pub mod cluster;
pub mod config;
pub mod first_offer;
pub mod heap;
pub mod http;
pub mod hub;
pub mod im_tap;
pub mod join_order;
pub mod json;
pub mod media;
pub mod metrics;
pub mod rate_limit;
pub mod relay;
pub mod rtmp_hook;
pub mod sdp_relay;
pub mod service;
pub mod shards;
pub mod store;
pub mod turn;
pub mod utils_cmds;
pub mod ws;

use service::RoomService;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Builds the service with the default in-memory store.
pub fn build(config: config::Config) -> Arc<RoomService> {
    Arc::new(RoomService::new(
        config,
        Arc::new(store::MemoryStore::new()),
    ))
}

/// Builds the service with the store the configuration names: memory, or
/// Redis (connecting now: an unreachable Redis fails the start).
pub async fn build_from_config(config: config::Config) -> anyhow::Result<Arc<RoomService>> {
    if config.store.kind == config::StoreKind::Memory {
        return Ok(build(config));
    }
    let (cluster, store) =
        cluster::Cluster::connect(&config.store, config.limits.replay_frames).await?;
    tracing::info!(node = cluster.node(), url = %config.store.url, "cluster node on Redis");
    let mut svc = RoomService::new(config, Arc::new(store));
    svc.hub.set_cluster(cluster);
    Ok(Arc::new(svc))
}

/// Serves `svc` on `listener` until `shutdown` is cancelled, then closes every
/// socket and returns once in-flight requests are done, or after
/// `http.shutdown_grace_ms` at the latest.
pub async fn serve(
    svc: Arc<RoomService>,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let sweeper = {
        let svc = svc.clone();
        let shutdown = shutdown.clone();
        let every = Duration::from_millis(svc.config.heartbeat.check_interval_ms);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tokio::select! {
                    _ = tick.tick() => svc.sweep(service::now_ms()).await,
                    _ = shutdown.cancelled() => break,
                }
            }
        })
    };
    if let Some(cluster) = svc.hub.cluster() {
        cluster.start(svc.clone(), shutdown.clone());
    }
    if let Some(media) = &svc.media {
        media.start(&svc, shutdown.clone());
    }
    let app = api::router(svc.clone(), shutdown.clone());
    http::serve(app, listener, &svc.config.http, shutdown).await;
    sweeper.abort();
    Ok(())
}
