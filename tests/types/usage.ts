// Compile-only check of the hand-written types (www/lib/index.d.ts): typical
// RTCRoom usage must type-check, and misuse must not (see the @ts-expect-error lines).
import { RTCRoom, type PusherInfo, type RTCRoomError, type RoomInfo } from 'rtcroom';

async function demo(videoOf: (id: string) => HTMLElement): Promise<void> {
  const room = new RTCRoom({ debug: false, reconnectMaxMs: 4000 });
  room.setListener({
    onGetPusherList: (pushers: PusherInfo[]) => pushers.forEach((p) => room.addRemoteView(p, videoOf(p.userID))),
    onPusherQuit: (p) => room.deleteRemoteView(p),
    onRecvRoomTextMsg: (roomID, userID, userName, userAvatar, message) => console.log(roomID, userID, userName, userAvatar, message),
    onError: (code, message) => console.warn(code, message),
  });
  room
    .on('pusherJoin', (p) => room.addRemoteView(p.userID, '#grid'))
    .on('onConnectionStateChange', (state) => console.log(state === 'reconnecting'))
    .on('resumeGap', (code, message, missed, lastSeq) => console.warn(code, message, missed.toFixed(), lastSeq.toFixed()));
  const { userID } = await room.login({ serverDomain: 'https://example.com/weapp/rtc_room', sdkAppID: 1400000000, accType: '0', userID: 'u', userSig: 's' });
  const { rooms, total }: { rooms: RoomInfo[]; total: number } = await room.getRoomList({ index: 0, count: 20 });
  await room.startLocalPreview(videoOf(userID));
  const { roomID } = await room.createRoom({ roomInfo: { name: 'hello' } });
  await room.sendRoomTextMsg(`hi ${roomID} ${rooms.length} ${total}`);
  await room.sendRoomCustomMsg('like', '{}');
  room.muteLocalAudio(true);
  room.muteLocalVideo(false);
  await room.switchCamera();
  try {
    await room.exitRoom();
  } catch (e) {
    console.log((e as RTCRoomError).code);
  }
  // @ts-expect-error unknown event names are rejected
  room.on('pusherJoined', () => {});
  // @ts-expect-error login needs a userSig
  await room.login({ serverDomain: 'x', sdkAppID: 1, userID: 'u' });
  // @ts-expect-error text messages are strings
  await room.sendRoomTextMsg(42);
}
void demo;
