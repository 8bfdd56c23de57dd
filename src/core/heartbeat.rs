//! The `pusher_heartbeat` timer: every `heartbeatInterval` seconds while we
//! are a member (old servers evict silent members; ours also counts an open
//! socket), never two at once, and once at once after a resumed reconnect.
//! A beat answered "not a member" or "no such room" starts a re-sync.

use super::client::Client;
use super::requests::Req;
use super::room::{room_or_member_gone, EnterStep, InRoom, Phase, SyncStep};
use rtcroom_protocol::command as cmd;
use rtcroom_protocol::http::RoomUserRequest;
use rtcroom_protocol::{ApiError, RoomId};

/// The timer of the room we are a member of.
#[derive(Debug)]
pub(crate) struct Heartbeat {
    room_id: RoomId,
    pub(crate) next_at: u64,
    in_flight: bool,
}

impl Client {
    /// Starts beating for `room_id` (we just became a member).
    pub(super) fn start_heartbeat(&mut self, room_id: &RoomId) {
        let ms = self.session.auth().map_or(0, |a| a.heartbeat_ms);
        self.room.heartbeat = (ms > 0).then(|| Heartbeat {
            room_id: room_id.clone(),
            next_at: self.now.saturating_add(ms),
            in_flight: false,
        });
    }

    /// Beats at once: after a resumed reconnect, in case the server dropped
    /// us while the socket was away (it tells only the members who remain).
    pub(super) fn beat_now(&mut self) {
        if let Some(h) = &mut self.room.heartbeat {
            h.next_at = h.next_at.min(self.now);
        }
    }

    /// The room's timers: the heartbeat and a re-sync waiting to be retried.
    pub(super) fn room_timers(&mut self) {
        let ms = self.session.auth().map_or(0, |a| a.heartbeat_ms);
        let now = self.now;
        let beat = match &mut self.room.heartbeat {
            Some(h) if h.next_at <= now => {
                h.next_at = now.saturating_add(ms.max(1));
                let send = !h.in_flight;
                h.in_flight = true;
                send.then(|| h.room_id.clone())
            }
            _ => None,
        };
        if let Some(room_id) = beat {
            let body = RoomUserRequest {
                room_id: room_id.clone(),
                user_id: self.me().cloned(),
            };
            self.command::<cmd::PusherHeartbeat>(Req::Heartbeat { room_id }, body);
        }
        let spare_waited = matches!(&self.room.phase,
            Phase::Entering(e) if matches!(e.step, EnterStep::AwaitSpare(t) if t <= now));
        if spare_waited {
            self.debug(format_args!("spare offer late: entering without"));
            self.send_waiting_add_pusher();
        }
        let retry = matches!(&self.room.phase, Phase::InRoom(InRoom { sync: Some(s), .. })
            if matches!(s.step, SyncStep::RetryAt(t) if t <= now));
        if retry {
            self.room_resync();
        }
    }

    pub(super) fn on_heartbeat_reply(&mut self, room_id: RoomId, result: Result<(), ApiError>) {
        match &mut self.room.heartbeat {
            Some(h) if h.room_id == room_id => h.in_flight = false,
            _ => return,
        }
        match result {
            Ok(()) => {}
            Err(e) if room_or_member_gone(&e) => {
                self.debug(format_args!("heartbeat: {e}; resync {room_id}"));
                self.room_resync();
            }
            Err(e) => self.debug(format_args!("heartbeat: {e}")),
        }
    }
}
