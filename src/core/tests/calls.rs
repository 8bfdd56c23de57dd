//! Every call completes exactly once, whatever happens around it.

use super::*;
use rtcroom_protocol::http::CreateRoomResponse;

#[test]
fn a_reused_call_id_is_reported_not_completed_twice() {
    let mut h = H::new();
    h.login();
    let id = CallId(77);
    h.handle(Input::Call {
        id,
        call: Call::GetRoomList { index: 0, cnt: 1 },
    });
    h.handle(Input::Call {
        id,
        call: Call::GetRoomList { index: 0, cnt: 1 },
    });
    assert!(matches!(
        h.events().as_slice(),
        [Event::Error { code, .. }] if *code == ClientError::InvalidArgument.code()
    ));
    assert_eq!(h.https().len(), 1);
}

#[test]
fn transport_failures_and_wrong_reply_kinds_fail_the_call() {
    let mut h = H::new();
    h.login();
    let a = h.call(Call::GetRoomList { index: 0, cnt: 1 });
    let req = h.http("get_room_list");
    h.fail(&req, ClientError::Network.with_message("fetch failed"));
    assert_eq!(
        h.done(a),
        Err(ClientError::Network.with_message("fetch failed"))
    );
    let b = h.call(Call::GetRoomList { index: 0, cnt: 1 });
    let req = h.http("get_room_list");
    h.handle(Input::HttpReply {
        id: req.id,
        result: Ok(ReplyBody::Empty),
    });
    assert_eq!(h.err_code(b), ClientError::BadReply.code());
    // A reply nobody asked for is ignored.
    h.handle(Input::HttpReply {
        id: RequestId(9_999),
        result: Ok(ReplyBody::Empty),
    });
    assert!(h.out.iter().all(|o| !matches!(o, Output::CallDone { .. })));
}

/// Tiny deterministic generator for the property test.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % u64::try_from(n).unwrap()).unwrap()
    }
}

fn ok_body(me: &str, req: &HttpRequest) -> ReplyBody {
    match req.expect {
        ReplyKind::Login => ReplyBody::Login(LoginResponse {
            user_id: uid(me),
            token: "tok".into(),
            token_ttl: 60,
            heartbeat_interval: 5,
            ice_servers: vec![],
        }),
        ReplyKind::Empty => ReplyBody::Empty,
        // Room r1 answers with its roster (our server), r2 without (the original).
        ReplyKind::AddPusher => {
            let RequestBody::AddPusher(b) = &req.body else {
                return ReplyBody::Empty;
            };
            let pushers = (b.room_id.as_str() == "r1")
                .then(|| [me, "alice", "dave"].iter().map(|m| pusher(m)).collect());
            ReplyBody::AddPusher(rtcroom_protocol::http::AddPusherResponse {
                room_id: b.room_id.clone(),
                pushers,
                offered_to: None,
            })
        }
        ReplyKind::RoomList => room_list(vec![]),
        ReplyKind::Pushers => {
            let room = match &req.body {
                RequestBody::GetPushers(b) => b.room_id.to_string(),
                _ => "r1".into(),
            };
            ReplyBody::Pushers(summary(&room, &[me, "alice", "dave"]))
        }
        ReplyKind::CreateRoom => ReplyBody::CreateRoom(CreateRoomResponse { room_id: rid("r9") }),
        ReplyKind::PushUrl => ReplyBody::PushUrl(rtcroom_protocol::http::GetPushUrlResponse {
            push_url: "rtmp://h/live/s".into(),
        }),
    }
}

fn random_call(rng: &mut Rng) -> Call {
    let room = rid(["r1", "r2"][rng.below(2)]);
    match rng.below(40) {
        0 => Call::Logout,
        1..=3 => Call::Login(login_params(ME)),
        4 | 5 => Call::GetRoomList { index: 0, cnt: 3 },
        6 | 7 => Call::GetPushers { room_id: room },
        8..=10 => Call::CreateRoom {
            private_map_key: None,
            room_id: None,
            room_info: "i".into(),
        },
        11..=18 => Call::EnterRoom {
            private_map_key: None,
            room_id: room,
        },
        19..=22 => Call::ExitRoom,
        23 => Call::DestroyRoom { room_id: room },
        24 => Call::GetPushUrl { room_id: None },
        25..=31 => Call::SendRoomTextMsg { text: "t".into() },
        _ => Call::SendRoomCustomMsg {
            cmd: "c".into(),
            msg: "m".into(),
        },
    }
}

/// Failures replies may carry (one in eight ends the session).
const ERRORS: [i32; 8] = [-1009, -1008, 3, 5, 5001, -1009, 3, 7];

/// One random step of the world around the client.
fn random_step(h: &mut H, rng: &mut Rng, http: &mut Vec<HttpRequest>, reqs: &mut Vec<u32>) {
    match rng.below(12) {
        0 if !h.c.is_logged_in() => {
            h.call(Call::Login(login_params(ME)));
        }
        0 | 1 => {
            h.call(random_call(rng));
        }
        2..=4 if !http.is_empty() => {
            let req = http.remove(rng.below(http.len()));
            if rng.below(4) == 0 {
                let code = ERRORS[rng.below(ERRORS.len())];
                h.fail(
                    &req,
                    ApiError {
                        code,
                        message: "e".into(),
                    },
                );
            } else {
                let body = ok_body(ME, &req);
                h.reply(&req, body);
            }
        }
        5 if h.conn.is_some() => h.drop_socket(),
        6 if h.conn.is_some() && !reqs.is_empty() => {
            let req_id = reqs.remove(rng.below(reqs.len()));
            if rng.below(3) == 0 {
                h.server(ServerEvent::Error {
                    req_id: Some(req_id),
                    code: 5,
                    message: "e".into(),
                });
            } else {
                h.server(ServerEvent::Ack { req_id });
            }
        }
        7 if h.conn.is_some() => {
            let who = ["alice", "dave", "erin"][rng.below(3)];
            let room = ["r1", "r2", "r9"][rng.below(3)];
            let ev = match rng.below(4) {
                0 => join(room, who),
                1 => quit(room, who),
                2 => ServerEvent::RoomClosed {
                    room_id: rid(room),
                    reason: rtcroom_protocol::ws::CloseReason::Destroyed,
                },
                _ => ServerEvent::Offer {
                    room_id: rid(room),
                    from: uid(who),
                    sdp: "o".into(),
                },
            };
            h.server(ev);
        }
        8 if h.conn.is_some() && rng.below(40) == 0 => {
            h.server(ServerEvent::Error {
                req_id: None,
                code: 1009,
                message: "replaced".into(),
            });
        }
        9 if h.conn.is_some() && rng.below(3) == 0 => {
            // Lose a frame: the client must resume.
            h.seq += 1;
        }
        _ => h.advance(u64::try_from(rng.below(3_000)).unwrap()),
    }
    // The driver side of the outputs.
    let mut acks = Vec::new();
    for o in std::mem::take(&mut h.out) {
        match o {
            Output::Http(r) => http.push(r),
            Output::WsConnect { conn, .. } => {
                h.conn = Some(conn);
                let resumed = rng.below(2) == 0;
                h.welcome(resumed);
            }
            // Re-syncs send these in bulk; acked at once so that the calls'
            // frames still get their share of the random answers.
            Output::WsSend {
                conn,
                frame:
                    ClientEnvelope {
                        req_id: Some(req_id),
                        frame: ClientFrame::Renegotiate { .. },
                    },
            } if h.conn == Some(conn) => acks.push(req_id),
            Output::WsSend { frame, .. } => reqs.extend(frame.req_id),
            Output::WsClose { conn } if h.conn == Some(conn) => h.conn = None,
            _ => {}
        }
    }
    for req_id in acks {
        if h.conn.is_some() {
            h.server(ServerEvent::Ack { req_id });
        }
    }
}

#[test]
fn every_call_completes_exactly_once_under_random_events() {
    let (mut entered, mut sent) = (0, 0);
    for seed in 1..=40u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let mut h = H::new();
        let (mut http, mut reqs) = (Vec::new(), Vec::new());
        for _ in 0..600 {
            random_step(&mut h, &mut rng, &mut http, &mut reqs);
        }
        // Wind down: log out and answer everything still open.
        h.call(Call::Logout);
        for _ in 0..50 {
            for o in std::mem::take(&mut h.out) {
                if let Output::Http(r) = o {
                    http.push(r);
                }
            }
            if http.is_empty() {
                break;
            }
            for req in std::mem::take(&mut http) {
                let body = ok_body(ME, &req);
                h.reply(&req, body);
            }
        }
        h.advance(60_000);
        assert!(h.live_peers.is_empty(), "seed {seed}: peers left open");
        let issued = h.next_call_id();
        entered += h.stat_entered;
        sent += h.stat_sent;
        for n in 1..=issued {
            assert_eq!(
                h.completed.get(&CallId(n)),
                Some(&1),
                "seed {seed}: call#{n} completed {:?} times",
                h.completed.get(&CallId(n))
            );
        }
    }
    // The walk must reach the interesting states, not just fail early.
    assert!(entered > 150 && sent > 50, "entered {entered}, sent {sent}");
}
