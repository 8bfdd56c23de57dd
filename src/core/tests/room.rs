//! Creating, entering and leaving rooms; membership events; the heartbeat.

use super::*;

#[test]
fn enter_asks_add_pusher_before_get_pushers_and_lists_others() {
    let mut h = H::new();
    h.login();
    let (id, add) = h.start_entering("r1");
    h.no_http("get_pushers");
    assert_eq!(
        serde_json::to_value(&add.body).unwrap(),
        serde_json::json!({"roomID": "r1", "userID": "carol", "userName": "carol-name",
            "userAvatar": "carol.png", "pushURL": "", "roomInfo": null, "joinOrder": true})
    );
    assert!(add.url.ends_with("/add_pusher?userID=carol&token=tok"));
    h.ok(&add);
    let get = h.http("get_pushers");
    assert_eq!(
        serde_json::to_string(&get.body).unwrap(),
        r#"{"roomID":"r1"}"#
    );
    assert!(h.pending(id));
    h.reply(
        &get,
        ReplyBody::Pushers(summary("r1", &["alice", ME, "dave", "alice"])),
    );
    assert_eq!(
        h.events(),
        [Event::GetPusherList(vec![pusher("alice"), pusher("dave")])]
    );
    assert_eq!(h.done(id), Ok(CallOk::Entered { room_id: rid("r1") }));
    assert_eq!(h.peers(), [created("alice", false), created("dave", true)]);
}

#[test]
fn a_roster_in_add_pushers_answer_enters_without_get_pushers() {
    let mut h = H::new();
    h.login();
    let (id, add) = h.start_entering("r1");
    h.ok_roster(&add, &["alice", ME, "dave"]);
    h.no_http("get_pushers");
    assert_eq!(
        h.events(),
        [Event::GetPusherList(vec![pusher("alice"), pusher("dave")])]
    );
    assert_eq!(h.done(id), Ok(CallOk::Entered { room_id: rid("r1") }));
    // Signaling starts on the first round trip, with the usual roles.
    assert_eq!(h.peers(), [created("alice", false), created("dave", true)]);
}

#[test]
fn login_hints_the_glue_to_prepare_an_offer_at_its_call_and_its_answer() {
    let mut h = H::new();
    h.call(Call::Login(login_params(ME)));
    let hints = h.take_all(|o| match o {
        Output::Peer(PeerAction::Prepare { ice_servers }) => Some(ice_servers.clone()),
        _ => None,
    });
    assert_eq!(
        hints,
        [vec![]],
        "one at the call, before any ICE server is known"
    );
    let turn = turn_servers();
    answer_login(&mut h, turn.clone());
    let hints = h.take_all(|o| match o {
        Output::Peer(PeerAction::Prepare { ice_servers }) => Some(ice_servers.clone()),
        _ => None,
    });
    assert_eq!(hints, [turn], "one at the answer, with login's ICE servers");
    h.ws_connect();
    h.welcome(false);
    assert_eq!(h.prepares(), 0, "none more when the socket is up");
    h.clear();
    h.drop_socket();
    h.advance(250);
    h.ws_connect();
    h.welcome(true);
    assert_eq!(h.prepares(), 0, "a resumed socket is no new login");
}

#[test]
fn the_spare_offer_rides_on_add_pusher_to_the_member_the_server_names() {
    let mut h = H::new();
    h.login();
    h.handle(Input::SpareOffer {
        sdp: "spare-offer".into(),
    });
    let (id, add) = h.start_entering("r1");
    let RequestBody::AddPusher(body) = &add.body else {
        panic!("{add:?}");
    };
    assert_eq!(body.offer.as_deref(), Some("spare-offer"));
    let reply = ReplyBody::AddPusher(AddPusherResponse {
        room_id: rid("r1"),
        pushers: Some(vec![ordered("alice", 1), ordered("bob", 2), ordered(ME, 3)]),
        offered_to: Some(uid("alice")),
    });
    h.reply(&add, reply);
    assert!(h.done(id).is_ok());
    let created: Vec<_> = h
        .peers()
        .into_iter()
        .filter_map(|a| match a {
            PeerAction::Create { user, offered, .. } => Some((user.to_string(), offered)),
            _ => None,
        })
        .collect();
    assert_eq!(created, [("alice".into(), true), ("bob".into(), false)]);
    // Bob's offer comes from the glue as usual; Alice's is out already and
    // her answer is taken.
    h.handle(Input::LocalSdp {
        user: uid("bob"),
        kind: SdpKind::Offer,
        sdp: "offer-bob".into(),
    });
    assert_eq!(kinds(&h.sent()), ["offer"]);
    h.server(ServerEvent::Answer {
        room_id: rid("r1"),
        from: uid("alice"),
        sdp: "answer-alice".into(),
    });
    assert!(h.peers().iter().any(|a| matches!(a,
        PeerAction::SetRemoteSdp { kind: SdpKind::Answer, sdp, .. } if sdp == "answer-alice")));
    // The spare is used: the next entry carries none until a new one is reported.
    assert_eq!(h.exit_and_enter_offer("r2"), None);
}

#[test]
fn without_offered_to_the_spare_offers_over_the_socket_as_before() {
    let mut h = H::new();
    h.login();
    h.handle(Input::SpareOffer {
        sdp: "spare-offer".into(),
    });
    let (_, add) = h.start_entering("r1");
    // An original server ignores `offer` and names nobody.
    h.ok_roster(&add, &["zed", ME]);
    assert_eq!(h.peers(), [created("zed", true)]);
}

#[test]
fn entering_hints_the_glue_to_prepare_an_offer_for_the_next_newcomer() {
    let mut h = H::new();
    h.login();
    let (_, add) = h.start_entering("r1");
    assert_eq!(
        h.prepares(),
        1,
        "one while add_pusher is on its way: we offer to its roster's members"
    );
    h.ok_roster(&add, &[ME, "dave"]);
    let peers: Vec<_> = h
        .out
        .iter()
        .filter_map(|o| match o {
            Output::Peer(p) => Some(p.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        peers,
        [
            created("dave", true),
            PeerAction::Prepare {
                ice_servers: vec![]
            }
        ],
        "the roster's peers first, then the spare"
    );
    h.clear();
    h.server(join("r1", "erin"));
    assert_eq!(h.prepares(), 0, "once per entry");
}

#[test]
fn events_before_the_add_pusher_roster_are_replayed_after_it() {
    let mut h = H::new();
    h.login();
    let (id, add) = h.start_entering("r1");
    // Socket frames may overtake the HTTP answer: dave joined (and is in the
    // roster too), alice left after the roster was taken.
    h.server(join("r1", "dave"));
    h.server(quit("r1", "alice"));
    assert!(h.events().is_empty(), "held until the list");
    h.ok_roster(&add, &["alice", ME, "dave"]);
    assert_eq!(h.done(id), Ok(CallOk::Entered { room_id: rid("r1") }));
    let events = h.events();
    assert_eq!(
        events[0],
        Event::GetPusherList(vec![pusher("alice"), pusher("dave")])
    );
    assert_eq!(events.len(), 2, "dave's duplicate join dropped: {events:?}");
    assert_eq!(events[1], Event::PusherQuit(pusher("alice")));
    h.no_http("get_pushers");
}

#[test]
fn create_room_creates_then_enters() {
    let mut h = H::new();
    h.login();
    let id = h.call(Call::CreateRoom {
        private_map_key: None,
        room_id: None,
        room_info: "{\"title\":\"t\"}".into(),
    });
    let create = h.http("create_room");
    assert_eq!(
        serde_json::to_value(&create.body).unwrap(),
        serde_json::json!({"userID": "carol", "roomInfo": "{\"title\":\"t\"}", "roomID": null})
    );
    h.no_http("add_pusher");
    h.reply(
        &create,
        ReplyBody::CreateRoom(rtcroom_protocol::http::CreateRoomResponse {
            room_id: rid("room_1"),
        }),
    );
    let add = h.http("add_pusher");
    assert_eq!(
        serde_json::to_value(&add.body).unwrap()["roomInfo"],
        "{\"title\":\"t\"}"
    );
    h.ok(&add);
    let get = h.http("get_pushers");
    h.reply(&get, ReplyBody::Pushers(summary("room_1", &[ME])));
    assert_eq!(h.events(), [Event::GetPusherList(vec![])]);
    assert_eq!(
        h.done(id),
        Ok(CallOk::RoomCreated {
            room_id: rid("room_1")
        })
    );
}

#[test]
fn create_or_enter_failures_complete_the_call() {
    let mut h = H::new();
    h.login();
    let id = h.call(Call::CreateRoom {
        private_map_key: None,
        room_id: Some(rid("taken")),
        room_info: String::new(),
    });
    let create = h.http("create_room");
    h.fail(&create, api(ErrorCode::RoomExists));
    assert_eq!(h.err_code(id), 11);
    let (id, add) = h.start_entering("full");
    h.fail(&add, api(ErrorCode::RoomFull));
    assert_eq!(h.err_code(id), 5001);
    // get_pushers failing after we became a member: leave again.
    let (id, add) = h.start_entering("r1");
    h.ok(&add);
    let get = h.http("get_pushers");
    h.fail(&get, ClientError::Network.api());
    assert_eq!(h.err_code(id), ClientError::Network.code());
    let del = h.http("delete_pusher");
    assert_eq!(
        serde_json::to_string(&del.body).unwrap(),
        r#"{"roomID":"r1","userID":"carol"}"#
    );
    h.advance(60_000);
    h.no_http("pusher_heartbeat");
}

#[test]
fn entering_twice_or_exiting_outside_a_room_fails() {
    let mut h = H::in_room("r1", &[]);
    let id = h.call(Call::EnterRoom {
        private_map_key: None,
        room_id: rid("r2"),
    });
    assert_eq!(h.err_code(id), ClientError::AlreadyInRoom.code());
    let id = h.call(Call::CreateRoom {
        private_map_key: None,
        room_id: None,
        room_info: String::new(),
    });
    assert_eq!(h.err_code(id), ClientError::AlreadyInRoom.code());
    let id = h.call(Call::ExitRoom);
    let del = h.http("delete_pusher");
    h.ok(&del);
    assert_eq!(h.done(id), Ok(CallOk::Exited));
    let id = h.call(Call::ExitRoom);
    assert_eq!(h.err_code(id), ClientError::NotInRoom.code());
}

#[test]
fn joins_are_deduplicated_and_unknown_quits_ignored() {
    let mut h = H::in_room("r1", &["alice"]);
    h.server(join("r1", "alice"));
    h.server(join("r1", ME));
    h.server(quit("r1", "nobody"));
    assert!(h.events().is_empty());
    assert!(h.peers().is_empty());

    h.server(join("r1", "dave"));
    h.server(join("r1", "dave"));
    assert_eq!(h.events(), [Event::PusherJoin(pusher("dave"))]);
    assert_eq!(h.peers(), [created("dave", true)]);

    h.server(quit("r1", "dave"));
    h.server(quit("r1", "dave"));
    assert_eq!(h.events(), [Event::PusherQuit(pusher("dave"))]);
    assert_eq!(h.peers(), [closed("dave")]);

    // A member who comes back gets a fresh peer.
    h.server(join("r1", "dave"));
    assert_eq!(h.peers(), [created("dave", true)]);
}

#[test]
fn room_events_before_the_list_are_held_and_deduplicated() {
    let mut h = H::new();
    h.login();
    let (id, add) = h.start_entering("r1");
    // Events may overtake the HTTP replies.
    h.server(join("r1", "alice"));
    h.ok(&add);
    let get = h.http("get_pushers");
    h.server(join("r1", "erin"));
    h.server(ServerEvent::Offer {
        room_id: rid("r1"),
        from: uid("alice"),
        sdp: "offer-a".into(),
    });
    assert!(h.events().is_empty() && h.peers().is_empty());
    h.reply(&get, ReplyBody::Pushers(summary("r1", &["alice", ME])));
    assert_eq!(
        h.events(),
        [
            Event::GetPusherList(vec![pusher("alice")]),
            Event::PusherJoin(pusher("erin"))
        ]
    );
    assert!(h.done(id).is_ok());
    assert_eq!(
        h.peers(),
        [
            created("alice", false),
            created("erin", true),
            PeerAction::SetRemoteSdp {
                user: uid("alice"),
                kind: SdpKind::Offer,
                sdp: "offer-a".into()
            }
        ]
    );
}

#[test]
fn exit_closes_peers_deletes_and_stops_the_heartbeat() {
    let mut h = H::in_room("r1", &["alice", "dave"]);
    let id = h.call(Call::ExitRoom);
    assert_eq!(h.peers(), [closed("alice"), closed("dave")]);
    let del = h.http("delete_pusher");
    assert!(h.pending(id));
    h.fail(&del, api(ErrorCode::NotMember));
    assert_eq!(h.done(id), Ok(CallOk::Exited), "already out counts as out");
    h.advance(60_000);
    h.no_http("pusher_heartbeat");
    h.server(join("r1", "erin"));
    assert!(
        h.events().is_empty(),
        "events of a room we left are ignored"
    );
}

#[test]
fn exit_while_add_pusher_is_on_its_way_undoes_a_late_success() {
    let mut h = H::new();
    h.login();
    let enter = h.call(Call::EnterRoom {
        private_map_key: None,
        room_id: rid("r1"),
    });
    let add = h.http("add_pusher");
    let exit = h.call(Call::ExitRoom);
    assert_eq!(h.err_code(enter), ClientError::Cancelled.code());
    assert_eq!(h.done(exit), Ok(CallOk::Exited));
    h.ok(&add);
    h.no_http("get_pushers");
    let del = h.http("delete_pusher");
    h.ok(&del);
    h.advance(60_000);
    h.no_http("pusher_heartbeat");
}

#[test]
fn exit_while_creating_cancels() {
    let mut h = H::new();
    h.login();
    let create = h.call(Call::CreateRoom {
        private_map_key: None,
        room_id: None,
        room_info: String::new(),
    });
    let req = h.http("create_room");
    let exit = h.call(Call::ExitRoom);
    assert_eq!(h.err_code(create), ClientError::Cancelled.code());
    assert_eq!(h.done(exit), Ok(CallOk::Exited));
    h.reply(
        &req,
        ReplyBody::CreateRoom(rtcroom_protocol::http::CreateRoomResponse {
            room_id: rid("late"),
        }),
    );
    h.no_http("add_pusher");
}

#[test]
fn re_entering_the_same_room_waits_for_the_leave() {
    let mut h = H::in_room("r1", &[]);
    let exit = h.call(Call::ExitRoom);
    let del = h.http("delete_pusher");
    let enter = h.call(Call::EnterRoom {
        private_map_key: None,
        room_id: rid("r1"),
    });
    h.no_http("add_pusher");
    h.ok(&del);
    assert_eq!(h.done(exit), Ok(CallOk::Exited));
    let add = h.http("add_pusher");
    h.ok(&add);
    let get = h.http("get_pushers");
    h.reply(&get, ReplyBody::Pushers(summary("r1", &[ME])));
    assert!(h.done(enter).is_ok());
}

#[test]
fn room_closed_mid_call_closes_peers_and_leaves() {
    let mut h = H::in_room("r1", &["alice", "dave"]);
    h.handle(Input::LocalSdp {
        user: uid("dave"),
        kind: SdpKind::Offer,
        sdp: "o".into(),
    });
    h.sent();
    h.server(ServerEvent::RoomClosed {
        room_id: rid("r1"),
        reason: rtcroom_protocol::ws::CloseReason::CreatorLeft,
    });
    assert_eq!(h.peers(), [closed("alice"), closed("dave")]);
    assert_eq!(h.events(), [Event::RoomClosed { room_id: rid("r1") }]);
    h.server(ServerEvent::Answer {
        room_id: rid("r1"),
        from: uid("dave"),
        sdp: "a".into(),
    });
    assert!(h.peers().is_empty());
    h.advance(60_000);
    h.no_http("pusher_heartbeat");
    h.no_http("delete_pusher");
    let id = h.call(Call::ExitRoom);
    assert_eq!(h.err_code(id), ClientError::NotInRoom.code());
    h.enter("r2", &[]);
}

#[test]
fn room_closed_while_entering_fails_the_entry() {
    let mut h = H::new();
    h.login();
    let (id, add) = h.start_entering("r1");
    h.ok(&add);
    let get = h.http("get_pushers");
    h.server(ServerEvent::RoomClosed {
        room_id: rid("r1"),
        reason: rtcroom_protocol::ws::CloseReason::Destroyed,
    });
    assert_eq!(h.err_code(id), ErrorCode::RoomNotFound.code());
    h.reply(&get, ReplyBody::Pushers(summary("r1", &[ME])));
    assert!(h.events().is_empty());
    assert!(h.peers().is_empty());
}

#[test]
fn heartbeat_every_interval_while_in_a_room() {
    let mut h = H::in_room("r1", &[]);
    h.advance(4_999);
    h.no_http("pusher_heartbeat");
    h.advance(1);
    let beat = h.http("pusher_heartbeat");
    assert_eq!(
        serde_json::to_string(&beat.body).unwrap(),
        r#"{"roomID":"r1","userID":"carol"}"#
    );
    // A slow beat is not doubled up.
    h.advance(5_000);
    h.no_http("pusher_heartbeat");
    h.ok(&beat);
    h.advance(5_000);
    let beat = h.http("pusher_heartbeat");
    // The server forgot us: re-sync.
    h.fail(&beat, api(ErrorCode::NotMember));
    h.http("get_pushers");
}

#[test]
fn pushers_of_another_room_are_filtered_of_ourselves() {
    let mut h = H::in_room("r1", &[]);
    let id = h.call(Call::GetPushers { room_id: rid("r9") });
    let get = h.http("get_pushers");
    h.reply(&get, ReplyBody::Pushers(summary("r9", &["alice", ME])));
    match h.done(id) {
        Ok(CallOk::Pushers(s)) => assert_eq!(s.pushers, [pusher("alice")]),
        other => panic!("{other:?}"),
    }
    assert!(
        h.events().is_empty(),
        "a look at another room changes nothing"
    );
    let id = h.call(Call::DestroyRoom { room_id: rid("r9") });
    let d = h.http("destroy_room");
    h.fail(&d, api(ErrorCode::NotRoomCreator));
    assert_eq!(h.err_code(id), 3);
}

/// The PrivateMapKey given to `createRoom` / `enterRoom` travels in the
/// room's `create_room` and every `add_pusher` (a re-join's too), and in no
/// other room's.
#[test]
fn the_private_map_key_rides_on_create_room_and_add_pusher() {
    let mut h = H::new();
    h.login();
    h.call(Call::CreateRoom {
        room_id: Some(rid("r1")),
        room_info: "i".into(),
        private_map_key: Some("pmk".into()),
    });
    let create = h.http("create_room");
    assert_eq!(
        serde_json::to_value(&create.body).unwrap()["privateMapKey"],
        "pmk"
    );
    h.reply(
        &create,
        ReplyBody::CreateRoom(rtcroom_protocol::http::CreateRoomResponse { room_id: rid("r1") }),
    );
    let add = h.http("add_pusher");
    assert_eq!(
        serde_json::to_value(&add.body).unwrap()["privateMapKey"],
        "pmk"
    );
    h.ok(&add);
    let get = h.http("get_pushers");
    h.reply(&get, ReplyBody::Pushers(summary("r1", &[ME])));
    // The server drops us while the socket is away: the re-join carries it.
    h.reconnect_unresumed();
    let get = h.http("get_pushers");
    h.reply(&get, ReplyBody::Pushers(summary("r1", &["dave"])));
    let add = h.http("add_pusher");
    assert_eq!(
        serde_json::to_value(&add.body).unwrap()["privateMapKey"],
        "pmk"
    );
    h.ok(&add);
    h.clear();
    h.call(Call::ExitRoom);
    let del = h.http("delete_pusher");
    h.ok(&del);
    // Another room without a key sends none.
    let (_, add) = h.start_entering("r2");
    assert!(serde_json::to_value(&add.body)
        .unwrap()
        .get("privateMapKey")
        .is_none());
}

fn spare_waiting() -> H {
    let mut h = H::with(
        ME,
        Config {
            spare_offer_wait_ms: 50,
            ..test_config()
        },
    );
    h.login();
    h
}

fn add_pusher_offer(req: &HttpRequest) -> Option<String> {
    match &req.body {
        RequestBody::AddPusher(b) => b.offer.clone(),
        other => panic!("not add_pusher: {other:?}"),
    }
}

#[test]
fn entering_while_the_spare_is_made_waits_for_its_offer_to_carry_it() {
    let mut h = spare_waiting();
    h.call(Call::EnterRoom {
        private_map_key: None,
        room_id: rid("r1"),
    });
    h.no_http("add_pusher");
    h.advance(20);
    h.no_http("add_pusher");
    h.handle(Input::SpareOffer {
        sdp: "spare-offer".into(),
    });
    let add = h.http("add_pusher");
    assert_eq!(add_pusher_offer(&add).as_deref(), Some("spare-offer"));
}

#[test]
fn entering_waits_for_the_spare_only_so_long() {
    let mut h = spare_waiting();
    h.call(Call::EnterRoom {
        private_map_key: None,
        room_id: rid("r1"),
    });
    h.advance(49);
    h.no_http("add_pusher");
    h.advance(1);
    let add = h.http("add_pusher");
    assert_eq!(add_pusher_offer(&add), None);
    // A spare that comes later waits for the next entry.
    h.handle(Input::SpareOffer { sdp: "late".into() });
    h.no_http("add_pusher");
}

#[test]
fn an_entry_waiting_for_the_spare_can_be_cancelled() {
    let mut h = spare_waiting();
    let enter = h.call(Call::EnterRoom {
        private_map_key: None,
        room_id: rid("r1"),
    });
    let exit = h.call(Call::ExitRoom);
    assert_eq!(h.err_code(enter), ClientError::Cancelled.code());
    assert!(h.done(exit).is_ok());
    h.advance(100);
    h.no_http("add_pusher");
    h.no_http("delete_pusher");
}

#[test]
fn a_spare_made_before_logins_ice_servers_is_forgotten_when_they_differ() {
    let mut h = H::new();
    let id = h.call(Call::Login(login_params(ME)));
    // The spare made at the call (no servers yet) reports its offer...
    h.handle(Input::SpareOffer {
        sdp: "spare-without-turn".into(),
    });
    answer_login(&mut h, turn_servers());
    assert!(h.done(id).is_ok());
    // ...but login brings TURN: the glue makes the spare anew, and the old
    // offer (its candidates gathered without TURN) rides on no add_pusher.
    let (_, add) = h.start_entering("r1");
    let RequestBody::AddPusher(body) = &add.body else {
        panic!("{add:?}");
    };
    assert_eq!(body.offer, None);
}

fn turn_servers() -> Vec<rtcroom_protocol::http::IceServer> {
    vec![rtcroom_protocol::http::IceServer {
        urls: vec!["turn:127.0.0.1:3478".into()],
        username: Some("u".into()),
        credential: Some("c".into()),
    }]
}

/// Answers the pending `login` with `ice_servers`.
fn answer_login(h: &mut H, ice_servers: Vec<rtcroom_protocol::http::IceServer>) {
    let req = h.http("login");
    h.reply(
        &req,
        ReplyBody::Login(LoginResponse {
            user_id: uid(ME),
            token: "tok".into(),
            token_ttl: 3600,
            heartbeat_interval: 5,
            ice_servers,
        }),
    );
}
