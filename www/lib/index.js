// rtcroom: the RTCRoom API for browsers. The Rust/wasm core owns login, room
// state, signaling and message routing; WebRtcMedia (media.js) runs the
// peer connections it asks for. `import { RTCRoom } from 'rtcroom'`.
import init, { RTCRoom as CoreRoom } from './rtcroom.js';
import { WebRtcMedia } from './media.js';

let ready = null;

/** Loads the wasm module (done automatically on import; pass a URL to load it from elsewhere). */
export function initRTCRoom(wasmUrl) {
  if (!ready) ready = init(wasmUrl ? { module_or_path: wasmUrl } : undefined);
  return ready;
}

await initRTCRoom();

const pusherID = (p) => (typeof p === 'string' ? p : p && p.userID);

export class RTCRoom {
  constructor(options = {}) {
    this.media = options.media ?? new WebRtcMedia(options);
    this.core = new CoreRoom(this.media, options);
    this.media.onLocalSdp = (user, kind, sdp) => this.core.feedLocalSdp(user, kind, sdp);
    this.media.onLocalIce = (user, candidate) => this.core.feedLocalIce(user, candidate);
  }

  // ---- session and rooms (the core) ----
  login(params) { return this.core.login(params); }
  logout() { return this.core.logout(); }
  getRoomList(params = {}) { return this.core.getRoomList(params); }
  getPushers(params) { return this.core.getPushers(params); }
  createRoom(params = {}) { return this.core.createRoom(params); }
  enterRoom(params) { return this.core.enterRoom(params); }
  exitRoom() { return this.core.exitRoom(); }
  leaveRoom() { return this.core.exitRoom(); }
  destroyRoom(params) { return this.core.destroyRoom(params); }
  sendRoomTextMsg(text) { return this.core.sendRoomTextMsg(text); }
  sendRoomCustomMsg(cmd, msg) { return this.core.sendRoomCustomMsg(cmd, msg); }
  on(name, handler) { this.core.on(name, handler); return this; }
  off(name, handler) { this.core.off(name, handler); return this; }
  setListener(listener) { this.core.setListener(listener); }
  simulateDisconnect() { this.core.simulateDisconnect(); }
  get isLoggedIn() { return this.core.isLoggedIn; }

  // ---- media (the glue) ----
  startLocalPreview(view, constraints) { return this.media.startLocalPreview(view, constraints); }
  stopLocalPreview() { this.media.stopLocalPreview(); }
  addRemoteView(pusherInfo, view) { return this.media.addRemoteView(pusherID(pusherInfo), view); }
  deleteRemoteView(pusherInfo) { this.media.deleteRemoteView(pusherID(pusherInfo)); }
  muteLocalAudio(mute) { this.media.muteLocalAudio(mute); }
  muteLocalVideo(mute) { this.media.muteLocalVideo(mute); }
  setMute(mute) { this.media.muteLocalAudio(mute); }
  switchCamera() { return this.media.switchCamera(); }

  /** Leaves, logs out and frees the wasm side. */
  async destroy() {
    try { await this.core.logout(); } catch (_) { /* already out */ }
    this.media.closeAll();
    this.media.stopLocalPreview();
    this.core.free();
  }
}

export { WebRtcMedia };
export default RTCRoom;
