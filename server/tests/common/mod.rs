//! Test harness: a real RoomService on 127.0.0.1 (ephemeral port) and clients
//! that speak real HTTP and WebSocket to it.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use futures_util::{SinkExt, StreamExt};
use rtcroom_protocol::usersig;
use rtcroom_server::config::{AppConfig, Config};
use rtcroom_server::service::RoomService;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use tokio_util::sync::CancellationToken;

pub mod redis_server;

/// The base URL (`http://127.0.0.1:PORT`) a spawned `rtcroom-server` prints
/// on its first stdout line, with that line (for failure messages); the URL
/// is empty when the line is not the banner.
pub fn server_base(child: &mut std::process::Child) -> (String, String) {
    use std::io::BufRead;
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().expect("stdout piped"))
        .read_line(&mut first)
        .unwrap();
    let base = first
        .split("RoomService on ")
        .nth(1)
        .map(|s| s.split('/').take(3).collect::<Vec<_>>().join("/"))
        .unwrap_or_default();
    (base, first)
}

pub const APP: u64 = 1_400_000_001;
pub const SECRET: &str = "test-secret-key";
pub const OTHER_APP: u64 = 1_400_000_002;
pub const OTHER_SECRET: &str = "other-secret";

pub fn now_s() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A valid v2 UserSig for `user`.
pub fn sig(user: &str) -> String {
    usersig::gen_v2(APP, SECRET, user, 3600, now_s(), None)
}

/// Test configuration: two apps, short timeouts.
pub fn config() -> Config {
    let app = |sdk_app_id, secret: &str| AppConfig {
        sdk_app_id,
        secret_key: Some(secret.into()),
        public_key: None,
        private_key: None,
        account_type: "0".into(),
        max_rooms: None,
        require_privilege: false,
    };
    let mut c = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        apps: vec![app(APP, SECRET), app(OTHER_APP, OTHER_SECRET)],
        ..Config::default()
    };
    c.heartbeat.check_interval_ms = 100;
    c.heartbeat.socket_grace_ms = 300;
    c.heartbeat.ws_ping_ms = 1000;
    c
}

pub struct Server {
    pub base: String,
    pub addr: std::net::SocketAddr,
    pub svc: Arc<RoomService>,
    pub shutdown: CancellationToken,
    pub task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Server {
    pub async fn start(config: Config) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let svc = rtcroom_server::build(config);
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(rtcroom_server::serve(
            svc.clone(),
            listener,
            shutdown.clone(),
        ));
        Self {
            base: format!("http://{addr}"),
            addr,
            svc,
            shutdown,
            task,
        }
    }

    pub fn room_base(&self) -> String {
        format!("{}/weapp/rtc_room", self.base)
    }

    /// Logs `user` in with a valid sig.
    pub async fn login(&self, user: &str) -> Client {
        self.login_at(&self.room_base(), user).await
    }

    pub async fn login_at(&self, room_base: &str, user: &str) -> Client {
        login_at(room_base, user).await
    }

    /// Raw login with explicit query parameters; returns the reply.
    pub async fn login_raw(&self, query: &str) -> Value {
        reqwest::Client::new()
            .post(format!("{}/login?{query}", self.room_base()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

/// Logs `user` in with a valid sig at `room_base` (`http://…/weapp/rtc_room`).
pub async fn login_at(room_base: &str, user: &str) -> Client {
    let http = reqwest::Client::new();
    let url = format!(
        "{room_base}/login?sdkAppID={APP}&accountType=0&userID={}&userSig={}",
        urlencode(user),
        urlencode(&sig(user))
    );
    let v: Value = http
        .post(url)
        .body("")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["code"], 0, "login failed: {v}");
    Client {
        http,
        base: room_base.to_owned(),
        user: user.to_owned(),
        token: v["token"].as_str().unwrap().to_owned(),
    }
}

/// A TCP port free on 127.0.0.1 right now, for servers that cannot be handed
/// a bound listener (nginx). Another process could take it before they bind;
/// on loopback with ephemeral ports that race is rare.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    pub user: String,
    pub token: String,
}

impl Client {
    pub fn auth(&self) -> String {
        format!("userID={}&token={}", urlencode(&self.user), self.token)
    }

    /// POSTs a command; returns the JSON reply.
    pub async fn call(&self, cmd: &str, body: Value) -> Value {
        self.call_raw(cmd, body.to_string()).await
    }

    pub async fn call_raw(&self, cmd: &str, body: String) -> Value {
        let url = format!("{}/{cmd}?{}", self.base, self.auth());
        self.http
            .post(url)
            .body(body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Calls and asserts success.
    pub async fn ok(&self, cmd: &str, body: Value) -> Value {
        let v = self.call(cmd, body).await;
        assert_eq!(v["code"], 0, "{cmd} failed: {v}");
        v
    }

    pub async fn enter(&self, room: &str) -> Value {
        self.ok("add_pusher", json!({"roomID": room, "userName": format!("name-{}", self.user), "userAvatar": "a.png", "pushURL": ""})).await
    }

    pub async fn ws(&self) -> Ws {
        self.ws_with(None).await
    }

    pub async fn ws_with(&self, last_seq: Option<u64>) -> Ws {
        let ws_base = self.base.replacen("http://", "ws://", 1);
        let mut url = format!("{ws_base}/ws?{}", self.auth());
        if let Some(n) = last_seq {
            url.push_str(&format!("&lastSeq={n}"));
        }
        let (stream, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        let mut ws = Ws {
            stream,
            last_seq: 0,
            welcome: None,
        };
        let welcome = ws.next().await;
        assert_eq!(welcome["type"], "welcome", "{welcome}");
        // A resume replays the frames after `lastSeq`; otherwise numbering
        // goes on from the welcome's.
        ws.last_seq = match last_seq {
            Some(n) if welcome["resumed"] == true => n,
            _ => welcome["seq"].as_u64().unwrap(),
        };
        ws.welcome = Some(welcome);
        ws
    }
}

pub struct Ws {
    pub stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
    pub last_seq: u64,
    pub welcome: Option<Value>,
}

impl Ws {
    /// The next JSON frame (fails after 5 s).
    pub async fn next(&mut self) -> Value {
        self.next_within(Duration::from_secs(5))
            .await
            .expect("no frame within 5 s")
    }

    /// The next JSON frame, or None after `d`. Checks sequence numbers have no gaps.
    pub async fn next_within(&mut self, d: Duration) -> Option<Value> {
        loop {
            let msg = tokio::time::timeout(d, self.stream.next())
                .await
                .ok()??
                .ok()?;
            match msg {
                Message::Text(t) => {
                    let v: Value = serde_json::from_str(t.as_str()).unwrap();
                    // `welcome`, `resume_gap`, `pong` and (in a cluster, with Redis
                    // away) `error` 1030 carry the last seq assigned, not a new one.
                    let unnumbered_error = v["type"] == "error" && v["code"] == 1030;
                    if v["type"] == "pong" || v["type"] == "resume_gap" || unnumbered_error {
                        assert_eq!(v["seq"].as_u64().unwrap(), self.last_seq, "pong seq: {v}");
                    } else if v["type"] != "welcome" {
                        let seq = v["seq"].as_u64().unwrap();
                        if self.welcome.is_some() {
                            assert_eq!(seq, self.last_seq + 1, "sequence gap/duplicate: {v}");
                        }
                        self.last_seq = seq;
                    }
                    return Some(v);
                }
                Message::Close(_) => return None,
                _ => continue,
            }
        }
    }

    /// Skips frames until one of `ty` arrives.
    pub async fn expect(&mut self, ty: &str) -> Value {
        loop {
            let v = self.next().await;
            if v["type"] == ty {
                return v;
            }
        }
    }

    /// Asserts no frame of `ty` arrives within `d`.
    pub async fn expect_none(&mut self, ty: &str, d: Duration) {
        let deadline = tokio::time::Instant::now() + d;
        while let Some(left) = deadline.checked_duration_since(tokio::time::Instant::now()) {
            match self.next_within(left).await {
                Some(v) => assert_ne!(v["type"], ty, "unexpected {v}"),
                None => return,
            }
        }
    }

    pub async fn send(&mut self, v: Value) {
        self.stream
            .send(Message::Text(v.to_string().into()))
            .await
            .unwrap();
    }

    pub async fn send_text(&mut self, s: String) {
        self.stream.send(Message::Text(s.into())).await.unwrap();
    }

    /// Sends a frame with `reqID` and returns the matching ack or error.
    pub async fn request(&mut self, mut v: Value, req_id: u32) -> Value {
        v["reqID"] = json!(req_id);
        self.send(v).await;
        loop {
            let f = self.next().await;
            if (f["type"] == "ack" || f["type"] == "error") && f["reqID"] == req_id {
                return f;
            }
        }
    }

    pub async fn close(mut self) {
        let _ = self.stream.close(None).await;
    }
}

/// POSTs the form nginx-rtmp sends for a publish of `url`; returns the HTTP status.
pub async fn publish(srv: &Server, url: &str) -> u16 {
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let stream = path.rsplit('/').next().unwrap();
    let body = format!(
        "app=live&flashver=FMLE/3.0&swfurl=&tcurl=rtmp://127.0.0.1/live&pageurl=&addr=127.0.0.1\
         &clientid=1&call=publish&name={stream}&type=live&{query}"
    );
    reqwest::Client::new()
        .post(format!("{}/weapp/utils/rtmp_on_publish", srv.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// POSTs `body` to `url` and returns the JSON answer.
pub async fn post_json(http: &reqwest::Client, url: &str, body: &'static str) -> Value {
    http.post(url)
        .body(body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}
