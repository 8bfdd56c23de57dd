//! The RTCRoom API: checks each [`Call`] against the session and the room,
//! answers misuse at once with a [`ClientError`], and hands the rest to the
//! part that runs it.

use super::client::Client;
use super::ids::CallId;
use super::input::Call;
use super::requests::Req;
use super::room::Phase;
use rtcroom_protocol::command as cmd;
use rtcroom_protocol::http::{
    GetPushUrlRequest, GetPushersRequest, GetRoomListRequest, RoomUserRequest,
};
use rtcroom_protocol::ws::ClientFrame;
use rtcroom_protocol::ClientError;
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
                self.command::<cmd::GetRoomList>(
                    Req::RoomList { call: id },
                    GetRoomListRequest { index, cnt },
                );
            }
            Call::GetPushUrl { room_id } => {
                let body = GetPushUrlRequest {
                    user_id: self.me().cloned(),
                    room_id,
                };
                self.command::<cmd::GetPushUrl>(Req::PushUrl { call: id }, body);
            }
            Call::GetPushers { room_id } => {
                self.command::<cmd::GetPushers>(
                    Req::GetPushers { call: id },
                    GetPushersRequest { room_id },
                );
            }
            Call::DestroyRoom { room_id } => {
                let body = RoomUserRequest {
                    room_id,
                    user_id: self.me().cloned(),
                };
                self.command::<cmd::DestroyRoom>(Req::DestroyRoom { call: id }, body);
            }
            Call::CreateRoom {
                room_id,
                room_info,
                private_map_key,
            } => self.create_room(id, room_id, room_info, private_map_key),
            Call::EnterRoom {
                room_id,
                private_map_key,
            } => self.enter_room(id, room_id, private_map_key),
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
