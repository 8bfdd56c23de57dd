//! SFU links: starting in SFU mode or switching to it, the publisher's and
//! the subscriber's signaling, held candidates, the switch fallback, faults.

use super::*;
use rtcroom_protocol::sfu::{
    RoomMode, SfuClientFrame, SfuLink, SfuServerEvent, SfuState, SfuStream, TrackKind,
};

const PUB: SfuLink = SfuLink::Publisher;
const SUB: SfuLink = SfuLink::Subscriber;

impl H {
    /// An SFU frame with the next seq.
    fn sfu(&mut self, event: SfuServerEvent) {
        self.seq += 1;
        let conn = self.conn.expect("no socket");
        let seq = self.seq;
        self.handle(Input::SfuFrame { conn, seq, event });
    }

    /// SFU frames the client sent (removed).
    fn sfu_sent(&mut self) -> Vec<SfuClientFrame> {
        self.take_all(|o| match o {
            Output::WsSendSfu { frame, .. } => Some(frame.frame.clone()),
            _ => None,
        })
    }

    /// The SFU and mesh peer actions, in order (removed).
    fn actions(&mut self) -> Vec<PeerAction> {
        self.peers()
    }
}

fn mode() -> SfuServerEvent {
    SfuServerEvent::RoomMode {
        room_id: rid("r1"),
        mode: RoomMode::Sfu,
    }
}

fn state(state: SfuState) -> SfuServerEvent {
    SfuServerEvent::SfuState {
        room_id: rid("r1"),
        state,
    }
}

fn offer(sdp: &str, streams: Vec<SfuStream>) -> SfuServerEvent {
    SfuServerEvent::SfuOffer {
        room_id: rid("r1"),
        sdp: sdp.into(),
        streams,
    }
}

fn remote_ice(link: SfuLink, c: &str) -> SfuServerEvent {
    SfuServerEvent::SfuCandidate {
        room_id: rid("r1"),
        link,
        candidate: cand(c),
    }
}

fn stream(mid: &str, user: &str, kind: TrackKind) -> SfuStream {
    SfuStream {
        mid: mid.into(),
        user_id: uid(user),
        kind,
    }
}

fn opened(link: SfuLink) -> PeerAction {
    PeerAction::SfuOpen {
        link,
        ice_servers: vec![],
    }
}

fn subscribe(restart: bool) -> SfuClientFrame {
    SfuClientFrame::SfuSubscribe {
        room_id: rid("r1"),
        restart,
    }
}

fn publish(sdp: &str, fresh: bool) -> SfuClientFrame {
    SfuClientFrame::SfuPublish {
        room_id: rid("r1"),
        sdp: sdp.into(),
        fresh,
    }
}

/// In an SFU room (entered as one) with `others`, outputs cleared.
fn in_sfu_room(others: &[&str]) -> H {
    let mut h = H::new();
    h.login();
    let (id, add) = h.start_entering("r1");
    // The spare offer hinted while add_pusher is on its way (the mode is not
    // known yet: the glue drops the spare when the SFU links open).
    assert_eq!(h.prepares(), 1, "the spare hinted with add_pusher");
    // The server announces the mode before our add_pusher answer arrives.
    h.sfu(mode());
    let mut all = others.to_vec();
    all.push(ME);
    h.ok_roster(&add, &all);
    assert_eq!(h.done(id), Ok(CallOk::Entered { room_id: rid("r1") }));
    assert_eq!(h.actions(), [opened(PUB), opened(SUB)], "no mesh peer");
    assert_eq!(h.prepares(), 0, "no more spare mesh offers in an SFU room");
    assert_eq!(h.sfu_sent(), [subscribe(false)]);
    h.clear();
    h
}

#[test]
fn entering_an_sfu_room_opens_two_links_and_no_mesh_peer() {
    let mut h = in_sfu_room(&["alice", "dave"]);
    // Newcomers get no mesh peer either.
    h.server(join("r1", "erin"));
    assert!(h.actions().is_empty());
}

#[test]
fn the_publisher_offers_and_its_candidates_wait_for_the_answer() {
    let mut h = in_sfu_room(&["alice"]);
    h.handle(Input::SfuLocalSdp {
        link: PUB,
        kind: SdpKind::Offer,
        sdp: "o1".into(),
    });
    h.handle(Input::SfuLocalIce {
        link: PUB,
        candidate: cand("mine"),
    });
    h.sfu(remote_ice(PUB, "theirs"));
    assert_eq!(
        h.sfu_sent(),
        [publish("o1", true)],
        "our candidate waits: the server opens the handle on sfu_publish"
    );
    assert!(
        h.actions().is_empty(),
        "their candidate waits for the answer"
    );
    h.sfu(SfuServerEvent::SfuAnswer {
        room_id: rid("r1"),
        sdp: "a1".into(),
    });
    assert_eq!(
        h.actions(),
        [
            PeerAction::SfuRemoteSdp {
                link: PUB,
                kind: SdpKind::Answer,
                sdp: "a1".into(),
                streams: vec![]
            },
            PeerAction::SfuAddIce {
                link: PUB,
                candidate: cand("theirs")
            }
        ]
    );
    assert_eq!(
        h.sfu_sent(),
        [SfuClientFrame::SfuCandidate {
            room_id: rid("r1"),
            link: PUB,
            candidate: cand("mine")
        }]
    );
    // A second answer without an offer out is not applied.
    h.sfu(SfuServerEvent::SfuAnswer {
        room_id: rid("r1"),
        sdp: "a2".into(),
    });
    assert!(h.actions().is_empty());
}

#[test]
fn the_subscriber_answers_every_offer_in_order() {
    let mut h = in_sfu_room(&["alice", "dave"]);
    h.sfu(remote_ice(SUB, "early"));
    assert!(h.actions().is_empty(), "held until the first offer");
    let s1 = vec![
        stream("0", "alice", TrackKind::Audio),
        stream("1", "alice", TrackKind::Video),
    ];
    let s2 = vec![stream("2", "dave", TrackKind::Video)];
    h.sfu(offer("o1", s1.clone()));
    h.sfu(offer("o2", s2.clone()));
    assert_eq!(
        h.actions(),
        [
            PeerAction::SfuRemoteSdp {
                link: SUB,
                kind: SdpKind::Offer,
                sdp: "o1".into(),
                streams: s1
            },
            PeerAction::SfuAddIce {
                link: SUB,
                candidate: cand("early")
            },
            PeerAction::SfuRemoteSdp {
                link: SUB,
                kind: SdpKind::Offer,
                sdp: "o2".into(),
                streams: s2
            },
        ]
    );
    for sdp in ["a1", "a2", "a3"] {
        h.handle(Input::SfuLocalSdp {
            link: SUB,
            kind: SdpKind::Answer,
            sdp: sdp.into(),
        });
    }
    let answers: Vec<String> = h
        .sfu_sent()
        .into_iter()
        .map(|f| match f {
            SfuClientFrame::SfuAnswer { sdp, .. } => sdp,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(answers, ["a1", "a2"], "one answer per offer, no more");
    // Candidates now go straight in, and ours straight out.
    h.sfu(remote_ice(SUB, "late"));
    assert_eq!(
        h.actions(),
        [PeerAction::SfuAddIce {
            link: SUB,
            candidate: cand("late")
        }]
    );
}

/// In the mesh room r1 with `others`, every peer negotiated, outputs cleared.
fn in_mesh(others: &[&str]) -> H {
    let mut h = H::in_room("r1", others);
    for other in others {
        h.settle("r1", other);
    }
    h.clear();
    h
}

fn release(to: &str) -> ClientFrame {
    ClientFrame::MeshRelease {
        room_id: rid("r1"),
        to: uid(to),
    }
}

fn released_by(from: &str) -> ServerEvent {
    ServerEvent::MeshRelease {
        room_id: rid("r1"),
        from: uid(from),
    }
}

impl H {
    /// The `mesh_release` frames sent (every frame sent is removed).
    fn releases(&mut self) -> Vec<ClientFrame> {
        self.sent()
            .into_iter()
            .map(|e| e.frame)
            .filter(|f| matches!(f, ClientFrame::MeshRelease { .. }))
            .collect()
    }
}

#[test]
fn the_switch_closes_a_mesh_peer_once_both_ends_play_through_the_sfu_or_at_the_fallback() {
    let mut h = in_mesh(&["alice", "bob", "dave"]);
    h.sfu(mode());
    assert_eq!(h.actions(), [opened(PUB), opened(SUB)], "make before break");
    assert!(h.events().contains(&Event::RoomMode {
        room_id: rid("r1"),
        mode: RoomMode::Sfu
    }));
    h.clear();
    // alice plays here first: she is told, and still gets our video over the mesh.
    h.handle(Input::SfuMedia { user: uid("alice") });
    assert_eq!(h.releases(), [release("alice")]);
    assert!(
        h.actions().is_empty(),
        "alice may not play us through the SFU yet"
    );
    h.handle(Input::SfuMedia { user: uid("alice") });
    assert!(h.releases().is_empty(), "told once");
    h.server(released_by("alice"));
    assert_eq!(h.actions(), [closed("alice")], "both ends play: closed");
    h.server(released_by("alice"));
    assert!(h.actions().is_empty(), "closed once");
    // bob plays us first: his peer stays until his video plays here.
    h.server(released_by("bob"));
    assert!(h.actions().is_empty());
    h.handle(Input::SfuMedia { user: uid("bob") });
    assert_eq!(h.releases(), [release("bob")]);
    assert_eq!(h.actions(), [closed("bob")]);
    // dave never says so (an older client, or his subscriber never plays): the fallback.
    h.handle(Input::SfuMedia { user: uid("dave") });
    h.advance(test_config().sfu_switch_timeout_ms - 1);
    assert!(h.actions().is_empty());
    h.advance(1);
    assert_eq!(h.actions(), [closed("dave")], "fallback");
    // Leaving closes nothing twice: the mesh peers are gone already.
    let id = h.call(Call::ExitRoom);
    assert_eq!(
        h.actions(),
        [
            PeerAction::SfuClose { link: PUB },
            PeerAction::SfuClose { link: SUB }
        ]
    );
    let del = h.http("delete_pusher");
    h.ok(&del);
    assert_eq!(h.done(id), Ok(CallOk::Exited));
}

#[test]
fn a_member_entering_at_the_switch_needs_no_release() {
    let mut h = in_mesh(&["alice"]);
    // erin's entry moves the room: our peer to her is made (she would offer)
    // but nothing is ever negotiated on it, since she enters in SFU mode.
    h.server(join("r1", "erin"));
    h.sfu(mode());
    h.clear();
    h.handle(Input::SfuMedia { user: uid("erin") });
    assert_eq!(h.actions(), [closed("erin")], "closed at once");
    assert!(h.releases().is_empty(), "she has no mesh peer to release");
}

#[test]
fn a_mesh_release_outside_a_switch_closes_nothing() {
    // Entered as an SFU room: no mesh peer to release.
    let mut h = in_sfu_room(&["alice"]);
    h.server(released_by("alice"));
    h.handle(Input::SfuMedia { user: uid("alice") });
    assert!(h.actions().is_empty());
    assert!(h.releases().is_empty(), "nothing to release");
    // A mesh room (no switch): the peer stays.
    let mut h = in_mesh(&["alice"]);
    h.server(released_by("alice"));
    assert!(h.actions().is_empty());
}

#[test]
fn a_media_server_outage_mid_switch_needs_both_ends_to_play_again() {
    let mut h = in_mesh(&["alice"]);
    h.sfu(mode());
    h.handle(Input::SfuMedia { user: uid("alice") });
    h.clear();
    h.sfu(state(SfuState::Lost));
    h.clear();
    // The outage took both ends' SFU media: alice must play here again and say so again.
    h.sfu(state(SfuState::Ready));
    h.clear();
    h.handle(Input::SfuMedia { user: uid("alice") });
    assert_eq!(h.releases(), [release("alice")], "told again");
    assert!(h.actions().is_empty());
    h.server(released_by("alice"));
    assert_eq!(h.actions(), [closed("alice")]);
}

#[test]
fn a_member_leaving_during_the_switch_drops_its_fallback() {
    let mut h = H::in_room("r1", &["alice"]);
    h.sfu(mode());
    h.clear();
    h.server(quit("r1", "alice"));
    assert_eq!(h.actions(), [closed("alice")]);
    h.advance(test_config().sfu_switch_timeout_ms);
    assert!(h.actions().is_empty());
}

#[test]
fn leaving_closes_the_sfu_links_before_delete_pusher() {
    let mut h = in_sfu_room(&["alice"]);
    let id = h.call(Call::ExitRoom);
    let order: Vec<&'static str> = h
        .out
        .iter()
        .filter_map(|o| match o {
            Output::Peer(PeerAction::SfuClose { .. }) => Some("close"),
            Output::Http(r) if r.cmd == "delete_pusher" => Some("delete_pusher"),
            _ => None,
        })
        .collect();
    assert_eq!(order, ["close", "close", "delete_pusher"]);
    let del = h.http("delete_pusher");
    h.ok(&del);
    assert_eq!(h.done(id), Ok(CallOk::Exited));
}

#[test]
fn lost_then_ready_reopens_both_links_and_tells_the_app() {
    let mut h = H::in_room("r1", &["alice"]);
    h.sfu(mode());
    h.clear();
    h.sfu(state(SfuState::Lost));
    assert_eq!(
        h.actions(),
        [
            PeerAction::SfuClose { link: PUB },
            PeerAction::SfuClose { link: SUB }
        ]
    );
    assert!(h.events().contains(&Event::SfuStateChange(SfuState::Lost)));
    // The mesh peer kept by the switch stays while the media server is away.
    h.advance(test_config().sfu_switch_timeout_ms * 3);
    assert!(h.actions().is_empty());
    h.sfu(state(SfuState::Ready));
    assert_eq!(h.actions(), [opened(PUB), opened(SUB)]);
    assert_eq!(h.sfu_sent(), [subscribe(false)]);
    assert!(h.events().contains(&Event::SfuStateChange(SfuState::Ready)));
    h.advance(test_config().sfu_switch_timeout_ms);
    assert_eq!(
        h.actions(),
        [closed("alice")],
        "fallback counted from ready"
    );
}

#[test]
fn a_failed_link_restarts_ice_until_it_connects() {
    let mut h = in_sfu_room(&["alice"]);
    h.handle(Input::SfuLinkState {
        link: PUB,
        state: PeerState::Failed,
    });
    assert_eq!(h.actions(), [PeerAction::SfuRestartIce { link: PUB }]);
    h.handle(Input::SfuLinkState {
        link: SUB,
        state: PeerState::Disconnected,
    });
    assert!(
        h.sfu_sent().is_empty(),
        "disconnected may come back by itself"
    );
    h.advance(test_config().media_disconnect_grace_ms);
    assert_eq!(h.sfu_sent(), [subscribe(true)]);
    // No connection after the restart: again, after a longer wait.
    h.advance(test_config().ice_restart_timeout_ms);
    assert_eq!(h.actions(), [PeerAction::SfuRestartIce { link: PUB }]);
    h.handle(Input::SfuLinkState {
        link: PUB,
        state: PeerState::Connected,
    });
    h.advance(test_config().media_retry_max_ms);
    assert!(h.actions().is_empty(), "connected: nothing more");
    assert!(h.sfu_sent().iter().all(|f| *f == subscribe(true)));
}

#[test]
fn a_host_without_sfu_links_keeps_its_mesh() {
    let mut h = H::with(
        ME,
        Config {
            sfu: false,
            ..test_config()
        },
    );
    h.login();
    h.enter("r1", &["alice"]);
    h.clear();
    h.sfu(mode());
    h.advance(test_config().sfu_switch_timeout_ms * 2);
    assert!(h.actions().is_empty());
    assert!(h.sfu_sent().is_empty());
}

#[test]
fn dropped_from_an_sfu_room_re_joins_with_fresh_links() {
    let mut h = in_sfu_room(&["alice"]);
    h.reconnect_unresumed();
    let get = h.http("get_pushers");
    h.clear();
    // The list no longer has us: the server dropped our membership and our SFU handles.
    h.reply(&get, ReplyBody::Pushers(summary("r1", &["alice"])));
    assert_eq!(
        h.actions(),
        [
            PeerAction::SfuClose { link: PUB },
            PeerAction::SfuClose { link: SUB }
        ],
        "no mesh peer to close"
    );
    let add = h.http("add_pusher");
    h.ok(&add);
    // The entry's room_mode comes first, then the list.
    h.sfu(mode());
    let get = h.http("get_pushers");
    h.reply(&get, ReplyBody::Pushers(summary("r1", &["alice", ME])));
    assert_eq!(
        h.actions(),
        [opened(PUB), opened(SUB)],
        "fresh links, no mesh peer"
    );
    assert_eq!(h.sfu_sent(), [subscribe(false)]);
    h.advance(test_config().sfu_switch_timeout_ms);
    assert!(
        h.actions().is_empty(),
        "no switch fallback: there was no mesh peer"
    );
}

impl H {
    fn link_state(&mut self, link: SfuLink, state: PeerState) {
        self.handle(Input::SfuLinkState { link, state });
    }

    fn local_offer(&mut self, sdp: &str) {
        self.handle(Input::SfuLocalSdp {
            link: PUB,
            kind: SdpKind::Offer,
            sdp: sdp.into(),
        });
    }

    /// The -1017 notices the application got (removed with the other events).
    fn fresh_start_notices(&mut self) -> usize {
        let code = rtcroom_protocol::ClientError::SfuFreshStart.code();
        self.events()
            .iter()
            .filter(|e| matches!(e, Event::Error { code: c, .. } if *c == code))
            .count()
    }

    /// `link` fails, then fails every ICE restart until the restarts are used
    /// up; returns the restarts seen.
    fn fail_every_restart(&mut self, link: SfuLink) -> usize {
        let mut restarts = 0;
        self.link_state(link, PeerState::Failed);
        for _ in 0..test_config().sfu_ice_restarts {
            let restarted = match link {
                SfuLink::Publisher => self.actions() == [PeerAction::SfuRestartIce { link: PUB }],
                SfuLink::Subscriber => self.sfu_sent() == [subscribe(true)],
            };
            assert!(restarted, "an ICE restart of the {link:?}");
            restarts += 1;
            self.link_state(link, PeerState::Failed);
        }
        restarts
    }
}

fn fresh_start() -> [PeerAction; 4] {
    [
        PeerAction::SfuClose { link: PUB },
        PeerAction::SfuClose { link: SUB },
        opened(PUB),
        opened(SUB),
    ]
}

#[test]
fn the_first_offer_of_each_publisher_connection_is_fresh_and_restarts_are_not() {
    let mut h = in_sfu_room(&["alice"]);
    h.local_offer("o1");
    h.sfu(SfuServerEvent::SfuAnswer {
        room_id: rid("r1"),
        sdp: "a1".into(),
    });
    assert_eq!(h.sfu_sent(), [publish("o1", true)]);
    h.clear();
    h.link_state(PUB, PeerState::Failed);
    assert_eq!(h.actions(), [PeerAction::SfuRestartIce { link: PUB }]);
    h.local_offer("o2");
    assert_eq!(h.sfu_sent(), [publish("o2", false)]);
}

#[test]
fn ice_restarts_that_keep_failing_start_both_links_afresh() {
    let mut h = in_sfu_room(&["alice"]);
    h.local_offer("o1");
    h.sfu(SfuServerEvent::SfuAnswer {
        room_id: rid("r1"),
        sdp: "a1".into(),
    });
    h.clear();
    let restarts = h.fail_every_restart(PUB);
    assert_eq!(restarts, test_config().sfu_ice_restarts as usize);
    // The restarts are used up: no restart, both links anew.
    assert_eq!(h.actions(), fresh_start());
    assert_eq!(h.sfu_sent(), [subscribe(false)], "a new subscriber");
    assert_eq!(h.fresh_start_notices(), 1, "the app is told (-1017)");
    // The new publisher's first offer asks the server for a new handle.
    h.local_offer("o3");
    assert_eq!(h.sfu_sent(), [publish("o3", true)]);
}

#[test]
fn a_failing_subscriber_starts_both_links_afresh_too() {
    let mut h = in_sfu_room(&["alice"]);
    h.sfu(offer("s1", vec![stream("0", "alice", TrackKind::Video)]));
    h.clear();
    h.fail_every_restart(SUB);
    assert_eq!(h.actions(), fresh_start());
    assert_eq!(h.sfu_sent(), [subscribe(false)]);
    assert_eq!(h.fresh_start_notices(), 1);
}

#[test]
fn restarts_after_fresh_starts_that_never_connect_wait_longer() {
    let cfg = test_config();
    let mut h = in_sfu_room(&["alice"]);
    h.fail_every_restart(PUB);
    assert_eq!(h.actions(), fresh_start());
    h.clear();
    // The fresh publisher fails too: its first restart now waits twice as
    // long as a first restart did.
    h.link_state(PUB, PeerState::Failed);
    assert_eq!(h.actions(), [PeerAction::SfuRestartIce { link: PUB }]);
    h.advance(cfg.ice_restart_timeout_ms);
    assert!(
        h.actions().is_empty(),
        "not yet: one fresh start that failed"
    );
    h.advance(cfg.ice_restart_timeout_ms);
    assert_eq!(h.actions(), [PeerAction::SfuRestartIce { link: PUB }]);
}

#[test]
fn a_fresh_start_that_connects_resets_the_count() {
    let cfg = test_config();
    let mut h = in_sfu_room(&["alice"]);
    h.fail_every_restart(PUB);
    assert_eq!(h.actions(), fresh_start());
    h.clear();
    h.link_state(PUB, PeerState::Connected);
    h.advance(cfg.media_retry_max_ms * 2);
    assert!(h.actions().is_empty(), "connected: nothing more");
    assert_eq!(h.fresh_start_notices(), 0);
    // A later failure starts from the first restart's wait again...
    h.link_state(PUB, PeerState::Failed);
    assert_eq!(h.actions(), [PeerAction::SfuRestartIce { link: PUB }]);
    h.advance(cfg.ice_restart_timeout_ms);
    assert_eq!(h.actions(), [PeerAction::SfuRestartIce { link: PUB }]);
    // ...and takes the full count of restarts before the next fresh start.
    for _ in 2..cfg.sfu_ice_restarts {
        h.link_state(PUB, PeerState::Failed);
        assert_eq!(h.actions(), [PeerAction::SfuRestartIce { link: PUB }]);
    }
    h.link_state(PUB, PeerState::Failed);
    assert_eq!(h.actions(), fresh_start());
    assert_eq!(h.fresh_start_notices(), 1);
}

#[test]
fn no_fresh_start_while_the_media_server_is_lost() {
    let mut h = in_sfu_room(&["alice"]);
    h.link_state(PUB, PeerState::Failed);
    h.sfu(state(SfuState::Lost));
    h.clear();
    h.advance(test_config().media_retry_max_ms * 4);
    assert!(h.actions().is_empty());
    assert!(h.sfu_sent().is_empty());
    assert_eq!(h.fresh_start_notices(), 0);
}

#[test]
fn a_spare_offer_is_forgotten_once_the_room_goes_sfu() {
    // In a mesh room with a spare offer kept for the next entry...
    let mut h = H::in_room("r1", &["alice"]);
    h.handle(Input::SpareOffer {
        sdp: "spare-offer".into(),
    });
    // ...the room moves to the SFU: the glue's spare becomes the publisher.
    h.sfu(mode());
    assert_eq!(
        h.exit_and_enter_offer("r2"),
        None,
        "the spare went to the SFU publisher"
    );
}
