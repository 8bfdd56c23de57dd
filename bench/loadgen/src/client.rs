//! The two servers' client protocols, as far as the scenarios need them:
//! rtcroom (HTTP login / add_pusher / get_pushers + the session WebSocket)
//! and PeerJS (one WebSocket per peer id, `OPEN` on success).

use crate::http::{urlencode, Http};
use crate::net::Sources;
use anyhow::{bail, Context};
use futures_util::StreamExt;
use rtcroom_protocol::usersig;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// A client WebSocket.
pub type Ws = WebSocketStream<TcpStream>;

/// Small codec buffers: tungstenite's defaults (128 KiB each way) times
/// 50,000 connections would be the load generator's biggest cost.
fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0)
}

async fn ws_connect(sources: &Sources, addr: SocketAddr, path: &str) -> anyhow::Result<Ws> {
    let stream = sources.connect(addr).await.context("connecting (WS)")?;
    let url = format!("ws://{addr}{path}");
    let (ws, _) = tokio_tungstenite::client_async_with_config(url, stream, Some(ws_config()))
        .await
        .context("WebSocket handshake")?;
    Ok(ws)
}

/// The next text frame as JSON (pings and pongs are skipped); None when closed.
pub async fn next_json(ws: &mut Ws) -> anyhow::Result<Option<Value>> {
    while let Some(msg) = ws.next().await {
        match msg? {
            Message::Text(t) => return Ok(Some(serde_json::from_str(t.as_str())?)),
            Message::Close(_) => return Ok(None),
            _ => continue,
        }
    }
    Ok(None)
}

/// Unix seconds now.
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// An rtcroom-server and the app whose UserSigs it accepts.
#[derive(Clone)]
pub struct Rtcroom {
    /// Server address.
    pub addr: SocketAddr,
    /// sdkAppID configured on the server.
    pub app: u64,
    /// Its v2 secret key (UserSigs are minted here, as an app server would).
    pub key: String,
}

/// A logged-in user.
#[derive(Clone, Debug)]
pub struct Login {
    /// userID.
    pub user: String,
    /// Session token.
    pub token: String,
}

impl Login {
    fn auth(&self) -> String {
        format!("userID={}&token={}", urlencode(&self.user), self.token)
    }
}

impl Rtcroom {
    /// A UserSig for `user`, valid for a day.
    pub fn sig(&self, user: &str) -> String {
        usersig::gen_v2(self.app, &self.key, user, 86_400, unix_now(), None)
    }

    /// `login` with a ready UserSig.
    pub async fn login(&self, http: &mut Http, user: &str, sig: &str) -> anyhow::Result<Login> {
        let path = format!(
            "/weapp/rtc_room/login?sdkAppID={}&accountType=0&userID={}&userSig={}",
            self.app,
            urlencode(user),
            urlencode(sig)
        );
        let v = http.post(&path, "").await?;
        let token = v["token"].as_str().context("login without token")?;
        Ok(Login {
            user: user.to_owned(),
            token: token.to_owned(),
        })
    }

    /// `add_pusher` (enter or create `room`).
    pub async fn add_pusher(&self, http: &mut Http, who: &Login, room: &str) -> anyhow::Result<()> {
        let body = json!({"roomID": room, "userName": who.user, "userAvatar": "", "pushURL": ""});
        let path = format!("/weapp/rtc_room/add_pusher?{}", who.auth());
        http.post(&path, &body.to_string()).await.map(drop)
    }

    /// `get_pushers`: the room's member count.
    pub async fn get_pushers(
        &self,
        http: &mut Http,
        who: &Login,
        room: &str,
    ) -> anyhow::Result<usize> {
        let path = format!("/weapp/rtc_room/get_pushers?{}", who.auth());
        let v = http
            .post(&path, &json!({"roomID": room}).to_string())
            .await?;
        Ok(v["pushers"].as_array().map_or(0, Vec::len))
    }

    /// `pusher_heartbeat`.
    pub async fn heartbeat(&self, http: &mut Http, who: &Login, room: &str) -> anyhow::Result<()> {
        let path = format!("/weapp/rtc_room/pusher_heartbeat?{}", who.auth());
        http.post(&path, &json!({"roomID": room}).to_string())
            .await
            .map(drop)
    }

    /// `delete_pusher`: leave `room`.
    pub async fn delete_pusher(
        &self,
        http: &mut Http,
        who: &Login,
        room: &str,
    ) -> anyhow::Result<()> {
        let path = format!("/weapp/rtc_room/delete_pusher?{}", who.auth());
        http.post(&path, &json!({"roomID": room}).to_string())
            .await
            .map(drop)
    }

    /// `logout`: end the session (and leave every room).
    pub async fn logout(&self, http: &mut Http, who: &Login) -> anyhow::Result<()> {
        let path = format!("/weapp/rtc_room/logout?{}", who.auth());
        http.post(&path, "{}").await.map(drop)
    }

    /// The session WebSocket, after its `welcome` frame.
    pub async fn ws(&self, sources: &Sources, who: &Login) -> anyhow::Result<Ws> {
        let mut ws = ws_connect(
            sources,
            self.addr,
            &format!("/weapp/rtc_room/ws?{}", who.auth()),
        )
        .await?;
        match next_json(&mut ws).await? {
            Some(v) if v["type"] == "welcome" => Ok(ws),
            other => bail!("expected welcome, got {other:?}"),
        }
    }
}

/// A PeerJS server (npm `peer`) on `addr` with key `peerjs`.
#[derive(Clone)]
pub struct PeerJs {
    /// Server address.
    pub addr: SocketAddr,
}

impl PeerJs {
    /// Registers `id` and waits for `OPEN`.
    pub async fn connect(&self, sources: &Sources, id: &str) -> anyhow::Result<Ws> {
        let path = format!(
            "/peerjs?key=peerjs&id={}&token=t{}",
            urlencode(id),
            id.len()
        );
        let mut ws = ws_connect(sources, self.addr, &path).await?;
        match next_json(&mut ws).await? {
            Some(v) if v["type"] == "OPEN" => Ok(ws),
            other => bail!("expected OPEN, got {other:?}"),
        }
    }
}
