//! The memory store and the Redis store (a real `redis-server`, started
//! here) apply the same room rules: the same steps give the same answers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::redis_server::Redis;

use rtcroom_protocol::http::Pusher;
use rtcroom_protocol::ws::{CloseReason, QuitReason};
use rtcroom_protocol::{RoomId, UserId};
use rtcroom_server::store::*;

fn rules() -> RoomRules {
    RoomRules {
        max_rooms: 3,
        max_rooms_per_app: 2,
        max_rooms_per_user: 2,
        capacity: 2,
        creator_leave_closes_room: true,
    }
}
fn key(app: u64, r: &str) -> RoomKey {
    RoomKey {
        app,
        room: RoomId::new(r).unwrap(),
    }
}
fn uid(u: &str) -> UserId {
    UserId::new(u).unwrap()
}
fn entry(u: &str) -> Entry {
    entry_ordered(u, None)
}
/// An entry with a join order (`rtcroom_server::join_order::next` values: 14 digits).
fn entry_ordered(u: &str, join_order: Option<u64>) -> Entry {
    Entry {
        pusher: Pusher {
            user_id: uid(u),
            user_name: format!("name \"{u}\" / é"),
            user_avatar: String::new(),
            accelerate_url: String::new(),
            join_order,
        },
        push_url: String::new(),
        mixed_play_url: String::new(),
        room_info: Some("info".into()),
    }
}
fn code<T: std::fmt::Debug>(r: Result<T, rtcroom_protocol::ApiError>) -> i32 {
    r.map(|_| 0).unwrap_or_else(|e| e.code)
}

/// Every answer of a fixed sequence of steps, as text, to compare stores.
async fn run_rules(s: &dyn Store) -> Vec<String> {
    let mut out = Vec::new();
    let multi = RoomKind::Multi;
    let new = |r: &str, by: &str| NewRoom {
        key: key(1, r),
        kind: multi,
        requested_by: uid(by),
        info: "created".into(),
    };
    out.push(format!(
        "create {}",
        code(s.create_room(new("idle", "a"), 0, rules()).await)
    ));
    out.push(format!(
        "again {}",
        code(s.create_room(new("idle", "a"), 0, rules()).await)
    ));
    out.push(format!("hidden {}", code(s.room(&key(1, "idle")).await)));
    out.push(format!(
        "listed {:?}",
        s.list_rooms(1, multi, 0, 10).await.1
    ));
    let j = s
        .add_member(&key(1, "r"), multi, entry("a"), 10, rules())
        .await
        .unwrap();
    out.push(format!(
        "join a {} {:?} {}",
        j.is_new, j.others, j.room.room_creator
    ));
    let j = s
        .add_member(&key(1, "r"), multi, entry("b"), 11, rules())
        .await
        .unwrap();
    out.push(format!(
        "join b {} {:?} {}",
        j.is_new,
        j.others,
        j.room.pushers.len()
    ));
    let again = s
        .add_member(&key(1, "r"), multi, entry("b"), 12, rules())
        .await
        .unwrap();
    out.push(format!("rejoin b {}", again.is_new));
    // A member's join order survives a repeated add_pusher, exactly.
    let order = rtcroom_server::join_order::next(1_796_172_566_123);
    for o in [Some(order), Some(order + 7), None] {
        let j = s
            .add_member(&key(1, "r"), multi, entry_ordered("b", o), 12, rules())
            .await
            .unwrap();
        out.push(format!(
            "ordered b {:?}",
            j.room.pushers[1].join_order.map(|kept| kept == order)
        ));
    }
    out.push(format!(
        "full {}",
        code(
            s.add_member(&key(1, "r"), multi, entry("c"), 12, rules())
                .await
        )
    ));
    out.push(format!(
        "app quota {}",
        code(
            s.add_member(&key(1, "r3"), multi, entry("c"), 12, rules())
                .await
        )
    ));
    out.push(format!(
        "other app {}",
        code(
            s.add_member(&key(2, "x"), multi, entry("c"), 12, rules())
                .await
        )
    ));
    out.push(format!(
        "server max {}",
        code(
            s.add_member(&key(3, "y"), multi, entry("d"), 12, rules())
                .await
        )
    ));
    out.push(format!("reaped {:?}", s.reap_idle_rooms(5).await));
    for r in ["r2", "r3"] {
        let joined = s
            .add_member(&key(1, r), multi, entry("a"), 12, rules())
            .await;
        out.push(format!("a joins {r}: {}", code(joined)));
    }
    let (page, total) = s.list_rooms(1, multi, 0, 10).await;
    out.push(format!(
        "list {total} {:?}",
        page.iter()
            .map(|r| (
                r.room_id.as_str().to_owned(),
                r.member_count,
                r.room_info.clone(),
                r.pushers[0].user_name.clone()
            ))
            .collect::<Vec<_>>()
    ));
    out.push(format!(
        "rooms of a {:?}",
        s.rooms_of(&UserKey {
            app: 1,
            user: uid("a")
        })
        .await
        .len()
    ));
    out.push(format!("stale {:?}", s.stale_members(11).await));
    s.heartbeat(&key(1, "r"), &uid("a"), 20).await.unwrap();
    out.push(format!(
        "alive {}",
        code(
            s.remove_member(
                &key(1, "r"),
                &uid("a"),
                QuitReason::Timeout,
                Some(11),
                rules()
            )
            .await
        )
    ));
    out.push(format!(
        "not member {}",
        code(s.heartbeat(&key(1, "r"), &uid("z"), 20).await)
    ));
    out.push(format!(
        "not creator {}",
        code(s.destroy_room(&key(1, "r"), &uid("b")).await)
    ));
    let d = s
        .remove_member(&key(1, "r"), &uid("a"), QuitReason::Left, None, rules())
        .await
        .unwrap();
    out.push(format!(
        "creator left {:?} {:?} {}",
        d.remaining, d.closed, d.pusher.user_id
    ));
    assert_eq!(d.closed, Some((CloseReason::CreatorLeft, vec![uid("b")])));
    out.push(format!("gone {}", code(s.room(&key(1, "r")).await)));
    out.push(format!("counts {:?}", s.counts().await));
    out.push(format!(
        "destroy {:?}",
        s.destroy_room(&key(2, "x"), &uid("c")).await
    ));
    out.push(format!("counts {:?}", s.counts().await));
    let user = UserKey {
        app: 1,
        user: uid("a"),
    };
    let rec = |t: &str| SessionRecord {
        token: t.into(),
        user: user.clone(),
        expires_at: 100,
    };
    out.push(format!(
        "put {:?}",
        s.put_session(rec("t1")).await.unwrap().map(|r| r.token)
    ));
    out.push(format!(
        "replace {:?}",
        s.put_session(rec("t2")).await.unwrap().map(|r| r.token)
    ));
    out.push(format!("old {}", code(s.touch_session("t1", 0, 10).await)));
    out.push(format!(
        "touch {:?}",
        s.touch_session("t2", 50, 10).await.map(|r| r.expires_at)
    ));
    out.push(format!(
        "of user {:?}",
        s.session_of_user(&user, 55).await.map(|r| r.token)
    ));
    out.push(format!(
        "expired {}",
        code(s.touch_session("t2", 61, 10).await)
    ));
    out.push(format!(
        "expiring {:?}",
        s.sessions_expiring_between(55, 61)
            .await
            .iter()
            .map(|r| r.token.clone())
            .collect::<Vec<_>>()
    ));
    out.push(format!(
        "expiring later {:?}",
        s.sessions_expiring_between(61, 100).await.len()
    ));
    out.push(format!("purged {:?}", s.purge_sessions(61).await.len()));
    out.push(format!(
        "removed {:?}",
        s.remove_session("t2").await.is_some()
    ));
    out
}

#[tokio::test]
async fn the_redis_store_answers_every_step_as_the_memory_store_does() {
    let Some(redis) = Redis::start() else {
        return;
    };
    let store = RedisStore::connect(&redis.url()).await.unwrap();
    let from_redis = run_rules(&store).await;
    let from_memory = run_rules(&MemoryStore::new()).await;
    drop(redis);
    for (m, r) in from_memory.iter().zip(&from_redis) {
        assert_eq!(m, r, "memory vs redis");
    }
    assert_eq!(from_memory.len(), from_redis.len());
    for limit in [
        "full 5001",
        "app quota 1018",
        "server max 1007",
        "a joins r3: 1017",
        "alive 5",
        "ordered b Some(true)",
        "expiring [\"t2\"]",
    ] {
        assert!(
            from_redis.iter().any(|l| l == limit),
            "{limit}: {from_redis:#?}"
        );
    }
}
