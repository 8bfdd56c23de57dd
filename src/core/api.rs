//! The RTCRoom API: checks each [`Call`] against the session and the room,
//! answers misuse at once with a [`ClientError`], and hands the rest to the
//! part that runs it.

use super::client::Client;
use super::error::ClientError;
use super::ids::CallId;
use super::input::Call;
use super::output::RequestBody;
use super::reply::ReplyKind;
use super::requests::Req;
use super::room::Phase;
use rtcroom_protocol::http::{
    GetPushUrlRequest, GetPushersRequest, GetRoomListRequest, RoomUserRequest,
};
use rtcroom_protocol::ws::ClientFrame;
use rtcroom_protocol::RoomId;

impl Client {
    pub(super) fn on_call(&mut self, id: CallId, call: Call) {
        if !self.open_call(id) {
            return;
        }
        match call {
            Call::Login(params) => return self.login(id, params),
            Call::Logout => return self.logout(id),
            _ if !self.is_logged_in() => {
                return self.finish(id, Err(ClientError::NotLoggedIn.api()));
            }
            _ => {}
        }
        match call {
            Call::Login(_) | Call::Logout => {}
            Call::GetRoomList { index, cnt } => {
                self.http(
                    Req::RoomList { call: id },
                    "get_room_list",
                    RequestBody::GetRoomList(GetRoomListRequest { index, cnt }),
                    ReplyKind::RoomList,
                );
            }
            Call::GetPushUrl { room_id } => {
                let body = GetPushUrlRequest {
                    user_id: self.me().cloned(),
                    room_id,
                };
                self.http(
                    Req::PushUrl { call: id },
                    "get_push_url",
                    RequestBody::GetPushUrl(body),
                    ReplyKind::PushUrl,
                );
            }
            Call::GetPushers { room_id } => {
                self.http(
                    Req::GetPushers { call: id },
                    "get_pushers",
                    RequestBody::GetPushers(GetPushersRequest { room_id }),
                    ReplyKind::Pushers,
                );
            }
            Call::DestroyRoom { room_id } => {
                let body = RoomUserRequest {
                    room_id,
                    user_id: self.me().cloned(),
                };
                self.http(
                    Req::DestroyRoom { call: id },
                    "destroy_room",
                    RequestBody::RoomUser(body),
                    ReplyKind::Empty,
                );
            }
            Call::CreateRoom { room_id, room_info } => self.create_room(id, room_id, room_info),
            Call::EnterRoom { room_id } => self.enter_room(id, room_id),
            Call::ExitRoom => self.exit_room(id),
            Call::SendRoomTextMsg { text } => {
                self.send_room_msg(id, |room_id| ClientFrame::RoomText { room_id, text });
            }
            Call::SendRoomCustomMsg { cmd, msg } => {
                self.send_room_msg(id, |room_id| ClientFrame::RoomCustom { room_id, cmd, msg });
            }
        }
    }

    /// A room message: queued (sent once the socket is up), done on its `ack`.
    fn send_room_msg(&mut self, id: CallId, frame: impl FnOnce(RoomId) -> ClientFrame) {
        let Phase::InRoom(r) = &self.room.phase else {
            return self.finish(id, Err(ClientError::NotInRoom.api()));
        };
        let frame = frame(r.room_id.clone());
        self.send_frame(frame, Some(id));
    }
}
