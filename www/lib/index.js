// rtcroom: the RTCRoom API for browsers. The Rust/wasm core (RoomCore, the
// same for browsers and mini-programs) owns login, room state, signaling,
// message routing and the network; WebRtcMedia (media.js) runs the peer
// connections it asks for. This class only shapes arguments, results and
// events. `import { RTCRoom } from 'rtcroom'`.
import init, { RoomCore } from './rtcroom.js';
import { WebRtcMedia } from './media.js';

let ready = null;

/** Loads the wasm module (done automatically on import; pass a URL to load it from elsewhere). */
export function initRTCRoom(wasmUrl) {
  if (!ready) ready = init(wasmUrl ? { module_or_path: wasmUrl } : undefined);
  return ready;
}

await initRTCRoom();

const pusherID = (p) => (typeof p === 'string' ? p : p && p.userID);

/**
 * The one event table: each core event (`{type, data}`, fields in the wire's
 * casing: roomID, userID, …) → the listener's arguments, in the order of
 * Android's IRTCRoomListener. `on('pusherJoin')` and `setListener({onPusherJoin})`
 * both use it.
 */
const EVENTS = {
  getPusherList: (pushers) => [pushers],
  pusherJoin: (p) => [p],
  pusherQuit: (p) => [p],
  recvRoomTextMsg: (m) => [m.roomID, m.userID, m.userName, m.userAvatar, m.text, m.time],
  recvRoomCustomMsg: (m) => [m.roomID, m.userID, m.userName, m.userAvatar, m.cmd, m.msg, m.time],
  roomClosed: (r) => [r.roomID],
  debugLog: (line) => [line],
  error: (e) => [e.code, e.message],
  connectionStateChange: (state) => [state],
  // The room's media moved to the SFU ('sfu'); views and member events stay as they were.
  roomMode: (m) => [m.mode, m.roomID],
  // The media server of an SFU room: 'lost' (media stalls), then 'ready' (re-published by itself).
  sfuStateChange: (state) => [state],
  // A reconnect past the replay window: code 1019, how many frames were lost for good.
  resumeGap: (g) => [g.code, g.message, g.missed, g.lastSeq],
};

/** `onPusherJoin` / `pusherJoin` → `pusherJoin`; unknown names → undefined. */
function eventName(name) {
  const bare = /^on[A-Z]/.test(name) ? name[2].toLowerCase() + name.slice(3) : name;
  return Object.prototype.hasOwnProperty.call(EVENTS, bare) ? bare : undefined;
}

const bare = (r) => {
  if (!r) return r;
  const { type, ...rest } = r;
  return rest;
};
const nothing = () => undefined;

export class RTCRoom {
  constructor(options = {}) {
    this.media = options.media ?? new WebRtcMedia(options);
    this.handlers = [];
    this.listener = null;
    this.core = new RoomCore(undefined, this.media, options, (e) => this.emit(e));
    // The glue's reports, through the core's one `feed` export.
    const feed = (what) => (subject, a, b) => this.core.feed(what, subject, a, b);
    for (const [hook, what] of [['onLocalSdp', 'localSdp'], ['onLocalIce', 'localIce'], ['onPeerState', 'peerState'],
      ['onSfuSdp', 'sfuSdp'], ['onSfuIce', 'sfuIce'], ['onSfuState', 'sfuState'], ['onSfuMedia', 'sfuMedia'],
      ['onSpareOffer', 'spareOffer']]) {
      this.media[hook] = feed(what);
    }
  }

  emit({ type, data }) {
    const shape = EVENTS[type];
    if (!shape) return;
    const args = shape(data);
    const method = this.listener && this.listener[`on${type[0].toUpperCase()}${type.slice(1)}`];
    const calls = this.handlers.filter((h) => h.name === type).map((h) => [undefined, h.fn]);
    if (typeof method === 'function') calls.push([this.listener, method]);
    for (const [self, fn] of calls) {
      try {
        fn.apply(self, args);
      } catch (e) {
        console.error('rtcroom: listener threw', e);
      }
    }
  }

  // ---- session and rooms (the core) ----
  login(params) { return this.core.call('login', params).then((r) => ({ userID: r.userID })); }
  logout() { this.media.dropSpare(); return this.core.call('logout').then(nothing); }
  getRoomList(params = {}) { return this.core.call('getRoomList', params).then((r) => ({ rooms: r.rooms, total: r.total })); }
  getPushers(params) { return this.core.call('getPushers', params).then(bare); }
  createRoom(params = {}) { return this.core.call('createRoom', params).then((r) => ({ roomID: r.roomID })); }
  enterRoom(params) { return this.core.call('enterRoom', params).then((r) => ({ roomID: r.roomID })); }
  exitRoom() { return this.core.call('exitRoom').then(nothing); }
  leaveRoom() { return this.exitRoom(); }
  destroyRoom(params) { return this.core.call('destroyRoom', params).then(nothing); }
  sendRoomTextMsg(text) { return this.core.call('sendRoomTextMsg', text).then(nothing); }
  sendRoomCustomMsg(cmd, msg) { return this.core.call('sendRoomCustomMsg', cmd, msg).then(nothing); }

  /** Adds an event handler; `name` with or without the `on` prefix (`pusherJoin`, `onPusherJoin`). */
  on(name, handler) {
    const type = eventName(name);
    if (!type) throw Object.assign(new Error(`unknown event ${name}`), { code: -1012 });
    this.handlers.push({ name: type, fn: handler });
    return this;
  }

  /** Removes a handler (or every handler of `name`). */
  off(name, handler) {
    const type = eventName(name);
    this.handlers = this.handlers.filter((h) => h.name !== type || (handler && h.fn !== handler));
    return this;
  }

  /** Sets a Tencent-style listener object (`{onGetPusherList, onPusherJoin, …}`); `null` clears it. */
  setListener(listener) { this.listener = listener && typeof listener === 'object' ? listener : null; }
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
    try { await this.core.call('logout'); } catch (_) { /* already out */ }
    this.media.closeAll();
    this.media.stopLocalPreview();
    this.core.shutdown();
    this.core.free();
  }
}

export { WebRtcMedia };
export default RTCRoom;
