//! A small typed client of the Janus WebSocket API (`janus-protocol`): one
//! connection holding one Janus session, kept alive every 25 s; requests are
//! matched to their replies by `transaction`, asynchronous plugin events and
//! trickle candidates are routed to the handle they belong to. It never
//! reconnects by itself: when the socket goes, [`Janus::closed`] fires, every
//! pending request fails with [`JanusError::Closed`] and the owner
//! (`super::sfu`) connects a new one (Janus drops a session's handles with
//! its transport, so nothing of the old one can be reused).
//!
//! Only what RoomService needs: `create` (session), `attach`, `detach`,
//! plugin `message` (with an optional JSEP), `trickle`, `keepalive`.

use futures_util::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

/// How long a request waits for its reply.
const REPLY_TIMEOUT: Duration = Duration::from_secs(10);
/// Keep-alive period (Janus' `session_timeout` is 60 s).
const KEEPALIVE: Duration = Duration::from_secs(25);

/// A failed exchange with Janus.
#[derive(Debug, Clone, thiserror::Error)]
pub enum JanusError {
    /// The WebSocket could not be opened or the session not created.
    #[error("cannot connect to Janus: {0}")]
    Connect(String),
    /// The connection closed before the reply.
    #[error("the Janus connection is closed")]
    Closed,
    /// No reply in time.
    #[error("Janus did not answer within {0:?}")]
    Timeout(Duration),
    /// Janus core refused the request (`{"janus":"error"}`).
    #[error("Janus error {code}: {reason}")]
    Core {
        /// Janus error code.
        code: i64,
        /// Its reason.
        reason: String,
    },
    /// The plugin refused the request (`error_code` in its data).
    #[error("plugin error {code}: {reason}")]
    Plugin {
        /// Plugin error code.
        code: i64,
        /// Its reason.
        reason: String,
    },
    /// A reply of an unexpected shape.
    #[error("unexpected Janus reply: {0}")]
    Protocol(String),
}

/// A session description as Janus carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jsep {
    /// `offer` or `answer`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The SDP.
    pub sdp: String,
}

impl Jsep {
    /// An offer.
    pub fn offer(sdp: impl Into<String>) -> Self {
        Self {
            kind: "offer".into(),
            sdp: sdp.into(),
        }
    }

    /// An answer.
    pub fn answer(sdp: impl Into<String>) -> Self {
        Self {
            kind: "answer".into(),
            sdp: sdp.into(),
        }
    }
}

/// A plugin's reply: its `data` and the JSEP that came with it.
#[derive(Debug, Clone)]
pub struct PluginReply {
    /// `plugindata.data`.
    pub data: Value,
    /// The SDP Janus sent along, if any.
    pub jsep: Option<Jsep>,
}

/// Something Janus said about a handle on its own (not a request's reply).
#[derive(Debug, Clone)]
pub enum HandleEvent {
    /// A local candidate of Janus; `None` is end-of-candidates.
    Trickle(Option<Value>),
    /// A plugin event (e.g. a renegotiation offer, a publisher gone).
    Plugin(PluginReply),
    /// The PeerConnection is up.
    WebrtcUp,
    /// The PeerConnection went down (with Janus' reason).
    Hangup(String),
}

type Pending = Mutex<HashMap<String, (bool, oneshot::Sender<Value>)>>;

/// One Janus session over one WebSocket.
pub struct Janus {
    session: u64,
    api_secret: String,
    out: mpsc::UnboundedSender<Message>,
    /// transaction → (an `ack` completes it, reply channel).
    pending: Pending,
    handles: Mutex<HashMap<u64, mpsc::UnboundedSender<HandleEvent>>>,
    next_transaction: AtomicU64,
    closed: CancellationToken,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Janus {
    /// Opens the WebSocket and creates the session.
    pub async fn connect(url: &str, api_secret: &str) -> Result<Arc<Self>, JanusError> {
        let mut request = url
            .into_client_request()
            .map_err(|e| JanusError::Connect(e.to_string()))?;
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static("janus-protocol"),
        );
        let (socket, _) =
            tokio::time::timeout(REPLY_TIMEOUT, tokio_tungstenite::connect_async(request))
                .await
                .map_err(|_| JanusError::Timeout(REPLY_TIMEOUT))?
                .map_err(|e| JanusError::Connect(e.to_string()))?;
        let (mut sink, mut stream) = socket.split();
        let (out, mut out_rx) = mpsc::unbounded_channel::<Message>();
        let closed = CancellationToken::new();
        // Create the session before the reader task exists: the first reply is ours.
        let transaction = "create".to_owned();
        let create =
            json!({"janus": "create", "transaction": transaction, "apisecret": api_secret});
        sink.send(Message::Text(create.to_string().into()))
            .await
            .map_err(|e| JanusError::Connect(e.to_string()))?;
        let reply = loop {
            let msg = tokio::time::timeout(REPLY_TIMEOUT, stream.next())
                .await
                .map_err(|_| JanusError::Timeout(REPLY_TIMEOUT))?;
            match msg {
                Some(Ok(Message::Text(t))) => {
                    let v: Value = serde_json::from_str(t.as_str())
                        .map_err(|e| JanusError::Protocol(e.to_string()))?;
                    if v["transaction"] == transaction.as_str() {
                        break v;
                    }
                }
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(JanusError::Connect(e.to_string())),
                None => return Err(JanusError::Closed),
            }
        };
        check_core(&reply).map_err(|e| JanusError::Connect(e.to_string()))?;
        let session = reply["data"]["id"]
            .as_u64()
            .ok_or_else(|| JanusError::Protocol(format!("no session id in {reply}")))?;
        let janus = Arc::new(Self {
            session,
            api_secret: api_secret.to_owned(),
            out,
            pending: Mutex::new(HashMap::new()),
            handles: Mutex::new(HashMap::new()),
            next_transaction: AtomicU64::new(1),
            closed: closed.clone(),
        });
        // Writer: everything goes out through one task.
        {
            let closed = closed.clone();
            tokio::spawn(async move {
                loop {
                    tokio::select! {
                        m = out_rx.recv() => match m {
                            Some(m) => if sink.send(m).await.is_err() { break },
                            None => break,
                        },
                        _ = closed.cancelled() => break,
                    }
                }
                let _ = sink.close().await;
                closed.cancel();
            });
        }
        // Reader: replies to their requests, events to their handles.
        {
            let weak = Arc::downgrade(&janus);
            let closed = closed.clone();
            tokio::spawn(async move {
                loop {
                    let msg = tokio::select! {
                        m = stream.next() => m,
                        _ = closed.cancelled() => break,
                    };
                    let text = match msg {
                        Some(Ok(Message::Text(t))) => t,
                        Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                        Some(Ok(_)) => continue,
                    };
                    let Some(janus) = weak.upgrade() else { break };
                    match serde_json::from_str::<Value>(text.as_str()) {
                        Ok(v) => janus.dispatch(v),
                        Err(e) => tracing::warn!("Janus sent malformed JSON: {e}"),
                    }
                }
                closed.cancel();
                if let Some(janus) = weak.upgrade() {
                    lock(&janus.pending).clear(); // dropping the senders fails the waiters
                    lock(&janus.handles).clear();
                }
            });
        }
        // Keep-alive.
        {
            let weak = Arc::downgrade(&janus);
            let closed = closed.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(KEEPALIVE);
                tick.tick().await;
                loop {
                    tokio::select! {
                        _ = tick.tick() => {}
                        _ = closed.cancelled() => break,
                    }
                    let Some(janus) = weak.upgrade() else { break };
                    if let Err(e) = janus.call(json!({"janus": "keepalive"}), true).await {
                        tracing::warn!("Janus keepalive failed: {e}");
                        janus.closed.cancel();
                        break;
                    }
                }
            });
        }
        Ok(janus)
    }

    /// Fires when the connection is gone (for good).
    pub fn closed(&self) -> &CancellationToken {
        &self.closed
    }

    /// Closes the connection (Janus then ends the session and its handles).
    pub fn close(&self) {
        self.closed.cancel();
    }

    /// The Janus session id (never shown to clients).
    pub fn session_id(&self) -> u64 {
        self.session
    }

    fn dispatch(&self, v: Value) {
        let kind = v["janus"].as_str().unwrap_or_default();
        if let Some(tx) = v["transaction"].as_str() {
            let mut pending = lock(&self.pending);
            let complete = match pending.get(tx) {
                Some((ack_completes, _)) => kind != "ack" || *ack_completes,
                None => false,
            };
            if complete {
                if let Some((_, reply)) = pending.remove(tx) {
                    let _ = reply.send(v);
                }
                return;
            }
            if kind == "ack" {
                return;
            }
        }
        let Some(handle) = v["sender"].as_u64() else {
            if kind == "timeout" {
                tracing::warn!("Janus timed our session out");
                self.closed.cancel();
            }
            return;
        };
        let event = match kind {
            "trickle" => {
                let c = &v["candidate"];
                if c["completed"] == true {
                    HandleEvent::Trickle(None)
                } else {
                    HandleEvent::Trickle(Some(c.clone()))
                }
            }
            "event" => HandleEvent::Plugin(PluginReply {
                data: v["plugindata"]["data"].clone(),
                jsep: serde_json::from_value(v["jsep"].clone()).ok(),
            }),
            "webrtcup" => HandleEvent::WebrtcUp,
            "hangup" => HandleEvent::Hangup(v["reason"].as_str().unwrap_or_default().to_owned()),
            _ => return, // media, slowlink, detached: nothing to do
        };
        if let Some(tx) = lock(&self.handles).get(&handle) {
            let _ = tx.send(event);
        }
    }

    /// Sends a session-level request and waits for its reply.
    async fn call(&self, mut body: Value, ack_completes: bool) -> Result<Value, JanusError> {
        if self.closed.is_cancelled() {
            return Err(JanusError::Closed);
        }
        let transaction = format!("t{}", self.next_transaction.fetch_add(1, Ordering::Relaxed));
        body["transaction"] = json!(transaction);
        body["session_id"] = json!(self.session);
        body["apisecret"] = json!(self.api_secret);
        let (tx, rx) = oneshot::channel();
        lock(&self.pending).insert(transaction.clone(), (ack_completes, tx));
        if self
            .out
            .send(Message::Text(body.to_string().into()))
            .is_err()
        {
            lock(&self.pending).remove(&transaction);
            return Err(JanusError::Closed);
        }
        match tokio::time::timeout(REPLY_TIMEOUT, rx).await {
            Ok(Ok(v)) => {
                check_core(&v)?;
                Ok(v)
            }
            Ok(Err(_)) => Err(JanusError::Closed),
            Err(_) => {
                lock(&self.pending).remove(&transaction);
                Err(JanusError::Timeout(REPLY_TIMEOUT))
            }
        }
    }

    /// Attaches a handle to `plugin`; its own events arrive on the receiver.
    pub async fn attach(
        &self,
        plugin: &str,
    ) -> Result<(u64, mpsc::UnboundedReceiver<HandleEvent>), JanusError> {
        let v = self
            .call(json!({"janus": "attach", "plugin": plugin}), false)
            .await?;
        let id = v["data"]["id"]
            .as_u64()
            .ok_or_else(|| JanusError::Protocol(format!("no handle id in {v}")))?;
        let (tx, rx) = mpsc::unbounded_channel();
        lock(&self.handles).insert(id, tx);
        Ok((id, rx))
    }

    /// Detaches a handle (hangs up its PeerConnection).
    pub async fn detach(&self, handle: u64) -> Result<(), JanusError> {
        lock(&self.handles).remove(&handle);
        self.call(json!({"janus": "detach", "handle_id": handle}), false)
            .await
            .map(drop)
    }

    /// Sends a plugin request (with an optional JSEP) and waits for the
    /// plugin's reply: the synchronous `success` or the asynchronous `event`.
    pub async fn message(
        &self,
        handle: u64,
        body: Value,
        jsep: Option<Jsep>,
    ) -> Result<PluginReply, JanusError> {
        let mut req = json!({"janus": "message", "handle_id": handle, "body": body});
        if let Some(jsep) = jsep {
            req["jsep"] = json!(jsep);
        }
        let v = self.call(req, false).await?;
        let data = v["plugindata"]["data"].clone();
        if let Some(code) = data["error_code"].as_i64() {
            return Err(JanusError::Plugin {
                code,
                reason: data["error"].as_str().unwrap_or_default().to_owned(),
            });
        }
        Ok(PluginReply {
            data,
            jsep: serde_json::from_value(v["jsep"].clone()).ok(),
        })
    }

    /// Hands Janus one candidate of the peer (`None`: end of candidates).
    pub async fn trickle(&self, handle: u64, candidate: Option<Value>) -> Result<(), JanusError> {
        let candidate = candidate.unwrap_or_else(|| json!({"completed": true}));
        self.call(
            json!({"janus": "trickle", "handle_id": handle, "candidate": candidate}),
            true,
        )
        .await
        .map(drop)
    }
}

fn check_core(v: &Value) -> Result<(), JanusError> {
    if v["janus"] == "error" {
        return Err(JanusError::Core {
            code: v["error"]["code"].as_i64().unwrap_or_default(),
            reason: v["error"]["reason"].as_str().unwrap_or_default().to_owned(),
        });
    }
    Ok(())
}
