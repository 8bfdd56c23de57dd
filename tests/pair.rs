//! The pair harness (quinn's `Pair`, str0m's `progress`): real client cores
//! (`rtcroom::core::Client`) against the real RoomService — its axum router,
//! its WebSocket handler and hub, the in-memory store — joined in memory:
//! HTTP requests go straight into the router, each WebSocket runs over a
//! tokio duplex pipe. No sockets, no browser; the cores read the same wall
//! clock the server does. A small peer-connection stand-in plays the media
//! glue, so whole negotiations are checked against what the server really
//! relays (one offer per pair, no glare, departures close peers).
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use axum::body::Body;
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use rtcroom::core::{
    decode_reply, Call, CallId, CallOk, Client, Config, ConnId, Event, Input, Output, PeerAction,
    SdpKind,
};
use rtcroom::protocol::read::Read;
use rtcroom::protocol::usersig::gen_v2;
use rtcroom::protocol::ws::{IceCandidate, ServerEvent, ServerFrame};
use rtcroom::protocol::{ApiError, RoomId, UserId};
use rtcroom_server::config::{AppConfig, Config as ServerConfig};
use rtcroom_server::service::now_ms;
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::io::DuplexStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;
use tower::ServiceExt;

const APP: u64 = 1_400_000_001;
const SECRET: &str = "pair-secret";
const BASE: &str = "http://rs.test/weapp/rtc_room";

/// The real RoomService, reachable in memory.
struct Net {
    router: axum::Router,
}

impl Net {
    fn new() -> Self {
        Self::with(|_| {})
    }

    /// The server with `tweak` applied to its configuration.
    fn with(tweak: impl FnOnce(&mut ServerConfig)) -> Self {
        let mut config = ServerConfig {
            apps: vec![AppConfig {
                sdk_app_id: APP,
                secret_key: Some(SECRET.into()),
                public_key: None,
                private_key: None,
                account_type: "0".into(),
                max_rooms: None,
                require_privilege: false,
            }],
            ..ServerConfig::default()
        };
        config.heartbeat.ws_ping_ms = 60_000;
        tweak(&mut config);
        let svc = rtcroom_server::build(config);
        let router = rtcroom_server::api::router(svc, tokio_util::sync::CancellationToken::new());
        Net { router }
    }

    /// POSTs `body` to `url` through the router: the status and the body.
    async fn post(&self, url: &str, body: String) -> (u16, Vec<u8>) {
        let path = url.strip_prefix("http://rs.test").expect("our base");
        let req = axum::http::Request::post(path)
            .header("content-type", "application/json")
            .body(Body::from(body))
            .unwrap();
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let status = resp.status().as_u16();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, bytes.to_vec())
    }

    /// Opens the room WebSocket at `url` over an in-memory pipe, served by the router.
    async fn connect(&self, url: &str) -> WebSocketStream<DuplexStream> {
        let (client, server) = tokio::io::duplex(1 << 16);
        let service = hyper_util::service::TowerToHyperService::new(self.router.clone());
        tokio::spawn(async move {
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(server), service)
                .with_upgrades()
                .await;
        });
        let (ws, _) = tokio_tungstenite::client_async(url, client).await.unwrap();
        ws
    }
}

/// What the stand-in glue knows of one peer connection.
#[derive(Debug, Default)]
struct PeerSim {
    offerer: bool,
    creates: usize,
    /// Its offer went with `add_pusher` (the spare's).
    offered: bool,
    remote: Option<SdpKind>,
    ice_in: usize,
}

type Sink = SplitSink<WebSocketStream<DuplexStream>, Message>;

/// One client core with its socket, its stand-in media and what it heard.
struct Node {
    me: String,
    client: Client,
    socket: Option<(ConnId, Sink)>,
    frames_tx: mpsc::UnboundedSender<(ConnId, Option<String>)>,
    frames: mpsc::UnboundedReceiver<(ConnId, Option<String>)>,
    peers: BTreeMap<String, PeerSim>,
    /// Who sent us an offer, as the server relayed it.
    offers_from: Vec<String>,
    events: Vec<Event>,
    done: BTreeMap<u64, Result<CallOk, ApiError>>,
    next_call: u64,
}

fn uid(s: &str) -> UserId {
    UserId::new(s).unwrap()
}

fn rid(s: &str) -> RoomId {
    RoomId::new(s).unwrap()
}

fn cand(c: &str) -> IceCandidate {
    IceCandidate {
        candidate: c.into(),
        sdp_mid: Some("0".into()),
        sdp_m_line_index: Some(0),
        username_fragment: None,
    }
}

impl Node {
    fn new(me: &str) -> Self {
        let (frames_tx, frames) = mpsc::unbounded_channel();
        Node {
            me: me.into(),
            client: Client::new(Config::default()),
            socket: None,
            frames_tx,
            frames,
            peers: BTreeMap::new(),
            offers_from: Vec::new(),
            events: Vec::new(),
            done: BTreeMap::new(),
            next_call: 1,
        }
    }

    fn handle(&mut self, input: Input) {
        self.client.handle(input, now_ms());
    }

    fn call(&mut self, call: Call) -> u64 {
        let id = self.next_call;
        self.next_call += 1;
        self.handle(Input::Call {
            id: CallId(id),
            call,
        });
        id
    }

    fn login(&mut self) -> u64 {
        let sig = gen_v2(APP, SECRET, &self.me, 3600, (now_ms() / 1000) as i64, None);
        let params = rtcroom::core::LoginParams {
            server_domain: BASE.into(),
            sdk_app_id: APP,
            account_type: "0".into(),
            user_id: uid(&self.me),
            user_sig: sig,
            user_name: format!("Name {}", self.me),
            user_avatar: String::new(),
        };
        self.call(Call::Login(params))
    }

    /// Carries out every output the core has; true when there was one.
    async fn drain(&mut self, net: &Net) -> bool {
        let mut moved = false;
        while let Some(out) = self.client.poll() {
            moved = true;
            self.perform(out, net).await;
        }
        moved
    }

    async fn perform(&mut self, out: Output, net: &Net) {
        match out {
            Output::Http(req) => {
                let body = serde_json::to_string(&req.body).unwrap();
                let (status, bytes) = net.post(&req.url, body).await;
                assert_eq!(status, 200, "{}", req.cmd);
                let doc: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
                let envelope = ApiError::read(&doc).unwrap();
                let result = if envelope.code != 0 {
                    Err(envelope)
                } else {
                    Ok(decode_reply(req.expect, &doc).unwrap())
                };
                self.handle(Input::HttpReply { id: req.id, result });
            }
            Output::WsConnect { conn, url } => {
                let ws = net.connect(&url).await;
                let (sink, mut stream) = ws.split();
                let tx = self.frames_tx.clone();
                tokio::spawn(async move {
                    while let Some(Ok(msg)) = stream.next().await {
                        if let Message::Text(t) = msg {
                            let _ = tx.send((conn, Some(t.to_string())));
                        }
                    }
                    let _ = tx.send((conn, None));
                });
                self.socket = Some((conn, sink));
            }
            Output::WsSend { conn, frame } => {
                if let Some((c, sink)) = &mut self.socket {
                    if *c == conn {
                        let text = serde_json::to_string(&frame).unwrap();
                        sink.send(Message::text(text)).await.unwrap();
                    }
                }
            }
            // No media server in these tests: SFU frames never go out.
            Output::WsSendSfu { .. } => {}
            Output::WsClose { conn } => {
                if self.socket.as_ref().is_some_and(|(c, _)| *c == conn) {
                    if let Some((_, mut sink)) = self.socket.take() {
                        let _ = sink.close().await;
                    }
                }
            }
            Output::Peer(action) => self.drive(action),
            Output::Event(e) => self.events.push(e),
            Output::CallDone { id, result } => {
                self.done.insert(id.0, result);
            }
            // One due already (the socket's open after login) fires at once, as a host's next
            // task would; the tests end long before any other timer is due.
            Output::Timer { at_ms } if at_ms <= now_ms() => self.handle(Input::Timeout),
            Output::Timer { .. } => {}
        }
    }

    /// Plays the media glue for one peer action.
    fn drive(&mut self, action: PeerAction) {
        let me = self.me.clone();
        match action {
            PeerAction::Create {
                user,
                offerer,
                offered,
                ..
            } => {
                let p = self.peers.entry(user.to_string()).or_default();
                p.offerer = offerer;
                p.creates += 1;
                p.offered = offered;
                if offered {
                    // The spare's offer went with add_pusher: only its candidates follow.
                    self.handle(Input::LocalIce {
                        user,
                        candidate: cand(&format!("cand {me}")),
                    });
                } else if offerer {
                    self.handle(Input::LocalSdp {
                        user: user.clone(),
                        kind: SdpKind::Offer,
                        sdp: format!("offer {me}->{user}"),
                    });
                    self.handle(Input::LocalIce {
                        user,
                        candidate: cand(&format!("cand {me}")),
                    });
                }
            }
            PeerAction::SetRemoteSdp { user, kind, .. } => {
                if let Some(p) = self.peers.get_mut(user.as_str()) {
                    p.remote = Some(kind);
                }
                if kind == SdpKind::Offer {
                    self.handle(Input::LocalSdp {
                        user: user.clone(),
                        kind: SdpKind::Answer,
                        sdp: format!("answer {me}->{user}"),
                    });
                    self.handle(Input::LocalIce {
                        user,
                        candidate: cand(&format!("cand {me}")),
                    });
                }
            }
            PeerAction::AddIce { user, .. } => {
                if let Some(p) = self.peers.get_mut(user.as_str()) {
                    p.ice_in += 1;
                }
            }
            PeerAction::RestartIce { user } => {
                self.handle(Input::LocalSdp {
                    user: user.clone(),
                    kind: SdpKind::Offer,
                    sdp: format!("ice-restart offer {me}->{user}"),
                });
            }
            PeerAction::Close { user } => {
                self.peers.remove(user.as_str());
            }
            // A spare is made at once, as a browser's glue makes one.
            PeerAction::Prepare { .. } => self.handle(Input::SpareOffer {
                sdp: format!("spare offer {me}"),
            }),
            // Without a media server no room goes SFU.
            PeerAction::UpdateIceServers { .. } | PeerAction::SfuOpen { .. } => {}
            PeerAction::SfuRemoteSdp { .. }
            | PeerAction::SfuAddIce { .. }
            | PeerAction::SfuRestartIce { .. }
            | PeerAction::SfuClose { .. } => {}
        }
    }

    /// Feeds the frames that have arrived; true when there was one.
    fn receive(&mut self) -> bool {
        let mut moved = false;
        while let Ok((conn, text)) = self.frames.try_recv() {
            moved = true;
            let input = match text {
                Some(text) => {
                    let frame: ServerFrame = serde_json::from_str(&text).unwrap();
                    if let ServerEvent::Offer { from, .. } = &frame.event {
                        self.offers_from.push(from.to_string());
                    }
                    Input::WsFrame { conn, frame }
                }
                None => Input::WsClosed {
                    conn,
                    reason: "closed".into(),
                },
            };
            self.handle(input);
        }
        moved
    }
}

/// Runs every node against the server until nothing has moved for a while
/// (frames in flight through the server's tasks get 30 ms to arrive).
async fn progress(nodes: &mut [Node], net: &Net) {
    let mut quiet = 0;
    for _ in 0..500 {
        let mut moved = false;
        for n in nodes.iter_mut() {
            moved |= n.drain(net).await;
            moved |= n.receive();
            moved |= n.drain(net).await;
        }
        if moved {
            quiet = 0;
        } else {
            quiet += 1;
            if quiet == 3 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    panic!("the room never settled");
}

async fn logged_in(names: &[&str], net: &Net) -> Vec<Node> {
    let mut nodes: Vec<Node> = names.iter().map(|m| Node::new(m)).collect();
    let calls: Vec<u64> = nodes.iter_mut().map(Node::login).collect();
    progress(&mut nodes, net).await;
    for (n, id) in nodes.iter().zip(calls) {
        assert!(
            matches!(n.done.get(&id), Some(Ok(CallOk::LoggedIn { .. }))),
            "{} login: {:?}",
            n.me,
            n.done.get(&id)
        );
    }
    nodes
}

/// Every pair negotiated once, exactly one side offering; in `offers`
/// (`(later, earlier)` by entry), the later joiner is the one that offers.
fn assert_connected(nodes: &[Node], offers: &[(&str, &str)]) {
    for a in nodes {
        for b in nodes.iter().filter(|b| b.me != a.me) {
            let p = &a.peers[&b.me];
            assert_eq!(p.creates, 1, "{} -> {}", a.me, b.me);
            assert_ne!(
                p.offerer, b.peers[&a.me].offerer,
                "one of {} and {} offers",
                a.me, b.me
            );
            if offers.contains(&(a.me.as_str(), b.me.as_str())) {
                assert!(p.offerer, "{} joined after {}: it offers", a.me, b.me);
            }
            let expect = if p.offerer {
                SdpKind::Answer
            } else {
                SdpKind::Offer
            };
            assert_eq!(p.remote, Some(expect), "{} -> {}", a.me, b.me);
            assert_eq!(p.ice_in, 1, "{} -> {}", a.me, b.me);
            let relayed = a.offers_from.iter().filter(|f| **f == b.me).count()
                + b.offers_from.iter().filter(|f| **f == a.me).count();
            assert_eq!(
                relayed, 1,
                "one offer relayed between {} and {}",
                a.me, b.me
            );
        }
    }
}

#[tokio::test(flavor = "current_thread")]
async fn two_members_entering_at_once_negotiate_once() {
    let net = Net::new();
    let mut nodes = logged_in(&["bob", "amy"], &net).await;
    let room = format!("pair_{}", now_ms());
    let ids: Vec<u64> = nodes
        .iter_mut()
        .map(|n| {
            n.call(Call::EnterRoom {
                private_map_key: None,
                room_id: rid(&room),
            })
        })
        .collect();
    progress(&mut nodes, &net).await;
    for (n, id) in nodes.iter().zip(ids) {
        assert!(
            matches!(n.done.get(&id), Some(Ok(CallOk::Entered { .. }))),
            "{}: {:?}",
            n.me,
            n.done.get(&id)
        );
    }
    // Entered at once: the server's join order decides, the same way for both.
    assert_connected(&nodes, &[]);
}

#[tokio::test(flavor = "current_thread")]
async fn a_mesh_of_four_then_one_leaves_and_messages_reach_the_rest() {
    let net = Net::new();
    let mut nodes = logged_in(&["dan", "amy", "cat", "bob"], &net).await;
    let room = rid(&format!("pair_{}", now_ms()));
    // Two enter at once, then the others one by one.
    for i in [0, 1] {
        nodes[i].call(Call::EnterRoom {
            private_map_key: None,
            room_id: room.clone(),
        });
    }
    progress(&mut nodes, &net).await;
    for i in [2, 3] {
        nodes[i].call(Call::EnterRoom {
            private_map_key: None,
            room_id: room.clone(),
        });
        progress(&mut nodes, &net).await;
    }
    assert_connected(
        &nodes,
        &[
            ("cat", "dan"),
            ("cat", "amy"),
            ("bob", "dan"),
            ("bob", "amy"),
            ("bob", "cat"),
        ],
    );
    // Each of the two later ones sent its first offer with add_pusher, to
    // the earliest member; the rest went over the socket.
    for n in &nodes[2..] {
        let offered: Vec<_> = n.peers.iter().filter(|(_, p)| p.offered).collect();
        assert_eq!(offered.len(), 1, "{}: {:?}", n.me, n.peers);
    }

    let sent = nodes[0].call(Call::SendRoomTextMsg {
        text: "hello".into(),
    });
    nodes[1].call(Call::ExitRoom);
    progress(&mut nodes, &net).await;
    assert!(matches!(nodes[0].done.get(&sent), Some(Ok(CallOk::Sent))));
    assert!(nodes[1].peers.is_empty());
    for n in nodes.iter().filter(|n| n.me != "amy") {
        assert!(!n.peers.contains_key("amy"), "{} still has amy", n.me);
        assert_eq!(n.peers.len(), 2, "{}", n.me);
        assert!(
            n.events
                .iter()
                .any(|e| matches!(e, Event::PusherQuit(p) if p.user_id.as_str() == "amy")),
            "{} heard amy leave",
            n.me
        );
    }
    for n in nodes.iter().filter(|n| n.me != "dan" && n.me != "amy") {
        let texts: Vec<&str> = n
            .events
            .iter()
            .filter_map(|e| match e {
                Event::RecvRoomTextMsg { user_id, text, .. } if user_id.as_str() == "dan" => {
                    Some(text.as_str())
                }
                _ => None,
            })
            .collect();
        assert_eq!(texts, ["hello"], "{}", n.me);
    }
}

fn texts_from<'a>(n: &'a Node, from: &str) -> Vec<&'a str> {
    n.events
        .iter()
        .filter_map(|e| match e {
            Event::RecvRoomTextMsg { user_id, text, .. } if user_id.as_str() == from => {
                Some(text.as_str())
            }
            _ => None,
        })
        .collect()
}

/// A socket that comes back after more frames than the server's replay
/// window holds: the real server's `resume_gap` reaches the application as
/// [`Event::ResumeGap`] (code 1019, how many frames were lost), the room is
/// re-synced, and messages flow again.
#[tokio::test(flavor = "current_thread")]
async fn a_resume_past_the_replay_window_tells_the_app_how_much_was_lost() {
    let net = Net::with(|c| {
        c.debug = true;
        c.limits.replay_frames = 8;
    });
    let mut nodes = logged_in(&["amy", "bob"], &net).await;
    let room = rid(&format!("pair_{}", now_ms()));
    for n in nodes.iter_mut() {
        n.call(Call::EnterRoom {
            private_map_key: None,
            room_id: room.clone(),
        });
        progress(std::slice::from_mut(n), &net).await;
    }
    progress(&mut nodes, &net).await;
    nodes[0].call(Call::SendRoomTextMsg {
        text: "before".into(),
    });
    progress(&mut nodes, &net).await;
    assert_eq!(texts_from(&nodes[1], "amy"), ["before"]);

    // bob's socket drops; amy sends 20 texts while bob is away.
    let (status, body) = net
        .post(
            &format!("http://rs.test/weapp/utils/debug_drop_socket?userID=bob&sdkAppID={APP}"),
            String::new(),
        )
        .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    for i in 0..20 {
        nodes[0].call(Call::SendRoomTextMsg {
            text: format!("away {i}"),
        });
    }
    progress(&mut nodes[..1], &net).await;

    // bob notices, waits its back-off, reconnects with lastSeq.
    let mut gap = None;
    for _ in 0..40 {
        progress(&mut nodes, &net).await;
        gap = nodes[1].events.iter().find_map(|e| match e {
            Event::ResumeGap {
                code,
                missed,
                last_seq,
                ..
            } => Some((*code, *missed, *last_seq)),
            _ => None,
        });
        if gap.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        nodes[1].handle(Input::Timeout);
    }
    let (code, missed, _) = gap.expect("bob heard of the gap");
    assert_eq!(code, 1019);
    assert!(missed >= 20, "{missed} frames lost (20 texts at least)");
    progress(&mut nodes, &net).await;
    // Not all 20 came back (the window holds 8), and the room goes on.
    assert!(texts_from(&nodes[1], "amy").len() < 21);
    nodes[0].call(Call::SendRoomTextMsg {
        text: "after".into(),
    });
    progress(&mut nodes, &net).await;
    assert_eq!(texts_from(&nodes[1], "amy").last(), Some(&"after"));
    assert!(
        nodes[1].peers.contains_key("amy"),
        "bob still has amy after the re-sync"
    );
}
