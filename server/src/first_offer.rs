//! The newcomer's first offer, carried by `add_pusher` (`offer`): it goes
//! to one member the newcomer offers to inside that member's `pusher_join`,
//! so the first SDP exchange needs neither the roster first nor the
//! newcomer's socket, and the member answers in the frame's own turn (not
//! after the page work its app does for the join). A copy follows as an
//! `offer` frame for clients that do not read the field (docs/PROTOCOL.md,
//! *Who offers*).

use crate::hub::Encoded;
use crate::sdp_relay::SdpEvent;
use crate::service::{Caller, RoomService};
use crate::store::Joined;
use rtcroom_protocol::http::offers_to;
use rtcroom_protocol::http::Pusher;
use rtcroom_protocol::ws::ServerEvent;
use rtcroom_protocol::{RoomId, UserId};
use std::sync::atomic::Ordering;

/// The member who gets the first offer: of those the newcomer offers to by
/// the join-order rule (both with an order, so the member expects an offer
/// from a later joiner), the one who joined first. `None` without one.
pub fn target<'a>(newcomer: &UserId, joined: &'a Joined) -> Option<&'a UserId> {
    let mine = joined
        .room
        .pushers
        .iter()
        .find(|p| &p.user_id == newcomer)?
        .join_order?;
    joined
        .room
        .pushers
        .iter()
        .filter(|p| &p.user_id != newcomer)
        .filter_map(|p| Some((p.join_order?, &p.user_id)))
        .filter(|(order, user)| offers_to(newcomer, Some(mine), user, Some(*order)))
        .min()
        .map(|(_, user)| user)
}

/// Tells the room's other members about the newcomer `pusher`: a
/// `pusher_join` each, the one to `first`'s member carrying `first`'s offer.
pub fn announce(
    svc: &RoomService,
    caller: &Caller,
    room_id: &RoomId,
    pusher: Pusher,
    joined: &Joined,
    first: Option<(&UserId, &str)>,
) {
    let to = first.map(|(to, _)| to);
    let event = |offer: Option<&str>| {
        Encoded::new(&ServerEvent::PusherJoin {
            room_id: room_id.clone(),
            pusher: pusher.clone(),
            offer: offer.map(str::to_owned),
        })
    };
    let plain = joined.others.iter().filter(|u| Some(*u) != to);
    svc.hub.deliver(caller.key.app, plain, &event(None));
    if let Some((to, sdp)) = first {
        svc.hub.deliver(caller.key.app, [to], &event(Some(sdp)));
    }
}

/// The copy of the first offer, as an `offer` frame from the caller to `to`
/// (after [`announce`]), for a client that does not read `pusher_join`'s.
pub fn relay(svc: &RoomService, caller: &Caller, room_id: &RoomId, to: &UserId, sdp: &str) {
    let Ok(sdp) = serde_json::value::to_raw_value(sdp) else {
        return;
    };
    let event = Encoded::of(&SdpEvent {
        kind: "offer",
        room_id,
        from: &caller.key.user,
        sdp: &sdp,
    });
    svc.hub.deliver(caller.key.app, [to], &event);
    svc.metrics.signals_relayed.fetch_add(1, Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use rtcroom_protocol::http::{Pusher, RoomSummary};

    fn p(id: &str, order: Option<u64>) -> Pusher {
        Pusher {
            user_id: UserId::new(id).unwrap(),
            user_name: String::new(),
            user_avatar: String::new(),
            accelerate_url: String::new(),
            join_order: order,
        }
    }

    fn joined(pushers: Vec<Pusher>) -> Joined {
        Joined {
            room: RoomSummary {
                room_id: RoomId::new("r").unwrap(),
                room_info: String::new(),
                room_creator: UserId::new("a").unwrap(),
                mixed_play_url: String::new(),
                custom: String::new(),
                member_count: pushers.len() as u32,
                pushers,
                create_time: 0,
            },
            is_new: true,
            others: Vec::new(),
        }
    }

    #[test]
    fn the_earliest_member_with_an_order_gets_the_first_offer() {
        let me = UserId::new("m").unwrap();
        let j = joined(vec![
            p("z", Some(5)),
            p("b", Some(3)),
            p("a", None),
            p("m", Some(9)),
        ]);
        assert_eq!(target(&me, &j).map(UserId::as_str), Some("b"));
    }

    #[test]
    fn no_target_without_orders_or_other_members() {
        let me = UserId::new("m").unwrap();
        // An original client (no order) would offer to us itself, or expects
        // our offer only by the ids: never sent one unasked.
        assert_eq!(
            target(&me, &joined(vec![p("a", None), p("m", Some(9))])),
            None
        );
        // We asked for no order: nobody.
        assert_eq!(
            target(&me, &joined(vec![p("a", Some(1)), p("m", None)])),
            None
        );
        assert_eq!(target(&me, &joined(vec![p("m", Some(9))])), None);
    }
}
