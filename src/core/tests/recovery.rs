//! Media recovery: ICE restart first, starting over from scratch if that
//! fails, retried with a growing wait; `connected` ends it.

use super::*;

/// In r1 with `other`, the negotiation settled and ICE connected. We
/// (carol) offer to "dave" and answer "bob" (user ids sort byte-wise).
fn settled_with(other: &str) -> H {
    let mut h = H::in_room("r1", &[other]);
    h.settle("r1", other);
    h.state(other, PeerState::Connected);
    h.clear();
    h
}

impl H {
    fn state(&mut self, user: &str, state: PeerState) {
        self.handle(Input::PeerState {
            user: uid(user),
            state,
        });
    }
}

fn restart_ice(user: &str) -> PeerAction {
    PeerAction::RestartIce { user: uid(user) }
}

#[test]
fn offerer_restarts_ice_on_failure_and_sends_the_new_offer() {
    let mut h = settled_with("dave");
    h.state("dave", PeerState::Failed);
    assert_eq!(h.peers(), [restart_ice("dave")]);
    // The glue's ICE-restart offer goes out like any offer.
    h.handle(Input::LocalSdp {
        user: uid("dave"),
        kind: SdpKind::Offer,
        sdp: "offer-2".into(),
    });
    let sent = h.sent();
    assert_eq!(kinds(&sent), ["offer"]);
    h.server(ServerEvent::Answer {
        room_id: rid("r1"),
        from: uid("dave"),
        sdp: "answer-2".into(),
    });
    assert!(
        matches!(&h.peers()[..], [PeerAction::SetRemoteSdp { kind: SdpKind::Answer, sdp, .. }] if sdp == "answer-2")
    );
    h.state("dave", PeerState::Connected);
    // Recovered: no starting over later.
    h.advance(120_000);
    assert!(h.peers().is_empty());
    assert!(h.sent().is_empty());
    assert!(h.restarted.is_empty());
}

#[test]
fn a_short_disconnect_heals_by_itself_a_long_one_restarts_ice() {
    let grace = test_config().media_disconnect_grace_ms;
    let mut h = settled_with("dave");
    h.state("dave", PeerState::Disconnected);
    h.advance(grace - 1);
    h.state("dave", PeerState::Connected);
    h.advance(grace * 10);
    assert!(h.peers().is_empty(), "came back by itself");

    h.state("dave", PeerState::Disconnected);
    h.advance(grace - 1);
    assert!(h.peers().is_empty());
    h.advance(1);
    assert_eq!(h.peers(), [restart_ice("dave")]);
}

#[test]
fn a_failed_ice_restart_starts_over_then_retries_with_a_growing_wait() {
    let cfg = test_config();
    let t = cfg.ice_restart_timeout_ms;
    let mut h = settled_with("dave");
    h.state("dave", PeerState::Failed);
    assert_eq!(h.peers(), [restart_ice("dave")]);
    h.advance(t - 1);
    assert!(h.peers().is_empty());
    h.advance(1);
    // Step 2: a fresh peer (Create replaces it) and `renegotiate`.
    assert_eq!(h.peers(), [created("dave", true)]);
    assert_eq!(kinds(&h.sent()), ["renegotiate"]);
    assert_eq!(h.restarted, [uid("dave")]);
    // Step 3: not connected after `t`, then after `2t`: again each time.
    h.advance(t);
    assert_eq!(h.peers(), [created("dave", true)]);
    assert_eq!(kinds(&h.sent()), ["renegotiate"]);
    h.advance(2 * t - 1);
    assert!(h.peers().is_empty(), "the wait doubled");
    h.advance(1);
    assert_eq!(h.peers(), [created("dave", true)]);
    h.sent();
    // Connected at last: nothing more.
    h.state("dave", PeerState::Connected);
    h.advance(cfg.media_retry_max_ms * 4);
    assert!(h.peers().is_empty());
    assert!(h.sent().is_empty());
}

#[test]
fn the_wait_between_fresh_starts_is_capped() {
    let cfg = test_config();
    let mut h = settled_with("dave");
    h.state("dave", PeerState::Failed);
    let mut starts = 0;
    // Ten minutes of a dead path: starts keep coming, at most `media_retry_max_ms` apart.
    let mut since_last = 0;
    for _ in 0..600 {
        h.advance(1_000);
        since_last += 1_000;
        if h.peers()
            .iter()
            .any(|p| matches!(p, PeerAction::Create { .. }))
        {
            starts += 1;
            assert!(since_last <= cfg.media_retry_max_ms, "{since_last}");
            since_last = 0;
        }
        h.sent();
    }
    assert!(starts >= 600_000 / cfg.media_retry_max_ms - 1, "{starts}");
}

#[test]
fn answerer_waits_for_the_offerers_ice_restart() {
    let t = test_config().ice_restart_timeout_ms;
    let mut h = settled_with("bob"); // bob < carol: bob offers
    h.state("bob", PeerState::Failed);
    assert!(h.peers().is_empty(), "the answerer never offers");
    assert!(h.sent().is_empty());
    // bob's ICE-restart offer lands on the same peer and is answered.
    h.server(ServerEvent::Offer {
        room_id: rid("r1"),
        from: uid("bob"),
        sdp: "offer-2".into(),
    });
    assert!(matches!(
        &h.peers()[..],
        [PeerAction::SetRemoteSdp {
            kind: SdpKind::Offer,
            ..
        }]
    ));
    h.handle(Input::LocalSdp {
        user: uid("bob"),
        kind: SdpKind::Answer,
        sdp: "answer-2".into(),
    });
    assert_eq!(kinds(&h.sent()), ["answer"]);
    h.state("bob", PeerState::Connected);
    h.advance(10 * t);
    assert!(h.peers().is_empty() && h.sent().is_empty());
    assert!(h.restarted.is_empty());
}

#[test]
fn answerer_starts_over_when_no_restart_comes_and_after_the_offerer_would() {
    let t = test_config().ice_restart_timeout_ms;
    let mut h = settled_with("bob");
    h.state("bob", PeerState::Failed);
    // The offerer starts over after `t`; the answerer only after `2t`.
    h.advance(2 * t - 1);
    assert!(h.peers().is_empty());
    h.advance(1);
    assert_eq!(h.peers(), [created("bob", false)]);
    assert_eq!(kinds(&h.sent()), ["renegotiate"]);
}

#[test]
fn the_offerers_renegotiate_resets_the_answerers_recovery() {
    let t = test_config().ice_restart_timeout_ms;
    let mut h = settled_with("bob");
    h.state("bob", PeerState::Failed);
    h.advance(t);
    h.server(ServerEvent::Renegotiate {
        room_id: rid("r1"),
        from: uid("bob"),
    });
    assert_eq!(h.peers(), [created("bob", false)]);
    // Its own fresh start would cross bob's: it never comes.
    h.advance(10 * t);
    assert!(h.peers().is_empty());
    assert!(h.sent().is_empty());
}

#[test]
fn a_negotiation_that_never_settled_starts_over_at_once() {
    let mut h = H::in_room("r1", &["dave"]);
    h.handle(Input::LocalSdp {
        user: uid("dave"),
        kind: SdpKind::Offer,
        sdp: "offer-1".into(),
    });
    h.clear();
    h.state("dave", PeerState::Failed);
    assert_eq!(h.peers(), [created("dave", true)]);
    assert_eq!(kinds(&h.sent()), ["renegotiate"]);
}

#[test]
fn nothing_happens_for_members_that_left_or_unknown_users() {
    let t = test_config().ice_restart_timeout_ms;
    let mut h = settled_with("dave");
    h.state("dave", PeerState::Failed);
    h.peers();
    h.server(quit("r1", "dave"));
    assert_eq!(h.peers(), [closed("dave")]);
    h.advance(100 * t);
    assert!(h.peers().is_empty());
    assert!(h.sent().is_empty());
    h.state("nobody", PeerState::Failed);
    assert!(h.peers().is_empty());
}

#[test]
fn states_parse_as_the_browser_spells_them() {
    for (s, want) in [
        ("connected", PeerState::Connected),
        ("completed", PeerState::Connected),
        ("disconnected", PeerState::Disconnected),
        ("failed", PeerState::Failed),
        ("checking", PeerState::Checking),
        ("new", PeerState::New),
        ("closed", PeerState::Closed),
    ] {
        assert_eq!(PeerState::from_ice(s), Some(want), "{s}");
    }
    assert_eq!(PeerState::from_ice("broken"), None);
}
