//! Room text and custom messages, both ways.

use super::*;
use rtcroom_protocol::ws::{
    CustomCmd, CustomHead, CustomHeadData, TextCmd, TextHead, TextHeadData,
};

fn text_from(room: &str, from: &str) -> ServerEvent {
    ServerEvent::RoomText {
        room_id: rid(room),
        user_id: uid(from),
        head: TextHead {
            cmd: TextCmd::CustomTextMsg,
            data: TextHeadData {
                nick_name: "Al \"the\" Ice".into(),
                head_pic: "a.png".into(),
            },
        },
        text: "hello".into(),
        time: 1_700_000_000_000,
    }
}

#[test]
fn received_messages_carry_the_sender_from_the_head() {
    let mut h = H::in_room("r1", &["alice"]);
    h.server(text_from("r1", "alice"));
    h.server(ServerEvent::RoomCustom {
        room_id: rid("r1"),
        user_id: uid("alice"),
        head: CustomHead {
            cmd: CustomCmd::CustomCmdMsg,
            data: CustomHeadData {
                user_name: "Al".into(),
                user_avatar: "a.png".into(),
                cmd: "like".into(),
                msg: "{\"n\":1}".into(),
            },
        },
        time: 5,
    });
    // Rooms we are not in are ignored.
    h.server(text_from("r2", "alice"));
    assert_eq!(
        h.events(),
        [
            Event::RecvRoomTextMsg {
                room_id: rid("r1"),
                user_id: uid("alice"),
                user_name: "Al \"the\" Ice".into(),
                user_avatar: "a.png".into(),
                text: "hello".into(),
                time: 1_700_000_000_000
            },
            Event::RecvRoomCustomMsg {
                room_id: rid("r1"),
                user_id: uid("alice"),
                user_name: "Al".into(),
                user_avatar: "a.png".into(),
                cmd: "like".into(),
                msg: "{\"n\":1}".into(),
                time: 5
            }
        ]
    );
}

#[test]
fn sending_resolves_on_ack_and_rejects_on_error() {
    let mut h = H::in_room("r1", &[]);
    let a = h.call(Call::SendRoomTextMsg { text: "hi".into() });
    let b = h.call(Call::SendRoomCustomMsg {
        cmd: "c".into(),
        msg: "m".into(),
    });
    let sent = h.sent();
    assert_eq!(
        serde_json::to_value(&sent[0]).unwrap(),
        serde_json::json!({"reqID": sent[0].req_id, "type": "room_text", "roomID": "r1", "text": "hi"})
    );
    assert_eq!(
        serde_json::to_value(&sent[1]).unwrap(),
        serde_json::json!({"reqID": sent[1].req_id, "type": "room_custom", "roomID": "r1",
            "cmd": "c", "msg": "m"})
    );
    assert_ne!(sent[0].req_id, sent[1].req_id);
    assert!(h.pending(a) && h.pending(b));
    h.server(ServerEvent::Error {
        req_id: sent[1].req_id,
        code: ErrorCode::MessageTooLarge.code(),
        message: "too large".into(),
    });
    assert_eq!(h.err_code(b), 1005);
    h.server(ServerEvent::Ack {
        req_id: sent[0].req_id.unwrap(),
    });
    assert_eq!(h.done(a), Ok(CallOk::Sent));
    // An error with a reqID is about that frame only.
    assert!(h.c.is_logged_in());
}

#[test]
fn an_unnumbered_store_unavailable_answer_fails_its_request() {
    // A cluster node with Redis away answers 1030 carrying the last seq (it
    // cannot number frames): the request fails with it instead of timing out.
    let mut h = H::in_room("r1", &[]);
    let a = h.call(Call::SendRoomTextMsg { text: "hi".into() });
    let sent = h.sent();
    let last = h.seq;
    h.frame(ServerFrame {
        seq: last,
        event: ServerEvent::Error {
            req_id: sent[0].req_id,
            code: ErrorCode::StoreUnavailable.code(),
            message: "shared store unreachable: try again".into(),
        },
    });
    assert_eq!(h.err_code(a), 1030);
    // Any other unnumbered repeat is still a duplicate, and numbering goes on.
    h.server(text_from("r1", "alice"));
    assert!(h.c.is_logged_in());
}

#[test]
fn messages_sent_while_offline_go_out_once_after_reconnect() {
    let mut h = H::in_room("r1", &[]);
    h.drop_socket();
    let a = h.call(Call::SendRoomTextMsg { text: "1".into() });
    let b = h.call(Call::SendRoomTextMsg { text: "2".into() });
    assert!(h.sent().is_empty());
    h.advance(250);
    h.ws_connect();
    h.welcome(true);
    let sent = h.sent();
    assert_eq!(kinds(&sent), ["room_text", "room_text"]);
    for f in &sent {
        h.server(ServerEvent::Ack {
            req_id: f.req_id.unwrap(),
        });
    }
    assert_eq!(h.done(a), Ok(CallOk::Sent));
    assert_eq!(h.done(b), Ok(CallOk::Sent));
    h.drop_socket();
    h.advance(250);
    h.ws_connect();
    h.welcome(true);
    assert!(h.sent().is_empty(), "sent once");
}

#[test]
fn a_message_in_flight_when_the_socket_drops() {
    // Resumed: the ack comes in the replay.
    let mut h = H::in_room("r1", &[]);
    let a = h.call(Call::SendRoomTextMsg { text: "1".into() });
    let req = h.sent()[0].req_id.unwrap();
    h.drop_socket();
    h.advance(250);
    h.ws_connect();
    h.welcome(true);
    assert!(h.sent().is_empty(), "not sent twice");
    h.server(ServerEvent::Ack { req_id: req });
    assert_eq!(h.done(a), Ok(CallOk::Sent));

    // Not resumed: its fate is unknown.
    let b = h.call(Call::SendRoomTextMsg { text: "2".into() });
    h.sent();
    h.drop_socket();
    h.advance(250);
    h.ws_connect();
    h.seq += 10;
    h.welcome(false);
    assert_eq!(h.err_code(b), ClientError::ConnectionLost.code());
    assert!(h.sent().is_empty());
}

#[test]
fn a_message_without_ack_times_out() {
    let mut h = H::in_room("r1", &[]);
    let a = h.call(Call::SendRoomTextMsg { text: "1".into() });
    let req = h.sent()[0].req_id.unwrap();
    h.advance(14_999);
    assert!(h.pending(a));
    h.advance(1);
    assert_eq!(h.err_code(a), ClientError::Timeout.code());
    // A very late ack changes nothing.
    h.server(ServerEvent::Ack { req_id: req });
}

#[test]
fn sending_outside_a_room_fails() {
    let mut h = H::new();
    h.login();
    let a = h.call(Call::SendRoomTextMsg { text: "1".into() });
    assert_eq!(h.err_code(a), ClientError::NotInRoom.code());
    let id = h.call(Call::EnterRoom {
        private_map_key: None,
        room_id: rid("r1"),
    });
    let b = h.call(Call::SendRoomCustomMsg {
        cmd: "c".into(),
        msg: "m".into(),
    });
    assert_eq!(
        h.err_code(b),
        ClientError::NotInRoom.code(),
        "not while entering"
    );
    assert!(h.pending(id));
}

#[test]
fn session_errors_without_req_id_are_reported() {
    let mut h = H::in_room("r1", &[]);
    h.server(ServerEvent::Error {
        req_id: None,
        code: ErrorCode::RateLimited.code(),
        message: "slow down".into(),
    });
    assert_eq!(
        h.events(),
        [Event::Error {
            code: 1006,
            message: "slow down".into()
        }]
    );
    assert!(
        h.c.is_logged_in(),
        "only session-ending codes end the session"
    );
}
