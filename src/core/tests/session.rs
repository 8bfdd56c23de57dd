//! Login, logout, the end of a session, reconnect back-off.

use super::*;

#[test]
fn login_posts_credentials_completes_at_its_answer_and_connects_behind_it() {
    let mut h = H::new();
    let id = h.call(Call::Login(login_params(ME)));
    let req = h.http("login");
    assert_eq!(
        req.url,
        "https://rs.example/weapp/multi_room/login?sdkAppID=1400000001&accountType=0&userID=carol&userSig=sig"
    );
    assert_eq!(serde_json::to_string(&req.body).unwrap(), "{}");
    assert_eq!(req.expect, ReplyKind::Login);
    h.reply(
        &req,
        ReplyBody::Login(LoginResponse {
            user_id: uid(ME),
            token: "t/k n".into(),
            token_ttl: 60,
            heartbeat_interval: 5,
            ice_servers: vec![],
        }),
    );
    // Done at the HTTP answer: the socket opens behind it, asking for the
    // session's frames from its first one on.
    assert_eq!(h.done(id), Ok(CallOk::LoggedIn { user_id: uid(ME) }));
    assert!(h.c.is_logged_in());
    // Not in the answer's own turn: a call the app makes on it goes out first.
    assert!(!h.out.iter().any(|o| matches!(o, Output::WsConnect { .. })));
    let url = h.ws_connect();
    assert_eq!(
        url,
        "wss://rs.example/weapp/multi_room/ws?userID=carol&token=t%2Fk%20n&lastSeq=0"
    );
    assert_eq!(
        h.events(),
        [Event::ConnectionStateChange(ConnectionState::Connecting)]
    );
    h.welcome(true);
    assert_eq!(
        h.events(),
        [Event::ConnectionStateChange(ConnectionState::Connected)]
    );
    assert!(h.c.is_logged_in());
    // Later commands carry the token.
    let id = h.call(Call::GetRoomList { index: 0, cnt: 5 });
    let req = h.http("get_room_list");
    assert_eq!(
        req.url,
        "https://rs.example/weapp/multi_room/get_room_list?userID=carol&token=t%2Fk%20n"
    );
    assert_eq!(
        serde_json::to_string(&req.body).unwrap(),
        r#"{"index":0,"cnt":5}"#
    );
    h.reply(&req, room_list(vec![summary("r1", &["alice"])]));
    assert!(matches!(h.done(id), Ok(CallOk::RoomList { rooms, total: 1 }) if rooms.len() == 1));
}

#[test]
fn login_failure_is_the_servers_error_and_leaves_us_logged_out() {
    let mut h = H::new();
    let id = h.call(Call::Login(login_params(ME)));
    let req = h.http("login");
    h.fail(&req, api(ErrorCode::UserSigExpired));
    assert_eq!(h.err_code(id), 7007);
    let id = h.call(Call::GetRoomList { index: 0, cnt: 5 });
    assert_eq!(h.err_code(id), ClientError::NotLoggedIn.code());
    // And may log in again.
    h.login();
}

#[test]
fn misuse_fails_at_once_with_clear_codes() {
    let mut h = H::new();
    for call in [
        Call::EnterRoom {
            private_map_key: None,
            room_id: rid("r1"),
        },
        Call::CreateRoom {
            private_map_key: None,
            room_id: None,
            room_info: String::new(),
        },
        Call::ExitRoom,
        Call::SendRoomTextMsg { text: "hi".into() },
        Call::GetRoomList { index: 0, cnt: 1 },
    ] {
        let id = h.call(call);
        assert_eq!(h.err_code(id), ClientError::NotLoggedIn.code());
    }
    let mut bad = login_params(ME);
    bad.server_domain = "rs.example".into();
    let id = h.call(Call::Login(bad));
    assert_eq!(h.err_code(id), ClientError::InvalidArgument.code());

    let id = h.call(Call::Login(login_params(ME)));
    let again = h.call(Call::Login(login_params(ME)));
    assert_eq!(h.err_code(again), ClientError::AlreadyLoggedIn.code());
    // Not logged in while login is on its way either.
    let early = h.call(Call::EnterRoom {
        private_map_key: None,
        room_id: rid("r1"),
    });
    assert_eq!(h.err_code(early), ClientError::NotLoggedIn.code());
    assert!(h.pending(id));
}

#[test]
fn a_room_entered_before_the_first_welcome_signals_once_it_comes() {
    let mut h = H::new();
    let login = h.login_answered();
    assert!(h.done(login).is_ok());
    h.ws_connect();
    // enterRoom at once: its add_pusher is HTTP and does not wait for the socket.
    let (enter, add) = h.start_entering("r1");
    h.ok_roster(&add, &["alice", ME]);
    assert_eq!(h.done(enter), Ok(CallOk::Entered { room_id: rid("r1") }));
    assert_eq!(h.peers(), [created("alice", false)]);
    // Frames the server numbered for the session before the socket was up
    // are replayed after its welcome (the connect asked from seq 0).
    let join = h.server(ServerEvent::PusherJoin {
        room_id: rid("r1"),
        pusher: pusher("dave"),
        offer: None,
    });
    let offer = h.server(ServerEvent::Offer {
        room_id: rid("r1"),
        from: uid("alice"),
        sdp: "offer-1".into(),
    });
    h.welcome(true);
    h.frame(join);
    h.frame(offer);
    let actions = h.peers();
    assert!(
        actions.contains(&created("dave", true)),
        "the replayed join reached the room: {actions:?}"
    );
    assert!(
        actions.iter().any(|a| matches!(a, PeerAction::SetRemoteSdp { kind: SdpKind::Offer, sdp, .. } if sdp == "offer-1")),
        "the replayed offer reached its peer: {actions:?}"
    );
    // Our answer, made before the welcome or after, leaves on the socket.
    h.handle(Input::LocalSdp {
        user: uid("alice"),
        kind: SdpKind::Answer,
        sdp: "answer-1".into(),
    });
    assert_eq!(kinds(&h.sent()), ["answer"]);
}

#[test]
fn socket_frames_made_before_the_first_welcome_wait_for_it() {
    let mut h = H::new();
    h.login_answered();
    h.ws_connect();
    let text = h.call(Call::SendRoomTextMsg { text: "hi".into() });
    assert_eq!(h.err_code(text), ClientError::NotInRoom.code());
    let (enter, add) = h.start_entering("r1");
    h.ok_roster(&add, &["zed", ME]);
    assert!(h.done(enter).is_ok());
    assert_eq!(h.peers(), [created("zed", true)]);
    h.handle(Input::LocalSdp {
        user: uid("zed"),
        kind: SdpKind::Offer,
        sdp: "offer-1".into(),
    });
    assert!(h.sent().is_empty(), "no socket yet: the offer waits");
    h.welcome(true);
    assert_eq!(kinds(&h.sent()), ["offer"]);
}

#[test]
fn a_session_whose_socket_never_connects_ends_with_an_error_event() {
    let mut h = H::new();
    let id = h.call(Call::Login(login_params(ME)));
    let req = h.http("login");
    h.reply(
        &req,
        ReplyBody::Login(LoginResponse {
            user_id: uid(ME),
            token: "t".into(),
            token_ttl: 60,
            heartbeat_interval: 5,
            ice_servers: vec![],
        }),
    );
    assert!(h.done(id).is_ok());
    for attempt in 1..=3 {
        h.ws_connect();
        h.drop_socket();
        if attempt < 3 {
            assert!(h.c.is_logged_in());
            h.advance(10_000);
        }
    }
    assert!(!h.c.is_logged_in());
    let events = h.events();
    assert!(events.contains(&Event::Error {
        code: ClientError::ConnectFailed.code(),
        message: ClientError::ConnectFailed.api().message,
    }));
    assert!(events.contains(&Event::ConnectionStateChange(ConnectionState::Disconnected)));
    let logout = h.http("logout");
    assert!(logout.url.contains("token=t"));
    h.advance(60_000);
    assert!(
        !h.out.iter().any(|o| matches!(o, Output::WsConnect { .. })),
        "no more attempts"
    );
}

#[test]
fn logout_while_logging_in_cancels_and_logs_the_late_token_out() {
    let mut h = H::new();
    let id = h.call(Call::Login(login_params(ME)));
    let req = h.http("login");
    let out = h.call(Call::Logout);
    assert_eq!(h.err_code(id), ClientError::Cancelled.code());
    assert_eq!(h.done(out), Ok(CallOk::LoggedOut));
    h.reply(
        &req,
        ReplyBody::Login(LoginResponse {
            user_id: uid(ME),
            token: "late".into(),
            token_ttl: 60,
            heartbeat_interval: 5,
            ice_servers: vec![],
        }),
    );
    let logout = h.http("logout");
    assert!(logout.url.ends_with("/logout?userID=carol&token=late"));
    h.ok(&logout);
    assert!(!h.out.iter().any(|o| matches!(o, Output::WsConnect { .. })));
    assert!(!h.c.is_logged_in());
}

#[test]
fn logout_in_a_room_closes_peers_and_stops_everything() {
    let mut h = H::in_room("r1", &["alice"]);
    let text = h.call(Call::SendRoomTextMsg { text: "hi".into() });
    h.sent();
    let id = h.call(Call::Logout);
    assert_eq!(h.peers(), [closed("alice")]);
    assert_eq!(h.closes().len(), 1);
    assert_eq!(h.err_code(text), ClientError::Cancelled.code());
    // The server's logout removes us from the room: no delete_pusher.
    h.no_http("delete_pusher");
    let req = h.http("logout");
    assert!(h.pending(id));
    h.ok(&req);
    assert_eq!(h.done(id), Ok(CallOk::LoggedOut));
    assert!(h
        .events()
        .contains(&Event::ConnectionStateChange(ConnectionState::Disconnected)));
    h.advance(60_000);
    assert!(h.https().is_empty(), "no heartbeat after logout");
    assert!(!h.out.iter().any(|o| matches!(o, Output::WsConnect { .. })));
    // Logging out twice is fine.
    let again = h.call(Call::Logout);
    assert_eq!(h.done(again), Ok(CallOk::LoggedOut));
}

#[test]
fn session_replaced_ends_the_session_without_reconnecting() {
    let mut h = H::in_room("r1", &["alice"]);
    let list = h.call(Call::GetRoomList { index: 0, cnt: 5 });
    let list_req = h.http("get_room_list");
    h.server(ServerEvent::Error {
        req_id: None,
        code: ErrorCode::SessionReplaced.code(),
        message: "logged in elsewhere".into(),
    });
    assert_eq!(h.err_code(list), 1009);
    assert_eq!(h.peers(), [closed("alice")]);
    assert_eq!(h.closes().len(), 1);
    let ev = h.events();
    assert!(ev.contains(&Event::Error {
        code: 1009,
        message: "logged in elsewhere".into()
    }));
    assert!(ev.contains(&Event::ConnectionStateChange(ConnectionState::Disconnected)));
    // The server closes the socket too: no reconnect, ever.
    h.handle(Input::WsClosed {
        conn: h.conn.unwrap(),
        reason: "replaced".into(),
    });
    h.advance(120_000);
    assert!(!h.out.iter().any(|o| matches!(o, Output::WsConnect { .. })));
    assert!(h.https().is_empty());
    let id = h.call(Call::EnterRoom {
        private_map_key: None,
        room_id: rid("r1"),
    });
    assert_eq!(h.err_code(id), ClientError::NotLoggedIn.code());
    // Its late reply changes nothing.
    h.reply(&list_req, room_list(vec![]));
    assert!(h.out.iter().all(|o| !matches!(o, Output::CallDone { .. })));
}

#[test]
fn a_socket_refused_for_a_stale_token_ends_the_session() {
    let mut h = H::in_room("r1", &["alice"]);
    h.drop_socket();
    h.advance(250);
    h.ws_connect();
    h.clear();
    // The server upgrades only to say why, unnumbered, before any welcome.
    h.frame(ServerFrame {
        seq: 0,
        event: ServerEvent::Error {
            req_id: None,
            code: ErrorCode::AuthFailed.code(),
            message: "authentication failed".into(),
        },
    });
    assert_eq!(h.peers(), [closed("alice")]);
    assert!(h.events().contains(&Event::Error {
        code: 7,
        message: "authentication failed".into()
    }));
    h.drop_socket();
    h.advance(60_000);
    assert!(!h.out.iter().any(|o| matches!(o, Output::WsConnect { .. })));
}

#[test]
fn a_session_refused_on_its_first_socket_ends_with_the_servers_code() {
    let mut h = H::new();
    let id = h.call(Call::Login(login_params(ME)));
    let req = h.http("login");
    h.reply(
        &req,
        ReplyBody::Login(LoginResponse {
            user_id: uid(ME),
            token: "t".into(),
            token_ttl: 60,
            heartbeat_interval: 5,
            ice_servers: vec![],
        }),
    );
    h.ws_connect();
    h.frame(ServerFrame {
        seq: 0,
        event: ServerEvent::Error {
            req_id: None,
            code: ErrorCode::SessionReplaced.code(),
            message: "replaced".into(),
        },
    });
    assert!(h.done(id).is_ok());
    assert!(!h.c.is_logged_in());
    assert!(h
        .events()
        .iter()
        .any(|e| matches!(e, Event::Error { code: 1009, .. })));
}

#[test]
fn a_rejected_token_on_http_ends_the_session() {
    let mut h = H::in_room("r1", &["alice"]);
    h.advance(5_000);
    let beat = h.http("pusher_heartbeat");
    h.fail(&beat, api(ErrorCode::TokenExpired));
    assert_eq!(h.peers(), [closed("alice")]);
    assert!(h.events().contains(&Event::Error {
        code: 1004,
        message: ErrorCode::TokenExpired.message().into()
    }));
    assert!(!h.c.is_logged_in());
}

#[test]
fn reconnects_with_doubling_back_off_and_last_seq() {
    let mut h = H::in_room("r1", &[]);
    h.server(join("r1", "alice"));
    h.clear();
    h.drop_socket();
    assert_eq!(
        h.events(),
        [Event::ConnectionStateChange(ConnectionState::Reconnecting)]
    );
    h.advance(249);
    assert!(!h.out.iter().any(|o| matches!(o, Output::WsConnect { .. })));
    h.advance(1);
    assert!(h.ws_connect().ends_with("&lastSeq=1"));
    h.drop_socket();
    h.advance(499);
    assert!(!h.out.iter().any(|o| matches!(o, Output::WsConnect { .. })));
    h.advance(1);
    h.ws_connect();
    h.welcome(true);
    assert!(h
        .events()
        .contains(&Event::ConnectionStateChange(ConnectionState::Connected)));
    // A good connection resets the back-off.
    h.drop_socket();
    h.advance(250);
    h.ws_connect();
}

#[test]
fn jitter_comes_from_the_seed() {
    let delay = |seed| {
        let mut h = H::with(
            ME,
            Config {
                jitter_seed: Some(seed),
                ..test_config()
            },
        );
        h.login();
        h.drop_socket();
        let at = h
            .out
            .iter()
            .find_map(|o| match o {
                Output::Timer { at_ms } => Some(*at_ms),
                _ => None,
            })
            .unwrap();
        at - h.now
    };
    assert_eq!(delay(7), delay(7));
    assert!((125..=250).contains(&delay(7)));
    assert!(
        (1..=40).map(delay).any(|d| d != delay(7)),
        "seeds vary the delay"
    );
}

/// A welcome with `iceServers` (fresh TURN credentials) replaces login's:
/// the existing peer connections are handed them (for their next ICE
/// restart), peers created afterwards use them; a welcome without keeps
/// what we have and touches no peer.
#[test]
fn a_welcome_with_ice_servers_refreshes_the_turn_credentials() {
    use rtcroom_protocol::http::IceServer;
    let fresh = vec![IceServer {
        urls: vec!["turn:127.0.0.1:3478".into()],
        username: Some("1700086400:carol".into()),
        credential: Some("new".into()),
    }];
    let mut h = H::in_room("r1", &["bob"]);
    h.drop_socket();
    h.advance(250);
    h.ws_connect();
    h.frame(ServerFrame {
        seq: h.seq,
        event: ServerEvent::Welcome {
            user_id: uid(ME),
            resumed: true,
            ice_servers: Some(fresh.clone()),
        },
    });
    assert_eq!(
        h.peers(),
        [PeerAction::UpdateIceServers {
            ice_servers: fresh.clone()
        }]
    );
    h.clear();
    h.server(join("r1", "dave"));
    assert_eq!(
        h.peers(),
        [PeerAction::Create {
            user: uid("dave"),
            offerer: true,
            ice_servers: fresh.clone(),
            offered: false,
        }]
    );
    // The next welcome says nothing of ICE servers: the fresh ones stay.
    h.drop_socket();
    h.advance(250);
    h.ws_connect();
    h.welcome(true);
    assert_eq!(h.peers(), []);
    h.clear();
    h.server(join("r1", "erin"));
    assert_eq!(
        h.peers(),
        [PeerAction::Create {
            user: uid("erin"),
            offerer: true,
            ice_servers: fresh,
            offered: false,
        }]
    );
}
