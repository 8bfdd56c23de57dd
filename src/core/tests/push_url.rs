//! `getPushUrl` and the push URL that every later `add_pusher` announces
//! (the mini-program's `<live-pusher>` stream).

use super::*;
use rtcroom_protocol::http::{CreateRoomResponse, GetPushUrlResponse};

const URL: &str = "rtmp://push.example/live/8888_1400000001_carol?bizid=8888&txSecret=s&txTime=T";

fn push_url_reply(url: &str) -> ReplyBody {
    ReplyBody::PushUrl(GetPushUrlResponse {
        push_url: url.into(),
    })
}

/// Asks for the push URL and answers it.
fn get_push_url(h: &mut H, room: Option<&str>) -> HttpRequest {
    let id = h.call(Call::GetPushUrl {
        room_id: room.map(rid),
    });
    let req = h.http("get_push_url");
    h.reply(&req, push_url_reply(URL));
    assert_eq!(
        h.done(id),
        Ok(CallOk::PushUrl {
            push_url: URL.into()
        })
    );
    req
}

fn add_pusher_url(add: &HttpRequest) -> String {
    let body = serde_json::to_value(&add.body).unwrap();
    body["pushURL"].as_str().unwrap().to_owned()
}

#[test]
fn get_push_url_asks_for_our_stream() {
    let mut h = H::new();
    h.login();
    let req = get_push_url(&mut h, Some("r1"));
    assert!(req
        .url
        .ends_with("/multi_room/get_push_url?userID=carol&token=tok"));
    assert_eq!(
        serde_json::to_value(&req.body).unwrap(),
        serde_json::json!({"userID": "carol", "roomID": "r1"})
    );
    let req = get_push_url(&mut h, None);
    assert_eq!(
        serde_json::to_value(&req.body).unwrap(),
        serde_json::json!({"userID": "carol", "roomID": null})
    );
}

#[test]
fn entering_and_creating_announce_the_push_url() {
    let mut h = H::new();
    h.login();
    get_push_url(&mut h, None);
    let (id, add) = h.start_entering("r1");
    assert_eq!(add_pusher_url(&add), URL);
    h.ok(&add);
    let get = h.http("get_pushers");
    h.reply(&get, ReplyBody::Pushers(summary("r1", &[ME])));
    assert_eq!(h.done(id), Ok(CallOk::Entered { room_id: rid("r1") }));

    let id = h.call(Call::ExitRoom);
    let del = h.http("delete_pusher");
    h.ok(&del);
    assert_eq!(h.done(id), Ok(CallOk::Exited));

    h.call(Call::CreateRoom {
        private_map_key: None,
        room_id: None,
        room_info: String::new(),
    });
    let create = h.http("create_room");
    h.reply(
        &create,
        ReplyBody::CreateRoom(CreateRoomResponse {
            room_id: rid("room_2"),
        }),
    );
    assert_eq!(add_pusher_url(&h.http("add_pusher")), URL);
}

#[test]
fn a_re_join_announces_it_again() {
    let mut h = H::new();
    h.login();
    get_push_url(&mut h, None);
    h.enter("r1", &["alice"]);
    h.clear();
    h.reconnect_unresumed();
    let get = h.http("get_pushers");
    h.reply(&get, ReplyBody::Pushers(summary("r1", &["alice"])));
    assert_eq!(add_pusher_url(&h.http("add_pusher")), URL);
}

#[test]
fn without_a_push_url_or_after_a_failure_or_a_new_login_none_is_announced() {
    let mut h = H::new();
    h.login();
    let id = h.call(Call::GetPushUrl { room_id: None });
    let req = h.http("get_push_url");
    h.fail(&req, ClientError::Network.api());
    assert_eq!(h.err_code(id), ClientError::Network.code());
    h.call(Call::EnterRoom {
        private_map_key: None,
        room_id: rid("r1"),
    });
    assert_eq!(add_pusher_url(&h.http("add_pusher")), "");

    // A new session forgets the old session's URL.
    let mut h = H::new();
    h.login();
    get_push_url(&mut h, None);
    let id = h.call(Call::Logout);
    let req = h.http("logout");
    h.ok(&req);
    assert_eq!(h.done(id), Ok(CallOk::LoggedOut));
    h.clear();
    h.login();
    h.call(Call::EnterRoom {
        private_map_key: None,
        room_id: rid("r1"),
    });
    assert_eq!(add_pusher_url(&h.http("add_pusher")), "");
}

#[test]
fn get_push_url_needs_a_session() {
    let mut h = H::new();
    let id = h.call(Call::GetPushUrl { room_id: None });
    assert_eq!(h.err_code(id), ClientError::NotLoggedIn.code());
}
