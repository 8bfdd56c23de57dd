//! Starting a negotiation over after a reconnect the server could not resume
//! (`renegotiate`): two clients, signaling relayed by hand between them.

use super::*;

/// Relays the signaling `from` sent to `to` (as the server would), returning
/// the kinds relayed; other frames are dropped.
fn relay(from: &mut H, to: &mut H) -> Vec<&'static str> {
    let sender = uid(&from.me);
    let mut relayed = Vec::new();
    for env in from.sent() {
        let kind = super::super::client::frame_type(&env.frame);
        let ev = match env.frame {
            ClientFrame::Offer { room_id, sdp, .. } => ServerEvent::Offer {
                room_id,
                from: sender.clone(),
                sdp,
            },
            ClientFrame::Answer { room_id, sdp, .. } => ServerEvent::Answer {
                room_id,
                from: sender.clone(),
                sdp,
            },
            ClientFrame::Renegotiate { room_id, .. } => ServerEvent::Renegotiate {
                room_id,
                from: sender.clone(),
            },
            _ => continue,
        };
        relayed.push(kind);
        to.server(ev);
    }
    relayed
}

/// What the driver does with `Create` / `SetRemoteSdp`: produce the local
/// offer or answer. Returns the peer actions seen.
fn drive(h: &mut H, other: &str, sdp: &str) -> Vec<PeerAction> {
    let actions = h.peers();
    for a in &actions {
        let kind = match a {
            PeerAction::Create { offerer: true, .. } => SdpKind::Offer,
            PeerAction::SetRemoteSdp {
                kind: SdpKind::Offer,
                ..
            } => SdpKind::Answer,
            _ => continue,
        };
        h.handle(Input::LocalSdp {
            user: uid(other),
            kind,
            sdp: sdp.into(),
        });
    }
    actions
}

fn renegotiate_from(room: &str, who: &str) -> ServerEvent {
    ServerEvent::Renegotiate {
        room_id: rid(room),
        from: uid(who),
    }
}

/// carol (offers: "carol" < "dave") and dave, both in r1, with only their
/// peer creations left to [`drive`].
fn pair() -> (H, H) {
    let mut pair = [H::new(), H::with("dave", test_config())];
    for (h, other) in pair.iter_mut().zip(["dave", ME]) {
        h.login();
        h.enter("r1", &[other]);
        h.out.retain(|o| matches!(o, Output::Peer(_)));
    }
    let [carol, dave] = pair;
    (carol, dave)
}

/// `h` loses its socket and comes back to a server that could not resume;
/// the re-sync still lists `others`.
fn reconnect_not_resumed(h: &mut H, others: &[&str]) {
    h.drop_socket();
    h.advance(250);
    h.ws_connect();
    h.seq += 5;
    h.welcome(false);
    let get = h.http("get_pushers");
    let mut all = others.to_vec();
    let me = h.me.clone();
    all.push(&me);
    h.reply(&get, ReplyBody::Pushers(summary("r1", &all)));
}

#[test]
fn a_lost_offer_after_resumed_false_is_recovered() {
    let (mut carol, mut dave) = pair();
    // carol offers; dave's socket is down and the offer is lost with it.
    drive(&mut carol, "dave", "offer-1");
    assert_eq!(kinds(&carol.sent()), ["offer"]);
    assert_eq!(dave.peers(), [created(ME, false)]);
    reconnect_not_resumed(&mut dave, &[ME]);
    // dave never saw an offer: he starts over (still the answerer) and asks carol to.
    assert_eq!(drive(&mut dave, ME, "-"), [created(ME, false)]);
    assert_eq!(relay(&mut dave, &mut carol), ["renegotiate"]);
    // carol re-creates her peer and offers anew; she does not renegotiate back.
    assert_eq!(
        drive(&mut carol, "dave", "offer-2"),
        [created("dave", true)]
    );
    assert_eq!(relay(&mut carol, &mut dave), ["offer"]);
    assert_eq!(
        drive(&mut dave, ME, "answer-2"),
        [PeerAction::SetRemoteSdp {
            user: uid(ME),
            kind: SdpKind::Offer,
            sdp: "offer-2".into()
        }]
    );
    assert_eq!(relay(&mut dave, &mut carol), ["answer"]);
    assert_eq!(
        carol.peers(),
        [PeerAction::SetRemoteSdp {
            user: uid("dave"),
            kind: SdpKind::Answer,
            sdp: "answer-2".into()
        }]
    );
    assert_eq!((carol.restarted.len(), dave.restarted.len()), (1, 1));
    assert!(carol.sent().is_empty() && dave.sent().is_empty());
    // Settled now: another lost session leaves the peers alone.
    reconnect_not_resumed(&mut dave, &[ME]);
    assert!(dave.peers().is_empty());
    assert!(dave.sent().is_empty());
}

#[test]
fn a_lost_answer_after_resumed_false_is_recovered() {
    let (mut carol, mut dave) = pair();
    drive(&mut carol, "dave", "offer-1");
    relay(&mut carol, &mut dave);
    drive(&mut dave, ME, "answer-1");
    assert_eq!(kinds(&dave.sent()), ["answer"]);
    // The answer is lost with carol's socket; she still awaits it.
    reconnect_not_resumed(&mut carol, &["dave"]);
    assert_eq!(
        drive(&mut carol, "dave", "offer-2"),
        [created("dave", true)]
    );
    // The renegotiate goes out before the fresh offer.
    assert_eq!(relay(&mut carol, &mut dave), ["renegotiate", "offer"]);
    let acts = drive(&mut dave, ME, "answer-2");
    assert_eq!(acts[0], created(ME, false));
    assert!(matches!(
        &acts[1],
        PeerAction::SetRemoteSdp { kind: SdpKind::Offer, sdp, .. } if sdp == "offer-2"
    ));
    assert_eq!(relay(&mut dave, &mut carol), ["answer"]);
    assert!(matches!(
        carol.peers().as_slice(),
        [PeerAction::SetRemoteSdp { kind: SdpKind::Answer, sdp, .. }] if sdp == "answer-2"
    ));
}

#[test]
fn renegotiate_from_a_non_member_or_another_room_is_ignored() {
    let mut h = H::in_room("r1", &["dave"]);
    h.handle(Input::LocalSdp {
        user: uid("dave"),
        kind: SdpKind::Offer,
        sdp: "o".into(),
    });
    h.sent();
    h.server(renegotiate_from("r9", "dave"));
    h.server(renegotiate_from("r1", "zed"));
    assert!(h.peers().is_empty());
    assert!(h.sent().is_empty());
    assert!(h.restarted.is_empty());
    // Outside any room too.
    let exit = h.call(Call::ExitRoom);
    let del = h.http("delete_pusher");
    h.ok(&del);
    assert!(h.done(exit).is_ok());
    h.clear();
    h.server(renegotiate_from("r1", "dave"));
    assert!(h.peers().is_empty() && h.sent().is_empty());
}

#[test]
fn renegotiate_is_never_answered_with_renegotiate() {
    let (mut carol, mut dave) = pair();
    drive(&mut carol, "dave", "offer-1");
    relay(&mut carol, &mut dave);
    drive(&mut dave, ME, "answer-1");
    relay(&mut dave, &mut carol);
    carol.peers();
    // Both lose their sessions at once: each asks the other once...
    reconnect_not_resumed(&mut carol, &["dave"]);
    reconnect_not_resumed(&mut dave, &[ME]);
    // (settled on both sides: nothing to start over)
    assert!(carol.sent().is_empty() && dave.sent().is_empty());
    // ...and a renegotiate that comes in is answered only by a fresh peer.
    for _ in 0..3 {
        carol.server(renegotiate_from("r1", "dave"));
        dave.server(renegotiate_from("r1", ME));
        for (h, other) in [(&mut carol, "dave"), (&mut dave, ME)] {
            drive(h, other, "x");
            assert!(
                !kinds(&h.sent()).contains(&"renegotiate"),
                "{} answered a renegotiate",
                h.me
            );
        }
    }
}

#[test]
fn renegotiate_keeps_the_offerer_rule() {
    let (mut carol, mut dave) = pair();
    drive(&mut carol, "dave", "offer-1");
    relay(&mut carol, &mut dave);
    drive(&mut dave, ME, "answer-1");
    dave.sent();
    // dave (the larger id) is asked to start over: he waits, never offers.
    dave.server(renegotiate_from("r1", ME));
    assert_eq!(dave.peers(), [created(ME, false)]);
    dave.handle(Input::LocalSdp {
        user: uid(ME),
        kind: SdpKind::Offer,
        sdp: "glare".into(),
    });
    assert!(dave.sent().is_empty(), "the answerer never offers");
    // A peer with nothing negotiated yet is already fresh: left as is.
    dave.server(renegotiate_from("r1", ME));
    assert!(dave.peers().is_empty());
    assert_eq!(dave.restarted, [uid(ME)]);
}

#[test]
fn two_sides_losing_state_at_once_send_one_renegotiate_each() {
    let (mut carol, mut dave) = pair();
    // carol's offer is out but neither side hears from the other again.
    drive(&mut carol, "dave", "offer-1");
    carol.sent();
    reconnect_not_resumed(&mut carol, &["dave"]);
    reconnect_not_resumed(&mut dave, &[ME]);
    drive(&mut carol, "dave", "offer-2");
    drive(&mut dave, ME, "-");
    // Each asks once; carol's fresh offer follows hers.
    assert_eq!(relay(&mut carol, &mut dave), ["renegotiate", "offer"]);
    assert_eq!(relay(&mut dave, &mut carol), ["renegotiate"]);
    // Whatever the peers do next, nobody asks again.
    let mut relayed = Vec::new();
    for _ in 0..4 {
        drive(&mut carol, "dave", "offer-n");
        drive(&mut dave, ME, "answer-n");
        relayed.extend(relay(&mut carol, &mut dave));
        relayed.extend(relay(&mut dave, &mut carol));
    }
    assert!(!relayed.contains(&"renegotiate"), "{relayed:?}");
    assert!(!relayed.is_empty());
}
