//! Offers, answers and candidates between our peers and the other members'.

use super::*;

fn offer_from(who: &str, sdp: &str) -> ServerEvent {
    ServerEvent::Offer {
        room_id: rid("r1"),
        from: uid(who),
        sdp: sdp.into(),
    }
}

fn answer_from(who: &str, sdp: &str) -> ServerEvent {
    ServerEvent::Answer {
        room_id: rid("r1"),
        from: uid(who),
        sdp: sdp.into(),
    }
}

fn ice_from(who: &str, c: &str) -> ServerEvent {
    ServerEvent::Candidate {
        room_id: rid("r1"),
        from: uid(who),
        candidate: cand(c),
    }
}

fn set_remote(who: &str, kind: SdpKind, sdp: &str) -> PeerAction {
    PeerAction::SetRemoteSdp {
        user: uid(who),
        kind,
        sdp: sdp.into(),
    }
}

fn add_ice(who: &str, c: &str) -> PeerAction {
    PeerAction::AddIce {
        user: uid(who),
        candidate: cand(c),
    }
}

#[test]
fn the_smaller_user_id_offers() {
    let mut h = H::new();
    h.login();
    h.enter("r1", &["alice", "dave", "Zed", "carol2"]);
    // "Zed" < "alice" < "carol" < "carol2" < "dave" byte-wise.
    assert_eq!(
        h.peers(),
        [
            created("alice", false),
            created("dave", true),
            created("Zed", false),
            created("carol2", true)
        ]
    );
}

#[test]
fn we_offer_and_apply_the_answer() {
    let mut h = H::in_room("r1", &["dave"]);
    h.handle(Input::LocalSdp {
        user: uid("dave"),
        kind: SdpKind::Offer,
        sdp: "o1".into(),
    });
    h.handle(Input::LocalIce {
        user: uid("dave"),
        candidate: cand("mine"),
    });
    let sent = h.sent();
    assert_eq!(kinds(&sent), ["offer", "candidate"]);
    assert_eq!(
        serde_json::to_value(&sent[0]).unwrap(),
        serde_json::json!({"reqID": sent[0].req_id, "type": "offer", "roomID": "r1",
            "to": "dave", "sdp": "o1"})
    );
    h.server(ice_from("dave", "theirs"));
    assert!(h.peers().is_empty(), "held until the answer");
    h.server(answer_from("dave", "a1"));
    assert_eq!(
        h.peers(),
        [
            set_remote("dave", SdpKind::Answer, "a1"),
            add_ice("dave", "theirs")
        ]
    );
    h.server(ice_from("dave", "more"));
    assert_eq!(h.peers(), [add_ice("dave", "more")]);
    // A duplicate answer is ignored.
    h.server(answer_from("dave", "a1"));
    assert!(h.peers().is_empty());
}

#[test]
fn we_answer_with_candidates_queued_before_the_offer() {
    let mut h = H::in_room("r1", &["alice"]);
    h.server(ice_from("alice", "c1"));
    h.server(ice_from("alice", "c2"));
    assert!(h.peers().is_empty());
    // Answering before any offer is refused.
    h.handle(Input::LocalSdp {
        user: uid("alice"),
        kind: SdpKind::Answer,
        sdp: "early".into(),
    });
    assert!(h.sent().is_empty());
    h.server(offer_from("alice", "o"));
    assert_eq!(
        h.peers(),
        [
            set_remote("alice", SdpKind::Offer, "o"),
            add_ice("alice", "c1"),
            add_ice("alice", "c2")
        ]
    );
    h.handle(Input::LocalSdp {
        user: uid("alice"),
        kind: SdpKind::Answer,
        sdp: "a".into(),
    });
    let sent = h.sent();
    assert_eq!(kinds(&sent), ["answer"]);
    assert_eq!(to_of(&sent[0].frame), Some("alice"));
}

#[test]
fn no_glare_when_both_sides_learn_of_each_other_at_once() {
    // Each side sees the other both in its list and as a join: still one peer,
    // and only the offerer's offer is ever accepted.
    let mut carol = H::new();
    carol.login();
    let id = carol.call(Call::EnterRoom {
        private_map_key: None,
        room_id: rid("r1"),
    });
    let add = carol.http("add_pusher");
    carol.ok(&add);
    let get = carol.http("get_pushers");
    carol.server(join("r1", "dave"));
    carol.reply(&get, ReplyBody::Pushers(summary("r1", &[ME, "dave"])));
    assert!(carol.done(id).is_ok());
    assert_eq!(carol.peers(), [created("dave", true)]);
    // An offer from dave (who must answer) is not applied.
    carol.server(offer_from("dave", "glare"));
    assert!(carol.peers().is_empty());
    // Our local answer to dave would be refused too.
    carol.handle(Input::LocalSdp {
        user: uid("dave"),
        kind: SdpKind::Answer,
        sdp: "x".into(),
    });
    assert!(carol.sent().is_empty());
}

#[test]
fn leaving_during_negotiation_closes_the_peer_and_ignores_late_signaling() {
    let mut h = H::in_room("r1", &["dave"]);
    h.handle(Input::LocalSdp {
        user: uid("dave"),
        kind: SdpKind::Offer,
        sdp: "o".into(),
    });
    h.sent();
    let id = h.call(Call::ExitRoom);
    assert_eq!(h.peers(), [closed("dave")]);
    h.server(answer_from("dave", "late"));
    h.server(ice_from("dave", "late"));
    h.handle(Input::LocalIce {
        user: uid("dave"),
        candidate: cand("late-local"),
    });
    assert!(h.peers().is_empty());
    assert!(h.sent().is_empty());
    let del = h.http("delete_pusher");
    h.ok(&del);
    assert!(h.done(id).is_ok());
}

#[test]
fn a_member_quitting_mid_offer_closes_its_peer() {
    let mut h = H::in_room("r1", &["dave", "erin"]);
    h.handle(Input::LocalSdp {
        user: uid("dave"),
        kind: SdpKind::Offer,
        sdp: "o".into(),
    });
    h.sent();
    h.server(quit("r1", "dave"));
    assert_eq!(h.peers(), [closed("dave")]);
    h.server(answer_from("dave", "late"));
    assert!(h.peers().is_empty());
    // The other negotiation carries on.
    h.handle(Input::LocalSdp {
        user: uid("erin"),
        kind: SdpKind::Offer,
        sdp: "o2".into(),
    });
    assert_eq!(kinds(&h.sent()), ["offer"]);
}

#[test]
fn signaling_queued_while_offline_is_sent_once_after_reconnect() {
    let mut h = H::in_room("r1", &["dave", "erin"]);
    h.drop_socket();
    for who in ["dave", "erin"] {
        h.handle(Input::LocalSdp {
            user: uid(who),
            kind: SdpKind::Offer,
            sdp: format!("o-{who}"),
        });
        h.handle(Input::LocalIce {
            user: uid(who),
            candidate: cand("c"),
        });
    }
    assert!(h.sent().is_empty());
    h.advance(250);
    h.ws_connect();
    h.welcome(true);
    let sent = h.sent();
    assert_eq!(kinds(&sent), ["offer", "candidate", "offer", "candidate"]);
    assert_eq!(to_of(&sent[0].frame), Some("dave"));
    // Not again on the next connection.
    h.drop_socket();
    h.advance(250);
    h.ws_connect();
    h.welcome(true);
    assert!(h.sent().is_empty());
}

#[test]
fn queued_signaling_is_dropped_when_we_leave_while_offline() {
    let mut h = H::in_room("r1", &["dave"]);
    h.drop_socket();
    h.handle(Input::LocalSdp {
        user: uid("dave"),
        kind: SdpKind::Offer,
        sdp: "o-dave".into(),
    });
    let text = h.call(Call::SendRoomTextMsg { text: "bye".into() });
    let exit = h.call(Call::ExitRoom);
    assert_eq!(h.err_code(text), ClientError::Cancelled.code());
    let del = h.http("delete_pusher");
    h.ok(&del);
    assert!(h.done(exit).is_ok());
    h.advance(250);
    h.ws_connect();
    h.welcome(true);
    assert!(h.sent().is_empty());
}

fn ordered_roster(h: &mut H, req: &HttpRequest, members: &[Pusher]) {
    let RequestBody::AddPusher(b) = &req.body else {
        panic!("not add_pusher: {req:?}");
    };
    let body = ReplyBody::AddPusher(AddPusherResponse {
        room_id: b.room_id.clone(),
        pushers: Some(members.to_vec()),
        offered_to: None,
    });
    h.reply(req, body);
}

#[test]
fn with_join_orders_the_newcomer_offers_to_the_roster() {
    let mut h = H::new();
    h.login();
    let (_, add) = h.start_entering("r1");
    // "alice" sorts before us and "dave" after; both joined earlier; "bob"
    // has no order (an original client): the ids decide for him.
    ordered_roster(
        &mut h,
        &add,
        &[
            ordered("alice", 10),
            ordered("dave", 11),
            pusher("bob"),
            ordered(ME, 12),
        ],
    );
    assert_eq!(
        h.peers(),
        [
            created("alice", true),
            created("dave", true),
            created("bob", false)
        ]
    );
}

#[test]
fn with_join_orders_an_older_member_answers_the_newcomer() {
    let mut h = H::new();
    h.login();
    let (_, add) = h.start_entering("r1");
    ordered_roster(&mut h, &add, &[ordered(ME, 10)]);
    h.clear();
    // "dave" sorts after us, but joined later: he offers, we answer.
    h.server(ServerEvent::PusherJoin {
        room_id: rid("r1"),
        pusher: ordered("dave", 20),
        offer: None,
    });
    assert_eq!(h.peers(), [created("dave", false)]);
    h.server(offer_from("dave", "o1"));
    assert_eq!(h.peers(), [set_remote("dave", SdpKind::Offer, "o1")]);
    h.handle(Input::LocalSdp {
        user: uid("dave"),
        kind: SdpKind::Answer,
        sdp: "a1".into(),
    });
    assert_eq!(kinds(&h.sent()), ["answer"]);
    // A newcomer without an order (an original client) that sorts after us: we offer.
    h.server(join("r1", "erin"));
    assert_eq!(h.peers(), [created("erin", true)]);
}

#[test]
fn an_offer_inside_the_newcomers_join_is_answered_in_its_turn_and_its_copy_dropped() {
    let mut h = H::new();
    h.login();
    let (_, add) = h.start_entering("r1");
    ordered_roster(&mut h, &add, &[ordered(ME, 10)]);
    h.clear();
    h.server(ServerEvent::PusherJoin {
        room_id: rid("r1"),
        pusher: ordered("dave", 20),
        offer: Some("o1".into()),
    });
    // The peer, then its offer.
    assert_eq!(
        h.peers(),
        [
            created("dave", false),
            set_remote("dave", SdpKind::Offer, "o1")
        ]
    );
    assert!(h
        .events()
        .iter()
        .any(|e| matches!(e, Event::PusherJoin(p) if p.user_id == uid("dave"))));
    // The copy that follows as an offer frame changes nothing.
    h.server(offer_from("dave", "o1"));
    assert_eq!(h.peers(), []);
    h.handle(Input::LocalSdp {
        user: uid("dave"),
        kind: SdpKind::Answer,
        sdp: "a1".into(),
    });
    assert_eq!(kinds(&h.sent()), ["answer"]);
    // A later, different offer (a renegotiation) is applied.
    h.server(offer_from("dave", "o2"));
    assert_eq!(h.peers(), [set_remote("dave", SdpKind::Offer, "o2")]);
}
