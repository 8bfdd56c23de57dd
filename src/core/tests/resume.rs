//! Frame numbering: duplicates, gaps, resuming and re-syncing.

use super::*;
use rtcroom_protocol::ws::{TextCmd, TextHead, TextHeadData};

fn text(room: &str, from: &str, t: &str) -> ServerEvent {
    ServerEvent::RoomText {
        room_id: rid(room),
        user_id: uid(from),
        head: TextHead {
            cmd: TextCmd::CustomTextMsg,
            data: TextHeadData {
                nick_name: format!("{from}-name"),
                head_pic: format!("{from}.png"),
            },
        },
        text: t.into(),
        time: 1,
    }
}

fn texts(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::RecvRoomTextMsg { text, .. } => Some(text.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn duplicate_frames_are_dropped() {
    let mut h = H::in_room("r1", &["alice"]);
    let f = h.server(text("r1", "alice", "one"));
    h.frame(f.clone());
    h.frame(ServerFrame { seq: 0, ..f });
    assert_eq!(texts(&h.events()), ["one"]);
}

#[test]
fn a_gap_reconnects_with_last_seq_and_the_replay_fills_it() {
    let mut h = H::in_room("r1", &["alice"]);
    h.server(text("r1", "alice", "1"));
    h.seq += 1; // frame 2 is lost
    let lost = h.seq;
    h.server(text("r1", "alice", "3"));
    assert_eq!(texts(&h.events()), ["1"]);
    assert_eq!(h.closes().len(), 1);
    // Frames still arriving on the closed socket are ignored.
    h.server(text("r1", "alice", "4"));
    assert!(h
        .events()
        .iter()
        .all(|e| !matches!(e, Event::RecvRoomTextMsg { .. })));
    h.advance(250);
    let url = h.ws_connect();
    assert!(url.ends_with(&format!("&lastSeq={}", lost - 1)), "{url}");
    h.seq = 4;
    h.welcome(true);
    for (seq, t) in [(2, "2"), (3, "3"), (4, "4")] {
        h.frame(ServerFrame {
            seq,
            event: text("r1", "alice", t),
        });
    }
    h.server(text("r1", "alice", "5"));
    assert_eq!(texts(&h.events()), ["2", "3", "4", "5"]);
}

#[test]
fn resumed_replays_are_delivered_once() {
    let mut h = H::in_room("r1", &["alice"]);
    for t in ["1", "2", "3"] {
        h.server(text("r1", "alice", t));
    }
    h.events();
    h.drop_socket();
    // The server kept numbering while we were away.
    h.seq = 5;
    h.advance(250);
    assert!(h.ws_connect().ends_with("&lastSeq=3"));
    h.welcome(true);
    for seq in 2..=5 {
        h.frame(ServerFrame {
            seq,
            event: text("r1", "alice", &seq.to_string()),
        });
    }
    h.server(text("r1", "alice", "6"));
    assert_eq!(texts(&h.events()), ["4", "5", "6"]);
    h.no_http("get_pushers");
}

#[test]
fn not_resumed_refetches_and_diffs_the_members() {
    let mut h = H::in_room("r1", &["alice", "dave"]);
    h.drop_socket();
    h.advance(250);
    h.ws_connect();
    h.seq = 40;
    h.welcome(false);
    let get = h.http("get_pushers");
    assert_eq!(
        serde_json::to_string(&get.body).unwrap(),
        r#"{"roomID":"r1"}"#
    );
    h.reply(
        &get,
        ReplyBody::Pushers(summary("r1", &["alice", ME, "erin"])),
    );
    assert_eq!(
        h.events(),
        [
            Event::ConnectionStateChange(ConnectionState::Reconnecting),
            Event::ConnectionStateChange(ConnectionState::Connected),
            Event::PusherQuit(pusher("dave")),
            Event::PusherJoin(pusher("erin"))
        ]
    );
    // alice is kept, but her offer may have been lost: both start over.
    assert_eq!(
        h.peers(),
        [
            closed("dave"),
            created("erin", true),
            created("alice", false)
        ]
    );
    let sent = h.sent();
    assert_eq!(kinds(&sent), ["renegotiate"]);
    assert_eq!(to_of(&sent[0].frame), Some("alice"));
    // Numbering continues from the welcome.
    h.server(text("r1", "alice", "after"));
    assert_eq!(texts(&h.events()), ["after"]);
}

#[test]
fn events_during_a_resync_are_held_and_replayed_on_the_fresh_list() {
    let mut h = H::in_room("r1", &["alice", "dave"]);
    h.reconnect_unresumed();
    let get = h.http("get_pushers");
    h.clear();
    // Arrive before the reply; the list may or may not include their effect.
    h.server(join("r1", "frank"));
    h.server(quit("r1", "alice"));
    h.server(text("r1", "dave", "hi"));
    assert!(h.events().is_empty());
    h.reply(
        &get,
        ReplyBody::Pushers(summary("r1", &["alice", "dave", "frank", ME])),
    );
    assert_eq!(
        h.events(),
        [
            Event::PusherJoin(pusher("frank")),
            Event::PusherQuit(pusher("alice")),
            Event::RecvRoomTextMsg {
                room_id: rid("r1"),
                user_id: uid("dave"),
                user_name: "dave-name".into(),
                user_avatar: "dave.png".into(),
                text: "hi".into(),
                time: 1
            }
        ]
    );
    // The kept members start over first; alice's held quit then closes hers.
    assert_eq!(
        h.peers(),
        [
            created("frank", true),
            created("alice", false),
            created("dave", true),
            closed("alice")
        ]
    );
}

#[test]
fn dropped_from_the_room_while_away_re_joins_with_fresh_peers() {
    let mut h = H::in_room("r1", &["alice", "dave"]);
    h.reconnect_unresumed();
    let get = h.http("get_pushers");
    h.clear();
    h.reply(&get, ReplyBody::Pushers(summary("r1", &["alice", "dave"])));
    assert_eq!(h.peers(), [closed("alice"), closed("dave")]);
    assert!(h.events().is_empty());
    let add = h.http("add_pusher");
    h.ok(&add);
    let get = h.http("get_pushers");
    h.reply(&get, ReplyBody::Pushers(summary("r1", &["alice", ME])));
    assert_eq!(h.events(), [Event::PusherQuit(pusher("dave"))]);
    assert_eq!(h.peers(), [created("alice", false)]);
    // The fresh peer negotiates from scratch.
    h.server(ServerEvent::Offer {
        room_id: rid("r1"),
        from: uid("alice"),
        sdp: "new".into(),
    });
    assert_eq!(h.peers().len(), 1);
}

#[test]
fn a_resumed_reconnect_checks_membership_at_once() {
    let mut h = H::in_room("r1", &["alice"]);
    h.drop_socket();
    h.advance(250);
    h.ws_connect();
    h.welcome(true);
    // Removed while away, the server told only those who remained.
    let beat = h.http("pusher_heartbeat");
    h.fail(&beat, api(ErrorCode::NotMember));
    let get = h.http("get_pushers");
    h.clear();
    h.reply(&get, ReplyBody::Pushers(summary("r1", &["alice"])));
    assert_eq!(h.peers(), [closed("alice")]);
    let add = h.http("add_pusher");
    h.ok(&add);
    let get = h.http("get_pushers");
    h.reply(&get, ReplyBody::Pushers(summary("r1", &["alice", ME])));
    assert_eq!(h.peers(), [created("alice", false)]);
    assert!(h.events().is_empty(), "alice never left");
}

#[test]
fn a_room_gone_while_away_is_closed() {
    let mut h = H::in_room("r1", &["alice"]);
    h.reconnect_unresumed();
    let get = h.http("get_pushers");
    h.clear();
    h.fail(&get, api(ErrorCode::RoomNotFound));
    assert_eq!(h.peers(), [closed("alice")]);
    assert_eq!(h.events(), [Event::RoomClosed { room_id: rid("r1") }]);
}

#[test]
fn a_failed_resync_is_retried() {
    let mut h = H::in_room("r1", &["alice"]);
    h.reconnect_unresumed();
    let get = h.http("get_pushers");
    h.fail(&get, ClientError::Network.api());
    h.no_http("get_pushers");
    h.advance(1_000);
    let get = h.http("get_pushers");
    h.clear();
    h.reply(&get, ReplyBody::Pushers(summary("r1", &["alice", ME])));
    assert!(h.events().is_empty());
    // alice is kept; her offer may have been lost, so both start over.
    assert_eq!(h.peers(), [created("alice", false)]);
    assert_eq!(kinds(&h.sent()), ["renegotiate"]);
}

#[test]
fn frames_of_an_old_socket_are_ignored() {
    let mut h = H::in_room("r1", &["alice"]);
    let old = h.conn.unwrap();
    h.drop_socket();
    h.advance(250);
    h.ws_connect();
    h.welcome(true);
    h.handle(Input::WsFrame {
        conn: old,
        frame: ServerFrame {
            seq: 1,
            event: text("r1", "alice", "stale"),
        },
    });
    h.handle(Input::WsClosed {
        conn: old,
        reason: "late".into(),
    });
    assert!(texts(&h.events()).is_empty());
    h.advance(10_000);
    assert!(!h.out.iter().any(|o| matches!(o, Output::WsConnect { .. })));
}

#[test]
fn an_undecodable_frame_keeps_the_numbering() {
    let mut h = H::in_room("r1", &["alice"]);
    h.seq += 1;
    h.handle(Input::WsUndecodable {
        conn: h.conn.unwrap(),
        seq: Some(h.seq),
        error: "unknown variant `future_event`".into(),
    });
    h.server(text("r1", "alice", "next"));
    assert_eq!(texts(&h.events()), ["next"]);
    assert!(h.closes().is_empty());
}

#[test]
fn a_silent_socket_is_pinged_then_replaced() {
    let mut h = H::with(
        ME,
        Config {
            ping_interval_ms: 1_000,
            dead_after_ms: 3_000,
            ..test_config()
        },
    );
    h.login();
    h.advance(1_000);
    let sent = h.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].frame, ClientFrame::Ping);
    assert_eq!(sent[0].req_id, None);
    // A pong (any frame) keeps it alive.
    h.server(ServerEvent::Pong);
    h.advance(1_000);
    h.advance(1_000);
    assert!(h.closes().is_empty());
    h.advance(1_000);
    assert_eq!(h.closes().len(), 1);
    h.advance(250);
    h.ws_connect();
}

#[test]
fn a_socket_that_never_says_welcome_is_replaced() {
    let mut h = H::in_room("r1", &[]);
    h.drop_socket();
    h.advance(250);
    h.ws_connect();
    h.advance(9_999);
    assert!(h.closes().is_empty());
    h.advance(1);
    assert_eq!(h.closes().len(), 1);
    h.advance(500);
    h.ws_connect();
    h.welcome(true);
    assert!(h
        .events()
        .contains(&Event::ConnectionStateChange(ConnectionState::Connected)));
}

/// The server's `resume_gap` after `welcome {resumed: false}`: its seq is
/// the last assigned (not a gap, not a new frame); the application hears
/// code 1019 and how many frames were lost; the re-sync runs as after any
/// `resumed: false`, and the numbering goes on from there.
#[test]
fn a_resume_gap_reaches_the_app_and_the_room_re_syncs() {
    let mut h = H::in_room("r1", &["alice"]);
    h.server(text("r1", "alice", "1"));
    h.events();
    h.drop_socket();
    h.advance(250);
    assert!(h.ws_connect().ends_with("&lastSeq=1"));
    h.seq = 1_100;
    h.welcome(false);
    h.frame(ServerFrame {
        seq: h.seq,
        event: ServerEvent::ResumeGap {
            code: 1019,
            message: "1099 frames after lastSeq 1 are no longer buffered".into(),
            last_seq: 1,
            missed: 1_099,
        },
    });
    assert!(h.closes().is_empty(), "not treated as a gap: {:#?}", h.logs);
    let events = h.events();
    assert!(
        events.contains(&Event::ResumeGap {
            code: ErrorCode::ResumeGap.code(),
            message: "1099 frames after lastSeq 1 are no longer buffered".into(),
            last_seq: 1,
            missed: 1_099,
        }),
        "{events:#?}"
    );
    let get = h.http("get_pushers");
    h.reply(&get, ReplyBody::Pushers(summary("r1", &["alice", ME])));
    h.server(text("r1", "alice", "after"));
    assert_eq!(texts(&h.events()), ["after"]);
    assert!(h.closes().is_empty());
}

/// A `resume_gap` on a socket not yet welcomed (or a stale one) is no news.
#[test]
fn a_resume_gap_before_welcome_is_ignored() {
    let mut h = H::in_room("r1", &["alice"]);
    h.drop_socket();
    h.advance(250);
    h.ws_connect();
    h.frame(ServerFrame {
        seq: 5,
        event: ServerEvent::ResumeGap {
            code: 1019,
            message: "m".into(),
            last_seq: 0,
            missed: 5,
        },
    });
    assert!(!h
        .events()
        .iter()
        .any(|e| matches!(e, Event::ResumeGap { .. })));
}
