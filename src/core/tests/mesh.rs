//! Several clients and an in-memory server: membership, relay and a fake
//! peer-connection driver, to check whole negotiations (one offer per pair,
//! no glare) rather than single rules.

use super::*;

/// What the fake driver knows of one peer connection.
#[derive(Debug, Default)]
struct PeerSim {
    offerer: bool,
    creates: usize,
    remote: Option<SdpKind>,
    ice_in: usize,
}

struct Node {
    h: H,
    peers: BTreeMap<String, PeerSim>,
}

#[derive(Default)]
struct Server {
    rooms: BTreeMap<String, Vec<String>>,
    offers: Vec<(String, String)>,
}

impl Node {
    fn new(me: &str) -> Self {
        let mut h = H::with(me, test_config());
        h.login();
        Self {
            h,
            peers: BTreeMap::new(),
        }
    }

    /// Plays the browser side for one peer action.
    fn drive(&mut self, action: PeerAction) {
        let me = self.h.me.clone();
        match action {
            PeerAction::Create { user, offerer, .. } => {
                let p = self.peers.entry(user.to_string()).or_default();
                p.offerer = offerer;
                p.creates += 1;
                if offerer {
                    self.h.handle(Input::LocalSdp {
                        user: user.clone(),
                        kind: SdpKind::Offer,
                        sdp: format!("offer {me}->{user}"),
                    });
                    self.h.handle(Input::LocalIce {
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
                    self.h.handle(Input::LocalSdp {
                        user: user.clone(),
                        kind: SdpKind::Answer,
                        sdp: format!("answer {me}->{user}"),
                    });
                    self.h.handle(Input::LocalIce {
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
            PeerAction::Close { user } => {
                self.peers.remove(user.as_str());
            }
        }
    }
}

impl Server {
    fn http(
        &mut self,
        me: &str,
        req: &HttpRequest,
        push: &mut Vec<(String, ServerEvent)>,
    ) -> ReplyBody {
        match &req.body {
            RequestBody::AddPusher(b) => {
                let room = b.room_id.to_string();
                let members = self.rooms.entry(room.clone()).or_default();
                for m in members.iter() {
                    push.push((m.clone(), join(&room, me)));
                }
                members.push(me.into());
                ReplyBody::Empty
            }
            RequestBody::GetPushers(b) => {
                let room = b.room_id.to_string();
                let members: Vec<&str> = self.rooms[&room].iter().map(String::as_str).collect();
                ReplyBody::Pushers(summary(&room, &members))
            }
            RequestBody::RoomUser(b) if req.cmd == "delete_pusher" => {
                let room = b.room_id.to_string();
                if let Some(members) = self.rooms.get_mut(&room) {
                    members.retain(|m| m != me);
                    for m in members.iter() {
                        push.push((m.clone(), quit(&room, me)));
                    }
                }
                ReplyBody::Empty
            }
            _ => ReplyBody::Empty,
        }
    }

    fn relay(&mut self, me: &str, f: &ClientFrame, push: &mut Vec<(String, ServerEvent)>) {
        let from = uid(me);
        let (to, ev) = match f.clone() {
            ClientFrame::Offer { room_id, to, sdp } => {
                self.offers.push((me.into(), to.to_string()));
                (to.clone(), ServerEvent::Offer { room_id, from, sdp })
            }
            ClientFrame::Answer { room_id, to, sdp } => {
                (to.clone(), ServerEvent::Answer { room_id, from, sdp })
            }
            ClientFrame::Candidate {
                room_id,
                to,
                candidate,
            } => (
                to.clone(),
                ServerEvent::Candidate {
                    room_id,
                    from,
                    candidate,
                },
            ),
            ClientFrame::Renegotiate { room_id, to } => {
                (to.clone(), ServerEvent::Renegotiate { room_id, from })
            }
            _ => return,
        };
        push.push((to.to_string(), ev));
    }
}

/// Runs every node and the server until nothing moves.
fn run(nodes: &mut [Node], server: &mut Server) {
    for _ in 0..100 {
        let mut moved = false;
        let mut push = Vec::new();
        for node in nodes.iter_mut() {
            let me = node.h.me.clone();
            while let Some(o) = node.h.out.pop_front() {
                moved = true;
                match o {
                    Output::Http(req) => {
                        let body = server.http(&me, &req, &mut push);
                        node.h.reply(&req, body);
                    }
                    Output::WsSend { frame, .. } => {
                        server.relay(&me, &frame.frame, &mut push);
                        if let Some(req_id) = frame.req_id {
                            node.h.server(ServerEvent::Ack { req_id });
                        }
                    }
                    Output::Peer(a) => node.drive(a),
                    _ => {}
                }
            }
        }
        // Deliver after the round, so events race the HTTP replies.
        for (to, ev) in push {
            if let Some(n) = nodes.iter_mut().find(|n| n.h.me == to) {
                n.h.server(ev);
            }
        }
        if !moved {
            return;
        }
    }
    panic!("the mesh never settled");
}

fn assert_connected(nodes: &[Node], server: &Server) {
    for a in nodes {
        for b in nodes {
            if a.h.me == b.h.me {
                continue;
            }
            let p = &a.peers[&b.h.me];
            assert_eq!(p.creates, 1, "{} -> {}", a.h.me, b.h.me);
            assert_eq!(p.offerer, a.h.me < b.h.me);
            let expect = if p.offerer {
                SdpKind::Answer
            } else {
                SdpKind::Offer
            };
            assert_eq!(p.remote, Some(expect), "{} -> {}", a.h.me, b.h.me);
            assert_eq!(p.ice_in, 1, "{} -> {}", a.h.me, b.h.me);
            let offers = server
                .offers
                .iter()
                .filter(|(x, y)| (x == &a.h.me && y == &b.h.me) || (x == &b.h.me && y == &a.h.me))
                .count();
            assert_eq!(offers, 1, "one offer between {} and {}", a.h.me, b.h.me);
        }
    }
}

#[test]
fn two_members_entering_at_once_negotiate_once() {
    let mut nodes = vec![Node::new("bob"), Node::new("amy")];
    let mut server = Server::default();
    let ids: Vec<CallId> = nodes
        .iter_mut()
        .map(|n| n.h.call(Call::EnterRoom { room_id: rid("r") }))
        .collect();
    run(&mut nodes, &mut server);
    for (n, id) in nodes.iter_mut().zip(ids) {
        assert!(!n.h.pending(id));
    }
    assert_connected(&nodes, &server);
}

#[test]
fn a_mesh_of_four_then_one_leaves() {
    let mut nodes: Vec<Node> = ["dan", "amy", "cat", "bob"]
        .iter()
        .map(|m| Node::new(m))
        .collect();
    let mut server = Server::default();
    // Two enter at once, then the others one by one.
    for i in [0, 1] {
        nodes[i].h.call(Call::EnterRoom { room_id: rid("r") });
    }
    run(&mut nodes, &mut server);
    for i in [2, 3] {
        nodes[i].h.call(Call::EnterRoom { room_id: rid("r") });
        run(&mut nodes, &mut server);
    }
    assert_connected(&nodes, &server);

    nodes[1].h.call(Call::ExitRoom);
    run(&mut nodes, &mut server);
    assert!(nodes[1].peers.is_empty());
    for n in nodes.iter().filter(|n| n.h.me != "amy") {
        assert!(!n.peers.contains_key("amy"), "{} still has amy", n.h.me);
        assert_eq!(n.peers.len(), 2);
    }
}
