//! Server configuration: a TOML file, overridden by `RTCROOM_*` environment
//! variables and command-line flags (flags win). Every limit and timeout the
//! server enforces is here, with the original RoomService's defaults.

use clap::Parser;
use rtcroom_protocol::http::IceServer;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Command line (each flag also reads an environment variable).
#[derive(Debug, Parser, Default)]
#[command(name = "rtcroom-server", version, about = "rtcroom RoomService")]
pub struct Cli {
    /// TOML configuration file.
    #[arg(long, short, env = "RTCROOM_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address to listen on, e.g. 127.0.0.1:8080.
    #[arg(long, env = "RTCROOM_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Debug mode: enables /weapp/utils/get_login_info (test identities).
    #[arg(long, env = "RTCROOM_DEBUG")]
    pub debug: Option<bool>,
    /// Directory of static files served at `/` (the demo page).
    #[arg(long, env = "RTCROOM_STATIC_DIR")]
    pub static_dir: Option<PathBuf>,
    /// URL prefix of the API (default /weapp).
    #[arg(long, env = "RTCROOM_PREFIX")]
    pub prefix: Option<String>,
    /// Heartbeat timeout in seconds.
    #[arg(long, env = "RTCROOM_HEARTBEAT_TIMEOUT")]
    pub heartbeat_timeout: Option<u64>,
    /// Maximum members of a multi_room.
    #[arg(long, env = "RTCROOM_MAX_MEMBERS")]
    pub max_members: Option<usize>,
    /// Janus WebSocket API URL (enables SFU rooms), e.g. ws://127.0.0.1:8188.
    #[arg(long, env = "RTCROOM_JANUS_URL")]
    pub janus_url: Option<String>,
    /// Janus `api_secret`.
    #[arg(long, env = "RTCROOM_JANUS_API_SECRET", hide_env_values = true)]
    pub janus_api_secret: Option<String>,
    /// Janus VideoRoom `admin_key`.
    #[arg(long, env = "RTCROOM_JANUS_ADMIN_KEY", hide_env_values = true)]
    pub janus_admin_key: Option<String>,
    /// Members a room holds in mesh mode; the next one moves it to SFU (0: always SFU).
    #[arg(long, env = "RTCROOM_SFU_THRESHOLD")]
    pub sfu_threshold: Option<usize>,
    /// ffmpeg binary of the WebRTC → RTMP bridge (needs the Janus URL).
    #[arg(long, env = "RTCROOM_BRIDGE_FFMPEG")]
    pub bridge_ffmpeg: Option<String>,
    /// Maximum members of an SFU room.
    #[arg(long, env = "RTCROOM_MAX_MEMBERS_SFU")]
    pub max_members_sfu: Option<usize>,
    /// Shared store: `memory` (one node, the default) or a `redis://` URL (a cluster of nodes).
    #[arg(long, env = "RTCROOM_STORE")]
    pub store: Option<String>,
    /// This node's name in a cluster (default: host name and process id).
    #[arg(long, env = "RTCROOM_NODE_ID")]
    pub node_id: Option<String>,
}

/// The whole configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Listen address.
    pub listen: SocketAddr,
    /// URL prefix of every route (`/weapp`).
    pub prefix: String,
    /// Enables the debug login helper and a demo app when none is configured.
    pub debug: bool,
    /// Serve this directory at `/`.
    pub static_dir: Option<PathBuf>,
    /// Apps (sdkAppID and keys) whose UserSigs are accepted.
    pub apps: Vec<AppConfig>,
    /// Token lifetime.
    pub token_ttl_secs: u64,
    /// Heartbeat timing.
    pub heartbeat: HeartbeatConfig,
    /// Limits.
    pub limits: Limits,
    /// Live push/play (RTMP) URL signing.
    pub live: LiveConfig,
    /// HTTP connection timeouts.
    pub http: HttpConfig,
    /// ICE servers handed to clients at login (empty: loopback / host candidates only).
    pub ice_servers: Vec<IceServer>,
    /// A TURN server (coturn with `use-auth-secret`) whose credentials are minted per login.
    pub turn: Option<TurnConfig>,
    /// The media server (SFU) for rooms beyond mesh size; off without `janus_url`.
    pub media: MediaConfig,
    /// Where shared state lives: this process, or Redis shared by several nodes.
    pub store: StoreConfig,
}

/// Which [`crate::store::Store`] holds the shared state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum StoreKind {
    /// In this process: one node (the default; needs nothing else).
    #[default]
    Memory,
    /// In Redis: several nodes share rooms, members and session streams.
    Redis,
}

/// `[store]`: the shared state and, with Redis, this node's place in the cluster.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    /// `memory` or `redis`.
    pub kind: StoreKind,
    /// Redis URL (`redis://127.0.0.1:6379`), with `kind = "redis"`.
    pub url: String,
    /// This node's unique name (empty: host name and process id).
    pub node_id: String,
    /// A node that has not refreshed its registry entry for this long is dead
    /// (milliseconds); it refreshes every third of it.
    pub node_ttl_ms: u64,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            kind: StoreKind::Memory,
            url: "redis://127.0.0.1:6379".into(),
            node_id: String::new(),
            node_ttl_ms: 6_000,
        }
    }
}

/// TURN REST credentials (coturn `--use-auth-secret --static-auth-secret`):
/// each login gets username `expiry:userID` and password
/// base64(HMAC-SHA1(secret, username)), valid `ttl_secs`.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TurnConfig {
    /// coturn's `static-auth-secret`.
    pub secret: String,
    /// Lifetime of minted credentials (seconds).
    #[serde(default = "default_turn_ttl")]
    pub ttl_secs: u64,
    /// `turn:` / `turns:` URLs of the server.
    pub urls: Vec<String>,
}

fn default_turn_ttl() -> u64 {
    24 * 3600
}

impl std::fmt::Debug for TurnConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret.
        f.debug_struct("TurnConfig")
            .field("secret", &"<redacted>")
            .field("ttl_secs", &self.ttl_secs)
            .field("urls", &self.urls)
            .finish()
    }
}

/// The media server: Janus, driven over its WebSocket API. Without
/// `janus_url` every room is a mesh, exactly as without this section.
#[derive(Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MediaConfig {
    /// Janus WebSocket API, e.g. `ws://127.0.0.1:8188` (see scripts/janus-server).
    pub janus_url: Option<String>,
    /// Janus `api_secret`.
    pub api_secret: String,
    /// Janus VideoRoom `admin_key` (room creation, rtp_forward).
    pub admin_key: String,
    /// Members a room holds in mesh mode; the next one to enter moves it to SFU (0: always SFU).
    pub sfu_threshold: usize,
    /// Members an SFU room holds.
    pub max_members_sfu: usize,
    /// ffmpeg binary of the WebRTC → RTMP bridge (media/bridge.rs): when set
    /// (with `janus_url`), a room with a mini-program member runs in SFU mode
    /// and each browser member publishing in it is pushed to nginx-rtmp as
    /// its own stream, so `<live-player>` plays it from its `accelerateURL`.
    pub ffmpeg: Option<String>,
}

impl std::fmt::Debug for MediaConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaConfig")
            .field("janus_url", &self.janus_url)
            .field("api_secret", &"<hidden>")
            .field("admin_key", &"<hidden>")
            .field("sfu_threshold", &self.sfu_threshold)
            .field("max_members_sfu", &self.max_members_sfu)
            .field("ffmpeg", &self.ffmpeg)
            .finish()
    }
}

impl Default for MediaConfig {
    fn default() -> Self {
        Self {
            janus_url: None,
            api_secret: String::new(),
            admin_key: String::new(),
            sfu_threshold: 4,
            max_members_sfu: 16,
            ffmpeg: None,
        }
    }
}

/// One app: sdkAppID plus the key(s) that verify its UserSigs.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppConfig {
    /// Tencent IM sdkAppID.
    pub sdk_app_id: u64,
    /// v2 secret key (HMAC-SHA256).
    pub secret_key: Option<String>,
    /// v1 public key (PEM) for 2018-era ECDSA UserSigs.
    pub public_key: Option<String>,
    /// v1 private key (PEM), only so debug mode can mint v1 sigs.
    pub private_key: Option<String>,
    /// Legacy account type reported by get_login_info.
    #[serde(default)]
    pub account_type: String,
    /// Rooms this app may hold at once (default: `limits.max_rooms_per_app`).
    #[serde(default)]
    pub max_rooms: Option<usize>,
    /// Creating, entering and publishing in a room need a PrivateMapKey
    /// (`privateMapKey` in `create_room` / `add_pusher`) for that user and room.
    #[serde(default)]
    pub require_privilege: bool,
}

/// Heartbeat rules.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HeartbeatConfig {
    /// Interval clients are told to beat at (seconds).
    pub interval_secs: u64,
    /// A member silent this long is removed (seconds; original: 20).
    pub timeout_secs: u64,
    /// How often the server checks (milliseconds; original: 5000).
    pub check_interval_ms: u64,
    /// A member whose socket closed is removed after this long without reconnecting (milliseconds).
    pub socket_grace_ms: u64,
    /// WebSocket ping interval (milliseconds); a socket silent for 3 intervals is closed.
    pub ws_ping_ms: u64,
}

/// Limits, each answered with its own error code.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Rooms held at once, all apps together.
    pub max_rooms: usize,
    /// Rooms one app may hold at once (an app's own `max_rooms` wins);
    /// unset: `max_rooms` shared evenly among the configured apps.
    pub max_rooms_per_app: Option<usize>,
    /// Rooms one user may be a member of at once.
    pub max_rooms_per_user: usize,
    /// Members of a multi_room / rtc_room (original: 4). double_room is always 2.
    pub max_members: usize,
    /// Bytes of roomInfo (original: 1024).
    pub max_room_info_bytes: usize,
    /// Bytes of a room text/custom message.
    pub max_message_bytes: usize,
    /// Bytes of a member's `userName` (it rides on every room message it sends).
    pub max_user_name_bytes: usize,
    /// Bytes of a member's `userAvatar` URL.
    pub max_user_avatar_bytes: usize,
    /// Bytes of the `pushURL` given to `add_pusher`.
    pub max_push_url_bytes: usize,
    /// Bytes of one HTTP answer: `get_room_list` pages are cut to fit (the
    /// client pages on with `index`), a single room over it is refused.
    pub max_response_bytes: usize,
    /// Bytes of one WebSocket frame (SDP offers included).
    pub max_frame_bytes: usize,
    /// Frames per second per connection (sustained).
    pub messages_per_second: u32,
    /// Burst allowance above the sustained rate.
    pub messages_burst: u32,
    /// Frames kept per session for resume.
    pub replay_frames: usize,
    /// Bytes of frames kept per session for resume (the older ones go first;
    /// a resume past them re-fetches). Bounds what relayed SDP can pin.
    pub replay_bytes: usize,
    /// Frames queued per connection before it counts as too slow.
    pub send_queue: usize,
    /// A WebSocket write (or flush) that does not complete within this many
    /// milliseconds ends the connection: a client that stopped reading is
    /// dropped, its TCP connection closed and its grace period started.
    pub write_timeout_ms: u64,
    /// Rooms created but never entered are removed after this long (seconds).
    pub idle_room_secs: u64,
    /// A session with no socket and no HTTP call for this long is logged out
    /// (seconds; 0: never): a user whose socket dropped and who never came
    /// back would otherwise hold it until its token lapses (`token_ttl_secs`).
    /// Must exceed `heartbeat.socket_grace_ms`.
    pub session_idle_secs: u64,
    /// When the creator leaves, the room closes for everyone.
    pub creator_leave_closes_room: bool,
}

/// HTTP connection timeouts (slowloris and shutdown).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// A request's headers must arrive within this (milliseconds); a
    /// kept-alive connection without a new request for this long is closed.
    pub header_timeout_ms: u64,
    /// A request's body must arrive within this (milliseconds).
    pub body_timeout_ms: u64,
    /// After SIGTERM, open requests get this long to finish (milliseconds).
    pub shutdown_grace_ms: u64,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            header_timeout_ms: 10_000,
            body_timeout_ms: 30_000,
            shutdown_grace_ms: 5_000,
        }
    }
}

/// RTMP push/play URL signing (Tencent live anti-leech scheme).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LiveConfig {
    /// Live bizid (stream name prefix).
    pub bizid: String,
    /// Push anti-leech key; a random one is made at start when empty.
    pub push_key: String,
    /// Host[:port] of the RTMP push server.
    pub push_host: String,
    /// Host[:port] of the play server.
    pub play_host: String,
    /// Validity of signed URLs (seconds; original: 7 days, ours: 1 day; push URLs also end with their session).
    pub valid_secs: i64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            prefix: "/weapp".into(),
            debug: false,
            static_dir: None,
            apps: Vec::new(),
            token_ttl_secs: 24 * 3600,
            heartbeat: HeartbeatConfig::default(),
            limits: Limits::default(),
            live: LiveConfig::default(),
            http: HttpConfig::default(),
            ice_servers: Vec::new(),
            turn: None,
            media: MediaConfig::default(),
            store: StoreConfig::default(),
        }
    }
}

impl Default for HeartbeatConfig {
    fn default() -> Self {
        Self {
            interval_secs: 5,
            timeout_secs: 20,
            check_interval_ms: 5000,
            socket_grace_ms: 10_000,
            ws_ping_ms: 15_000,
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_rooms: 100_000,
            max_rooms_per_app: None,
            max_rooms_per_user: 16,
            max_members: 4,
            max_room_info_bytes: 1024,
            max_message_bytes: 4096,
            max_user_name_bytes: 256,
            max_user_avatar_bytes: 1024,
            max_push_url_bytes: 1024,
            max_response_bytes: 1 << 20,
            max_frame_bytes: 64 * 1024,
            messages_per_second: 50,
            messages_burst: 100,
            replay_frames: 256,
            replay_bytes: 64 * 1024,
            send_queue: 512,
            write_timeout_ms: 10_000,
            idle_room_secs: 30,
            session_idle_secs: 3600,
            creator_leave_closes_room: true,
        }
    }
}

impl Default for LiveConfig {
    fn default() -> Self {
        Self {
            bizid: "8888".into(),
            push_key: String::new(),
            push_host: "127.0.0.1:1935".into(),
            play_host: "127.0.0.1:1935".into(),
            valid_secs: rtcroom_protocol::push_url::DEFAULT_VALID_SECS,
        }
    }
}

impl HeartbeatConfig {
    /// Heartbeat timeout as a duration.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs)
    }
}

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// File.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// The file is not valid TOML for this schema.
    #[error("parsing {path}: {source}")]
    Parse {
        /// File.
        path: PathBuf,
        /// Cause.
        source: Box<toml::de::Error>,
    },
    /// A value is out of range or inconsistent.
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

impl Config {
    /// Parses TOML text.
    pub fn from_toml(text: &str) -> Result<Self, toml::de::Error> {
        toml::from_str(text)
    }

    /// Loads the file named by the CLI (if any), then applies env/flag overrides.
    pub fn load(cli: &Cli) -> Result<Self, ConfigError> {
        let mut cfg = match &cli.config {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.clone(),
                    source,
                })?;
                Self::from_toml(&text).map_err(|e| ConfigError::Parse {
                    path: path.clone(),
                    source: Box::new(e),
                })?
            }
            None => Self::default(),
        };
        if let Some(v) = cli.listen {
            cfg.listen = v;
        }
        if let Some(v) = cli.debug {
            cfg.debug = v;
        }
        if let Some(v) = &cli.static_dir {
            cfg.static_dir = Some(v.clone());
        }
        if let Some(v) = &cli.prefix {
            cfg.prefix = v.clone();
        }
        if let Some(v) = cli.heartbeat_timeout {
            cfg.heartbeat.timeout_secs = v;
        }
        if let Some(v) = cli.max_members {
            cfg.limits.max_members = v;
        }
        if let Some(v) = &cli.janus_url {
            cfg.media.janus_url = Some(v.clone()).filter(|u| !u.is_empty());
        }
        if let Some(v) = &cli.janus_api_secret {
            cfg.media.api_secret = v.clone();
        }
        if let Some(v) = &cli.janus_admin_key {
            cfg.media.admin_key = v.clone();
        }
        if let Some(v) = cli.sfu_threshold {
            cfg.media.sfu_threshold = v;
        }
        if let Some(v) = cli.max_members_sfu {
            cfg.media.max_members_sfu = v;
        }
        if let Some(v) = &cli.bridge_ffmpeg {
            cfg.media.ffmpeg = Some(v.clone()).filter(|f| !f.is_empty());
        }
        match cli.store.as_deref() {
            None => {}
            Some("memory") => cfg.store.kind = StoreKind::Memory,
            Some(url) => {
                cfg.store.kind = StoreKind::Redis;
                cfg.store.url = url.to_owned();
            }
        }
        if let Some(v) = &cli.node_id {
            cfg.store.node_id = v.clone();
        }
        if cfg.store.kind == StoreKind::Redis && cfg.store.node_id.is_empty() {
            let host = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
            cfg.store.node_id = format!("{}-{}", host.trim(), std::process::id());
        }
        cfg.validate()?;
        Ok(cfg)
    }

    /// Checks values that would make the server misbehave.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |m: &str| Err(ConfigError::Invalid(m.to_owned()));
        if !self.prefix.starts_with('/') || self.prefix.ends_with('/') {
            return bad("prefix must start with '/' and not end with '/'");
        }
        if self.limits.max_rooms_per_user == 0 {
            return bad("limits.max_rooms_per_user must be positive");
        }
        if self.limits.max_members < 2 {
            return bad("limits.max_members must be at least 2");
        }
        if self.heartbeat.check_interval_ms == 0
            || self.heartbeat.ws_ping_ms == 0
            || self.limits.write_timeout_ms == 0
            || self.http.header_timeout_ms == 0
            || self.http.body_timeout_ms == 0
        {
            return bad("heartbeat intervals must be positive");
        }
        if self.limits.session_idle_secs != 0
            && self.limits.session_idle_secs.saturating_mul(1000) <= self.heartbeat.socket_grace_ms
        {
            return bad("limits.session_idle_secs must exceed heartbeat.socket_grace_ms (or be 0)");
        }
        if self.limits.messages_per_second == 0 || self.limits.send_queue == 0 {
            return bad("limits.messages_per_second and limits.send_queue must be positive");
        }
        if let Some(turn) = &self.turn {
            if turn.secret.is_empty() || turn.urls.is_empty() || turn.ttl_secs == 0 {
                return bad("turn needs a secret, at least one url and a positive ttl_secs");
            }
        }
        if let Some(url) = &self.media.janus_url {
            if !url.starts_with("ws://") {
                return bad(
                    "media.janus_url must be a ws:// URL (Janus runs beside RoomService; no TLS)",
                );
            }
            if self.media.admin_key.is_empty() {
                return bad(
                    "media.admin_key is required with media.janus_url (rooms are created with it)",
                );
            }
            if self.media.max_members_sfu < 2
                || self.media.max_members_sfu <= self.media.sfu_threshold
            {
                return bad(
                    "media.max_members_sfu must be at least 2 and above media.sfu_threshold",
                );
            }
        }
        if self.media.ffmpeg.is_some() && self.media.janus_url.is_none() {
            return bad("media.ffmpeg (the RTMP bridge) needs media.janus_url");
        }
        if self.store.kind == StoreKind::Redis {
            if !self.store.url.starts_with("redis://") && !self.store.url.starts_with("unix://") {
                return bad("store.url must be a redis:// (or unix://) URL");
            }
            if self.store.node_ttl_ms < 300 {
                return bad("store.node_ttl_ms must be at least 300");
            }
            let id = &self.store.node_id;
            if id.is_empty() || id.len() > 64 || id.chars().any(|c| c.is_whitespace()) {
                return bad("store.node_id must be 1-64 characters without spaces");
            }
        }
        for app in &self.apps {
            if app.secret_key.is_none() && app.public_key.is_none() {
                return Err(ConfigError::Invalid(format!(
                    "app {} needs secret_key (UserSig v2) or public_key (v1)",
                    app.sdk_app_id
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_original_service() {
        let c = Config::default();
        assert_eq!(c.heartbeat.timeout_secs, 20);
        assert_eq!(c.limits.max_members, 4);
        assert_eq!(c.limits.max_room_info_bytes, 1024);
        assert!(c.ice_servers.is_empty(), "no public STUN by default");
        assert!(c.media.janus_url.is_none(), "mesh only by default");
        assert_eq!((c.media.sfu_threshold, c.media.max_members_sfu), (4, 16));
    }

    #[test]
    fn media_section_parses_and_validates() {
        let c = Config::from_toml(
            "[media]\njanus_url = \"ws://127.0.0.1:8188\"\napi_secret = \"s\"\nadmin_key = \"k\"\nsfu_threshold = 0\n",
        )
        .unwrap();
        c.validate().unwrap();
        assert_eq!(c.media.sfu_threshold, 0);
        assert!(
            !format!("{c:?}").contains("\"k\""),
            "secrets stay out of logs"
        );
        let mut bad = c.clone();
        bad.media.admin_key.clear();
        assert!(bad.validate().is_err());
        let mut bad = c.clone();
        bad.media.janus_url = Some("http://x".into());
        assert!(bad.validate().is_err());
        let mut bad = c;
        bad.media.max_members_sfu = 0;
        assert!(bad.validate().is_err());
    }

    #[test]
    fn toml_overrides_and_rejects_unknown_keys() {
        let c = Config::from_toml(
            "debug = true\n[limits]\nmax_members = 8\n[[apps]]\nsdk_app_id = 1\nsecret_key = \"k\"\n",
        )
        .unwrap();
        assert!(c.debug);
        assert_eq!(c.limits.max_members, 8);
        assert_eq!(c.limits.max_rooms, Limits::default().max_rooms);
        assert!(Config::from_toml("nope = 1").is_err());
    }

    #[test]
    fn store_defaults_to_memory_and_flags_pick_redis() {
        assert_eq!(Config::default().store.kind, StoreKind::Memory);
        let c = Config::from_toml(
            "[store]\nkind = \"redis\"\nurl = \"redis://h:1\"\nnode_id = \"a\"\n",
        )
        .unwrap();
        c.validate().unwrap();
        assert_eq!(
            (c.store.kind, c.store.node_id.as_str()),
            (StoreKind::Redis, "a")
        );
        let cli = Cli {
            store: Some("redis://127.0.0.1:7000".into()),
            node_id: Some("b".into()),
            ..Cli::default()
        };
        let c = Config::load(&cli).unwrap();
        assert_eq!(c.store.kind, StoreKind::Redis);
        assert_eq!(
            (c.store.url.as_str(), c.store.node_id.as_str()),
            ("redis://127.0.0.1:7000", "b")
        );
        let cli = Cli {
            store: Some("memory".into()),
            ..Cli::default()
        };
        assert_eq!(Config::load(&cli).unwrap().store.kind, StoreKind::Memory);
        let mut bad = Config::default();
        bad.store.kind = StoreKind::Redis;
        bad.store.url = "http://x".into();
        assert!(bad.validate().is_err());
    }

    #[test]
    fn validate_catches_bad_values() {
        let c = Config {
            prefix: "weapp/".into(),
            ..Default::default()
        };
        assert!(c.validate().is_err());
        let mut c = Config::default();
        c.apps.push(AppConfig {
            sdk_app_id: 1,
            secret_key: None,
            public_key: None,
            private_key: None,
            account_type: String::new(),
            max_rooms: None,
            require_privilege: false,
        });
        assert!(c.validate().is_err());
    }
}
